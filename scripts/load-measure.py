#!/usr/bin/env python3
"""The classroom load test with its cost: runs `tcplab load ARGS --json` and samples the load process
and the server it starts from /proc every 50 ms (CPU seconds, peak threads), then prints one line with
the verdict, the wall time and those figures (docs/classroom.md, "The largest class").

    scripts/load-measure.py target/release/tcplab --clients 1000
    scripts/load-measure.py target/release/tcplab --clients 2000

Needs: a built tcplab, Linux (/proc). Bounded at 600 s."""
import json, os, subprocess, sys, time
tcplab, args = sys.argv[1], sys.argv[2:]
tick = os.sysconf('SC_CLK_TCK')
def stat(pid):
    try:
        f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
        st = open(f'/proc/{pid}/status').read()
        thr = int([l for l in st.splitlines() if l.startswith('Threads:')][0].split()[1])
        return (int(f[11]) + int(f[12])) / tick, thr
    except Exception:
        return None
def children(pid):
    out = []
    try:
        for t in os.listdir(f'/proc/{pid}/task'):
            out += [int(c) for c in open(f'/proc/{pid}/task/{t}/children').read().split()]
    except Exception:
        pass
    return out
t0 = time.monotonic()
import tempfile
sink = tempfile.TemporaryFile()
p = subprocess.Popen([tcplab, 'load', *args, '--json'], stdout=sink, stderr=subprocess.DEVNULL)
peak = {'load': [0, 0], 'server': [0, 0]}
while p.poll() is None and time.monotonic() - t0 < 600:
    s = stat(p.pid)
    if s:
        peak['load'][0] = max(peak['load'][0], s[0]); peak['load'][1] = max(peak['load'][1], s[1])
    for c in children(p.pid):
        s = stat(c)
        if s:
            peak['server'][0] = max(peak['server'][0], s[0]); peak['server'][1] = max(peak['server'][1], s[1])
    time.sleep(0.05)
p.wait()
sink.seek(0)
out = sink.read()
wall = time.monotonic() - t0
try:
    doc = json.loads(out)
    ok = doc.get('ok')
    r = doc['rounds'][0]
    summary = f"fixed {r['fixed_ok']}/{r['fixed_total']}, freed {r['deadlocking_ok']}/{r['deadlocking_total']}"
    srv = r.get('server') or {}
    peak_srv = srv.get('peak', {})
    summary += f", server VmRSS peak {peak_srv.get('rss_bytes', 0)/2**20:.1f} MiB, threads peak {peak_srv.get('threads')}"
except Exception as e:
    ok, summary = None, f'no JSON ({e})'
print(f"{' '.join(args)}: exit {p.returncode} ok={ok} wall {wall:.1f} s; load process: CPU {peak['load'][0]:.1f} s, threads peak {peak['load'][1]}; server process: CPU {peak['server'][0]:.1f} s, threads peak {peak['server'][1]}; {summary}")
