//! The live view of a run: bars for bytes sent by the client, processed by the server and received
//! by the client, and a status line saying which thread is in which call. Fed from the watcher's
//! samples (never from the I/O loops) and redrawn at most ten times a second; made by the progress
//! factory, so it is drawn only where the one rule allows.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar};

use super::progress::Live;
use crate::observe::Observer;
use crate::report::{human, human_rate};
use crate::sample::{Call, Phase, Role, Sample, Side, ThreadView};

const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// Reads one counter out of a sample.
type Getter = fn(&Sample) -> u64;

pub struct LiveView {
    multi: MultiProgress,
    bars: Vec<(ProgressBar, Getter)>,
    status: ProgressBar,
    last_draw: Option<Duration>,
}

impl LiveView {
    /// `total` is the client's byte count; `with_server` adds the server's bar.
    pub fn new(live: Live, total: u64, with_server: bool) -> LiveView {
        let multi = live.multi();
        let mut rows: Vec<(&str, Getter)> = vec![("client sent", |s| s.counts.client_sent_bytes)];
        if with_server {
            rows.push(("server processed", |s| s.counts.server_received_bytes));
        }
        rows.push(("client received", |s| s.counts.client_received_bytes));
        let bars = rows
            .into_iter()
            .map(|(name, get)| {
                let bar = multi.add(live.bar(total, "{prefix:>18} [{bar:32.cyan/blue}] {msg}"));
                bar.set_prefix(name);
                (bar, get)
            })
            .collect();
        let status = multi.add(live.line("{spinner} {msg}"));
        LiveView {
            multi,
            bars,
            status,
            last_draw: None,
        }
    }
}

fn thread_state(t: &ThreadView) -> String {
    match (t.phase, t.call) {
        (Some(Phase::Done), _) => "done".into(),
        (_, Some(Call::Running)) => "running".into(),
        (Some(Phase::Sending), Some(c)) => format!("blocked in {}()", c.name()),
        (Some(Phase::Receiving | Phase::Polling), Some(c)) => format!("waiting in {}()", c.name()),
        (Some(p), _) => p.name().into(),
        (None, Some(c)) => format!("in {}()", c.name()),
        (None, None) => "unknown".into(),
    }
}

fn label(t: &ThreadView) -> &'static str {
    match (t.side, t.role) {
        (Side::Client, Role::Reader) => "reader",
        (Side::Client, _) => "client",
        (Side::Server, _) => "server",
    }
}

impl Observer for LiveView {
    fn sample(&mut self, s: &Sample) {
        if self
            .last_draw
            .is_some_and(|t| s.at.saturating_sub(t) < REDRAW_EVERY)
        {
            return;
        }
        self.last_draw = Some(s.at);
        for (bar, get) in &self.bars {
            let v = get(s);
            bar.set_position(v.min(bar.length().unwrap_or(v)));
            bar.set_message(format!("{}  {}", human(v), human_rate(v, s.at)));
        }
        let parts: Vec<String> = s
            .threads
            .iter()
            .map(|t| format!("{}: {}", label(t), thread_state(t)))
            .collect();
        self.status.set_message(parts.join("   "));
        self.status.tick();
    }

    fn finish(&mut self) {
        for (bar, _) in &self.bars {
            bar.finish_and_clear();
        }
        self.status.finish_and_clear();
        let _ = self.multi.clear();
    }
}
