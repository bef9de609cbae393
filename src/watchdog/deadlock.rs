//! The deadlock rule: a wait-for cycle read from the kernel's evidence, whatever call the threads
//! are in and whatever language the programs are written in.
//!
//! Each direction that has bytes in it is blocked by a receiver that does not read:
//! - server → client: the server has bytes it cannot send (unsent, the client's window closed),
//!   and the echo waits in the client's receive queue;
//! - client → server: the client has bytes it cannot send and the server's receive queue holds
//!   bytes nobody reads, or (ACK-starved) the server read everything but the client's receive
//!   memory is full, so the server's segments and the acknowledgements they carry are dropped.
//!
//! With only one end in sight (the other on another host), that end alone: its bytes cannot go
//! and what arrived for it is not read. The caller confirms that nothing moved for long enough and
//! that no thread could still move a byte by itself (`history`). The threads' calls explain the
//! verdict (send, write, sendfile, or a poll or epoll inside a runtime); they are not a condition
//! of it.

use super::Evidence;
use crate::sample::{Call, KernelQueues, Sample, Side, ThreadView, closed};

/// `Some(evidence)` when every direction with bytes in it is blocked by a receiver that does not
/// read.
pub fn blocked_both_ways(s: &Sample) -> Option<Vec<Evidence>> {
    let blocked = match (&s.client, &s.server) {
        (Some(c), Some(sv)) => {
            let backward = stuck_sending(sv) && c.inq_bytes > 0;
            let forward = (stuck_sending(c) && sv.inq_bytes > 0) || acks_starved(c, sv);
            backward && forward
        }
        (Some(one), None) | (None, Some(one)) => stuck_sending(one) && one.inq_bytes > 0,
        (None, None) => false,
    };
    if !blocked {
        return None;
    }
    let mut ev = Vec::new();
    for side in [Side::Client, Side::Server] {
        explain(s, side, &mut ev);
    }
    if let Some(q) = &s.client {
        if q.inq_bytes > 0 {
            ev.push(Evidence::UnreadEcho { bytes: q.inq_bytes });
        }
    }
    if let Some(q) = &s.server
        && q.inq_bytes > 0
    {
        ev.push(Evidence::Unread {
            side: Side::Server,
            bytes: q.inq_bytes,
        });
    }
    for side in [Side::Client, Side::Server] {
        if s.socket(side).is_some_and(|q| q.probing == Some(true)) {
            ev.push(Evidence::ZeroWindowProbing { side });
        }
    }
    Some(ev)
}

/// An end with bytes it cannot get rid of: bytes in its send queue, and the peer's window closed.
fn stuck_sending(q: &KernelQueues) -> bool {
    q.outq_bytes > 0 && (closed(q.peer_window()) || q.probing == Some(true))
}

/// The client's bytes wait unacknowledged while the server has read all it got and its own
/// segments find the client's window closed.
fn acks_starved(c: &KernelQueues, sv: &KernelQueues) -> bool {
    c.outq_bytes > 0 && sv.inq_bytes == 0 && closed(sv.peer_window())
}

/// What `side` does, from its socket and its threads: where its threads wait, that none of them
/// reads, its window and its unsent bytes.
fn explain(s: &Sample, side: Side, ev: &mut Vec<Evidence>) {
    let Some(q) = s.socket(side) else { return };
    let threads: Vec<&ThreadView> = s.threads_of(side).collect();
    if threads.is_empty() {
        ev.push(Evidence::ThreadsNotVisible { side });
    }
    let on_socket = |t: &&&ThreadView| t.on_socket != Some(false);
    if let Some(t) = threads
        .iter()
        .find(|t| t.call == Some(Call::Send) && on_socket(t))
    {
        let kernel_call = t.call_label();
        ev.push(match side {
            Side::Client => Evidence::ClientBlockedInSend { kernel_call },
            Side::Server => Evidence::ServerBlockedInSend { kernel_call },
        });
    } else if let Some(t) = threads.iter().find(|t| t.call == Some(Call::Poll)) {
        ev.push(Evidence::WaitsNotForUnread {
            side,
            kernel_call: t.call_label(),
        });
    }
    if side == Side::Server
        && q.inq_bytes == 0
        && threads
            .iter()
            .any(|t| t.call == Some(Call::Recv) && on_socket(&t))
    {
        ev.push(Evidence::ServerWaitingOnEmptyQueue);
    } else if q.inq_bytes > 0 {
        ev.push(match side {
            Side::Client => Evidence::ClientNotReading,
            Side::Server => Evidence::ServerNotReading,
        });
    }
    if closed(q.peer_window()) {
        ev.push(Evidence::WindowClosed { side });
    }
    if q.notsent_bytes > 0 {
        ev.push(Evidence::Unsent {
            side,
            bytes: q.notsent_bytes,
        });
    }
}

/// `Some(evidence)` when, seen from the client alone, its bytes cannot go (the server's window is
/// closed) while a client thread waits in recv() on an empty queue: the server neither takes nor
/// sends bytes.
pub fn peer_stalled(s: &Sample) -> Option<Vec<Evidence>> {
    let q = s.client.as_ref().filter(|_| s.server.is_none())?;
    let waiting = s
        .threads_of(Side::Client)
        .find(|t| t.call == Some(Call::Recv) && t.on_socket != Some(false))?;
    if q.inq_bytes > 0 || !stuck_sending(q) {
        return None;
    }
    Some(vec![
        Evidence::WindowClosed { side: Side::Client },
        Evidence::Unsent {
            side: Side::Client,
            bytes: q.notsent_bytes,
        },
        Evidence::WaitingInRecv {
            side: Side::Client,
            kernel_call: waiting.call_label(),
        },
    ])
}
