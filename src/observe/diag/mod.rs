//! Samples of connections between programs tcplab did not write: the kernel's socket diagnostics
//! (sock_diag, as `ss` reads them) for both ends of a loopback connection, and /proc for the
//! processes and threads behind each socket. The same `Sample` as tcplab's own sockets give, so
//! the same watchdog, narrator, live view and ledger apply.
//!
//! The app counters come from the kernel's own: what a sender's program wrote is what the peer
//! acknowledged plus what still waits in its send queue, and what a receiver's program read is
//! what arrived in order minus what still waits in its receive queue (`app_counts` says exactly
//! how the SYN and a FIN are counted). Where something cannot be read — another user's process,
//! a restricted ptrace policy, a peer on another host — the sample simply lacks it, and
//! `DiagSource::unreadable` says why.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Sampler;
use crate::diag::{Diag, DiagSocket, Filter, TcpState, TimerKind};
use crate::sample::{Counts, KernelQueues, Role, Sample, Side, ThreadView};
use crate::sys::proc::{self as procs, KernelCall, Owners, ThreadState, Unreadable};

/// One end of a connection, as sock_diag names it: its addresses and the kernel's cookie for the
/// socket (a later connection that reuses the addresses has another cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct End {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub cookie: u64,
}

/// A watched connection: its client end and its server end (the one whose local port is the
/// server's), either of which may be out of sight (on another host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey {
    pub server: Option<End>,
    pub client: Option<End>,
}

impl ConnKey {
    /// This connection as a newer look shows it: each end it shows replaces the one known (the
    /// server's end is a request socket during the handshake, a socket of its own with another
    /// cookie after it), and an end it does not show stays as it was.
    pub fn seen_again(self, newer: ConnKey) -> ConnKey {
        ConnKey {
            server: newer.server.or(self.server),
            client: newer.client.or(self.client),
        }
    }

    /// The server's address (`host:port`) and the client's, for people and JSON.
    pub fn addrs(&self) -> (SocketAddr, SocketAddr) {
        match (self.server, self.client) {
            (Some(s), _) => (s.local, s.remote),
            (None, Some(c)) => (c.remote, c.local),
            (None, None) => unreachable!("a connection has at least one end"),
        }
    }
}

/// Pairs the two ends of each loopback connection among `sockets`. `server_port` names the
/// server's side: an end whose local port it is, is a server end. Ends whose peer is not among
/// the sockets (another host, or not matched by the filter) stand alone.
pub fn pair(sockets: &[DiagSocket], server_port: impl Fn(&DiagSocket) -> bool) -> Vec<ConnKey> {
    let live = |s: &&DiagSocket| !matches!(s.state, TcpState::Listen | TcpState::TimeWait);
    let end = |s: &DiagSocket| End {
        local: canonical(s.local),
        remote: canonical(s.remote),
        cookie: s.cookie,
    };
    let by_addrs: HashMap<(SocketAddr, SocketAddr), End> = sockets
        .iter()
        .filter(live)
        .map(|s| {
            let e = end(s);
            ((e.local, e.remote), e)
        })
        .collect();
    let mut keys = Vec::new();
    let mut used = HashSet::new();
    for s in sockets.iter().filter(live) {
        let me = end(s);
        if !used.insert((me.local, me.remote)) {
            continue;
        }
        let peer = by_addrs.get(&(me.remote, me.local)).copied();
        if let Some(p) = peer {
            used.insert((p.local, p.remote));
        }
        let (server, client) = if server_port(s) {
            (Some(me), peer)
        } else {
            (peer, Some(me))
        };
        keys.push(ConnKey { server, client });
    }
    keys.sort();
    keys
}

/// An IPv4 address seen through a dual-stack socket (`::ffff:a.b.c.d`) is the IPv4 address.
pub(crate) fn canonical(a: SocketAddr) -> SocketAddr {
    SocketAddr::new(a.ip().to_canonical(), a.port())
}

/// What each end's program wrote and read, from the kernel's counters alone.
///
/// - The client's program wrote `bytes_acked − 1 + send_q`: its `bytes_acked` counts the SYN
///   (the client opened the connection); the server's does not.
/// - After a program's `shutdown(SHUT_WR)` its FIN takes one byte of sequence space: one more in
///   `send_q` until acknowledged, then in `bytes_acked`; it is taken off again.
/// - A program read `bytes_received − recv_q`; once the peer's FIN arrived, `bytes_received`
///   counts it and `recv_q` does while data before it is unread: `bytes_received −
///   max(recv_q, 1)`.
///
/// On Linux 6.18 this matched, byte for byte, what a Python client's `sendall` and a server's
/// `recv` had returned (docs/notes-sock-diag.md).
pub fn app_counts(client: Option<&DiagSocket>, server: Option<&DiagSocket>) -> Counts {
    let fin = |s: Option<&DiagSocket>| s.is_some_and(|s| sent_fin(s.state));
    let got = |s: Option<&DiagSocket>| s.is_some_and(|s| got_fin(s.state));
    counts(
        client,
        server,
        [fin(client), fin(server)],
        [got(client), got(server)],
    )
}

