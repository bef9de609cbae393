#!/usr/bin/env python3
# Echo client: a background thread reads the reply while the main thread sends.
import socket, sys, threading

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = b'we all live in a yellow submarine ' * 31   # 1054 bytes
data = (text * (total // len(text) + 1))[:total]
got = []


def reader(sock):
    while True:
        part = sock.recv(8192)
        if not part:
            break
        got.append(part)


sock = socket.create_connection((host, port))
t = threading.Thread(target=reader, args=(sock,))
t.start()
for i in range(0, total, 1024):
    sock.sendall(data[i:i + 1024])
sock.shutdown(socket.SHUT_WR)
t.join()
sock.close()
echo = b''.join(got)
if echo != data.upper():
    print('echo is wrong!', len(echo))
    sys.exit(1)
print('echo ok,', len(echo), 'bytes')
