//! The live view: indicatif bars for bytes sent by the client, processed by the server and received
//! by the client, and a status line saying which thread is blocked in which call. Fed from the
//! watcher's samples (never from the I/O loops) and redrawn at most ten times a second. Drawn on
//! stderr, and only when both stdout and stderr are terminals.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::counters::Phase;
use crate::run::Observer;
use crate::units::{human, human_rate};
use crate::watchdog::{Sample, ThreadNow};

const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// Whether a live view belongs on this terminal at all.
pub fn wanted(quiet: bool, json: bool) -> bool {
    if watched_by_runner() {
        return !quiet;
    }
    !quiet && !json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// `tcplab run` captures a child's stdout (its JSON) but a student is watching the terminal:
/// TCPLAB_LIVE=1 asks the child for its live view and its text summary on stderr as well.
pub fn watched_by_runner() -> bool {
    std::env::var_os("TCPLAB_LIVE").is_some_and(|v| v == "1") && std::io::stderr().is_terminal()
}

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
    pub fn new(total: u64, with_server: bool) -> LiveView {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let style = ProgressStyle::with_template("{prefix:>18} [{bar:32.cyan/blue}] {msg}")
            .expect("static template")
            .progress_chars("=> ");
        let mut rows: Vec<(&str, Getter)> = vec![("client sent", |s| s.counts.client_sent_bytes)];
        if with_server {
            rows.push(("server processed", |s| s.counts.server_received_bytes));
        }
        rows.push(("client received", |s| s.counts.client_received_bytes));
        let bars = rows
            .into_iter()
            .map(|(name, get)| {
                let bar = multi.add(
                    ProgressBar::new(total)
                        .with_style(style.clone())
                        .with_prefix(name),
                );
                (bar, get)
            })
            .collect();
        let status = multi.add(ProgressBar::new_spinner());
        LiveView {
            multi,
            bars,
            status,
            last_draw: None,
        }
    }

    /// A view that draws nothing (quiet, JSON, not a terminal).
    pub fn maybe(visible: bool, total: u64, with_server: bool) -> Option<LiveView> {
        visible.then(|| LiveView::new(total, with_server))
    }
}

fn thread_state(t: ThreadNow) -> String {
    match (t.phase, t.call) {
        (Phase::Done, _) => "done".into(),
        (_, Some("running")) => "running".into(),
        (Phase::Sending, Some(c)) => format!("blocked in {c}()"),
        (Phase::Receiving, Some(c)) => format!("waiting in {c}()"),
        (Phase::Polling, Some(c)) => format!("waiting in {c}()"),
        (p, _) => p.name().into(),
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
        let mut parts = vec![format!("client: {}", thread_state(s.client))];
        if let Some(r) = s.reader {
            parts.push(format!("reader: {}", thread_state(r)));
        }
        if let Some(sv) = s.server {
            parts.push(format!("server: {}", thread_state(sv)));
        }
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
