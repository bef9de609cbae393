//! The one rate tracker: how fast the app counters moved over the last `WINDOW`. The narrator
//! (a crawl, full speed again) and the live view (the rates beside the counters) read the same
//! numbers, so a student never sees two rates for one moment.

use std::collections::VecDeque;
use std::time::Duration;

use crate::sample::Counts;

/// Rates are measured over this window.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Samples closer than this to the last one kept are not kept: a run samples every 10 ms, but a
/// replayed file may put millions of rows into one second, and the window must stay small.
const GRAIN: Duration = Duration::from_millis(1);

/// Bytes per second of each app counter over the last `WINDOW`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    pub client_sent: u64,
    pub server_received: u64,
    pub server_sent: u64,
    pub client_received: u64,
    /// How much time the rates cover (at most a little over `WINDOW`; less at the start).
    pub span: Duration,
}

/// Keeps the last `WINDOW` of counters, at most one sample per `GRAIN`.
#[derive(Debug, Clone, Default)]
pub struct RateTracker {
    history: VecDeque<(Duration, Counts)>,
}

impl RateTracker {
    /// Takes in the counters at `at`; the rates up to them.
    pub fn take(&mut self, at: Duration, counts: Counts) -> Rates {
        if self
            .history
            .back()
            .is_none_or(|(t, _)| at.saturating_sub(*t) >= GRAIN)
        {
            self.history.push_back((at, counts));
        }
        while self
            .history
            .front()
            .is_some_and(|(t, _)| at.saturating_sub(*t) > WINDOW)
        {
            self.history.pop_front();
        }
        let (t0, c0) = self.history.front().copied().unwrap_or((at, counts));
        let span = at.saturating_sub(t0);
        let secs = span.as_secs_f64().max(0.001);
        let rate = |a: u64, b: u64| (b.saturating_sub(a) as f64 / secs) as u64;
        Rates {
            client_sent: rate(c0.client_sent_bytes, counts.client_sent_bytes),
            server_received: rate(c0.server_received_bytes, counts.server_received_bytes),
            server_sent: rate(c0.server_sent_bytes, counts.server_sent_bytes),
            client_received: rate(c0.client_received_bytes, counts.client_received_bytes),
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(n: u64) -> Counts {
        Counts {
            client_sent_bytes: n,
            ..Counts::default()
        }
    }

    #[test]
    fn the_rate_covers_the_last_second_only() {
        let mut t = RateTracker::default();
        t.take(Duration::ZERO, sent(0));
        let r = t.take(Duration::from_millis(500), sent(1000));
        assert_eq!(r.client_sent, 2000);
        assert_eq!(r.span, Duration::from_millis(500));
        t.take(Duration::from_millis(1000), sent(1000));
        // The first sample has left the window: 1000 bytes over the last 500 ms … 1500 ms.
        let r = t.take(Duration::from_millis(1500), sent(1000));
        assert_eq!(r.client_sent, 0);
        assert_eq!(r.span, Duration::from_millis(1000));
    }

    #[test]
    fn a_second_of_a_million_samples_keeps_a_thousand() {
        let mut t = RateTracker::default();
        for i in 0..1_000_000u64 {
            t.take(Duration::from_micros(i), sent(i));
        }
        assert!(t.history.len() <= 1_001, "{} kept", t.history.len());
        // The rate still covers the window: a byte a microsecond.
        let r = t.take(Duration::from_micros(1_000_000), sent(1_000_000));
        assert_eq!(r.client_sent, 1_000_000);
    }
}
