//! The live picture of a connection: each kernel queue as a gauge against its capacity, in the
//! order the bytes travel (client send queue → server receive queue → server send queue → client
//! receive queue), the window each way, each thread's call as the kernel shows it, and the app
//! counters with rates that say "stalled" instead of falling. The narrator's events are printed
//! above it, one timed line each, as they happen.
//!
//! `render` is a pure function from a sample (and how the counters moved) to lines no wider than
//! the terminal; `Picture` decides when to redraw (at most every 50 ms of samples) and `LiveView`
//! draws through the progress factory, whose terminal target is capped at 10 redraws a second,
//! from the watcher's samples, never from the I/O loops. It fits 80 × 24 (at most 12 lines of picture);
//! from 100 columns on, the gauges widen and the send queues say how much is not yet sent.

use std::time::Duration;

use indicatif::ProgressBar;

use super::narration::event_lines;
use super::progress::Live;
use crate::narrate::closed;
use crate::observe::Observer;
use crate::rate::RateTracker;
use crate::report::human;
use crate::result::Event;
use crate::run::Traffic;
use crate::sample::{Call, Counts, KernelQueues, Phase, Role, Sample, Side, ThreadView};

/// Redraw at most this often (the samples come every 10 ms).
const REDRAW_EVERY: Duration = Duration::from_millis(50);
/// No counter moving for this long shows as "stalled for …" instead of a falling rate.
const STALLED_AFTER: Duration = Duration::from_millis(300);
/// From this width on, the roomier layout.
const ROOMY: usize = 100;
/// Columns kept for the numbers beside a gauge: `131.38 KiB of 128 KiB   103% +3.38 KiB over`.
const NUMBERS: usize = 42;
/// The same with the unsent part of a send queue: `… (127.51 KiB unsent)`.
const ROOMY_NUMBERS: usize = 47;

/// How the app counters have moved recently.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Motion {
    /// Bytes per second over the last second: sent by the client, read by the server, read by
    /// the client.
    pub sent_per_s: u64,
    pub processed_per_s: u64,
    pub received_per_s: u64,
    /// How long no counter has moved, once that passes `STALLED_AFTER`.
    pub stalled_for: Option<Duration>,
}

/// Keeps the last second of counters to compute `Motion`.
#[derive(Debug, Clone, Default)]
pub struct MotionTracker {
    rates: RateTracker,
    last_change: Duration,
    last: Option<Counts>,
}

impl MotionTracker {
    pub fn take(&mut self, s: &Sample) -> Motion {
        if self.last != Some(s.counts) {
            self.last = Some(s.counts);
            self.last_change = s.at;
        }
        let r = self.rates.take(s.at, s.counts);
        let quiet = s.at.saturating_sub(self.last_change);
        Motion {
            sent_per_s: r.client_sent,
            processed_per_s: r.server_received,
            received_per_s: r.client_received,
            stalled_for: (quiet >= STALLED_AFTER && s.counts.total() > 0).then_some(quiet),
        }
    }
}

/// The picture of one sample, `width` columns wide at most.
pub fn render(s: &Sample, m: &Motion, width: usize) -> Vec<String> {
    let roomy = width >= ROOMY;
    let mut lines = Vec::new();
    let send = |q: &KernelQueues| Cells {
        bytes: q.outq_bytes,
        capacity: q.sndbuf_bytes,
        unsent: roomy.then_some(q.notsent_bytes),
    };
    let recv = |q: &KernelQueues| Cells {
        bytes: q.inq_bytes,
        capacity: q.rcvbuf_bytes,
        unsent: None,
    };
    let cells = [
        ("client send queue", s.client.as_ref().map(send)),
        ("server receive queue", s.server.as_ref().map(recv)),
        ("server send queue", s.server.as_ref().map(send)),
        ("client receive queue", s.client.as_ref().map(recv)),
    ];
    // The same bar width in every frame at a given width, whatever the numbers beside it say.
    let reserve = if roomy { ROOMY_NUMBERS } else { NUMBERS };
    let bar = width
        .saturating_sub(20 + 2 + reserve)
        .clamp(8, if roomy { 40 } else { 24 });
    for (name, c) in &cells {
        lines.push(match c {
            Some(c) => format!(
                "{name:<20} {} {}",
                gauge(c.bytes, c.capacity, bar),
                c.text()
            ),
            None => format!("{name:<20} out of sight (in the other process)"),
        });
    }
    lines.extend(flow(
        "windows",
        &[
            window_item("client→server", s.client.as_ref()),
            window_item("server→client", s.server.as_ref()),
        ],
        width,
    ));
    let threads: Vec<String> = s.threads.iter().map(thread_item).collect();
    lines.extend(flow("threads", &threads, width));
    lines.extend(flow("app", &app_items(s, m), width));
    lines.into_iter().map(|l| fit(&l, width)).collect()
}

