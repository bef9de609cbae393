//! The supervisor every run of tcplab's own threads goes through: it starts the threads, takes a
//! sample every `SAMPLE_EVERY` and hands it to the observers and the watchdog, stops the threads
//! on a verdict, a timeout or Ctrl-C (by shutting their sockets down, which wakes every blocked
//! call), and joins them, each wait bounded. What the threads do, and what their results mean, is
//! the caller's business.

use std::io;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use socket2::Socket;

use crate::counters::Shared;
use crate::follow::{Followed, Follower};
use crate::interrupt;
use crate::observe::{Observer, Sampler};
use crate::sample::{Counts, Sample};
use crate::watchdog::Verdict;

/// How often the watcher samples counters and queues.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How long a thread may take to return once its socket is shut down.
const JOIN_BOUND: Duration = Duration::from_secs(5);

/// What a thread hands back; a failed one ends the watch at once.
pub trait Ended: Send {
    fn failed(&self) -> bool;
}

/// One thread to run: its name and its body.
pub struct Job<'env, R> {
    pub name: &'static str,
    pub body: Box<dyn FnOnce() -> R + Send + 'env>,
}

impl<'env, R> Job<'env, R> {
    pub fn new(name: &'static str, body: impl FnOnce() -> R + Send + 'env) -> Job<'env, R> {
        Job {
            name,
            body: Box::new(body),
        }
    }
}

/// How the watch ended.
#[derive(Debug)]
pub enum WatchEnd {
    /// Every thread returned on its own.
    Finished,
    /// A thread failed (or could not be started).
    Failed,
    /// The watchdog's verdict, with the sample it was given on.
    Verdict(Box<(Verdict, Sample)>),
    TimedOut,
    Interrupted,
}

/// Bounds and stop controls of one supervised run.
pub struct Watch<'a> {
    pub shared: &'a Shared,
    /// Shut down to stop the threads.
    pub sockets: Vec<&'a Socket>,
    /// The one follow step: narration, peaks and the watchdog's verdict.
    pub follower: Follower,
    pub timeout: Duration,
    /// After a verdict, keep watching this long before stopping (a measurement aid).
    pub verify_stall: Option<Duration>,
    /// Run once every thread is started (given whether they all were), before the watch begins:
    /// connects a client whose threads wait at `Shared::start`. False ends the run at once.
    pub start: Option<Start<'a>>,
    /// Set by the caller to end the run as Ctrl-C would, for this run alone (a sweep whose rows
    /// can no longer be written stops the points still running).
    pub cancel: Option<&'a AtomicBool>,
}

/// See `Watch::start`.
pub type Start<'a> = Box<dyn FnOnce(bool) -> bool + 'a>;

/// What the supervisor saw.
pub struct Supervised<R> {
    pub end: WatchEnd,
    /// Each thread's result, in the order they returned.
    pub results: Vec<R>,
    /// A thread that could not be started.
    pub spawn_error: Option<io::Error>,
    /// With `verify_stall`: bytes the counters moved after the verdict.
    pub moved_after: Option<u64>,
    pub elapsed: Duration,
    /// What the follower saw: the events (the verdict last), the peaks, the last progress.
    pub followed: Followed,
}

/// Runs `jobs` on named threads under the watch of `w`, sampling with `sampler`.
pub fn supervise<'env, R: Ended>(
    mut w: Watch<'env>,
    sampler: &mut dyn Sampler,
    obs: &mut dyn Observer,
    jobs: Vec<Job<'env, R>>,
) -> Supervised<R> {
    let mut started = Instant::now();
    let shared = w.shared;
    let mut out = thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<R>();
        let mut expected = 0;
        let mut spawn_error = None;
        for job in jobs {
            let tx = tx.clone();
            let body = job.body;
            let r = thread::Builder::new()
                .name(job.name.into())
                .spawn_scoped(scope, move || {
                    let _ = tx.send(body());
                });
            match r {
                Ok(_) => expected += 1,
                Err(e) => {
                    spawn_error = Some(e);
                    break;
                }
            }
        }
        drop(tx);
        let connected = w
            .start
            .take()
            .is_none_or(|start| start(spawn_error.is_none()));
        // The clock starts once the connection exists.
        started = Instant::now();
        let mut results = Vec::new();
        let end = if spawn_error.is_some() || !connected {
            WatchEnd::Failed
        } else {
            watch(&mut w, sampler, obs, &rx, expected, &mut results, started)
        };
        if matches!(end, WatchEnd::Finished) {
            w.follower.finish(started.elapsed(), obs);
        }
        let moved_after = match (&end, w.verify_stall) {
            (WatchEnd::Verdict(v), Some(d)) => {
                Some(moved_within(shared, &rx, &mut results, v.1.counts, d))
            }
            _ => None,
        };
        if !matches!(end, WatchEnd::Finished) {
            shared.stop();
            for s in &w.sockets {
                let _ = s.shutdown(Shutdown::Both);
            }
            while results.len() < expected {
                match rx.recv_timeout(JOIN_BOUND) {
                    Ok(r) => results.push(r),
                    Err(_) => break,
                }
            }
        }
        Supervised {
            end,
            results,
            spawn_error,
            moved_after,
            elapsed: Duration::ZERO,
            followed: w.follower.into_followed(),
        }
    });
    obs.finish();
    out.elapsed = started.elapsed();
    out
}

fn watch<R: Ended>(
    w: &mut Watch<'_>,
    sampler: &mut dyn Sampler,
    obs: &mut dyn Observer,
    rx: &mpsc::Receiver<R>,
    expected: usize,
    results: &mut Vec<R>,
    started: Instant,
) -> WatchEnd {
    loop {
        match rx.recv_timeout(SAMPLE_EVERY) {
            Ok(r) => {
                let failed = r.failed();
                results.push(r);
                if failed {
                    return WatchEnd::Failed;
                }
                if results.len() == expected {
                    return WatchEnd::Finished;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return WatchEnd::Finished,
        }
        let s = sampler.sample(started.elapsed());
        if w.follower.step(s, obs).verdict {
            let v = w
                .follower
                .verdict()
                .cloned()
                .expect("a verdict was just given");
            return WatchEnd::Verdict(Box::new(v));
        }
        if interrupt::requested() || w.cancel.is_some_and(|c| c.load(Relaxed)) {
            return WatchEnd::Interrupted;
        }
        if started.elapsed() >= w.timeout {
            return WatchEnd::TimedOut;
        }
    }
}

/// Keeps a stalled run going for `d` and returns how far the app counters moved meanwhile.
/// A thread that ends in that time ends the wait (it moved, or failed).
fn moved_within<R>(
    shared: &Shared,
    rx: &mpsc::Receiver<R>,
    results: &mut Vec<R>,
    at: Counts,
    d: Duration,
) -> u64 {
    let end = Instant::now() + d;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        if let Ok(r) = rx.recv_timeout(left) {
            results.push(r);
            break;
        }
    }
    shared.counts().total() - at.total()
}
