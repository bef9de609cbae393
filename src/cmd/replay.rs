//! `tcplab replay FILE.csv`: a recorded timeline played back through the same live view (and the
//! page, with `--web`), each row at its recorded time (divided by `--speed`), each recorded event
//! told when its row comes. Without a terminal (or with `--quiet`), only the events are printed, as
//! text lines or, with `--json`, one JSON object per line. `--html OUT` writes the page with the
//! recording inside it instead.
//!
//! The rows are read as they are played (`timeline::rows`), so a replay holds one row and not the
//! file, and a FIFO plays as its writer writes; Ctrl-C and SIGTERM end a replay that waits for
//! either. A bad row ends the replay there with one line naming it.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::lab::ReplayArgs;
use crate::interrupt;
use crate::observe::{FanOut, Observer};
use crate::report;
use crate::report::export::Stream;
use crate::report::live::LiveView;
use crate::report::narration::event_line;
use crate::report::output::{self, Wanted};
use crate::report::progress::Live;
use crate::report::web::WebView;
use crate::timeline::{self, TimelineRow};
use crate::web::session::WAIT_FOR_VIEWER;

/// Longest single wait, so Ctrl-C is noticed quickly.
const NAP: Duration = Duration::from_millis(50);

pub fn main(a: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let html = match &a.html {
        Some(out) => output::open(
            &[Wanted {
                flag: "--html",
                path: out,
            }],
            None,
        )?
        .pop(),
        None => None,
    };
    let mut rows = match timeline::rows(&a.file) {
        Err(_) if interrupt::requested() => return Ok(ExitCode::from(interrupt::exit_code())),
        r => r?,
    };
    // The first row before anything is shown: a file that is no timeline fails at once.
    let first = match rows.next() {
        Some(Ok(r)) => r,
        Some(Err(_)) if interrupt::requested() => {
            return Ok(ExitCode::from(interrupt::exit_code()));
        }
        Some(Err(e)) => return Err(e.into()),
        None => return Err(rows.empty().into()),
    };
    let rows = std::iter::once(Ok(first)).chain(rows);
    if let (Some(out), Some(path)) = (html, &a.html) {
        let frames = report::web::write_html(rows, &a.file, out)?;
        output::tell_written(path, Some(&format!("{frames} frames")));
        return Ok(ExitCode::SUCCESS);
    }
    let web = report::web::start(a.web.web, a.web.web_linger.0)?;
    let live = Live::decide(a.quiet, a.format.machine());
    let events = Stream::new(a.format.get(), event_line);
    let title = format!("replay of {} at {}× speed", a.file.display(), a.speed);
    // A replay on a projector starts once the page is open (or after a bounded wait).
    let mut web_view = web.as_ref().map(|w| {
        if w.viewers() == 0 {
            eprintln!("{}", report::web::waiting_line(w, WAIT_FOR_VIEWER));
        }
        w.wait_for_viewer(WAIT_FOR_VIEWER);
        WebView::new(w.hub(), "replay", &title)
    });
    let mut view = live.shown().then(|| LiveView::new(live, &title));
    let mut observers: Vec<&mut dyn Observer> = Vec::new();
    if let Some(v) = view.as_mut() {
        observers.push(v);
    }
    if let Some(v) = web_view.as_mut() {
        observers.push(v);
    }
    let mut obs = FanOut(observers);
    let started = Instant::now();
    let mut bad = None;
    for row in rows {
        let row: TimelineRow = match row {
            Ok(r) => r,
            Err(_) if interrupt::requested() => break,
            Err(e) => {
                bad = Some(e);
                break;
            }
        };
        let due = Duration::from_secs_f64(row.time_ms / 1000.0 / a.speed);
        while let Some(left) = due.checked_sub(started.elapsed()).filter(|l| !l.is_zero()) {
            if interrupt::requested() {
                break;
            }
            std::thread::sleep(left.min(NAP));
        }
        if interrupt::requested() {
            break;
        }
        obs.sample(&row.to_sample());
        for e in row.events() {
            obs.event(&e);
            if a.format.machine() || !live.shown() {
                events.item(&e)?;
            }
        }
    }
    obs.finish();
    let code = if interrupt::requested() {
        interrupt::exit_code()
    } else if bad.is_some() {
        1
    } else {
        0
    };
    if let Some(w) = web {
        report::web::end(w, Some(code));
    }
    match bad {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::from(code)),
    }
}
