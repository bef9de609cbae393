"""Shared by scripts/corpus-truth.py and scripts/corpus.py: the manifest of tests/corpus, building
the C programs, starting processes that can all be found again and stopped, and reading what the
kernel shows about a connection (`ss -tmioen`, /proc/PID/task/*/{stat,syscall,wchan}).

Nothing here knows tcplab. Every process a case starts carries CORPUS_CASE=<token> in its
environment, which its children inherit (setsid() does not drop it), so that whatever survives a
case can be found in /proc/*/environ and stopped by PID.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, 'tests', 'corpus')
MANIFEST = os.path.join(CORPUS, 'manifest.toml')
PEERS = os.path.join(CORPUS, 'peers')
CLASSIC = os.path.join(ROOT, 'tests', 'fixtures', 'tcp_deadlock.py')
HOST = '127.0.0.1'
MARK = 'CORPUS_CASE'


# ---------------------------------------------------------------------------------------------
# The manifest

def load_manifest(path=MANIFEST):
    with open(path, 'rb') as f:
        doc = tomllib.load(f)
    programs = doc['program']
    names = [p['name'] for p in programs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit('manifest: duplicate names: %s' % ', '.join(sorted(dup)))
    for p in programs:
        for key in ('name', 'language', 'role', 'source', 'command', 'truth'):
            if key not in p:
                raise SystemExit('manifest: %s has no %r' % (p.get('name', '?'), key))
        if p['role'] not in ('client', 'server'):
            raise SystemExit('manifest: %s: role must be client or server' % p['name'])
        src = os.path.join(CORPUS, p['source'])
        if not os.path.exists(src):
            raise SystemExit('manifest: %s: no such file %s' % (p['name'], p['source']))
    return programs


def select(programs, only):
    """--only NAME[,NAME…]: the programs named (exactly, or by a prefix ending in '*')."""
    if not only:
        return programs
    wanted = [w.strip() for w in only.split(',') if w.strip()]
    out = [p for p in programs
           if any(p['name'] == w or (w.endswith('*') and p['name'].startswith(w[:-1]))
                  for w in wanted)]
    if not out:
        raise SystemExit('--only %r matches no program; the names are in %s'
                         % (only, os.path.relpath(MANIFEST)))
    return out


class Builds:
    """C sources compiled once per run into a temporary directory (never into the tree)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='corpus-build-')
        self.done = {}

    def exe(self, source):
        if source not in self.done:
            src = os.path.join(CORPUS, source)
            out = os.path.join(self.dir, os.path.splitext(os.path.basename(source))[0])
            r = subprocess.run(['gcc', '-O2', '-pthread', '-o', out, src],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise SystemExit('gcc failed on %s:\n%s' % (source, r.stderr))
            self.done[source] = out
        return self.done[source]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def command(program, builds, **fill):
    """The program's command with {src} and {exe} filled in, and any of host/port/bytes given."""
    src = os.path.join(CORPUS, program['source'])
    subst = {'src': src}
    if program['language'] == 'c':
        subst['exe'] = builds.exe(program['source'])
    subst.update({k: str(v) for k, v in fill.items()})

    def one(arg):
        return re.sub(r'\{(\w+)\}', lambda m: subst.get(m.group(1), m.group(0)), arg)
    return [one(a) for a in program['command']]


def display(cmd, builds=None):
    """A command as the record shows it: paths relative to the checkout, C builds as $BUILD."""
    return sanitize(' '.join(cmd))


def sanitize(text):
    """Text for the committed record: no path of this machine (the checkout, the temporary
    build directory, Python's own install)."""
    text = text.replace(sys.executable, 'python3').replace(ROOT + os.sep, '')
    text = re.sub(re.escape(tempfile.gettempdir()) + r'/corpus-[a-z]+-\w+', '$BUILD', text)
    for prefix in {sys.base_prefix, sys.prefix}:
        text = text.replace(prefix, '$PYTHON')
    return text.replace(os.path.expanduser('~'), '~')


# ---------------------------------------------------------------------------------------------
# Processes

def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def new_token():
    return uuid.uuid4().hex[:12]


def start(cmd, token, role, out_path, cwd=ROOT, stdin=subprocess.DEVNULL, err_path=None):
    """Starts cmd in a session (and process group) of its own, marked with the case's token.
    Its output goes to out_path (stderr too, unless err_path is given)."""
    env = dict(os.environ)
    env[MARK] = token
    env['CORPUS_ROLE'] = role
    out = open(out_path, 'wb')
    err = open(err_path, 'wb') if err_path else subprocess.STDOUT
    p = subprocess.Popen(cmd, cwd=cwd, stdin=stdin, stdout=out, stderr=err,
                         env=env, start_new_session=True)
    out.close()
    if err_path:
        err.close()
    p.out_path = out_path
    p.err_path = err_path
    p.started = time.monotonic()
    return p


def mark_runner():
    """Marks this script as the runner: everything it starts inherits CORPUS_RUNNER=<its pid>."""
    os.environ['CORPUS_RUNNER'] = str(os.getpid())


def runner_leftovers():
    """Every process this runner started (by its mark) that is still alive: killed by PID, and
    described, so that the run can say nothing of the corpus is left (or what was)."""
    needle = ('CORPUS_RUNNER=%d' % os.getpid()).encode()
    found = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % d, 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        if needle in env and proc_state(int(d)) not in (None, 'Z', 'X'):
            found.append(int(d))
    desc = describe(found)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return desc


def marked(token, role=None):
    """PIDs of live processes (not zombies) whose environment carries this case's token."""
    needle = ('%s=%s' % (MARK, token)).encode()
    rneedle = ('CORPUS_ROLE=%s' % role).encode() if role else None
    pids = []
    me = os.getpid()
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open('/proc/%s/environ' % d, 'rb') as f:
                env = f.read().split(b'\0')
            if needle not in env or (rneedle and rneedle not in env):
                continue
            if proc_state(int(d)) in (None, 'Z', 'X'):
                continue
        except OSError:
            continue
        pids.append(int(d))
    return sorted(pids)


def proc_state(pid, tid=None):
    path = '/proc/%d/task/%d/stat' % (pid, tid) if tid else '/proc/%d/stat' % pid
    try:
        with open(path) as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rfind(')') + 2:].split()[0]


def comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return '?'


def describe(pids):
    return ['%d %s (%s)' % (p, comm(p), proc_state(p) or 'gone') for p in pids]


def stop_group(p, grace=2.0):
    """SIGTERM to the process group of p, up to `grace` s, then SIGKILL; p is reaped.
    Returns 'exited' if it had already exited, else the signal that ended it."""
    if p.poll() is not None:
        _kill_group(p.pid, signal.SIGKILL)   # a child it left in its group
        return 'exited'
    _kill_group(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout=grace)
        how = 'SIGTERM'
    except subprocess.TimeoutExpired:
        _kill_group(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        how = 'SIGKILL'
    _kill_group(p.pid, signal.SIGKILL)
    return how


def _kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_marked(token, deadline=10.0):
    """SIGKILL every process of the case still alive, by PID, until none is left (bounded)."""
    until = time.monotonic() + deadline
    while True:
        pids = marked(token)
        if not pids:
            return []
        if time.monotonic() > until:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)   # bounded: the kernel needs a moment to tear them down


def wait_listening(port, deadline, proc=None):
    """Polls `ss` until something listens on the port (True), the process exits, or the deadline."""
    while time.monotonic() < deadline:
        if listening(port):
            return True
        if proc is not None and proc.poll() is not None:
            return listening(port)
        time.sleep(0.05)
    return False


def listening(port):
    r = subprocess.run(['ss', '-Htln', 'sport = :%d' % port], capture_output=True, text=True,
                       timeout=10)
    return bool(r.stdout.strip())


def read_json_lines(path):
    out = []
    try:
        with open(path, errors='replace') as f:
            for line in f:
                line = line.strip()
                if line.startswith('{'):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def tail(path, n=6):
    try:
        with open(path, errors='replace') as f:
            lines = [sanitize(l.rstrip()) for l in f if l.strip()]
    except OSError:
        return []
    return lines[-n:]


