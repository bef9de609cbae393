#!/usr/bin/env python3
# Echo server that also starts a background "stats" daemon (double fork + setsid, like the
# daemon recipe). The daemon inherits the listening socket, and keeps it open.
import os, socket, sys, time

host, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen(5)

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for minute in range(45):      # the stats daemon: wakes up every second for 45 s
            time.sleep(1)
        os._exit(0)
    os._exit(0)
os.wait()

while True:
    conn, addr = srv.accept()
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.sendall(data.upper())
    conn.close()
