#!/usr/bin/env python3
"""Settles the truth of every program in tests/corpus without tcplab.

Each client runs against a plain peer (tests/corpus/peers/echo_server.py: the classic server's
loop, which also records how each connection ended as it saw it); each server is started on a free
port and driven by tests/corpus/peers/check_client.py (a reader thread, the echo checked byte for
byte), then stopped with SIGTERM to its process group, as a grader would, and whatever of it
survives is counted. A server with a [program.watch] entry is also run against the classic naive
client (tests/fixtures/tcp_deadlock.py), the pairing tcplab watch is scored on. While a case runs,
`ss -tmioen` and /proc/PID/task/* are sampled five times a second (scripts/corpus_observe.py has
the deadlock rule), and `nstat` is read before and after (system-wide: supporting evidence only).

What was observed is written to tests/corpus/truth.json and tests/corpus/TRUTH.md and compared
with the truth in tests/corpus/manifest.toml; every disagreement is listed, and the exit code is
1 if there is one.

    scripts/corpus-truth.py                      # every program, then TRUTH.md and truth.json
    scripts/corpus-truth.py --only py_naive_big  # one program (or 'py_*'), printed, nothing written
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpuslib as lib  # noqa: E402
from corpus_observe import STEP, Observer  # noqa: E402

PY = sys.executable


def wait_announced_port(proc, deadline):
    """The port a peer printed on its first line ('Listening at (host, port)')."""
    while time.monotonic() < deadline:
        try:
            with open(proc.out_path) as f:
                first = f.readline()
        except OSError:
            first = ''
        if first.startswith('Listening at'):
            return int(first.rsplit(',', 1)[1].strip(' )\n'))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit('the peer never announced its port: %s' % lib.tail(proc.out_path))


def stop_peer(peer):
    """SIGTERM makes the echo peer print a record for each connection still open."""
    return lib.stop_group(peer, grace=3.0)


# ---------------------------------------------------------------------------------------------
# A client

def client_case(prog, builds, work):
    token = lib.new_token()
    nbytes = prog['bytes']
    peer = lib.start([PY, os.path.join(lib.PEERS, 'echo_server.py'), lib.HOST, '0'], token,
                     'peer', os.path.join(work, 'peer.out'))
    p = ends = None
    try:
        port = wait_announced_port(peer, time.monotonic() + 10)
        cmd = lib.command(prog, builds, host=lib.HOST, port=port, bytes=nbytes)
        n0 = lib.nstat()
        obs = Observer(port, token)
        ends = lib.EndWatcher(port, obs.t0)
        p = lib.start(cmd, token, 'program', os.path.join(work, 'program.out'))
        limit = prog.get('truth_observe', 25.0)
        after = prog.get('observe_after_deadlock', 3.0)
        exited_at = None
        while obs.now() < limit:
            obs.sample()
            if p.poll() is not None:
                exited_at = exited_at or obs.now()
                if obs.now() - exited_at >= 1.0:
                    break
            if obs.deadlock and obs.now() - obs.deadlock['confirmed_s'] >= after:
                break
            time.sleep(STEP)
        code = p.poll()
        end_t = exited_at if code is not None else obs.now()
        closes = ends.stop()
        # The peer next: it records every connection still open as it stands (phase
        # 'transfer'), before stopping the program could reset it.
        stop_peer(peer)
        stopped = lib.stop_group(p) if code is None else None
        n1 = lib.nstat()
        survivors = lib.describe(lib.marked(token, 'program'))
    finally:
        if ends:
            ends.stop()
        lib.stop_group(peer)
        if p:
            lib.stop_group(p)
        left = lib.kill_marked(token)
        if left:
            print('warning: could not stop %s' % lib.describe(left), file=sys.stderr)
    recs = lib.read_json_lines(peer.out_path)
    rec = recs[0] if recs else None
    # The client's own end, as the kernel destroyed it (the first connection's).
    cclose = next((e for e in closes if e['pport'] == port
                   and (rec is None or e['local'] == rec['client'])), None)
    o = {
        'port': port, 'command': lib.display(cmd, builds), 'bytes': nbytes,
        'connects': rec is not None or obs.saw_connection() or cclose is not None,
        'connections': len(recs),
        'deadlock': obs.deadlock is not None,
        'exit': lib.exit_status(code),
        'stopped_by_observer': stopped,
        'ran_s': round(end_t, 1),
        'leaves_processes': bool(survivors), 'survivors': survivors,
        'peer_records': recs,
        'closes': ['%.1f s: %s' % (e['t'], lib.compact(e)) for e in closes],
        'nstat_delta': {k: n1.get(k, 0) - n0.get(k, 0) for k in lib.NSTAT_KEYS},
        'program_tail': lib.tail(p.out_path),
        'program_tail_after_stop': bool(stopped),
    }
    if rec is None:
        o['sent'] = 'none'
    else:
        o['received_by_peer'] = rec['received']
        o['sent'] = ('exact' if rec['received'] == nbytes else
                     'none' if rec['received'] == 0 else
                     'fewer' if rec['received'] < nbytes else 'more')
    if cclose:
        o['client_close'] = {k: cclose[k] for k in ('t', 'recvq', 'sendq', 'bytes_received',
                                                    'bytes_acked')}
        # What the program handed to its kernel, from the kernel's counters at the close:
        # bytes_acked (less the SYN) + Send-Q; a FIN queued by shutdown() adds one more.
        wrote = max(cclose['bytes_acked'] - 1, 0) + cclose['sendq']
        o['wrote_bytes'] = wrote
        o['wrote'] = ('exact' if wrote in (nbytes, nbytes + 1) else
                      'fewer' if wrote < nbytes else 'more')
    unread = cclose is not None and cclose['recvq'] > 0
    o['echo_read'] = bool(rec and rec['phase'] == 'eof' and rec['echoed'] == rec['received']
                          and cclose and not unread
                          and cclose['bytes_received'] >= rec['echoed'])
    if not o['connects']:
        o['end'] = 'no_connection'
    elif (rec and rec['phase'] == 'reset') or unread:
        o['end'] = 'reset_by_client'     # the peer saw it, or it closed with echo unread
    elif cclose and rec and rec['phase'] == 'eof':
        o['end'] = 'fin_both'
    elif cclose:
        o['end'] = 'closed_before_eof'
    elif rec and rec['phase'] == 'eof':
        o['end'] = 'client_never_closed'
    else:
        o['end'] = 'never'
    # Kept running: still alive 5 s or more after it closed its end of the connection.
    o['lingers'] = bool(cclose) and end_t - cclose['t'] >= 5.0
    if o['lingers']:
        o['lingered_s'] = round(end_t - cclose['t'], 1)
    fill_calls(o, obs)
    states = {t['state'] for t in obs.last_threads.get('program', [])}
    o['stopped'] = bool(states) and states <= {'T', 't'}
    return o


def fill_calls(o, obs):
    if obs.deadlock:
        d = obs.deadlock
        o['deadlock_detail'] = {k: v for k, v in d.items() if k != 'evidence'}
        o['calls'] = d['program_calls']
        o['peer_calls'] = d['peer_calls']
        o['evidence'] = d['evidence']
    else:
        th = obs.last_threads
        o['calls'] = sorted({t['call'] for t in th.get('program', [])})
        o['peer_calls'] = sorted({t['call'] for t in th.get('peer', [])})
        o['evidence'] = obs.quiet_evidence()
        if obs.still:
            o['still'] = obs.still
    o['max_client_sent'] = obs.max_client_sent


# ---------------------------------------------------------------------------------------------
# A server

def server_case(prog, builds, work):
    token = lib.new_token()
    port = lib.free_port()
    cmd = lib.command(prog, builds, host=lib.HOST, port=port)
    o = {'port': port, 'command': lib.display(cmd, builds), 'runs': []}
    n0 = lib.nstat()
    obs = Observer(port, token)
    ends = lib.EndWatcher(port, obs.t0)
    p = lib.start(cmd, token, 'program', os.path.join(work, 'server.out'))
    try:
        t = time.monotonic()
        o['listens'] = lib.wait_listening(port, t + 10, p)
        o['listening_after_ms'] = int((time.monotonic() - t) * 1000) if o['listens'] else None
        if o['listens']:
            for i, nbytes in enumerate(prog.get('truth_client_bytes', [65536, 4194304])):
                out = os.path.join(work, 'client%d.out' % i)
                c = lib.start([PY, os.path.join(lib.PEERS, 'check_client.py'), lib.HOST,
                               str(port), str(nbytes), '--idle', '5'], token, 'peer', out)
                until = time.monotonic() + 60
                while c.poll() is None and time.monotonic() < until:
                    obs.sample()
                    time.sleep(STEP)
                lib.stop_group(c)
                recs = lib.read_json_lines(out)
                o['runs'].append(recs[0] if recs else {'bytes': nbytes, 'end': 'no_record',
                                                       'tail': lib.tail(out)})
        code = p.poll()
        o['exit'] = lib.exit_status(code)
        o['closes'] = ['%.1f s: %s' % (e['t'], lib.compact(e)) for e in ends.stop()]
        # Stop it as a grader does: SIGTERM to its process group, 2 s, SIGKILL. What is left?
        o['stopped_with'] = lib.stop_group(p)
        survivors = lib.marked(token, 'program')
        o['survivors'] = lib.describe(survivors)
        o['leaves_processes'] = bool(survivors)
        o['port_still_listening'] = lib.listening(port)
    finally:
        ends.stop()
        lib.stop_group(p)
        left = lib.kill_marked(token)
        if left:
            print('warning: could not stop %s' % lib.describe(left), file=sys.stderr)
    n1 = lib.nstat()
    o['nstat_delta'] = {k: n1.get(k, 0) - n0.get(k, 0) for k in lib.NSTAT_KEYS}
    o['program_tail'] = lib.tail(p.out_path)
    runs = o['runs']
    o['connects'] = any(r.get('connected') for r in runs)
    o['echo'] = server_echo(runs)
    o['end'] = server_end(runs)
    fill_calls(o, obs)
    o['deadlock'] = obs.deadlock is not None
    return o


def server_echo(runs):
    if not runs or not any(r.get('connected') for r in runs):
        return 'none'
    for r in runs:
        if not r.get('connected'):
            continue
        common = min(r.get('received', 0), r.get('bytes', 0))
        if r.get('first_diff') is not None and r['first_diff'] < common:
            return 'wrong'    # a byte differs where one was expected (inserted ones included)
        if r.get('extra'):
            return 'long'     # every expected byte right, then more
        if r.get('received') != r.get('bytes'):
            return 'short'
    return 'exact'


def server_end(runs):
    ends = [r.get('end') for r in runs]
    if not any(r.get('connected') for r in runs):
        return 'no_connection'
    for e in ends:
        if e == 'reset':
            return 'reset_by_server'
        if e == 'idle':
            return 'never_closes'
    return 'fin_both' if all(e == 'eof' for e in ends) else ','.join(str(e) for e in ends)


def server_watch_case(prog, builds, work):
    """The server against the classic naive client: the pairing `tcplab watch` is scored on."""
    w = prog['watch']
    token = lib.new_token()
    port = lib.free_port()
    cmd = lib.command(prog, builds, host=lib.HOST, port=port)
    p = lib.start(cmd, token, 'program', os.path.join(work, 'wserver.out'))
    obs = Observer(port, token)
    o = {'port': port, 'bytes': w['bytes'], 'peer': 'classic naive client'}
    try:
        if not lib.wait_listening(port, time.monotonic() + 10, p):
            raise SystemExit('%s: never listened for the watch pairing' % prog['name'])
        c = lib.start([PY, lib.CLASSIC, 'client', lib.HOST, str(w['bytes']), '-p', str(port)],
                      token, 'peer', os.path.join(work, 'wclient.out'))
        limit = w.get('truth_observe', 25.0)
        while obs.now() < limit and c.poll() is None:
            obs.sample()
            if obs.deadlock and obs.now() - obs.deadlock['confirmed_s'] >= 3.0:
                break
            time.sleep(STEP)
        o['peer_exit'] = lib.exit_status(c.poll())
        o['peer_tail'] = lib.tail(c.out_path, 2)
        lib.stop_group(c)
    finally:
        lib.stop_group(p)
        lib.kill_marked(token)
    o['deadlock'] = obs.deadlock is not None
    fill_calls(o, obs)
    return o


# ---------------------------------------------------------------------------------------------
# Comparing with the manifest

CLIENT_KEYS = ('connects', 'deadlock', 'sent', 'wrote', 'echo_read', 'end', 'exit',
               'lingers', 'stopped', 'leaves_processes')
SERVER_KEYS = ('listens', 'connects', 'echo', 'end', 'exit', 'leaves_processes', 'deadlock')


def compare(prog, o):
    truth = prog['truth']
    keys = CLIENT_KEYS if prog['role'] == 'client' else SERVER_KEYS
    out = []
    for k in keys:
        if k in truth and truth[k] != o.get(k):
            out.append('%s: manifest says %r, observed %r' % (k, truth[k], o.get(k)))
    if 'blocked_in' in truth and not set(truth['blocked_in']) <= set(o.get('calls', [])):
        out.append('blocked_in: manifest says %s, the threads were in %s'
                   % (truth['blocked_in'], o.get('calls')))
    if 'watch' in prog:
        wt, wo = prog['watch'].get('truth', {}), o.get('watch', {})
        if 'deadlock' in wt and wt['deadlock'] != wo.get('deadlock'):
            out.append('watch.deadlock: manifest says %r, observed %r'
                       % (wt['deadlock'], wo.get('deadlock')))
        if 'blocked_in' in wt and not set(wt['blocked_in']) <= set(wo.get('calls', [])):
            out.append('watch.blocked_in: manifest says %s, the threads were in %s'
                       % (wt['blocked_in'], wo.get('calls')))
    return out


# ---------------------------------------------------------------------------------------------
# The record

def machine():
    def sysctl(name):
        try:
            with open('/proc/sys/' + name.replace('.', '/')) as f:
                return ' '.join(f.read().split())
        except OSError:
            return '?'
    tools = {}
    for tool, args in (('python3', [PY, '--version']), ('gcc', ['gcc', '-dumpfullversion']),
                       ('node', ['node', '--version']), ('ss', ['ss', '-V'])):
        try:
            r = subprocess.run(args, capture_output=True, text=True, timeout=10)
            tools[tool] = (r.stdout or r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            tools[tool] = 'missing'
    with open('/proc/loadavg') as f:
        load = ' '.join(f.read().split()[:3])
    return {'kernel': platform.release(), 'machine': platform.machine(), 'load': load,
            'cpus': os.cpu_count(),
            'tcp_wmem': sysctl('net.ipv4.tcp_wmem'), 'tcp_rmem': sysctl('net.ipv4.tcp_rmem'),
            'wmem_max': sysctl('net.core.wmem_max'), 'rmem_max': sysctl('net.core.rmem_max'),
            'congestion_control': sysctl('net.ipv4.tcp_congestion_control'), 'tools': tools}


def summary(prog, o):
    """One line of what was observed, in the manifest's terms."""
    if prog['role'] == 'client':
        s = 'deadlock' if o['deadlock'] else 'no deadlock'
        if o['deadlock']:
            d = o['deadlock_detail']
            s += ' (client had written %s, still since %.1f s)' % (
                mib(d['client_sent_bytes']), d['still_since_s'])
        s += '; sent %s%s; echo read %s; end %s; exit %s' % (
            o['sent'], ' (it wrote %s to its socket)' % o['wrote']
            if o.get('wrote') and o['wrote'] != o['sent'] else '',
            'yes' if o['echo_read'] else 'no', o['end'], o['exit'])
        if o.get('lingers'):
            s += '; lingered %.1f s after its connection' % o['lingered_s']
        if o.get('stopped'):
            s += '; stopped (state T)'
        if o.get('still') and not o['deadlock']:
            s += '; windows zero and nothing moving for %.1f s at most' % o['still']['seconds']
    else:
        s = 'listens' if o['listens'] else 'never listens'
        s += '; echo %s; end %s; exit %s before it was stopped' % (o['echo'], o['end'], o['exit'])
    if o.get('leaves_processes'):
        s += '; left %d process(es) after SIGTERM/SIGKILL to its group' % len(o['survivors'])
        if o.get('port_still_listening'):
            s += ', the port still listening'
    s += '; threads in %s' % ', '.join(o.get('calls') or ['-'])
    if 'watch' in o:
        w = o['watch']
        s += '. With the classic naive client at %s: %s' % (mib(w['bytes']), (
            'deadlock, its threads in %s' % ', '.join(w['calls'])) if w['deadlock']
            else 'no deadlock')
    return s


