//! Runs one configuration of the lab end to end and returns a `RunResult`: sets the sockets up,
//! starts the server and client threads under the supervisor (`drive`), and turns what happened
//! into data (`outcome`). Nothing here words anything for a person.
//!
//! - `run_pair`: both peers in this process, all four buffers in view (`tcplab deadlock`).
//! - `run_client`: the client against a server elsewhere, watching its own side (`tcplab client`).

pub mod drive;
mod outcome;
pub(crate) use outcome::stall_report;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use socket2::Socket;

use crate::client::{self, ClientJob, ClientReport, StrategyName};
use crate::counters::{Shared, StartGate};
use crate::follow::Follower;
use crate::narrate::Narrator;
use crate::observe::Observer;
use crate::observe::own::OwnSampler;
use crate::payload;
use crate::result::{Mode, RunResult, Settings, SocketBuffers};
use crate::sample::{Phase, Side};
use crate::server::{self, ServeEnd};
use crate::sock::{self, BufReq, Dir, Limits, NetError, Peer};
use crate::units::{BufSize, ByteSize};
use crate::watchdog::Watchdog;
use drive::{Ended, Job, Watch};

pub use drive::SAMPLE_EVERY;

/// The demo's default for every buffer: stalls near 0.5 MB within a fraction of a second, while
/// the fixes still run smoothly (tiny buffers make even healthy TCP crawl; docs/four-buffers.md).
pub const DEMO_BUFFER: BufSize = BufSize::Bytes(ByteSize(64 * 1024));

pub use crate::units::MAX_CHUNK;

/// How long `--slow` makes a run last.
pub const SLOW_RUN: Duration = Duration::from_secs(15);
/// The slowest pace `--slow` picks (bytes per second).
const SLOWEST: u64 = 4 * 1024;

/// The pace (bytes per second) at which a run takes about `SLOW_RUN`: a client that never reads
/// sends until the four buffers are full (the sum of what the kernel will keep of `buffers`, the
/// client's and the server's requests); a fix sends everything.
pub fn slow_pace(strategy: StrategyName, total: u64, [client, server]: [BufReq; 2]) -> u64 {
    let bytes = if client::for_name(strategy).reads_while_sending() {
        total
    } else {
        let four = crate::model::expected(
            [
                (client.snd, Dir::Send),
                (client.rcv, Dir::Recv),
                (server.snd, Dir::Send),
                (server.rcv, Dir::Recv),
            ],
            &Limits::read(),
        );
        crate::model::predicted_capacity(four).min(total)
    };
    ((bytes as f64 / SLOW_RUN.as_secs_f64()) as u64).max(SLOWEST)
}

