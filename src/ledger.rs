//! Where every byte is: the app counters and the kernel's queues of all four buffers, put in the
//! order the bytes travel, with a conservation check per direction.
//!
//! Client → server: what the client's send() calls returned must be in the client's not-yet-sent
//! queue, in the server's receive queue, or read by the server. The not-yet-sent part (SIOCOUTQNSD)
//! is used rather than the whole send queue, because on loopback a sent-but-unacknowledged byte is
//! usually already in the peer's receive queue and would be counted twice. A blocked send() may have
//! copied part of its buffer before it blocked, which the app has not counted yet: the residual can
//! be down to −(write size − 1). Bytes still in flight (sent, not yet in the peer's queue) make it
//! positive, up to the sent-but-unacknowledged part of the send queue.

use crate::result::{Balance, Counts, KernelQueues, Ledger, Stage};

fn balance(
    sent: u64,
    sender: &KernelQueues,
    receiver: &KernelQueues,
    read: u64,
    write_size: u64,
) -> Balance {
    let accounted = sender.notsent_bytes + receiver.inq_bytes + read;
    let residual = sent as i64 - accounted as i64;
    let low = -(write_size.saturating_sub(1) as i64);
    let high = sender.outq_bytes.saturating_sub(sender.notsent_bytes) as i64;
    Balance {
        sent_bytes: sent,
        accounted_bytes: accounted,
        residual_bytes: residual,
        tolerance_low_bytes: low,
        tolerance_high_bytes: high,
        holds: (low..=high).contains(&residual),
    }
}

/// A stage holding `bytes`, against its capacity where it has one (a queue; not an app counter).
fn stage(bytes: u64, capacity_bytes: Option<u64>) -> Stage {
    Stage {
        bytes,
        capacity_bytes,
    }
}

/// Builds the ledger. `chunk` is the client's write size, `read` the server's largest write.
pub fn build(
    counts: &Counts,
    client: &KernelQueues,
    server: &KernelQueues,
    chunk: u64,
    read: u64,
) -> Ledger {
    Ledger {
        client_app_sent: stage(counts.client_sent_bytes, None),
        client_send_queue: stage(client.outq_bytes, Some(client.sndbuf_bytes)),
        client_send_queue_unsent_bytes: client.notsent_bytes,
        server_recv_queue: stage(server.inq_bytes, Some(server.rcvbuf_bytes)),
        server_app_read: stage(counts.server_received_bytes, None),
        server_app_written: stage(counts.server_sent_bytes, None),
        server_send_queue: stage(server.outq_bytes, Some(server.sndbuf_bytes)),
        server_send_queue_unsent_bytes: server.notsent_bytes,
        client_recv_queue: stage(client.inq_bytes, Some(client.rcvbuf_bytes)),
        client_app_read: stage(counts.client_received_bytes, None),
        forward: balance(
            counts.client_sent_bytes,
            client,
            server,
            counts.server_received_bytes,
            chunk,
        ),
        backward: balance(
            counts.server_sent_bytes,
            server,
            client,
            counts.client_received_bytes,
            read,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(inq: u64, outq: u64, notsent: u64) -> KernelQueues {
        KernelQueues {
            inq_bytes: inq,
            outq_bytes: outq,
            notsent_bytes: notsent,
            sndbuf_bytes: 131072,
            rcvbuf_bytes: 131072,
            tcp_info: None,
            probing: None,
        }
    }

    #[test]
    fn a_blocked_send_that_copied_part_of_a_chunk_still_adds_up() {
        let counts = Counts {
            client_sent_bytes: 400_000,
            server_received_bytes: 250_000,
            server_sent_bytes: 249_000,
            client_received_bytes: 0,
        };
        // 9 bytes of the blocked 16-byte write are already in the client's queue.
        let client = q(120_000, 40_009, 40_009);
        let server = q(110_000, 129_500, 129_500);
        let l = build(&counts, &client, &server, 16, 1024);
        assert_eq!(l.forward.residual_bytes, -9);
        assert!(l.forward.holds);
        assert_eq!(l.backward.residual_bytes, 249_000 - 249_500);
        assert!(l.backward.holds);
    }

    #[test]
    fn bytes_that_vanished_do_not_add_up() {
        let counts = Counts {
            client_sent_bytes: 500_000,
            server_received_bytes: 100_000,
            ..Default::default()
        };
        let l = build(&counts, &q(0, 1000, 1000), &q(1000, 0, 0), 16, 1024);
        assert_eq!(l.forward.residual_bytes, 398_000);
        assert!(!l.forward.holds);
    }

    #[test]
    fn unacknowledged_bytes_widen_the_upper_tolerance() {
        let counts = Counts {
            client_sent_bytes: 10_000,
            ..Default::default()
        };
        // 3000 bytes sent but not acknowledged and not (yet) in the server's queue.
        let l = build(&counts, &q(0, 5000, 2000), &q(5000, 0, 0), 16, 1024);
        assert_eq!(l.forward.residual_bytes, 3000);
        assert_eq!(l.forward.tolerance_high_bytes, 3000);
        assert!(l.forward.holds);
    }
}
