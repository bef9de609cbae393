//! The live page's frames, made from tcplab's data with the terminal's own words: the timeline row
//! of each sample with the live view's window, thread and app lines; each narrated event with its
//! line; the verdict with its evidence, ledger and summary; for `watch`, the classroom table's
//! rows. Every word here comes from the function the terminal uses for it (`live`, `narration`,
//! `ledger`, `watch`, `text`); the page only lays them out.
//!
//! `WebView` is an `Observer`, so a run or a replay feeds it exactly what it feeds the terminal's
//! live view. It publishes at most 20 samples a second (as the live view redraws), and always the
//! sample an event was told at, so the picture at a verdict is the one the verdict rests on.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ledger::{evidence_text, write_ledger};
use super::live::{CallMemory, Motion, MotionTracker, app_items, thread_item, window_item};
use super::narration::event_text;
use crate::observe::Observer;
use crate::result::{Event, Ledger, RunResult};
use crate::sample::{Sample, Side};
use crate::timeline::TimelineRow;
use crate::web::Publish;
use crate::web::frame::{
    Dashboard, DashboardRow, EndFrame, EventFrame, Frame, SampleFrame, TitleFrame, VerdictFrame,
};

/// Samples are published at most this often (the live view's redraw).
const EVERY: Duration = Duration::from_millis(50);
/// The dashboard is published at most this often (the terminal table's redraw).
const DASHBOARD_EVERY: Duration = Duration::from_millis(200);
/// Rows of the dashboard (a large class; the rest are counted).
const DASHBOARD_ROWS: usize = 200;

/// One sample as a frame: its timeline row and the live view's words for it.
pub fn sample_frame(s: &Sample, m: &Motion, conn: Option<String>) -> SampleFrame {
    SampleFrame {
        conn,
        row: TimelineRow::from_sample(s),
        windows: vec![
            window_item("client→server", s.client.as_ref()),
            window_item("server→client", s.server.as_ref()),
        ],
        threads: s.threads.iter().map(thread_item).collect(),
        app: app_items(s, m),
    }
}

pub fn event_frame(e: &Event, conn: Option<String>) -> EventFrame {
    EventFrame {
        conn,
        event: e.clone(),
        text: event_text(&e.kind),
    }
}

pub fn title_frame(mode: &str, title: &str) -> Frame {
    Frame::Title(TitleFrame {
        mode: mode.to_string(),
        title: title.to_string(),
    })
}

pub fn end_frame(exit_code: Option<u8>, linger: Duration) -> Frame {
    Frame::End(EndFrame {
        exit_code,
        linger_ms: linger.as_millis() as u64,
    })
}

