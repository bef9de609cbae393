//! A sweep: the cartesian product of the buffer flags (and strategies), each point run as a fresh
//! one-process deadlock demo (`run::run_pair`, all four sockets in view), several at once, each
//! result handed to the caller in point order as soon as the points before it are done, so the
//! views can write and flush its row at once.
//!
//! Parsing the specs lives in `grid.rs`, running the points together in `pool.rs`, the prediction
//! in `model.rs`; rows, files, formats and the progress bar are the views' and the command's
//! (`report::sweep_row`, `cmd/sweep.rs`).

pub mod grid;
mod pool;

pub use pool::{MAX_JOBS, WAITING_PER_JOB, default_jobs};

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::client::StrategyName;
use crate::model;
use crate::observe::Observer;
use crate::result::RunResult;
use crate::run::{self, DEMO_BUFFER, MAX_CHUNK, PairConfig, SetupError, Traffic};
use crate::sock::{BufReq, Dir, Limits};
use crate::units::BufSize;

/// A flag a sweep can vary. The order is the precedence of the plot's x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case", prefix = "--")]
pub enum Knob {
    /// All four buffers at once.
    Buffers,
    Sndbuf,
    Rcvbuf,
    ClientSndbuf,
    ClientRcvbuf,
    ServerSndbuf,
    ServerRcvbuf,
}

impl Knob {
    /// The flag as typed.
    pub fn flag(self) -> &'static str {
        self.into()
    }
}

/// Everything a sweep needs, already parsed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The buffer flags given, in `Knob` order, each with its values.
    pub axes: Vec<(Knob, Vec<BufSize>)>,
    pub strategies: Vec<StrategyName>,
    /// Runs per point.
    pub repeat: u32,
    pub chunk: u64,
    pub read: u64,
    /// Fixed traffic (bytes); `None` = `model::default_bytes` per point.
    pub bytes: Option<u64>,
    pub nodelay: bool,
    pub buffers_after_connect: bool,
    pub stall_after: Duration,
    pub timeout: Duration,
    pub host: String,
    /// Points run at once (`pool::default_jobs` unless asked).
    pub jobs: NonZeroUsize,
}

/// One run of the sweep.
#[derive(Debug, Clone)]
pub struct Point {
    /// 1-based number of the grid point; repeats share it.
    pub index: u32,
    /// 1-based repeat of that point.
    pub run: u32,
    pub strategy: StrategyName,
    /// The value of each varied flag at this point.
    pub values: Vec<(Knob, BufSize)>,
    pub client: BufReq,
    pub server: BufReq,
}

/// What stopped a sweep early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    AllDone,
    Interrupted,
}

impl Plan {
    /// The number of runs (grid points × repeats), before expanding them.
    pub fn len(&self) -> usize {
        let grid: usize = self.axes.iter().map(|(_, v)| v.len()).product();
        grid.saturating_mul(self.strategies.len())
            .saturating_mul(self.repeat as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every run in order: the first flag varies slowest, strategies fastest, repeats innermost.
    pub fn points(&self) -> Vec<Point> {
        let mut combos: Vec<Vec<(Knob, BufSize)>> = vec![Vec::new()];
        for (knob, values) in &self.axes {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((*knob, *v));
                        c
                    })
                })
                .collect();
        }
        let mut out = Vec::with_capacity(self.len());
        let mut index = 0;
        for values in combos {
            for &strategy in &self.strategies {
                index += 1;
                let (client, server) = requests(&values);
                for run in 1..=self.repeat {
                    out.push(Point {
                        index,
                        run,
                        strategy,
                        values: values.clone(),
                        client,
                        server,
                    });
                }
            }
        }
        out
    }

    /// The flag the plot puts on its x axis: the first that takes several sizes.
    pub fn x_knob(&self) -> Option<Knob> {
        let sized = |v: &Vec<BufSize>| v.iter().filter(|b| b.requested().is_some()).count();
        self.axes
            .iter()
            .find(|(_, v)| sized(v) > 1)
            .or_else(|| self.axes.iter().find(|(_, v)| sized(v) > 0))
            .map(|(k, _)| *k)
    }

    /// Runs one point; `cancel`, once set, ends it as Ctrl-C would.
    pub fn run_point(
        &self,
        p: &Point,
        limits: &Limits,
        cancel: Option<&Arc<AtomicBool>>,
        obs: &mut dyn Observer,
    ) -> Result<RunResult, SetupError> {
        let expected = model::expected(
            [
                (p.client.snd, Dir::Send),
                (p.client.rcv, Dir::Recv),
                (p.server.snd, Dir::Send),
                (p.server.rcv, Dir::Recv),
            ],
            limits,
        );
        let bytes = self.bytes.unwrap_or_else(|| model::default_bytes(expected));
        let cfg = PairConfig {
            traffic: Traffic {
                read: self.read.clamp(1, MAX_CHUNK) as usize,
                nodelay: self.nodelay,
                stall_after: self.stall_after,
                timeout: self.timeout.max(Duration::from_millis(1)),
                cancel: cancel.cloned(),
                ..Traffic::new(p.strategy, bytes, self.chunk)
            },
            host: self.host.clone(),
            client: p.client,
            server: p.server,
            buffers_after_connect: self.buffers_after_connect,
        };
        run::run_pair(&cfg, obs)
    }
}

