//! The core lab's subcommands: the one-process `deadlock` demo and the two roles, `server` and `client`.

use clap::Args;

use super::common::{
    BufferArgs, FormatArgs, OutputArgs, OwnBufferArgs, TrafficArgs, WaitArgs, port_arg,
    server_port_arg,
};
use crate::run::{ClientConfig, DEMO_BUFFER, PairConfig};
use crate::sock::{self, BufReq, NetError};
use crate::units::{BufSize, ByteSize, Millis, chunk_arg, duration_arg, size_arg};

/// Run the server and the naive client in one process and watch all four buffers fill until
/// send() and recv() wait on each other for ever; then read where every byte is from the kernel's
/// queues, end the deadlock cleanly, and try the fixes with --strategy.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    the run completed with its echo verified
  1    it ran and failed (a timeout, a reset, an echo that differs, an output that cannot be written)
  2    it could not start (bad arguments)
  3    a deadlock was detected
", signal_codes!(), "
       what had moved is printed first

Example: tcplab deadlock --sndbuf 16K --rcvbuf 16K --strategy reader-thread"))]
pub struct DeadlockArgs {
    #[command(flatten)]
    pub traffic: TrafficArgs,
    /// Bytes the client sends, rounded up to whole chunks.
    #[arg(long, value_parser = size_arg, default_value = "2MiB", value_name = "SIZE")]
    pub bytes: ByteSize,
    #[command(flatten)]
    pub buffers: BufferArgs,
    /// Loopback address to run on (127.0.0.1 or ::1); the port is chosen by the kernel.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Record every sample (about every 10 ms: the app counters and the four kernel queues) into
    /// FILE as CSV.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<std::path::PathBuf>,
    /// Draw the same timeline into FILE (SVG): the buffers filling, then the flat line of a
    /// deadlock or the steady state of a fix.
    #[arg(long, value_name = "FILE")]
    pub plot_timeline: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub web: super::web::WebArgs,
}

/// The uppercase-echo server of the classic deadlock pair: each recv() reads at most --read bytes,
/// uppercases ASCII letters, and writes everything back. Serves many connections at once (or one
/// after another with --sequential) until Ctrl-C, and frees connections stuck for --idle-timeout.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    served --connections N to their end
  1    it could not serve (port in use, a connection thread that would not end)
  2    it could not start (bad arguments)
", signal_codes!(), "
       every connection closed first

Example: tcplab server 127.0.0.1 -p 1060 --max-conns 40 --idle-timeout 10s --log"))]
pub struct ServerArgs {
    /// Address to listen on (loopback by default).
    #[arg(default_value = "127.0.0.1")]
    pub host: String,
    /// TCP port; 0 asks the kernel for a free one (the first stdout line announces it).
    #[arg(short, long, default_value_t = 1060, value_parser = port_arg, allow_negative_numbers = true)]
    pub port: u16,
    /// Largest single recv(), at most 1 GiB.
    #[arg(long, value_parser = chunk_arg, default_value = "1024", value_name = "SIZE")]
    pub read: ByteSize,
    #[command(flatten)]
    pub buffers: OwnBufferArgs,
    /// Exit after serving this many connections (default: serve until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub connections: Option<u64>,
    /// No live status line; only the event lines on stdout.
    #[arg(long, short)]
    pub quiet: bool,
    /// Serve connections in parallel, one thread each (the default; the flag is for scripts that
    /// want to say so).
    #[arg(long)]
    pub concurrent: bool,
    /// Serve one connection at a time like the classic program: the next client waits in the
    /// backlog, so a stuck client blocks everyone behind it (no --idle-timeout unless given).
    /// Cannot be combined with --max-conns.
    #[arg(long, conflicts_with_all = ["concurrent", "max_conns"])]
    pub sequential: bool,
    /// Most connections served at once; the next one is accepted, told so in one line of text, and
    /// closed.
    #[arg(long, default_value_t = 128, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096), allow_negative_numbers = true)]
    pub max_conns: u32,
    /// Free a connection that makes no progress for this long: its thread blocked in send() with
    /// the send queue not draining (the client stopped reading), or nothing arriving at all
    /// [default: 30s; none with --sequential].
    #[arg(long, value_parser = duration_arg, value_name = "DURATION")]
    pub idle_timeout: Option<Millis>,
    /// One stdout line per event (accepted, closed, stuck, reset, refused) with the running totals.
    #[arg(long)]
    pub log: bool,
    /// With json: one JSON object per event on stdout instead of text (listening, accepted,
    /// refused, closed, stopped), for scripts such as the load test.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Stop (as on SIGTERM) when process PID ends: how `tcplab load` starts its server.
    #[arg(long, value_name = "PID", hide = true)]
    pub managed_by: Option<u32>,
}

