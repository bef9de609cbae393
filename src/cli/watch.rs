//! `tcplab watch`: the command-line types; no I/O happens here.

use clap::Args;

use super::common::FormatArgs;

use crate::units::{Millis, duration_arg};

/// Watch the TCP connections of programs tcplab did not write — the classic Python scripts, your
/// own client and server — from the kernel's socket diagnostics (as `ss` reads them) and /proc:
/// both ends of each loopback connection, the four queues, the windows, which thread of which
/// process waits in which call, and a verdict when they deadlock. One connection gets the live
/// picture; several get one row each, the stuck ones first.
#[derive(Debug, Clone, Args)]
#[command(
    group = clap::ArgGroup::new("target").required(true).multiple(true).args(["port", "pid", "host"]),
    after_help = concat!("Exit codes:
  0    every watched connection closed cleanly (with --until-verdict)
  1    it could not watch (no such process, no sock_diag), or --timeout passed
  2    bad arguments
  3    a deadlock was detected (with --until-verdict)
", signal_codes!(), "

Example: tcplab watch --port 1060 --until-verdict")
)]
pub struct WatchArgs {
    /// Watch the connections to or from this port; the end whose own port it is, is the server.
    #[arg(short, long, value_parser = super::common::server_port_arg, allow_negative_numbers = true)]
    pub port: Option<u16>,
    /// Watch the connections of this process (and the other ends of them).
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// Watch the connections with this address at either end.
    #[arg(long, value_name = "ADDR")]
    pub host: Option<std::net::IpAddr>,
    /// Exit 3 at the first deadlock (after printing it), or 0 once every watched connection has
    /// closed cleanly.
    #[arg(long)]
    pub until_verdict: bool,
    /// With json: one JSON object per line for every event, verdict and closed connection.
    #[command(flatten)]
    pub format: FormatArgs,
    /// No live view; events and verdicts as lines.
    #[arg(long, short)]
    pub quiet: bool,
    /// Only the table of connections, one row each, the stuck ones first, also for one
    /// connection: no events or reports above it. A class at a glance; at the end the last table
    /// stays on screen (or, not on a terminal, is printed once).
    #[arg(long, conflicts_with = "quiet")]
    pub table: bool,
    /// Give up after this long in all (exit 1).
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    pub timeout: Option<Millis>,
    #[command(flatten)]
    pub web: super::web::WebArgs,
}
