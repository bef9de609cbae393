#!/usr/bin/env python3
# Echo client with a reader thread that pauses itself halfway (SIGSTOP, like Ctrl-Z) so the
# buffers can be looked at with `ss`; `kill -CONT <pid>` lets it go on.
import os, signal, socket, sys, threading

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.create_connection((host, port))
got = 0


def reader():
    global got
    while True:
        data = sock.recv(65536)
        if not data:
            break
        got += len(data)


t = threading.Thread(target=reader)
t.start()
chunk = b'pause me please ' * 64
sent = 0
while sent < total:
    if sent == total // 2 // len(chunk) * len(chunk):
        print('paused at', sent, 'bytes; pid', os.getpid(), flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
    sock.sendall(chunk)
    sent += len(chunk)
sock.shutdown(socket.SHUT_WR)
t.join()
print('sent', sent, 'got', got)
