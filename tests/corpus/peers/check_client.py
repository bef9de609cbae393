#!/usr/bin/env python3
# The plain peer for the corpus's servers: connects, sends BYTES bytes of 'capitalize this!' in
# 16-byte chunks while a second thread reads the echo, shuts its writing down, and reads until
# the server closes. It checks the echo byte for byte against the uppercased input and prints
# one JSON line:
#   {"connected": true, "sent": N, "received": N, "first_diff": null|offset, "extra": N,
#    "end": "eof"|"reset"|"idle", "elapsed_ms": ...}
# "idle" means no byte and no close for --idle seconds (a server that never closes, or stalls);
# "reset" that the reader or the sender got ECONNRESET (or EPIPE).
#     python3 check_client.py HOST PORT BYTES [--idle 5]
import argparse, json, select, socket, sys, threading, time

MESSAGE = b'capitalize this!'


def main():
    p = argparse.ArgumentParser(description='Reference client for the corpus servers')
    p.add_argument('host')
    p.add_argument('port', type=int)
    p.add_argument('bytes', type=int)
    p.add_argument('--idle', type=float, default=5.0)
    a = p.parse_args()
    total = a.bytes // 16 * 16
    expected = MESSAGE.upper() * (total // 16)
    rec = {'bytes': total, 'connected': False, 'sent': 0, 'received': 0, 'first_diff': None,
           'extra': 0, 'end': None}
    start = time.monotonic()
    try:
        sock = socket.create_connection((a.host, a.port), timeout=5)
    except OSError as e:
        rec['end'] = 'refused' if isinstance(e, ConnectionRefusedError) else 'connect_failed'
        rec['error'] = str(e)
        print(json.dumps(rec), flush=True)
        return 1
    rec['connected'] = True
    sock.settimeout(None)
    got = bytearray()
    last = [time.monotonic()]

    def reader():
        while True:
            # Wait for data at most 0.2 s at a time, so that a silent server is noticed.
            if not select.select([sock], [], [], 0.2)[0]:
                if time.monotonic() - last[0] > a.idle:
                    rec['end'] = 'idle'
                    break
                continue
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                rec['end'] = 'reset'
                break
            if not data:
                rec['end'] = 'eof'
                break
            got.extend(data)
            last[0] = time.monotonic()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        for _ in range(total // 16):
            sock.sendall(MESSAGE)
            rec['sent'] += 16
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        rec['send_error'] = type(e).__name__
    t.join()
    # Two threads share one socket: whichever calls first gets ECONNRESET, and the other then
    # sees end of stream (recv) or EPIPE (send). Either error means the server reset.
    if rec.get('send_error') in ('ConnectionResetError', 'BrokenPipeError'):
        rec['end'] = 'reset'
    sock.close()
    rec['received'] = len(got)
    rec['extra'] = max(0, len(got) - total)
    common = min(len(got), total)
    if got[:common] != expected[:common]:
        rec['first_diff'] = next(i for i in range(common) if got[i] != expected[i])
    elif len(got) != total:
        rec['first_diff'] = common
    rec['elapsed_ms'] = int((time.monotonic() - start) * 1000)
    rec['exact'] = rec['first_diff'] is None and rec['end'] == 'eof'
    print(json.dumps(rec), flush=True)
    return 0 if rec['exact'] else 1


if __name__ == '__main__':
    sys.exit(main())
