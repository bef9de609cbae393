#!/usr/bin/env python3
# Echo client with a timeout, so it "can never hang".
import socket, sys

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
payload = b'hello server, please shout this back. ' * (n // 38 + 1)
payload = payload[:n]

sock = socket.socket()
sock.settimeout(15)
sock.connect((host, port))
for i in range(0, len(payload), 4096):
    sock.sendall(payload[i:i + 4096])
sock.shutdown(socket.SHUT_WR)

answer = []
while True:
    part = sock.recv(4096)
    if not part:
        break
    answer.append(part)
sock.close()
answer = b''.join(answer)
print('ok' if answer == payload.upper() else 'mismatch', len(answer))
