//! The lab in a browser: a live page of the four queues, the windows, the threads, the narrated
//! events, the verdict with its ledger and, for `watch`, the classroom dashboard, for a projector
//! and for students' laptops.
//!
//! - `frame`: what is sent, as data (the timeline row, the result types) with the words `report`
//!   made for it.
//! - `hub`: where a run publishes frames without ever waiting for a viewer; bounded per-viewer
//!   queues, snapshots for viewers that join late or fell behind.
//! - `server`: GET-only HTTP on `std::net`: the page and the Server-Sent Events stream.
//! - `session`: one command's page, from `--web` to the linger after the end.
//! - `page`: the single embedded page, and the same page with a recording inside (`--html`).
//! - `thin`: the recording for such a page, bounded whatever the recording's length.
//!
//! Engine side: it words nothing for the terminal and imports neither `cli`, `cmd` nor `report`;
//! the commands wire it in, `report::web` turns samples and results into frames.

pub mod frame;
pub mod hub;
pub mod page;
pub mod server;
pub mod session;
#[cfg(test)]
mod tests;
pub mod thin;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

pub use frame::Frame;
pub use hub::Hub;
pub use server::Server;
pub use session::Session;

/// Where frames go: the live hub, or a recording for a page that plays them back.
pub trait Publish: Send + Sync {
    fn publish(&self, frame: &Frame);
}

impl Publish for Hub {
    fn publish(&self, frame: &Frame) {
        Hub::publish(self, frame)
    }
}

/// `--web` took something that is neither a port nor an address with a port.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a port or an address with a port; give a port (8080, or 0 for any free one) or \
     an address and a port (127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)"
)]
pub struct BadAddr(pub String);

/// Where to serve: a bare port means loopback (`8080` → `127.0.0.1:8080`); `0` lets the kernel
/// pick a free port.
pub fn parse_addr(text: &str) -> Result<SocketAddr, BadAddr> {
    let t = text.trim();
    if let Ok(port) = t.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    t.parse::<SocketAddr>()
        .map_err(|_| BadAddr(text.to_string()))
}
