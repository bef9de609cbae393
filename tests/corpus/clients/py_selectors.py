#!/usr/bin/env python3
# Non-blocking echo client with selectors: send and receive in one loop.
import selectors, socket, sys

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = (b'selectors are neat ' * (total // 19 + 1))[:total]

sock = socket.create_connection((host, port))
sock.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)

pos = 0
back = bytearray()
finished = False
while not finished:
    for key, mask in sel.select():
        if mask & selectors.EVENT_WRITE:
            try:
                pos += sock.send(out[pos:pos + 16384])
            except BlockingIOError:
                pass
            if pos == total:
                sock.shutdown(socket.SHUT_WR)
                sel.modify(sock, selectors.EVENT_READ)
        if mask & selectors.EVENT_READ:
            data = sock.recv(65536)
            if not data:
                finished = True
            back += data
sel.close()
sock.close()
print('echo matches' if back == out.upper() else 'echo differs', len(back))
sys.exit(0 if back == out.upper() else 1)
