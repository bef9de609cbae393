#!/usr/bin/env python3
# Echo client that waits for the server to greet it before it starts sending.
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
hello = sock.recv(1024)          # wait for the server to say something first
print('server says', hello)
sock.sendall(b'y' * n)
sock.shutdown(socket.SHUT_WR)
while sock.recv(4096):
    pass
sock.close()
