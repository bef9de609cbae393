#!/usr/bin/env python3
# Client that writes the payload to a temp file and sends it with socket.sendfile().
import socket, sys, tempfile

host, port, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

with tempfile.TemporaryFile() as f:
    line = b'the quick brown fox jumps over the lazy dog\n'
    while f.tell() < size:
        f.write(line[:size - f.tell()])
    f.seek(0)

    sock = socket.create_connection((host, port))
    sock.sendfile(f)
    sock.shutdown(socket.SHUT_WR)

reply = b''
while True:
    data = sock.recv(65536)
    if not data:
        break
    reply += data
sock.close()
print(len(reply), 'bytes echoed')
