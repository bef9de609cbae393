//! A class of clients on one thread: every client of a load-test round is a non-blocking socket
//! on one event loop (mio), the way load tools simulate many users, so that a class of a thousand
//! costs the machine one thread and not the thousand threads the server is being tested with.
//!
//! - A deadlocking client sends without ever reading: its receive queue fills, the server's send
//!   queue stops draining, and the kernel shows the same state as the classic deadlock. It then
//!   holds the socket until the server frees it (the server's FIN or reset shows as the read side
//!   closing, or an error), or its deadline passes.
//! - A fixed client reads and writes in the same loop (the poll fix): it sends its bytes, shuts
//!   its write half, and checks every byte of the echo against the uppercased input.
//!
//! Each writes as much of its stream as the socket takes at once: the stream (the chunk repeated)
//! is the same whatever the writes' sizes, and writes of 16 bytes each cost a thousand clients a
//! system call per 16 bytes, which made the load generator, not the server, the bottleneck.

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use socket2::Socket;

use super::outcomes::{ClientEnd, ClientOutcome, LoadRole};
use crate::client::StrategyName;
use crate::interrupt;
use crate::payload::{self, Layout, Verifier};
use crate::result::{Failure, IoFailure};
use crate::sock::{self, BufReq};

/// How often the loop looks at deadlines and Ctrl-C when nothing happens.
const TICK: Duration = Duration::from_millis(100);
/// The pattern written from: whole chunks, at least this many bytes.
const PATTERN_BYTES: usize = 64 * 1024;

/// One round's class.
#[derive(Debug, Clone)]
pub struct Class {
    pub addr: SocketAddr,
    pub clients: u32,
    /// Which clients deadlock, by index.
    pub deadlocking: fn(u32, f64) -> bool,
    pub fraction: f64,
    /// Bytes each fixed client sends and verifies.
    pub bytes: u64,
    /// Bytes each deadlocking client offers (more than the buffers hold).
    pub hold_bytes: u64,
    /// The stream's unit: the 16-byte message repeated to this length.
    pub chunk: usize,
    pub buffers: BufReq,
    /// Every client's bound.
    pub timeout: Duration,
    /// A deadlocking client freed within this long of its last movement was freed in time.
    pub free_within: Duration,
}

/// How the class is doing, for a progress line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub total: u32,
    pub connected: u32,
    pub done: u32,
    pub freed: u32,
    pub verified: u32,
}

enum Kind {
    Holder,
    Fixed {
        verifier: Box<Verifier>,
        write_open: bool,
    },
}

struct Client {
    index: u32,
    sock: Socket,
    kind: Kind,
    total: u64,
    sent: u64,
    connected: bool,
    /// When the client last moved: a byte sent, or echo arriving (a holder's only sign of life).
    last_progress: Instant,
    local: Option<String>,
}

