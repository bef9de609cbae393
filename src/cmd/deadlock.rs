//! `tcplab deadlock`: both peers in one process, all four buffers in view.

use std::process::ExitCode;

use crate::cli::lab::DeadlockArgs;
use crate::observe::{FanOut, Observer};
use crate::report::export::{self, Format};
use crate::report::live::{self, LiveView};
use crate::report::output::{self, Wanted};
use crate::report::progress::Live;
use crate::report::run::RunDoc;
use crate::report::web::WebView;
use crate::{report, run, sock, timeline};

pub fn main(a: &DeadlockArgs) -> anyhow::Result<ExitCode> {
    sock::loopback_only(&a.host, "--host ", "tcplab deadlock")?;
    let format = a.output.format.get();
    export::supported::<RunDoc>(format)?;
    let cfg = a.config();
    // First, so that its address is the first line on stderr.
    let web = report::web::start(a.web.web, a.web.web_linger.0)?;
    let flags = [
        ("--timeline", &a.timeline),
        ("--plot-timeline", &a.plot_timeline),
    ];
    let wanted: Vec<Wanted> = flags
        .iter()
        .filter_map(|(flag, p)| p.as_deref().map(|path| Wanted { flag, path }))
        .collect();
    let carries = match format {
        Format::Text => "the run's summary",
        _ => "the JSON document",
    };
    let mut opened = output::open(&wanted, Some(carries))?.into_iter();
    let csv_out = a.timeline.as_ref().and_then(|_| opened.next());
    let svg_out = a.plot_timeline.as_ref().and_then(|_| opened.next());

    let live = Live::decide(a.output.quiet, a.output.format.machine());
    let mut view = live
        .shown()
        .then(|| LiveView::new(live, &live::title("deadlock", &cfg.traffic)));
    let mut recorder = timeline::Recorder::for_run(cfg.traffic.timeout);
    let mut web_view = web
        .as_ref()
        .map(|w| WebView::new(w.hub(), "deadlock", &live::title("deadlock", &cfg.traffic)));
    let mut observers: Vec<&mut dyn Observer> = Vec::new();
    if let Some(v) = web_view.as_mut() {
        observers.push(v);
    }
    if let Some(v) = view.as_mut() {
        observers.push(v);
    }
    if !wanted.is_empty() {
        observers.push(&mut recorder);
    }
    let result = run::run_pair(&cfg, &mut FanOut(observers))?;
    report::timeline::save(&recorder.rows, &result, csv_out, svg_out)?;
    if let Some(w) = &web {
        w.hub().publish(&report::web::run_frame(&result));
    }
    export::print(&RunDoc::new(&result, live.shown()), format)?;
    if let Some(path) = &a.timeline {
        let rows = report::human::count(recorder.rows.len() as u64, "row");
        output::tell_written(path, Some(&rows));
    }
    if let Some(path) = &a.plot_timeline {
        output::tell_written(path, None);
    }
    if let Some(w) = web {
        report::web::end(w, Some(result.outcome.exit_code()));
    }
    Ok(ExitCode::from(result.outcome.exit_code()))
}
