#!/usr/bin/env python3
# Echo server (returns the text in lowercase: the wrong case).
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen()
while True:
    c, _ = srv.accept()
    while True:
        d = c.recv(1024)
        if not d:
            break
        c.sendall(d.lower())
    c.close()
