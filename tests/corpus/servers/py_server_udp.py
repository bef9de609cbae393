#!/usr/bin/env python3
# Uppercase echo server (written from the UDP example: it never listens for TCP).
import socket, sys

host, port = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((host, port))
sock.settimeout(60)   # give up after a minute without messages
print('Listening at', sock.getsockname(), flush=True)
while True:
    try:
        data, address = sock.recvfrom(65535)
    except socket.timeout:
        break
    sock.sendto(data.upper(), address)
