//! `tcplab halfclose`: the streamer. The client sends --bytes and then shutdown(SHUT_WR); the
//! server reads until recv() returns 0 (the FIN), replies with what it counted and closes; the
//! client reads the reply until its own EOF.
//!
//! With `--no-shutdown` the FIN never comes: the server waits in recv() for an EOF, the client
//! waits in recv() for the reply. A watcher samples both threads every 10 ms and calls it a stall
//! when both sit in recv() (the kernel's own answer, `/proc/self/task/TID/syscall`), both receive
//! queues are empty, nothing is in flight, and no counter moved, for `WINDOW` without a break.
//! Then it shuts both sockets down, which wakes both recv() calls with EOF: nothing hangs.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use serde::Serialize;
use socket2::Socket;

use super::{Outcome, connect, local};
use crate::cli::classic::HalfcloseArgs;
use crate::counters::{Phase, ThreadSlot};
use crate::sock;
use crate::wire;

/// How long the stall evidence must hold without a break. In a healthy run both threads are
/// never in recv() with empty queues for more than a scheduling moment.
pub const WINDOW: Duration = Duration::from_millis(300);
/// Without kernel probes (not Linux), silence alone must last this long (docs/buffers.md).
pub const SILENCE_WINDOW: Duration = Duration::from_secs(2);
const SAMPLE: Duration = Duration::from_millis(10);
const TIMEOUT: Duration = Duration::from_secs(30);

/// Why the watcher called it a stall.
#[derive(Debug, Clone, Serialize)]
pub struct StallEvidence {
    /// The system call the server thread was in ("recv"), when the kernel says.
    pub server_call: Option<String>,
    /// The system call the client thread was in.
    pub client_call: Option<String>,
    /// Bytes waiting in the server's receive queue (SIOCINQ).
    pub server_inq_bytes: Option<u64>,
    /// Bytes waiting in the client's receive queue.
    pub client_inq_bytes: Option<u64>,
    /// Bytes the client had sent but the server had not yet acknowledged (SIOCOUTQ).
    pub client_outq_bytes: Option<u64>,
    /// How long the evidence held (ms).
    pub held_ms: u64,
}

/// What `halfclose` showed.
#[derive(Debug, Serialize)]
pub struct HalfcloseReport {
    pub outcome: Outcome,
    /// Whether the client called shutdown(SHUT_WR) after sending.
    pub client_shut_down_write: bool,
    /// Bytes the client sent.
    pub client_sent_bytes: u64,
    /// Bytes the server read before its EOF (or before the stall).
    pub server_received_bytes: u64,
    /// recv() calls that returned data on the server.
    pub server_recv_calls: u64,
    /// The server's reply as the client read it (empty after a stall).
    pub reply: String,
    /// Bytes of reply the client read.
    pub client_received_bytes: u64,
    /// Present when the outcome is "stalled".
    pub stall: Option<StallEvidence>,
    /// Time from the first byte to the end (ms).
    pub elapsed_ms: u64,
}

#[derive(Default)]
struct Shared {
    server_received: AtomicU64,
    server_calls: AtomicU64,
    client_received: AtomicU64,
    server: ThreadSlot,
    client: ThreadSlot,
    stopping: AtomicBool,
}

fn server_side(conn: &Socket, s: &Shared) -> io::Result<()> {
    s.server.enter();
    s.server.set(Phase::Receiving);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match (&mut &*conn).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                s.server_received.fetch_add(n as u64, Relaxed);
                s.server_calls.fetch_add(1, Relaxed);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    s.server.set(Phase::Sending);
    if !s.stopping.load(Relaxed) {
        let reply = format!(
            "server read {} bytes in {} recv() calls, then EOF",
            s.server_received.load(Relaxed),
            s.server_calls.load(Relaxed)
        );
        wire::send_all(&mut &*conn, reply.as_bytes()).map_err(io::Error::other)?;
        conn.shutdown(Shutdown::Write)?;
    }
    s.server.set(Phase::Done);
    Ok(())
}

fn client_side(sock: &Socket, s: &Shared, bytes: u64, shut: bool) -> io::Result<Vec<u8>> {
    s.client.enter();
    s.client.set(Phase::Sending);
    let chunk = [b'x'; 16 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        wire::send_all(&mut &*sock, &chunk[..n]).map_err(io::Error::other)?;
        left -= n as u64;
    }
    if shut {
        sock.shutdown(Shutdown::Write)?;
    }
    s.client.set(Phase::Receiving);
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match (&mut &*sock).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                reply.extend_from_slice(&buf[..n]);
                s.client_received.fetch_add(n as u64, Relaxed);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) if s.stopping.load(Relaxed) => break,
            Err(e) => return Err(e),
        }
    }
    s.client.set(Phase::Done);
    Ok(reply)
}

/// One watcher sample: does it show both sides waiting for each other?
fn evidence(s: &Shared, server: &Socket, client: &Socket, held: Duration) -> Option<StallEvidence> {
    let in_recv = |c: Option<&str>| matches!(c, Some("recv" | "read"));
    let sc = s.server.kernel_call();
    let cc = s.client.kernel_call();
    let sq = sock::queues(server).ok();
    let cq = sock::queues(client).ok();
    let waiting = if sock::PROBES_AVAILABLE {
        in_recv(sc)
            && in_recv(cc)
            && sq.as_ref().is_some_and(|q| q.inq_bytes == 0)
            && cq
                .as_ref()
                .is_some_and(|q| q.inq_bytes == 0 && q.outq_bytes == 0)
    } else {
        s.server.phase() == Phase::Receiving && s.client.phase() == Phase::Receiving
    };
    waiting.then(|| StallEvidence {
        server_call: sc.map(str::to_string),
        client_call: cc.map(str::to_string),
        server_inq_bytes: sq.as_ref().map(|q| q.inq_bytes),
        client_inq_bytes: cq.as_ref().map(|q| q.inq_bytes),
        client_outq_bytes: cq.as_ref().map(|q| q.outq_bytes),
        held_ms: held.as_millis() as u64,
    })
}