/// The ledger's two balance lines and their verdicts, as the terminal prints them.
fn balance_lines(l: &Ledger) -> Vec<String> {
    let text = super::captured(|o| write_ledger(l, o));
    // The stages come first, then an empty line, then each direction's sum and its verdict.
    text.split("\n\n")
        .nth(1)
        .unwrap_or("")
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// How a run ended: outcome, stall report and ledger as data; evidence, balance and summary in the
/// terminal's words.
pub fn run_frame(r: &RunResult) -> Frame {
    Frame::Verdict(VerdictFrame {
        conn: None,
        outcome: Some(r.outcome),
        verdict: r.events.iter().find_map(|e| match &e.kind {
            crate::result::EventKind::Verdict { kind, .. } => Some(kind.clone()),
            _ => None,
        }),
        exit_code: Some(r.outcome.exit_code()),
        stall: r.stall.clone(),
        ledger: r.ledger.clone(),
        evidence: r
            .stall
            .iter()
            .flat_map(|s| s.evidence.iter().map(evidence_text))
            .collect(),
        who_waits: Vec::new(),
        balance: r.ledger.as_ref().map(balance_lines).unwrap_or_default(),
        summary: super::captured(|o| super::text::write_run(r, o)),
    })
}

/// Sends a run's or a replay's samples and events to the page.
pub struct WebView {
    out: Arc<dyn Publish>,
    motion: MotionTracker,
    calls: CallMemory,
    last_sent: Option<Duration>,
    pending: Option<(Sample, Motion)>,
}

impl WebView {
    /// Publishes the title first (`mode`: deadlock, replay).
    pub fn new(out: Arc<dyn Publish>, mode: &str, title: &str) -> WebView {
        out.publish(&title_frame(mode, title));
        WebView {
            out,
            motion: MotionTracker::default(),
            calls: CallMemory::default(),
            last_sent: None,
            pending: None,
        }
    }

    fn flush(&mut self) {
        if let Some((s, m)) = self.pending.take() {
            self.last_sent = Some(s.at);
            self.out.publish(&Frame::Sample(sample_frame(&s, &m, None)));
        }
    }
}

impl Observer for WebView {
    fn sample(&mut self, s: &Sample) {
        let m = self.motion.take(s);
        self.pending = Some((self.calls.fill(s), m));
        if self
            .last_sent
            .is_none_or(|t| s.at.saturating_sub(t) >= EVERY)
        {
            self.flush();
        }
    }

    fn event(&mut self, e: &Event) {
        self.flush();
        self.out.publish(&Frame::Event(event_frame(e, None)));
    }

    fn finish(&mut self) {
        self.flush();
    }
}

pub use classroom::WatchPage;

mod classroom {
    use super::*;
    use crate::report::watch::{
        conn_name, queues, row_cells, sample_ledger, sorted, stuck, thread_line, write_verdict,
    };
    use crate::watch::{Status, Update, Watched, Watcher};
    use std::collections::BTreeMap;

    /// The programs at both ends of a connection, as the kernel names them: `python3 (pid 4242)`.
    fn programs(c: &Watched) -> Vec<String> {
        let mut seen: Vec<(Option<u32>, String)> = Vec::new();
        for t in c.last().iter().flat_map(|s| s.threads.iter()) {
            let key = (t.pid, t.name.to_string());
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen.into_iter()
            .map(|(pid, name)| match pid {
                Some(p) => format!("{name} (pid {p})"),
                None => name,
            })
            .collect()
    }

    /// The classroom table as a frame: every watched connection, the stuck ones first.
    pub fn dashboard(conns: &[Watched]) -> Dashboard {
        let all: Vec<&Watched> = conns.iter().collect();
        let rows = sorted(&all)
            .into_iter()
            .take(DASHBOARD_ROWS)
            .map(|c| {
                let (name, state, queue_text, who_waits) = row_cells(c);
                DashboardRow {
                    id: c.id,
                    name,
                    state: state.to_string(),
                    stuck: stuck(c.status),
                    queues: queues(c),
                    queue_text,
                    who_waits,
                    programs: programs(c),
                }
            })
            .collect();
        Dashboard {
            rows,
            total: conns.len(),
        }
    }

    /// A watched connection's deadlock: the evidence, who waits where, the ledger from the
    /// kernel's counters, and the terminal's text of it.
    pub fn verdict_frame(c: &Watched, unreadable: &BTreeMap<u32, String>) -> Option<Frame> {
        let (v, s) = c.verdict()?;
        let ledger = sample_ledger(s);
        let mut who = Vec::new();
        for side in [Side::Client, Side::Server] {
            for t in s.threads_of(side) {
                who.push(format!("{} {}", side.name(), thread_line(t)));
            }
        }
        Some(Frame::Verdict(VerdictFrame {
            conn: Some(conn_name(c.id, &c.key)),
            outcome: None,
            verdict: Some(v.kind.name().to_string()),
            exit_code: None,
            stall: Some(crate::run::stall_report(v, s, |t| {
                t.syscall.as_deref().map(str::to_string)
            })),
            balance: ledger.as_ref().map(balance_lines).unwrap_or_default(),
            ledger,
            evidence: v.evidence.iter().map(evidence_text).collect(),
            who_waits: who,
            summary: crate::report::captured(|o| write_verdict(c, unreadable, o)),
        }))
    }

    /// Sends what `watch` sees to the page: the events and verdicts of every connection, the
    /// dashboard, and the picture of the connection when only one is open.
    pub struct WatchPage {
        out: Arc<dyn Publish>,
        last_dashboard: Option<Instant>,
        motion: MotionTracker,
        calls: CallMemory,
        single: Option<u32>,
    }

    impl WatchPage {
        pub fn new(out: Arc<dyn Publish>, title: &str) -> WatchPage {
            out.publish(&title_frame("watch", title));
            WatchPage {
                out,
                last_dashboard: None,
                motion: MotionTracker::default(),
                calls: CallMemory::default(),
                single: None,
            }
        }
    }

    impl crate::watch::View for WatchPage {
        fn waiting(&mut self, _t: &crate::watch::Target) -> std::io::Result<()> {
            Ok(())
        }

        fn finish(&mut self) {}

        /// After each step of the watcher, with what that step found.
        fn updates(&mut self, w: &Watcher, updates: &[Update]) -> std::io::Result<()> {
            let conn = |id: u32| &w.conns()[id as usize - 1];
            let mut changed = false;
            for u in updates {
                match u {
                    Update::Event { conn: id, event } => {
                        let c = conn(*id);
                        let name = conn_name(c.id, &c.key);
                        self.out
                            .publish(&Frame::Event(event_frame(event, Some(name))));
                    }
                    Update::Verdict { conn: id } => {
                        if let Some(f) = verdict_frame(conn(*id), w.unreadable()) {
                            self.out.publish(&f);
                        }
                        changed = true;
                    }
                    Update::Found { .. } | Update::Closed { .. } => changed = true,
                }
            }
            let open: Vec<&Watched> = w
                .conns()
                .iter()
                .filter(|c| c.status != Status::Closed)
                .collect();
            if let [one] = open.as_slice()
                && let Some(s) = one.last()
            {
                if self.single != Some(one.id) {
                    self.single = Some(one.id);
                    self.motion = MotionTracker::default();
                    self.calls = CallMemory::default();
                }
                let m = self.motion.take(s);
                let shown = self.calls.fill(s);
                let name = conn_name(one.id, &one.key);
                self.out
                    .publish(&Frame::Sample(sample_frame(&shown, &m, Some(name))));
            }
            if changed
                || self
                    .last_dashboard
                    .is_none_or(|t| t.elapsed() >= DASHBOARD_EVERY)
            {
                self.last_dashboard = Some(Instant::now());
                self.out.publish(&Frame::Dashboard(dashboard(w.conns())));
            }
            Ok(())
        }
    }
}

/// Starts the page when `--web` gave an address, and says where it is (the first line on
/// stderr); `linger` is how long it stays after the end.
pub fn start(
    addr: Option<std::net::SocketAddr>,
    linger: Duration,
) -> anyhow::Result<Option<crate::web::Session>> {
    let Some(addr) = addr else { return Ok(None) };
    let s = crate::web::Session::start(addr, linger)
        .map_err(|e| anyhow::anyhow!("{e}; try another port, or '--web 0' for any free one"))?;
    eprintln!("{}", started_lines(&s));
    Ok(Some(s))
}

/// Ends the page: the end frame, the line that says how long it stays, the linger, the close.
pub fn end(session: crate::web::Session, exit_code: Option<u8>) {
    if let Some(line) = linger_line(&session) {
        eprintln!("{line}");
    }
    let frame = end_frame(exit_code, session.linger());
    session.end(&frame);
}

/// The first line on stderr: where the page is, and whether others can reach it.
pub fn started_lines(session: &crate::web::Session) -> String {
    let mut t = format!("tcplab: live view at {}", session.url());
    if !session.addr().ip().is_loopback() {
        t.push_str(&format!(
            "\nnote: {} is reachable from the network, not only from this machine",
            session.addr().ip()
        ));
    }
    t
}

/// Said before a replay waits for its first viewer.
pub fn waiting_line(session: &crate::web::Session, bound: Duration) -> String {
    format!(
        "tcplab: waiting for a viewer at {} (at most {} s)",
        session.url(),
        bound.as_secs()
    )
}

/// Said at the end when the page stays a while.
pub fn linger_line(session: &crate::web::Session) -> Option<String> {
    let linger = session.linger();
    (!linger.is_zero()).then(|| {
        format!(
            "tcplab: the live view stays at {} for {} s more (Ctrl-C to stop)",
            session.url(),
            linger.as_secs_f64()
        )
    })
}

/// `replay FILE --html OUT`: the page with the recording inside it, played through the same view
/// as a live replay, so the file shows what `--web` would have.
pub fn write_html(
    rows: impl Iterator<Item = Result<crate::timeline::TimelineRow, crate::timeline::NotATimeline>>,
    file: &std::path::Path,
    mut out: Box<dyn Write>,
) -> anyhow::Result<usize> {
    let rec = Arc::new(crate::web::thin::ThinRecording::default());
    {
        let title = format!("replay of {}", file.display());
        let mut v = WebView::new(Arc::clone(&rec) as Arc<dyn Publish>, "replay", &title);
        // Row by row: the page keeps at most 20 samples a second of the recording, and a bounded
        // number in all (`web::thin`), not the file.
        for row in rows {
            let row = row?;
            v.sample(&row.to_sample());
            for e in row.events() {
                v.event(&e);
            }
        }
        v.finish();
    }
    rec.publish(&end_frame(Some(0), Duration::ZERO));
    let frames = Arc::try_unwrap(rec)
        .map_err(|_| anyhow::anyhow!("the recording is still in use"))?
        .into_frames();
    // `out` is truncated at this first write: a recording that turned out bad left it as it was.
    write_page(&frames, &mut out)?;
    out.flush()?;
    Ok(frames.len())
}

/// Writes a whole page with `frames` inside it (`replay --html`).
pub fn write_page(frames: &[Frame], out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(crate::web::page::standalone(frames).as_bytes())
}
