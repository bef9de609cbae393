//! The second source of observations: TCP sockets of *other* processes, read from the kernel from
//! outside, the way `ss -tmioe` and `ss -tp` see them. This file holds the plain data a dump
//! yields ([`DiagSocket`]) and the filter that picks sockets ([`Filter`]);
//! [`netlink`] asks the kernel's sock_diag interface for them; `sys::proc` finds the processes
//! and threads behind them in `/proc`.
//!
//! Nothing here prints or decides: turning these numbers into a verdict ("both sides are blocked
//! in `sendto` with zero windows") is left to the rules that consume samples.

pub mod netlink;

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use crate::tcpinfo::TcpInfo;
pub use crate::tcpinfo::TcpState;

pub use netlink::{DecodeError, Destroyed, Diag, dump};
#[cfg(test)]
use netlink::{decode, decode_filtered};

/// Which of a socket's timers is pending (`idiag_timer`); `ss -o` prints it as `timer:(…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// No timer pending.
    None,
    /// Retransmission timer (also the tail-loss probe and reordering timers): data in flight
    /// waits for an ACK.
    Retransmit,
    /// Keepalive timer (`sk_timer`; also the SYN-ACK timer of a listener).
    KeepAlive,
    /// A TIME_WAIT socket's lifetime.
    TimeWait,
    /// Zero-window probe timer (`ss` says `persist`): the peer advertised a zero window and this
    /// side has data to send. Armed on both sides of a buffer deadlock.
    ZeroWindowProbe,
    /// A number this version of tcplab does not know.
    Other(u8),
}

/// The pending timer of a socket as sock_diag reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timer {
    /// Which timer is pending.
    pub kind: TimerKind,
    /// Time until it fires; milliseconds (0 when none is pending or it is already due).
    pub expires_ms: u32,
    /// `idiag_retrans`, the third number of `ss`'s `timer:(…)`: retransmissions of the head
    /// segment for [`TimerKind::Retransmit`], unanswered probes for
    /// [`TimerKind::ZeroWindowProbe`] and [`TimerKind::KeepAlive`]; count.
    pub retransmits: u8,
}

/// Socket memory (`INET_DIAG_SKMEMINFO`, `ss -m`'s `skmem:(…)`); all in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkMem {
    /// `r`, `sk_rmem_alloc`: memory held by the receive queue (payload plus packet overhead).
    pub rmem_alloc: u32,
    /// `rb`, `sk_rcvbuf`: the receive-memory limit (SO_RCVBUF as the kernel keeps it).
    pub rcvbuf: u32,
    /// `t`, `sk_wmem_alloc`: memory of packets handed to the layers below, not yet freed.
    pub wmem_alloc: u32,
    /// `tb`, `sk_sndbuf`: the send-memory limit (SO_SNDBUF as the kernel keeps it).
    pub sndbuf: u32,
    /// `f`, `sk_forward_alloc`: memory reserved for this socket but not used yet.
    pub fwd_alloc: u32,
    /// `w`, `sk_wmem_queued`: memory held by the send queue; reaching `sndbuf` blocks `send()`.
    pub wmem_queued: u32,
    /// `o`, `sk_omem_alloc`: option memory.
    pub optmem: u32,
    /// `bl`: packets waiting in the backlog while the owner held the socket lock; bytes.
    pub backlog: u32,
    /// `d`: packets dropped on this socket; count.
    pub drops: u32,
}

/// One TCP socket as sock_diag reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiagSocket {
    /// Local address and port (an IPv6 socket may show an IPv4 peer as `::ffff:a.b.c.d`).
    pub local: SocketAddr,
    /// Remote address and port (`0.0.0.0:0` / `[::]:0` for a listener).
    pub remote: SocketAddr,
    /// TCP state.
    pub state: TcpState,
    /// The pending timer.
    pub timer: Timer,
    /// `idiag_rqueue`, `ss`'s Recv-Q; bytes. Established (and closing) sockets: received and
    /// not yet read by the application (`rcv_nxt − copied_seq`, the same as `SIOCINQ`; a
    /// received FIN counts 1). LISTEN sockets: connections waiting in the accept queue; count.
    pub recv_q: u32,
    /// `idiag_wqueue`, `ss`'s Send-Q; bytes. Established sockets: written by the application
    /// and not yet acknowledged, sent or not (`write_seq − snd_una`, the same as `SIOCOUTQ`;
    /// an unacknowledged FIN counts 1). LISTEN sockets: the accept-queue limit (`listen()`'s
    /// backlog capped by `net.core.somaxconn`); count.
    pub send_q: u32,
    /// Inode of the socket, matching `socket:[INODE]` in `/proc/PID/fd`; 0 for TIME_WAIT and
    /// request sockets, which belong to no file.
    pub inode: u64,
    /// Owner's user id (`sock_i_uid`).
    pub uid: u32,
    /// The kernel's cookie for this socket: unique while it lives, unlike ports.
    pub cookie: u64,
    /// `INET_DIAG_INFO`, parsed; absent for TIME_WAIT and request sockets.
    pub tcp_info: Option<TcpInfo>,
    /// `INET_DIAG_SKMEMINFO`; absent for TIME_WAIT and request sockets.
    pub skmem: Option<SkMem>,
    /// `INET_DIAG_SHUTDOWN`, bits: 1 = no more receives (`RCV_SHUTDOWN`, a FIN arrived or
    /// `shutdown(SHUT_RD)`), 2 = no more sends (`SEND_SHUTDOWN`, `shutdown(SHUT_WR)`/`close`).
    pub shutdown: Option<u8>,
}

/// Which sockets a dump keeps. Every condition that is set must hold; an empty filter keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Keep sockets whose local *or* remote port is this one.
    pub port: Option<u16>,
    /// Keep sockets whose local *or* remote address is this one; an IPv4 address also matches
    /// its IPv4-mapped IPv6 form.
    pub host: Option<IpAddr>,
    /// Keep only sockets with one of these inodes.
    pub inodes: Option<HashSet<u64>>,
}

impl Filter {
    /// A filter on one port, local or remote.
    pub fn port(port: u16) -> Self {
        Filter {
            port: Some(port),
            ..Filter::default()
        }
    }

    /// Whether a socket with these endpoints and inode passes.
    pub fn matches(&self, local: &SocketAddr, remote: &SocketAddr, inode: u64) -> bool {
        let port_ok = self
            .port
            .is_none_or(|p| local.port() == p || remote.port() == p);
        let host_ok = self.host.is_none_or(|h| {
            let h = h.to_canonical();
            local.ip().to_canonical() == h || remote.ip().to_canonical() == h
        });
        let inode_ok = self.inodes.as_ref().is_none_or(|s| s.contains(&inode));
        port_ok && host_ok && inode_ok
    }
}

#[cfg(test)]
mod tests;