/// The requests of both sockets at one grid point: a per-peer flag beats `--sndbuf`/`--rcvbuf`,
/// which beat `--buffers`; an unset one gets the demo's default.
fn requests(values: &[(Knob, BufSize)]) -> (BufReq, BufReq) {
    let get = |k: Knob| values.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v);
    let pick = |one: Knob, both: Knob| {
        get(one)
            .or(get(both))
            .or(get(Knob::Buffers))
            .unwrap_or(DEMO_BUFFER)
    };
    (
        BufReq {
            snd: pick(Knob::ClientSndbuf, Knob::Sndbuf),
            rcv: pick(Knob::ClientRcvbuf, Knob::Rcvbuf),
        },
        BufReq {
            snd: pick(Knob::ServerSndbuf, Knob::Sndbuf),
            rcv: pick(Knob::ServerRcvbuf, Knob::Rcvbuf),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::ByteSize;

    fn plan(axes: Vec<(Knob, Vec<BufSize>)>, strategies: Vec<StrategyName>, repeat: u32) -> Plan {
        Plan {
            axes,
            strategies,
            repeat,
            chunk: 16,
            read: 1024,
            bytes: None,
            nodelay: false,
            buffers_after_connect: false,
            stall_after: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            host: "127.0.0.1".into(),
            jobs: NonZeroUsize::MIN,
        }
    }

    fn kib(n: u64) -> BufSize {
        BufSize::Bytes(ByteSize(n * 1024))
    }

    #[test]
    fn the_grid_is_the_product_of_the_flags_times_strategies_and_repeats() {
        let p = plan(
            vec![
                (Knob::Sndbuf, vec![kib(4), kib(16), kib(64)]),
                (Knob::Rcvbuf, vec![kib(4), kib(64)]),
            ],
            vec![StrategyName::Naive, StrategyName::ReaderThread],
            2,
        );
        let pts = p.points();
        assert_eq!(pts.len(), 24);
        assert_eq!(p.len(), 24);
        assert_eq!(pts.last().unwrap().index, 12);
        assert_eq!(pts[1].run, 2);
        assert_eq!(p.x_knob(), Some(Knob::Sndbuf));
    }

    #[test]
    fn per_peer_flags_override_the_both_peers_flags() {
        let (c, s) = requests(&[
            (Knob::Buffers, kib(8)),
            (Knob::Sndbuf, kib(16)),
            (Knob::ClientSndbuf, kib(4)),
        ]);
        assert_eq!(c.snd, kib(4));
        assert_eq!(s.snd, kib(16));
        assert_eq!(c.rcv, kib(8));
        assert_eq!(s.rcv, kib(8));
    }
}
