//! Watching other programs' connections: finds the TCP connections on a port (or of a process, or
//! with an address), pairs the two ends of each loopback connection, and follows every one of them
//! with the one follow step of tcplab's own runs (`follow::Follower`), fed by the kernel's socket
//! diagnostics (`observe::diag`). `follow` steps ten times a second and hands every update to a
//! `View` (the command's choice, from `report::watch`) until a verdict, until everything closed,
//! on `--timeout`, or on Ctrl-C / SIGTERM.
//!
//! How each connection closed is told by `close`.
//!
//! Only the deadlock rule watches here: a connection nobody writes to is idle, not stuck, so the
//! silence fallback of tcplab's own runs would be wrong for other programs.

pub mod close;

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::diag::{Destroyed, DiagSocket, Filter, TcpState};
use crate::follow::Follower;
use crate::narrate::Narrator;
use crate::observe::diag::{ConnKey, DiagSource, canonical};
use crate::observe::{NoObserver, Sampler};
use crate::result::{Event, EventKind};
use crate::sample::{Counts, Sample};
use crate::watchdog::{Hold, Rule, Verdict, Watchdog};
pub use close::CloseKind;

/// How often the kernel is asked.
pub const STEP: Duration = Duration::from_millis(100);
/// With this many connections or more, a process's threads are read at most once a second.
const MANY: usize = 8;
/// How often connections are looked for (new ones): at every step; a connection that lives and
/// ends between two steps is seen through the kernel's reports of destroyed sockets.
pub const DISCOVER_EVERY: Duration = STEP;
/// Counters still this long make a connection idle.
const IDLE_AFTER: Duration = Duration::from_secs(1);

/// What to watch.
#[derive(Debug, Clone)]
pub struct Target {
    /// Connections to or from this port; the end whose local port it is, is the server.
    pub port: Option<u16>,
    /// Connections of this process.
    pub pid: Option<u32>,
    /// Connections with this address at either end.
    pub host: Option<IpAddr>,
    /// How long counters and queues must stand still before kernel evidence becomes a verdict.
    pub confirm: Duration,
    /// Read each process's threads at most this often (many connections: a class's server has
    /// hundreds of threads).
    pub threads_every: Duration,
}

/// What a connection is doing now.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Deadlocked,
    /// A process at one end is stopped (Ctrl-Z, SIGSTOP): nothing moves, and nothing is stuck.
    Stopped,
    Crawling,
    Flowing,
    Idle,
    Closed,
}

impl Status {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One watched connection.
pub struct Watched {
    /// Number in the order it was found, from 1.
    pub id: u32,
    pub key: ConnKey,
    follower: Follower,
    pub status: Status,
    crawling: bool,
    /// When the connection was first seen.
    pub found: Instant,
    /// Once it closed: whether it closed cleanly (a FIN each way, nothing unread) and without a
    /// deadlock verdict.
    pub closed_cleanly: Option<bool>,
    /// Once it closed: how.
    pub close: Option<CloseKind>,
    /// Once it closed and the kernel reported both ends' destruction: what each program wrote and
    /// read in all.
    pub final_counts: Option<Counts>,
    /// Whether a FIN was seen on its way, either way, while it was followed.
    fin_seen: bool,
    /// Which ends (client, server) were seen having sent their FIN.
    fin_sent: [bool; 2],
    /// When both its ends were first seen gone: it is judged once the kernel reported both
    /// destroyed, or `FINALS_WAIT` later.
    gone_at: Option<Instant>,
    /// Which ends (client, server) were in TIME_WAIT when it was seen gone.
    time_wait: [bool; 2],
}

impl Watched {
    /// The latest sample.
    pub fn last(&self) -> Option<&Sample> {
        self.follower.last()
    }

    /// The verdict, with the sample it was given on.
    pub fn verdict(&self) -> Option<&(Verdict, Sample)> {
        self.follower.verdict()
    }
}

/// Something that happened on a watched connection.
#[derive(Debug, Clone)]
pub enum Update {
    Found { conn: u32 },
    Event { conn: u32, event: Event },
    Verdict { conn: u32 },
    Closed { conn: u32 },
}

impl Watched {
    fn new(id: u32, key: ConnKey, confirm: Duration) -> Watched {
        let watchdog = Watchdog::new(&[Rule::Deadlock { confirm }]);
        Watched {
            id,
            key,
            follower: Follower::new(watchdog, Some(Narrator::new(None))),
            status: Status::Flowing,
            crawling: false,
            found: Instant::now(),
            closed_cleanly: None,
            close: None,
            final_counts: None,
            fin_seen: false,
            fin_sent: [false; 2],
            gone_at: None,
            time_wait: [false; 2],
        }
    }

