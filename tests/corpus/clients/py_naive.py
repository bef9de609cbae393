#!/usr/bin/env python3
# Uppercase echo client: send everything, then read the answer back.
import socket, sys

host, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
message = b'capitalize this!'

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect((host, port))
sent = 0
while sent < nbytes:
    sock.sendall(message)
    sent += len(message)
sock.shutdown(socket.SHUT_WR)

received = 0
while True:
    data = sock.recv(4096)
    if not data:
        break
    received += len(data)
sock.close()
print('sent', sent, 'received', received)
