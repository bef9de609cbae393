//! `tcplab sweep`: the grid flags, the traffic of every point, and where the rows go.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::Args;

use super::common::FormatArgs;

use crate::client::StrategyName;
use crate::sweep::grid::{Grid, grid_arg};
use crate::sweep::{Knob, MAX_JOBS, Plan, default_jobs};
use crate::units::BufSize;
use crate::units::{ByteSize, Millis, chunk_arg, duration_arg, size_arg};

/// Run the one-process deadlock demo once per combination of buffer sizes and print, point by
/// point, what each socket got, how many bytes went out before the stall, and how that compares
/// with the prediction (the sum of the four effective buffer sizes).
///
/// A SPEC is a list (4K,16K,64K), a geometric range (4K..1M:x2 = 4K, 8K, … 1M), an arithmetic range
/// (4K..16K:+4K), or a mix (auto,4K..64K:x4); K and KiB both mean 1024. Every flag given becomes
/// one axis of the grid. Per-peer flags beat --sndbuf/--rcvbuf, which beat --buffers; with no
/// buffer flag the sweep varies --buffers over 4K..256K:x4.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    every point ran (a deadlock at a point is a result, not a failure)
  1    a point failed, or an output could not be written
  2    it could not start (bad arguments, a grid of too many points, two outputs to one file)
", signal_codes!(), "
       the points that finished are written and plotted

Example: tcplab sweep --sndbuf 4K..64K:x2 --rcvbuf 4K,64K -o points.csv --plot points.svg"))]
pub struct SweepArgs {
    /// All four buffers at once (SO_SNDBUF and SO_RCVBUF of both peers).
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub buffers: Option<Grid>,
    /// SO_SNDBUF of both peers.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub sndbuf: Option<Grid>,
    /// SO_RCVBUF of both peers.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub rcvbuf: Option<Grid>,
    /// SO_SNDBUF of the client only.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub client_sndbuf: Option<Grid>,
    /// SO_RCVBUF of the client only.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub client_rcvbuf: Option<Grid>,
    /// SO_SNDBUF of the server only.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub server_sndbuf: Option<Grid>,
    /// SO_RCVBUF of the server only.
    #[arg(long, value_parser = grid_arg, value_name = "SPEC")]
    pub server_rcvbuf: Option<Grid>,
    /// Client strategies to run at every point (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "naive")]
    pub strategy: Vec<StrategyName>,
    /// Bytes of each client write, at most 1 GiB.
    #[arg(long, value_parser = chunk_arg, default_value = "16", value_name = "SIZE")]
    pub chunk: ByteSize,
    /// Largest single recv() of the server and of the client's reader, at most 1 GiB.
    #[arg(long, value_parser = chunk_arg, default_value = "1024", value_name = "SIZE")]
    pub read: ByteSize,
    /// Bytes each point's client sends [default: max(4 MiB, 4 × the predicted capacity), so a
    /// naive client always outgrows the buffers].
    #[arg(long, value_parser = size_arg, value_name = "SIZE")]
    pub bytes: Option<ByteSize>,
    /// Runs of every point (the plot draws their median).
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100), allow_negative_numbers = true)]
    pub repeat: u32,
    /// Turn Nagle's algorithm off on the client (TCP_NODELAY).
    #[arg(long)]
    pub nodelay: bool,
    /// Set the buffer sizes after connect()/accept() instead of before.
    #[arg(long)]
    pub buffers_after_connect: bool,
    /// Silence fallback of the stall watchdog, per point.
    #[arg(long, value_parser = duration_arg, default_value = "2s", value_name = "DURATION")]
    pub stall_after: Millis,
    /// Give up on a point (and shut its sockets down) after this long.
    #[arg(long, value_parser = duration_arg, default_value = "60s", value_name = "DURATION")]
    pub timeout: Millis,
    /// Points that send at once, each with its own sockets and threads [default: the number of
    /// cores]. With 2 or more, a point whose counters stood still for 100 ms gives its place to the
    /// next one while it waits for its verdict (up to 3 wait beside each that sends); the bytes before each stall
    /// stay within their run-to-run spread (docs/sweep.md). --jobs 1 runs the points one after
    /// another, for timings that no other point shares the CPU with.
    #[arg(short, long, value_parser = jobs_arg, value_name = "N", allow_negative_numbers = true)]
    pub jobs: Option<NonZeroUsize>,
    /// Loopback address to run on (127.0.0.1 or ::1).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The form of the rows on stdout and of any --output file whose name does not end in .csv,
    /// .json, .jsonl or .txt (json is one object per line: JSON Lines).
    #[command(flatten)]
    pub format: FormatArgs,
    /// Write the rows to FILE instead of stdout ('-' = stdout); repeat it to write several forms
    /// at once (e.g. -o points.csv -o points.json). Each row is written as its point finishes.
    #[arg(short, long, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// Draw bytes-before-stall against the buffer size into FILE (SVG), with the prediction.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// clap value parser of `--jobs`: a whole number from 1 to `MAX_JOBS`.
fn jobs_arg(s: &str) -> Result<NonZeroUsize, String> {
    let bad = || {
        format!(
            "expected the number of points to run at once, a whole number from 1 to {MAX_JOBS} (e.g. --jobs 2; --jobs 1 runs them one after another)"
        )
    };
    match s.trim().parse::<usize>() {
        Ok(n @ 1..=MAX_JOBS) => Ok(NonZeroUsize::new(n).expect("not zero")),
        _ => Err(bad()),
    }
}

/// The grid when no buffer flag is given: the four buffers together, 4 KiB to 256 KiB.
fn default_axis() -> (Knob, Vec<BufSize>) {
    let v = [4u64, 16, 64, 256].map(|k| BufSize::Bytes(ByteSize(k * 1024)));
    (Knob::Buffers, v.to_vec())
}

impl SweepArgs {
    /// The sweep the flags ask for.
    pub fn plan(&self) -> Plan {
        let a = self;
        let given = [
            (Knob::Buffers, &a.buffers),
            (Knob::Sndbuf, &a.sndbuf),
            (Knob::Rcvbuf, &a.rcvbuf),
            (Knob::ClientSndbuf, &a.client_sndbuf),
            (Knob::ClientRcvbuf, &a.client_rcvbuf),
            (Knob::ServerSndbuf, &a.server_sndbuf),
            (Knob::ServerRcvbuf, &a.server_rcvbuf),
        ];
        let mut axes: Vec<(Knob, Vec<BufSize>)> = given
            .into_iter()
            .filter_map(|(k, g)| g.as_ref().map(|g| (k, g.0.clone())))
            .collect();
        if axes.is_empty() {
            axes.push(default_axis());
        }
        let mut strategies = a.strategy.clone();
        strategies.dedup();
        Plan {
            axes,
            strategies,
            repeat: a.repeat,
            chunk: a.chunk.bytes(),
            read: a.read.bytes(),
            bytes: a.bytes.map(ByteSize::bytes),
            nodelay: a.nodelay,
            buffers_after_connect: a.buffers_after_connect,
            stall_after: a.stall_after.0,
            timeout: a.timeout.0,
            host: a.host.clone(),
            jobs: a.jobs.unwrap_or_else(default_jobs),
        }
    }
}
