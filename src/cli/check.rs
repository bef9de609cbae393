//! `tcplab check client|server -- CMD ARGS…`: the command-line types; no I/O happens here.

use clap::{Args, Subcommand};

use super::common::FormatArgs;

use crate::units::{ByteSize, Millis, duration_arg, size_arg};

/// Grade your own program: run it against tcplab's half of the lab, watch the connection from the
/// kernel, and say whether it passed, deadlocked, crashed or hung — with the evidence. In the
/// command after `--`, tcplab replaces {host} and {port} (and, for a client, {bytes}) before it
/// runs it.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!("Exit codes:
  0    passed
  1    it crashed, hung, or echoed wrong bytes; or tcplab could not check it (a port in use, a
       program that exits before it connects or listens)
  2    bad arguments (a command that cannot be found, no {port} in it)
  3    a deadlock was detected
", signal_codes!(), "
       the program is stopped and reaped first

Example (after 'tcplab files lab'): tcplab check client -- python3 lab/threaded_client.py {host} {port} {bytes}"))]
pub struct CheckArgs {
    #[command(subcommand)]
    pub what: CheckWhat,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CheckWhat {
    Client(CheckClientArgs),
    Server(CheckServerArgs),
}

/// Check your client: tcplab runs its reference uppercase-echo server on a free loopback port,
/// starts your client with {host}, {port} and {bytes} filled in, and watches the connection. It
/// passes when the server received and echoed exactly {bytes} bytes and your client exited 0.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example (after 'tcplab files lab'): tcplab check client --ladder -- python3 lab/naive_client.py {host} {port} {bytes}"
)]
pub struct CheckClientArgs {
    /// What {bytes} stands for (K and KiB both mean 1024). By default, twice what tcplab's own
    /// naive client gets through before it deadlocks on this machine with its default buffers
    /// (measured first, in about a second), so that a client that sends everything before it
    /// reads deadlocks here; the size used is printed.
    #[arg(long, value_parser = size_arg, value_name = "SIZE")]
    pub bytes: Option<ByteSize>,
    /// Run the client at growing sizes — 16 KiB, then four times more each step, up to
    /// --max-bytes — and report the first size at which it fails. Needs {bytes} in the command.
    #[arg(long)]
    pub ladder: bool,
    /// The last size of --ladder [default: as --bytes].
    #[arg(long, value_parser = size_arg, value_name = "SIZE", requires = "ladder")]
    pub max_bytes: Option<ByteSize>,
    #[command(flatten)]
    pub common: CheckCommon,
    /// Your client and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "CMD")]
    pub command: Vec<String>,
}

/// Check your server: tcplab starts it with {host} and {port} filled in (a free port), waits until
/// it listens, and drives it with its own clients: the naive one at --bytes, then the
/// reader-thread fix at four times more each step up to --max-bytes. Each echo is checked byte
/// for byte against the uppercased input.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example (after 'tcplab files lab'): tcplab check server -- python3 lab/tcp_deadlock.py server {host} -p {port}"
)]
pub struct CheckServerArgs {
    /// Bytes the naive client sends first (K and KiB both mean 1024).
    #[arg(long, value_parser = size_arg, default_value = "64KiB", value_name = "SIZE")]
    pub bytes: ByteSize,
    /// The largest size the reader-thread client sends.
    #[arg(long, value_parser = size_arg, default_value = "4MiB", value_name = "SIZE")]
    pub max_bytes: ByteSize,
    /// How long the server may take to listen.
    #[arg(long, value_parser = duration_arg, default_value = "10s", value_name = "DURATION")]
    pub listen_timeout: Millis,
    #[command(flatten)]
    pub common: CheckCommon,
    /// Your server and its arguments, after `--`.
    #[arg(last = true, required = true, num_args = 1.., value_name = "CMD")]
    pub command: Vec<String>,
}

/// What both checks share.
#[derive(Debug, Clone, Args)]
pub struct CheckCommon {
    /// Loopback address to run on (127.0.0.1 or ::1); it fills {host}.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to use; 0 picks a free one. It fills {port}.
    #[arg(short, long, default_value_t = 0, value_parser = super::common::port_arg,
          allow_negative_numbers = true)]
    pub port: u16,
    /// Give up on one run after this long (the program is stopped and reaped).
    #[arg(long, value_parser = duration_arg, default_value = "60s", value_name = "DURATION")]
    pub timeout: Millis,
    /// A run in which no byte moves for this long, without kernel evidence of a deadlock, has
    /// hung.
    #[arg(long, value_parser = duration_arg, default_value = "5s", value_name = "DURATION")]
    pub stall_after: Millis,
    #[command(flatten)]
    pub format: FormatArgs,
    /// No progress lines on stderr; only the report.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write a Markdown lab report to FILE.md, with the timeline drawn beside it
    /// (FILE.svg).
    #[arg(long, value_name = "FILE.md")]
    pub report: Option<std::path::PathBuf>,
}
