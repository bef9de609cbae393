#!/usr/bin/env python3
"""Scores tcplab on the corpus of student programs in tests/corpus.

For every program in tests/corpus/manifest.toml it runs
  - `tcplab check client|server --json --report …` on the program, and maps the verdict (the JSON's
    `outcome`) to the one the manifest's truth calls for; and
  - for a client (and a server with a [program.watch] pairing), a `tcplab watch` scenario: a plain
    peer on a free port (tests/corpus/peers/echo_server.py, or for a server the classic naive
    client), `tcplab watch --port P --until-verdict --json --timeout T`, then the program; scored
    on the deadlock verdict, whether the connection was reported at all, and how it closed.
Timing-sensitive programs run 5 times (--repeat changes that for every program). It prints two
Markdown tables (check, watch) and writes every result to OUT/results.json and OUT/tables.md.

Every process a case starts carries a CORPUS_CASE mark in its environment; after the case, any
that is still alive (a setsid() grandchild included) is listed and killed by PID, and the run ends
by checking that nothing of the corpus is left. Every wait is bounded.

    scripts/corpus.py --tcplab target/release/tcplab                  # everything (~10 min)
    scripts/corpus.py --tcplab target/release/tcplab --quick          # one run each, no slow ones (~5 min)
    scripts/corpus.py --tcplab target/release/tcplab --only 'c_*' --repeat 3
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ beside the scripts
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpuslib as lib  # noqa: E402

PY = sys.executable
CHECK_TIMEOUT_S = 60
WATCH_TIMEOUT_S = 12


# ---------------------------------------------------------------------------------------------
# What a correct answer is, from the truth

def check_expectation(prog):
    """The outcomes of `tcplab check` that are right for this program, and why."""
    t = prog['truth']
    if prog['role'] == 'client':
        if not t['connects']:
            if t['exit'] == 0 and prog.get('slow'):
                return {'hung'}, 'never connects (sleeps, then exits 0)'
            if t['exit'] == 0:
                return {'failed', 'error'}, 'exits 0 without connecting'
            return {'crashed', 'error'}, 'exits %s before it connects' % t['exit']
        if t['deadlock']:
            return {'deadlocked'}, 'deadlock (%s)' % ', '.join(t.get('blocked_in', []))
        if t.get('stopped'):
            return {'hung'}, 'stops itself (SIGSTOP) midway; no deadlock'
        if t['end'] in ('never', 'client_never_closed'):
            return {'hung'}, 'waits for ever (%s)' % ', '.join(t.get('blocked_in', ['?']))
        if t.get('lingers'):
            return {'hung'}, 'done, then keeps running'
        if t['exit'] != 0:
            return {'crashed'}, 'exit %s after the exchange' % t['exit']
        if not t['echo_read']:
            return {'failed'}, 'closes with the echo unread (%s)' % t['end'].replace('_', ' ')
        if t.get('sent', 'exact') != 'exact':
            return {'failed'}, 'sends %s bytes than asked' % t['sent']
        return {'passed'}, 'correct'
    if not t['listens']:
        return {'error', 'failed', 'hung'}, 'never listens'
    if t['exit'] != 'running':
        return {'crashed'}, 'crashes (exit %s), %s' % (t['exit'], t['end'].replace('_', ' '))
    if t['echo'] != 'exact':
        return {'failed'}, 'echo %s' % t['echo']
    if t['end'] == 'never_closes':
        return {'hung'}, 'never closes'
    why = 'correct'
    if t.get('leaves_processes'):
        why += ', leaves processes behind'
    return {'passed'}, why


def detail_rule(prog):
    """Where tcplab's JSON names the kind of hang, shortfall or problem, the kind the truth
    requires (or rules out): (required, forbidden), either None."""
    t = prog['truth']
    if prog['role'] == 'client':
        if t.get('lingers'):
            return 'hang:kept_running', None
        if not t['connects'] and prog.get('slow'):
            return 'hang:never_connected', None
        if t['end'] == 'never' and t.get('sent') == 'exact' and not t.get('stopped'):
            return 'hang:both_wait_in_recv', None
        if t['connects'] and t['echo_read'] and t.get('sent') == 'fewer':
            return 'shortfall:wrong_count', None
        if t.get('wrote') == 'exact' and t['end'] == 'reset_by_client':
            # It handed every byte to its kernel; its own reset threw the rest away (tcp(7)).
            return None, 'shortfall:wrong_count'
        return None, None
    if t.get('echo') == 'long':
        return None, 'problem:wrong_byte'   # nothing was expected where the extra bytes are
    if t.get('echo') == 'wrong':
        return 'problem:wrong_byte', None
    if t.get('echo') == 'short' and t.get('exit') == 'running':
        return 'problem:missing', None
    if t.get('end') == 'never_closes':
        return 'problem:never_closes', None
    return None, None


def truth_text(prog):
    return check_expectation(prog)[1]


# ---------------------------------------------------------------------------------------------
# tcplab check

def json_flag(tcplab):
    """`--json` today; `--format json` once the alias lands and if --json were ever dropped."""
    r = subprocess.run([tcplab, 'check', 'client', '--help'], capture_output=True, text=True,
                       timeout=30)
    return ['--json'] if '--json' in r.stdout else ['--format', 'json']


def first_json(text):
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in text.splitlines():
        if line.startswith('{'):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


VERDICT_LINE = re.compile(r'^[\W_]*(PASSED|DEADLOCKED|CRASHED|HUNG|FAILED|INTERRUPTED)\b')


def verdict_sentence(report_path):
    """tcplab's one-line verdict, as its Markdown report words it (for people, not for scoring)."""
    try:
        with open(report_path, errors='replace') as f:
            for line in f:
                if VERDICT_LINE.match(line):
                    return re.sub(r'[*`]', '', line.strip())
    except OSError:
        pass
    return None


