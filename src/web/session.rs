//! The live page of one command: the server started at `--web`, the hub a run publishes into, and
//! at the end a linger so that viewers who join late or reload still get the last picture; every
//! connected viewer is sent the final frames before the close.
//!
//! Why a linger: a page that is open keeps the last picture when the server goes, but a student
//! who joins late or reloads needs the server; an instructor wants both. A test passes
//! `--web-linger 0`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::hub::MAX_VIEWERS;
use super::{Hub, Publish, Server};
use crate::interrupt;

/// How often a wait looks for Ctrl-C.
const NAP: Duration = Duration::from_millis(50);

/// How long `replay --web` waits for its first viewer before it plays anyway.
pub const WAIT_FOR_VIEWER: Duration = Duration::from_secs(60);

pub struct Session {
    server: Server,
    linger: Duration,
}

impl Session {
    /// Serves the page at `addr`; `linger` is how long it stays after the end.
    pub fn start(addr: SocketAddr, linger: Duration) -> Result<Session, super::server::BindError> {
        Ok(Session {
            server: Server::start(addr, Hub::new(MAX_VIEWERS))?,
            linger,
        })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn hub(&self) -> Arc<dyn Publish> {
        Arc::clone(self.server.hub()) as Arc<dyn Publish>
    }

    pub fn viewers(&self) -> usize {
        self.server.hub().viewers()
    }

    /// Waits until someone watches, at most `bound` (or Ctrl-C): a replay on a projector should
    /// not start before the page is open.
    pub fn wait_for_viewer(&self, bound: Duration) {
        let deadline = Instant::now() + bound;
        while self.viewers() == 0 && Instant::now() < deadline && !interrupt::requested() {
            std::thread::sleep(NAP); // bounded; a viewer is seen within one nap
        }
    }

    /// How long the page stays after the end: no linger after Ctrl-C.
    pub fn linger(&self) -> Duration {
        if interrupt::requested() {
            Duration::ZERO
        } else {
            self.linger
        }
    }

    /// Stops serving at once (the command failed: nothing to linger for).
    pub fn close(self) {
        self.server.close();
    }

    /// The end: `end` (the end frame) is published, the page stays for the linger (Ctrl-C stops
    /// sooner), then closes.
    pub fn end(self, end: &super::Frame) {
        let linger = self.linger();
        self.server.hub().publish(end);
        let until = Instant::now() + linger;
        while Instant::now() < until && !interrupt::requested() {
            std::thread::sleep(NAP); // the linger itself, not a synchronisation
        }
        self.server.close();
    }
}
