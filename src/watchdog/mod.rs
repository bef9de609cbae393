//! The one watchdog: it decides that a connection can no longer move, over the one observation
//! model (`crate::sample::Sample`), whatever the source of the samples.
//!
//! `History` keeps what a single sample cannot say: when an app counter last moved, when any
//! kernel queue last changed, when the server last made progress with its own sending. Each
//! `Rule` is a pure function of the history and the newest sample, unit-tested on synthetic
//! timelines:
//!
//! - `deadlock`: a wait-for cycle — the client is blocked in send() and no client thread reads,
//!   while the server is blocked in send() or waits in recv() on an empty queue — confirmed by
//!   counters and queues standing still (the kernel keeps adjusting queues for a few hundred ms
//!   after the last byte moved). Where threads cannot be seen, the kernel's windows and queues
//!   alone.
//! - `silence`: the fallback; no app counter moved for a long time, and no thread of the
//!   connection was runnable meanwhile (a thread the kernel shows runnable is waiting for a CPU,
//!   not for the peer: on a starved machine it may not run for seconds).
//! - `halfclose`: both sides wait in recv() for each other with nothing in flight (a forgotten
//!   shutdown(SHUT_WR)).
//! - `stuck`: a classroom connection whose server thread cannot make progress with its own work.
//!
//! This module only decides; sampling is `observe`'s, wording `report`'s.

mod deadlock;
mod halfclose;
mod stuck;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sample::{Call, Counts, KernelQueues, Phase, Sample, Side};

pub use stuck::StuckKind;

/// Counters and queues that stood still this long confirm a wait-for cycle (docs/watchdog.md has
/// the measurements behind it).
pub const DEFAULT_CONFIRM: Duration = Duration::from_millis(250);

/// Why the watchdog declared a stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallBasis {
    /// The threads' calls and the kernel's queues show that nothing can move.
    KernelEvidence,
    /// Nothing moved for --stall-after (the fallback).
    Silence,
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
    WindowClosed { side: Side },
    /// Bytes wait in `side`'s send queue, not yet sent.
    Unsent { side: Side, bytes: u64 },
    /// `side`'s kernel probes the peer's zero window (the persist timer is armed).
    ZeroWindowProbing { side: Side },
    /// Bytes wait in `side`'s receive queue, unread.
    Unread { side: Side, bytes: u64 },
    /// The threads of `side` could not be seen; the verdict rests on the kernel's queues and
    /// windows alone.
    ThreadsNotVisible { side: Side },
    /// A thread of `side` waits in recv() (`kernel_call` as /proc showed it).
    WaitingInRecv {
        side: Side,
        kernel_call: Option<String>,
    },
    /// Both receive queues are empty and nothing is in flight.
    NothingInFlight,
    /// Nothing arrived on the connection since it was accepted.
    NothingSentYet,
    /// The server's send queue holds this much and does not drain.
    SendQueueNotDraining { bytes: u64 },
    /// Counters and queues stood still this long.
    StillFor { ms: u64 },
    /// No app counter moved this long (the silence fallback).
    SilentFor { ms: u64 },
}

/// One way of deciding that a connection is stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A wait-for cycle (or, with threads out of sight, the kernel's evidence), still for `confirm`.
    Deadlock { confirm: Duration },
    /// No app counter moved, and no thread was seen runnable, for `after` (once anything has
    /// moved at all).
    Silence { after: Duration },
    /// Both sides wait in recv() with empty queues and nothing in flight, still for `confirm`.
    HalfClose { confirm: Duration },
    /// A server connection that made no progress with its own work for `limit`.
    Stuck { limit: Duration },
}

/// What kind of stop a verdict reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deadlock,
    HalfClose,
    Stuck(StuckKind),
}