def exit_status(code):
    """0, 1, … or 'signal 6' (subprocess gives -6), or 'running' (None)."""
    if code is None:
        return 'running'
    return code if code >= 0 else 'signal %d' % -code


# ---------------------------------------------------------------------------------------------
# The kernel's view: sockets (ss) and threads (/proc)

def _syscall_table():
    names = {0: 'read', 1: 'write', 7: 'poll', 19: 'readv', 20: 'writev', 23: 'select',
             34: 'pause', 35: 'nanosleep', 40: 'sendfile', 42: 'connect', 43: 'accept',
             44: 'sendto', 45: 'recvfrom', 46: 'sendmsg', 47: 'recvmsg', 61: 'wait4',
             202: 'futex', 230: 'clock_nanosleep', 232: 'epoll_wait', 270: 'pselect6',
             271: 'ppoll', 275: 'splice', 281: 'epoll_pwait', 288: 'accept4', 441: 'epoll_pwait2'}
    try:
        with open('/usr/include/x86_64-linux-gnu/asm/unistd_64.h') as f:
            for m in re.finditer(r'#define __NR_(\w+) (\d+)', f.read()):
                names[int(m.group(2))] = m.group(1)
    except OSError:
        pass
    return names


SYSCALLS = _syscall_table()
SLEEPS = {'nanosleep', 'clock_nanosleep'}
# Calls that take a timeout, and where it is: ('ms', i) an int of milliseconds in argument i
# (-1: none); ('ptr', i) a pointer to a timespec/timeval in argument i (0: none).
TIMEOUTS = {'poll': ('ms', 2), 'epoll_wait': ('ms', 3), 'epoll_pwait': ('ms', 3),
            'select': ('ptr', 4), 'pselect6': ('ptr', 4), 'ppoll': ('ptr', 2),
            'epoll_pwait2': ('ptr', 3), 'futex': ('ptr', 3)}
FD_FIRST = {'read', 'write', 'readv', 'writev', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg',
            'accept', 'accept4', 'connect'}


def _signed(v, bits):
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def socket_inodes(pid):
    """fd → socket inode for one process."""
    out = {}
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except OSError:
                continue
            m = re.match(r'socket:\[(\d+)\]', link)
            if m:
                out[int(fd)] = int(m.group(1))
    except OSError:
        pass
    return out


def _pollfds(pid, addr, nfds):
    """The pollfd array a thread passed to poll(): [(fd, events)] (read from /proc/PID/mem)."""
    if nfds <= 0 or nfds > 64:
        return None
    try:
        with open('/proc/%d/mem' % pid, 'rb') as f:
            f.seek(addr)
            raw = f.read(8 * nfds)
    except (OSError, ValueError, OverflowError):
        return None
    out = []
    for i in range(nfds):
        fd = int.from_bytes(raw[8 * i:8 * i + 4], 'little', signed=True)
        ev = int.from_bytes(raw[8 * i + 4:8 * i + 6], 'little')
        out.append((fd, ev))
    return out


def _epoll_set(pid, epfd):
    """What an epoll instance waits for: [(fd, events)] from /proc/PID/fdinfo/EPFD."""
    out = []
    try:
        with open('/proc/%d/fdinfo/%d' % (pid, epfd)) as f:
            for line in f:
                m = re.match(r'tfd:\s*(\d+)\s+events:\s*([0-9a-f]+)', line)
                if m:
                    out.append((int(m.group(1)), int(m.group(2), 16)))
    except OSError:
        return None
    return out


def _events(ev):
    names = []
    if ev & 0x1:
        names.append('IN')
    if ev & 0x4:
        names.append('OUT')
    return '|'.join(names) or hex(ev)


