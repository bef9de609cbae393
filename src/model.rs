//! The model of the four buffers: the prediction a sweep compares each point with (and slow
//! motion paces itself by): how many bytes the naive client gets out
//! before the deadlock, from the four buffer sizes alone.
//!
//! The model is the sum of the four effective sizes (what getsockopt() returned after set-up):
//! the client's send queue, the server's receive queue, the server's send queue and the client's
//! receive queue are the four places the bytes can wait while nobody reads the echo, and the
//! server has handed over what it read. It ignores that receive queues hold only 0.5–0.99 of
//! SO_RCVBUF in payload (the rest is per-segment overhead) and that a send queue can run past
//! SO_SNDBUF by the tail of its last packet buffer; those two errors pull in opposite directions.
//! docs/sweep.md has the measured ratio of the real figure to this one.
//!
//! Also here: the estimate made before a point runs (from the requests and the sysctl clamps),
//! which sets the default amount of data, so that a naive point surely exceeds what fits.

use crate::sock::{Dir, Limits, linux_effective};
use crate::units::BufSize;

/// The four effective sizes of one run (bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FourBuffers {
    pub client_snd: u64,
    pub client_rcv: u64,
    pub server_snd: u64,
    pub server_rcv: u64,
}

/// Predicted bytes the naive client sends before the deadlock (bytes).
pub fn predicted_capacity(b: FourBuffers) -> u64 {
    b.client_snd + b.server_rcv + b.server_snd + b.client_rcv
}

/// An autotuned buffer is assumed to grow to this size during a run (bytes): the send side
/// jumps to about 4 MB after connect, and a receive queue nobody reads grows further
/// (docs/buffers.md, KERNEL-NOTES). Only used to size the default traffic.
pub const AUTO_ESTIMATE: u64 = 4 << 20;

/// Smallest default amount a sweep point sends (bytes).
pub const MIN_DEFAULT_BYTES: u64 = 4 << 20;

/// How far past the prediction the default traffic goes: the measured ratio never exceeded 1.1,
/// so 4× leaves a naive point no way to finish, and costs little since it stalls first.
pub const DEFAULT_BYTES_FACTOR: u64 = 4;

/// What the kernel is expected to keep for each request, before any socket exists.
pub fn expected(requests: [(BufSize, Dir); 4], limits: &Limits) -> FourBuffers {
    let one = |(req, dir): (BufSize, Dir)| match req.requested() {
        None => AUTO_ESTIMATE,
        Some(r) => {
            let max = match dir {
                Dir::Send => limits.wmem_max,
                Dir::Recv => limits.rmem_max,
            };
            linux_effective(r, max.unwrap_or(u64::MAX / 4), dir)
        }
    };
    FourBuffers {
        client_snd: one(requests[0]),
        client_rcv: one(requests[1]),
        server_snd: one(requests[2]),
        server_rcv: one(requests[3]),
    }
}

/// The default `--bytes` of a point: max(4 MiB, 4 × the expected capacity).
pub fn default_bytes(expected: FourBuffers) -> u64 {
    (DEFAULT_BYTES_FACTOR * predicted_capacity(expected)).max(MIN_DEFAULT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::ByteSize;

    const LIMITS: Limits = Limits {
        wmem_max: Some(4 << 20),
        rmem_max: Some(4 << 20),
    };

    fn req(n: u64) -> BufSize {
        BufSize::Bytes(ByteSize(n))
    }

    #[test]
    fn the_prediction_is_the_sum_of_the_four_effective_sizes() {
        let b = FourBuffers {
            client_snd: 8192,
            client_rcv: 8192,
            server_snd: 8192,
            server_rcv: 8192,
        };
        assert_eq!(predicted_capacity(b), 32768);
    }

    #[test]
    fn default_traffic_is_at_least_4_mib_and_four_times_the_estimate() {
        let small = [
            (req(4096), Dir::Send),
            (req(4096), Dir::Recv),
            (req(4096), Dir::Send),
            (req(4096), Dir::Recv),
        ];
        assert_eq!(default_bytes(expected(small, &LIMITS)), 4 << 20);
        let big = small.map(|(_, d)| (req(1 << 20), d));
        // 1 MiB requests are doubled on Linux: 4 × (4 × 2 MiB) = 32 MiB.
        assert_eq!(default_bytes(expected(big, &LIMITS)), 32 << 20);
        let auto = small.map(|(_, d)| (BufSize::Auto, d));
        assert_eq!(default_bytes(expected(auto, &LIMITS)), 64 << 20);
    }
}