/// The numbers beside one gauge.
struct Cells {
    bytes: u64,
    capacity: u64,
    unsent: Option<u64>,
}

impl Cells {
    fn text(&self) -> String {
        let pct = if self.capacity > 0 {
            format!("{:.0}%", 100.0 * self.bytes as f64 / self.capacity as f64)
        } else {
            "-".into()
        };
        let mut t = format!(
            "{:>10} of {:<8}{pct:>5}",
            human(self.bytes),
            human(self.capacity)
        );
        if self.capacity > 0 && self.bytes > self.capacity {
            t.push_str(&format!(" +{} over", human(self.bytes - self.capacity)));
        } else if let Some(u) = self.unsent.filter(|u| *u > 0) {
            t.push_str(&format!(" ({} unsent)", human(u)));
        }
        t
    }
}

/// A bar of `width` cells: filled up to the share of the capacity, full when past it.
fn gauge(bytes: u64, capacity: u64, width: usize) -> String {
    let filled = if capacity == 0 {
        0
    } else {
        ((bytes as f64 / capacity as f64) * width as f64).round() as usize
    }
    .min(width);
    let mut g = "█".repeat(filled);
    g.push_str(&"░".repeat(width - filled));
    g
}

/// The window that limits one direction: the one the receiving end advertises, as the sending
/// end last saw it.
pub fn window_item(dir: &str, sender: Option<&KernelQueues>) -> String {
    let Some(q) = sender else {
        return format!("{dir} out of sight");
    };
    let probing = if q.probing == Some(true) {
        ", probing"
    } else {
        ""
    };
    match q.peer_window() {
        Some(0) => format!("{dir} ZERO{probing}"),
        w @ Some(b) if closed(w) => format!("{dir} {} (closed){probing}", human(b)),
        Some(b) => format!("{dir} {}", human(b)),
        None => format!("{dir} unknown"),
    }
}

pub fn thread_item(t: &ThreadView) -> String {
    let who = match (t.side, t.role) {
        (Side::Client, Role::Reader) => "reader".to_string(),
        (_, Role::Unknown) => t.name.to_string(),
        (Side::Client, _) => "client".to_string(),
        (Side::Server, _) => "server".to_string(),
    };
    format!("{who}: {}", thread_state(t))
}

/// A thread as the kernel shows it, in the words of the lesson.
pub fn thread_state(t: &ThreadView) -> String {
    // Another program's thread is named by its own system call (sendfile, epoll_wait);
    // tcplab's by the kind of call the lesson speaks of.
    let call = |kind: &str| match (&t.syscall, t.role) {
        (Some(name), Role::Unknown) => name.to_string(),
        _ => kind.to_string(),
    };
    match (t.phase, t.call) {
        (Some(Phase::Done), _) => "done".into(),
        _ if t.stopped() => "stopped (Ctrl-Z or SIGSTOP)".into(),
        (_, Some(Call::Running)) => "running".into(),
        (Some(Phase::Polling), Some(c)) => format!("in {}()", c.name()),
        (_, Some(Call::Send)) => format!("blocked in {}()", call("send")),
        (_, Some(Call::Recv)) => format!("waiting in {}()", call("recv")),
        (_, Some(Call::Poll)) => format!("waiting in {}()", call("poll")),
        // Only tcplab's own client sleeps to pace itself; anyone else's sleep is its own.
        (Some(Phase::Sending), Some(Call::Sleep)) => "pausing (slow motion)".into(),
        (_, Some(Call::Sleep)) => format!("sleeping in {}()", call("sleep")),
        (Some(p), Some(Call::Futex | Call::Other)) if t.role == Role::Reader => {
            format!("{} (starting)", p.name())
        }
        (_, Some(Call::Other)) => match &t.syscall {
            Some(name) => format!("in {name}()"),
            None => "in a system call".into(),
        },
        (_, Some(c)) => format!("in {}()", call(c.name())),
        (Some(p), None) => p.name().into(),
        (None, None) => "not readable".into(),
    }
}

