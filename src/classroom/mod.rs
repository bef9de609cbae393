//! The classroom server: many students' clients at once against one `tcplab server`.
//!
//! One named thread per connection runs the same blocking echo loop as the demo (`server::serve`),
//! so a deadlocked connection looks exactly like the lesson says (a thread blocked in send()) and
//! the kernel can be asked which call it is in. A supervisor (this file) accepts, refuses beyond
//! `--max-conns`, looks at every connection each tick (`idle.rs`), frees the stuck ones by shutting
//! their sockets down and joining their threads, and prints one line per event. Threads rather
//! than an event loop: 200 threads with 128 KiB stacks are cheap, and an event loop would need a
//! second echo implementation that no longer shows the classic blocking behaviour.

pub mod conn;
pub mod holder;
pub mod idle;
pub mod load;
pub mod procstat;
pub mod refusal;
pub mod report;
mod status;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::Socket;

use crate::interrupt;
use crate::server::ServeEnd;
use crate::sock::{self, BufReq, Limits};
use crate::units::human;
use conn::Conn;
use idle::{IdleWatch, Look, StuckKind};
pub use status::Totals;
use status::{Status, describe_sizes};

/// How often the supervisor looks at every connection and redraws.
const TICK: Duration = Duration::from_millis(100);
/// How long a connection thread may take to return once its socket is shut down.
const JOIN_BOUND: Duration = Duration::from_secs(5);
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// What the classroom server needs from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest single recv() (bytes).
    pub read: usize,
    pub req: BufReq,
    pub max_conns: usize,
    pub idle_timeout: Duration,
    /// One stdout line per event (accepted, closed, stuck, refused) with the running totals.
    pub log: bool,
    /// The status line on stderr.
    pub live: bool,
    /// Stop after accepting this many connections and serving them to their end.
    pub connections: Option<u64>,
}

/// What the supervisor saw when it declared a connection stuck.
struct Stuck {
    kind: StuckKind,
    still: Duration,
    look: Look,
    /// The call the kernel said the connection's thread was in.
    call: Option<&'static str>,
}

struct Entry {
    conn: Arc<Conn>,
    handle: JoinHandle<()>,
    idle: IdleWatch,
    stuck: Option<Stuck>,
}

/// Serves until Ctrl-C (or `--connections`), then closes every connection and joins every thread.
pub fn run(listener: &Socket, cfg: &Config) -> anyhow::Result<Totals> {
    listener.set_nonblocking(true)?;
    let mut poll = Poll::new()?;
    let fd = listener.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), LISTENER, Interest::READABLE)?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let mut events = Events::with_capacity(16);
    let (tx, rx) = mpsc::channel::<(u64, ServeEnd)>();
    let limits = Limits::read();
    let mut table: HashMap<u64, Entry> = HashMap::new();
    let mut status = Status::new(cfg.log, cfg.live);
    let mut next_id = 0u64;
    let accepting_done = |n: u64| cfg.connections.is_some_and(|max| n >= max);
    let mut out_err = None;
    while out_err.is_none() && !interrupt::requested() {
        if accepting_done(next_id) && table.is_empty() {
            break;
        }
        while !accepting_done(next_id) {
            let (sock, peer) = match listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: the pending connection stays in the backlog, so back off
                    // for a tick instead of spinning on it.
                    status.warn(&format!(
                        "tcplab: accept failed: {e}; still listening, retrying in {} ms",
                        TICK.as_millis()
                    ));
                    std::thread::sleep(TICK);
                    break;
                }
            };
            let peer = peer
                .as_socket()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into());
            if table.len() >= cfg.max_conns {
                let _ = refusal::refuse(&sock, cfg.max_conns);
                status.refused += 1;
                let line = format!(
                    "refused {peer}: {} connections already open (--max-conns {})",
                    table.len(),
                    cfg.max_conns
                );
                out_err = status.event(&line, table.len()).err();
                continue;
            }
            next_id += 1;
            let _ = sock.set_nonblocking(false);
            let sizes = describe_sizes(&cfg.req, &sock, &limits);
            let conn = Arc::new(Conn::new(next_id, peer, sock, sizes));
            let done = tx.clone();
            match conn::spawn(Arc::clone(&conn), cfg.read, done, Arc::clone(&waker)) {
                Ok(handle) => {
                    status.accepted += 1;
                    if cfg.log {
                        let line =
                            format!("accepted #{} from {} ({})", conn.id, conn.peer, conn.sizes);
                        out_err = status.event(&line, table.len() + 1).err();
                    }
                    let idle = IdleWatch::new(cfg.idle_timeout, Instant::now());
                    let e = Entry {
                        conn,
                        handle,
                        idle,
                        stuck: None,
                    };
                    table.insert(next_id, e);
                }
                Err(e) => status.warn(&format!(
                    "tcplab: cannot start a thread for connection #{} from {}: {e}; closed it",
                    conn.id, conn.peer
                )),
            }
        }
        while let Ok((id, end)) = rx.try_recv() {
            if let Err(e) = finish(&mut table, &mut status, id, &end) {
                out_err = Some(e);
            }
        }
        look_at_all(&mut table);
        status.redraw(table.len(), live_bytes(&table));
        match poll.poll(&mut events, Some(TICK)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    for e in table.values() {
        e.conn.close();
    }
    let deadline = Instant::now() + JOIN_BOUND;
    while !table.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((id, end)) => {
                let _ = finish(&mut table, &mut status, id, &end);
            }
            Err(_) => break,
        }
    }
    status.finish();
    if !table.is_empty() {
        anyhow::bail!(
            "{} connection threads did not return within {} s of their sockets being shut down",
            table.len(),
            JOIN_BOUND.as_secs()
        );
    }
    match out_err {
        Some(e) => Err(e.into()),
        None => Ok(status.totals()),
    }
}

