#!/usr/bin/env python3
# The classic uppercase echo server: one client at a time.
import socket, sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((HOST, PORT))
s.listen(1)
while True:
    print('Listening at', s.getsockname(), flush=True)
    sc, sockname = s.accept()
    print('Processing up to 1024 bytes at a time from', sockname, flush=True)
    n = 0
    while True:
        message = sc.recv(1024)
        if not message:
            break
        sc.sendall(message.upper())
        n += len(message)
    sc.close()
    print('Completed processing %d bytes' % n, flush=True)
