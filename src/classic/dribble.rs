//! `tcplab dribble`: recv() returns what has arrived, not what was asked for. A sender writes the
//! 16-byte message in pieces; the receiver's recv_all loop shows each recv() size and assembles
//! exactly 16, or (`--close-after N`) reports the classic `socket closed after N of 16 bytes`.
//!
//! Determinism without sleeps: the sender has TCP_NODELAY (Nagle would hold a small piece back
//! while an earlier one is unacknowledged) and writes the next piece only after the receiver has
//! reported, over a channel, the recv() that took the previous one. On loopback a piece arrives as
//! one segment, so each recv() returns exactly one piece.

use std::sync::mpsc;
use std::thread;

use anyhow::{Context, anyhow};
use serde::Serialize;

use super::sixteen::CLIENT_MESSAGE;
use super::{DEMO_WAIT, Outcome, py_repr};
use crate::wire::{self, WireError};

/// What `dribble` does: the pieces the sender writes, and where it closes early.
#[derive(Debug, Clone)]
pub struct DribbleConfig {
    /// Sizes of the pieces (bytes), adding up to 16.
    pub pieces: Vec<usize>,
    /// The sender closes after this many bytes (0 to 15).
    pub close_after: Option<usize>,
}

/// Arguments that cannot make a dribble.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DribbleError {
    #[error(
        "invalid --pieces '{0}': the piece sizes must be at least 1 and add up to 16 (the message is 16 bytes), e.g. 5,3,8"
    )]
    Pieces(String),
    #[error("invalid --close-after {0}: the sender must close before the 16th byte (0 to 15)")]
    CloseAfter(usize),
}

impl DribbleConfig {
    /// Checks the arguments before anything runs (a failure is a usage error, exit code 2).
    pub fn check(&self) -> Result<(), DribbleError> {
        let total: usize = self.pieces.iter().sum();
        if self.pieces.is_empty() || self.pieces.contains(&0) || total != 16 {
            let list: Vec<String> = self.pieces.iter().map(|p| p.to_string()).collect();
            return Err(DribbleError::Pieces(list.join(",")));
        }
        if let Some(n) = self.close_after.filter(|&n| n >= 16) {
            return Err(DribbleError::CloseAfter(n));
        }
        Ok(())
    }
}

/// What `dribble` showed.
#[derive(Debug, Serialize)]
pub struct DribbleReport {
    pub outcome: Outcome,
    /// The message, as Python's repr.
    pub message: String,
    /// The pieces the sender wrote (bytes each; the last one cut short by --close-after).
    pub pieces_bytes: Vec<usize>,
    /// What each recv() asked for (bytes still missing at that moment).
    pub recv_asked_bytes: Vec<usize>,
    /// What each recv() returned (bytes).
    pub recv_sizes_bytes: Vec<usize>,
    /// Bytes the receiver got in all.
    pub received_bytes: usize,
    /// The error the recv_all loop reported, when the sender closed early.
    pub error: Option<String>,
}

pub fn run(a: &DribbleConfig) -> anyhow::Result<DribbleReport> {
    let limit = a.close_after.unwrap_or(16);
    let mut pieces = Vec::new();
    let mut planned = 0;
    for &p in &a.pieces {
        let p = p.min(limit - planned);
        if p == 0 {
            break;
        }
        pieces.push(p);
        planned += p;
    }
    let (sender, receiver, _) = super::own_connection()?;
    sender
        .set_tcp_nodelay(true)
        .context("cannot set TCP_NODELAY")?;
    receiver.set_read_timeout(Some(DEMO_WAIT))?;
    let (tx, rx) = mpsc::channel::<usize>();
    let mut buf = [0u8; 16];
    let mut asked = Vec::new();
    let mut sizes = Vec::new();
    let received = thread::scope(|s| {
        let recv_thread = thread::Builder::new()
            .name("tcplab-receiver".into())
            .spawn_scoped(s, || {
                let mut got = 0;
                let r = wire::recv_exact_observed(&mut &receiver, &mut buf, |n| {
                    asked.push(16 - got);
                    sizes.push(n);
                    got += n;
                    let _ = tx.send(n);
                });
                drop(tx);
                r
            })
            .context("cannot start the receiver thread")?;
        let mut sent = 0;
        let mut reported = 0;
        for &p in &pieces {
            wire::send_all(&mut &sender, &CLIENT_MESSAGE[sent..sent + p])
                .context("sending a piece")?;
            sent += p;
            while reported < sent {
                reported += rx.recv_timeout(DEMO_WAIT).map_err(|_| {
                    anyhow!(
                        "the receiver reported no recv() within {} s after a piece was sent",
                        DEMO_WAIT.as_secs()
                    )
                })?;
            }
        }
        // close(): the receiver's next recv() returns 0, end of stream.
        drop(sender);
        recv_thread
            .join()
            .map_err(|_| anyhow!("the receiver thread failed"))
    })?;
    let received_bytes = sizes.iter().sum();
    let (outcome, error) = match received {
        Ok(()) => (Outcome::Completed, None),
        Err(e @ WireError::Closed { .. }) => (Outcome::ClosedEarly, Some(e.to_string())),
        Err(e) => return Err(anyhow::Error::new(e).context("receiving the pieces")),
    };
    Ok(DribbleReport {
        outcome,
        message: py_repr(CLIENT_MESSAGE, false),
        pieces_bytes: pieces,
        recv_asked_bytes: asked,
        recv_sizes_bytes: sizes,
        received_bytes,
        error,
    })
}
