#!/usr/bin/env python3
# Echo client (crashes before it connects: CHUNK_SIZE is never defined).
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
chunks = n // CHUNK_SIZE
sock = socket.create_connection((host, port))
for _ in range(chunks):
    sock.sendall(b'c' * CHUNK_SIZE)
sock.shutdown(socket.SHUT_WR)
while sock.recv(4096):
    pass