    /// Marks it closed, judging how from the ends' final reports (client, server) and its
    /// history.
    fn closed(&mut self, finals: [Option<&DiagSocket>; 2]) -> Update {
        let last = self.follower.last();
        // The processes behind each end, from the last look at their threads.
        let pids = |side| -> Vec<u32> {
            last.map(|s| s.threads_of(side).filter_map(|t| t.pid).collect())
                .unwrap_or_default()
        };
        let alive = |side| {
            let p = pids(side);
            p.is_empty()
                || p.iter()
                    .any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
        };
        let kind = close::judge(finals, last, self.fin_seen, self.time_wait, alive);
        if let [Some(c), Some(sv)] = finals {
            let fins = if kind.clean() {
                [true; 2]
            } else {
                self.fin_sent
            };
            self.final_counts = Some(crate::observe::diag::final_counts(c, sv, fins));
        }
        self.closed_cleanly = Some(kind.clean() && self.verdict().is_none());
        self.close = Some(kind);
        self.status = Status::Closed;
        Update::Closed { conn: self.id }
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot read the kernel's socket diagnostics (sock_diag): {0}")]
    Diag(io::Error),
    #[error("process {0} does not exist")]
    NoProcess(u32),
    #[error("process {pid} has no TCP socket")]
    NoSockets { pid: u32 },
    // Issue 19 (faults): a process in another network namespace has sockets this one's
    // sock_diag never lists; said as such, not as "no TCP socket".
    #[error(
        "process {pid} is in another network namespace (net:[{inode}]), whose sockets tcplab cannot see from this one"
    )]
    OtherNetns {
        pid: u32,
        inode: u64,
        /// The name `ip netns` knows it by, if any.
        name: Option<String>,
    },
}

/// Every watched connection and the source they are sampled from.
pub struct Watcher {
    target: Target,
    source: DiagSource,
    conns: Vec<Watched>,
    last_discovery: Option<Instant>,
    /// The kernel's reports of destroyed sockets, or why they are not available.
    destroyed: Result<Destroyed, String>,
    /// Ends reported destroyed, by (local, remote) address, until their connection is judged.
    finals: HashMap<(SocketAddr, SocketAddr), (Instant, DiagSocket)>,
}

/// How long a destroyed end is kept for the connection it belongs to.
const FINALS_KEPT: Duration = Duration::from_secs(5);
/// How long a connection seen gone waits for the kernel's reports of its two ends.
const FINALS_WAIT: Duration = Duration::from_millis(500);

