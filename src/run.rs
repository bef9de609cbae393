//! Runs one configuration end to end and returns a `RunResult`: sets the sockets up, starts the
//! server and client threads, samples counters and kernel queues every few ms, hands each sample
//! to the watchdog and to any observer (live view, timeline), ends a stall by shutting the sockets
//! down, joins every thread. Formats nothing.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use socket2::Socket;
use std::net::Shutdown;

use crate::cli::common::StrategyName;
use crate::client::{self, ClientJob, ClientReport};
use crate::counters::Shared;
use crate::result::{
    BufferSize, Counts, FORMAT_VERSION, KernelQueues, Outcome, RunResult, Settings, SocketBuffers,
    StallReport, ThreadReport, Timings,
};
use crate::server::{self, ServeEnd};
use crate::sock::{self, BufReq, Limits};
use crate::watchdog::{Sample, ThreadNow, Verdict, WatchConfig, Watchdog};
use crate::{interrupt, ledger, payload};

/// How often the watcher samples counters and queues.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How long a thread may take to return once its socket is shut down.
const JOIN_BOUND: Duration = Duration::from_secs(5);

/// Receives every sample the watcher takes (live view, timeline recorder).
pub trait Observer {
    fn sample(&mut self, s: &Sample);
    /// The run is over; clear anything drawn.
    fn finish(&mut self) {}
}

pub struct NoObserver;
impl Observer for NoObserver {
    fn sample(&mut self, _: &Sample) {}
}

/// What both modes share.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub strategy: StrategyName,
    /// Bytes the client sends, a whole number of chunks.
    pub total: u64,
    pub chunk: usize,
    pub read: usize,
    pub nodelay: bool,
    pub watch: WatchConfig,
    pub timeout: Duration,
    /// After a verdict, keep watching this long before shutting down (measurement aid).
    pub verify_stall: Option<Duration>,
}

/// The one-process demo: both peers here, so all four buffers are visible.
#[derive(Debug, Clone)]
pub struct PairConfig {
    pub traffic: Traffic,
    pub host: String,
    pub client: BufReq,
    pub server: BufReq,
    pub buffers_after_connect: bool,
}

/// `tcplab client`: this side only.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub traffic: Traffic,
    pub addr: SocketAddr,
    pub buffers: BufReq,
    pub connect_timeout: Duration,
}

enum Done {
    Server(ServeEnd),
    Client(ClientReport),
}

enum WatchEnd {
    Finished,
    Failed,
    Stall(Box<(Verdict, Sample)>),
    TimedOut,
    Interrupted,
}

/// Runs the server and the client in this process on an ephemeral loopback port.
pub fn run_pair(cfg: &PairConfig, obs: &mut dyn Observer) -> anyhow::Result<RunResult> {
    let limits = Limits::read();
    let addr = sock::resolve(&cfg.host, 0)?;
    let before = |r: &BufReq| (!cfg.buffers_after_connect).then_some(*r);
    let listener = sock::listen(addr, before(&cfg.server).as_ref(), 1)?;
    let local = listener
        .local_addr()?
        .as_socket()
        .context("the listening socket has no IP address")?;
    let client = sock::connect(local, before(&cfg.client).as_ref(), Duration::from_secs(5))?;
    let (server, _) = listener
        .accept()
        .context("cannot accept the client's connection")?;
    drop(listener);
    if cfg.buffers_after_connect {
        cfg.server
            .apply(&server)
            .context("cannot set the server's buffer sizes")?;
        cfg.client
            .apply(&client)
            .context("cannot set the client's buffer sizes")?;
    }
    if cfg.traffic.nodelay {
        client
            .set_tcp_nodelay(true)
            .context("cannot set TCP_NODELAY")?;
    }
    let sizes = [
        ("client", cfg.client, &client),
        ("server", cfg.server, &server),
    ];
    let buffers = sizes
        .iter()
        .map(|(role, req, s)| socket_buffers(role, req, s, &limits))
        .collect::<std::io::Result<Vec<_>>>()?;
    let settings = settings("deadlock", &cfg.traffic, local, cfg.buffers_after_connect);
    Ok(drive(
        &cfg.traffic,
        settings,
        buffers,
        &client,
        Some(&server),
        obs,
    ))
}

