#!/usr/bin/env python3
"""False deadlocks on correct slow readers: RUNS clients whose reader thread sleeps PAUSE seconds
between blocks, watched by `tcplab watch`, with both cores kept busy. Every client is correct (its
echo comes back whole and it exits 0); any deadlock verdict is a false one.

Each client uses 16 KiB buffers (as does the `tcplab server` it talks to) and sends 384 KiB, three
times what the four buffers hold, so for most of its run all four queues are full, both windows
are zero and nothing moves while its reader sleeps: the state a deadlock shows, which only the
sleeping thread tells apart. WAVE clients run at once.

    scripts/slow-readers.py --tcplab target/release/tcplab --pause 1 --runs 100
    scripts/slow-readers.py --tcplab target/release/tcplab --pause 3 --runs 100

Needs: a built tcplab, python3. About 12 x PAUSE seconds per wave (5 waves for 100 runs).
"""
import argparse, json, os, socket, subprocess, sys, threading, time

CLIENT = r'''
import socket, sys, threading, time
host, port, n, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect((host, port))
got = bytearray()
def reader():
    while True:
        b = s.recv(32768)
        if not b:
            break
        got.extend(b)
        time.sleep(pause)
t = threading.Thread(target=reader)
t.start()
s.sendall(b"capitalize this!" * (n // 16))
s.shutdown(socket.SHUT_WR)
t.join()
sys.exit(0 if bytes(got) == b"CAPITALIZE THIS!" * (n // 16) else 1)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcplab", required=True)
    ap.add_argument("--pause", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--wave", type=int, default=20)
    ap.add_argument("--bytes", type=int, default=384 * 1024)
    a = ap.parse_args()
    procs = []
    busy = [subprocess.Popen(["timeout", "3600", "sh", "-c", "while :; do :; done"])
            for _ in range(2)]
    server = subprocess.Popen([a.tcplab, "server", "--port", "0", "--quiet", "--sndbuf", "16K",
                               "--rcvbuf", "16K", "--idle-timeout", "3600s",
                               "--max-conns", str(a.wave + 8)],
                              stdout=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()
        port = int(first.strip().rsplit(":", 1)[1])
        watch = subprocess.Popen([a.tcplab, "watch", "--port", str(port), "--format", "json",
                                  "--timeout", "3600s"], stdout=subprocess.PIPE, text=True)
        verdicts, closes = [], []

        def read_watch():
            for line in watch.stdout:
                d = json.loads(line)
                if d.get("verdict"):
                    verdicts.append(d)
                if d.get("close"):
                    closes.append(d)
        reader = threading.Thread(target=read_watch, daemon=True)
        reader.start()
        passed = failed = 0
        done = 0
        while done < a.runs:
            n = min(a.wave, a.runs - done)
            wave = [subprocess.Popen([sys.executable, "-c", CLIENT, "127.0.0.1", str(port),
                                      str(a.bytes), str(a.pause)]) for _ in range(n)]
            procs.extend(wave)
            for p in wave:
                code = p.wait(timeout=max(120, 40 * a.pause * a.bytes / 131072))
                passed += code == 0
                failed += code != 0
            done += n
            print(f"{done}/{a.runs} runs: {passed} clients passed, {failed} failed, "
                  f"{len(verdicts)} deadlock verdicts so far", flush=True)
        # Let watch see the last closes.
        time.sleep(1.0)
        print(f"pause {a.pause:g} s: {a.runs} correct slow readers with both cores busy: "
              f"{passed} passed their echo, {len(verdicts)} false deadlock verdicts "
              f"({len(closes)} closes seen)")
        for v in verdicts:
            print("  FALSE:", json.dumps(v))
        watch.terminate()
        watch.wait()
        sys.exit(1 if verdicts or failed else 0)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        server.terminate()
        server.wait()
        for p in busy:
            p.terminate()
            p.wait()


if __name__ == "__main__":
    main()
