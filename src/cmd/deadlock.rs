//! `tcplab deadlock`: both peers in one process, all four buffers in view.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::lab::DeadlockArgs;
use crate::progress::{self, LiveView};
use crate::run::{self, NoObserver, Observer, PairConfig, Traffic};
use crate::sock::BufReq;
use crate::units::{BufSize, ByteSize};
use crate::watchdog::{DEFAULT_CONFIRM, WatchConfig};
use crate::{cmd, payload};

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
    let obs: &mut dyn Observer = match live.as_mut() {
        Some(v) => v,
        None => &mut NoObserver,
    };
    let result = run::run_pair(&cfg, obs)?;
    cmd::print_run(&result, a.output.json)?;
    Ok(ExitCode::from(result.outcome.exit_code()))
}