def detail(doc):
    """The kind of hang, shortfall or problem the JSON names, if any."""
    if not doc:
        return None
    last = (doc.get('runs') or doc.get('steps') or [{}])[-1]
    for key in ('hang', 'shortfall', 'problem'):
        v = last.get(key)
        if isinstance(v, dict) and v.get('kind'):
            return '%s:%s' % (key, v['kind'])
    return None


def says_survivors(doc):
    """Whether the JSON names processes left running (a key the engine may add)."""
    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if re.search(r'surviv|left_running|leftover', k) and v:
                    return True
                if walk(v):
                    return True
        elif isinstance(x, list):
            return any(walk(v) for v in x)
        return False
    return walk(doc)


def run_check(prog, tcplab, flag, builds, work):
    token = lib.new_token()
    cmd = lib.command(prog, builds)
    report = os.path.join(work, 'report.md')
    args = [tcplab, 'check', prog['role']] + flag + ['--quiet', '--report', report,
                                                     '--timeout', '%ds' % CHECK_TIMEOUT_S]
    if prog['role'] == 'client':
        args += ['--bytes', str(prog['bytes'])]
    args += ['--'] + cmd
    out, err = os.path.join(work, 'check.out'), os.path.join(work, 'check.err')
    t0 = time.monotonic()
    p = lib.start(args, token, 'tcplab', out, err_path=err)
    bound = CHECK_TIMEOUT_S * (6 if prog['role'] == 'server' else 1) + 60
    try:
        p.wait(timeout=bound)
        runner_timeout = False
    except subprocess.TimeoutExpired:
        lib.stop_group(p)
        runner_timeout = True
    took = time.monotonic() - t0
    left = lib.marked(token)
    left_desc = lib.describe(left)
    with open(out, errors='replace') as f:
        doc = first_json(f.read())
    port_listening = False
    if doc and prog['role'] == 'server' and doc.get('addr'):
        port_listening = lib.listening(int(doc['addr'].rsplit(':', 1)[1]))
    lib.kill_marked(token)
    errline = next((l for l in lib.tail(err, 20) if l.startswith('tcplab:')), None)
    a_tail = lib.tail(err, 3)
    a = {'exit': p.returncode, 'took_s': round(took, 1), 'runner_timeout': runner_timeout,
         'left_running': left_desc, 'port_listening_after': port_listening,
         'stderr_tail': a_tail}
    if doc and 'outcome' in doc:
        a['outcome'] = doc['outcome']
        a['detail'] = detail(doc)
        a['sentence'] = lib.sanitize(verdict_sentence(report) or '')
        a['says_survivors'] = says_survivors(doc)
        runs = doc.get('runs') or []
        if runs:
            a['counts'] = runs[-1].get('counts')
            v = runs[-1].get('verdict') or {}
            if 'verdict_ms' in v and 'last_progress_ms' in v:
                a['verdict_after_last_byte_ms'] = v['verdict_ms'] - v['last_progress_ms']
            a['threads'] = [{k: t.get(k) for k in ('side', 'name', 'pid', 'tid', 'syscall',
                                                   'state', 'call', 'on_socket') if k in t}
                            for t in runs[-1].get('threads', [])]
    else:
        a['outcome'] = 'error'
        a['sentence'] = lib.sanitize(errline or ' / '.join(lib.tail(err, 2)) or '(no output)')
    return a