pub fn run(a: &HalfcloseArgs) -> anyhow::Result<HalfcloseReport> {
    let listener = sock::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), None, 1)?;
    let client = connect(local(&listener)?, "tcplab sixteen server")?;
    let (server, _) = listener
        .accept()
        .context("accepting the demo's own connection")?;
    let s = Shared::default();
    let started = Instant::now();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let window = if sock::PROBES_AVAILABLE {
        WINDOW
    } else {
        SILENCE_WINDOW
    };
    let (served, reply, stall) = thread::scope(|scope| {
        let (s, server, client) = (&s, &server, &client);
        let tx = done_tx.clone();
        let srv = thread::Builder::new()
            .name("tcplab-server".into())
            .spawn_scoped(scope, move || {
                let r = server_side(server, s);
                let _ = tx.send(());
                r
            })?;
        let tx = done_tx;
        let cli = thread::Builder::new()
            .name("tcplab-client".into())
            .spawn_scoped(scope, move || {
                let r = client_side(client, s, a.bytes.bytes(), !a.no_shutdown);
                let _ = tx.send(());
                r
            })?;
        let mut finished = 0;
        let mut stall = None;
        let mut since: Option<(Instant, u64)> = None;
        while finished < 2 {
            match done_rx.recv_timeout(SAMPLE) {
                Ok(()) => finished += 1,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if stall.is_some() || finished == 2 {
                continue;
            }
            let moved = s.server_received.load(Relaxed) + s.client_received.load(Relaxed);
            let held = match since {
                Some((t, m)) if m == moved => t.elapsed(),
                _ => {
                    since = Some((Instant::now(), moved));
                    Duration::ZERO
                }
            };
            let seen = evidence(s, server, client, held);
            if seen.is_none() {
                since = None;
            }
            let timed_out = started.elapsed() > TIMEOUT;
            if held >= window && seen.is_some() || timed_out {
                stall = Some(seen.filter(|_| !timed_out));
                s.stopping.store(true, Relaxed);
                let _ = server.shutdown(Shutdown::Both);
                let _ = client.shutdown(Shutdown::Both);
            }
        }
        let served = srv
            .join()
            .map_err(|_| anyhow!("the server thread failed"))?;
        let reply = cli
            .join()
            .map_err(|_| anyhow!("the client thread failed"))?;
        Ok::<_, anyhow::Error>((served, reply, stall))
    })?;
    let stall = match stall {
        None => None,
        Some(Some(evidence)) => Some(evidence),
        // The watcher shut the sockets down at the time limit, without evidence of a stall.
        Some(None) => anyhow::bail!(
            "halfclose reached no verdict within {} s; both sockets were shut down",
            TIMEOUT.as_secs()
        ),
    };
    let reply = if stall.is_some() {
        Vec::new()
    } else {
        served.context("server side")?;
        reply.context("client side")?
    };
    Ok(HalfcloseReport {
        outcome: if stall.is_some() {
            Outcome::Stalled
        } else {
            Outcome::Completed
        },
        client_shut_down_write: !a.no_shutdown,
        client_sent_bytes: a.bytes.bytes(),
        server_received_bytes: s.server_received.load(Relaxed),
        server_recv_calls: s.server_calls.load(Relaxed),
        reply: String::from_utf8_lossy(&reply).into_owned(),
        client_received_bytes: s.client_received.load(Relaxed),
        stall,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

pub fn write_text(r: &HalfcloseReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    use crate::units::human;
    if !quiet {
        let shut = if r.client_shut_down_write {
            "then shutdown(SHUT_WR): a FIN tells the server the request is over"
        } else {
            "and does not call shutdown(SHUT_WR)"
        };
        writeln!(out, "client: sends {} {shut}", human(r.client_sent_bytes))?;
        writeln!(
            out,
            "server: read {} in {} recv() calls",
            human(r.server_received_bytes),
            r.server_recv_calls
        )?;
        match &r.stall {
            None => {
                writeln!(out, "server: recv() returned 0 (EOF); replied and closed")?;
                writeln!(out, "client: read the reply until EOF: '{}'", r.reply)?;
            }
            Some(e) => {
                let call = |c: &Option<String>| {
                    c.clone()
                        .unwrap_or_else(|| "recv (by its own record)".into())
                };
                let q = |b: Option<u64>| b.map(human).unwrap_or_else(|| "unknown".into());
                writeln!(
                    out,
                    "watcher: for {} ms the server thread was in {} with {} queued, the client thread in {} with {} queued, {} in flight",
                    e.held_ms,
                    call(&e.server_call),
                    q(e.server_inq_bytes),
                    call(&e.client_call),
                    q(e.client_inq_bytes),
                    q(e.client_outq_bytes)
                )?;
                writeln!(
                    out,
                    "watcher: shut both sockets down, which ends both recv() calls"
                )?;
            }
        }
        writeln!(out)?;
    }
    match r.outcome {
        Outcome::Stalled => writeln!(
            out,
            "outcome: stalled: the server reads until recv() returns 0, which happens only after the client's FIN; the client never sent one and waits in recv() for a reply that comes only after it. Each side waits for the other with nothing in flight. Fix: call shutdown(SHUT_WR) after the last send, or frame the request so the server knows where it ends (see 'tcplab blocks')"
        ),
        _ => writeln!(
            out,
            "outcome: completed: shutdown(SHUT_WR) closes only the sending half: the server sees EOF, and the client can still read the reply"
        ),
    }
}
