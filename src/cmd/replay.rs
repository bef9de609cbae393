//! `tcplab replay FILE.csv`: a recorded timeline played back through the same live view, each
//! row at its recorded time (divided by `--speed`), each recorded event told when its row comes.
//! Without a terminal (or with `--quiet`), only the events are printed, as text lines or, with
//! `--json`, one JSON object per line.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::lab::ReplayArgs;
use crate::interrupt;
use crate::observe::{NoObserver, Observer};
use crate::report::export::Stream;
use crate::report::live::LiveView;
use crate::report::narration::event_line;
use crate::report::progress::Live;
use crate::timeline;

/// Longest single wait, so Ctrl-C is noticed quickly.
const NAP: Duration = Duration::from_millis(50);

pub fn main(a: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let rows = timeline::read_rows(&a.file)?;
    let live = Live::decide(a.quiet, a.format.machine());
    let events = Stream::new(a.format.get(), event_line);
    let title = format!("replay of {} at {}× speed", a.file.display(), a.speed);
    let mut view = live.shown().then(|| LiveView::new(live, &title));
    let started = Instant::now();
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
        for e in row.events() {
            obs.event(&e);
            if a.format.machine() || !live.shown() {
                events.item(&e)?;
            }
        }
    }
    if let Some(v) = view.as_mut() {
        v.finish();
    }
    Ok(if interrupt::requested() {
        ExitCode::from(interrupt::exit_code())
    } else {
        ExitCode::SUCCESS
    })
}
