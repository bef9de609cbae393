#!/usr/bin/env python3
# Echo client that keeps its window open for a while at the end so the output can be read.
import socket, sys, time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
sock.sendall(b'keep me open ' * (n // 13) + b'k' * (n % 13))
sock.shutdown(socket.SHUT_WR)
echo = b''
while True:
    data = sock.recv(65536)
    if not data:
        break
    echo += data
sock.close()
print('received', len(echo), 'bytes', flush=True)
time.sleep(30)   # keep the window open
