#!/usr/bin/env python3
# Echo client that sends whole 1 KiB blocks.
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = b'0123456789abcdef' * 64
sock = socket.create_connection((host, port))
for i in range(n // len(block)):      # the last partial block is forgotten
    sock.sendall(block)
sock.shutdown(socket.SHUT_WR)
echo = bytearray()
while True:
    data = sock.recv(65536)
    if not data:
        break
    echo += data
sock.close()
print('sent and got back', len(echo), 'bytes')
