#!/usr/bin/env python3
# Echo server that keeps every client it has served in a list (it never closes them).
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(5)
clients = []
while True:
    conn, addr = srv.accept()
    clients.append(conn)
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data.upper())
    print('served', addr, 'clients so far:', len(clients), flush=True)
