"""The observer of one case, and the deadlock rule the corpus's truth is settled by.

Several times a second it reads `ss -tmioen` for the port and /proc/PID/task/* for every process
of the case (the program and its plain peer, found by their CORPUS_CASE/CORPUS_ROLE marks). A
connection is deadlocked when, for at least HOLD seconds:
  - both ends have unsent data (ss `notsent`), and both windows are zero at the deciding sample
    (`snd_wnd` 0, or the persist timer of zero-window probing armed);
  - no byte moves: both ends' bytes_acked and bytes_received stay the same, and neither receive
    queue shrinks;
  - no thread of either process is runnable (state R), stopped (T), or in a timed sleep
    (nanosleep, clock_nanosleep) at any sample of that time: such a thread may still read.
Which call each thread waits in explains the verdict; it is not a condition of it.
"""

import time

import corpuslib as lib

HOLD = 3.0      # seconds everything must stand still
STEP = 0.2      # seconds between samples
GONE_STATES = ('TIME-WAIT', 'CLOSE', 'UNCONN')


def zero_window(end):
    """The peer advertises no room: snd_wnd 0, or the zero-window probe (persist) timer armed."""
    return end.get('snd_wnd') == 0 or end['timer'] == 'persist'


class Observer:
    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.t0 = time.monotonic()
        self.samples = []        # (t, {client_port: (client_end, server_end)}, threads)
        self.deadlock = None     # the first deadlock confirmed: a dict of evidence
        self.first_seen = {}     # client port → t of the first sample with both ends
        self.last_seen = {}      # client port → t of the last sample with an open end
        self.last_threads = {}   # role → the threads at the last sample with the connection open
        self.max_client_sent = 0
        self.still = None        # the longest stretch the kernel alone would call stuck
        self._still_from = {}    # client port → (t, counters) where the current stretch began

    def now(self):
        return time.monotonic() - self.t0

    def sample(self):
        t = self.now()
        socks = [s for s in lib.ss_sockets(self.port) if s['state'] != 'LISTEN']
        conns = {}
        for s in socks:
            if s['pport'] == self.port:          # the client's end
                conns.setdefault(s['lport'], [None, None])[0] = s
            elif s['lport'] == self.port:        # the server's end
                conns.setdefault(s['pport'], [None, None])[1] = s
        inodes = {s['ino'] for s in socks if s.get('ino')}
        threads = {}
        for role in ('program', 'peer'):
            threads[role] = [th for pid in lib.marked(self.token, role)
                             for th in lib.threads(pid, inodes)]
        open_now = False
        for cport, (c, s) in conns.items():
            if any(e and e['state'] not in GONE_STATES for e in (c, s)):
                self.last_seen[cport] = t
                open_now = True
            if c and s:
                self.first_seen.setdefault(cport, t)
                self.max_client_sent = max(self.max_client_sent,
                                           max(c['bytes_acked'] - 1, 0) + c['sendq'])
        if open_now:
            self.last_threads = threads
        self.samples.append((t, conns, threads))
        self._track_still(t, conns, threads)
        if self.deadlock is None:
            self._check_deadlock(t)

    def _track_still(self, t, conns, threads):
        """The longest time both windows were zero with unsent data both ways and no counter
        moving: what a correct program with a sleeping reader looks like from the kernel."""
        for cport, (c, s) in conns.items():
            stuck = (c and s and c['notsent'] > 0 and s['notsent'] > 0 and zero_window(c)
                     and zero_window(s))
            key = (c['bytes_acked'], c['bytes_received'], s['bytes_acked'],
                   s['bytes_received']) if stuck else None
            began = self._still_from.get(cport)
            if not stuck:
                self._still_from.pop(cport, None)
                continue
            if began is None or began[1] != key:
                self._still_from[cport] = (t, key)
                continue
            length = t - began[0]
            if self.still is None or length > self.still['seconds']:
                self.still = {
                    'seconds': round(length, 1), 'from_s': round(began[0], 1),
                    'evidence': ['client end: ' + lib.compact(c), 'server end: ' + lib.compact(s)]
                    + ['program ' + lib.thread_line(th) for th in threads['program']]
                    + ['peer ' + lib.thread_line(th) for th in threads['peer']]}

    def _check_deadlock(self, t):
        window = [x for x in self.samples if x[0] >= t - HOLD]
        for cport, first in self.first_seen.items():
            if first > t - HOLD:
                continue
            seq = [(x[0], x[1].get(cport), x[2]) for x in window]
            if any(e is None or e[0] is None or e[1] is None for _, e, _ in seq):
                continue
            c0, s0 = seq[0][1]
            c1, s1 = seq[-1][1]
            if not (c1['notsent'] > 0 and s1['notsent'] > 0):
                continue
            if not (zero_window(c1) and zero_window(s1)):
                continue
            moved = False
            for _, (c, s), _ in seq:
                if (c['bytes_acked'], c['bytes_received'], s['bytes_acked'], s['bytes_received']) \
                        != (c0['bytes_acked'], c0['bytes_received'], s0['bytes_acked'],
                            s0['bytes_received']):
                    moved = True
                if c['recvq'] < c0['recvq'] or s['recvq'] < s0['recvq']:
                    moved = True
            if moved:
                continue
            awake = [th for _, _, ths in seq for role in ths for th in ths[role]
                     if th['state'] in ('R', 'T', 't') or th.get('call') in lib.SLEEPS]
            if awake:
                continue
            # The last change of any counter, looking back from the window's start.
            last_move = seq[0][0]
            for x in reversed([x for x in self.samples if x[0] < seq[0][0]]):
                e = x[1].get(cport)
                if not e or not e[0] or not e[1]:
                    break
                if (e[0]['bytes_acked'], e[1]['bytes_acked']) != (c0['bytes_acked'],
                                                                  s0['bytes_acked']):
                    break
                last_move = x[0]
            ths = seq[-1][2]
            self.deadlock = {
                'confirmed_s': round(t, 2),
                'still_since_s': round(last_move, 2),
                'client_port': cport,
                'client_sent_bytes': max(c1['bytes_acked'] - 1, 0) + c1['sendq'],
                'server_sent_bytes': max(s1['bytes_acked'] - 1, 0) + s1['sendq'],
                'client_read_bytes': c1['bytes_received'] - c1['recvq'],
                'server_read_bytes': s1['bytes_received'] - s1['recvq'],
                'persist_both': c1['timer'] == 'persist' and s1['timer'] == 'persist',
                'snd_wnd_zero_both': c1.get('snd_wnd') == 0 and s1.get('snd_wnd') == 0,
                'program_calls': sorted({th['call'] for th in ths['program']}),
                'peer_calls': sorted({th['call'] for th in ths['peer']}),
                'evidence': ['client end: ' + lib.compact(c1), 'server end: ' + lib.compact(s1)]
                + ['program ' + lib.thread_line(th) for th in ths['program']]
                + ['peer ' + lib.thread_line(th) for th in ths['peer']],
            }
            return

    def conn_gone_at(self):
        """When the last connection was last seen open (seconds), or None if still open/never."""
        if not self.last_seen:
            return None
        last = max(self.last_seen.values())
        if self.samples and self.samples[-1][0] > last:
            return last
        return None

    def saw_connection(self):
        return bool(self.first_seen) or bool(self.last_seen)

    def quiet_evidence(self):
        """The last sample with the connection open, as evidence lines (for cases that hang)."""
        for t, conns, ths in reversed(self.samples):
            lines = []
            for cport, (c, s) in conns.items():
                if c:
                    lines.append('client end: ' + lib.compact(c))
                if s:
                    lines.append('server end: ' + lib.compact(s))
            if lines:
                lines += ['program ' + lib.thread_line(th) for th in ths['program']]
                lines += ['peer ' + lib.thread_line(th) for th in ths['peer']]
                return ['at %.1f s:' % t] + lines
        return []
