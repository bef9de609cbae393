#!/usr/bin/env python3
# Uppercase echo server that says goodbye before it hangs up.
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(5)
while True:
    conn, addr = srv.accept()
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data.upper())
    conn.sendall(b'\nGOODBYE!\n')
    conn.close()
