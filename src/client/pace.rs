//! Slow motion: a client that sends at most `rate` bytes per second, so a run unfolds over seconds
//! where it would take a fraction of one. The sender writes a batch (about 20 ms worth, at least
//! one chunk) at full speed, then sleeps until the schedule catches up: there is no work per
//! chunk, and the buffers fill exactly as they would unpaced, only later (docs/live-view.md has the
//! bytes-at-stall figures, paced against unpaced). The naps wake the sender many times before a
//! batch is due; the own sampler marks them as pacing (`ThreadView::paced`), so the watchdog does
//! not take a sender that woke and moved nothing for one that gave up.

use std::time::{Duration, Instant};

/// Batches are this much of a second's worth.
const BATCH_PER_SECOND: u64 = 50;
/// Longest single sleep, so a stop is noticed quickly.
const MAX_SLEEP: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy)]
pub struct Pacer {
    rate: u64,
    start: Instant,
}

impl Pacer {
    /// A pacer for `rate` bytes per second, starting now.
    pub fn new(rate: u64) -> Pacer {
        Pacer {
            rate: rate.max(1),
            start: Instant::now(),
        }
    }

    /// Bytes to write before the next look at the clock: about 20 ms worth, whole chunks.
    pub fn batch(&self, chunk: u64) -> u64 {
        let per_batch = (self.rate / BATCH_PER_SECOND).max(chunk);
        per_batch.div_ceil(chunk) * chunk
    }

    /// How long until `sent` bytes are due; zero when the schedule is behind.
    pub fn ahead_by(&self, sent: u64) -> Duration {
        let due = Duration::from_secs_f64(sent as f64 / self.rate as f64);
        due.saturating_sub(self.start.elapsed())
    }

    /// Sleeps until `sent` bytes are due, in short naps; `stop` ends the wait early.
    pub fn wait(&self, sent: u64, stop: impl Fn() -> bool) {
        loop {
            let ahead = self.ahead_by(sent);
            if ahead.is_zero() || stop() {
                return;
            }
            std::thread::sleep(ahead.min(MAX_SLEEP));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_twenty_milliseconds_worth_in_whole_chunks() {
        let p = Pacer::new(32 * 1024);
        assert_eq!(p.batch(16), 656);
        assert_eq!(p.batch(4096), 4096);
        assert_eq!(Pacer::new(10).batch(16), 16);
    }

    #[test]
    fn the_schedule_says_how_far_ahead_the_sender_is() {
        let p = Pacer::new(1000);
        assert!(p.ahead_by(0).is_zero());
        let ahead = p.ahead_by(2000);
        assert!(ahead > Duration::from_millis(1500) && ahead <= Duration::from_secs(2));
    }
}
