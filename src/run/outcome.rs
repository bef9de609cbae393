//! Turns what the supervisor saw into a `RunResult`: the outcome, the final counts and queues,
//! the ledger at a stall, the echo's verification, and, for a failed run, a typed `Failure` (the
//! text view words it).

use std::time::Duration;

use socket2::Socket;

use super::drive::{Supervised, WatchEnd};
use super::{Done, Traffic};
use crate::counters::Shared;
use crate::result::{
    FORMAT_VERSION, Failure, IoFailure, KernelQueues, Outcome, RunResult, Settings, SocketBuffers,
    StallReport, ThreadReport, Timings,
};
use crate::sample::{Sample, Side, ThreadView};
use crate::server::ServeEnd;
use crate::watchdog::{Kind, Verdict};
use crate::{ledger, sock};

pub(super) fn classify(
    t: &Traffic,
    settings: Settings,
    mut buffers: Vec<SocketBuffers>,
    shared: &Shared,
    client: &Socket,
    server: Option<&Socket>,
    run: Supervised<Done>,
) -> RunResult {
    let mut server_error = None;
    let mut client_report = None;
    for d in run.results {
        match d {
            Done::Server(ServeEnd::Error(e)) if !shared.is_stopping() => server_error = Some(e),
            Done::Server(_) => {}
            Done::Client(r) => client_report = Some(r),
        }
    }
    let (cq, sq) = match &run.end {
        WatchEnd::Verdict(vs) => (vs.1.client.clone(), vs.1.server.clone()),
        _ => (
            sock::queues(client).ok(),
            server.and_then(|s| sock::queues(s).ok()),
        ),
    };
    set_final_sizes(&mut buffers, cq.as_ref(), sq.as_ref());
    let mut result = RunResult {
        format_version: FORMAT_VERSION,
        settings,
        buffers,
        outcome: Outcome::Completed,
        counts: shared.counts(),
        stall: None,
        ledger: None,
        client_queues: None,
        server_queues: None,
        verification: None,
        short_sends: None,
        timings: Timings {
            elapsed_ms: ms(run.elapsed),
            last_progress_ms: ms(run.followed.last_progress),
        },
        failure: None,
        events: run.followed.events,
        peaks: run.followed.peaks,
    };
    let mut client_error = None;
    if let Some(r) = client_report {
        result.verification = r.verification;
        result.short_sends = r.short_sends;
        client_error = r.error;
    }
    let io_error = client_error.or(server_error).or(run.spawn_error);
    result.outcome = match run.end {
        WatchEnd::Verdict(vs) if vs.0.kind == Kind::PeerStalled => {
            result.counts = vs.1.counts;
            result.failure = Some(Failure::PeerStalled {
                still_ms: ms(vs.0.at.saturating_sub(vs.0.last_progress)),
            });
            Outcome::Failed
        }
        WatchEnd::Verdict(vs) => {
            let (v, s) = *vs;
            if let (Some(c), Some(sv)) = (&s.client, &s.server) {
                result.ledger = Some(ledger::build(
                    &s.counts,
                    c,
                    sv,
                    t.chunk as u64,
                    t.read as u64,
                ));
            }
            result.counts = s.counts;
            result.stall = Some(StallReport {
                moved_after_verdict_bytes: run.moved_after,
                ..stall_report(&v, &s, |t| t.call.map(|c| c.name().to_string()))
            });
            Outcome::Deadlock
        }
        WatchEnd::TimedOut => {
            result.failure = Some(Failure::TimedOut {
                after_ms: t.timeout.as_millis() as u64,
            });
            Outcome::TimedOut
        }
        WatchEnd::Interrupted => Outcome::Interrupted,
        WatchEnd::Finished | WatchEnd::Failed => {
            result.failure = failure(&result, io_error, t.total);
            if result.failure.is_some() {
                Outcome::Failed
            } else {
                Outcome::Completed
            }
        }
    };
    result.client_queues = cq;
    result.server_queues = sq;
    result
}

/// Why a run that ended on its own did not complete, if it did not.
fn failure(r: &RunResult, io_error: Option<std::io::Error>, total: u64) -> Option<Failure> {
    // A peer that answered with text (a busy server's refusal) usually also closes, so its words
    // explain the failure better than the I/O error that followed them.
    let v = r.verification.as_ref();
    if let Some(text) = v.and_then(|v| v.peer_said.clone()) {
        return Some(Failure::PeerText { text });
    }
    if let Some(v) = v.filter(|v| !v.matched)
        && let Some(at) = v.first_mismatch_at.filter(|at| *at < v.received_bytes)
    {
        return Some(Failure::EchoDiffers { at_byte: at });
    }
    if let Some(e) = io_error {
        let c = &r.counts;
        return Some(Failure::Connection {
            error: IoFailure::from_io(&e),
            sent_bytes: c.client_sent_bytes,
            total_bytes: total,
            received_bytes: c.client_received_bytes,
        });
    }
    v.filter(|v| !v.matched).map(|v| Failure::EchoShort {
        received_bytes: v.received_bytes,
        expected_bytes: v.expected_bytes,
    })
}

/// `call` names a thread's kernel call: tcplab's own by the kind of call, another program's by its
/// system call.
pub(crate) fn stall_report(
    v: &Verdict,
    s: &Sample,
    call: fn(&ThreadView) -> Option<String>,
) -> StallReport {
    let threads = s
        .threads
        .iter()
        .map(|t| ThreadReport {
            name: t.name.to_string(),
            phase: t.phase.map_or("unknown", |p| p.name()).to_string(),
            kernel_call: call(t),
        })
        .collect();
    StallReport {
        basis: v.basis,
        last_progress_ms: ms(v.last_progress),
        verdict_ms: ms(v.at),
        evidence: v.evidence.clone(),
        threads,
        moved_after_verdict_bytes: None,
    }
}

fn set_final_sizes(
    buffers: &mut [SocketBuffers],
    client: Option<&KernelQueues>,
    server: Option<&KernelQueues>,
) {
    for b in buffers {
        let q = match b.role {
            Side::Client => client,
            Side::Server => server,
        };
        if let Some(q) = q {
            b.sndbuf.final_bytes = q.sndbuf_bytes;
            b.rcvbuf.final_bytes = q.rcvbuf_bytes;
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
