//! What the watchdog remembers between samples: when an app counter last moved, when any kernel
//! queue last changed, when the server last made progress with its own sending, the longest pause
//! after which the connection moved again, and whether a thread of the connection held a verdict
//! off.
//!
//! A thread holds a verdict off while it may still move a byte by itself:
//! - it is runnable (on a CPU or waiting for one: on a starved machine it may not run for seconds);
//! - its process is stopped (Ctrl-Z, SIGSTOP): nothing is deadlocked, it is stopped;
//! - it is in a wait that ends by itself (a sleep, a wait with a timeout) and has not run since the
//!   connection last moved: a reader that sleeps between reads, tcplab's own slow-motion pacing.
//!   Once it has run and the connection still did not move, its waking did not help, and it holds
//!   nothing off any more. A `poll`, `select` or `epoll_wait` on a side whose socket holds unread
//!   bytes is not waiting for them (it would have returned), so its timeout holds nothing off.

use std::collections::HashMap;
use std::time::Duration;

use crate::sample::{Call, Counts, KernelQueues, Phase, Role, Sample, Side, ThreadView};

/// The longest pause the watchdog waits beyond, however long the pauses it has seen.
const PAUSE_CAP: Duration = Duration::from_secs(10);

/// Why a sample holds a verdict off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// A thread is runnable.
    Runnable,
    /// The process of a thread of `side` is stopped (Ctrl-Z or SIGSTOP).
    Stopped { side: Side, pid: Option<u32> },
    /// A thread of `side` waits for a time and has not run since the connection last moved.
    Waking { side: Side },
}

#[derive(Debug, Clone, Default)]
pub struct History {
    seen: bool,
    last_counts: Counts,
    /// Time of the last app counter change.
    pub last_move: Duration,
    last_queues: Option<[Option<KernelQueues>; 2]>,
    /// Time of the last change of any kernel queue or window.
    pub last_queue_change: Duration,
    /// Time the server's send queue last drained: the client's kernel acknowledged more of the
    /// server's bytes, or (without TCP_INFO) the queue shrank, or it was empty. Bytes the server
    /// keeps adding to a queue nobody takes from (a peer that trickles a byte a second and never
    /// reads) are no drain.
    pub last_drain: Duration,
    last_server_outq: Option<u64>,
    last_server_acked: Option<u64>,
    /// Time a thread last held a verdict off, and why it did at the newest sample.
    pub last_held: Duration,
    pub held: Option<Hold>,
    /// Samples in a row at which nothing moved, no queue changed and nothing held a verdict off.
    pub still_samples: u32,
    /// The longest time the connection stood still and then moved again.
    pub longest_pause: Duration,
    /// Each thread's CPU time as first seen since the connection last moved.
    cpu_since_move: HashMap<(Option<u32>, u32), u64>,
}

impl History {
    /// Takes in one sample.
    pub fn update(&mut self, s: &Sample) {
        if !self.seen {
            self.seen = true;
            self.last_counts = s.counts;
        }
        let before = self.last_move.max(self.last_queue_change);
        let moved_before = self.last_counts.total() > 0;
        if s.counts != self.last_counts {
            self.last_counts = s.counts;
            self.last_move = s.at;
        }
        let queues = [s.client.as_ref().map(steady), s.server.as_ref().map(steady)];
        if self.last_queues.as_ref() != Some(&queues) {
            self.last_queues = Some(queues);
            self.last_queue_change = s.at;
        }
        if self.last_move.max(self.last_queue_change) == s.at {
            if moved_before {
                self.longest_pause = self.longest_pause.max(s.at.saturating_sub(before));
            }
            self.cpu_since_move.clear();
        }
        let outq = s.server.as_ref().map(|q| q.outq_bytes);
        let acked = s
            .server
            .as_ref()
            .and_then(|q| q.tcp_info.as_ref()?.bytes_acked);
        let drained = match (acked, self.last_server_acked, outq, self.last_server_outq) {
            (Some(now), Some(before), ..) => now > before,
            (_, _, Some(now), Some(before)) => now < before,
            _ => false,
        };
        if drained || outq == Some(0) {
            self.last_drain = s.at;
        }
        self.last_server_outq = outq;
        self.last_server_acked = acked;
        self.held = self.hold(s);
        if self.held.is_some() {
            self.last_held = s.at;
        }
        if self.held.is_some() || self.last_move.max(self.last_queue_change) == s.at {
            self.still_samples = 0;
        } else {
            self.still_samples += 1;
        }
    }

    fn hold(&mut self, s: &Sample) -> Option<Hold> {
        let live = || s.threads.iter().filter(|t| t.phase != Some(Phase::Done));
        if let Some(t) = live().find(|t| t.stopped()) {
            return Some(Hold::Stopped {
                side: t.side,
                pid: t.pid,
            });
        }
        // A thread on a CPU or waiting for one, or one of tcplab's readers not started yet.
        let may_run = |t: &&ThreadView| {
            t.call == Some(Call::Running)
                || matches!(t.state, Some('R' | 'D'))
                || (t.phase == Some(Phase::NotStarted)
                    && matches!(t.role, Role::Reader | Role::Both))
        };
        if live().any(|t| may_run(&t)) {
            return Some(Hold::Runnable);
        }
        let mut waking = None;
        for t in s.threads.iter().filter(|t| t.phase != Some(Phase::Done)) {
            // tcplab's own pacer naps and wakes many times before its next batch is due.
            if t.paced {
                waking.get_or_insert(Hold::Waking { side: t.side });
                continue;
            }
            if !self.wakes_usefully(s, t) {
                continue;
            }
            let ran = match (t.tid, t.cpu_ns) {
                (Some(tid), Some(cpu)) => {
                    let first = *self.cpu_since_move.entry((t.pid, tid)).or_insert(cpu);
                    cpu > first
                }
                _ => false,
            };
            if !ran {
                waking.get_or_insert(Hold::Waking { side: t.side });
            }
        }
        waking
    }

    /// Whether `t` waits for a time and, when it wakes, may move a byte of this connection.
    fn wakes_usefully(&self, s: &Sample, t: &ThreadView) -> bool {
        if t.timed != Some(true) {
            return false;
        }
        let unread = s.socket(t.side).is_some_and(|q| q.inq_bytes > 0);
        !(t.call == Some(Call::Poll) && unread)
    }

    /// How long no app counter has moved, at `s`.
    pub fn quiet(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move)
    }

    /// How long no app counter has moved and nothing held a verdict off, at `s`.
    pub fn silent(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move.max(self.last_held))
    }

    /// How long neither a counter nor a queue has changed, at `s`.
    pub fn still(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move.max(self.last_queue_change))
    }

    /// How long neither a counter nor a queue has changed and nothing held a verdict off.
    pub fn stuck_for(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(
            self.last_move
                .max(self.last_queue_change)
                .max(self.last_held),
        )
    }

    /// How long a connection must stand still before its stillness counts: `base`, or half as
    /// long again as the longest pause it has moved again after (at most `PAUSE_CAP`), so a reader
    /// that drains now and then is never taken for one that stopped.
    pub fn confirm(&self, base: Duration) -> Duration {
        base.max((self.longest_pause * 3 / 2).min(PAUSE_CAP))
    }
}

/// A socket's state without the parts that change while no byte moves (the probe timer's
/// backoff doubles with every zero-window probe).
fn steady(q: &KernelQueues) -> KernelQueues {
    let mut q = q.clone();
    if let Some(t) = q.tcp_info.as_mut() {
        t.backoff = None;
        t.zero_window_probes = None;
    }
    q.probing = None;
    q
}
