//! Asking the kernel's socket-diagnostics interface (sock_diag, netlink(7), what `ss` uses) for
//! every TCP socket, IPv4 and IPv6, with its `tcp_info`, memory and shutdown state, and decoding
//! the reply into [`DiagSocket`]s.
//!
//! Framing and serialisation come from the `netlink-*` crates. Two kinds of work stay here:
//! [`decode`] is a pure function over the reply bytes (so it is tested on a captured reply), and
//! [`Diag`] keeps one netlink socket open because `tcplab watch` dumps 5–10 times a second.
//! Which processes own the sockets is left to `procs`.
//!
//! The dump is not filtered in the kernel (that needs inet_diag bytecode, which the crate does
//! not build): every TCP socket of the network namespace comes back, and [`Filter`] is applied
//! to each message's fixed header before its attributes are parsed. A dump also walks the whole
//! established-socket hash table once per family, a fixed cost of about 1.3 ms per family on a
//! 24 GiB machine however few sockets exist; [`Diag::lookup`] asks for one known socket by its
//! addresses instead (a hash lookup), for refreshing the few sockets `watch` follows.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::time::Duration;

use netlink_packet_core::{
    DoneBuffer, ErrorBuffer, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NetlinkBuffer, NetlinkHeader, NetlinkMessage, Parseable,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP, SOCK_DIAG_BY_FAMILY};
use netlink_packet_sock_diag::inet::nlas::Nla;
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponse, InetResponseHeader, SocketId, StateFlags,
};
use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_SOCK_DIAG};

use super::{DiagSocket, Filter, SkMem, TcpState, Timer, TimerKind};
use crate::tcpinfo;

/// Room for one reply datagram. The kernel sizes dump datagrams to the reader's buffer but
/// never above 32 KiB (`netlink_recvmsg`), so 64 KiB is never truncated.
const RECV_BUF_BYTES: usize = 64 * 1024;

/// How long one `recv` may wait for the kernel. A dump of a few thousand sockets takes
/// milliseconds; this bound only keeps a broken socket from hanging `watch`.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);

/// Offsets in `struct inet_diag_msg` (linux/inet_diag.h) of the three timer fields. The crate
/// parses the header but keeps `idiag_retrans` only for the retransmit timer and drops
/// `idiag_expires` for TIME_WAIT; the probe count of the zero-window-probe timer is exactly what
/// a deadlock shows, so these three are read from the payload directly.
const IDIAG_TIMER: usize = 2;
const IDIAG_RETRANS: usize = 3;
const IDIAG_EXPIRES: usize = 52;

/// `INET_DIAG_NOCOOKIE`: an exact lookup that matches whatever socket has these addresses.
const NO_COOKIE: [u8; 8] = [0xff; 8];

/// Why a sock_diag reply could not be turned into sockets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a well-formed sock_diag reply.
    #[error("malformed sock_diag reply at byte {offset}: {detail}")]
    Malformed { offset: usize, detail: String },
    /// The kernel answered with `NLMSG_ERROR` (or a failed `NLMSG_DONE`).
    #[error("the kernel refused the sock_diag dump: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { errno: i32 },
}

impl From<DecodeError> for io::Error {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Kernel { errno } => io::Error::from_raw_os_error(errno),
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// Decodes the bytes of sock_diag reply messages (one or more datagrams, back to back) into the
/// sockets they describe. `NLMSG_DONE`, `NLMSG_NOOP` and messages of other sequence numbers are
/// skipped; an `NLMSG_ERROR` with a non-zero code is an error. (For tests on captured replies.)
#[cfg(test)]
pub fn decode(reply: &[u8]) -> Result<Vec<DiagSocket>, DecodeError> {
    decode_filtered(reply, &Filter::default())
}

/// [`decode`], keeping only the sockets `filter` matches.
#[cfg(test)]
pub fn decode_filtered(reply: &[u8], filter: &Filter) -> Result<Vec<DiagSocket>, DecodeError> {
    let mut out = Vec::new();
    decode_into(reply, None, filter, &mut out)?;
    Ok(out)
}

/// Dumps the TCP sockets `filter` matches through a netlink socket opened for this call. For
/// repeated dumps keep a [`Diag`].
pub fn dump(filter: &Filter) -> io::Result<Vec<DiagSocket>> {
    Diag::new()?.dump(filter)
}

/// An open sock_diag netlink socket and its receive buffer, reused across dumps and lookups.
pub struct Diag {
    socket: Socket,
    buf: Vec<u8>,
    seq: u32,
    /// A dump that failed half-way leaves datagrams queued and the kernel refuses a new dump on
    /// the same socket until the old one is read (EBUSY); a fresh socket is simpler than draining.
    broken: bool,
}

impl Diag {
    /// Opens the netlink socket. Needs no privilege: any user may dump sockets (the `uid` and
    /// `inode` of other users' sockets are visible too).
    pub fn new() -> io::Result<Diag> {
        Ok(Diag {
            socket: open()?,
            buf: Vec::with_capacity(RECV_BUF_BYTES),
            seq: 0,
            broken: false,
        })
    }