def score_check(prog, a):
    accept, _ = check_expectation(prog)
    why = []
    if a['outcome'] not in accept:
        why.append('said %s, the truth calls for %s' % (a['outcome'], '/'.join(sorted(accept))))
    elif a.get('detail'):
        required, forbidden = detail_rule(prog)
        if required and a['detail'] != required:
            why.append('the right outcome for the wrong reason: %s where the truth is %s'
                       % (a['detail'], required))
        if forbidden and a['detail'] == forbidden:
            why.append('the right outcome for the wrong reason: %s' % a['detail'])
    if a['outcome'] == 'error' and a['exit'] not in (1,):
        why.append('exit %s' % a['exit'])
    if a['left_running'] and not a.get('says_survivors'):
        why.append('left %d process(es) running without saying so' % len(a['left_running']))
    if a['port_listening_after']:
        why.append('the port was still listening after tcplab exited')
    if a['runner_timeout']:
        why.append('tcplab did not finish within the runner\'s bound')
    return not why, why


# ---------------------------------------------------------------------------------------------
# tcplab watch

def wait_sockdiag(pid, deadline):
    """Until the process holds a NETLINK_SOCK_DIAG socket (it is ready to ask the kernel)."""
    while time.monotonic() < deadline:
        mine = set(lib.socket_inodes(pid).values())
        try:
            with open('/proc/net/netlink') as f:
                next(f)
                for line in f:
                    col = line.split()
                    if len(col) >= 10 and col[1] == '4' and int(col[9]) in mine:
                        return True
        except OSError:
            pass
        if lib.proc_state(pid) in (None, 'Z'):
            return False
        time.sleep(0.02)
    return False


def close_claim(lines, code):
    """How watch said the connections closed: 'clean', 'not clean', a kind it named, or None."""
    kinds = []
    for l in lines:
        if l.get('status') != 'closed' or l.get('verdict') or l.get('event'):
            continue
        named = None
        for key in ('close', 'closed', 'how', 'end', 'ending', 'cleanly', 'closed_cleanly'):
            v = l.get(key)
            if isinstance(v, bool):
                named = 'clean' if v else 'not clean'
            elif isinstance(v, str) and v:
                named = v
            elif isinstance(v, dict):
                named = v.get('kind') or v.get('how') or json.dumps(v)
            if named:
                break
        kinds.append(named)
    if any(kinds):
        return ', '.join(k or '?' for k in kinds)
    if kinds:
        # Only the exit code says it: 0 = "every watched connection closed cleanly".
        return 'clean' if code == 0 else 'not clean'
    return None


def is_clean(claim):
    return claim is not None and claim.lower() in ('clean', 'cleanly', 'fin', 'fin_both',
                                                   'closed cleanly', 'closed_cleanly')


