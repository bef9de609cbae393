//! `tcplab watch`: steps the watcher ten times a second, prints what happens (the live picture of
//! one connection or the table of many through the progress factory, events and verdicts as
//! lines, or JSON lines), and ends on a verdict or when everything closed (`--until-verdict`), on
//! `--timeout`, or on Ctrl-C / SIGTERM.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::watch::WatchArgs;
use crate::report::live::{MotionTracker, render};
use crate::report::narration::event_lines;
use crate::report::progress::Live;
use crate::report::watch::{JsonUpdate, conn_name, table, write_verdict};
use crate::report::web::WatchView;
use crate::report::{self, wrap};
use crate::watch::{Target, Update, Watcher};
use crate::watchdog::DEFAULT_CONFIRM;
use crate::{cmd, interrupt};

/// How often the kernel is asked.
const STEP: Duration = Duration::from_millis(100);
/// With this many connections or more, a process's threads are read at most once a second.
const MANY: usize = 8;
/// Rows of the table.
const ROWS: usize = 16;

pub fn main(a: &WatchArgs) -> anyhow::Result<ExitCode> {
    // --web (cmd/web.rs): the page sees what the terminal sees, and stays for the linger.
    let web = cmd::web::start(&a.web)?;
    let mut view = web.as_ref().map(|w| {
        let port = a.port.map(|p| format!(" · port {p}")).unwrap_or_default();
        WatchView::new(w.hub(), &format!("tcplab watch{port}"))
    });
    let code = watch(a, view.as_mut());
    match (web, &code) {
        (Some(w), Ok(_)) => w.end(None),
        (Some(w), Err(_)) => w.close(),
        (None, _) => {}
    }
    code
}

fn watch(a: &WatchArgs, mut web: Option<&mut WatchView>) -> anyhow::Result<ExitCode> {
    let target = Target {
        port: a.port,
        pid: a.pid,
        host: a.host,
        confirm: DEFAULT_CONFIRM,
        threads_every: Duration::ZERO,
    };
    let mut w = Watcher::new(target.clone())?;
    let live = Live::decide(a.quiet, a.json);
    let width = wrap::stderr_width();
    let bar = live.line("{msg}");
    let mut motion = MotionTracker::default();
    let mut out = io::stdout().lock();
    let mut said_waiting = false;
    let started = Instant::now();
    let mut last_table = None::<Instant>;
    loop {
        if w.conns().is_empty() && !said_waiting && !a.json {
            let what = describe(&target);
            bar.suspend(|| {
                eprintln!(
                    "{}",
                    wrap::for_stderr(&format!(
                        "tcplab watch: waiting for connections {what} (Ctrl-C to stop)"
                    ))
                )
            });
            said_waiting = true;
        }
        if w.conns().len() >= MANY {
            w.set_threads_every(Duration::from_secs(1));
        }
        let updates = w.step();
        if let Some(v) = web.as_mut() {
            v.step(&w, &updates);
        }
        let mut verdict = None;
        for u in &updates {
            match u {
                Update::Found { conn } if !a.json => {
                    let c = &w.conns()[*conn as usize - 1];
                    say(
                        &bar,
                        &mut out,
                        &format!("watching {}", conn_name(c.id, &c.key)),
                    )?;
                }
                Update::Event { conn, event } => {
                    let c = &w.conns()[*conn as usize - 1];
                    if a.json {
                        report::json::write_line(
                            &JsonUpdate::new(c, Some(event), false),
                            &mut out,
                        )?;
                    } else {
                        let prefix = format!("{}  ", conn_name(c.id, &c.key));
                        say(&bar, &mut out, &event_lines(&prefix, event, width))?;
                    }
                }
                Update::Verdict { conn } => {
                    let c = &w.conns()[*conn as usize - 1];
                    if a.json {
                        report::json::write_line(&JsonUpdate::new(c, None, true), &mut out)?;
                    } else {
                        let mut v = Vec::new();
                        let unreadable: Vec<(u32, String)> = w
                            .unreadable()
                            .iter()
                            .map(|(p, s)| (*p, s.clone()))
                            .collect();
                        write_verdict(c, &unreadable, &mut v)?;
                        say(
                            &bar,
                            &mut out,
                            &report::wrap::for_stdout(&String::from_utf8_lossy(&v)),
                        )?;
                    }
                    verdict = Some(*conn);
                }
                Update::Closed { conn, cleanly } => {
                    let c = &w.conns()[*conn as usize - 1];
                    if a.json {
                        report::json::write_line(&JsonUpdate::new(c, None, false), &mut out)?;
                    } else {
                        let how = if *cleanly { "closed cleanly" } else { "closed" };
                        say(
                            &bar,
                            &mut out,
                            &format!("{} {how}", conn_name(c.id, &c.key)),
                        )?;
                    }
                }
                Update::Found { .. } => {}
            }
        }
        if live.shown() {
            let open: Vec<_> = w
                .conns()
                .iter()
                .filter(|c| c.closed_cleanly.is_none())
                .collect();
            match open.as_slice() {
                [one] => {
                    if let Some(s) = &one.last {
                        let m = motion.take(s);
                        bar.set_message(render(s, &m, width).join("\n"));
                    }
                }
                [] => bar.set_message(""),
                many => {
                    if last_table.is_none_or(|t| t.elapsed() >= Duration::from_millis(200)) {
                        bar.set_message(table(many, width, ROWS).join("\n"));
                        last_table = Some(Instant::now());
                    }
                }
            }
        }
        if a.until_verdict && verdict.is_some() {
            bar.finish_and_clear();
            return Ok(ExitCode::from(3));
        }
        let all_closed =
            !w.conns().is_empty() && w.conns().iter().all(|c| c.closed_cleanly.is_some());
        if a.until_verdict && all_closed {
            bar.finish_and_clear();
            let clean = w.conns().iter().all(|c| c.closed_cleanly == Some(true));
            return Ok(ExitCode::from(if clean { 0 } else { 1 }));
        }
        if interrupt::requested() {
            bar.finish_and_clear();
            return Ok(ExitCode::from(interrupt::exit_code()));
        }
        if a.timeout.is_some_and(|t| started.elapsed() >= t.0) {
            bar.finish_and_clear();
            anyhow::bail!(
                "no verdict within --timeout {} and not every connection closed",
                a.timeout.map(|t| t.to_arg()).unwrap_or_default()
            );
        }
        std::thread::sleep(STEP); // the watcher's sampling clock, not a synchronisation
    }
}

/// A line on stdout, above the live view if there is one.
fn say(bar: &indicatif::ProgressBar, out: &mut impl Write, line: &str) -> io::Result<()> {
    bar.suspend(|| {
        writeln!(out, "{line}")?;
        out.flush()
    })
}

fn describe(t: &Target) -> String {
    let mut parts = Vec::new();
    if let Some(p) = t.port {
        parts.push(format!("on port {p}"));
    }
    if let Some(p) = t.pid {
        parts.push(format!("of process {p}"));
    }
    if let Some(h) = t.host {
        parts.push(format!("with {h}"));
    }
    parts.join(" ")
}