pub fn app_items(s: &Sample, m: &Motion) -> Vec<String> {
    let c = s.counts;
    let rate = |r: u64| match m.stalled_for {
        Some(d) => format!(" (stalled for {:.1} s)", d.as_secs_f64()),
        None if r > 0 => format!(" at {}/s", human(r)),
        None => String::new(),
    };
    let mut items = vec![format!(
        "client sent {}{}",
        human(c.client_sent_bytes),
        rate(m.sent_per_s)
    )];
    if s.server.is_some() || c.server_received_bytes > 0 {
        items.push(format!("server read {}", human(c.server_received_bytes)));
    }
    items.push(format!(
        "client read {}{}",
        human(c.client_received_bytes),
        if m.stalled_for.is_none() && m.received_per_s > 0 {
            format!(" at {}/s", human(m.received_per_s))
        } else {
            String::new()
        }
    ));
    items
}

/// `label` then the items, as many to a line as fit, continuation lines indented.
fn flow(label: &str, items: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = format!("{label:<20}");
    let mut empty = true;
    for item in items {
        let sep = if empty { " " } else { "   " };
        if !empty && line.chars().count() + sep.len() + item.chars().count() > width {
            lines.push(line);
            line = format!("{:<20} {item}", "");
        } else {
            line.push_str(sep);
            line.push_str(item);
        }
        empty = false;
    }
    lines.push(line);
    lines
}

/// Shortens a line to `width` columns (never wraps it).
pub fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut s: String = line.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The line above the picture: what runs, in a few words.
pub fn title(mode: &str, t: &Traffic) -> String {
    let pace = t
        .pace
        .map(|p| format!(" · slow motion, {}/s", human(p)))
        .unwrap_or_default();
    format!(
        "tcplab {mode} · {} · {} in {} writes{pace}: the four queues in the order the bytes travel",
        t.strategy.as_str(),
        human(t.total),
        human(t.chunk as u64)
    )
}

/// The picture of one connection, redrawn from its samples: the one drawing of the live view,
/// for tcplab's own runs and watched connections alike.
#[derive(Debug, Clone)]
pub struct Picture {
    width: usize,
    motion: MotionTracker,
    last_draw: Option<Duration>,
    calls: CallMemory,
}

/// The last call the kernel showed for each thread: a sample may lack a thread's call (tcplab asks
/// the kernel about its own threads only now and then while bytes move), and a thread's line
/// should not flicker in between.
#[derive(Debug, Clone, Default)]
pub struct CallMemory(Vec<(String, Call)>);

impl CallMemory {
    /// The sample with each thread's last known call filled in where this one lacks it.
    pub fn fill(&mut self, s: &Sample) -> Sample {
        let mut shown = s.clone();
        for t in &mut shown.threads {
            let known = self.0.iter_mut().find(|(n, _)| *n == t.name);
            match (t.call, known) {
                (Some(c), Some(k)) => k.1 = c,
                (Some(c), None) => self.0.push((t.name.to_string(), c)),
                (None, Some(k)) => t.call = Some(k.1),
                (None, None) => {}
            }
        }
        shown
    }
}

impl Picture {
    pub fn new(width: usize) -> Picture {
        Picture {
            width,
            motion: MotionTracker::default(),
            last_draw: None,
            calls: CallMemory::default(),
        }
    }

    /// The lines to draw for this sample, or `None` when the last drawing is recent enough.
    pub fn frame(&mut self, s: &Sample) -> Option<String> {
        let m = self.motion.take(s);
        if self
            .last_draw
            .is_some_and(|t| s.at.saturating_sub(t) < REDRAW_EVERY)
        {
            return None;
        }
        self.last_draw = Some(s.at);
        let shown = self.calls.fill(s);
        Some(render(&shown, &m, self.width).join("\n"))
    }
}

/// The live view on the terminal: the picture under the narrated events.
pub struct LiveView {
    bar: ProgressBar,
    picture: Picture,
    width: usize,
}

impl LiveView {
    /// `title` heads the picture (the run's settings in a few words).
    pub fn new(live: Live, title: &str) -> LiveView {
        let bar = live.line("{msg}");
        let width = super::wrap::stderr_width();
        bar.println(super::wrap::wrap(title, width, "  "));
        LiveView {
            bar,
            picture: Picture::new(width),
            width,
        }
    }
}

impl Observer for LiveView {
    fn sample(&mut self, s: &Sample) {
        if let Some(f) = self.picture.frame(s) {
            self.bar.set_message(f);
        }
    }

    fn event(&mut self, e: &Event) {
        // Wrapped at word boundaries under the text, past the time column.
        self.bar.println(event_lines("", e, self.width));
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests;