/// What both modes share.
#[derive(Debug, Clone)]
pub struct Traffic {
    pub strategy: StrategyName,
    /// Bytes the client sends, a whole number of chunks.
    pub total: u64,
    /// Bytes asked for, before the rounding up to whole chunks.
    pub requested: u64,
    pub chunk: usize,
    pub read: usize,
    pub nodelay: bool,
    /// How long counters and queues must stand still before kernel evidence becomes a verdict.
    pub confirm: Duration,
    /// The silence fallback of the watchdog.
    pub stall_after: Duration,
    pub timeout: Duration,
    /// After a verdict, keep watching this long before shutting down (measurement aid).
    pub verify_stall: Option<Duration>,
    /// Slow motion: the client sends at most this many bytes per second.
    pub pace: Option<u64>,
    /// Ends the run as Ctrl-C would once set (see `drive::Watch::cancel`).
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Traffic {
    /// `bytes` (rounded up to whole chunks) in writes of `chunk`, with the lab's defaults for the
    /// rest: 1 KiB reads, Nagle on, the default confirm window, a 2 s silence fallback, 120 s in
    /// all. Callers change what they need with struct update syntax.
    pub fn new(strategy: StrategyName, bytes: u64, chunk: u64) -> Traffic {
        let chunk = chunk.clamp(1, MAX_CHUNK);
        Traffic {
            strategy,
            total: payload::rounded_total(bytes, chunk),
            requested: bytes,
            chunk: chunk as usize,
            read: 1024,
            nodelay: false,
            confirm: crate::watchdog::DEFAULT_CONFIRM,
            stall_after: Duration::from_secs(2),
            timeout: Duration::from_secs(120),
            verify_stall: None,
            pace: None,
            cancel: None,
        }
    }

    fn watchdog(&self) -> Watchdog {
        Watchdog::for_deadlock(self.confirm, self.stall_after)
    }
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

/// What a thread of a run hands back.
pub(crate) enum Done {
    Server(ServeEnd),
    Client(ClientReport),
}

impl Ended for Done {
    fn failed(&self) -> bool {
        match self {
            Done::Server(e) => matches!(e, ServeEnd::Error(_)),
            Done::Client(r) => r.error.is_some(),
        }
    }
}

/// A run could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot {what}: {source}")]
    Socket {
        what: &'static str,
        source: std::io::Error,
    },
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> SetupError {
    move |source| SetupError::Socket { what, source }
}

/// Runs the server and the client in this process on an ephemeral loopback port.
pub fn run_pair(cfg: &PairConfig, obs: &mut dyn Observer) -> Result<RunResult, SetupError> {
    let limits = Limits::read();
    // The chunk exists before any connection does: a 1 GiB one takes a while to fill.
    let chunk = payload::chunk(cfg.traffic.chunk);
    let addr = sock::resolve(&cfg.host, 0)?;
    let before = |r: &BufReq| (!cfg.buffers_after_connect).then_some(*r);
    let listener = sock::listen(addr, before(&cfg.server).as_ref(), 1)?;
    let local = sock::local(&listener).map_err(io("read the listening socket's address"))?;
    let client = sock::connect(
        local,
        before(&cfg.client).as_ref(),
        Duration::from_secs(5),
        Peer::Own,
    )?;
    let (server, _) = listener
        .accept()
        .map_err(io("accept the client's connection"))?;
    drop(listener);
    if cfg.buffers_after_connect {
        cfg.server
            .apply(&server)
            .map_err(io("set the server's buffer sizes"))?;
        cfg.client
            .apply(&client)
            .map_err(io("set the client's buffer sizes"))?;
    }
    if cfg.traffic.nodelay {
        client
            .set_tcp_nodelay(true)
            .map_err(io("set TCP_NODELAY"))?;
    }
    let buffers = vec![
        socket_buffers(Side::Client, &cfg.client, &client, &limits)?,
        socket_buffers(Side::Server, &cfg.server, &server, &limits)?,
    ];
    let settings = settings(
        Mode::Deadlock,
        &cfg.traffic,
        local,
        cfg.buffers_after_connect,
    );
    drive_run(
        &cfg.traffic,
        Start::Now((settings, buffers)),
        &chunk,
        &client,
        Some(&server),
        obs,
    )
}

/// Runs the client against a server elsewhere, watching its own side. Every thread the client
/// needs is started before it connects, so a server that frees silent connections never sees it
/// wait for one (`counters::StartGate`).
pub fn run_client(cfg: &ClientConfig, obs: &mut dyn Observer) -> Result<RunResult, SetupError> {
    let limits = Limits::read();
    let chunk = payload::chunk(cfg.traffic.chunk);
    let client = sock::unconnected(cfg.addr, Some(&cfg.buffers))?;
    if cfg.traffic.nodelay {
        client
            .set_tcp_nodelay(true)
            .map_err(io("set TCP_NODELAY"))?;
    }
    let connect = || -> Result<Ready, SetupError> {
        sock::connect_now(&client, cfg.addr, cfg.connect_timeout, Peer::Echo)?;
        let buffers = vec![socket_buffers(
            Side::Client,
            &cfg.buffers,
            &client,
            &limits,
        )?];
        let mut settings = settings(Mode::Client, &cfg.traffic, cfg.addr, false);
        settings.client_addr = sock::local(&client).ok().map(|a| a.to_string());
        Ok((settings, buffers))
    };
    drive_run(
        &cfg.traffic,
        Start::AfterConnect(Box::new(connect)),
        &chunk,
        &client,
        None,
        obs,
    )
}

/// What `classify` needs besides the run: the settings and the buffers the kernel granted.
type Ready = (Settings, Vec<SocketBuffers>);

/// When the threads may start: at once (connected already), or once a connect succeeds.
enum Start<'a> {
    Now(Ready),
    AfterConnect(Box<dyn FnOnce() -> Result<Ready, SetupError> + 'a>),
}

/// How long the connect waits for the client's threads to be ready at the start gate.
const THREADS_READY_BOUND: Duration = Duration::from_secs(30);

fn socket_buffers(
    role: Side,
    req: &BufReq,
    s: &Socket,
    limits: &Limits,
) -> Result<SocketBuffers, SetupError> {
    let (sndbuf, rcvbuf) = req
        .report(s, limits)
        .map_err(io("read the buffer sizes back"))?;
    Ok(SocketBuffers {
        role,
        sndbuf,
        rcvbuf,
    })
}

fn settings(mode: Mode, t: &Traffic, addr: SocketAddr, after: bool) -> Settings {
    Settings {
        mode,
        strategy: t.strategy,
        bytes_total: t.total,
        bytes_requested: t.requested,
        chunk_bytes: t.chunk as u64,
        read_bytes: t.read as u64,
        server_addr: addr.to_string(),
        client_addr: None,
        buffers_after_connect: after,
        nodelay: t.nodelay,
        stall_after_ms: t.stall_after.as_millis() as u64,
        timeout_ms: t.timeout.as_millis() as u64,
    }
}

/// Starts the threads (the server's first, so its thread is in view from the start), supervises
/// them, and turns what happened into the result.
fn drive_run(
    t: &Traffic,
    start: Start<'_>,
    chunk: &[u8],
    client: &Socket,
    server: Option<&Socket>,
    obs: &mut dyn Observer,
) -> Result<RunResult, SetupError> {
    let mut shared = Shared::default();
    let strategy = client::for_name(t.strategy);
    let ready = std::cell::RefCell::new(None);
    let start = match start {
        Start::Now(r) => {
            *ready.borrow_mut() = Some(Ok(r));
            None
        }
        Start::AfterConnect(connect) => {
            shared.start = StartGate::closed();
            Some(connect)
        }
    };
    let shared = shared;
    let mut jobs: Vec<Job<'_, Done>> = Vec::new();
    let mut sockets = vec![client];
    if let Some(server) = server {
        sockets.push(server);
        shared.server.claim(Phase::Receiving);
        let (shared, read) = (&shared, t.read);
        jobs.push(Job::new("tcplab-server", move || {
            let mut buf = vec![0u8; read];
            Done::Server(server::serve(server, &mut buf, &shared.serve_counters()))
        }));
    }
    shared.client.claim(Phase::NotStarted);
    let job = ClientJob {
        sock: client,
        total: t.total,
        chunk,
        read: t.read,
        shared: &shared,
        pace: t.pace,
    };
    jobs.push(Job::new("tcplab-client", move || {
        Done::Client(strategy.run(&job))
    }));
    let mut sampler = OwnSampler::new(&shared, Some(client), server)
        .client_role(strategy.role())
        .paced(t.pace.map(|_| t.total));
    let gate = &shared.start;
    let watch = Watch {
        shared: &shared,
        sockets,
        follower: Follower::new(t.watchdog(), Some(Narrator::new(t.pace))),
        timeout: t.timeout,
        verify_stall: t.verify_stall,
        cancel: t.cancel.as_deref(),
        start: start.map(|connect| -> drive::Start<'_> {
            let ready = &ready;
            Box::new(move |spawned| {
                if spawned {
                    gate.wait_arrived(strategy.threads(), THREADS_READY_BOUND);
                    *ready.borrow_mut() = Some(connect());
                }
                let ok = matches!(*ready.borrow(), Some(Ok(_)));
                gate.release(ok);
                ok
            })
        }),
    };
    let run = drive::supervise(watch, &mut sampler, obs, jobs);
    let (settings, buffers) = match ready.into_inner() {
        Some(r) => r?,
        None => {
            return Err(SetupError::Socket {
                what: "start the client's threads",
                source: run
                    .spawn_error
                    .unwrap_or_else(|| std::io::Error::other("no thread started")),
            });
        }
    };
    Ok(outcome::classify(
        t, settings, buffers, &shared, client, server, run,
    ))
}
