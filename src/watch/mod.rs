//! Watching other programs' connections: finds the TCP connections on a port (or of a process, or
//! with an address), pairs the two ends of each loopback connection, and follows every one of them
//! with the one follow step of tcplab's own runs (`follow::Follower`), fed by the kernel's socket
//! diagnostics (`observe::diag`). `follow` steps ten times a second and hands every update to a
//! `View` (the command's choice, from `report::watch`) until a verdict, until everything closed,
//! on `--timeout`, or on Ctrl-C / SIGTERM.
//!
//! Only the deadlock rule watches here: a connection nobody writes to is idle, not stuck, so the
//! silence fallback of tcplab's own runs would be wrong for other programs.

use std::collections::HashSet;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::diag::{DiagSocket, Filter, TcpState};
use crate::follow::Follower;
use crate::narrate::Narrator;
use crate::observe::diag::{ConnKey, DiagSource};
use crate::observe::{NoObserver, Sampler};
use crate::result::{Event, EventKind, QueuePeaks};
use crate::sample::Sample;
use crate::watchdog::{Hold, Rule, Verdict, Watchdog};

/// How often the kernel is asked.
pub const STEP: Duration = Duration::from_millis(100);
/// With this many connections or more, a process's threads are read at most once a second.
const MANY: usize = 8;
/// How often connections are looked for (new ones, closed ones).
pub const DISCOVER_EVERY: Duration = Duration::from_secs(1);
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
    /// Once it closed: whether it closed without a deadlock verdict.
    pub closed_cleanly: Option<bool>,
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

    /// The highest each queue reached.
    pub fn peaks(&self) -> QueuePeaks {
        self.follower.peaks()
    }
}

/// Something that happened on a watched connection.
#[derive(Debug, Clone)]
pub enum Update {
    Found { conn: u32 },
    Event { conn: u32, event: Event },
    Verdict { conn: u32 },
    Closed { conn: u32, cleanly: bool },
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
}

/// Every watched connection and the source they are sampled from.
pub struct Watcher {
    target: Target,
    source: DiagSource,
    conns: Vec<Watched>,
    started: Instant,
    last_discovery: Option<Instant>,
}

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
        let mut w = Watcher {
            target,
            source,
            conns: Vec::new(),
            started: Instant::now(),
            last_discovery: None,
        };
        if let Some(pid) = w.target.pid {
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
        for key in keys {
            if self
                .conns
                .iter()
                .any(|c| c.key == key && c.closed_cleanly.is_none())
            {
                continue;
            }
            let id = self.conns.len() as u32 + 1;
            let watchdog = Watchdog::new(&[Rule::Deadlock {
                confirm: self.target.confirm,
            }]);
            self.conns.push(Watched {
                id,
                key,
                follower: Follower::new(watchdog, Some(Narrator::new(None))),
                status: Status::Flowing,
                crawling: false,
                found: Instant::now(),
                closed_cleanly: None,
            });
            found.push(id);
        }
        Ok(found)
    }

    /// Samples every open connection once (and looks for new ones once a second).
    pub fn step(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        if self
            .last_discovery
            .is_none_or(|t| t.elapsed() >= DISCOVER_EVERY)
            && let Ok(found) = self.discover()
        {
            out.extend(found.into_iter().map(|conn| Update::Found { conn }));
        }
        let open: Vec<usize> = (0..self.conns.len())
            .filter(|&i| self.conns[i].closed_cleanly.is_none())
            .collect();
        let keys: Vec<ConnKey> = open.iter().map(|&i| self.conns[i].key).collect();
        let mut round = self.source.round(&keys);
        for &i in &open {
            let c = &mut self.conns[i];
            let mut sampler = round.sampler(c.key);
            let s = sampler.sample(c.found.elapsed());
            // A socket in TIME_WAIT or CLOSE is the memory of a connection, not a connection.
            let gone = |e: &Option<DiagSocket>| {
                e.as_ref()
                    .is_none_or(|e| matches!(e.state, TcpState::TimeWait | TcpState::Close))
            };
            if sampler.ends().iter().all(gone) {
                // Seen from outside, a connection that vanished without a verdict ended as its
                // programs meant it to (a reset shows no different once the socket is gone).
                let cleanly = c.verdict().is_none();
                c.closed_cleanly = Some(cleanly);
                c.status = Status::Closed;
                out.push(Update::Closed {
                    conn: c.id,
                    cleanly,
                });
                continue;
            }
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
        out
    }

    /// Time since watching started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
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