def threads(pid, conn_inodes=()):
    """Every thread of a process: its state letter, the call it is in, whether that call has a
    timeout, and which socket of the connection (if any) it waits on."""
    out = []
    inodes = socket_inodes(pid)
    try:
        tids = sorted(int(t) for t in os.listdir('/proc/%d/task' % pid))
    except OSError:
        return out
    for tid in tids:
        base = '/proc/%d/task/%d/' % (pid, tid)
        t = {'pid': pid, 'tid': tid, 'state': proc_state(pid, tid)}
        try:
            with open(base + 'comm') as f:
                t['comm'] = f.read().strip()
            with open(base + 'wchan') as f:
                t['wchan'] = f.read().strip()
            with open(base + 'syscall') as f:
                raw = f.read().split()
        except OSError:
            continue
        if t['state'] is None:
            continue
        if not raw or raw[0] == 'running':
            t['call'] = 'running'
        elif raw[0] == '-1':
            t['call'] = 'none'   # in the kernel but not in a system call (e.g. stopped at a fault)
        else:
            nr = int(raw[0])
            args = [int(a, 16) for a in raw[1:7]]
            call = SYSCALLS.get(nr, 'syscall %d' % nr)
            t['call'] = call
            how = TIMEOUTS.get(call)
            if call in SLEEPS:
                t['timed'] = True
            elif how and how[0] == 'ms':
                ms = _signed(args[how[1]] & 0xffffffff, 32)
                t['timed'] = ms >= 0
                if ms >= 0:
                    t['timeout_ms'] = ms
            elif how:
                t['timed'] = args[how[1]] != 0
            fds = []
            if call in FD_FIRST or call == 'sendfile':
                fds = [(args[0], None)]
            elif call in ('poll', 'ppoll'):
                fds = _pollfds(pid, args[0], args[1]) or []
            elif call in ('epoll_wait', 'epoll_pwait', 'epoll_pwait2'):
                fds = _epoll_set(pid, args[0]) or []
            on = [(fd, ev) for fd, ev in fds if inodes.get(fd) in conn_inodes]
            if on:
                t['on_conn'] = ', '.join('fd %d' % fd + (' %s' % _events(ev) if ev is not None
                                                        else '') for fd, ev in on)
        out.append(t)
    return out


def thread_line(t):
    s = '%s[%d/%d] %s %s' % (t.get('comm', '?'), t['pid'], t['tid'], t['state'], t['call'])
    if 'timeout_ms' in t:
        s += ' timeout=%dms' % t['timeout_ms']
    elif t.get('timed') and t['call'] not in SLEEPS:
        s += ' timed'
    if t.get('on_conn'):
        s += ' on %s' % t['on_conn']
    s += ' wchan=%s' % (t.get('wchan') or '0')
    return s


_TIMER = re.compile(r'timer:\((\w+),([^,]*),(\d+)\)')
_KV = re.compile(r'(\w+):([\w./%()-]+)')


def ss_sockets(port):
    """The TCP sockets to or from a port, one dict each, with the raw `ss` lines as evidence."""
    r = subprocess.run(['ss', '-tmioenH', 'state', 'all', _filter(port)],
                       capture_output=True, text=True, timeout=10)
    return [parse_ss(b) for b in _blocks(r.stdout.splitlines()) if len(b.split()) >= 5]


def _filter(port):
    return '( sport = :%d or dport = :%d )' % (port, port)


def _blocks(lines):
    """`ss` prints a socket as one line and continues it on lines that start with a tab."""
    blocks = []
    for line in lines:
        if line[:1] in (' ', '\t'):
            if blocks:
                blocks[-1] += ' ' + line.strip()
        elif line.strip():
            blocks.append(line.strip())
    return blocks


