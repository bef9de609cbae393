#!/usr/bin/env python3
# Echo server that answers in packets of exactly 1000 bytes (the last, shorter packet is never sent).
import socket, sys

PACKET = 1000
host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(5)
while True:
    conn, addr = srv.accept()
    pending = b''
    while True:
        data = conn.recv(1024)
        if not data:
            break
        pending += data.upper()
        while len(pending) >= PACKET:
            conn.sendall(pending[:PACKET])
            pending = pending[PACKET:]
    conn.close()
