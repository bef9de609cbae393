//! `--web ADDR` and its companion, shared by `deadlock`, `replay` and `watch`: the command-line
//! types only.

use std::net::SocketAddr;

use clap::Args;

use crate::units::{Millis, duration_arg};

/// The live view in a browser.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// Also show it in a browser: serve a live page at ADDR, a port on this machine only (8080; 0
    /// picks a free one) or an address and a port (0.0.0.0:8080 lets the room's laptops in). The
    /// first stderr line gives the URL. Read-only; at most 64 viewers.
    #[arg(long, value_name = "ADDR", value_parser = web_arg)]
    pub web: Option<SocketAddr>,
    /// With --web: keep serving the last picture this long after the end, for viewers who join
    /// late or reload (open pages keep it anyway). Ctrl-C stops sooner; the exit code stays the
    /// run's. 0 ends at once.
    #[arg(long, value_parser = linger_arg, default_value = "30s", value_name = "DURATION")]
    pub web_linger: Millis,
}

fn web_arg(text: &str) -> Result<SocketAddr, String> {
    crate::web::parse_addr(text).map_err(|e| e.to_string())
}

/// A duration with its unit, or zero (`0`, `0s`): stop serving at the end.
fn linger_arg(text: &str) -> Result<Millis, String> {
    let t = text.trim();
    if ["0", "0s", "0ms", "0m"].contains(&t) {
        return Ok(Millis(std::time::Duration::ZERO));
    }
    duration_arg(text)
}
