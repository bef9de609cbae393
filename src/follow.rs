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
use crate::sample::Sample;
use crate::watchdog::{History, Verdict, Watchdog};

/// Follows one connection, sample by sample.
#[derive(Debug, Clone)]
pub struct Follower {
    watchdog: Watchdog,
    narrator: Option<Narrator>,
    peaks: QueuePeaks,
    events: Vec<Event>,
    verdict: Option<(Verdict, Sample)>,
    last: Option<Sample>,
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
            peaks: QueuePeaks::default(),
            events: Vec::new(),
            verdict: None,
            last: None,
        }
    }

    /// Takes in one sample.
    pub fn step(&mut self, s: Sample, obs: &mut dyn Observer) -> Step {
        let mut step = Step::default();
        self.peaks.take(&s);
        obs.sample(&s);
        if let Some(n) = self.narrator.as_mut() {
            step.events = n.observe(&s);
        }
        if self.verdict.is_none()
            && let Some(v) = self.watchdog.observe(&s)
        {
            step.events.push(Event {
                at_ms: v.at.as_millis() as u64,
                kind: EventKind::Verdict {
                    kind: v.kind.name().to_string(),
                },
            });
            self.verdict = Some((v, s.clone()));
            step.verdict = true;
        }
        for e in &step.events {
            obs.event(e);
        }
        self.events.extend(step.events.iter().cloned());
        self.last = Some(s);
        step
    }

    /// The connection ended without a verdict at `at`: the narrator's closing word (a fix's
    /// steady state, if it was not told yet).
    pub fn finish(&mut self, at: Duration, obs: &mut dyn Observer) -> Option<Event> {
        if self.verdict.is_some() {
            return None;
        }
        let e = self.narrator.as_mut()?.finish(at)?;
        obs.event(&e);
        self.events.push(e.clone());
        Some(e)
    }

    /// The verdict, with the sample it was given on.
    pub fn verdict(&self) -> Option<&(Verdict, Sample)> {
        self.verdict.as_ref()
    }

    /// The newest sample.
    pub fn last(&self) -> Option<&Sample> {
        self.last.as_ref()
    }

    /// Every event so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The highest each queue reached.
    pub fn peaks(&self) -> QueuePeaks {
        self.peaks
    }

    /// What the watchdog remembers (when counters and queues last moved).
    pub fn history(&self) -> &History {
        self.watchdog.history()
    }

    /// Everything followed, for the result.
    pub fn into_followed(self) -> Followed {
        Followed {
            last_progress: self.watchdog.last_progress(),
            events: self.events,
            peaks: self.peaks,
            verdict: self.verdict,
            last: self.last,
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
        let told: Vec<_> = f
            .events()
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Verdict { .. }))
            .collect();
        assert_eq!(told.len(), 1, "{:?}", f.events());
        assert_eq!(f.last().map(|s| s.at), Some(Duration::from_millis(500)));
        assert_eq!(f.peaks().client_send_queue_bytes, 130_000);
        assert!(f.finish(Duration::from_secs(1), &mut NoObserver).is_none());
    }
}
