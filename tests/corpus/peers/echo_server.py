#!/usr/bin/env python3
# The plain peer for the corpus's clients: the classic uppercase-echo server's loop (recv up to
# 1024 bytes, upper(), sendall), one thread per connection, plus a record of what this side saw.
# At end of stream it shuts its writing down (FIN) and closes. One JSON line per connection on
# stdout when it ends:
#   {"conn": 1, "client": "127.0.0.1:40000", "received": N, "echoed": N,
#    "phase": "eof" (the client's FIN) | "reset" (ECONNRESET or EPIPE while echoing), ...}
# and, when stopped with SIGTERM, one line for each connection still open (phase "transfer").
#     python3 echo_server.py HOST PORT      (port 0: a free one; the first line announces it)
import argparse, json, signal, socket, sys, threading, time

START = time.monotonic()
lock = threading.Lock()
open_records = {}


def ms():
    return int((time.monotonic() - START) * 1000)


def report(rec):
    with lock:
        open_records.pop(rec['conn'], None)
        print(json.dumps(rec), flush=True)


def stop(signum, frame):
    # Stopped from outside: say where every unfinished connection was.
    with lock:
        for rec in open_records.values():
            rec['stopped_ms'] = ms()
            print(json.dumps(rec), flush=True)
    sys.exit(0)


def serve(sc, addr, n):
    rec = {'conn': n, 'client': '%s:%d' % addr[:2], 'accepted_ms': ms(), 'received': 0,
           'echoed': 0, 'phase': 'transfer'}
    with lock:
        open_records[n] = rec
    try:
        while True:
            data = sc.recv(1024)
            if not data:
                rec['phase'] = 'eof'
                rec['eof_ms'] = ms()
                sc.shutdown(socket.SHUT_WR)
                break
            rec['received'] += len(data)
            sc.sendall(data.upper())
            rec['echoed'] += len(data)
    except OSError as e:   # ECONNRESET, EPIPE; ENOTCONN from shutdown after a reset
        rec['phase'] = 'reset'
        rec['error'] = type(e).__name__
        rec['reset_ms'] = ms()
    sc.close()
    report(rec)


def main():
    parser = argparse.ArgumentParser(description='Uppercase echo peer for the corpus')
    parser.add_argument('host')
    parser.add_argument('port', type=int)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(8)
    print('Listening at', sock.getsockname(), flush=True)
    n = 0
    while True:
        sc, addr = sock.accept()
        n += 1
        threading.Thread(target=serve, args=(sc, addr, n), daemon=True).start()


if __name__ == '__main__':
    sys.exit(main())