def run_watch(prog, tcplab, flag, builds, work):
    token = lib.new_token()
    timeout = prog.get('watch_timeout', WATCH_TIMEOUT_S)
    server_pairing = prog['role'] == 'server'
    if server_pairing:
        port = lib.free_port()
        srv = lib.start(lib.command(prog, builds, host=lib.HOST, port=port), token, 'program',
                        os.path.join(work, 'wserver.out'))
        if not lib.wait_listening(port, time.monotonic() + 10, srv):
            lib.stop_group(srv)
            lib.kill_marked(token)
            return {'error': 'the server never listened'}
        peer = srv
        prog_cmd = [PY, lib.CLASSIC, 'client', lib.HOST, str(prog['watch']['bytes']),
                    '-p', str(port)]
    else:
        peer = lib.start([PY, os.path.join(lib.PEERS, 'echo_server.py'), lib.HOST, '0'], token,
                         'peer', os.path.join(work, 'peer.out'))
        port = None
        until = time.monotonic() + 10
        while port is None and time.monotonic() < until:
            with open(peer.out_path) as f:
                first = f.readline()
            if first.startswith('Listening at') and first.endswith('\n'):
                port = int(first.rsplit(',', 1)[1].strip(' )\n'))
            else:
                time.sleep(0.05)
        if port is None:
            lib.stop_group(peer)
            lib.kill_marked(token)
            return {'error': 'the echo peer never announced its port'}
        prog_cmd = lib.command(prog, builds, host=lib.HOST, port=port, bytes=prog['bytes'])
    out, err = os.path.join(work, 'watch.out'), os.path.join(work, 'watch.err')
    w = lib.start([tcplab, 'watch', '--port', str(port), '--until-verdict'] + flag
                  + ['--timeout', '%ds' % timeout], token, 'tcplab', out, err_path=err)
    ready = wait_sockdiag(w.pid, time.monotonic() + 5)
    t0 = time.monotonic()
    p = lib.start(prog_cmd, token, 'program' if not server_pairing else 'peer',
                  os.path.join(work, 'program.out'))
    try:
        w.wait(timeout=timeout + 15)
        runner_timeout = False
    except subprocess.TimeoutExpired:
        lib.stop_group(w)
        runner_timeout = True
    took = time.monotonic() - t0
    for x in (p, peer, w):
        lib.stop_group(x)
    lib.kill_marked(token)
    lines = lib.read_json_lines(out)
    verdicts = [l for l in lines if l.get('verdict')]
    a = {'exit': w.returncode, 'took_s': round(took, 1), 'ready_seen': ready,
         'runner_timeout': runner_timeout, 'lines': len(lines),
         'conns': sorted({l.get('conn') for l in lines if l.get('conn') is not None}),
         'verdict': bool(verdicts),
         'verdict_kind': verdicts[0]['verdict'].get('kind') if verdicts else None,
         'close': close_claim(lines, w.returncode),
         'stderr': next((l for l in lib.tail(err, 20) if l.startswith('tcplab:')), None)}
    # The close lines as watch wrote them, for whoever reads a wrong close in results.json.
    a['close_lines'] = [l for l in lines if l.get('status') == 'closed' and not l.get('event')
                        and not l.get('verdict')][:4]
    if verdicts:
        a['threads'] = [{k: t.get(k) for k in ('side', 'name', 'syscall', 'call', 'state')
                         if k in t} for t in verdicts[0]['verdict'].get('threads', [])]
    return a


def watch_truth(prog):
    if prog['role'] == 'server':
        wt = prog['watch']['truth']
        return {'connects': True, 'deadlock': wt['deadlock'], 'end': 'never'}
    t = prog['truth']
    return {'connects': t['connects'], 'deadlock': t['deadlock'], 'end': t['end']}


def watch_truth_text(prog):
    t = watch_truth(prog)
    if not t['connects']:
        return 'no connection'
    if t['deadlock']:
        calls = (prog['watch']['truth'] if prog['role'] == 'server' else prog['truth']).get(
            'blocked_in', [])
        return 'deadlock (%s)' % ', '.join(calls)
    return 'no deadlock; ends %s' % t['end'].replace('_', ' ')


def score_watch(prog, a):
    if 'error' in a:
        return False, [a['error']]
    t = watch_truth(prog)
    why = []
    if not t['connects']:
        if a['verdict'] or a['conns']:
            why.append('reported a connection that never existed')
        return not why, why
    if t['deadlock'] and not a['verdict']:
        why.append('no deadlock verdict')
    if not t['deadlock'] and a['verdict']:
        why.append('a deadlock verdict on a connection that is not deadlocked')
    if not a['conns']:
        why.append('never reported the connection')
    elif not a['verdict']:
        end = t['end']
        if end == 'fin_both' and not is_clean(a['close']):
            why.append('closed FIN both ways, watch said %s' % (a['close'] or 'nothing'))
        if end.startswith('reset') and is_clean(a['close']):
            why.append('reset by the %s, watch said it closed cleanly' % end.split('_')[-1])
        if end.startswith('reset') and a['close'] is None:
            why.append('reset, watch never reported the close')
        if end in ('never', 'client_never_closed') and a['close'] is not None:
            why.append('never closed, watch said %s' % a['close'])
    if a['runner_timeout']:
        why.append('watch did not end within --timeout')
    return not why, why


def watch_answer_text(a):
    if 'error' in a:
        return 'error: ' + a['error']
    if a['verdict']:
        return 'deadlock verdict'
    if not a['conns']:
        return 'no connection reported (exit %s)' % a['exit']
    if a['close']:
        return 'closed: %s' % a['close']
    return 'no verdict, still open at --timeout'


# ---------------------------------------------------------------------------------------------
# Tables