    /// Every TCP socket, IPv4 then IPv6, that `filter` matches: one dump per family.
    pub fn dump(&mut self, filter: &Filter) -> io::Result<Vec<DiagSocket>> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            let req = request(family, wildcard(family), true, self.next_seq());
            self.exchange(&req, true, |bytes, seq| {
                decode_into(bytes, Some(seq), filter, &mut out)
            })?;
        }
        Ok(out)
    }

    /// The socket with exactly these local and remote addresses, if it still exists: one hash
    /// lookup in the kernel instead of a walk over every socket, for refreshing sockets an
    /// earlier dump found. With `cookie` (from [`DiagSocket::cookie`]) a new connection that
    /// reuses the same addresses does not count. Listeners cannot be looked up this way.
    pub fn lookup(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        cookie: Option<u64>,
    ) -> io::Result<Option<DiagSocket>> {
        // An IPv4 peer of a dual-stack socket shows as ::ffff:a.b.c.d: the family is the socket's.
        let family = if local.is_ipv4() { AF_INET } else { AF_INET6 };
        let id = SocketId {
            source_port: local.port(),
            destination_port: remote.port(),
            source_address: local.ip(),
            destination_address: remote.ip(),
            interface_id: 0,
            cookie: cookie.map_or(NO_COOKIE, cookie_bytes),
        };
        let req = request(family, id, false, self.next_seq());
        let mut out = Vec::new();
        let answer = self.exchange(&req, false, |bytes, seq| {
            decode_into(bytes, Some(seq), &Filter::default(), &mut out)
        });
        match answer {
            Ok(()) => Ok(out.pop()),
            // ENOENT: no such socket; ESTALE: the addresses now belong to another socket.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESTALE)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The raw reply datagrams of both dumps, back to back, as [`decode`] reads them: for
    /// capturing test data.
    #[cfg(test)]
    pub fn dump_raw(&mut self) -> io::Result<Vec<u8>> {
        let mut raw = Vec::new();
        for family in [AF_INET, AF_INET6] {
            let req = request(family, wildcard(family), true, self.next_seq());
            self.exchange(&req, true, |bytes, seq| {
                raw.extend_from_slice(bytes);
                decode_into(bytes, Some(seq), &Filter::default(), &mut Vec::new())
            })?;
        }
        Ok(raw)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends one request and feeds each reply datagram to `each` until the answer is complete:
    /// `NLMSG_DONE` for a dump, the first message of this sequence number otherwise.
    fn exchange(
        &mut self,
        req: &[u8],
        is_dump: bool,
        mut each: impl FnMut(&[u8], u32) -> Result<Progress, DecodeError>,
    ) -> io::Result<()> {
        if self.broken {
            self.socket = open()?;
            self.broken = false;
        }
        self.socket.send(req, 0)?;
        // Until the answer is read whole, an error leaves the rest of it queued on the socket.
        self.broken = true;
        loop {
            self.buf.clear();
            // MSG_TRUNC makes recv return the datagram's real length, so a datagram larger than
            // the buffer is an error rather than silently cut.
            let n = self.socket.recv(&mut self.buf, libc::MSG_TRUNC)?;
            if n > self.buf.len() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "sock_diag datagram of {n} bytes exceeds the {RECV_BUF_BYTES}-byte buffer"
                    ),
                ));
            }
            let answer = each(&self.buf[..n], self.seq);
            if let Ok(p) = &answer
                && !(p.done || (p.seen && !is_dump))
            {
                continue;
            }
            // Kernel errors end the exchange cleanly; only a malformed reply leaves bytes behind.
            self.broken = matches!(answer, Err(DecodeError::Malformed { .. }));
            return answer.map(|_| ()).map_err(io::Error::from);
        }
    }
}

