//! `tcplab load`: the command-line types of the classroom load test; no I/O happens here.

use clap::Args;

use super::common::FormatArgs;

use crate::units::{BufSize, ByteSize, Millis, buf_arg, duration_arg, size_arg};

/// Start a class's worth of clients against one server at once: a mix of deadlocking clients
/// (send without reading, then hold the socket until the server frees them) and fixed ones
/// (reader-thread and poll, content verified). Reports each client's outcome and the server's
/// memory and thread count before, at the peak and after. Without --port it starts its own server.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    every client ended as it should and the server returned to its baseline (PASSED)
  1    a client or the server did not (FAILED), or the test could not run
  2    it could not start (bad arguments)
", signal_codes!(), "
       no client or round starts after it, the report covers the rest

Example: tcplab load --clients 200 --deadlocking 0.5 --idle-timeout 2s --sndbuf 64K --rcvbuf 64K"))]
pub struct LoadArgs {
    /// Loopback address of the server (127.0.0.1 or ::1): the load test reads the server's
    /// memory and threads from this machine's /proc.
    #[arg(default_value = "127.0.0.1")]
    pub host: String,
    /// Port of a server that is already running; without it, a `tcplab server` is started here on
    /// an ephemeral port and stopped at the end.
    #[arg(short, long, value_parser = super::common::server_port_arg, allow_negative_numbers = true)]
    pub port: Option<u16>,
    /// PID of the running server given with --port, to read its memory and threads from /proc.
    #[arg(long, value_name = "PID", requires = "port")]
    pub server_pid: Option<u32>,
    /// How many clients connect at once.
    #[arg(long, default_value_t = 40, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=2000), allow_negative_numbers = true)]
    pub clients: u32,
    /// Fraction of the clients that deadlock (0 to 1, e.g. 0.5).
    #[arg(long, default_value = "0.5", value_parser = fraction_arg, value_name = "FRACTION")]
    pub deadlocking: f64,
    /// Bytes each fixed client sends and verifies.
    #[arg(long, value_parser = size_arg, default_value = "1MiB", value_name = "SIZE")]
    pub bytes: ByteSize,
    /// Bytes each deadlocking client offers: far more than the buffers hold, so it stays stuck.
    #[arg(long, value_parser = size_arg, default_value = "64MiB", value_name = "SIZE")]
    pub hold_bytes: ByteSize,
    /// Bytes of each client write, at most 1 MiB.
    #[arg(long, value_parser = load_chunk_arg, default_value = "16", value_name = "SIZE")]
    pub chunk: ByteSize,
    /// SO_SNDBUF of every client socket (and of the server started here).
    #[arg(long, value_parser = buf_arg, default_value = "64K", value_name = "SIZE")]
    pub sndbuf: BufSize,
    /// SO_RCVBUF of every client socket (and of the server started here).
    #[arg(long, value_parser = buf_arg, default_value = "64K", value_name = "SIZE")]
    pub rcvbuf: BufSize,
    /// The server's --idle-timeout: passed to the server started here; with --port, say what the
    /// running server uses, since deadlocking clients are judged against it.
    #[arg(long, value_parser = duration_arg, default_value = "2s", value_name = "DURATION")]
    pub idle_timeout: Millis,
    /// How much the server's resident memory may stay above its baseline once every client is gone.
    /// The first class warms the C library's caches of freed thread stacks and heap, bounded
    /// (measured: 3 MiB after 200 connection threads, 6–7 MiB after 1000 or 2000, flat in later
    /// rounds); a leak shows as growth round after round (--rounds).
    #[arg(long, value_parser = size_arg, default_value = "8MiB", value_name = "SIZE")]
    pub rss_tolerance: ByteSize,
    /// Run the whole class this many times against the same server, to see whether its memory
    /// keeps growing from round to round or settles.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=20), allow_negative_numbers = true)]
    pub rounds: u32,
    /// Give up after this long in all; every client is bounded by it.
    #[arg(long, value_parser = duration_arg, default_value = "180s", value_name = "DURATION")]
    pub timeout: Millis,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// A load-test client's write: at least 1 byte, at most 1 MiB (a class's worth of clients each
/// holding a bigger chunk would be the test's own memory, not the server's).
pub fn load_chunk_arg(text: &str) -> Result<ByteSize, String> {
    crate::units::size_at_most(text, 1 << 20, || {
        "a load-test client's write above 1 MiB is not accepted; try 16 or 64K".into()
    })
}

/// A fraction between 0 and 1 inclusive, such as `0.5`.
pub fn fraction_arg(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("expected a fraction between 0 and 1, such as 0.5".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_outside_zero_to_one_are_refused() {
        assert_eq!(fraction_arg("0.5"), Ok(0.5));
        assert_eq!(fraction_arg("1"), Ok(1.0));
        for bad in ["-0.1", "1.01", "NaN", "inf", "", "half"] {
            assert!(fraction_arg(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
