//! The classroom load test: N clients at once against one server, a fraction of them deadlocking
//! (`holder.rs`: they stay stuck until the server frees them) and the rest fixed (reader-thread and
//! poll through `run::run_client`, content verified). While they run, the server's resident memory
//! and thread count are sampled from /proc. Produces a `LoadReport`; `report::load` words it.
//!
//! Ctrl-C or SIGTERM stops it starting clients; those already started end by themselves within a
//! moment (the fixed ones stop on the signal, the holders within one send slice), and the round
//! reports what they did. The server may have stopped on the same Ctrl-C, so its /proc entry may
//! be gone by then.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

pub use crate::classroom::crowd::Tally;
use crate::classroom::crowd::{self, Class};
use crate::classroom::event::{ConnClosed, ConnEnd, ServerEvent};
use crate::classroom::managed::{ManagedServer, ServerSpec};
pub use crate::classroom::outcomes::{
    ClientEnd, ClientOutcome, LoadReport, LoadRole, LoadRun, ServerUsage,
};
use crate::classroom::procstat::{self, ProcStatus};
use crate::interrupt;
use crate::sock::BufReq;

/// A freed client is "freed within the idle limit" when the server closed it at most this long
/// after `--idle-timeout` had passed since its connection last moved (a byte sent, or more echo
/// arriving; `HolderResult::last_progress_ms`): one supervisor tick (100 ms), one send
/// slice of the holder (200 ms), and room for a busy 2-core machine.
pub const FREE_SLACK: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub addr: SocketAddr,
    pub server_pid: Option<u32>,
    pub clients: u32,
    pub deadlocking: f64,
    pub bytes: u64,
    pub hold_bytes: u64,
    pub chunk: usize,
    pub buffers: BufReq,
    pub idle_timeout: Duration,
    pub rss_tolerance: u64,
    pub timeout: Duration,
}

/// A whole load test: the server (one started here, or one already running), the rounds.
#[derive(Debug, Clone)]
pub struct LoadTest {
    /// One round's clients; its `addr` and `server_pid` are filled in for a started server.
    pub round: LoadConfig,
    pub rounds: u32,
    /// Start a server with these settings; `None`: one is running at `round.addr`.
    pub start: Option<ServerSpec>,
}

/// Hears how a load test goes, as it goes.
pub trait Progress: Send {
    /// Round `round` of `of` starts against the server at `addr`.
    fn round(&mut self, round: u32, of: u32, addr: SocketAddr);
    /// How the round's class is doing (about ten times a second).
    fn tally(&mut self, t: Tally);
}

/// Why a load test cannot start against a server that should already be running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// No socket listens at the address.
    NothingListens { addr: SocketAddr },
    /// `--server-pid` names no process.
    NoSuchProcess { pid: u32 },
    /// `--server-pid` names a process that does not hold the listening socket; `holders` are the
    /// ones that do, where they can be read.
    NotTheServer {
        pid: u32,
        name: Option<String>,
        addr: SocketAddr,
        holders: Vec<u32>,
    },
}

/// Checks, without connecting, that a server listens at `addr` and that `pid` (when given) is the
/// process holding its listening socket: memory and threads of another process would be measured
/// without complaint, and a class against a closed port fails one refused client at a time.
pub fn preflight(addr: SocketAddr, pid: Option<u32>) -> Result<(), NotReady> {
    let listening: Vec<u64> = [procfs::net::tcp(), procfs::net::tcp6()]
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.state == procfs::net::TcpState::Listen
                && e.local_address.port() == addr.port()
                && (e.local_address.ip().is_unspecified()
                    || e.local_address.ip().to_canonical() == addr.ip().to_canonical())
        })
        .map(|e| e.inode)
        .collect();
    if listening.is_empty() {
        return Err(NotReady::NothingListens { addr });
    }
    let Some(pid) = pid else { return Ok(()) };
    if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
        return Err(NotReady::NoSuchProcess { pid });
    }
    let held = crate::sys::proc::socket_inodes(pid);
    if listening.iter().any(|i| held.contains(i)) {
        return Ok(());
    }
    let owners = crate::sys::proc::socket_owners(&listening.iter().copied().collect());
    let mut holders: Vec<u32> = owners.values().flatten().map(|o| o.pid as u32).collect();
    holders.sort_unstable();
    holders.dedup();
    Err(NotReady::NotTheServer {
        pid,
        name: std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .ok()
            .map(|n| n.trim().to_string()),
        addr,
        holders,
    })
}