/// Runs the client against a server elsewhere, watching its own side.
pub fn run_client(cfg: &ClientConfig, obs: &mut dyn Observer) -> anyhow::Result<RunResult> {
    let limits = Limits::read();
    let client = sock::connect(cfg.addr, Some(&cfg.buffers), cfg.connect_timeout)?;
    if cfg.traffic.nodelay {
        client
            .set_tcp_nodelay(true)
            .context("cannot set TCP_NODELAY")?;
    }
    let buffers = vec![socket_buffers("client", &cfg.buffers, &client, &limits)?];
    let settings = settings("client", &cfg.traffic, cfg.addr, false);
    Ok(drive(&cfg.traffic, settings, buffers, &client, None, obs))
}

fn socket_buffers(
    role: &str,
    req: &BufReq,
    s: &Socket,
    limits: &Limits,
) -> std::io::Result<SocketBuffers> {
    let (sndbuf, rcvbuf) = req.report(s, limits)?;
    Ok(SocketBuffers {
        role: role.to_string(),
        sndbuf,
        rcvbuf,
    })
}

fn settings(mode: &str, t: &Traffic, addr: SocketAddr, after: bool) -> Settings {
    Settings {
        mode: mode.to_string(),
        strategy: t.strategy.as_str().to_string(),
        bytes_total: t.total,
        chunk_bytes: t.chunk as u64,
        read_bytes: t.read as u64,
        server_addr: addr.to_string(),
        buffers_after_connect: after,
        nodelay: t.nodelay,
        stall_after_ms: t.watch.stall_after.as_millis() as u64,
        timeout_ms: t.timeout.as_millis() as u64,
    }
}

