//! Runs a sweep's points on `jobs` worker threads at once and hands every result back on the
//! caller's thread, twice: as soon as its point finishes (for the progress), and in point order
//! (for the rows: a result waits only for the points before it).
//!
//! Points start in order, so the points started are always the first ones of the plan, and every
//! point before a started one has started too: the rows written are always the plan's first N,
//! whatever stopped the sweep. Ctrl-C (or SIGTERM) stops the starting; the running points watch
//! the same flag and end by themselves (`run::drive`). A point that cannot be set up stops the
//! starting as well and ends the sweep with its error once the points before it are written. An
//! output that fails stops the running points too (`Traffic::cancel`), since their rows have
//! nowhere to go. Every worker is joined before `run` returns.
//!
//! Each point is still a fresh `run::run_pair` with its own sockets and threads: running points
//! together shares the CPUs, not a buffer. docs/sweep.md gives the bytes before the stall per
//! point measured one at a time and several at once, and why sharing the CPU moves them a little
//! (larger segments, as on any busy machine).

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use anyhow::Context;

use super::{End, Plan, Point};
use crate::interrupt;
use crate::observe::Observer;
use crate::result::{Counts, Outcome, RunResult};
use crate::run::SetupError;
use crate::sample::Sample;
use crate::sock::Limits;

/// At most this many points at once: each holds two sockets, four threads and up to the sum of
/// its four buffers in kernel memory.
pub const MAX_JOBS: usize = 64;

/// Points waiting for their verdict, beside each point that sends: a point whose counters stood
/// still gives its sending slot to the next point, and waits for its verdict in the background.
pub const WAITING_PER_JOB: usize = 3;

/// How long a point's counters must stand still before it gives up its sending slot: a point
/// that only paused (a retransmission timer at 4 KiB buffers waits 200 ms) keeps it.
const SETTLED: Duration = Duration::from_millis(100);

/// The points that send at once when `--jobs` is not given: one per core.
///
/// A naive point sends until its buffers are full, then waits for the kernel's queues to settle
/// and the watchdog to confirm the stall, on no CPU: about half of each point's time. A point
/// whose counters stood still for `SETTLED` so gives its slot to the next one, so the cores send
/// all the time while up to `WAITING_PER_JOB` points per slot wait (docs/sweep.md has the
/// figures, and `benches/sweep.rs` measures them).
pub fn default_jobs() -> NonZeroUsize {
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    NonZeroUsize::new(cores.clamp(1, MAX_JOBS)).expect("at least 1")
}

/// The sending slots: `jobs` of them.
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            free: Mutex::new(n),
            freed: Condvar::new(),
        }
    }

    /// Waits for a free slot and takes it; false (nothing taken) once `stopped` says so.
    fn take(&self, stopped: impl Fn() -> bool) -> bool {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if stopped() {
                return false;
            }
            if *free > 0 {
                *free -= 1;
                return true;
            }
            // Woken by a freed slot, or after a tick to look at `stopped` again.
            free = self
                .freed
                .wait_timeout(free, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn give(&self) {
        *self.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.freed.notify_one();
    }
}

/// Holds one point's sending slot until its counters stand still for `SETTLED` (or the point
/// ends), watching the point's samples.
struct SlotKeeper<'a> {
    slots: &'a Slots,
    /// Whether the slot goes as soon as the point has settled (not with `--jobs 1`, which runs
    /// the points strictly one after another).
    early: bool,
    held: bool,
    last: Option<Counts>,
    /// When the counters last changed.
    still_since: Option<Duration>,
}

impl<'a> SlotKeeper<'a> {
    fn new(slots: &'a Slots, early: bool) -> Self {
        SlotKeeper {
            slots,
            early,
            held: true,
            last: None,
            still_since: None,
        }
    }
}

impl Observer for SlotKeeper<'_> {
    fn sample(&mut self, s: &Sample) {
        if !self.held || !self.early {
            return;
        }
        // Still since the sample at which the counters last changed; a point that has sent
        // nothing yet has not settled.
        if self.last != Some(s.counts) || s.counts.total() == 0 {
            self.last = Some(s.counts);
            self.still_since = (s.counts.total() > 0).then_some(s.at);
            return;
        }
        let Some(since) = self.still_since else {
            return;
        };
        if s.at.saturating_sub(since) >= SETTLED {
            self.held = false;
            self.slots.give();
        }
    }
}

impl Drop for SlotKeeper<'_> {
    fn drop(&mut self) {
        if self.held {
            self.slots.give();
        }
    }
}