def mib(n):
    return '%.2f MiB' % (n / 1048576)


def write_markdown(path, results, disagreements, facts, cmdline, started):
    L = ['# The corpus\'s truth, settled without tcplab', '',
         'Written by `%s` on %s (UTC); it took %.0f s.' % (cmdline, started, facts['took_s']), '',
         'Machine: Linux %s (%s, %d CPUs); `tcp_wmem` %s, `tcp_rmem` %s, `wmem_max` %s, '
         '`rmem_max` %s, congestion control %s; %s.' % (
             facts['kernel'], facts['machine'], facts['cpus'], facts['tcp_wmem'],
             facts['tcp_rmem'], facts['wmem_max'], facts['rmem_max'],
             facts['congestion_control'],
             ', '.join('%s %s' % kv for kv in facts['tools'].items())), '',
         'How each line was settled: scripts/corpus-truth.py (its docstring, and '
         'scripts/corpus_observe.py for the deadlock rule). `nstat` counters are system-wide '
         '(other programs on the machine add to them), so they are shown only as support. '
         'Timing-sensitive programs are observed 3 times; the evidence shown is the first '
         'run\'s. Load average when it started: %s.' % facts['load'], '']
    if disagreements:
        L += ['## Disagreements with manifest.toml', '']
        L += ['- **%s**: %s' % (n, d) for n, ds in disagreements.items() for d in ds]
        L.append('')
    else:
        L += ['Every observation agrees with manifest.toml.', '']
    L += ['## Summary', '', '| program | observed |', '|---|---|']
    for prog, o in results:
        runs = o.get('runs_observed', 1)
        L.append('| `%s` | %s%s |' % (prog['name'], summary(prog, o),
                                      ' (%d runs, all agreeing with the manifest)' % runs
                                      if runs > 1 and not any(k.startswith(prog['name'] + ' (')
                                                              for k in disagreements)
                                      else ''))
    L += ['', '## Evidence', '']
    for prog, o in results:
        L += ['### %s' % prog['name'], '', '`%s`' % o.get('command', ''), '']
        if prog['role'] == 'client' and o.get('peer_records'):
            L.append('- the peer saw: ' + '; '.join(
                'conn %d received %d echoed %d, %s' % (
                    r['conn'], r['received'], r['echoed'], r['phase'])
                for r in o['peer_records']))
        for c in o.get('closes', [])[:4]:
            L.append('- destroyed (ss -E) at ' + c)
        for r in o.get('runs', []):
            L.append('- reference client at %d bytes: %s' % (r.get('bytes', 0), json.dumps(
                {k: r.get(k) for k in ('received', 'first_diff', 'extra', 'end', 'elapsed_ms')})))
        if o.get('survivors'):
            L.append('- survived its group\'s SIGTERM/SIGKILL: %s' % ', '.join(o['survivors']))
        nd = {k: v for k, v in o.get('nstat_delta', {}).items() if v}
        if nd:
            L.append('- nstat (system-wide) moved by: %s' % ', '.join(
                '%s +%d' % kv for kv in nd.items()))
        if o.get('program_tail'):
            L.append('- its last output%s: ' % (' (once stopped)' if o.get(
                'program_tail_after_stop') else '') + ' / '.join(
                '`%s`' % lib.display([x])[:100] for x in o['program_tail'][-3:]))
        if o.get('still'):
            st = o['still']
            L.append('- longest stretch with both windows zero, unsent data on both sides and '
                     'no byte moving: %.1f s (from %.1f s); the threads then:' % (
                         st['seconds'], st['from_s']))
            L += ['', '```'] + st['evidence'][:14] + ['```']
        if o.get('evidence'):
            L += ['', '```'] + o['evidence'][:16] + ['```']
        if 'watch' in o:
            w = o['watch']
            L += ['', 'With the classic naive client at %d bytes: %s; threads in %s' % (
                w['bytes'], 'deadlock' if w['deadlock'] else 'no deadlock',
                ', '.join(w.get('calls') or ['-']))]
            if w.get('evidence'):
                L += ['', '```'] + w['evidence'][:12] + ['```']
        L.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', help='run only these programs (comma-separated; prefix*)')
    ap.add_argument('--repeat', type=int,
                    help='observe each program this many times, every run must agree '
                         '(default: 3 for the timing-sensitive ones, 1 for the rest)')
    ap.add_argument('--out', default=lib.CORPUS,
                    help='where truth.json and TRUTH.md go (default: tests/corpus; '
                         'not written with --only)')
    a = ap.parse_args()
    programs = lib.select(lib.load_manifest(), a.only)
    builds = lib.Builds()
    started = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')
    t0 = time.monotonic()
    facts = machine()
    results, disagreements = [], {}
    try:
        for prog in programs:
            n = a.repeat or (3 if prog.get('timing_sensitive') else 1)
            for i in range(n):
                with tempfile.TemporaryDirectory(prefix='corpus-truth-') as work:
                    if prog['role'] == 'client':
                        o = client_case(prog, builds, work)
                    else:
                        o = server_case(prog, builds, work)
                        if 'watch' in prog:
                            o['watch'] = server_watch_case(prog, builds, work)
                d = compare(prog, o)
                tag = '' if n == 1 else ' (run %d)' % (i + 1)
                print('%-26s %s%s' % (prog['name'], summary(prog, o), tag), flush=True)
                for x in d:
                    print('    DISAGREES: ' + x, flush=True)
                if d:
                    disagreements.setdefault(prog['name'] + tag, []).extend(d)
                if i == 0:
                    o['runs_observed'] = n
                    results.append((prog, o))
    finally:
        builds.cleanup()
    left = lib.runner_leftovers()
    if left:
        print('left running at the end (now killed): %s' % ', '.join(left))
    facts['took_s'] = time.monotonic() - t0
    if not a.only:
        cmdline = 'scripts/corpus-truth.py' + (' --repeat %d' % a.repeat if a.repeat else '')
        with open(os.path.join(a.out, 'truth.json'), 'w') as f:
            json.dump({'machine': facts, 'date_utc': started, 'command': cmdline,
                       'disagreements': disagreements,
                       'programs': {p['name']: dict(o, summary=summary(p, o))
                                    for p, o in results}}, f, indent=1)
        write_markdown(os.path.join(a.out, 'TRUTH.md'), results, disagreements, facts,
                       cmdline, started)
    print('%d program(s), %d disagreement(s), %.0f s' % (
        len(results), sum(len(v) for v in disagreements.values()), facts['took_s']))
    return 1 if disagreements else 0


if __name__ == '__main__':
    lib.mark_runner()
    sys.exit(main())
