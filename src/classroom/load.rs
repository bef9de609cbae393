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
use std::sync::{Arc, PoisonError, RwLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::classroom::event::{ConnEnd, ServerEvent};
use crate::classroom::holder::{self, HolderConfig, HolderEnd};
use crate::classroom::managed::{ManagedServer, ServerSpec};
pub use crate::classroom::outcomes::{
    ClientEnd, ClientOutcome, LoadReport, LoadRole, LoadRun, ServerUsage,
};
use crate::classroom::procstat::{self, ProcStatus};
use crate::client::StrategyName;
use crate::interrupt;
use crate::observe::NoObserver;
use crate::result::Outcome;
use crate::run::{self, ClientConfig, Traffic};
use crate::sock::BufReq;

/// A freed client is "freed within the idle limit" when the server closed it at most this long
/// after `--idle-timeout` had passed since its connection last moved (a byte sent, or more echo
/// arriving; `HolderResult::last_progress_ms`): one supervisor tick (100 ms), one send
/// slice of the holder (200 ms), and room for a busy 2-core machine.
pub const FREE_SLACK: Duration = Duration::from_millis(1500);
/// Stack of each client thread here (the strategies start their own threads as needed).
const CLIENT_STACK: usize = 256 * 1024;

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

/// Runs the rounds against the server (starting it first and stopping it at the end, when asked
/// to), and judges the whole. `on_round` hears each round as it starts (number, of how many, and
/// the server's address).
pub fn test(
    t: &LoadTest,
    on_round: &mut dyn FnMut(u32, u32, SocketAddr),
) -> anyhow::Result<LoadRun> {
    let mut cfg = t.round.clone();
    let mut server = match &t.start {
        Some(spec) => {
            let s = ManagedServer::start(spec)?;
            cfg.addr = s.addr;
            cfg.server_pid = Some(s.pid());
            Some(s)
        }
        None => None,
    };
    let mut rounds = Vec::new();
    for round in 1..=t.rounds {
        if interrupt::requested() {
            break;
        }
        on_round(round, t.rounds, cfg.addr);
        rounds.push(run(&cfg)?);
    }
    let interrupted = interrupt::requested();
    let events = match server.as_mut() {
        Some(s) => Some(s.stop()?),
        None => None,
    };
    let totals = events.as_ref().and_then(|ev| {
        ev.iter().rev().find_map(|e| match e {
            ServerEvent::Stopped { totals, .. } => Some(*totals),
            _ => None,
        })
    });
    let freed_after = events.as_ref().and_then(|ev| {
        ev.iter()
            .filter_map(|e| match e {
                ServerEvent::Closed(c) => match &c.end {
                    ConnEnd::Stuck { still_ms, .. } => Some(*still_ms),
                    _ => None,
                },
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

pub fn run(cfg: &LoadConfig) -> anyhow::Result<LoadReport> {
    let before = match cfg.server_pid.map(procstat::read).transpose() {
        Ok(b) => b,
        // The server may have stopped on the same Ctrl-C that ends this round.
        Err(_) if interrupt::requested() => None,
        Err(e) => return Err(e.into()),
    };
    let (tx, rx) = mpsc::channel::<ClientOutcome>();
    let mut handles = Vec::new();
    // Every client thread exists before the first one connects, so the class really arrives at
    // once: started one by one, a thousand clients took a minute to connect, the first ones done
    // before the last began.
    // A lock held for writing while they are started; each waits by taking it for reading, so
    // once it is let go they all proceed together (a condition variable's mutex made a thousand
    // wake one after another, over 36 s on two busy cores).
    let line = Arc::new(RwLock::new(false));
    let mut starting = line.write().unwrap_or_else(PoisonError::into_inner);
    let mut spawned = Ok(());
    for i in 0..cfg.clients {
        if interrupt::requested() {
            break;
        }
        let tx = tx.clone();
        let cfg = cfg.clone();
        let line = Arc::clone(&line);
        let h = thread::Builder::new()
            .name(format!("tcplab-load-{i}"))
            .stack_size(CLIENT_STACK)
            .spawn(move || {
                if !*line.read().unwrap_or_else(PoisonError::into_inner) {
                    return;
                }
                let o = if is_deadlocking(i, cfg.deadlocking) {
                    deadlocking(i, &cfg)
                } else {
                    fixed(i, &cfg)
                };
                let _ = tx.send(o);
            });
        match h {
            Ok(h) => handles.push(h),
            Err(e) => {
                spawned = Err(e);
                break;
            }
        }
    }
    let go = spawned.is_ok() && !interrupt::requested();
    *starting = go;
    drop(starting);
    spawned?;
    let started = Instant::now();
    drop(tx);
    let started_clients = if go { handles.len() } else { 0 };
    let mut outcomes = Vec::new();
    let mut peak = before;
    // Every client is bounded by cfg.timeout; this bound adds the time to connect and report.
    let deadline = started + cfg.timeout + Duration::from_secs(15);
    while outcomes.len() < started_clients && Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(o) => outcomes.push(o),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let (Some(pid), Some(p)) = (cfg.server_pid, peak.as_mut())
            && let Ok(now) = procstat::read(pid)
        {
            p.rss_bytes = p.rss_bytes.max(now.rss_bytes);
            p.threads = p.threads.max(now.threads);
        }
    }
    let elapsed = started.elapsed();
    if outcomes.len() < started_clients {
        anyhow::bail!(
            "only {} of {} clients ended within {} s; is the server answering?",
            outcomes.len(),
            started_clients,
            (cfg.timeout + Duration::from_secs(15)).as_secs()
        );
    }
    for h in handles {
        let _ = h.join();
    }
    outcomes.sort_by_key(|o| o.index);
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

fn deadlocking(index: u32, cfg: &LoadConfig) -> ClientOutcome {
    let h = holder::hold(&HolderConfig {
        addr: cfg.addr,
        buffers: cfg.buffers,
        total: cfg.hold_bytes,
        chunk: crate::payload::chunk(cfg.chunk),
        connect_timeout: Duration::from_secs(10),
        deadline: cfg.timeout,
    });
    let stall_to_free = (h.end == HolderEnd::Freed).then(|| h.ended_ms - h.last_progress_ms);
    let limit = (cfg.idle_timeout + FREE_SLACK).as_millis() as u64;
    let (outcome, error) = match &h.end {
        HolderEnd::Freed => (ClientEnd::Freed, None),
        HolderEnd::NotFreed => (ClientEnd::NotFreed, None),
        HolderEnd::SentAll => (ClientEnd::SentAll, None),
        HolderEnd::Interrupted => (ClientEnd::Interrupted, None),
        HolderEnd::Failed { error } => (ClientEnd::Failed, Some(error.clone())),
    };
    ClientOutcome {
        index,
        role: LoadRole::Deadlocking,
        strategy: StrategyName::Naive.as_str().into(),
        outcome,
        sent_bytes: h.sent_bytes,
        verified_bytes: 0,
        stall_to_free_ms: stall_to_free,
        client_addr: h.client_addr.clone(),
        ok: stall_to_free.is_some_and(|ms| ms <= limit),
        failure: None,
        error,
    }
}

fn fixed(index: u32, cfg: &LoadConfig) -> ClientOutcome {
    let strategy = if index % 4 == 1 {
        StrategyName::Poll
    } else {
        StrategyName::ReaderThread
    };
    let c = ClientConfig {
        traffic: Traffic {
            // Two hundred clients on two cores pause far longer than one does; only kernel
            // evidence of a real deadlock, not silence, should end a fixed client.
            stall_after: cfg.timeout,
            timeout: cfg.timeout,
            ..Traffic::new(strategy, cfg.bytes, cfg.chunk as u64)
        },
        addr: cfg.addr,
        buffers: cfg.buffers,
        connect_timeout: Duration::from_secs(10),
    };
    let base = ClientOutcome {
        index,
        role: LoadRole::Fixed,
        strategy: strategy.as_str().into(),
        outcome: ClientEnd::Failed,
        sent_bytes: 0,
        verified_bytes: 0,
        stall_to_free_ms: None,
        client_addr: None,
        ok: false,
        failure: None,
        error: None,
    };
    match run::run_client(&c, &mut NoObserver) {
        Err(e) => ClientOutcome {
            error: Some(e.to_string()),
            ..base
        },
        Ok(r) => {
            let verified = r
                .verification
                .as_ref()
                .filter(|v| v.matched)
                .map_or(0, |v| v.received_bytes);
            let outcome = match r.outcome {
                Outcome::Completed => ClientEnd::Completed,
                Outcome::Deadlock => ClientEnd::Deadlock,
                Outcome::TimedOut => ClientEnd::TimedOut,
                Outcome::Interrupted => ClientEnd::Interrupted,
                _ => ClientEnd::Failed,
            };
            ClientOutcome {
                outcome,
                sent_bytes: r.counts.client_sent_bytes,
                verified_bytes: verified,
                client_addr: r.settings.client_addr.clone(),
                ok: r.outcome == Outcome::Completed && verified == c.traffic.total,
                failure: r.failure,
                ..base
            }
        }
    }
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
