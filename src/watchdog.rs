//! Decides "stalled": nothing can move any more.
//!
//! Silence alone is slow and fragile (a healthy run on a busy machine can pause for half a second),
//! so the first rule reads a wait-for graph from the evidence: the client is blocked in send() and
//! no client thread reads; the server is blocked in send(), or waits in recv() on an empty queue.
//! Then no thread can make the progress another one waits for. The kernel confirms which call each
//! thread is in (/proc/self/task/TID/syscall), and the verdict waits until the app counters and
//! every kernel queue have stood still for `confirm`, since the kernel keeps adjusting the queues
//! (probes, collapsing) for a few hundred ms after the last byte moved. The second rule is the
//! fallback: no app counter moved for `stall_after`.
//!
//! This file only decides; sampling lives in `run.rs`, wording in `report/text.rs`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::counters::Phase;
use crate::result::{Counts, KernelQueues, StallBasis};

/// One thread at the moment of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadNow {
    pub phase: Phase,
    /// What the kernel says the thread is in (`send`, `recv`, `poll`, `running`, …), if readable.
    pub call: Option<&'static str>,
}

impl ThreadNow {
    pub fn new(phase: Phase, call: Option<&'static str>) -> ThreadNow {
        ThreadNow { phase, call }
    }

    fn blocked_in_send(&self) -> bool {
        self.phase == Phase::Sending && self.call.is_none_or(|c| matches!(c, "send" | "write"))
    }

    fn waiting_in_recv(&self) -> bool {
        self.phase == Phase::Receiving && self.call.is_none_or(|c| matches!(c, "recv" | "read"))
    }

    fn reads(&self) -> bool {
        matches!(self.phase, Phase::Receiving | Phase::Polling)
    }
}

/// Everything the watcher saw at one moment.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Time since the traffic started.
    pub at: Duration,
    pub counts: Counts,
    pub client: ThreadNow,
    pub reader: Option<ThreadNow>,
    /// `None` when the server runs in another process (`tcplab client`).
    pub server: Option<ThreadNow>,
    pub client_q: Option<KernelQueues>,
    pub server_q: Option<KernelQueues>,
}

