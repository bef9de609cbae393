#!/usr/bin/env python3
# Echo client: send it all, then read until the server hangs up.
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
block = b'no shutdown here'
for _ in range(n // len(block)):
    sock.send(block)
total = 0
while True:
    data = sock.recv(1024)
    if not data:
        break
    total += len(data)
print('echo', total, 'bytes')
sock.close()
