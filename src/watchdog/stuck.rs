//! The classroom rule: a server connection that cannot make progress with its own work.
//!
//! - not draining: the server's send queue holds bytes and has not drained for the limit (the
//!   client's kernel acknowledged nothing more): the client stopped reading. Whatever call the
//!   server thread is in: blocked in send(), or back in recv() with its last echo queued (with
//!   autotuned buffers the queue takes the whole echo and send() returns); and whatever still
//!   trickles in (a peer that sends a byte a second and never reads).
//! - silent: nothing arrived since the connection was accepted;
//! - idle: the server waits in recv(), nothing is queued either way, and nothing moved for the
//!   limit: the client sends nothing more.
//!
//! Silent and idle need the server thread to be waiting in recv() with nothing to read: a thread
//! that has bytes in its receive queue but is not scheduled (hundreds of echo loops on two busy
//! cores) is the server being slow, never the client's fault.

use std::time::Duration;

use super::Evidence;
use super::{History, ms};
use crate::sample::{Call, Sample, Side, closed};

/// Why a connection was declared stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum StuckKind {
    /// Nothing arrived since it connected.
    Silent,
    /// The server's send queue does not drain: the client stopped reading (the classic deadlock
    /// seen from the server), whatever call the server thread is in.
    NotDraining,
    /// The server waits in recv() and the client sends nothing more.
    Idle,
}

impl StuckKind {
    /// A short machine-friendly name for events and JSON.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// `Some` once the server end of `s` has made no progress for `limit`.
pub fn stuck(h: &History, s: &Sample, limit: Duration) -> Option<(StuckKind, Vec<Evidence>)> {
    let thread = s.threads_of(Side::Server).next()?;
    let q = s.server.as_ref()?;
    if q.outq_bytes > 0 {
        let blocked = s.at.saturating_sub(h.last_drain);
        if blocked < limit {
            return None;
        }
        let kernel_call = thread.call_label();
        let mut ev = vec![if thread.call == Some(Call::Send) {
            Evidence::ServerBlockedInSend { kernel_call }
        } else {
            Evidence::WaitingInRecv {
                side: Side::Server,
                kernel_call,
            }
        }];
        ev.push(Evidence::SendQueueNotDraining {
            bytes: q.outq_bytes,
        });
        if closed(q.peer_window()) {
            ev.push(Evidence::WindowClosed { side: Side::Server });
        }
        if q.inq_bytes > 0 {
            ev.push(Evidence::Unread {
                side: Side::Server,
                bytes: q.inq_bytes,
            });
        }
        ev.push(Evidence::StillFor { ms: ms(blocked) });
        return Some((StuckKind::NotDraining, ev));
    }
    let still = h.still(s);
    if still < limit || q.inq_bytes > 0 || !thread.waiting_in_recv() {
        return None;
    }
    let c = s.counts;
    if c.server_received_bytes == 0 && c.server_sent_bytes == 0 {
        let ev = vec![
            Evidence::NothingSentYet,
            Evidence::StillFor { ms: ms(still) },
        ];
        return Some((StuckKind::Silent, ev));
    }
    let ev = vec![
        Evidence::WaitingInRecv {
            side: Side::Server,
            kernel_call: thread.call_label(),
        },
        Evidence::StillFor { ms: ms(still) },
    ];
    Some((StuckKind::Idle, ev))
}