/// A fact a verdict rests on. The text view words it; JSON keeps it as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Evidence {
    /// The client thread is blocked in send(); `kernel_call` is what /proc showed.
    ClientBlockedInSend { kernel_call: Option<String> },
    /// No client thread is reading the echo.
    ClientNotReading,
    /// The server thread is blocked in send().
    ServerBlockedInSend { kernel_call: Option<String> },
    /// The server waits in recv() while its receive queue is empty.
    ServerWaitingOnEmptyQueue,
    /// Bytes of echo wait in the client's receive queue with nobody to read them.
    UnreadEcho { bytes: u64 },
    /// The peer of `side` advertises a zero window: `side` may not send.
    WindowClosed { side: String },
    /// Bytes wait in `side`'s send queue, not yet sent.
    Unsent { side: String, bytes: u64 },
    /// Counters and queues stood still this long.
    StillFor { ms: u64 },
    /// No app counter moved this long (the silence fallback).
    SilentFor { ms: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub basis: StallBasis,
    pub evidence: Vec<Evidence>,
    /// Time of the last app counter change.
    pub last_progress: Duration,
    pub at: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct WatchConfig {
    /// How long counters and queues must stand still before kernel evidence becomes a verdict.
    pub confirm: Duration,
    /// The silence fallback.
    pub stall_after: Duration,
}

/// Counters and queues that stood still this long confirm a wait-for cycle (see the module doc and
/// docs/watchdog.md for the measurements behind it).
pub const DEFAULT_CONFIRM: Duration = Duration::from_millis(250);

pub struct Watchdog {
    cfg: WatchConfig,
    last_counts: Counts,
    last_move: Duration,
    last_queues: Option<(Option<KernelQueues>, Option<KernelQueues>)>,
    last_queue_change: Duration,
}

impl Watchdog {
    pub fn new(cfg: WatchConfig) -> Watchdog {
        Watchdog {
            cfg,
            last_counts: Counts::default(),
            last_move: Duration::ZERO,
            last_queues: None,
            last_queue_change: Duration::ZERO,
        }
    }

    /// Time of the last app counter change.
    pub fn last_progress(&self) -> Duration {
        self.last_move
    }

    pub fn observe(&mut self, s: &Sample) -> Option<Verdict> {
        if s.counts != self.last_counts {
            self.last_counts = s.counts;
            self.last_move = s.at;
        }
        let queues = (s.client_q.clone(), s.server_q.clone());
        if self.last_queues.as_ref() != Some(&queues) {
            self.last_queues = Some(queues);
            self.last_queue_change = s.at;
        }
        let quiet = s.at.saturating_sub(self.last_move);
        let still =
            s.at.saturating_sub(self.last_move.max(self.last_queue_change));

        if still >= self.cfg.confirm
            && let Some(mut evidence) = wait_for_cycle(s)
        {
            evidence.push(Evidence::StillFor {
                ms: still.as_millis() as u64,
            });
            return Some(self.verdict(StallBasis::KernelEvidence, evidence, s.at));
        }
        if quiet >= self.cfg.stall_after && s.counts.total() > 0 {
            let evidence = vec![Evidence::SilentFor {
                ms: quiet.as_millis() as u64,
            }];
            return Some(self.verdict(StallBasis::Silence, evidence, s.at));
        }
        None
    }

    fn verdict(&self, basis: StallBasis, evidence: Vec<Evidence>, at: Duration) -> Verdict {
        Verdict {
            basis,
            evidence,
            last_progress: self.last_move,
            at,
        }
    }
}

/// The wait-for rule: `Some(evidence)` when no thread can make the progress another waits for.
fn wait_for_cycle(s: &Sample) -> Option<Vec<Evidence>> {
    let client_reads = s.client.reads() || s.reader.is_some_and(|r| r.reads());
    if !s.client.blocked_in_send() || client_reads {
        return None;
    }
    let mut ev = vec![
        Evidence::ClientBlockedInSend {
            kernel_call: s.client.call.map(str::to_string),
        },
        Evidence::ClientNotReading,
    ];
    let cq = s.client_q.as_ref();
    match s.server {
        Some(server) => {
            let sq = s.server_q.as_ref();
            if server.blocked_in_send() {
                ev.push(Evidence::ServerBlockedInSend {
                    kernel_call: server.call.map(str::to_string),
                });
            } else if server.waiting_in_recv() && sq.is_none_or(|q| q.inq_bytes == 0) {
                ev.push(Evidence::ServerWaitingOnEmptyQueue);
            } else {
                return None;
            }
            if let Some(q) = sq
                && q.peer_window() == Some(0)
            {
                ev.push(Evidence::WindowClosed {
                    side: "server".into(),
                });
            }
        }
        None => {
            // This side alone: its send queue must hold data the peer is not taking.
            let q = cq?;
            if q.notsent_bytes == 0 && q.peer_window() != Some(0) {
                return None;
            }
        }
    }
    if let Some(q) = cq {
        if q.peer_window() == Some(0) {
            ev.push(Evidence::WindowClosed {
                side: "client".into(),
            });
        }
        if q.notsent_bytes > 0 {
            ev.push(Evidence::Unsent {
                side: "client".into(),
                bytes: q.notsent_bytes,
            });
        }
        if q.inq_bytes > 0 {
            ev.push(Evidence::UnreadEcho { bytes: q.inq_bytes });
        }
    }
    Some(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEND: ThreadNow = ThreadNow {
        phase: Phase::Sending,
        call: Some("send"),
    };
    const RECV: ThreadNow = ThreadNow {
        phase: Phase::Receiving,
        call: Some("recv"),
    };

    fn cfg() -> WatchConfig {
        WatchConfig {
            confirm: Duration::from_millis(250),
            stall_after: Duration::from_secs(2),
        }
    }

    fn q(inq: u64, notsent: u64, peer_wnd: u64) -> KernelQueues {
        KernelQueues {
            inq_bytes: inq,
            outq_bytes: notsent,
            notsent_bytes: notsent,
            tcp_info: Some(crate::result::TcpInfoView {
                snd_wnd_bytes: Some(peer_wnd),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn sample(
        ms: u64,
        sent: u64,
        client: ThreadNow,
        reader: Option<ThreadNow>,
        server: ThreadNow,
    ) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            counts: Counts {
                client_sent_bytes: sent,
                ..Default::default()
            },
            client,
            reader,
            server: Some(server),
            client_q: Some(q(100_000, 50_000, 0)),
            server_q: Some(q(100_000, 60_000, 0)),
        }
    }

    /// Feeds a timeline; returns the time of the first verdict.
    fn first_verdict(
        w: &mut Watchdog,
        samples: impl IntoIterator<Item = Sample>,
    ) -> Option<Verdict> {
        samples.into_iter().find_map(|s| w.observe(&s))
    }

    #[test]
    fn both_blocked_in_send_is_a_deadlock_after_the_confirm_window() {
        let mut w = Watchdog::new(cfg());
        let moving = (0..50).map(|i| sample(i * 10, 1000 + i * 16, SEND, None, SEND));
        let frozen = (50..200).map(|i| sample(i * 10, 1000 + 49 * 16, SEND, None, SEND));
        let v = first_verdict(&mut w, moving.chain(frozen)).expect("no verdict");
        assert_eq!(v.basis, StallBasis::KernelEvidence);
        assert_eq!(v.last_progress, Duration::from_millis(490));
        assert_eq!(v.at, Duration::from_millis(740));
        assert!(v.evidence.contains(&Evidence::ClientNotReading));
    }

    #[test]
    fn a_reader_thread_prevents_a_kernel_verdict_and_only_silence_remains() {
        let mut w = Watchdog::new(cfg());
        // A long healthy pause: frozen for 1.5 s, then moving again.
        let pause = (0..150).map(|i| sample(i * 10, 5000, SEND, Some(RECV), SEND));
        let again = (150..200).map(|i| sample(i * 10, 5000 + i, SEND, Some(RECV), SEND));
        assert_eq!(first_verdict(&mut w, pause.chain(again)), None);
    }

    #[test]
    fn silence_past_stall_after_is_the_fallback() {
        let mut w = Watchdog::new(cfg());
        let v = first_verdict(
            &mut w,
            (0..300).map(|i| sample(i * 10, 5000, SEND, Some(RECV), SEND)),
        )
        .expect("no verdict");
        assert_eq!(v.basis, StallBasis::Silence);
        assert_eq!(v.at, Duration::from_secs(2));
    }

    #[test]
    fn queues_still_changing_delay_the_verdict() {
        let mut w = Watchdog::new(cfg());
        let changing = (0..40).map(|i| {
            let mut s = sample(i * 10, 4000, SEND, None, SEND);
            s.client_q = Some(q(100_000 + i, 50_000, 0));
            s
        });
        let settled = (40..100).map(|i| {
            let mut s = sample(i * 10, 4000, SEND, None, SEND);
            s.client_q = Some(q(100_039, 50_000, 0));
            s
        });
        let v = first_verdict(&mut w, changing.chain(settled)).expect("no verdict");
        assert_eq!(v.at, Duration::from_millis(390 + 250));
    }

    #[test]
    fn a_server_with_data_to_read_is_not_stuck() {
        let mut w = Watchdog::new(cfg());
        let busy = (0..100).map(|i| {
            let mut s = sample(i * 10, 4000, SEND, None, RECV);
            s.server_q = Some(q(4096, 0, 65536));
            s
        });
        assert_eq!(first_verdict(&mut w, busy), None);
    }

    #[test]
    fn the_ack_starved_state_is_a_deadlock() {
        // Server read everything and waits in recv(); the client is stuck in send, not reading.
        let mut w = Watchdog::new(cfg());
        let starved = (0..100).map(|i| {
            let mut s = sample(i * 10, 4000, SEND, None, RECV);
            s.server_q = Some(q(0, 0, 0));
            s
        });
        let v = first_verdict(&mut w, starved).expect("no verdict");
        assert!(v.evidence.contains(&Evidence::ServerWaitingOnEmptyQueue));
    }

    #[test]
    fn a_thread_the_kernel_sees_running_is_not_blocked() {
        let mut w = Watchdog::new(cfg());
        let running = ThreadNow {
            phase: Phase::Sending,
            call: Some("running"),
        };
        let s = (0..100).map(|i| sample(i * 10, 4000, running, None, SEND));
        assert_eq!(first_verdict(&mut w, s), None);
    }

    #[test]
    fn a_client_alone_stalls_when_its_peer_window_is_closed() {
        let mut w = Watchdog::new(cfg());
        let s = (0..100).map(|i| Sample {
            at: Duration::from_millis(i * 10),
            counts: Counts {
                client_sent_bytes: 9000,
                ..Default::default()
            },
            client: SEND,
            reader: None,
            server: None,
            client_q: Some(q(70_000, 30_000, 0)),
            server_q: None,
        });
        let v = first_verdict(&mut w, s).expect("no verdict");
        assert_eq!(v.basis, StallBasis::KernelEvidence);
        assert!(v.evidence.contains(&Evidence::WindowClosed {
            side: "client".into()
        }));
    }
}