/// The client of the classic deadlock pair: sends --bytes as --chunk-byte writes, with the chosen
/// strategy, and checks the uppercased echo. Watches its own side for a stall.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    every byte came back uppercased
  1    it ran and failed (refused connection, a timeout, a reset, an echo that differs)
  2    it could not start (bad arguments)
  3    a deadlock was detected on the client's side
", signal_codes!(), "
       what had moved is printed first

Example: tcplab client 127.0.0.1 -p 1060 --bytes 32MiB --strategy reader-thread"))]
pub struct ClientArgs {
    /// Server address.
    #[arg(default_value = "127.0.0.1")]
    pub host: String,
    /// Server port: the one the server announced ('listening on HOST:PORT').
    #[arg(short, long, default_value_t = 1060, value_parser = server_port_arg, allow_negative_numbers = true)]
    pub port: u16,
    /// Bytes to send, rounded up to whole chunks.
    #[arg(long, value_parser = size_arg, default_value = "32MiB", value_name = "SIZE")]
    pub bytes: ByteSize,
    #[command(flatten)]
    pub traffic: TrafficArgs,
    #[command(flatten)]
    pub buffers: OwnBufferArgs,
    /// Give up connecting after this long.
    #[arg(long, value_parser = duration_arg, default_value = "5s", value_name = "DURATION")]
    pub connect_timeout: Millis,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Play a recorded timeline (`tcplab deadlock --timeline FILE.csv`) back through the live view, at
/// the recorded pace or faster: record once, show it on a projector with no timing risk. Without a
/// terminal, the narrated events are printed as they come.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Example: tcplab deadlock --slow --timeline demo.csv && tcplab replay demo.csv"
)]
pub struct ReplayArgs {
    /// The timeline, as `--timeline` wrote it.
    pub file: std::path::PathBuf,
    /// How much faster than recorded to play it (0.5 is half speed, 10 ten times faster).
    #[arg(long, default_value = "1", value_parser = speed_arg, value_name = "X")]
    pub speed: f64,
    /// With json: each event as one JSON object per line instead of the live view and text.
    #[command(flatten)]
    pub format: FormatArgs,
    /// No live view; only the narrated events.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub web: super::web::WebArgs,
    /// Write the live page with the recording inside it to FILE (one HTML file that plays in any
    /// browser, offline) instead of playing it here.
    #[arg(long, value_name = "FILE", conflicts_with = "web")]
    pub html: Option<std::path::PathBuf>,
}

/// A replay speed: a factor from 0.01 to 1000.
pub fn speed_arg(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('x').parse::<f64>() {
        Ok(v) if (0.01..=1000.0).contains(&v) => Ok(v),
        _ => Err("expected a speed factor from 0.01 to 1000, such as 0.5 or 10".into()),
    }
}

impl DeadlockArgs {
    /// The run the flags ask for: a per-peer flag beats `--sndbuf`/`--rcvbuf`, an unset buffer
    /// gets the demo's default.
    pub fn config(&self) -> PairConfig {
        let b = &self.buffers;
        let pick =
            |one: Option<BufSize>, both: Option<BufSize>| one.or(both).unwrap_or(DEMO_BUFFER);
        let client = BufReq {
            snd: pick(b.client_sndbuf, b.sndbuf),
            rcv: pick(b.client_rcvbuf, b.rcvbuf),
        };
        let server = BufReq {
            snd: pick(b.server_sndbuf, b.sndbuf),
            rcv: pick(b.server_rcvbuf, b.rcvbuf),
        };
        PairConfig {
            traffic: self
                .traffic
                .traffic(self.bytes, &self.wait, [client, server]),
            host: self.host.clone(),
            client,
            server,
            buffers_after_connect: b.buffers_after_connect,
        }
    }
}

impl ClientArgs {
    /// The client run the flags ask for.
    pub fn config(&self) -> Result<ClientConfig, NetError> {
        let buffers = BufReq {
            snd: self.buffers.sndbuf,
            rcv: self.buffers.rcvbuf,
        };
        Ok(ClientConfig {
            traffic: self
                .traffic
                .traffic(self.bytes, &self.wait, [buffers, buffers]),
            addr: sock::resolve(&self.host, self.port)?,
            buffers,
            connect_timeout: self.connect_timeout.0,
        })
    }
}