def table(rows, kind):
    head = ['| program | truth | tcplab %s, per run | right |' % kind, '|---|---|---|---|']
    body = []
    cases_ok = runs_ok = runs = 0
    for name, truth, answers in rows:
        ok = sum(1 for x in answers if x['right'])
        runs += len(answers)
        runs_ok += ok
        cases_ok += ok == len(answers)
        said = '; '.join(('%s' if x['right'] else '**%s**') % x['said'] for x in answers)
        body.append('| `%s` | %s | %s | %d/%d |' % (name, truth, said.replace('|', '/'), ok,
                                                    len(answers)))
    total = ['', '%s: right in **%d of %d** programs (every run right), %d of %d runs.'
             % (kind, cases_ok, len(rows), runs_ok, runs)]
    return head + body + total, (cases_ok, len(rows), runs_ok, runs)


def wrong_cases(results, truth):
    """Every program tcplab got wrong at least once: what it said, the truth, and the truth's
    evidence from ss and /proc (tests/corpus/truth.json), for the person who fixes tcplab."""
    L = []
    for e in results:
        for kind in ('check', 'watch'):
            bad = [x for x in e[kind] if not x['right']]
            if not bad:
                continue
            t = truth.get(e['name'], {})
            if kind == 'watch' and 'watch' in t:   # a server's pairing with the naive client
                t = dict(t['watch'], summary='with the classic naive client at %d bytes: %s'
                         % (t['watch']['bytes'], 'deadlock, threads in ' + ', '.join(
                             t['watch']['calls']) if t['watch']['deadlock'] else 'no deadlock'))
            L += ['### %s: %s wrong in %d of %d runs' % (e['name'], kind, len(bad), len(e[kind])),
                  '']
            seen = set()
            for x in bad:
                said = x['said'] + (': ' + x['sentence'] if x.get('sentence') else '')
                if said in seen:
                    continue
                seen.add(said)
                L.append('- tcplab said: %s' % said)
                L.append('  - why it is wrong: %s' % '; '.join(x['why']))
                if x.get('threads'):
                    L.append('  - its threads: %s' % ', '.join(
                        '%s %s %s' % (th.get('side', '?'), th.get('name', '?'),
                                      th.get('syscall') or th.get('call') or '?')
                        for th in x['threads']))
                if x.get('stderr'):
                    L.append('  - stderr: %s' % x['stderr'])
            L.append('- the truth: %s' % t.get('summary', e['truth']))
            ev = t.get('evidence') or []
            if t.get('still'):
                L.append('- longest stretch both windows zero and nothing moving: %.1f s; then:'
                         % t['still']['seconds'])
                ev = t['still']['evidence']
            for c in t.get('closes', [])[:2]:
                L.append('- destroyed (ss -E) at %s' % c)
            if t.get('survivors'):
                sv = t['survivors']
                L.append('- survived its group being stopped: %s%s' % (
                    ', '.join(sv[:4]), ' … (%d in all)' % len(sv) if len(sv) > 4 else ''))
            if ev:
                L += ['', '```'] + ev[:12] + ['```']
            L.append('')
    return L


def said_check(a):
    s = a['outcome']
    if a.get('detail'):
        s += ' (%s)' % a['detail'].split(':', 1)[1]
    if a['left_running']:
        s += ', left %d running' % len(a['left_running'])
    if a.get('verdict_after_last_byte_ms') is not None:
        s += ' after %d ms' % a['verdict_after_last_byte_ms']
    if a['port_listening_after']:
        s += ', port still listening'
    return s


