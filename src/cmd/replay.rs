//! `tcplab replay FILE.csv`: a recorded timeline played back through the same live view, each
//! row at its recorded time (divided by `--speed`), each recorded event told when its row comes.
//! Without a terminal (or with `--quiet`), only the events are printed, as text lines or, with
//! `--json`, one JSON object per line.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::lab::ReplayArgs;
use crate::interrupt;
use crate::observe::{NoObserver, Observer};
use crate::report::live::LiveView;
use crate::report::narration::event_line;
use crate::report::{self, progress::Live};
use crate::{cmd, timeline};

/// Longest single wait, so Ctrl-C is noticed quickly.
const NAP: Duration = Duration::from_millis(50);

pub fn main(a: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let rows = timeline::read_rows(&a.file)?;
    if let Some(out) = &a.html {
        return cmd::web::write_html(&rows, &a.file, out); // --html (cmd/web.rs)
    }
    let web = cmd::web::start(&a.web)?; // --web (cmd/web.rs)
    let live = Live::decide(a.quiet, a.json);
    let title = format!("replay of {} at {}× speed", a.file.display(), a.speed);
    let mut web_view = web.as_ref().map(|w| {
        w.wait_for_viewer(cmd::web::WAIT_FOR_VIEWER);
        w.view("replay", &title)
    });
    let mut view = live.shown().then(|| LiveView::new(live, &title));
    let started = Instant::now();
    let mut out = io::stdout().lock();
    for row in &rows {
        let due = Duration::from_secs_f64(row.time_ms.max(0.0) / 1000.0 / a.speed);
        while let Some(left) = due.checked_sub(started.elapsed()).filter(|l| !l.is_zero()) {
            if interrupt::requested() {
                break;
            }
            std::thread::sleep(left.min(NAP));
        }
        if interrupt::requested() {
            break;
        }
        let obs: &mut dyn Observer = match view.as_mut() {
            Some(v) => v,
            None => &mut NoObserver,
        };
        obs.sample(&row.to_sample());
        if let Some(w) = web_view.as_mut() {
            w.sample(&row.to_sample());
        }
        for e in row.events() {
            obs.event(&e);
            if let Some(w) = web_view.as_mut() {
                w.event(&e);
            }
            if a.json {
                report::json::write_line(&e, &mut out)?;
            } else if !live.shown() {
                writeln!(out, "{}", event_line(&e))?;
                out.flush()?;
            }
        }
    }
    if let Some(v) = view.as_mut() {
        v.finish();
    }
    if let (Some(w), Some(mut v)) = (web, web_view) {
        v.finish();
        w.end(Some(if interrupt::requested() {
            interrupt::exit_code()
        } else {
            0
        }));
    }
    Ok(if interrupt::requested() {
        ExitCode::from(interrupt::exit_code())
    } else {
        ExitCode::SUCCESS
    })
}
