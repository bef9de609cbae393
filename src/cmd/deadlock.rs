//! `tcplab deadlock`: both peers in one process, all four buffers in view.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::common::{TrafficArgs, WaitArgs};
use crate::cli::lab::DeadlockArgs;
use crate::cmd::outputs::{self, Wanted};
use crate::observe::{FanOut, Observer};
use crate::report::live::{self, LiveView};
use crate::report::{self, progress::Live};
use crate::run::{self, DEMO_BUFFER, PairConfig, Traffic};
use crate::sock::{BufReq, Dir, Limits};
use crate::sweep::model;
use crate::units::{BufSize, ByteSize};
use crate::{cmd, timeline};

pub fn config(a: &DeadlockArgs) -> PairConfig {
    let b = &a.buffers;
    let pick = |one: Option<BufSize>, both: Option<BufSize>| one.or(both).unwrap_or(DEMO_BUFFER);
    let client = BufReq {
        snd: pick(b.client_sndbuf, b.sndbuf),
        rcv: pick(b.client_rcvbuf, b.rcvbuf),
    };
    let server = BufReq {
        snd: pick(b.server_sndbuf, b.sndbuf),
        rcv: pick(b.server_rcvbuf, b.rcvbuf),
    };
    PairConfig {
        traffic: traffic(&a.traffic, a.bytes, &a.wait, [client, server]),
        host: a.host.clone(),
        client,
        server,
        buffers_after_connect: b.buffers_after_connect,
    }
}

/// The four buffers' predicted capacity, for `--slow` (the sum of what the kernel will keep).
fn capacity([client, server]: [BufReq; 2]) -> u64 {
    let four = model::expected(
        [
            (client.snd, Dir::Send),
            (client.rcv, Dir::Recv),
            (server.snd, Dir::Send),
            (server.rcv, Dir::Recv),
        ],
        &Limits::read(),
    );
    model::predicted_capacity(four)
}

/// The traffic both `deadlock` and `client` send, from their flags; `buffers` are the client's
/// and the server's requests (for `client`, its own stand in for the server's).
pub fn traffic(t: &TrafficArgs, bytes: ByteSize, w: &WaitArgs, buffers: [BufReq; 2]) -> Traffic {
    let base = Traffic::new(t.strategy, bytes.bytes(), t.chunk.bytes());
    let slow = t
        .slow
        .then(|| run::slow_pace(t.strategy, base.total, capacity(buffers)));
    Traffic {
        read: t.read.bytes() as usize,
        nodelay: t.nodelay,
        stall_after: w.stall_after.0,
        timeout: w.timeout.0.max(Duration::from_millis(1)),
        verify_stall: w.verify_stall.map(|m| m.0),
        pace: t.pace.map(ByteSize::bytes).or(slow),
        ..base
    }
}

pub fn main(a: &DeadlockArgs) -> anyhow::Result<ExitCode> {
    cmd::loopback_only(&a.host, "--host", "tcplab deadlock")?;
    let cfg = config(a);
    let web = cmd::web::start(&a.web)?; // --web (cmd/web.rs): first, so its URL is the first line
    let live = Live::decide(a.output.quiet, a.output.json);
    let (csv_out, svg_out) = timeline_files(a)?;
    let mut view = live
        .shown()
        .then(|| LiveView::new(live, &live::title("deadlock", &cfg.traffic)));
    let mut recorder = timeline::Recorder::for_run(cfg.traffic.timeout);
    let mut web_view = web
        .as_ref()
        .map(|w| w.view("deadlock", &live::title("deadlock", &cfg.traffic)));
    let mut observers: Vec<&mut dyn Observer> = Vec::new();
    if let Some(v) = web_view.as_mut() {
        observers.push(v);
    }
    if let Some(v) = view.as_mut() {
        observers.push(v);
    }
    if csv_out.is_some() || svg_out.is_some() {
        observers.push(&mut recorder);
    }
    let result = run::run_pair(&cfg, &mut FanOut(observers))?;
    report::timeline::save(&recorder.rows, &result, csv_out, svg_out)?;
    if let Some(w) = &web {
        w.hub().publish(&report::web::run_frame(&result));
    }
    cmd::print_run(&result, a.output.json, live.shown())?;
    if let Some(path) = &a.timeline {
        outputs::tell_written(path, Some(&report::output::rows(recorder.rows.len())));
    }
    if let Some(path) = &a.plot_timeline {
        outputs::tell_written(path, None);
    }
    if let Some(w) = web {
        std::io::Write::flush(&mut std::io::stdout())?;
        w.end(Some(result.outcome.exit_code()));
    }
    Ok(ExitCode::from(result.outcome.exit_code()))
}

type Out = Option<Box<dyn std::io::Write>>;

/// Checks and opens the timeline's files before the run: a typo in a path should not cost a run,
/// and stdout already carries the summary or the JSON document.
fn timeline_files(a: &DeadlockArgs) -> anyhow::Result<(Out, Out)> {
    let flags = [
        ("--timeline", &a.timeline),
        ("--plot-timeline", &a.plot_timeline),
    ];
    let wanted: Vec<Wanted> = flags
        .iter()
        .filter_map(|(flag, p)| p.as_deref().map(|path| Wanted { flag, path }))
        .collect();
    let carries = match a.output.json {
        true => "the JSON document",
        false => "the run's summary",
    };
    let mut opened = outputs::open(&wanted, Some(carries))?.into_iter();
    let csv = a.timeline.as_ref().and_then(|_| opened.next());
    Ok((csv, a.plot_timeline.as_ref().and_then(|_| opened.next())))
}
