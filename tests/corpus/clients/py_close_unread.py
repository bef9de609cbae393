#!/usr/bin/env python3
# Echo client that only checks the beginning of the echo, then closes.
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
sock.sendall(b'x' * n)
sock.shutdown(socket.SHUT_WR)
first = b''
while len(first) < 2048:
    part = sock.recv(2048 - len(first))
    if not part:
        break
    first += part
print('first bytes look', 'right' if first == b'X' * len(first) else 'wrong')
sock.close()   # the rest of the echo is not needed