impl Kind {
    /// A machine-friendly name: `deadlock`, `halfclose`, or the stuck kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deadlock => "deadlock",
            Kind::HalfClose => "halfclose",
            Kind::Stuck(k) => k.name(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: Kind,
    pub basis: StallBasis,
    pub evidence: Vec<Evidence>,
    /// Time of the last app counter change.
    pub last_progress: Duration,
    pub at: Duration,
}

/// What the watchdog remembers between samples.
#[derive(Debug, Clone, Default)]
pub struct History {
    seen: bool,
    last_counts: Counts,
    /// Time of the last app counter change.
    pub last_move: Duration,
    last_queues: Option<[Option<KernelQueues>; 2]>,
    /// Time of the last change of any kernel queue or window.
    pub last_queue_change: Duration,
    /// Time the server last made progress with its own sending: its sent counter moved, or its
    /// send queue shrank.
    pub last_drain: Duration,
    last_server_outq: Option<u64>,
    /// Time a thread of the connection that is not done was last seen runnable (`Call::Running`).
    pub last_runnable: Duration,
}

impl History {
    /// Takes in one sample.
    pub fn update(&mut self, s: &Sample) {
        if !self.seen {
            self.seen = true;
            self.last_counts = s.counts;
        }
        if s.counts != self.last_counts {
            if s.counts.server_sent_bytes != self.last_counts.server_sent_bytes {
                self.last_drain = s.at;
            }
            self.last_counts = s.counts;
            self.last_move = s.at;
        }
        let queues = [s.client.as_ref().map(steady), s.server.as_ref().map(steady)];
        if self.last_queues.as_ref() != Some(&queues) {
            self.last_queues = Some(queues);
            self.last_queue_change = s.at;
        }
        let outq = s.server.as_ref().map(|q| q.outq_bytes);
        if let (Some(now), Some(before)) = (outq, self.last_server_outq)
            && now < before
        {
            self.last_drain = s.at;
        }
        self.last_server_outq = outq;
        let runnable = s
            .threads
            .iter()
            .any(|t| t.call == Some(Call::Running) && t.phase != Some(Phase::Done));
        if runnable {
            self.last_runnable = s.at;
        }
    }

    /// How long no app counter has moved, at `s`.
    pub fn quiet(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move)
    }

    /// How long no app counter has moved and no thread was runnable, at `s`: a thread waiting for
    /// a CPU may be about to move a byte, so its wait is not silence.
    pub fn silent(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move.max(self.last_runnable))
    }

    /// How long neither a counter nor a queue has changed, at `s`.
    pub fn still(&self, s: &Sample) -> Duration {
        s.at.saturating_sub(self.last_move.max(self.last_queue_change))
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

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Applies its rules, in order, to every sample it is given.
#[derive(Debug, Clone)]
pub struct Watchdog {
    rules: Vec<Rule>,
    history: History,
}

impl Watchdog {
    pub fn new(rules: &[Rule]) -> Watchdog {
        Watchdog {
            rules: rules.to_vec(),
            history: History::default(),
        }
    }

    /// The deadlock demo's rules: the wait-for cycle, with silence as the fallback.
    pub fn for_deadlock(confirm: Duration, stall_after: Duration) -> Watchdog {
        Watchdog::new(&[
            Rule::Deadlock {
                confirm: confirm.min(stall_after),
            },
            Rule::Silence { after: stall_after },
        ])
    }

    /// Time of the last app counter change.
    pub fn last_progress(&self) -> Duration {
        self.history.last_move
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// Takes in one sample; a verdict once a rule holds.
    pub fn observe(&mut self, s: &Sample) -> Option<Verdict> {
        self.history.update(s);
        let h = &self.history;
        self.rules.iter().find_map(|rule| {
            let (kind, basis, evidence) = apply(*rule, h, s)?;
            Some(Verdict {
                kind,
                basis,
                evidence,
                last_progress: h.last_move,
                at: s.at,
            })
        })
    }
}

/// One rule on one sample, given the history up to it.
pub fn apply(rule: Rule, h: &History, s: &Sample) -> Option<(Kind, StallBasis, Vec<Evidence>)> {
    match rule {
        Rule::Deadlock { confirm } => {
            let still = h.still(s);
            if still < confirm {
                return None;
            }
            let mut ev = deadlock::wait_for_cycle(s)?;
            ev.push(Evidence::StillFor { ms: ms(still) });
            Some((Kind::Deadlock, StallBasis::KernelEvidence, ev))
        }
        Rule::Silence { after } => {
            let quiet = h.silent(s);
            (quiet >= after && s.counts.total() > 0).then(|| {
                let ev = vec![Evidence::SilentFor { ms: ms(quiet) }];
                (Kind::Deadlock, StallBasis::Silence, ev)
            })
        }
        Rule::HalfClose { confirm } => {
            let still = h.still(s);
            if still < confirm {
                return None;
            }
            let mut ev = halfclose::both_wait_in_recv(s)?;
            ev.push(Evidence::StillFor { ms: ms(still) });
            Some((Kind::HalfClose, StallBasis::KernelEvidence, ev))
        }
        Rule::Stuck { limit } => {
            let (kind, ev) = stuck::stuck(h, s, limit)?;
            Some((Kind::Stuck(kind), StallBasis::KernelEvidence, ev))
        }
    }
}

#[cfg(test)]
mod tests;