/// What came back from a worker: the point's place in the plan and its run.
type Done = (usize, Result<RunResult, SetupError>);

impl Plan {
    /// Runs every point, `self.jobs` at a time, calling `finished` for each result as it comes and
    /// `in_order` for each in point order (see the module). Both run on the calling thread.
    pub fn run(
        &self,
        mut finished: impl FnMut(&Point, &RunResult),
        mut in_order: impl FnMut(&Point, &RunResult) -> anyhow::Result<()>,
    ) -> anyhow::Result<End> {
        let limits = Limits::read();
        let points = self.points();
        let next = AtomicUsize::new(0);
        // No new point: one could not be set up, or the rows cannot be written.
        let stop = AtomicBool::new(false);
        // The running points end too: the rows cannot be written.
        let cancel = Arc::new(AtomicBool::new(false));
        let slots = Slots::new(self.jobs.get());
        thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<Done>();
            let mut workers = 0;
            // With --jobs 1 the points run strictly one after another.
            let early = self.jobs.get() > 1;
            let in_flight = if early {
                (self.jobs.get() * (1 + WAITING_PER_JOB)).min(MAX_JOBS)
            } else {
                1
            };
            for _ in 0..in_flight.min(points.len()) {
                let tx = tx.clone();
                let (points, next, stop, limits, slots) = (&points, &next, &stop, &limits, &slots);
                let cancel = Arc::clone(&cancel);
                let spawned = thread::Builder::new()
                    .name("tcplab-sweep".into())
                    .spawn_scoped(scope, move || {
                        let stopped =
                            || stop.load(Relaxed) || cancel.load(Relaxed) || interrupt::requested();
                        // The slot is taken before the point is, so points start in order.
                        while slots.take(stopped) {
                            let mut keeper = SlotKeeper::new(slots, early);
                            let i = next.fetch_add(1, Relaxed);
                            let Some(p) = points.get(i) else { break };
                            let r = self.run_point(p, limits, Some(&cancel), &mut keeper);
                            drop(keeper);
                            if tx.send((i, r)).is_err() {
                                break;
                            }
                        }
                    });
                match spawned {
                    Ok(_) => workers += 1,
                    // Fewer workers still run every point; none cannot.
                    Err(e) if workers == 0 => {
                        return Err(e).context("cannot start a thread to run the sweep's points");
                    }
                    Err(_) => break,
                }
            }
            drop(tx);
            let mut order = InOrder::default();
            let mut interrupted = false;
            // Ends when every worker has returned.
            for (i, r) in rx {
                match r {
                    Ok(r) => {
                        if r.outcome == Outcome::Interrupted {
                            interrupted = true;
                            stop.store(true, Relaxed);
                        }
                        finished(&points[i], &r);
                        order.ready.insert(i, r);
                    }
                    Err(e) => {
                        stop.store(true, Relaxed);
                        order.failed_at(i, e.into());
                    }
                }
                if !order.write(|i, r| in_order(&points[i], r)) {
                    stop.store(true, Relaxed);
                    cancel.store(true, Relaxed);
                }
            }
            order.end()?;
            Ok(if interrupted || interrupt::requested() {
                End::Interrupted
            } else {
                End::AllDone
            })
        })
    }
}

/// The results that wait for the points before them, and what ended the sweep early.
struct InOrder<T> {
    ready: BTreeMap<usize, T>,
    /// Points handed on so far: the next one is number `written` (0-based).
    written: usize,
    /// The earliest point that could not be set up, with its error.
    failed: Option<(usize, anyhow::Error)>,
    /// The error of an output that could not take a result; nothing more is handed on.
    output: Option<anyhow::Error>,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            ready: BTreeMap::new(),
            written: 0,
            failed: None,
            output: None,
        }
    }
}

impl<T> InOrder<T> {
    fn failed_at(&mut self, i: usize, e: anyhow::Error) {
        if self.failed.as_ref().is_none_or(|(j, _)| i < *j) {
            self.failed = Some((i, e));
        }
    }

    /// Hands on every result whose points before it have all been handed on. A point that could
    /// not be set up never arrives in `ready`, so nothing after it is handed on. False once an
    /// output has failed (now or before).
    fn write(&mut self, mut each: impl FnMut(usize, &T) -> anyhow::Result<()>) -> bool {
        if self.output.is_some() {
            return false;
        }
        while let Some(r) = self.ready.remove(&self.written) {
            if let Err(e) = each(self.written, &r) {
                self.output = Some(e);
                return false;
            }
            self.written += 1;
        }
        true
    }