impl Watcher {
    pub fn new(target: Target) -> Result<Watcher, WatchError> {
        if let Some(pid) = target.pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            return Err(WatchError::NoProcess(pid));
        }
        let source = DiagSource::new()
            .map_err(WatchError::Diag)?
            .threads_every(target.threads_every);
        let destroyed = Destroyed::listen().map_err(|e| e.to_string());
        let mut w = Watcher {
            target,
            source,
            conns: Vec::new(),
            last_discovery: None,
            destroyed,
            finals: HashMap::new(),
        };
        if let Some(pid) = w.target.pid {
            // Issue 19 (faults): another namespace first, or its sockets look like none at all.
            use crate::sys::process::{netns_name, netns_of, own_netns};
            if let (Some(theirs), Some(ours)) = (netns_of(pid), own_netns())
                && theirs != ours
            {
                return Err(WatchError::OtherNetns {
                    pid,
                    inode: theirs.inode,
                    name: netns_name(theirs),
                });
            }
            let mine = crate::sys::proc::socket_inodes(pid);
            let tcp = w
                .source
                .dump(&Filter::default())
                .map_err(WatchError::Diag)?;
            if !tcp.iter().any(|s| mine.contains(&s.inode)) {
                return Err(WatchError::NoSockets { pid });
            }
        }
        w.discover().map_err(WatchError::Diag)?;
        Ok(w)
    }

    /// Reads each process's threads at most this often from now on.
    pub fn set_threads_every(&mut self, d: Duration) {
        self.source.set_threads_every(d);
    }

    pub fn conns(&self) -> &[Watched] {
        &self.conns
    }

    /// Why the kernel's reports of destroyed sockets are not available, when they are not: then a
    /// connection that lives and ends between two looks (0.1 s) is not seen at all, and a close
    /// is judged from the last look alone.
    pub fn destroyed_unavailable(&self) -> Option<&str> {
        self.destroyed.as_ref().err().map(String::as_str)
    }

    /// What could not be read about which process (pid → why).
    pub fn unreadable(&self) -> &std::collections::BTreeMap<u32, String> {
        self.source.unreadable()
    }

    /// Looks for connections that appeared; returns the new ones' numbers.
    fn discover(&mut self) -> io::Result<Vec<u32>> {
        self.last_discovery = Some(Instant::now());
        let filter = Filter {
            port: self.target.port,
            host: self.target.host,
            inodes: None,
        };
        let mut sockets = self.source.dump(&filter)?;
        let listening: HashSet<u16> = sockets
            .iter()
            .filter(|s| s.state == TcpState::Listen)
            .map(|s| s.local.port())
            .collect();
        if let Some(pid) = self.target.pid {
            let mine = crate::sys::proc::socket_inodes(pid);
            let ends: HashSet<_> = sockets
                .iter()
                .filter(|s| mine.contains(&s.inode))
                .flat_map(|s| [(s.local, s.remote), (s.remote, s.local)])
                .collect();
            sockets.retain(|s| ends.contains(&(s.local, s.remote)));
        }
        let port = self.target.port;
        let keys = crate::observe::diag::pair(&sockets, |s| match port {
            Some(p) => s.local.port() == p,
            None => listening.contains(&s.local.port()),
        });
        let mut found = Vec::new();
        let addrs = |k: &ConnKey| {
            let (a, b) = k.addrs();
            (canonical(a), canonical(b))
        };
        for key in keys {
            let (a, b) = addrs(&key);
            // Two live connections cannot share their addresses: ends on the addresses of one
            // still open are that connection, seen again (perhaps better: an end first seen as
            // the server's request socket, mid-handshake, is a socket of its own now).
            if let Some(c) = self.conns.iter_mut().find(|c| {
                c.closed_cleanly.is_none()
                    && addrs(&c.key) == (a, b)
                    && (c.gone_at.is_none() || c.key == key)
            }) {
                c.key = c.key.seen_again(key);
                continue;
            }
            // The closing ends of a connection already watched (a program that closed its
            // socket leaves it orphaned, with another inode, in FIN_WAIT or LAST_ACK) are that
            // connection, not a new one: only a fresh handshake on the same addresses is.
            let fresh = sockets.iter().any(|s| {
                matches!(
                    s.state,
                    TcpState::Established | TcpState::SynSent | TcpState::SynRecv
                ) && [a, b].contains(&canonical(s.local))
                    && [a, b].contains(&canonical(s.remote))
            });
            if !fresh && self.conns.iter().any(|c| addrs(&c.key) == (a, b)) {
                continue;
            }
            let id = self.conns.len() as u32 + 1;
            self.conns.push(Watched::new(id, key, self.target.confirm));
            found.push(id);
        }
        Ok(found)
    }

    /// The ends the kernel reported destroyed since the last step; connections that were born
    /// and died between two looks become watched connections of their own, closed already.
    fn take_destroyed(&mut self, out: &mut Vec<Update>) {
        self.drain_destroyed();
        // A process's sockets cannot be told apart once it closed them: no unseen ones for --pid.
        if self.target.pid.is_some() {
            return;
        }
        self.add_unseen(out);
    }

    /// Takes in the kernel's reports of destroyed ends since the last look.
    fn drain_destroyed(&mut self) {
        let filter = Filter {
            port: self.target.port,
            host: self.target.host,
            inodes: None,
        };
        let fresh = match self.destroyed.as_mut().map(|d| d.drain(&filter)) {
            Ok(Ok(fresh)) => fresh,
            Ok(Err(e)) => {
                self.destroyed = Err(format!("its queue of reports overflowed ({e})"));
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        let now = Instant::now();
        self.finals
            .retain(|_, (at, _)| now.duration_since(*at) < FINALS_KEPT);
        for d in fresh {
            self.finals
                .insert((canonical(d.local), canonical(d.remote)), (now, d));
        }
    }

    /// Connections both of whose ends were reported destroyed but that were never seen open.
    fn add_unseen(&mut self, out: &mut Vec<Update>) {
        let unseen: Vec<DiagSocket> = self
            .finals
            .values()
            .map(|(_, d)| d.clone())
            .filter(|d| {
                !self.conns.iter().any(|c| {
                    let (server, client) = c.key.addrs();
                    [server, client].contains(&canonical(d.local))
                        && [server, client].contains(&canonical(d.remote))
                })
            })
            .collect();
        let port = self.target.port;
        for key in
            crate::observe::diag::pair(&unseen, |s| port.is_some_and(|p| s.local.port() == p))
        {
            // Only a pair whose both ends were reported: a lone end is the memory of a
            // connection to elsewhere.
            let (Some(_), Some(_)) = (key.client, key.server) else {
                continue;
            };
            let id = self.conns.len() as u32 + 1;
            let mut c = Watched::new(id, key, self.target.confirm);
            let finals = self.finals_of(&key);
            // Its one update is its close: a `Found` would show it open.
            let closed = c.closed([finals[0].as_ref(), finals[1].as_ref()]);
            self.conns.push(c);
            out.push(closed);
        }
    }

    /// The final reports of a connection's two ends (client, server), where the kernel made them.
    fn finals_of(&self, key: &ConnKey) -> [Option<DiagSocket>; 2] {
        let get = |e: Option<crate::observe::diag::End>| {
            e.and_then(|e| self.finals.get(&(e.local, e.remote)))
                .map(|(_, d)| d.clone())
        };
        [get(key.client), get(key.server)]
    }

    /// Samples every open connection once (and looks for new ones).
    pub fn step(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        self.take_destroyed(&mut out);
        if self
            .last_discovery
            .is_none_or(|t| t.elapsed() >= DISCOVER_EVERY)
            && let Ok(found) = self.discover()
        {
            out.extend(found.into_iter().map(|conn| Update::Found { conn }));
        }
        let open: Vec<usize> = (0..self.conns.len())
            .filter(|&i| self.conns[i].closed_cleanly.is_none() && self.conns[i].gone_at.is_none())
            .collect();
        let keys: Vec<ConnKey> = open.iter().map(|&i| self.conns[i].key).collect();
        let mut round = self.source.round(&keys);
        let mut gone_now = Vec::new();
        for &i in &open {
            let c = &mut self.conns[i];
            // A connection that stood still at its last look may be on its way to a verdict:
            // its threads are read now, not taken from a cache up to `threads_every` old.
            let still = c
                .follower
                .last()
                .is_some_and(|l| c.follower.history().quiet(l) > Duration::ZERO);
            let mut sampler = round.sampler(c.key).fresh_threads(still);
            let s = sampler.sample(c.found.elapsed());
            // A socket in TIME_WAIT or CLOSE is the memory of a connection, not a connection.
            let gone = |e: &Option<DiagSocket>| {
                e.as_ref()
                    .is_none_or(|e| matches!(e.state, TcpState::TimeWait | TcpState::Close))
            };
            let ends = sampler.ends();
            for (seen, end) in c.fin_sent.iter_mut().zip(ends) {
                *seen |= end
                    .as_ref()
                    .is_some_and(|e| crate::observe::diag::sent_fin(e.state));
            }
            if ends.iter().all(gone) {
                c.fin_seen |= ends.iter().flatten().any(|e| e.state == TcpState::TimeWait);
                c.gone_at = Some(Instant::now());
                c.time_wait = [0, 1].map(|i| {
                    ends[i]
                        .as_ref()
                        .is_some_and(|e| e.state == TcpState::TimeWait)
                });
                gone_now.push(i);
                continue;
            }
            c.fin_seen |= close::shows_fin(&s);
            let step = c.follower.step(s, &mut NoObserver);
            for event in step.events {
                match event.kind {
                    EventKind::Crawling { .. } => c.crawling = true,
                    EventKind::FullSpeed { .. } => c.crawling = false,
                    _ => {}
                }
                out.push(Update::Event { conn: c.id, event });
            }
            if step.verdict {
                out.push(Update::Verdict { conn: c.id });
            }
            let last = c.follower.last().expect("just sampled");
            c.status = if c.verdict().is_some() {
                Status::Deadlocked
            } else if matches!(c.follower.history().held, Some(Hold::Stopped { .. })) {
                Status::Stopped
            } else if c.crawling {
                Status::Crawling
            } else if c.follower.history().quiet(last) >= IDLE_AFTER {
                Status::Idle
            } else {
                Status::Flowing
            };
        }
        // The kernel reports a socket as it destroys it: take in what came while these were
        // sampled, so that a close is judged on both ends' final counters, waiting a moment for
        // reports still to come.
        if !gone_now.is_empty() {
            self.drain_destroyed();
        }
        let listening = self.destroyed.is_ok();
        for i in 0..self.conns.len() {
            let Some(at) = self.conns[i]
                .gone_at
                .filter(|_| self.conns[i].closed_cleanly.is_none())
            else {
                continue;
            };
            let finals = self.finals_of(&self.conns[i].key);
            let both = finals.iter().all(Option::is_some);
            if both || !listening || at.elapsed() >= FINALS_WAIT {
                let update = self.conns[i].closed([finals[0].as_ref(), finals[1].as_ref()]);
                out.push(update);
            }
        }
        // A connection found and closed in the same step is told once, by its close: a view
        // words each update from the connection as it is after the step, so its `Found` would
        // read as a second close.
        let closed: Vec<u32> = out
            .iter()
            .filter_map(|u| match u {
                Update::Closed { conn, .. } => Some(*conn),
                _ => None,
            })
            .collect();
        out.retain(|u| !matches!(u, Update::Found { conn } if closed.contains(conn)));
        out
    }
}

/// What the watch shows, as it happens.
pub trait View {
    /// Nothing to watch yet.
    fn waiting(&mut self, target: &Target) -> std::io::Result<()>;
    /// What one step found, with the watcher as it is after it.
    fn updates(&mut self, w: &Watcher, updates: &[Update]) -> std::io::Result<()>;
    /// The watch is over; clear anything drawn.
    fn finish(&mut self);
}

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    /// A deadlock verdict (with `until_verdict`).
    Verdict,
    /// Every watched connection closed (with `until_verdict`); `clean` when each did so cleanly.
    AllClosed {
        clean: bool,
    },
    Interrupted,
    /// The bound passed first.
    TimedOut,
    /// The process `--pid` named has exited (issue 19, faults): nothing more of it to watch.
    ProcessGone {
        pid: u32,
    },
}

