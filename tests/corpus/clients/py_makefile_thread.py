#!/usr/bin/env python3
# Echo client using file objects (makefile) and a thread for reading.
import socket, sys, threading

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
wfile = sock.makefile('wb')
rfile = sock.makefile('rb')
result = {}


def read_back():
    result['echo'] = rfile.read()   # until the server closes


t = threading.Thread(target=read_back)
t.start()
line = b'a line of lowercase text\n'
written = 0
while written < n:
    piece = line[:n - written]
    wfile.write(piece)
    written += len(piece)
wfile.flush()
sock.shutdown(socket.SHUT_WR)
t.join()
wfile.close()
rfile.close()
sock.close()
echo = result['echo']
print('read', len(echo), 'bytes, uppercase:', echo == echo.upper())