/// What each end's program wrote and read, from the kernel's final reports of the two ends
/// (made as it destroyed them, in state CLOSE, which no longer says whether a FIN went either
/// way): `fin_sent` says, for the client and the server, whether that end sent a FIN that the
/// other received, as the close was judged.
pub fn final_counts(client: &DiagSocket, server: &DiagSocket, fin_sent: [bool; 2]) -> Counts {
    let [c, s] = fin_sent;
    counts(Some(client), Some(server), fin_sent, [s, c])
}

/// The counts, given for the client and the server whether each sent its FIN (`sent`) and got
/// the other's (`got`).
fn counts(
    client: Option<&DiagSocket>,
    server: Option<&DiagSocket>,
    sent: [bool; 2],
    got: [bool; 2],
) -> Counts {
    let wrote = |s: &DiagSocket, syn: u64, fin: bool| {
        let Some(t) = &s.tcp_info else { return 0 };
        (t.bytes_acked + u64::from(s.send_q)).saturating_sub(syn + u64::from(fin))
    };
    let read = |s: &DiagSocket, fin: bool| {
        let Some(t) = &s.tcp_info else { return 0 };
        let unread = if fin {
            u64::from(s.recv_q).max(1)
        } else {
            u64::from(s.recv_q)
        };
        t.bytes_received.saturating_sub(unread)
    };
    Counts {
        client_sent_bytes: client.map_or(0, |c| wrote(c, 1, sent[0])),
        server_received_bytes: server.map_or(0, |s| read(s, got[1])),
        server_sent_bytes: server.map_or(0, |s| wrote(s, 0, sent[1])),
        client_received_bytes: client.map_or(0, |c| read(c, got[0])),
    }
}

/// Whether this end has sent its FIN (its program shut down writing or closed).
pub fn sent_fin(s: TcpState) -> bool {
    matches!(
        s,
        TcpState::FinWait1
            | TcpState::FinWait2
            | TcpState::Closing
            | TcpState::LastAck
            | TcpState::TimeWait
    )
}

/// Whether the peer's FIN has arrived at this end.
fn got_fin(s: TcpState) -> bool {
    matches!(
        s,
        TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait
    )
}

/// One socket's queues, windows and capacities, as the observation model keeps them.
pub fn queues(s: &DiagSocket) -> KernelQueues {
    let t = s.tcp_info.as_ref();
    KernelQueues {
        inq_bytes: u64::from(s.recv_q),
        outq_bytes: u64::from(s.send_q),
        notsent_bytes: t.map_or(0, |t| u64::from(t.notsent_bytes)),
        sndbuf_bytes: s.skmem.map_or(0, |m| u64::from(m.sndbuf)),
        rcvbuf_bytes: s.skmem.map_or(0, |m| u64::from(m.rcvbuf)),
        tcp_info: t.map(|t| t.view()),
        probing: Some(s.timer.kind == TimerKind::ZeroWindowProbe),
    }
}

/// Which processes hold each socket: inode → (pid, fd) of each holder.
type HolderMap = HashMap<u64, Vec<(u32, i32)>>;

/// The kernel's socket diagnostics and /proc, shared by every connection being watched: one
/// netlink socket, one cache of which process holds which socket, and each process's threads read
/// at most once per `threads_every` (a process of hundreds of threads costs milliseconds to read).
pub struct DiagSource {
    diag: Diag,
    owners: Owners,
    /// Who held which socket at the last look, and when that was.
    holders: Option<(Instant, HolderMap)>,
    threads: HashMap<u32, (Instant, Result<Vec<ThreadState>, Unreadable>)>,
    threads_every: Duration,
    unreadable: BTreeMap<u32, String>,
}

impl DiagSource {
    pub fn new() -> io::Result<DiagSource> {
        Ok(DiagSource {
            diag: Diag::new()?,
            owners: Owners::new(),
            holders: None,
            threads: HashMap::new(),
            threads_every: Duration::ZERO,
            unreadable: BTreeMap::new(),
        })
    }

    /// Reads a process's threads at most this often (zero: at every sample).
    pub fn threads_every(mut self, d: Duration) -> DiagSource {
        self.threads_every = d;
        self
    }

    pub fn set_threads_every(&mut self, d: Duration) {
        self.threads_every = d;
    }

