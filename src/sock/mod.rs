//! Socket set-up with socket2: create, set SO_SNDBUF/SO_RCVBUF before listen()/connect(), bind,
//! listen, connect, and read back what the kernel kept. Kernel queue probes live in `sys::probe`.
//!
//! socket(7): Linux doubles a SO_SNDBUF/SO_RCVBUF request (to leave room for bookkeeping), clamps
//! it to `net.core.wmem_max`/`rmem_max` first, and never goes below a floor. A socket whose size
//! was set keeps it; one left alone is autotuned by TCP between the `tcp_wmem`/`tcp_rmem` limits.

pub use crate::sys::probe::{current_tid, queues};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::result::BufferSize;
use crate::units::BufSize;

/// Linux reports twice the requested size (socket(7)).
pub const KERNEL_DOUBLES: u64 = 2;
/// Smallest SO_SNDBUF Linux keeps (SOCK_MIN_SNDBUF on x86_64).
pub const LINUX_MIN_SNDBUF: u64 = 4608;
/// Smallest SO_RCVBUF Linux keeps (SOCK_MIN_RCVBUF on x86_64).
pub const LINUX_MIN_RCVBUF: u64 = 2304;

/// The sysctls that bound socket buffers, read from /proc/sys (absent off Linux).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub wmem_max: Option<u64>,
    pub rmem_max: Option<u64>,
}

impl Limits {
    pub fn read() -> Limits {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .and_then(|s| s.trim().parse().ok())
        };
        Limits {
            wmem_max: read("/proc/sys/net/core/wmem_max"),
            rmem_max: read("/proc/sys/net/core/rmem_max"),
        }
    }
}

/// Which buffer of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Send,
    Recv,
}

/// What Linux keeps for a request: `max(floor, 2 × min(requested, max))`.
pub fn linux_effective(requested: u64, max: u64, dir: Dir) -> u64 {
    let floor = match dir {
        Dir::Send => LINUX_MIN_SNDBUF,
        Dir::Recv => LINUX_MIN_RCVBUF,
    };
    (KERNEL_DOUBLES * requested.min(max)).max(floor)
}

/// Requested sizes for one socket.
#[derive(Debug, Clone, Copy)]
pub struct BufReq {
    pub snd: BufSize,
    pub rcv: BufSize,
}

impl BufReq {
    pub fn apply(&self, sock: &Socket) -> io::Result<()> {
        if let Some(n) = self.snd.requested() {
            sock.set_send_buffer_size(n.min(i32::MAX as u64) as usize)?;
        }
        if let Some(n) = self.rcv.requested() {
            sock.set_recv_buffer_size(n.min(i32::MAX as u64) as usize)?;
        }
        Ok(())
    }

    /// Requested vs effective right now, with the clamp the sysctls explain.
    pub fn report(&self, sock: &Socket, limits: &Limits) -> io::Result<(BufferSize, BufferSize)> {
        let snd = sock.send_buffer_size()? as u64;
        let rcv = sock.recv_buffer_size()? as u64;
        Ok((
            size_of(self.snd, snd, limits.wmem_max),
            size_of(self.rcv, rcv, limits.rmem_max),
        ))
    }
}

fn size_of(req: BufSize, effective: u64, max: Option<u64>) -> BufferSize {
    let clamped_to_bytes = match (req.requested(), max) {
        (Some(r), Some(m)) if r > m => Some(m),
        _ => None,
    };
    BufferSize {
        requested_bytes: req.requested(),
        effective_bytes: effective,
        final_bytes: effective,
        clamped_to_bytes,
    }
}

/// A socket could not be set up. The variants carry the facts; `report::errors` adds what to try.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot resolve '{host}': not an IP address or a known host name")]
    Resolve { host: String },
    #[error("cannot create a socket for {addr}: {cause}")]
    Create { addr: SocketAddr, cause: io::Error },
    #[error("cannot set the {what}: {cause}")]
    Option {
        what: &'static str,
        cause: io::Error,
    },
    #[error("cannot listen on {addr}: {}", listen_reason(cause))]
    Listen { addr: SocketAddr, cause: io::Error },
    /// A one-process run (or a check) asked to run off loopback: both ends stay on this machine.
    #[error(
        "cannot run on {flag}'{host}': '{command}' runs on loopback only, and {ip} is not a \
         loopback address; use 127.0.0.1 or ::1 (across two hosts, run 'tcplab server' on one \
         and 'tcplab client' on the other)"
    )]
    NotLoopback {
        host: String,
        /// The flag it was given with and a space (`--host `), or nothing.
        flag: &'static str,
        command: &'static str,
        ip: std::net::IpAddr,
    },
    #[error("cannot connect to {addr}: {}", connect_reason(cause, *timeout))]
    Connect {
        addr: SocketAddr,
        cause: io::Error,
        timeout: Duration,
        /// What kind of server was expected there, for the advice on how to start one.
        expected: Peer,
    },
}

