#!/usr/bin/env python3
"""Time from the last byte moved to tcplab's deadlock verdict, for a deadlock in each kind of call a
student's client may block in: send (Python sendall: sendto), write (a C write() loop), sendfile
(Python socket.sendfile), poll inside sendall (a socket with settimeout), epoll inside a runtime
(asyncio awaiting drain()), and Node's synchronous writes beside its runtime's epoll threads.

Each program of tests/corpus is checked RUNS times with `tcplab check client --bytes 32MiB
--format json`; the figure is the verdict's `verdict_ms - last_progress_ms`. Prints one line per
kind (median and maximum) and exits 1 when a run is not called deadlocked.

    scripts/verdict-times.py --tcplab target/release/tcplab            # 5 runs of each kind
    scripts/verdict-times.py --tcplab target/release/tcplab --runs 10 --busy

Needs: a built tcplab, python3, gcc, node. --busy keeps both cores busy with two spinning
processes meanwhile (bounded, stopped at the end). About 1 min for 5 runs of each kind.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "corpus", "clients")
KINDS = [
    ("send (sendall: sendto)", ["python3", "py_naive.py"]),
    ("write (C write loop)", ["c", "c_naive_write.c"]),
    ("sendfile", ["python3", "py_sendfile.py"]),
    ("poll inside sendall (settimeout)", ["python3", "py_timeout.py"]),
    ("epoll inside a runtime (asyncio drain)", ["python3", "py_asyncio_drain.py"]),
    ("write beside epoll threads (Node writeSync)", ["node", "node_writesync.js"]),
]


def command(kind, tmp):
    how, src = kind
    path = os.path.join(CORPUS, src)
    if how == "c":
        exe = os.path.join(tmp, src[:-2])
        subprocess.run(["gcc", "-O2", "-pthread", "-o", exe, path], check=True)
        return [exe]
    return [how, path]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcplab", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--busy", action="store_true")
    a = ap.parse_args()
    busy = []
    if a.busy:
        busy = [subprocess.Popen(["timeout", "1800", "sh", "-c", "while :; do :; done"])
                for _ in range(2)]
    bad = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for kind in KINDS:
                cmd = command(kind[1], tmp)
                times = []
                for _ in range(a.runs):
                    out = subprocess.run(
                        [a.tcplab, "check", "client", "--bytes", "32MiB", "--timeout", "60s",
                         "--format", "json", "--", *cmd, "{host}", "{port}", "{bytes}"],
                        capture_output=True, text=True, timeout=120)
                    doc = json.loads(out.stdout)
                    run = doc["runs"][-1]
                    v = run.get("verdict")
                    if doc["outcome"] != "deadlocked" or not v:
                        bad += 1
                        print(f"  {kind[0]}: {doc['outcome']} ({run.get('hang')})")
                        continue
                    times.append(v["verdict_ms"] - v["last_progress_ms"])
                if times:
                    print(f"{kind[0]:<46} {len(times)}/{a.runs} deadlocked; verdict after the last "
                          f"byte: median {statistics.median(times):.0f} ms, max {max(times)} ms")
    finally:
        for p in busy:
            p.terminate()
            p.wait()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