/// Steps the watcher every `STEP` until the end, handing every update to each of `views` (the
/// terminal, the page).
pub fn follow(
    w: &mut Watcher,
    until_verdict: bool,
    timeout: Option<Duration>,
    views: &mut [&mut dyn View],
) -> std::io::Result<WatchEnd> {
    let started = Instant::now();
    let mut said_waiting = false;
    let end = loop {
        if w.conns().is_empty() && !said_waiting {
            for v in views.iter_mut() {
                v.waiting(&w.target)?;
            }
            said_waiting = true;
        }
        if w.conns().len() >= MANY {
            w.set_threads_every(Duration::from_secs(1));
        }
        // Issue 19 (faults): a watched process that has exited ends the watch, after one more
        // step that shows how its connections closed.
        let gone = w
            .target
            .pid
            .filter(|&pid| !crate::sys::process::running(pid));
        let updates = w.step();
        for v in views.iter_mut() {
            v.updates(w, &updates)?;
        }
        let verdict = updates.iter().any(|u| matches!(u, Update::Verdict { .. }));
        if until_verdict && verdict {
            break WatchEnd::Verdict;
        }
        let all_closed =
            !w.conns().is_empty() && w.conns().iter().all(|c| c.closed_cleanly.is_some());
        if until_verdict && all_closed {
            let clean = w.conns().iter().all(|c| c.closed_cleanly == Some(true));
            break WatchEnd::AllClosed { clean };
        }
        if let Some(pid) = gone {
            break WatchEnd::ProcessGone { pid };
        }
        if crate::interrupt::requested() {
            break WatchEnd::Interrupted;
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            break WatchEnd::TimedOut;
        }
        std::thread::sleep(STEP); // the watcher's sampling clock, not a synchronisation
    };
    for v in views.iter_mut() {
        v.finish();
    }
    Ok(end)
}