    /// The error that ended the sweep, if any: a failed output first, since it is why the rest
    /// was not written.
    fn end(self) -> anyhow::Result<()> {
        match (self.output, self.failed) {
            (Some(e), _) | (None, Some((_, e))) => Err(e),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(slots: &Slots) -> usize {
        *slots.free.lock().unwrap()
    }

    /// A sample at `ms` after the start with `sent` bytes sent by the client.
    fn at(ms: u64, sent: u64) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            counts: Counts {
                client_sent_bytes: sent,
                ..Counts::default()
            },
            ..Sample::default()
        }
    }

    #[test]
    fn a_point_gives_its_slot_once_its_counters_stood_still_for_settled() {
        let slots = Slots::new(1);
        assert!(slots.take(|| false));
        let mut keeper = SlotKeeper::new(&slots, true);
        // Nothing sent yet: a point that has not started does not count as settled.
        keeper.sample(&at(0, 0));
        keeper.sample(&at(500, 0));
        assert_eq!(free(&slots), 0);
        // Moving, then a pause shorter than SETTLED: kept.
        keeper.sample(&at(510, 16));
        keeper.sample(&at(520, 32));
        keeper.sample(&at(610, 32));
        assert_eq!(free(&slots), 0, "a 90 ms pause keeps the slot");
        keeper.sample(&at(620, 48));
        keeper.sample(&at(700, 48));
        assert_eq!(free(&slots), 0, "the pause began again at 620 ms");
        keeper.sample(&at(720, 48));
        assert_eq!(free(&slots), 1, "still for 100 ms: the slot is given");
        // Given once: more samples and the end of the point give nothing more.
        keeper.sample(&at(900, 48));
        drop(keeper);
        assert_eq!(free(&slots), 1);
    }

    #[test]
    fn one_job_at_a_time_keeps_the_slot_until_the_point_ends() {
        let slots = Slots::new(1);
        assert!(slots.take(|| false));
        let mut keeper = SlotKeeper::new(&slots, false);
        keeper.sample(&at(10, 16));
        keeper.sample(&at(5000, 16));
        assert_eq!(free(&slots), 0, "--jobs 1 runs the points strictly in turn");
        drop(keeper);
        assert_eq!(free(&slots), 1);
    }

    #[test]
    fn taking_a_slot_gives_up_once_the_sweep_is_stopped() {
        let slots = Slots::new(0);
        assert!(!slots.take(|| true));
        assert_eq!(free(&slots), 0);
    }

    /// Feeds `arrivals` (point, or `Err` for a point that could not be set up) and returns what
    /// was handed on after each arrival.
    fn feed(
        arrivals: &[Result<usize, usize>],
        fail_output_at: Option<usize>,
    ) -> (Vec<Vec<usize>>, InOrder<usize>) {
        let mut order = InOrder::default();
        let mut seen = Vec::new();
        for a in arrivals {
            match *a {
                Ok(i) => {
                    order.ready.insert(i, i);
                }
                Err(i) => order.failed_at(i, anyhow::anyhow!("point {i} could not be set up")),
            }
            let mut now = Vec::new();
            order.write(|i, r| {
                assert_eq!(i, *r);
                if Some(i) == fail_output_at {
                    anyhow::bail!("disk full");
                }
                now.push(i);
                Ok(())
            });
            seen.push(now);
        }
        (seen, order)
    }

    #[test]
    fn a_result_waits_only_for_the_points_before_it() {
        let (seen, order) = feed(&[Ok(2), Ok(0), Ok(3), Ok(1), Ok(4)], None);
        assert_eq!(seen, [vec![], vec![0], vec![], vec![1, 2, 3], vec![4]]);
        assert!(order.end().is_ok());
    }

    #[test]
    fn nothing_after_a_point_that_could_not_be_set_up_is_written() {
        let (seen, order) = feed(&[Ok(0), Ok(2), Err(3), Err(1), Ok(4)], None);
        assert_eq!(seen.concat(), [0]);
        let e = order.end().expect_err("the sweep fails");
        assert_eq!(
            e.to_string(),
            "point 1 could not be set up",
            "the earliest failure"
        );
    }

    #[test]
    fn nothing_more_is_written_once_an_output_fails() {
        let (seen, order) = feed(&[Ok(1), Ok(0), Ok(2)], Some(1));
        assert_eq!(seen.concat(), [0]);
        assert_eq!(
            order.end().expect_err("the sweep fails").to_string(),
            "disk full"
        );
    }
}
