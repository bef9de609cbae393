//! `tcplab deadlock`: both peers in one process, all four buffers in view.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::lab::DeadlockArgs;
use crate::progress::{self, LiveView};
use crate::run::{self, Observer, PairConfig, Traffic};
use crate::sock::BufReq;
use crate::units::{BufSize, ByteSize};
use crate::watchdog::{DEFAULT_CONFIRM, WatchConfig};
use crate::{cmd, payload, report, timeline};

/// The demo's default for every buffer: stalls near 0.5 MB within a fraction of a second, while
/// the fixes still run smoothly (tiny buffers make even healthy TCP crawl; docs/buffers.md).
pub const DEMO_BUFFER: BufSize = BufSize::Bytes(ByteSize(64 * 1024));

pub fn config(a: &DeadlockArgs) -> PairConfig {
    let b = &a.buffers;
    let pick = |one: Option<BufSize>, both: Option<BufSize>| one.or(both).unwrap_or(DEMO_BUFFER);
    PairConfig {
        traffic: traffic(&a.traffic, a.bytes, &a.wait),
        host: a.host.clone(),
        client: BufReq {
            snd: pick(b.client_sndbuf, b.sndbuf),
            rcv: pick(b.client_rcvbuf, b.rcvbuf),
        },
        server: BufReq {
            snd: pick(b.server_sndbuf, b.sndbuf),
            rcv: pick(b.server_rcvbuf, b.rcvbuf),
        },
        buffers_after_connect: b.buffers_after_connect,
    }
}

pub fn traffic(
    t: &crate::cli::common::TrafficArgs,
    bytes: ByteSize,
    w: &crate::cli::common::WaitArgs,
) -> Traffic {
    let chunk = t.chunk.bytes().min(1 << 30);
    Traffic {
        strategy: t.strategy,
        total: payload::rounded_total(bytes.bytes(), chunk),
        chunk: chunk as usize,
        read: t.read.bytes().min(1 << 30) as usize,
        nodelay: t.nodelay,
        watch: WatchConfig {
            confirm: DEFAULT_CONFIRM.min(w.stall_after.0),
            stall_after: w.stall_after.0,
        },
        timeout: w.timeout.0.max(Duration::from_millis(1)),
        verify_stall: w.verify_stall.map(|m| m.0),
    }
}

pub fn main(a: &DeadlockArgs) -> anyhow::Result<ExitCode> {
    let cfg = config(a);
    let mut live = LiveView::maybe(
        progress::wanted(a.output.quiet, a.output.json),
        cfg.traffic.total,
        true,
    );
    // Open the timeline's files first: a typo in a path should not cost a run.
    let csv_out = a.timeline.as_deref().map(report::create).transpose()?;
    let svg_out = a.plot_timeline.as_deref().map(report::create).transpose()?;
    let mut recorder = timeline::Recorder::for_run(cfg.traffic.timeout);
    let mut observers: Vec<&mut dyn Observer> = Vec::new();
    if let Some(v) = live.as_mut() {
        observers.push(v);
    }
    if csv_out.is_some() || svg_out.is_some() {
        observers.push(&mut recorder);
    }
    let result = run::run_pair(&cfg, &mut timeline::FanOut(observers))?;
    timeline::save(&recorder.rows, &result, csv_out, svg_out)?;
    cmd::print_run(&result, a.output.json)?;
    Ok(ExitCode::from(result.outcome.exit_code()))
}