/// The multicast groups of sock_diag that report each TCP socket as the kernel destroys it, with
/// its last `tcp_info` (`SKNLGRP_INET_TCP_DESTROY` = 1, `SKNLGRP_INET6_TCP_DESTROY` = 3 in
/// linux/sock_diag.h; group N is bit N−1 of the bind mask). This is what `ss -E` reads.
const TCP_DESTROY_GROUPS: u32 = 1 | (1 << 2);

/// The sockets the kernel destroys, as it destroys them: a connection that lived 10 ms between two
/// samples is still seen, with its final counters. Subscribing needs CAP_NET_ADMIN; without it,
/// `listen` says so and the caller does without.
pub struct Destroyed {
    socket: Socket,
    buf: Vec<u8>,
}

impl Destroyed {
    pub fn listen() -> io::Result<Destroyed> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind(&NetlinkAddr::new(0, TCP_DESTROY_GROUPS))?;
        socket.set_non_blocking(true)?;
        // A burst of closes (a class's clients ending together) must not overflow the queue.
        let _ = socket2::SockRef::from(&socket.as_fd()).set_recv_buffer_size(4 << 20);
        Ok(Destroyed {
            socket,
            buf: Vec::with_capacity(RECV_BUF_BYTES),
        })
    }

    /// Every socket destroyed since the last call that `filter` matches, oldest first. A queue that
    /// overflowed (ENOBUFS) lost some: `Err`, and the caller says what may be missed.
    pub fn drain(&mut self, filter: &Filter) -> io::Result<Vec<DiagSocket>> {
        let mut out = Vec::new();
        loop {
            self.buf.clear();
            match self.socket.recv(&mut self.buf, 0) {
                Ok(_) => {
                    decode_into(&self.buf, None, filter, &mut out).map_err(io::Error::other)?;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn open() -> io::Result<Socket> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&NetlinkAddr::new(0, 0))?;
    socket2::SockRef::from(&socket.as_fd()).set_read_timeout(Some(RECV_TIMEOUT))?;
    Ok(socket)
}

/// The all-zero socket id of a dump.
fn wildcard(family: u8) -> SocketId {
    if family == AF_INET {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    }
}

/// A `SOCK_DIAG_BY_FAMILY` request for TCP sockets of one family, in every state, with
/// `tcp_info`, the legacy and the full memory counters: all of them (`dump`) or the one
/// `socket_id` names.
fn request(family: u8, socket_id: SocketId, dump: bool, seq: u32) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = if dump {
        NLM_F_REQUEST | NLM_F_DUMP
    } else {
        NLM_F_REQUEST
    };
    header.sequence_number = seq;
    let mut message = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::INFO | ExtensionFlags::MEMINFO | ExtensionFlags::SKMEMINFO,
            states: StateFlags::all(),
            socket_id,
        })
        .into(),
    );
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

/// What one datagram contributed to an answer.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// An `NLMSG_DONE` ended a dump.
    done: bool,
    /// At least one message of the expected sequence number was there.
    seen: bool,
}

