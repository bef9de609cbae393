//! The deadlock rule: a wait-for cycle between the two ends.
//!
//! The client is blocked in send() and no client thread reads; the server is blocked in send(), or
//! waits in recv() on an empty queue (the ACK-starved state: the client's receive memory is full,
//! so the server's segments and the ACKs they carry are dropped). Then no thread can make the
//! progress another waits for. Where an end's threads cannot be seen (another user's program), the
//! kernel's view of its socket stands in: the peer's window is closed and bytes wait unread.

use super::Evidence;
use crate::sample::{KernelQueues, Sample, Side};

/// `Some(evidence)` when no thread can make the progress another waits for.
pub fn wait_for_cycle(s: &Sample) -> Option<Vec<Evidence>> {
    let mut ev = client_side(s)?;
    let server_seen = s.threads_of(Side::Server).next().is_some() || s.server.is_some();
    if server_seen {
        ev.extend(server_side(s)?);
    } else {
        // This side alone: its send queue must hold data the peer is not taking.
        let q = s.client.as_ref()?;
        if q.notsent_bytes == 0 && q.peer_window() != Some(0) {
            return None;
        }
    }
    if let Some(q) = &s.client {
        if q.peer_window() == Some(0) {
            ev.push(Evidence::WindowClosed { side: Side::Client });
        }
        if q.notsent_bytes > 0 {
            ev.push(Evidence::Unsent {
                side: Side::Client,
                bytes: q.notsent_bytes,
            });
        }
        if q.inq_bytes > 0 {
            ev.push(Evidence::UnreadEcho { bytes: q.inq_bytes });
        }
    }
    for side in [Side::Client, Side::Server] {
        if s.socket(side).is_some_and(|q| q.probing == Some(true)) {
            ev.push(Evidence::ZeroWindowProbing { side });
        }
    }
    Some(ev)
}

fn client_side(s: &Sample) -> Option<Vec<Evidence>> {
    let mut threads = s.threads_of(Side::Client).peekable();
    if threads.peek().is_none() {
        let q = s.client.as_ref()?;
        return closed_and_unread(q).then(|| {
            vec![
                Evidence::ThreadsNotVisible { side: Side::Client },
                Evidence::ClientNotReading,
            ]
        });
    }
    let threads: Vec<_> = threads.collect();
    let sender = threads.iter().find(|t| t.blocked_in_send())?;
    if threads.iter().any(|t| t.may_read()) {
        return None;
    }
    Some(vec![
        Evidence::ClientBlockedInSend {
            kernel_call: sender.call.map(|c| c.name().to_string()),
        },
        Evidence::ClientNotReading,
    ])
}

fn server_side(s: &Sample) -> Option<Vec<Evidence>> {
    let sq = s.server.as_ref();
    let threads: Vec<_> = s.threads_of(Side::Server).collect();
    let mut ev = Vec::new();
    if threads.is_empty() {
        let q = sq?;
        if !closed_and_unread(q) {
            return None;
        }
        ev.push(Evidence::ThreadsNotVisible { side: Side::Server });
        ev.push(Evidence::Unread {
            side: Side::Server,
            bytes: q.inq_bytes,
        });
    } else if let Some(t) = threads.iter().find(|t| t.blocked_in_send()) {
        ev.push(Evidence::ServerBlockedInSend {
            kernel_call: t.call.map(|c| c.name().to_string()),
        });
    } else if threads.iter().any(|t| t.waiting_in_recv()) && sq.is_none_or(|q| q.inq_bytes == 0) {
        ev.push(Evidence::ServerWaitingOnEmptyQueue);
    } else {
        return None;
    }
    if sq.is_some_and(|q| q.peer_window() == Some(0)) {
        ev.push(Evidence::WindowClosed { side: Side::Server });
    }
    Some(ev)
}

/// An end that, by the kernel's view alone, can neither send (the peer's window is closed and
/// data waits) nor is being read (bytes wait in its receive queue).
fn closed_and_unread(q: &KernelQueues) -> bool {
    q.peer_window() == Some(0) && q.inq_bytes > 0 && q.notsent_bytes > 0
}
