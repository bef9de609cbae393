//! Deciding that a classroom connection is stuck: nothing it owns has moved for `--idle-timeout`.
//!
//! "Moved" means any of: bytes the server received, bytes it echoed, its kernel send queue
//! (SIOCOUTQ: the client's kernel acknowledges and the queue shrinks when the client reads), its
//! kernel receive queue (SIOCINQ: the client is still sending). A healthy client moves one of them
//! every few hundred milliseconds even with 4 KiB buffers (docs/classroom.md). What kind of stuck it
//! is comes from which call the server thread is in, read from the kernel, not from the app's own
//! bookkeeping. Closing the connection and logging it are left to the supervisor.

use std::time::{Duration, Instant};

/// One look at a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub received: u64,
    pub sent: u64,
    /// SIOCOUTQ of the server's socket (bytes); `None` when the probe failed.
    pub outq: Option<u64>,
    /// SIOCINQ of the server's socket (bytes).
    pub inq: Option<u64>,
}

/// Why a connection was declared stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn describe(self) -> &'static str {
        match self {
            StuckKind::Silent => "the client sent nothing since it connected",
            StuckKind::BlockedInSend => {
                "the server is blocked in send() and its send queue does not drain: the client stopped reading"
            }
            StuckKind::Idle => "the server waits in recv() and the client sends nothing more",
        }
    }

    /// A short machine-friendly name for log lines and JSON.
    pub fn name(self) -> &'static str {
        match self {
            StuckKind::Silent => "silent",
            StuckKind::BlockedInSend => "blocked-in-send",
            StuckKind::Idle => "idle",
        }
    }
}

/// Tracks one connection's last movement.
#[derive(Debug)]
pub struct IdleWatch {
    limit: Duration,
    last: Look,
    last_move: Instant,
}

impl IdleWatch {
    pub fn new(limit: Duration, now: Instant) -> IdleWatch {
        IdleWatch {
            limit,
            last: Look {
                received: 0,
                sent: 0,
                outq: Some(0),
                inq: Some(0),
            },
            last_move: now,
        }
    }

    /// Feeds one look; returns how long nothing has moved once that reaches the limit.
    pub fn observe(&mut self, look: Look, now: Instant) -> Option<Duration> {
        if look != self.last {
            self.last = look;
            self.last_move = now;
            return None;
        }
        let still = now.saturating_duration_since(self.last_move);
        (still >= self.limit).then_some(still)
    }

    pub fn last(&self) -> Look {
        self.last
    }
}

/// Classifies a stuck connection from its counters and the call the kernel says its thread is in.
pub fn classify(look: Look, kernel_call: Option<&str>, app_sending: bool) -> StuckKind {
    let in_send = match kernel_call {
        Some("send") | Some("write") => true,
        Some("recv") | Some("read") => false,
        // No kernel view (not Linux, /proc unreadable): fall back to the thread's own record.
        _ => app_sending,
    };
    if look.received == 0 && look.sent == 0 {
        StuckKind::Silent
    } else if in_send {
        StuckKind::BlockedInSend
    } else {
        StuckKind::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(1);

    fn look(received: u64, sent: u64, outq: u64) -> Look {
        Look {
            received,
            sent,
            outq: Some(outq),
            inq: Some(0),
        }
    }

    #[test]
    fn a_connection_that_keeps_moving_is_never_stuck() {
        let t0 = Instant::now();
        let mut w = IdleWatch::new(LIMIT, t0);
        for i in 1..100u64 {
            let at = t0 + Duration::from_millis(500 * i);
            assert_eq!(w.observe(look(i * 10, i * 10, 0), at), None);
        }
    }

    #[test]
    fn a_draining_send_queue_counts_as_movement() {
        let t0 = Instant::now();
        let mut w = IdleWatch::new(LIMIT, t0);
        // Counters frozen (the server is blocked in one send) but the queue shrinks each step.
        for i in 1..20u64 {
            let at = t0 + Duration::from_millis(600 * i);
            assert_eq!(w.observe(look(4096, 2048, 10_000 - i * 100), at), None);
        }
    }

    #[test]
    fn nothing_moving_for_the_limit_is_stuck() {
        let t0 = Instant::now();
        let mut w = IdleWatch::new(LIMIT, t0);
        assert_eq!(w.observe(look(4096, 2048, 9000), t0), None);
        assert_eq!(
            w.observe(look(4096, 2048, 9000), t0 + Duration::from_millis(400)),
            None
        );
        assert_eq!(
            w.observe(look(4096, 2048, 9000), t0 + Duration::from_millis(900)),
            None
        );
        assert_eq!(w.observe(look(4096, 2048, 9000), t0 + LIMIT), Some(LIMIT));
    }

    #[test]
    fn a_client_that_never_sends_is_silent() {
        let t0 = Instant::now();
        let mut w = IdleWatch::new(LIMIT, t0);
        let zero = look(0, 0, 0);
        assert_eq!(w.observe(zero, t0 + Duration::from_millis(999)), None);
        assert!(w.observe(zero, t0 + LIMIT).is_some());
        assert_eq!(classify(zero, Some("recv"), false), StuckKind::Silent);
    }

    #[test]
    fn the_kernel_call_decides_between_blocked_and_idle() {
        let l = look(10, 10, 5);
        assert_eq!(classify(l, Some("send"), false), StuckKind::BlockedInSend);
        assert_eq!(classify(l, Some("recv"), true), StuckKind::Idle);
        assert_eq!(classify(l, None, true), StuckKind::BlockedInSend);
        assert_eq!(classify(l, None, false), StuckKind::Idle);
    }
}
