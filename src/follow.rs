//! The one follow step: what every command does with a sample of a connection, whatever its
//! source (tcplab's own run, a watched program, a checked program, a classroom connection). It
//! raises the queue peaks, hands the sample to the observers (live view, timeline recorder), lets
//! the narrator tell what happened, and asks the watchdog for a verdict; the verdict becomes an
//! event here and nowhere else. A verdict is given once: after it the follower only records.
//!
//! Sampling is `observe`'s, the rules `watchdog`'s, the words `report`'s.

use std::time::Duration;

use crate::narrate::Narrator;
use crate::observe::Observer;
use crate::result::{Event, EventKind, QueuePeaks};
use crate::sample::{Sample, Side};
use crate::watchdog::{History, Verdict, Watchdog};

/// Follows one connection, sample by sample.
#[derive(Debug, Clone)]
pub struct Follower {
    watchdog: Watchdog,
    narrator: Option<Narrator>,
    /// What it saw so far (`last_progress` is the watchdog's, filled in at the end).
    seen: Followed,
}

/// What one sample brought.
#[derive(Debug, Clone, Default)]
pub struct Step {
    /// The events told for the first time, the verdict's last.
    pub events: Vec<Event>,
    /// Whether this sample brought the verdict.
    pub verdict: bool,
}

impl Follower {
    /// A follower that narrates what happens (`narrator`) and judges with `watchdog`.
    pub fn new(watchdog: Watchdog, narrator: Option<Narrator>) -> Follower {
        Follower {
            watchdog,
            narrator,
            seen: Followed::default(),
        }
    }

    /// Takes in one sample.
    pub fn step(&mut self, s: Sample, obs: &mut dyn Observer) -> Step {
        let mut step = Step::default();
        self.seen.peaks.take(&s);
        obs.sample(&s);
        if let Some(n) = self.narrator.as_mut() {
            step.events = n.observe(&s);
        }
        if self.seen.verdict.is_none()
            && let Some(v) = self.watchdog.observe(&s)
        {
            step.events.push(Event {
                at_ms: v.at.as_millis() as u64,
                kind: EventKind::Verdict {
                    kind: v.kind.name().to_string(),
                    client_call: v.waits_in(Side::Client),
                    server_call: v.waits_in(Side::Server),
                },
            });
            self.seen.verdict = Some((v, s.clone()));
            step.verdict = true;
        }
        for e in &step.events {
            obs.event(e);
        }
        self.seen.events.extend(step.events.iter().cloned());
        self.seen.last = Some(s);
        step
    }

    /// The connection ended without a verdict at `at`: the narrator's closing word (a fix's
    /// steady state, if it was not told yet).
    pub fn finish(&mut self, at: Duration, obs: &mut dyn Observer) -> Option<Event> {
        if self.seen.verdict.is_some() {
            return None;
        }
        let e = self.narrator.as_mut()?.finish(at)?;
        obs.event(&e);
        self.seen.events.push(e.clone());
        Some(e)
    }

    /// The verdict, with the sample it was given on.
    pub fn verdict(&self) -> Option<&(Verdict, Sample)> {
        self.seen.verdict.as_ref()
    }

    /// The newest sample.
    pub fn last(&self) -> Option<&Sample> {
        self.seen.last.as_ref()
    }

    /// What the watchdog remembers (when counters and queues last moved).
    pub fn history(&self) -> &History {
        self.watchdog.history()
    }

    /// Everything followed, for the result.
    pub fn into_followed(self) -> Followed {
        Followed {
            last_progress: self.watchdog.last_progress(),
            ..self.seen
        }
    }
}

/// What a follower saw, once it is done.
#[derive(Debug, Clone, Default)]
pub struct Followed {
    pub events: Vec<Event>,
    pub peaks: QueuePeaks,
    pub verdict: Option<(Verdict, Sample)>,
    pub last: Option<Sample>,
    /// Time of the last app counter change.
    pub last_progress: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::NoObserver;
    use crate::sample::{Counts, KernelQueues, Phase, Role, Side, test_thread};
    use crate::watchdog::Rule;

    fn stuck_sample(at_ms: u64) -> Sample {
        let full = KernelQueues {
            inq_bytes: 100_000,
            outq_bytes: 130_000,
            notsent_bytes: 120_000,
            sndbuf_bytes: 131_072,
            rcvbuf_bytes: 131_072,
            tcp_info: Some(crate::sample::TcpInfoView {
                snd_wnd_bytes: Some(0),
                ..Default::default()
            }),
            probing: Some(true),
        };
        Sample {
            at: Duration::from_millis(at_ms),
            counts: Counts {
                client_sent_bytes: 500_000,
                ..Counts::default()
            },
            client: Some(full.clone()),
            server: Some(full),
            threads: vec![
                test_thread(Side::Client, Role::Sender, Phase::Sending, None),
                test_thread(Side::Server, Role::Server, Phase::Sending, None),
            ],
        }
    }

    #[test]
    fn the_verdict_is_an_event_once_and_the_follower_keeps_recording() {
        let dog = Watchdog::new(&[Rule::Deadlock {
            confirm: Duration::from_millis(100),
        }]);
        let mut f = Follower::new(dog, None);
        let mut verdicts = 0;
        for at in (0..=500).step_by(50) {
            let step = f.step(stuck_sample(at), &mut NoObserver);
            verdicts += usize::from(step.verdict);
        }
        assert_eq!(verdicts, 1);
        assert_eq!(f.last().map(|s| s.at), Some(Duration::from_millis(500)));
        assert!(f.finish(Duration::from_secs(1), &mut NoObserver).is_none());
        let seen = f.into_followed();
        let told: Vec<_> = seen
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Verdict { .. }))
            .collect();
        assert_eq!(told.len(), 1, "{:?}", seen.events);
        assert_eq!(seen.peaks.client_send_queue_bytes, 130_000);
    }
}
