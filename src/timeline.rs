//! The timeline of one run: every watcher sample (about every 10 ms) as one row of the four app
//! counters and the four kernel queues, from the start to the verdict or the end. The recorder is
//! an `Observer`, so it runs on the watcher thread and never touches the I/O loops; its rows are
//! preallocated for the run's whole timeout (capped), so recording is a plain push.
//!
//! Writing the rows is the CSV view's job (`report::csv`), drawing them the SVG view's
//! (`report::svg::timeline`); `report::timeline` saves both.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::observe::Observer;
use crate::run::SAMPLE_EVERY;
use crate::sample::Sample;

/// Preallocate at most this many rows (10 minutes at 10 ms, ~5 MB); a longer run still records,
/// with the vector growing as usual.
const MAX_PREALLOCATED: usize = 60_000;

/// One sample: where the bytes were at that moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Time since the traffic started (milliseconds, microsecond precision).
    pub time_ms: f64,
    /// Bytes the client's send() calls accepted (bytes).
    pub client_sent_bytes: u64,
    /// Bytes the server read and processed (bytes).
    pub server_processed_bytes: u64,
    /// Bytes the server wrote back (bytes).
    pub server_sent_bytes: u64,
    /// Bytes of echo the client read (bytes).
    pub client_received_bytes: u64,
    /// The client's send queue, unacknowledged bytes included (SIOCOUTQ, bytes).
    pub client_send_queue_bytes: u64,
    /// The server's receive queue (SIOCINQ, bytes).
    pub server_recv_queue_bytes: u64,
    /// The server's send queue (SIOCOUTQ, bytes).
    pub server_send_queue_bytes: u64,
    /// The client's receive queue (SIOCINQ, bytes).
    pub client_recv_queue_bytes: u64,
}

impl TimelineRow {
    pub fn from_sample(s: &Sample) -> TimelineRow {
        let c = s.client.as_ref();
        let sv = s.server.as_ref();
        TimelineRow {
            time_ms: (s.at.as_micros() as f64) / 1000.0,
            client_sent_bytes: s.counts.client_sent_bytes,
            server_processed_bytes: s.counts.server_received_bytes,
            server_sent_bytes: s.counts.server_sent_bytes,
            client_received_bytes: s.counts.client_received_bytes,
            client_send_queue_bytes: c.map_or(0, |q| q.outq_bytes),
            server_recv_queue_bytes: sv.map_or(0, |q| q.inq_bytes),
            server_send_queue_bytes: sv.map_or(0, |q| q.outq_bytes),
            client_recv_queue_bytes: c.map_or(0, |q| q.inq_bytes),
        }
    }
}

/// Records every sample of one run.
#[derive(Debug, Default)]
pub struct Recorder {
    pub rows: Vec<TimelineRow>,
}

impl Recorder {
    /// A recorder with room for a run that lasts up to `timeout`. Its first row is the start
    /// (time 0, nothing moved yet): the watcher's first sample comes ~10 ms in, and small buffers
    /// fill faster than that.
    pub fn for_run(timeout: Duration) -> Recorder {
        let n = (timeout.as_millis() / SAMPLE_EVERY.as_millis().max(1)) as usize + 16;
        let mut rows = Vec::with_capacity(n.min(MAX_PREALLOCATED));
        rows.push(TimelineRow::default());
        Recorder { rows }
    }
}

impl Observer for Recorder {
    fn sample(&mut self, s: &Sample) {
        self.rows.push(TimelineRow::from_sample(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::FanOut;
    use crate::sample::{Counts, KernelQueues};

    fn sample(ms: u64, sent: u64, outq: u64) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            counts: Counts {
                client_sent_bytes: sent,
                ..Counts::default()
            },
            client: Some(KernelQueues {
                outq_bytes: outq,
                inq_bytes: 7,
                ..KernelQueues::default()
            }),
            server: None,
            threads: Vec::new(),
        }
    }

    #[test]
    fn a_fan_out_gives_every_observer_every_sample() {
        let mut a = Recorder::for_run(Duration::from_secs(1));
        let mut b = Recorder::for_run(Duration::from_secs(1));
        {
            let mut both = FanOut(vec![&mut a, &mut b]);
            both.sample(&sample(10, 100, 50));
            both.sample(&sample(20, 200, 60));
            both.finish();
        }
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.rows.len(), 3, "the start row and two samples");
        assert_eq!(a.rows[0], TimelineRow::default());
        let r = a.rows[2];
        assert_eq!(
            (r.time_ms, r.client_sent_bytes, r.client_send_queue_bytes),
            (20.0, 200, 60)
        );
        assert_eq!(
            (r.client_recv_queue_bytes, r.server_recv_queue_bytes),
            (7, 0)
        );
    }

    #[test]
    fn the_recorder_preallocates_for_the_timeout_but_not_without_bound() {
        assert!(Recorder::for_run(Duration::from_secs(2)).rows.capacity() >= 200);
        assert!(
            Recorder::for_run(Duration::from_secs(86_400))
                .rows
                .capacity()
                <= 60_000
        );
    }
}