    /// Every TCP socket `filter` matches.
    pub fn dump(&mut self, filter: &Filter) -> io::Result<Vec<DiagSocket>> {
        self.diag.dump(filter)
    }

    /// What could not be read about which process (pid → why), so far.
    pub fn unreadable(&self) -> &BTreeMap<u32, String> {
        &self.unreadable
    }

    /// One end as sock_diag shows it now (`None`: gone or out of sight). The cookie makes sure
    /// it is the same socket: without it, the kernel answers a lookup of a closed connection's
    /// server end with the listening socket.
    fn end(&mut self, e: Option<End>) -> Option<DiagSocket> {
        e.and_then(|e| {
            self.diag
                .lookup(e.local, e.remote, Some(e.cookie))
                .ok()
                .flatten()
        })
        .filter(|s| s.state != TcpState::Listen)
    }

    /// Reads a process's threads unless the cache holds them fresh enough: read within
    /// `threads_every`, and (`since`) no earlier than that.
    fn refresh_threads(&mut self, pid: u32, since: Option<Instant>) {
        let fresh = self.threads.get(&pid).is_some_and(|(t, _)| {
            t.elapsed() < self.threads_every && since.is_none_or(|s| *t >= s)
        });
        if !fresh {
            self.threads
                .insert(pid, (Instant::now(), procs::threads(pid as i32)));
        }
    }

    /// The threads of the processes holding `sock`, each with the call the kernel shows it in
    /// and whether that call is on this very socket. A process that holds many of the watched
    /// sockets (a class's server, a load test) lends a socket only the threads whose call is on
    /// it: a thread that runs or waits on no file belongs to none of them in particular.
    fn threads_of(
        &mut self,
        sock: &DiagSocket,
        side: Side,
        holders: &HolderMap,
        held: &HashMap<u32, usize>,
        since: Option<Instant>,
    ) -> Vec<ThreadView> {
        let Some(h) = holders.get(&sock.inode) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for &(pid, fd) in h {
            let shared = held.get(&pid).is_some_and(|n| *n > FEW_SOCKETS);
            self.refresh_threads(pid, since);
            let list = match &self.threads[&pid].1 {
                Ok(l) => l,
                Err(why) => {
                    self.unreadable.insert(pid, unreadable_text(why));
                    continue;
                }
            };
            for t in list {
                if shared && t.call.fd() != Some(fd) {
                    continue;
                }
                if let Some(v) = thread_view(t, pid, fd, side, &mut self.unreadable) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// Starts a round of looking at `keys`: every end looked up now, and the processes behind
    /// all of them found in one pass over /proc. Each connection is then sampled through
    /// `Round::sampler`, the one `Sampler` of connections between other programs.
    pub fn round(&mut self, keys: &[ConnKey]) -> Round<'_> {
        let ends: HashMap<ConnKey, [Option<DiagSocket>; 2]> = keys
            .iter()
            .map(|k| (*k, [self.end(k.client), self.end(k.server)]))
            .collect();
        let inodes: HashSet<u64> = ends
            .values()
            .flatten()
            .flatten()
            .map(|s| s.inode)
            .filter(|i| *i != 0)
            .collect();
        // The holders are checked again (one readlink each) at the threads' pace, or at once when a
        // socket appears that the last look did not cover.
        let stale = match &self.holders {
            Some((t, h)) => {
                t.elapsed() >= self.threads_every || inodes.iter().any(|i| !h.contains_key(i))
            }
            None => true,
        };
        if stale {
            let fresh = self
                .owners
                .lookup(&inodes)
                .iter()
                .map(|(i, o)| (*i, o.iter().map(|o| (o.pid as u32, o.fd)).collect()))
                .collect();
            self.holders = Some((Instant::now(), fresh));
        }
        let holders = self
            .holders
            .as_ref()
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        let mut held: HashMap<u32, usize> = HashMap::new();
        for owners in holders.values() {
            for (pid, _) in owners {
                *held.entry(*pid).or_default() += 1;
            }
        }
        Round {
            source: self,
            ends,
            holders,
            held,
            started: Instant::now(),
        }
    }

    /// The `Sampler` of one connection, each sample a round of its own.
    pub fn sampler(&mut self, key: ConnKey) -> DiagSampler<'_, 'static> {
        DiagSampler {
            round: Roundish::Own(self),
            key,
            ends: [None, None],
            keep_own: None,
            fresh: false,
        }
    }
}

/// One look at several connections (see `DiagSource::round`).
pub struct Round<'a> {
    source: &'a mut DiagSource,
    ends: HashMap<ConnKey, [Option<DiagSocket>; 2]>,
    holders: HolderMap,
    held: HashMap<u32, usize>,
    /// When the round began: a fresh read of threads is one made since.
    started: Instant,
}

impl<'a> Round<'a> {
    /// The `Sampler` of `key` in this round.
    pub fn sampler(&mut self, key: ConnKey) -> DiagSampler<'_, 'a> {
        DiagSampler {
            round: Roundish::Shared(self),
            key,
            ends: [None, None],
            keep_own: None,
            fresh: false,
        }
    }