/// Runs the rounds against the server (starting it first and stopping it at the end, when asked
/// to), and judges the whole.
pub fn test(t: &LoadTest, progress: &mut dyn Progress) -> anyhow::Result<LoadRun> {
    let mut cfg = t.round.clone();
    let mut server = t.start.as_ref().map(ManagedServer::start).transpose()?;
    if let Some(s) = &server {
        cfg.addr = s.addr;
        cfg.server_pid = Some(s.pid());
    }
    let mut rounds = Vec::new();
    for round in 1..=t.rounds {
        if interrupt::requested() {
            break;
        }
        progress.round(round, t.rounds, cfg.addr);
        rounds.push(run(&cfg, &mut |tally| progress.tally(tally))?);
    }
    let interrupted = interrupt::requested();
    let events = server.as_mut().map(ManagedServer::stop).transpose()?;
    let totals = events.as_ref().and_then(|ev| {
        ev.iter().rev().find_map(|e| match e {
            ServerEvent::Stopped { totals, .. } => Some(*totals),
            _ => None,
        })
    });
    let freed_after = events.as_ref().and_then(|ev| {
        ev.iter()
            .filter_map(|e| match e {
                ServerEvent::Closed(ConnClosed {
                    end: ConnEnd::Stuck { still_ms, .. },
                    ..
                }) => Some(*still_ms),
                _ => None,
            })
            .max()
    });
    let stopped_cleanly = events.as_ref().map(|_| totals.is_some());
    Ok(LoadRun {
        ok: !interrupted && rounds.iter().all(|r| r.ok) && stopped_cleanly != Some(false),
        interrupted,
        server_max_freed_after_ms: freed_after,
        server_stopped_cleanly: stopped_cleanly,
        server_totals: totals,
        rounds,
    })
}

/// Whether client `i` of a run deadlocks: spreads the deadlocking ones evenly through the start
/// order (for 0.5: every other client).
pub fn is_deadlocking(i: u32, fraction: f64) -> bool {
    let f = |n: u32| (f64::from(n) * fraction).floor() as u64;
    f(i + 1) > f(i)
}

/// One round: the class on one event loop (`crowd`), the server's memory and threads sampled
/// while it runs; `tally` hears how the class is doing.
pub fn run(cfg: &LoadConfig, tally: &mut (dyn FnMut(Tally) + Send)) -> anyhow::Result<LoadReport> {
    let before = match cfg.server_pid.map(procstat::read).transpose() {
        Ok(b) => b,
        // The server may have stopped on the same Ctrl-C that ends this round.
        Err(_) if interrupt::requested() => None,
        Err(e) => return Err(e.into()),
    };
    let class = Class {
        addr: cfg.addr,
        clients: cfg.clients,
        deadlocking: is_deadlocking,
        fraction: cfg.deadlocking,
        bytes: cfg.bytes,
        hold_bytes: cfg.hold_bytes,
        chunk: cfg.chunk,
        buffers: cfg.buffers,
        timeout: cfg.timeout,
        free_within: cfg.idle_timeout + FREE_SLACK,
    };
    let mut peak = before;
    let started = Instant::now();
    // The class runs on a thread of its own, named so that it can be seen in /proc.
    let outcomes = thread::scope(|scope| {
        thread::Builder::new()
            .name("tcplab-class".into())
            .spawn_scoped(scope, || {
                crowd::run(&class, &mut |t| {
                    if let (Some(pid), Some(p)) = (cfg.server_pid, peak.as_mut())
                        && let Ok(now) = procstat::read(pid)
                    {
                        p.rss_bytes = p.rss_bytes.max(now.rss_bytes);
                        p.threads = p.threads.max(now.threads);
                    }
                    tally(t);
                })
            })?
            .join()
            .map_err(|_| std::io::Error::other("the class's thread panicked"))?
    })?;
    let elapsed = started.elapsed();
    let server = match (cfg.server_pid, before, peak) {
        (Some(pid), Some(before), Some(peak)) => match settle(pid, before, peak, cfg) {
            Ok(usage) => Some(usage),
            // The server may have stopped on the same Ctrl-C and left /proc already.
            Err(_) if interrupt::requested() => None,
            Err(e) => return Err(e),
        },
        _ => None,
    };
    Ok(report(outcomes, server, cfg, elapsed))
}

