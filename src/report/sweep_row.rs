//! One sweep point as one flat row: the view of a point's run that decides the CSV columns and
//! the JSON fields (serde), with raw numbers and the unit in every name, and the failure in words.
//! `tests/sweep.rs` pins the header.

use serde::{Deserialize, Serialize};

use crate::model::{self, FourBuffers};
use crate::result::{BufferSize, Outcome, RunResult, Side, StallBasis};
use crate::sweep::Point;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// 1-based number of the grid point; repeats share it.
    pub point: u32,
    /// 1-based repeat of the point.
    pub run: u32,
    /// Client strategy: naive, reader-thread, poll or send-once.
    pub strategy: String,
    /// Size of each client write (bytes).
    pub chunk_bytes: u64,
    /// Largest single recv() (bytes).
    pub read_bytes: u64,
    /// What the client was asked to send (bytes).
    pub total_bytes: u64,
    /// SO_SNDBUF asked for on the client (bytes); empty for auto.
    pub client_sndbuf_requested_bytes: Option<u64>,
    /// SO_SNDBUF the kernel kept on the client, read right after set-up (bytes).
    pub client_sndbuf_effective_bytes: u64,
    pub client_rcvbuf_requested_bytes: Option<u64>,
    pub client_rcvbuf_effective_bytes: u64,
    /// The server's accepted socket (it inherits the listener's sizes).
    pub server_sndbuf_requested_bytes: Option<u64>,
    pub server_sndbuf_effective_bytes: u64,
    pub server_rcvbuf_requested_bytes: Option<u64>,
    pub server_rcvbuf_effective_bytes: u64,
    /// completed, deadlock, timed_out, interrupted or failed.
    pub outcome: Outcome,
    /// Bytes the client's send() calls accepted before the stall, or in all (bytes).
    pub client_sent_bytes: u64,
    /// Bytes the server read (bytes).
    pub server_received_bytes: u64,
    /// Bytes the server wrote back (bytes).
    pub server_sent_bytes: u64,
    /// Bytes of echo the client read (bytes).
    pub client_received_bytes: u64,
    /// Time from the start to the last byte moved, for a stall (milliseconds).
    pub last_progress_ms: u64,
    /// Time from the start to the stall verdict (milliseconds); empty when there was none.
    pub stall_ms: Option<u64>,
    /// kernel_evidence or silence; empty when there was no stall.
    pub stall_basis: Option<StallBasis>,
    /// Duration of the whole run, verdict and clean-up included (milliseconds).
    pub elapsed_ms: u64,
    /// client_sent_bytes over the time bytes moved: up to the last progress for a stall, the whole
    /// run otherwise (bytes per second).
    pub throughput_bytes_per_s: u64,
    /// Sum of the four effective sizes: the model's bytes before a deadlock (bytes).
    pub predicted_capacity_bytes: u64,
    /// client_sent_bytes / predicted_capacity_bytes, for a deadlock; empty otherwise.
    pub measured_over_predicted: Option<f64>,
    /// The failure that ended a failed or timed-out run, in words.
    pub error: Option<String>,
}

impl SweepRow {
    /// The row of one point's run.
    pub fn from_result(p: &Point, r: &RunResult) -> SweepRow {
        let find = |role: Side| r.buffers.iter().find(|b| b.role == role);
        let none = BufferSize {
            requested_bytes: None,
            effective_bytes: 0,
            final_bytes: 0,
            clamped_to_bytes: None,
        };
        let (cs, cr) = find(Side::Client).map_or((none, none), |b| (b.sndbuf, b.rcvbuf));
        let (ss, sr) = find(Side::Server).map_or((none, none), |b| (b.sndbuf, b.rcvbuf));
        let predicted = model::predicted_capacity(FourBuffers {
            client_snd: cs.effective_bytes,
            client_rcv: cr.effective_bytes,
            server_snd: ss.effective_bytes,
            server_rcv: sr.effective_bytes,
        });
        let c = r.counts;
        let stalled = r.outcome == Outcome::Deadlock;
        let moving_ms = if stalled {
            r.timings.last_progress_ms
        } else {
            r.timings.elapsed_ms
        };
        SweepRow {
            point: p.index,
            run: p.run,
            strategy: r.settings.strategy.as_str().to_string(),
            chunk_bytes: r.settings.chunk_bytes,
            read_bytes: r.settings.read_bytes,
            total_bytes: r.settings.bytes_total,
            client_sndbuf_requested_bytes: cs.requested_bytes,
            client_sndbuf_effective_bytes: cs.effective_bytes,
            client_rcvbuf_requested_bytes: cr.requested_bytes,
            client_rcvbuf_effective_bytes: cr.effective_bytes,
            server_sndbuf_requested_bytes: ss.requested_bytes,
            server_sndbuf_effective_bytes: ss.effective_bytes,
            server_rcvbuf_requested_bytes: sr.requested_bytes,
            server_rcvbuf_effective_bytes: sr.effective_bytes,
            outcome: r.outcome,
            client_sent_bytes: c.client_sent_bytes,
            server_received_bytes: c.server_received_bytes,
            server_sent_bytes: c.server_sent_bytes,
            client_received_bytes: c.client_received_bytes,
            last_progress_ms: r.timings.last_progress_ms,
            stall_ms: r.stall.as_ref().map(|s| s.verdict_ms),
            stall_basis: r.stall.as_ref().map(|s| s.basis),
            elapsed_ms: r.timings.elapsed_ms,
            throughput_bytes_per_s: (c.client_sent_bytes * 1000)
                .checked_div(moving_ms)
                .unwrap_or(0),
            predicted_capacity_bytes: predicted,
            measured_over_predicted: (stalled && predicted > 0)
                .then(|| round3(c.client_sent_bytes as f64 / predicted as f64)),
            error: r.failure.as_ref().map(super::text::failure_text),
        }
    }

    /// Bytes before the stall, for a point that stalled.
    pub fn stalled_at(&self) -> Option<u64> {
        (self.outcome == Outcome::Deadlock).then_some(self.client_sent_bytes)
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
