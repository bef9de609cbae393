//! The classroom rule: a server connection that cannot make progress with its own work.
//!
//! - silent: nothing arrived since the connection was accepted;
//! - blocked in send: the server thread has been in send() with its send queue not draining (its
//!   sent counter still, its queue not shrinking) for the limit. Bytes that keep trickling into its
//!   receive queue do not count: the server cannot read them while it is blocked;
//! - idle: the server waits in recv() and nothing at all moved for the limit.
//!
//! Silent and idle need the server thread to be waiting in recv() with nothing to read: a thread
//! that has bytes in its receive queue but is not scheduled (hundreds of echo loops on two busy
//! cores) is the server being slow, never the client's fault.
//!
//! Which kind of stuck it is comes from the call the kernel shows the thread in, where readable.

use std::time::Duration;

use super::Evidence;
use super::{History, ms};
use crate::sample::{Sample, Side};

/// Why a connection was declared stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum StuckKind {
    /// Nothing arrived since it connected.
    Silent,
    /// The server thread sits in send() and its send queue does not drain: the client stopped
    /// reading (the classic deadlock seen from the server).
    BlockedInSend,
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
    let still = h.still(s);
    if thread.blocked_in_send() {
        let blocked = s.at.saturating_sub(h.last_drain);
        if blocked < limit {
            return None;
        }
        let mut ev = vec![Evidence::ServerBlockedInSend {
            kernel_call: thread.call.map(|c| c.name().to_string()),
        }];
        if let Some(q) = &s.server {
            ev.push(Evidence::SendQueueNotDraining {
                bytes: q.outq_bytes,
            });
            if q.peer_window() == Some(0) {
                ev.push(Evidence::WindowClosed { side: Side::Server });
            }
            if q.inq_bytes > 0 {
                ev.push(Evidence::Unread {
                    side: Side::Server,
                    bytes: q.inq_bytes,
                });
            }
        }
        ev.push(Evidence::StillFor { ms: ms(blocked) });
        return Some((StuckKind::BlockedInSend, ev));
    }
    if still < limit {
        return None;
    }
    let unread = s.server.as_ref().is_some_and(|q| q.inq_bytes > 0);
    if !thread.waiting_in_recv() || unread {
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
            kernel_call: thread.call.map(|c| c.name().to_string()),
        },
        Evidence::StillFor { ms: ms(still) },
    ];
    Some((StuckKind::Idle, ev))
}
