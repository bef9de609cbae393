//! How a watched connection ended, told from the kernel's evidence: each end's last look (its
//! queues and TCP state while it was followed) and, where the kernel reports sockets as it destroys
//! them, each end's final counters.
//!
//! `close()` with bytes still unread in the receive queue sends a reset instead of a FIN, and the
//! reset throws away what still waited in the closing side's own send queue (tcp(7)); a killed
//! process, or one that gave up on a timeout and exited, closes its sockets the same way. A clean
//! close is a FIN each way with nothing left unread.

use serde::{Deserialize, Serialize};

use crate::diag::{DiagSocket, TcpState};
use crate::sample::{Sample, Side};

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CloseKind {
    /// A FIN each way, nothing left unread.
    Clean,
    /// `side` closed with `unread_bytes` unread, so its kernel sent a reset; `process_ended`
    /// when its process is gone too (killed, or exited on a timeout).
    ResetUnread {
        side: Side,
        unread_bytes: u64,
        process_ended: bool,
    },
    /// It vanished without a FIN either way: a reset, by whom the kernel did not show.
    Reset,
    /// tcplab could not see how (it was gone between two looks, and the kernel's reports of
    /// destroyed sockets were not available).
    Unknown,
}

impl CloseKind {
    pub fn clean(&self) -> bool {
        *self == CloseKind::Clean
    }
}

/// Whether a socket in `state` has sent or received a FIN.
fn fin_state(state: &str) -> bool {
    matches!(
        state,
        "FIN_WAIT1" | "FIN_WAIT2" | "CLOSE_WAIT" | "LAST_ACK" | "CLOSING" | "TIME_WAIT"
    )
}

/// What a connection's close was: from the final reports of its two ends (`finals`: client,
/// server, when the kernel reported their destruction), its last sample, whether a FIN was seen
/// on the way, which ends were last seen in TIME_WAIT, and whether each end's process still
/// exists.
///
/// An end in TIME_WAIT sent its FIN and got the peer's: it reset nothing, even with bytes unread.
/// Linux moves a half-closed socket from FIN_WAIT2 to TIME_WAIT as soon as the peer's FIN comes,
/// while its program may still be reading what waits in it; that socket is reported destroyed
/// only when the program closes it.
pub fn judge(
    finals: [Option<&DiagSocket>; 2],
    last: Option<&Sample>,
    fin_seen: bool,
    time_wait: [bool; 2],
    alive: impl Fn(Side) -> bool,
) -> CloseKind {
    // Unread bytes at the end: from the final report (a FIN not yet read counts 1 in the queue,
    // so 1 is taken for it), else from the last look.
    let sides = [Side::Client, Side::Server]
        .into_iter()
        .zip(finals)
        .zip(time_wait);
    for ((side, fin), tw) in sides {
        let unread = match fin {
            Some(f) => u64::from(f.recv_q).saturating_sub(1),
            None if tw => 0,
            None => last.and_then(|s| s.socket(side)).map_or(0, |q| q.inq_bytes),
        };
        if unread > 0 {
            return CloseKind::ResetUnread {
                side,
                unread_bytes: unread,
                process_ended: !alive(side),
            };
        }
    }
    let fin_reported = match finals {
        [Some(c), Some(s)] => fin_acked(c, 1) && fin_acked(s, 0),
        _ => finals
            .iter()
            .flatten()
            .any(|f| f.state == TcpState::TimeWait),
    };
    match (fin_seen || fin_reported, finals.iter().any(Option::is_some)) {
        (true, _) => CloseKind::Clean,
        (false, true) => CloseKind::Reset,
        (false, false) => CloseKind::Unknown,
    }
}

/// Whether an end's FIN was sent and acknowledged, from its final counters: what the peer
/// acknowledged is its SYN (`syn`: 1 for the end that connected), every data byte it sent once,
/// and its FIN. Measured on Linux 6.18: a clean close leaves exactly one byte over; an end that
/// reset none.
fn fin_acked(d: &DiagSocket, syn: u64) -> bool {
    d.tcp_info.as_ref().is_some_and(|t| {
        let data = t.bytes_sent.saturating_sub(t.bytes_retrans);
        t.bytes_acked.saturating_sub(syn + data) == 1
    })
}

/// Whether this sample shows a FIN on its way either way.
pub fn shows_fin(s: &Sample) -> bool {
    [&s.client, &s.server].into_iter().flatten().any(|q| {
        q.tcp_info
            .as_ref()
            .and_then(|t| t.state.as_deref())
            .is_some_and(fin_state)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::KernelQueues;

    fn last(client_inq: u64) -> Sample {
        Sample {
            client: Some(KernelQueues {
                inq_bytes: client_inq,
                ..Default::default()
            }),
            server: Some(KernelQueues::default()),
            ..Default::default()
        }
    }

    #[test]
    fn unread_bytes_at_the_end_are_a_reset_by_the_side_that_left_them() {
        let k = judge([None, None], Some(&last(4096)), true, [false; 2], |_| false);
        assert_eq!(
            k,
            CloseKind::ResetUnread {
                side: Side::Client,
                unread_bytes: 4096,
                process_ended: true
            }
        );
    }

    #[test]
    fn an_end_in_time_wait_with_bytes_unread_is_still_reading_not_resetting() {
        let k = judge([None, None], Some(&last(4096)), true, [true, false], |_| {
            true
        });
        assert!(k.clean(), "{k:?}");
    }

    #[test]
    fn a_fin_each_way_with_nothing_unread_is_clean_and_nothing_seen_is_unknown() {
        assert!(judge([None, None], Some(&last(0)), true, [false; 2], |_| true).clean());
        assert_eq!(
            judge([None, None], Some(&last(0)), false, [false; 2], |_| true),
            CloseKind::Unknown
        );
    }
}
