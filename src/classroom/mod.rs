//! The classroom server: many students' clients at once against one `tcplab server`, or one after
//! another with `--sequential` — the same connection code either way.
//!
//! One named thread per connection runs the same blocking echo loop as the demo (`server::serve`),
//! so a deadlocked connection looks exactly like the lesson says (a thread blocked in send()) and
//! the kernel can be asked which call it is in. A supervisor (this file) accepts, refuses beyond
//! `--max-conns` (or, sequential, leaves the next client waiting in the backlog), samples every
//! connection each tick and hands the samples to the one watchdog with its `Stuck` rule, frees the
//! stuck ones by shutting their sockets down and joining their threads, and reports every event as
//! data to a `Sink`. Threads rather than an event loop: 200 threads with 128 KiB stacks are cheap,
//! and an event loop would need a second echo implementation that no longer shows the classic
//! blocking behaviour (docs/classroom.md has the measurements).

mod accept;
pub mod conn;
pub mod crowd;
pub mod event;
pub mod load;
pub mod managed;
pub mod outcomes;
pub mod procstat;
pub mod refusal;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::Socket;

use crate::interrupt;
use crate::observe::Sampler;
use crate::observe::own::{CallMemo, OwnSampler};
use crate::sample::KernelQueues;
use crate::server::ServeEnd;

use crate::follow::Follower;
use crate::observe::NoObserver;
use crate::watchdog::{Kind, Verdict};
use conn::Conn;
pub use event::{ConnClosed, ConnEnd, ServerEvent, Sink, Snapshot, Totals};

/// How often the supervisor looks at every connection and redraws.
const TICK: Duration = Duration::from_millis(100);
/// How long a connection thread may take to return once its socket is shut down.
const JOIN_BOUND: Duration = Duration::from_secs(5);
/// Least time between two reports of failing accept() calls.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// Longest wait for connections whose client already closed, before a refusal is decided.
const CLOSING_WAIT: Duration = Duration::from_millis(200);
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// What the classroom server needs from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest single recv() (bytes).
    pub read: usize,
    pub max_conns: usize,
    /// Free a connection that made no progress for this long; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// One connection at a time; the next client waits in the backlog instead of being refused.
    pub sequential: bool,
    /// Stop after accepting this many connections and serving them to their end.
    pub connections: Option<u64>,
}

/// How the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    pub totals: Totals,
    /// Ctrl-C or SIGTERM stopped it (rather than --connections).
    pub interrupted: bool,
}

/// What the supervisor keeps per connection.
struct Entry {
    conn: Arc<Conn>,
    handle: JoinHandle<()>,
    follower: Follower,
    memo: CallMemo,
    /// The verdict that had the supervisor close it, with the server socket's queues then.
    stuck: Option<(Verdict, Option<KernelQueues>)>,
}

/// The supervisor's state.
struct Server<'a> {
    cfg: &'a Config,
    table: HashMap<u64, Entry>,
    totals: Totals,
    next_id: u64,
    sink: &'a mut dyn Sink,
    /// accept() failures counted since the last line about them.
    accept_failures: u64,
    /// When the last line about accept() failures was reported.
    last_warning: Option<Instant>,
    /// When accept() last failed.
    last_accept_failure: Option<Instant>,
    /// Threads that reported their end and have yet to return: joined once they have, so the
    /// supervisor never waits for a thread the scheduler has not run yet.
    ending: Vec<JoinHandle<()>>,
}

/// Serves until Ctrl-C (or `--connections`), then closes every connection and joins every thread.
pub fn run(listener: &Socket, cfg: &Config, sink: &mut dyn Sink) -> io::Result<Stopped> {
    listener.set_nonblocking(true)?;
    let mut poll = Poll::new()?;
    let fd = listener.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let mut events = Events::with_capacity(16);
    let (tx, rx) = mpsc::channel::<(u64, ServeEnd)>();
    let mut s = Server {
        cfg,
        table: HashMap::new(),
        totals: Totals::default(),
        next_id: 0,
        sink,
        accept_failures: 0,
        last_warning: None,
        last_accept_failure: None,
        ending: Vec::new(),
    };
    while !interrupt::requested() {
        if s.accepting_done() && s.table.is_empty() {
            break;
        }
        let backlog = s.accept_all(listener, &rx, &tx, &waker);
        s.collect_finished(&rx);
        s.join_returned();
        s.look_at_all();
        s.sink.tick(&s.snapshot());
        let wait = if backlog == accept::Backlog::More {
            Duration::ZERO
        } else {
            TICK
        };
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let interrupted = interrupt::requested();
    for e in s.table.values() {
        e.conn.close();
    }
    let deadline = Instant::now() + JOIN_BOUND;
    while !s.table.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((id, end)) => s.finish(id, &end),
            Err(_) => break,
        }
    }
    // Each of these has sent its last message; all that is left is its return.
    for h in s.ending.drain(..) {
        let _ = h.join();
    }
    s.warn_accept_failures(true);
    if !s.table.is_empty() {
        return Err(io::Error::other(format!(
            "{} connection threads did not return within {} s of their sockets being shut down",
            s.table.len(),
            JOIN_BOUND.as_secs()
        )));
    }
    Ok(Stopped {
        totals: s.totals,
        interrupted,
    })
}