    /// `fresh`: the threads are read in this round, whatever the source's `threads_every`.
    fn sample(
        &mut self,
        key: &ConnKey,
        at: Duration,
        fresh: bool,
    ) -> (Sample, [Option<DiagSocket>; 2]) {
        let [client, server] = self.ends.get(key).cloned().unwrap_or_default();
        let since = fresh.then_some(self.started);
        let Round {
            source,
            holders,
            held,
            ..
        } = self;
        let mut threads = Vec::new();
        for (end, side) in [(&client, Side::Client), (&server, Side::Server)] {
            if let Some(e) = end {
                threads.extend(source.threads_of(e, side, holders, held, since));
            }
        }
        // A process holding both ends (a program talking to itself) lists its threads twice:
        // keep each thread on the side whose socket its call is on.
        threads.sort_by_key(|t| (t.tid, t.on_socket != Some(true)));
        threads.dedup_by_key(|t| t.tid);
        let sample = Sample {
            at,
            counts: app_counts(client.as_ref(), server.as_ref()),
            client: client.as_ref().map(queues),
            server: server.as_ref().map(queues),
            threads,
        };
        (sample, [client, server])
    }
}

/// A round shared by several samplers, or a source that makes one for each sample.
enum Roundish<'r, 'a> {
    Shared(&'r mut Round<'a>),
    Own(&'r mut DiagSource),
}

/// The Sampler of one connection between programs tcplab did not write.
pub struct DiagSampler<'r, 'a> {
    round: Roundish<'r, 'a>,
    key: ConnKey,
    ends: [Option<DiagSocket>; 2],
    /// Of this process's own threads, only this one belongs to the connection (`check`'s echo
    /// thread); the others (sampling, reading the program's output) are left out.
    keep_own: Option<u32>,
    /// Read the threads now, not from the source's cache.
    fresh: bool,
}

impl DiagSampler<'_, '_> {
    /// Leaves out every thread of this process but `tid`.
    pub fn keep_own_thread(mut self, tid: u32) -> Self {
        self.keep_own = Some(tid);
        self
    }

    /// Reads the threads at this sample, not from the source's cache: a connection that stands
    /// still is judged on its sockets and its threads as they are now, since a thread read a
    /// second ago may have been in recv() then and asleep now.
    pub fn fresh_threads(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }

    /// The two ends (client, server) as sock_diag showed them at the last sample.
    pub fn ends(&self) -> &[Option<DiagSocket>; 2] {
        &self.ends
    }
}

impl Sampler for DiagSampler<'_, '_> {
    fn sample(&mut self, at: Duration) -> Sample {
        let (mut s, ends) = match &mut self.round {
            Roundish::Shared(r) => r.sample(&self.key, at, self.fresh),
            Roundish::Own(source) => source.round(&[self.key]).sample(&self.key, at, self.fresh),
        };
        if let Some(tid) = self.keep_own {
            let me = std::process::id();
            s.threads
                .retain(|t| t.pid != Some(me) || t.tid == Some(tid));
        }
        self.ends = ends;
        s
    }
}

fn unreadable_text(why: &Unreadable) -> String {
    match why {
        Unreadable::PermissionDenied => {
            "permission denied (another user's process, or a ptrace policy)".into()
        }
        Unreadable::Gone => "the process ended".into(),
        Unreadable::Other(s) => s.clone(),
    }
}

fn thread_view(
    t: &ThreadState,
    pid: u32,
    fd: i32,
    side: Side,
    unreadable: &mut BTreeMap<u32, String>,
) -> Option<ThreadView> {
    if let KernelCall::Unreadable(why) = &t.call {
        // A thread whose call cannot be read says nothing the rules can use.
        unreadable.insert(pid, unreadable_text(why));
        return None;
    }
    let name = t.comm.clone().unwrap_or_else(|| format!("pid {pid}"));
    let mut v = ThreadView {
        pid: Some(pid),
        ..ThreadView::new(Cow::Owned(name), side, Role::Unknown)
    };
    super::kernel_fields(&mut v, t, Some(fd));
    Some(v)
}

/// A process holding more of the watched sockets than this lends each socket only the threads
/// whose call is on it.
const FEW_SOCKETS: usize = 2;

#[cfg(test)]
mod tests;
