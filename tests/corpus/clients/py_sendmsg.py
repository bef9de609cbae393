#!/usr/bin/env python3
# Echo client using sendmsg() (scatter/gather) for the upload.
import socket, sys

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = b'abcdefghijklmnopqrstuvwxyz012345' * 32   # 1 KiB

s = socket.create_connection((host, port))
left = total
while left > 0:
    piece = block[:min(left, len(block))]
    n = s.sendmsg([piece])
    left -= n
s.shutdown(socket.SHUT_WR)

back = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    back += chunk
s.close()
print('got', len(back), 'bytes back; correct:', bytes(back) == (block * (total // len(block) + 1))[:total].upper())
