#!/usr/bin/env python3
# Echo client with a reader thread that takes its time: it sleeps after each block it reads
# (like a program that processes what it gets). Optional 4th argument: the pause in seconds.
import socket, sys, threading, time

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
block = 1 << 20 if pause <= 1 else 4 << 20
received = 0


def reader(sock):
    global received
    while True:
        data = sock.recv(block)
        if not data:
            break
        received += len(data)
        time.sleep(pause)   # "processing"


sock = socket.create_connection((host, port))
t = threading.Thread(target=reader, args=(sock,))
t.start()
msg = b'slow and steady ' * 64
sent = 0
while sent < total:
    piece = msg[:total - sent]
    sock.sendall(piece)
    sent += len(piece)
sock.shutdown(socket.SHUT_WR)
t.join()
sock.close()
print('sent', sent, 'received', received)