/// Waits (bounded) for the server's thread count to return to its baseline, then reads it.
fn settle(
    pid: u32,
    before: ProcStatus,
    peak: ProcStatus,
    cfg: &LoadConfig,
) -> anyhow::Result<ServerUsage> {
    let until = Instant::now() + cfg.idle_timeout * 2 + Duration::from_secs(5);
    let mut after = procstat::read(pid)?;
    while after.threads > before.threads && Instant::now() < until && !interrupt::requested() {
        thread::sleep(Duration::from_millis(50)); // polling /proc with a deadline
        after = procstat::read(pid)?;
    }
    // The server gives memory back once its last thread is joined (at its next tick, 0.1 s):
    // read again until its resident size stops falling, a few ticks at most.
    for _ in 0..10 {
        if Instant::now() >= until || interrupt::requested() {
            break;
        }
        thread::sleep(Duration::from_millis(100)); // polling /proc with a deadline
        let now = procstat::read(pid)?;
        let fell = now.rss_bytes < after.rss_bytes;
        after = now;
        if !fell {
            break;
        }
    }
    Ok(ServerUsage {
        before,
        peak,
        after,
        rss_growth_bytes: after.rss_bytes as i64 - before.rss_bytes as i64,
        rss_tolerance_bytes: cfg.rss_tolerance,
    })
}

fn report(
    clients: Vec<ClientOutcome>,
    server: Option<ServerUsage>,
    cfg: &LoadConfig,
    elapsed: Duration,
) -> LoadReport {
    let count = |role: LoadRole, ok: bool| {
        clients
            .iter()
            .filter(|c| c.role == role && (!ok || c.ok))
            .count() as u32
    };
    let server_ok = server.as_ref().is_none_or(|s| {
        s.after.threads <= s.before.threads && s.rss_growth_bytes <= s.rss_tolerance_bytes as i64
    });
    let mut r = LoadReport {
        fixed_total: count(LoadRole::Fixed, false),
        fixed_ok: count(LoadRole::Fixed, true),
        deadlocking_total: count(LoadRole::Deadlocking, false),
        deadlocking_ok: count(LoadRole::Deadlocking, true),
        max_stall_to_free_ms: clients.iter().filter_map(|c| c.stall_to_free_ms).max(),
        idle_timeout_ms: cfg.idle_timeout.as_millis() as u64,
        elapsed_ms: elapsed.as_millis() as u64,
        clients,
        server,
        interrupted: interrupt::requested(),
        ok: false,
    };
    r.ok = server_ok
        && !r.interrupted
        && r.fixed_ok == r.fixed_total
        && r.deadlocking_ok == r.deadlocking_total;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadlocking_fraction_is_spread_evenly() {
        let picked = |n: u32, f: f64| (0..n).filter(|&i| is_deadlocking(i, f)).count();
        assert_eq!(picked(200, 0.5), 100);
        assert_eq!(picked(40, 0.25), 10);
        assert_eq!(picked(7, 0.0), 0);
        assert_eq!(picked(7, 1.0), 7);
        assert!(is_deadlocking(1, 0.5) && !is_deadlocking(0, 0.5));
    }
}
