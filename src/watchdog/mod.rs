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
mod history;
mod stuck;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sample::{Sample, Side};

pub use history::{History, Hold};
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
    /// No server thread is reading what the client sent.
    ServerNotReading,
    /// A thread of `side` waits in a poll, select or epoll (`kernel_call`), but not for the
    /// bytes that wait unread in its receive queue: that wait would have returned.
    WaitsNotForUnread {
        side: Side,
        kernel_call: Option<String>,
    },
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
    /// Seen from the client alone: its bytes cannot go (the server's window stays closed) and
    /// nothing arrives while a client thread waits in recv(): the server stopped taking and
    /// sending bytes, which is no deadlock of the client's.
    PeerStalled,
    Stuck(StuckKind),
}

impl Kind {
    /// A machine-friendly name: `deadlock`, `halfclose`, or the stuck kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Deadlock => "deadlock",
            Kind::HalfClose => "halfclose",
            Kind::PeerStalled => "peer_stalled",
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

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Verdict {
    /// How long nothing had moved when the verdict was given (ms), where the evidence says.
    pub fn still_ms(&self) -> Option<u64> {
        self.evidence.iter().find_map(|e| match e {
            Evidence::StillFor { ms } => Some(*ms),
            _ => None,
        })
    }

    /// The call `side` waits in, where the evidence names one.
    pub fn waits_in(&self, side: Side) -> Option<String> {
        self.evidence.iter().find_map(|e| match (e, side) {
            (Evidence::ClientBlockedInSend { kernel_call }, Side::Client)
            | (Evidence::ServerBlockedInSend { kernel_call }, Side::Server) => {
                Some(kernel_call.clone().unwrap_or_else(|| "send".into()))
            }
            (
                Evidence::WaitsNotForUnread {
                    side: s,
                    kernel_call,
                },
                _,
            )
            | (
                Evidence::WaitingInRecv {
                    side: s,
                    kernel_call,
                },
                _,
            ) if *s == side => kernel_call.clone(),
            (Evidence::ServerWaitingOnEmptyQueue, Side::Server) => Some("recv".into()),
            _ => None,
        })
    }
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
            // Two looks in a row, not one: a look reads the sockets a moment before the threads,
            // and a reader that woke in between is seen back in recv() beside the bytes it took.
            let still = h.stuck_for(s);
            if still < h.confirm(confirm) || h.still_samples < 2 {
                return None;
            }
            let mut ev = deadlock::blocked_both_ways(s)?;
            ev.push(Evidence::StillFor { ms: ms(still) });
            Some((Kind::Deadlock, StallBasis::KernelEvidence, ev))
        }
        Rule::Silence { after } => {
            let quiet = h.silent(s);
            if quiet < after.max(h.confirm(Duration::ZERO)) || s.counts.total() == 0 {
                return None;
            }
            let mut ev = vec![Evidence::SilentFor { ms: ms(quiet) }];
            if let Some(mut peer) = deadlock::peer_stalled(s) {
                peer.append(&mut ev);
                return Some((Kind::PeerStalled, StallBasis::Silence, peer));
            }
            Some((Kind::Deadlock, StallBasis::Silence, ev))
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