fn drive(
    t: &Traffic,
    settings: Settings,
    mut buffers: Vec<SocketBuffers>,
    client: &Socket,
    server: Option<&Socket>,
    obs: &mut dyn Observer,
) -> RunResult {
    let shared = Shared::default();
    let chunk = payload::chunk(t.chunk);
    let started = Instant::now();
    let (end, dones, last_progress, moved_after) = thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Done>();
        let mut expected = 0;
        let mut spawn_err = None;
        if let Some(server) = server {
            let tx = tx.clone();
            let shared = &shared;
            let read = t.read;
            let r = thread::Builder::new()
                .name("tcplab-server".into())
                .spawn_scoped(scope, move || {
                    let mut buf = vec![0u8; read];
                    let c = shared.serve_counters();
                    let _ = tx.send(Done::Server(server::serve(server, &mut buf, &c)));
                });
            match r {
                Ok(_) => expected += 1,
                Err(e) => spawn_err = Some(e),
            }
        }
        let job = ClientJob {
            sock: client,
            total: t.total,
            chunk: &chunk,
            read: t.read,
            shared: &shared,
        };
        let strategy = client::for_name(t.strategy);
        let r = thread::Builder::new()
            .name("tcplab-client".into())
            .spawn_scoped(scope, move || {
                let _ = tx.send(Done::Client(strategy.run(&job)));
            });
        match r {
            Ok(_) => expected += 1,
            Err(e) => spawn_err = Some(e),
        }
        let mut wd = Watchdog::new(t.watch);
        let mut dones = Vec::new();
        let end = if spawn_err.is_some() {
            WatchEnd::Failed
        } else {
            watch(
                t, &shared, client, server, &rx, expected, &mut wd, &mut dones, started, obs,
            )
        };
        let moved_after = match (&end, t.verify_stall) {
            (WatchEnd::Stall(vs), Some(d)) => {
                Some(moved_within(&shared, &rx, &mut dones, vs.1.counts, d))
            }
            _ => None,
        };
        if !matches!(end, WatchEnd::Finished) {
            shared.stopping.store(true, Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            if let Some(s) = server {
                let _ = s.shutdown(Shutdown::Both);
            }
            while dones.len() < expected {
                match rx.recv_timeout(JOIN_BOUND) {
                    Ok(d) => dones.push(d),
                    Err(_) => break,
                }
            }
        }
        (end, dones, wd.last_progress(), moved_after)
    });
    obs.finish();
    let elapsed = started.elapsed();
    let counts = shared.counts();

    let mut result = RunResult {
        format_version: FORMAT_VERSION,
        settings,
        buffers: Vec::new(),
        outcome: Outcome::Completed,
        counts,
        stall: None,
        ledger: None,
        client_queues: None,
        server_queues: None,
        verification: None,
        short_sends: None,
        timings: Timings {
            elapsed_ms: ms(elapsed),
            last_progress_ms: ms(last_progress),
        },
        error: None,
    };
    let mut server_error = None;
    let mut client_report = None;
    for d in dones {
        match d {
            Done::Server(ServeEnd::Error(e)) if !shared.is_stopping() => server_error = Some(e),
            Done::Server(_) => {}
            Done::Client(r) => client_report = Some(r),
        }
    }
    let (cq, sq) = match &end {
        WatchEnd::Stall(vs) => (vs.1.client_q.clone(), vs.1.server_q.clone()),
        _ => (
            sock::queues(client).ok(),
            server.and_then(|s| sock::queues(s).ok()),
        ),
    };
    set_final_sizes(&mut buffers, cq.as_ref(), sq.as_ref());
    result.buffers = buffers;
    if let Some(r) = &client_report {
        result.verification = r.verification.clone();
        result.short_sends = r.short_sends;
    }
    let client_error = client_report.as_mut().and_then(|r| r.error.take());
    result.outcome = match end {
        WatchEnd::Stall(vs) => {
            let (v, s) = *vs;
            if let (Some(c), Some(sv)) = (&s.client_q, &s.server_q) {
                result.ledger = Some(ledger::build(
                    &s.counts,
                    c,
                    sv,
                    t.chunk as u64,
                    t.read as u64,
                ));
            }
            result.counts = s.counts;
            result.stall = Some(StallReport {
                moved_after_verdict_bytes: moved_after,
                ..stall_report(&v, &s)
            });
            Outcome::Deadlock
        }
        WatchEnd::TimedOut => {
            result.error = Some(format!(
                "no end within {} ms (--timeout); both sockets were shut down",
                t.timeout.as_millis()
            ));
            Outcome::TimedOut
        }
        WatchEnd::Interrupted => Outcome::Interrupted,
        WatchEnd::Finished | WatchEnd::Failed => {
            // A peer that answered with text (a busy server's refusal) usually also closes, so
            // its words explain the failure better than the I/O error that followed them.
            let peer_said = result
                .verification
                .as_ref()
                .and_then(|v| v.peer_said.clone());
            if let Some(text) = peer_said {
                result.error = Some(format!(
                    "the server answered with text instead of the echo: '{text}'"
                ));
                Outcome::Failed
            } else if let Some(e) = client_error.or(server_error) {
                result.error = Some(describe_io_error(&e, &counts, t));
                Outcome::Failed
            } else if let Some(v) = result.verification.as_ref().filter(|v| !v.matched) {
                result.error = Some(match v.first_mismatch_at {
                    Some(at) if at < v.received_bytes => {
                        format!("the echo differs from the uppercased input at byte {at}")
                    }
                    _ => format!(
                        "the echo is {} bytes where {} were expected",
                        v.received_bytes, v.expected_bytes
                    ),
                });
                Outcome::Failed
            } else {
                Outcome::Completed
            }
        }
    };
    result.client_queues = cq;
    result.server_queues = sq;
    result
}