/// Runs the class to its end (every client done, its deadline, or Ctrl-C); `tally` hears how it
/// goes about ten times a second.
pub fn run(c: &Class, tally: &mut dyn FnMut(Tally)) -> io::Result<Vec<ClientOutcome>> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let unit = payload::chunk(c.chunk.max(1));
    let pattern: Vec<u8> = unit
        .iter()
        .copied()
        .cycle()
        .take(unit.len() * PATTERN_BYTES.div_ceil(unit.len()))
        .collect();
    let started = Instant::now();
    let mut clients: Vec<Option<Client>> = Vec::with_capacity(c.clients as usize);
    let mut outcomes = Vec::with_capacity(c.clients as usize);
    for index in 0..c.clients {
        if interrupt::requested() {
            break;
        }
        match open(c, index, &poll) {
            Ok(client) => clients.push(Some(client)),
            Err(e) => {
                clients.push(None);
                outcomes.push(failed(c, index, e.to_string()));
            }
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut last_tally = None::<Instant>;
    let mut t = Tally {
        total: c.clients,
        ..Tally::default()
    };
    while outcomes.len() < clients.len() {
        match poll.poll(&mut events, Some(TICK)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        for ev in events.iter() {
            let i = ev.token().0;
            let Some(client) = clients.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            if let Some(end) = step(client, ev, &pattern, &mut buf, &mut t) {
                let client = clients[i].take().expect("just stepped");
                let _ = poll
                    .registry()
                    .deregister(&mut SourceFd(&client.sock.as_raw_fd()));
                outcomes.push(outcome(c, client, end, &mut t));
            }
        }
        let now = Instant::now();
        let over = now.duration_since(started) >= c.timeout;
        let stop = interrupt::requested();
        if over || stop {
            for slot in clients.iter_mut() {
                if let Some(client) = slot.take() {
                    let end = match (&client.kind, stop) {
                        (_, true) => End::Interrupted,
                        (Kind::Holder, false) => End::NotFreed,
                        (Kind::Fixed { .. }, false) => End::TimedOut,
                    };
                    outcomes.push(outcome(c, client, end, &mut t));
                }
            }
        }
        if last_tally.is_none_or(|l| now.duration_since(l) >= TICK) {
            last_tally = Some(now);
            t.done = outcomes.len() as u32;
            tally(t);
        }
    }
    t.done = outcomes.len() as u32;
    tally(t);
    outcomes.sort_by_key(|o| o.index);
    Ok(outcomes)
}

/// A client's socket, connecting.
fn open(c: &Class, index: u32, poll: &Poll) -> io::Result<Client> {
    let sock = sock::unconnected(c.addr, Some(&c.buffers)).map_err(io::Error::other)?;
    sock.set_nonblocking(true)?;
    match sock.connect(&c.addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    poll.registry().register(
        &mut SourceFd(&sock.as_raw_fd()),
        Token(index as usize),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let holder = (c.deadlocking)(index, c.fraction);
    let kind = if holder {
        Kind::Holder
    } else {
        Kind::Fixed {
            verifier: Box::new(Verifier::new(
                c.chunk.max(1),
                Layout::Whole { total: c.bytes },
            )),
            write_open: true,
        }
    };
    Ok(Client {
        index,
        sock,
        kind,
        total: if holder { c.hold_bytes } else { c.bytes },
        sent: 0,
        connected: false,
        last_progress: Instant::now(),
        local: None,
    })
}

/// How a client ended.
enum End {
    /// The server closed a holder (read side closed, a reset or a broken pipe).
    Freed,
    NotFreed,
    /// A holder sent everything: the buffers held it all.
    SentAll,
    /// A fixed client's echo ended: whether it was all there is the verifier's to say.
    EchoEnded,
    TimedOut,
    Interrupted,
    Failed(io::Error),
}

/// Handles one readiness event; `Some` once the client is done.
fn step(
    cl: &mut Client,
    ev: &mio::event::Event,
    pattern: &[u8],
    buf: &mut [u8],
    t: &mut Tally,
) -> Option<End> {
    if !cl.connected {
        match cl.sock.take_error() {
            Ok(Some(e)) | Err(e) => return Some(End::Failed(e)),
            Ok(None) if ev.is_writable() || ev.is_readable() => {
                cl.connected = true;
                t.connected += 1;
                cl.local = sock::local(&cl.sock).ok().map(|a| a.to_string());
            }
            Ok(None) => return None,
        }
    }
    let closed = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        )
    };
    // Write as much as the socket takes (edge-triggered: until it would block).
    let writing = match &cl.kind {
        Kind::Holder => true,
        Kind::Fixed { write_open, .. } => *write_open,
    };
    while writing && cl.sent < cl.total {
        let at = (cl.sent % pattern.len() as u64) as usize;
        let want = ((pattern.len() - at) as u64).min(cl.total - cl.sent) as usize;
        // MSG_NOSIGNAL: a freed holder's write must fail with EPIPE, not raise SIGPIPE.
        match cl
            .sock
            .send_with_flags(&pattern[at..at + want], libc::MSG_NOSIGNAL)
        {
            Ok(n) => {
                cl.sent += n as u64;
                cl.last_progress = Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if closed(&e) && matches!(cl.kind, Kind::Holder) => return Some(End::Freed),
            Err(e) => return Some(End::Failed(e)),
        }
    }
    match &mut cl.kind {
        Kind::Holder => {
            if cl.sent >= cl.total {
                return Some(End::SentAll);
            }
            // The server freeing it: its FIN (the read side closes) or a reset (an error). A
            // holder never reads; arriving echo is only a sign that the connection still moves.
            if ev.is_error() || ev.is_read_closed() {
                return Some(End::Freed);
            }
            if ev.is_readable() {
                cl.last_progress = Instant::now();
            }
            None
        }
        Kind::Fixed {
            verifier,
            write_open,
        } => {
            if *write_open && cl.sent >= cl.total {
                if let Err(e) = cl.sock.shutdown(Shutdown::Write) {
                    return Some(End::Failed(e));
                }
                *write_open = false;
            }
            loop {
                match (&cl.sock).read(buf) {
                    Ok(0) => return Some(End::EchoEnded),
                    Ok(n) => {
                        verifier.feed(&buf[..n]);
                        if verifier.mismatched() {
                            return Some(End::EchoEnded);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Some(End::Failed(e)),
                }
            }
        }
    }
}

fn outcome(c: &Class, cl: Client, end: End, t: &mut Tally) -> ClientOutcome {
    let now = Instant::now();
    match cl.kind {
        Kind::Holder => {
            let stall_to_free = matches!(end, End::Freed)
                .then(|| now.duration_since(cl.last_progress).as_millis() as u64);
            let in_time = |ms: u64| Duration::from_millis(ms) <= c.free_within;
            let (outcome, error) = match end {
                End::Freed => (ClientEnd::Freed, None),
                End::NotFreed => (ClientEnd::NotFreed, None),
                End::SentAll => (ClientEnd::SentAll, None),
                End::Interrupted => (ClientEnd::Interrupted, None),
                End::Failed(e) => (ClientEnd::Failed, Some(e.to_string())),
                End::EchoEnded | End::TimedOut => (ClientEnd::NotFreed, None),
            };
            if outcome == ClientEnd::Freed {
                t.freed += 1;
            }
            ClientOutcome {
                outcome,
                sent_bytes: cl.sent,
                stall_to_free_ms: stall_to_free,
                client_addr: cl.local,
                // Judged against the idle limit by the caller.
                ok: stall_to_free.is_some_and(in_time),
                error,
                ..blank(cl.index, true)
            }
        }
        Kind::Fixed { verifier, .. } => {
            let v = verifier.finish();
            let outcome = match end {
                End::EchoEnded if v.matched => ClientEnd::Completed,
                End::TimedOut => ClientEnd::TimedOut,
                End::Interrupted => ClientEnd::Interrupted,
                _ => ClientEnd::Failed,
            };
            let failure = match end {
                End::EchoEnded if v.matched => None,
                End::EchoEnded => Some(
                    match v.first_mismatch_at.filter(|at| *at < v.received_bytes) {
                        Some(at) => Failure::EchoDiffers { at_byte: at },
                        None => Failure::EchoShort {
                            received_bytes: v.received_bytes,
                            expected_bytes: v.expected_bytes,
                        },
                    },
                ),
                End::TimedOut => Some(Failure::TimedOut {
                    after_ms: c.timeout.as_millis() as u64,
                }),
                End::Failed(e) => Some(Failure::Connection {
                    error: IoFailure::from_io(&e),
                    sent_bytes: cl.sent,
                    total_bytes: cl.total,
                    received_bytes: v.received_bytes,
                }),
                End::Freed | End::NotFreed | End::SentAll | End::Interrupted => None,
            };
            let ok = outcome == ClientEnd::Completed;
            if ok {
                t.verified += 1;
            }
            ClientOutcome {
                outcome,
                sent_bytes: cl.sent,
                verified_bytes: if v.matched { v.received_bytes } else { 0 },
                client_addr: cl.local,
                ok,
                failure,
                ..blank(cl.index, false)
            }
        }
    }
}

/// A client that could not connect.
fn failed(c: &Class, index: u32, error: String) -> ClientOutcome {
    ClientOutcome {
        error: Some(error),
        ..blank(index, (c.deadlocking)(index, c.fraction))
    }
}

/// A client's role and strategy, with nothing done yet (a failure until told otherwise).
fn blank(index: u32, holder: bool) -> ClientOutcome {
    let (role, strategy) = if holder {
        (LoadRole::Deadlocking, StrategyName::Naive)
    } else {
        (LoadRole::Fixed, StrategyName::Poll)
    };
    ClientOutcome {
        index,
        role,
        strategy: strategy.as_str().into(),
        outcome: ClientEnd::Failed,
        sent_bytes: 0,
        verified_bytes: 0,
        stall_to_free_ms: None,
        client_addr: None,
        ok: false,
        failure: None,
        error: None,
    }
}