def parse_ss(b):
    f = b.split()
    s = {'state': f[0], 'recvq': int(f[1]), 'sendq': int(f[2]), 'local': f[3],
         'peer': f[4], 'raw': re.sub(r'\s+', ' ', b)}
    m = _TIMER.search(b)
    s['timer'] = m.group(1) if m else None
    m = re.search(r'skmem:\(([^)]*)\)', b)
    if m:
        for kv in m.group(1).split(','):
            k = re.match(r'([a-z]+)(\d+)', kv)
            if k:
                s['sk_' + k.group(1)] = int(k.group(2))
    for k, v in _KV.findall(b):
        if k in ('ino', 'bytes_acked', 'bytes_received', 'bytes_sent', 'notsent',
                 'snd_wnd', 'rcv_wnd', 'backoff', 'lastsnd', 'lastrcv', 'lastack'):
            try:
                s[k] = int(v)
            except ValueError:
                pass
    s.setdefault('notsent', 0)
    s.setdefault('bytes_acked', 0)
    s.setdefault('bytes_received', 0)
    # iproute2 prints snd_wnd only when it is not zero (tcp_stats_print); a connected socket
    # whose tcp_info was printed (it has bytes_acked or rtt) but no snd_wnd has a zero window.
    if 'snd_wnd' not in s and 'rtt:' in b and s['state'] not in ('LISTEN', 'SYN-SENT'):
        s['snd_wnd'] = 0
    s['lport'] = _port(s['local'])
    s['pport'] = _port(s['peer'])
    return s


class EndWatcher:
    """`ss -E`: the kernel's sock_diag destroy notifications for the port's sockets, each with
    its final Recv-Q, Send-Q and tcp_info, stamped with the time it was read (seconds from t0).
    A socket closed with unread data still shows them in Recv-Q (rcv_nxt - copied_seq): that
    close sent a reset (tcp(7))."""

    def __init__(self, port, t0):
        self.t0 = t0
        self.events = []
        self.proc = subprocess.Popen(['stdbuf', '-oL', 'ss', '-tmioenHE', _filter(port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.ready = self._wait_subscribed(time.monotonic() + 5)

    def _wait_subscribed(self, deadline):
        """Until `ss` has joined sock_diag's destroy groups (its netlink socket shows them in
        /proc/net/netlink): a program that lives 10 ms must not close before then."""
        while time.monotonic() < deadline and self.proc.poll() is None:
            mine = set(socket_inodes(self.proc.pid).values())
            try:
                with open('/proc/net/netlink') as f:
                    next(f)
                    for line in f:
                        col = line.split()
                        if (len(col) >= 10 and col[1] == '4' and int(col[9]) in mine
                                and int(col[3], 16) != 0):
                            return True
            except OSError:
                pass
            time.sleep(0.01)
        return False

    def _read(self):
        pending = None
        for line in self.proc.stdout:
            if line[:1] in (' ', '\t') and pending:
                pending[1] += ' ' + line.strip()
                continue
            if pending:
                self._add(pending)
            pending = [time.monotonic() - self.t0, line.strip()] if line.strip() else None
        if pending:
            self._add(pending)

    def _add(self, pending):
        t, block = pending
        if len(block.split()) >= 5 and block.split()[1].isdigit():
            s = parse_ss(block)
            s['t'] = round(t, 2)
            self.events.append(s)

    def stop(self):
        _kill_group(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.thread.join(timeout=5)
        return list(self.events)


def _port(addr):
    p = addr.rsplit(':', 1)[-1]
    return int(p) if p.isdigit() else 0


def compact(s):
    """One short evidence line for a socket."""
    parts = ['%s %s→%s' % (s['state'], s['local'], s['peer']),
             'Recv-Q %d' % s['recvq'], 'Send-Q %d' % s['sendq'], 'notsent %d' % s['notsent']]
    if 'sk_rb' in s:
        parts.append('rb %d tb %d' % (s['sk_rb'], s.get('sk_tb', 0)))
    if 'snd_wnd' in s:
        parts.append('snd_wnd %d' % s['snd_wnd'])
    parts.append('timer %s' % (s['timer'] or '-'))
    if 'backoff' in s:
        parts.append('backoff %d' % s['backoff'])
    parts.append('acked %d received %d' % (s['bytes_acked'], s['bytes_received']))
    return ', '.join(parts)


NSTAT_KEYS = ('TcpExtTCPAbortOnClose', 'TcpExtTCPAbortOnData', 'TcpOutRsts', 'TcpEstabResets')


def nstat():
    """System-wide TCP counters (absolute). Other programs on the machine add to them too."""
    r = subprocess.run(['nstat', '-asz'] + list(NSTAT_KEYS), capture_output=True, text=True,
                       timeout=10)
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in NSTAT_KEYS:
            out[f[0]] = int(f[1])
    return out
