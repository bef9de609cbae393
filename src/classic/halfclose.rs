//! `tcplab halfclose`: the streamer. The client sends --bytes and then shutdown(SHUT_WR); the
//! server reads until recv() returns 0 (the FIN), replies with what it counted and closes; the
//! client reads the reply until its own EOF.
//!
//! With `--no-shutdown` the FIN never comes: the server waits in recv() for an EOF, the client
//! waits in recv() for the reply. The run goes through the same supervisor and watchdog as the
//! deadlock demo, with the watchdog's half-close rule: both threads sit in recv() (the kernel's own
//! answer, `/proc/self/task/TID/syscall`), both receive queues are empty, nothing is in flight, and
//! nothing changed for `WINDOW`. Then both sockets are shut down, which wakes both recv() calls
//! with EOF: nothing hangs.

use std::io::{self, Read};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use socket2::Socket;

use super::{DEMO_WAIT, Outcome};
use crate::counters::Shared;
use crate::follow::Follower;
use crate::observe::NoObserver;
use crate::observe::own::OwnSampler;
use crate::run::drive::{self, Ended, Job, Watch, WatchEnd};
use crate::sample::{Phase, Sample, Side};
use crate::sock::{self, NetError, Peer};
use crate::watchdog::{Rule, Verdict, Watchdog};
use crate::wire;

/// What `halfclose` needs: how much the client sends, and whether it forgets the shutdown.
#[derive(Debug, Clone, Copy)]
pub struct HalfcloseConfig {
    /// Bytes the client sends.
    pub bytes: u64,
    pub no_shutdown: bool,
}

/// How long the stall evidence must hold without a break. In a healthy run both threads are
/// never in recv() with empty queues for more than a scheduling moment.
pub const WINDOW: Duration = Duration::from_millis(300);
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

/// What a thread of the demo hands back.
enum Done {
    Server(io::Result<()>),
    Client(io::Result<Vec<u8>>),
}

impl Ended for Done {
    fn failed(&self) -> bool {
        match self {
            Done::Server(r) => r.is_err(),
            Done::Client(r) => r.is_err(),
        }
    }
}

fn server_side(conn: &Socket, s: &Shared, calls: &AtomicU64) -> io::Result<()> {
    s.server.enter();
    s.server.set(Phase::Receiving);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match (&mut &*conn).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                s.server_received.fetch_add(n as u64, Relaxed);
                calls.fetch_add(1, Relaxed);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) if s.is_stopping() => break,
            Err(e) => return Err(e),
        }
    }
    s.server.set(Phase::Sending);
    if !s.is_stopping() {
        let reply = format!(
            "server read {} bytes in {} recv() calls, then EOF",
            s.server_received.load(Relaxed),
            calls.load(Relaxed)
        );
        wire::send_all_counted(&mut &*conn, reply.as_bytes(), &s.server_sent)?;
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
        match wire::send_all_counted(&mut &*sock, &chunk[..n], &s.client_sent) {
            Ok(()) => {}
            Err(_) if s.is_stopping() => break,
            Err(e) => return Err(e),
        }
        left -= n as u64;
    }
    if shut && !s.is_stopping() {
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
            Err(_) if s.is_stopping() => break,
            Err(e) => return Err(e),
        }
    }
    s.client.set(Phase::Done);
    Ok(reply)
}

/// The evidence of a stall as the report keeps it, from the verdict and its sample.
fn stall_evidence(v: &Verdict, s: &Sample) -> StallEvidence {
    let call = |side| {
        s.threads_of(side)
            .find_map(|t| t.call)
            .map(|c| c.name().to_string())
    };
    let held = v.still_ms().unwrap_or(0);
    StallEvidence {
        server_call: call(Side::Server),
        client_call: call(Side::Client),
        server_inq_bytes: s.server.as_ref().map(|q| q.inq_bytes),
        client_inq_bytes: s.client.as_ref().map(|q| q.inq_bytes),
        client_outq_bytes: s.client.as_ref().map(|q| q.outq_bytes),
        held_ms: held,
    }
}

/// Why halfclose produced no report.
#[derive(Debug, thiserror::Error)]
pub enum HalfcloseError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot {what}: {source}")]
    Io {
        what: &'static str,
        source: io::Error,
    },
    #[error("halfclose reached no verdict within {} s; both sockets were shut down", .0.as_secs())]
    NoVerdict(Duration),
    #[error("the demo was stopped before it ended")]
    Interrupted,
}

pub fn run(a: &HalfcloseConfig) -> Result<HalfcloseReport, HalfcloseError> {
    let io = |what| move |source| HalfcloseError::Io { what, source };
    let listener = sock::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), None, 1)?;
    let addr = sock::local(&listener).map_err(io("read the listener's address"))?;
    let client = sock::connect(addr, None, DEMO_WAIT, Peer::Own)?;
    let (server, _) = listener
        .accept()
        .map_err(io("accept the demo's own connection"))?;
    let shared = Shared::default();
    let calls = AtomicU64::new(0);
    shared.server.claim(Phase::Receiving);
    shared.client.claim(Phase::Sending);
    let (sh, srv, cli, calls_ref) = (&shared, &server, &client, &calls);
    let jobs = vec![
        Job::new("tcplab-server", move || {
            Done::Server(server_side(srv, sh, calls_ref))
        }),
        Job::new("tcplab-client", move || {
            Done::Client(client_side(cli, sh, a.bytes, !a.no_shutdown))
        }),
    ];
    let watch = Watch {
        shared: &shared,
        sockets: vec![&server, &client],
        follower: Follower::new(Watchdog::new(&[Rule::HalfClose { confirm: WINDOW }]), None),
        timeout: TIMEOUT,
        verify_stall: None,
        start: None,
        cancel: None,
    };
    let mut sampler = OwnSampler::new(&shared, Some(&client), Some(&server));
    let run = drive::supervise(watch, &mut sampler, &mut NoObserver, jobs);
    let (mut served, mut reply) = (Ok(()), Ok(Vec::new()));
    for d in run.results {
        match d {
            Done::Server(r) => served = r,
            Done::Client(r) => reply = r,
        }
    }
    if let Some(e) = run.spawn_error {
        return Err(io("start the demo's threads")(e));
    }
    let stall = match run.end {
        WatchEnd::Verdict(vs) => Some(stall_evidence(&vs.0, &vs.1)),
        WatchEnd::TimedOut => return Err(HalfcloseError::NoVerdict(TIMEOUT)),
        WatchEnd::Interrupted => return Err(HalfcloseError::Interrupted),
        WatchEnd::Finished | WatchEnd::Failed => None,
    };
    let (outcome, reply) = if stall.is_some() {
        (Outcome::Stalled, Vec::new())
    } else {
        served.map_err(io("serve the client (server side)"))?;
        let reply = reply.map_err(io("read the reply (client side)"))?;
        (Outcome::Completed, reply)
    };
    Ok(HalfcloseReport {
        outcome,
        client_shut_down_write: !a.no_shutdown,
        client_sent_bytes: shared.client_sent.load(Relaxed),
        server_received_bytes: shared.server_received.load(Relaxed),
        server_recv_calls: calls.load(Relaxed),
        reply: String::from_utf8_lossy(&reply).into_owned(),
        client_received_bytes: shared.client_received.load(Relaxed),
        stall,
        elapsed_ms: run.elapsed.as_millis() as u64,
    })
}