impl Server<'_> {
    fn accepting_done(&self) -> bool {
        self.cfg.connections.is_some_and(|max| self.next_id >= max)
    }

    fn full(&self) -> bool {
        self.table.len() >= self.cfg.max_conns
    }

    fn collect_finished(&mut self, rx: &Receiver<(u64, ServeEnd)>) {
        while let Ok((id, end)) = rx.try_recv() {
            self.finish(id, &end);
        }
    }

    /// Joins the ending threads that have returned; the others are looked at again next tick.
    fn join_returned(&mut self) {
        let (returned, running): (Vec<_>, Vec<_>) =
            self.ending.drain(..).partition(|h| h.is_finished());
        self.ending = running;
        let joined = !returned.is_empty();
        for h in returned {
            let _ = h.join();
        }
        // Once the last connection of a burst is gone, the room its table grew to and the memory
        // the allocator holds free go back to the system: a class of a thousand otherwise left the
        // server about 9 MiB larger (measured: a 4 MiB table and freed heap kept resident).
        if joined && self.table.is_empty() && self.ending.is_empty() {
            self.table.shrink_to_fit();
            self.ending.shrink_to_fit();
            crate::sys::probe::release_free_memory();
        }
    }

    /// Samples every live connection once and frees those the watchdog calls stuck.
    fn look_at_all(&mut self) {
        for e in self.table.values_mut() {
            if e.stuck.is_some() {
                continue;
            }
            let name = format!("tcplab-conn-{}", e.conn.id);
            let mut sampler = OwnSampler::new(&e.conn.shared, None, Some(&e.conn.sock))
                .server_name(name)
                .with_memo(std::mem::take(&mut e.memo));
            let sample = sampler.sample(e.conn.accepted.elapsed());
            e.memo = sampler.into_memo();
            let server = sample.server.clone();
            if e.follower.step(sample, &mut NoObserver).verdict {
                let (v, _) = e
                    .follower
                    .verdict()
                    .cloned()
                    .expect("a verdict was just given");
                e.stuck = Some((v, server));
                e.conn.close();
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            open: self.table.len(),
            totals: self.totals,
            open_bytes: self.open_bytes(),
        }
    }

    /// Bytes received by the connections still open.
    fn open_bytes(&self) -> u64 {
        self.table.values().map(|e| e.conn.received()).sum()
    }

    /// A connection thread returned: join it, free the socket, report its end.
    fn finish(&mut self, id: u64, end: &ServeEnd) {
        let Some(Entry {
            conn,
            handle,
            stuck,
            ..
        }) = self.table.remove(&id)
        else {
            return;
        };
        // The thread has sent its last message, but on a loaded machine it may not run again for
        // seconds: joining here would hold up every other connection's watchdog. It is joined
        // once it has returned (`join_returned`).
        self.ending.push(handle);
        let received = conn.received();
        self.totals.processed_bytes += received;
        self.totals.closed += 1;
        let end = match stuck {
            Some((v, q)) => {
                self.totals.stuck += 1;
                stuck_end(&v, q.as_ref())
            }
            None if conn.shared.is_stopping() => ConnEnd::Stopped,
            None => match end {
                ServeEnd::Eof => ConnEnd::Eof,
                ServeEnd::Error(e) => match e.kind() {
                    io::ErrorKind::ConnectionReset => ConnEnd::Reset,
                    io::ErrorKind::BrokenPipe => ConnEnd::BrokenPipe,
                    _ => ConnEnd::Error {
                        message: e.to_string(),
                    },
                },
            },
        };
        if matches!(end, ConnEnd::Reset | ConnEnd::BrokenPipe) {
            self.totals.reset += 1;
        }
        let (sndbuf_bytes, rcvbuf_bytes) = split(conn.sizes);
        let closed = ConnClosed {
            id,
            peer: conn.peer.clone(),
            sndbuf_bytes,
            rcvbuf_bytes,
            received_bytes: received,
            sent_bytes: conn.sent(),
            elapsed_ms: conn.accepted.elapsed().as_millis() as u64,
            end,
            open: self.table.len(),
            // Issue 19 (server log): the open connections' bytes now, this one no longer among
            // them, so a running total counts it once.
            open_bytes: self.open_bytes(),
        };
        // The last reference: the socket is closed here, before the event is reported.
        drop(conn);
        self.sink.event(&ServerEvent::Closed(closed));
    }
}

fn split(sizes: Option<(u64, u64)>) -> (Option<u64>, Option<u64>) {
    (sizes.map(|s| s.0), sizes.map(|s| s.1))
}

/// The end of a connection the watchdog called stuck, from its verdict and the server socket's
/// queues at that moment.
fn stuck_end(v: &Verdict, q: Option<&KernelQueues>) -> ConnEnd {
    use crate::result::Evidence;
    let kind = match v.kind {
        Kind::Stuck(k) => k.name(),
        _ => "stuck",
    };
    let still_ms = v.still_ms().unwrap_or(0);
    let call = v.evidence.iter().find_map(|e| match e {
        Evidence::ServerBlockedInSend { kernel_call } => kernel_call.clone(),
        Evidence::WaitingInRecv { kernel_call, .. } => kernel_call.clone(),
        _ => None,
    });
    ConnEnd::Stuck {
        kind: kind.to_string(),
        still_ms,
        send_queue_bytes: q.map(|q| q.outq_bytes),
        recv_queue_bytes: q.map(|q| q.inq_bytes),
        kernel_call: call,
        evidence: v.evidence.clone(),
    }
}

/// Whether `sock` is a loopback-reachable listener only (for the note that the server can be
/// reached from the network).
pub fn reachable_from_network(addr: std::net::SocketAddr) -> bool {
    !addr.ip().is_loopback()
}