/// Looks at every live connection once and frees those that stopped moving.
fn look_at_all(table: &mut HashMap<u64, Entry>) {
    let now = Instant::now();
    for e in table.values_mut() {
        if e.stuck.is_some() {
            continue;
        }
        let q = sock::queues(&e.conn.sock).ok();
        let look = Look {
            received: e.conn.received.load(std::sync::atomic::Ordering::Relaxed),
            sent: e.conn.sent.load(std::sync::atomic::Ordering::Relaxed),
            outq: q.as_ref().map(|q| q.outq_bytes),
            inq: q.as_ref().map(|q| q.inq_bytes),
        };
        if let Some(still) = e.idle.observe(look, now) {
            let call = e.conn.slot.kernel_call();
            let kind = idle::classify(look, call, e.conn.app_sending());
            e.stuck = Some(Stuck {
                kind,
                still,
                look,
                call,
            });
            e.conn.close();
        }
    }
}

fn live_bytes(table: &HashMap<u64, Entry>) -> u64 {
    table
        .values()
        .map(|e| e.conn.received.load(std::sync::atomic::Ordering::Relaxed))
        .sum()
}

/// A connection thread returned: join it, free the socket, print its line.
fn finish(
    table: &mut HashMap<u64, Entry>,
    status: &mut Status,
    id: u64,
    end: &ServeEnd,
) -> io::Result<()> {
    let Some(e) = table.remove(&id) else {
        return Ok(());
    };
    let Entry {
        conn,
        handle,
        stuck,
        ..
    } = e;
    // The thread has sent its last message; joining waits at most for its return.
    let _ = handle.join();
    let c = &conn;
    let received = c.received.load(std::sync::atomic::Ordering::Relaxed);
    let sent = c.sent.load(std::sync::atomic::Ordering::Relaxed);
    status.ended(received);
    let (word, how) = match stuck {
        Some(Stuck {
            kind,
            still,
            look,
            call,
        }) => {
            status.stuck += 1;
            let q = |name: &str, v: Option<u64>| {
                v.map(|v| format!("; server {name} queue {}", human(v)))
                    .unwrap_or_default()
            };
            (
                "stuck",
                format!(
                    "freed after {:.1} s without movement ({}): {}{}{}; thread in {}",
                    still.as_secs_f64(),
                    kind.name(),
                    kind.describe(),
                    q("send", look.outq),
                    q("receive", look.inq),
                    call.unwrap_or("an unknown call")
                ),
            )
        }
        None if c.is_stopping() => ("closed", "closed by Ctrl-C".to_string()),
        None => {
            let (w, how) = conn::describe_end(end, false);
            if w == "reset" {
                status.reset += 1;
            }
            (w, how)
        }
    };
    status.closed += 1;
    let line = format!(
        "{word} #{id} from {} ({}): {} processed, {} echoed in {:.2} s; {how}",
        c.peer,
        c.sizes,
        human(received),
        human(sent),
        c.accepted.elapsed().as_secs_f64()
    );
    // The last reference: the socket is closed here.
    drop(conn);
    status.event(&line, table.len())
}