/// Refuses an address other than loopback for `command`, which keeps both ends on this machine.
pub fn loopback_only(
    host: &str,
    flag: &'static str,
    command: &'static str,
) -> Result<SocketAddr, NetError> {
    let addr = resolve(host, 0)?;
    if addr.ip().is_loopback() {
        return Ok(addr);
    }
    Err(NetError::NotLoopback {
        host: host.to_string(),
        flag,
        command,
        ip: addr.ip(),
    })
}

/// The kind of server a client expects at the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// The uppercase-echo server (`tcplab server`).
    Echo,
    /// The sixteen-octet server (`tcplab sixteen server`).
    Sixteen,
    /// The length-prefixed blocks server (`tcplab blocks server`).
    Blocks,
    /// The demo's own listener, in this process.
    Own,
}

pub(crate) fn listen_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::AddrInUse => "address already in use".into(),
        io::ErrorKind::AddrNotAvailable => "no interface of this machine has that address".into(),
        io::ErrorKind::PermissionDenied => "permission denied (ports below 1024 need root)".into(),
        _ => e.to_string(),
    }
}

fn connect_reason(e: &io::Error, timeout: Duration) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused (no server is listening there)".into()
        }
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("no answer within {} ms", timeout.as_millis())
        }
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
            "no route to that address".into()
        }
        _ => e.to_string(),
    }
}

/// Resolves `host:port`, preferring the first address the resolver gives.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, NetError> {
    let host_trim = host.trim_start_matches('[').trim_end_matches(']');
    (host_trim, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| NetError::Resolve {
            host: host.to_string(),
        })
}

fn new_tcp(addr: &SocketAddr) -> Result<Socket, NetError> {
    Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(|cause| NetError::Create { addr: *addr, cause })
}

/// A listening socket with its buffers set before listen(), so accepted sockets inherit them and
/// the window scale is negotiated with them.
pub fn listen(addr: SocketAddr, req: Option<&BufReq>, backlog: i32) -> Result<Socket, NetError> {
    let sock = new_tcp(&addr)?;
    let opt = |what| move |cause| NetError::Option { what, cause };
    sock.set_reuse_address(true).map_err(opt("SO_REUSEADDR"))?;
    if let Some(req) = req {
        req.apply(&sock)
            .map_err(opt("listening socket's buffer sizes"))?;
    }
    let listen_err = |cause| NetError::Listen { addr, cause };
    sock.bind(&SockAddr::from(addr)).map_err(listen_err)?;
    sock.listen(backlog).map_err(listen_err)?;
    Ok(sock)
}

/// A connected client socket with its buffers set before connect().
pub fn connect(
    addr: SocketAddr,
    req: Option<&BufReq>,
    timeout: Duration,
    expected: Peer,
) -> Result<Socket, NetError> {
    let sock = unconnected(addr, req)?;
    connect_now(&sock, addr, timeout, expected)?;
    Ok(sock)
}

/// A client socket for `addr` with its buffers set, not yet connected (`connect_now`).
pub fn unconnected(addr: SocketAddr, req: Option<&BufReq>) -> Result<Socket, NetError> {
    let sock = new_tcp(&addr)?;
    if let Some(req) = req {
        req.apply(&sock).map_err(|cause| NetError::Option {
            what: "client's buffer sizes",
            cause,
        })?;
    }
    Ok(sock)
}

/// Connects a socket made by `unconnected`.
pub fn connect_now(
    sock: &Socket,
    addr: SocketAddr,
    timeout: Duration,
    expected: Peer,
) -> Result<(), NetError> {
    sock.connect_timeout(&SockAddr::from(addr), timeout)
        .map_err(|cause| NetError::Connect {
            addr,
            cause,
            timeout,
            expected,
        })
}

/// The address a socket is bound to (or connected from).
pub fn local(sock: &Socket) -> io::Result<SocketAddr> {
    sock.local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("the socket has no IP address"))
}