/// Walks the netlink messages in `bytes`, appending each matching socket to `out`, and says
/// whether a message (and an `NLMSG_DONE`) of sequence `seq`, when given, was among them.
fn decode_into(
    bytes: &[u8],
    seq: Option<u32>,
    filter: &Filter,
    out: &mut Vec<DiagSocket>,
) -> Result<Progress, DecodeError> {
    let mut offset = 0;
    let mut progress = Progress::default();
    while offset < bytes.len() {
        let malformed = |detail: String| DecodeError::Malformed { offset, detail };
        let msg =
            NetlinkBuffer::new_checked(&bytes[offset..]).map_err(|e| malformed(e.to_string()))?;
        let len = msg.length() as usize;
        if seq.is_none_or(|s| msg.sequence_number() == s) {
            progress.seen = true;
            let payload = msg.payload();
            match msg.message_type() {
                NLMSG_DONE => {
                    // A dump that failed part-way ends with a negative errno in NLMSG_DONE;
                    // the kernel may also send it with no payload at all.
                    let code = DoneBuffer::new_checked(payload).map_or(0, |d| d.code());
                    if code < 0 {
                        return Err(DecodeError::Kernel { errno: -code });
                    }
                    progress.done = true;
                }
                NLMSG_ERROR => {
                    let err =
                        ErrorBuffer::new_checked(payload).map_err(|e| malformed(e.to_string()))?;
                    if let Some(code) = err.code() {
                        return Err(DecodeError::Kernel { errno: -code.get() });
                    }
                }
                NLMSG_NOOP | NLMSG_OVERRUN => {}
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(s) = socket(payload, filter).map_err(malformed)? {
                        out.push(s);
                    }
                }
                other => return Err(malformed(format!("unexpected message type {other}"))),
            }
        }
        // Messages start on 4-byte boundaries (NLMSG_ALIGN).
        offset += len.next_multiple_of(4);
    }
    Ok(progress)
}

/// One `inet_diag_msg` with its attributes, or `None` when `filter` rejects it (decided on the
/// fixed header, before the attributes are parsed).
fn socket(payload: &[u8], filter: &Filter) -> Result<Option<DiagSocket>, String> {
    let header = InetResponseHeader::parse(payload).map_err(|e| e.to_string())?;
    let id = &header.socket_id;
    let local = SocketAddr::new(id.source_address, id.source_port);
    let remote = SocketAddr::new(id.destination_address, id.destination_port);
    let inode = u64::from(header.inode);
    if !filter.matches(&local, &remote, inode) {
        return Ok(None);
    }
    let response = InetResponse::parse(payload).map_err(|e| e.to_string())?;
    let mut socket = DiagSocket {
        local,
        remote,
        state: TcpState::from_kernel(header.state),
        timer: timer(payload),
        recv_q: header.recv_queue,
        send_q: header.send_queue,
        inode,
        uid: header.uid,
        cookie: cookie(&id.cookie),
        tcp_info: None,
        skmem: None,
        shutdown: None,
    };
    for nla in response.nlas {
        match nla {
            Nla::TcpInfo(bytes) => socket.tcp_info = Some(tcpinfo::parse(&bytes)),
            Nla::MemInfo(m) => {
                socket.skmem = Some(SkMem {
                    rmem_alloc: m.receive_queue,
                    rcvbuf: m.receive_queue_max,
                    wmem_alloc: m.bottom_send_queues,
                    sndbuf: m.send_queue_max,
                    fwd_alloc: m.cache,
                    wmem_queued: m.send_queue,
                    optmem: m.options,
                    backlog: m.backlog_queue_length,
                    drops: m.drops,
                })
            }
            Nla::Shutdown(bits) => socket.shutdown = Some(bits),
            // INET_DIAG_MEMINFO repeats four of SKMEMINFO's counters (it predates it, 3.6).
            _ => {}
        }
    }
    Ok(Some(socket))
}

fn timer(payload: &[u8]) -> Timer {
    let byte = |at: usize| payload.get(at).copied().unwrap_or(0);
    let expires_ms = payload
        .get(IDIAG_EXPIRES..IDIAG_EXPIRES + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_ne_bytes);
    let kind = match byte(IDIAG_TIMER) {
        0 => TimerKind::None,
        1 => TimerKind::Retransmit,
        2 => TimerKind::KeepAlive,
        3 => TimerKind::TimeWait,
        4 => TimerKind::ZeroWindowProbe,
        n => TimerKind::Other(n),
    };
    Timer {
        kind,
        expires_ms,
        retransmits: byte(IDIAG_RETRANS),
    }
}

/// `idiag_cookie` is two host-order `u32`s, low half first (as `ss` joins them).
fn cookie(raw: &[u8; 8]) -> u64 {
    let lo = u32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let hi = u32::from_ne_bytes([raw[4], raw[5], raw[6], raw[7]]);
    (u64::from(hi) << 32) | u64::from(lo)
}

fn cookie_bytes(c: u64) -> [u8; 8] {
    let mut raw = [0u8; 8];
    raw[..4].copy_from_slice(&(c as u32).to_ne_bytes());
    raw[4..].copy_from_slice(&((c >> 32) as u32).to_ne_bytes());
    raw
}