#[allow(clippy::too_many_arguments)]
fn watch(
    t: &Traffic,
    shared: &Shared,
    client: &Socket,
    server: Option<&Socket>,
    rx: &mpsc::Receiver<Done>,
    expected: usize,
    wd: &mut Watchdog,
    dones: &mut Vec<Done>,
    started: Instant,
    obs: &mut dyn Observer,
) -> WatchEnd {
    let mut last_counts = Counts::default();
    loop {
        match rx.recv_timeout(SAMPLE_EVERY) {
            Ok(d) => {
                let failed = match &d {
                    Done::Server(ServeEnd::Error(_)) => true,
                    Done::Client(r) => r.error.is_some(),
                    Done::Server(ServeEnd::Eof) => false,
                };
                dones.push(d);
                if failed {
                    return WatchEnd::Failed;
                }
                if dones.len() == expected {
                    return WatchEnd::Finished;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return WatchEnd::Finished,
        }
        let counts = shared.counts();
        // Only ask the kernel which call a thread is in when nothing moved since the last sample:
        // a thread whose counter moves is not blocked, and /proc reads are not free.
        let still = counts == last_counts;
        last_counts = counts;
        let now = |slot: &crate::counters::ThreadSlot| {
            ThreadNow::new(slot.phase(), still.then(|| slot.kernel_call()).flatten())
        };
        let s = Sample {
            at: started.elapsed(),
            counts,
            client: now(&shared.client),
            reader: shared.reader.used().then(|| now(&shared.reader)),
            server: server.map(|_| now(&shared.server)),
            client_q: sock::queues(client).ok(),
            server_q: server.and_then(|s| sock::queues(s).ok()),
        };
        obs.sample(&s);
        if let Some(v) = wd.observe(&s) {
            return WatchEnd::Stall(Box::new((v, s)));
        }
        if interrupt::requested() {
            return WatchEnd::Interrupted;
        }
        if started.elapsed() >= t.timeout {
            return WatchEnd::TimedOut;
        }
    }
}

fn stall_report(v: &Verdict, s: &Sample) -> StallReport {
    let thread = |name: &str, t: ThreadNow| ThreadReport {
        name: name.to_string(),
        phase: t.phase.name().to_string(),
        kernel_call: t.call.map(str::to_string),
    };
    let mut threads = vec![thread("tcplab-client", s.client)];
    if let Some(r) = s.reader {
        threads.push(thread("tcplab-reader", r));
    }
    if let Some(sv) = s.server {
        threads.push(thread("tcplab-server", sv));
    }
    StallReport {
        basis: v.basis,
        last_progress_ms: ms(v.last_progress),
        verdict_ms: ms(v.at),
        evidence: v.evidence.clone(),
        threads,
        moved_after_verdict_bytes: None,
    }
}

/// Keeps a stalled run going for `d` and returns how far the app counters moved meanwhile.
/// A thread that ends in that time ends the wait (it moved, or failed).
fn moved_within(
    shared: &Shared,
    rx: &mpsc::Receiver<Done>,
    dones: &mut Vec<Done>,
    at: Counts,
    d: Duration,
) -> u64 {
    let end = Instant::now() + d;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        if let Ok(done) = rx.recv_timeout(left) {
            dones.push(done);
            break;
        }
    }
    shared.counts().total() - at.total()
}

fn set_final_sizes(
    buffers: &mut [SocketBuffers],
    client: Option<&KernelQueues>,
    server: Option<&KernelQueues>,
) {
    for b in buffers {
        let q = if b.role == "client" { client } else { server };
        if let Some(q) = q {
            set(&mut b.sndbuf, q.sndbuf_bytes);
            set(&mut b.rcvbuf, q.rcvbuf_bytes);
        }
    }
    fn set(b: &mut BufferSize, v: u64) {
        b.final_bytes = v;
    }
}

/// One line for an I/O error in the middle of the traffic, with the counts so far.
fn describe_io_error(e: &std::io::Error, c: &Counts, t: &Traffic) -> String {
    use std::io::ErrorKind::*;
    let what = match e.kind() {
        ConnectionReset => "the peer reset the connection",
        BrokenPipe => "the peer closed the connection while this side was still sending",
        UnexpectedEof => "the peer closed the connection early",
        _ => "",
    };
    let what = if what.is_empty() {
        format!("the connection failed: {e}")
    } else {
        what.to_string()
    };
    // A connection closed before any echo came back is most often a full classroom server
    // (--max-conns), which writes one line and closes at once.
    let hint = if c.client_received_bytes == 0 && matches!(e.kind(), ConnectionReset | BrokenPipe) {
        "is the server full (its --max-conns) or not an echo server?"
    } else {
        "is the other side running the same experiment?"
    };
    format!(
        "{what} after {} of {} bytes were sent and {} came back; {hint}",
        c.client_sent_bytes, t.total, c.client_received_bytes
    )
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
