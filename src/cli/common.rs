//! Options shared by several subcommands: the four buffer knobs, the traffic shape, the output form.

use clap::Args;

use std::time::Duration;

pub use crate::client::StrategyName;
pub use crate::format::Format;
use crate::run::{self, Traffic};
use crate::sock::BufReq;

use crate::units::{BufSize, ByteSize, Millis, buf_arg, chunk_arg, duration_arg, rate_arg};

/// Per-socket buffer requests. `--sndbuf`/`--rcvbuf` set both peers; the per-peer flags override one.
#[derive(Debug, Clone, Args)]
pub struct BufferArgs {
    /// SO_SNDBUF to request on both peers (e.g. 4K, 64KiB, 1M; K and KiB both mean 1024), or
    /// 'auto' to leave it to the kernel's autotuning. Default for 'deadlock': 64 KiB.
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub sndbuf: Option<BufSize>,
    /// SO_RCVBUF to request on both peers, or 'auto'. Default for 'deadlock': 64 KiB.
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub rcvbuf: Option<BufSize>,
    /// SO_SNDBUF for the client only (overrides --sndbuf).
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub client_sndbuf: Option<BufSize>,
    /// SO_RCVBUF for the client only (overrides --rcvbuf).
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub client_rcvbuf: Option<BufSize>,
    /// SO_SNDBUF for the server only (overrides --sndbuf).
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub server_sndbuf: Option<BufSize>,
    /// SO_RCVBUF for the server only (overrides --rcvbuf).
    #[arg(long, value_parser = buf_arg, value_name = "SIZE")]
    pub server_rcvbuf: Option<BufSize>,
    /// Set the buffer sizes after connect()/accept() instead of before listen()/connect(). The
    /// window scale is already fixed by then, which is a lesson of its own.
    #[arg(long)]
    pub buffers_after_connect: bool,
}

/// Buffer requests of a single socket (server or client on their own).
#[derive(Debug, Clone, Args)]
pub struct OwnBufferArgs {
    /// SO_SNDBUF to request (e.g. 64K), or 'auto' for the kernel's autotuning.
    #[arg(long, value_parser = buf_arg, value_name = "SIZE", default_value = "auto")]
    pub sndbuf: BufSize,
    /// SO_RCVBUF to request (e.g. 64K), or 'auto' for the kernel's autotuning.
    #[arg(long, value_parser = buf_arg, value_name = "SIZE", default_value = "auto")]
    pub rcvbuf: BufSize,
}

/// The shape of the client's traffic.
#[derive(Debug, Clone, Args)]
pub struct TrafficArgs {
    /// How the client sends and reads.
    #[arg(long, value_enum, default_value = "naive")]
    pub strategy: StrategyName,
    /// Bytes of each write (the message 'capitalize this!' repeated to fill it), at most 1 GiB.
    #[arg(long, value_parser = chunk_arg, default_value = "16", value_name = "SIZE")]
    pub chunk: ByteSize,
    /// Largest single recv() of the server and of the client's reader, at most 1 GiB.
    #[arg(long, value_parser = chunk_arg, default_value = "1024", value_name = "SIZE")]
    pub read: ByteSize,
    /// Turn Nagle's algorithm off on the client (TCP_NODELAY).
    #[arg(long)]
    pub nodelay: bool,
    /// Slow motion: the client sends at most RATE bytes a second (e.g. 32KiB/s; K and KiB both
    /// mean 1024), sleeping between batches of writes, so the buffers fill over seconds. The stall
    /// comes at the same number of bytes, only later.
    #[arg(long, value_parser = rate_arg, value_name = "RATE", conflicts_with = "slow")]
    pub pace: Option<ByteSize>,
    /// Slow motion for a projector: a pace at which the run takes about 15 s — the naive client
    /// reaches the stall (the default demo at about 32 KiB/s), a fix sends its last byte.
    #[arg(long)]
    pub slow: bool,
}

impl TrafficArgs {
    /// The traffic `deadlock` and `client` send, from their flags; `buffers` are the client's and
    /// the server's requests (for `client`, its own stand in for the server's).
    pub fn traffic(&self, bytes: ByteSize, w: &WaitArgs, buffers: [BufReq; 2]) -> Traffic {
        let base = Traffic::new(self.strategy, bytes.bytes(), self.chunk.bytes());
        let slow = self
            .slow
            .then(|| run::slow_pace(self.strategy, base.total, buffers));
        Traffic {
            read: self.read.bytes() as usize,
            nodelay: self.nodelay,
            stall_after: w.stall_after.0,
            timeout: w.timeout.0.max(Duration::from_millis(1)),
            verify_stall: w.verify_stall.map(|m| m.0),
            pace: self.pace.map(ByteSize::bytes).or(slow),
            ..base
        }
    }
}

/// Bounds on every wait.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Fallback verdict: declare a stall when no byte has moved for this long, even without kernel
    /// evidence of a deadlock.
    #[arg(long, value_parser = duration_arg, default_value = "2s", value_name = "DURATION")]
    pub stall_after: Millis,
    /// Give up (and shut both sockets down) after this long in all.
    #[arg(long, value_parser = duration_arg, default_value = "120s", value_name = "DURATION")]
    pub timeout: Millis,
    /// Measurement aid: after a verdict, keep the sockets open this long and record whether any
    /// byte still moved (a premature verdict would show here).
    #[arg(long, value_parser = duration_arg, value_name = "DURATION", hide = true)]
    pub verify_stall: Option<Millis>,
}

/// What stdout carries: `--format text|json` (csv and svg where they apply), `--json` for short.
/// Declared here once and flattened into every command that prints a result.
#[derive(Debug, Clone, Copy, Args)]
pub struct FormatArgs {
    /// Output format: text for a person, json for scripts (one JSON document, or one JSON object
    /// per line for a stream of events or rows); a sweep also writes csv, and svg (its plot). JSON
    /// hides the live view.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Shorthand for --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl FormatArgs {
    /// The format asked for (text by default).
    pub fn get(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.unwrap_or_default()
        }
    }

    /// Whether a machine reads stdout (anything but text): no live view then.
    pub fn machine(&self) -> bool {
        self.get() != Format::Text
    }
}

/// Output form.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub format: FormatArgs,
    /// No live view: no gauges and no narrated events while it runs. The summary is still printed
    /// at the end (and lists the events).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A port to listen on: a number from 0 to 65535 (0 asks the kernel for a free one). Negative
/// numbers reach this parser (the port flags allow them) so that `-p -1` is answered with the
/// range rather than with clap's advice to write `-- -1`.
pub fn port_arg(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .map_err(|_| "a port must be a number from 0 to 65535".to_string())
}

/// The port of a server to connect to: 1 to 65535. Port 0 only means "any free port" to a
/// server that is about to listen; no server listens on it.
pub fn server_port_arg(text: &str) -> Result<u16, String> {
    match port_arg(text)? {
        0 => Err("port 0 is not a server's port; give the port the server announced".into()),
        p => Ok(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_a_number_from_0_to_65535() {
        assert_eq!(port_arg("0"), Ok(0));
        assert_eq!(port_arg("65535"), Ok(65535));
        for bad in ["-1", "65536", "http", ""] {
            assert_eq!(
                port_arg(bad),
                Err("a port must be a number from 0 to 65535".into()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_client_refuses_port_0() {
        assert_eq!(server_port_arg("1060"), Ok(1060));
        assert!(
            server_port_arg("0")
                .unwrap_err()
                .contains("the port the server announced")
        );
        assert!(server_port_arg("-1").unwrap_err().contains("0 to 65535"));
    }
}