def tcplab_version(tcplab):
    """`tcplab --version`, and the commit of this checkout (which built it, if it is ours)."""
    r = subprocess.run([tcplab, '--version'], capture_output=True, text=True, timeout=30)
    v = (r.stdout.strip() or 'tcplab (version unknown)')
    g = subprocess.run(['git', '-C', lib.ROOT, 'rev-parse', '--short', 'HEAD'],
                       capture_output=True, text=True, timeout=30)
    if g.returncode == 0:
        v += ' (checkout at %s)' % g.stdout.strip()
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--tcplab', required=True, help='the tcplab binary to score')
    ap.add_argument('--only', help='only these programs (comma-separated; prefix*)')
    ap.add_argument('--repeat', type=int, help='runs per program (default: 5 for the '
                    'timing-sensitive ones, 1 for the rest)')
    ap.add_argument('--quick', action='store_true',
                    help='one run each, and skip the slow programs')
    ap.add_argument('--no-watch', action='store_true', help='only tcplab check')
    ap.add_argument('--out', default=os.path.join(lib.ROOT, 'out', 'corpus'),
                    help='where results.json and tables.md go (default: out/corpus)')
    a = ap.parse_args()
    tcplab = os.path.abspath(a.tcplab)
    if not os.access(tcplab, os.X_OK):
        raise SystemExit("corpus.py: '%s' is not an executable; build it with "
                         "'cargo build --release' and pass target/release/tcplab" % a.tcplab)
    programs = lib.select(lib.load_manifest(), a.only)
    if a.quick:
        programs = [p for p in programs if not p.get('slow')]
    os.makedirs(a.out, exist_ok=True)
    flag = json_flag(tcplab)
    version = tcplab_version(tcplab)
    with open('/proc/loadavg') as f:
        load = ' '.join(f.read().split()[:3])
    builds = lib.Builds()
    started = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')
    t0 = time.monotonic()
    results = []
    check_rows, watch_rows = [], []
    try:
        for prog in programs:
            n = 1 if a.quick else a.repeat or (5 if prog.get('timing_sensitive') else 1)
            entry = {'name': prog['name'], 'truth': truth_text(prog), 'check': [], 'watch': []}
            for i in range(n):
                with tempfile.TemporaryDirectory(prefix='corpus-run-') as work:
                    c = run_check(prog, tcplab, flag, builds, work)
                c['right'], c['why'] = score_check(prog, c)
                c['said'] = said_check(c)
                entry['check'].append(c)
                print('%-24s check  %-11s %s  %s' % (
                    prog['name'], c['outcome'], 'right' if c['right'] else 'WRONG: '
                    + '; '.join(c['why']), c.get('sentence', '')[:110]), flush=True)
                if a.no_watch or (prog['role'] == 'server' and 'watch' not in prog):
                    continue
                with tempfile.TemporaryDirectory(prefix='corpus-run-') as work:
                    w = run_watch(prog, tcplab, flag, builds, work)
                w['right'], w['why'] = score_watch(prog, w)
                w['said'] = watch_answer_text(w)
                entry['watch'].append(w)
                print('%-24s watch  %-30s %s' % (
                    prog['name'], w['said'], 'right' if w['right'] else 'WRONG: '
                    + '; '.join(w['why'])), flush=True)
            results.append(entry)
            check_rows.append((prog['name'], entry['truth'], entry['check']))
            if entry['watch']:
                watch_rows.append((prog['name'], watch_truth_text(prog), entry['watch']))
    finally:
        builds.cleanup()
    # Nothing of the corpus may be left: every case killed its own; look once more for any.
    left = lib.runner_leftovers()
    took = time.monotonic() - t0
    ct, check_tot = table(check_rows, 'check')
    wt, watch_tot = table(watch_rows, 'watch')
    cmdline = 'scripts/corpus.py --tcplab %s' % a.tcplab + ''.join(
        ' --%s %s' % (k, v) for k, v in (('only', a.only), ('repeat', a.repeat)) if v) + (
        ' --quick' if a.quick else '') + (' --no-watch' if a.no_watch else '')
    try:
        with open(os.path.join(lib.CORPUS, 'truth.json')) as f:
            truth = json.load(f)['programs']
    except (OSError, ValueError, KeyError):
        truth = {}
    md = ['Command: `%s` (%s UTC, %.0f s), scoring %s. Load average at the start: %s.'
          % (cmdline, started, took, version, load), '',
          '## tcplab check', ''] + ct + ['', '## tcplab watch', ''] + wt + [
          '', 'Left running at the end: %s.' % (', '.join(left) if left else 'nothing')]
    full = md + ['', '## What tcplab got wrong, with the truth\'s evidence', '',
                 'The evidence is from tests/corpus/truth.json (settled without tcplab).', '']
    full += wrong_cases(results, truth)
    print('\n' + '\n'.join(md))
    with open(os.path.join(a.out, 'tables.md'), 'w') as f:
        f.write('\n'.join(full) + '\n')
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump({'command': cmdline, 'date_utc': started, 'took_s': round(took),
                   'tcplab': version, 'load_at_start': load, 'check_totals': check_tot, 'watch_totals': watch_tot,
                   'left_running_at_end': left, 'programs': results}, f, indent=1)
    print('\nwrote %s and %s' % (os.path.join(a.out, 'tables.md'),
                                 os.path.join(a.out, 'results.json')))
    return 1 if left else 0


if __name__ == '__main__':
    lib.mark_runner()
    sys.exit(main())
