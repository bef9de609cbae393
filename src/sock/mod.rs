//! Socket set-up with socket2: create, set SO_SNDBUF/SO_RCVBUF before listen()/connect(), bind,
//! listen, connect, and read back what the kernel kept. Kernel queue probes live in `linux.rs`.
//!
//! socket(7): Linux doubles a SO_SNDBUF/SO_RCVBUF request (to leave room for bookkeeping), clamps
//! it to `net.core.wmem_max`/`rmem_max` first, and never goes below a floor. A socket whose size
//! was set keeps it; one left alone is autotuned by TCP between the `tcp_wmem`/`tcp_rmem` limits.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(not(target_os = "linux"))]
mod other;

#[cfg(target_os = "linux")]
pub use linux::{AVAILABLE as PROBES_AVAILABLE, current_tid, queues, thread_syscall};
#[cfg(not(target_os = "linux"))]
pub use other::{AVAILABLE as PROBES_AVAILABLE, current_tid, queues, thread_syscall};

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use anyhow::{Context, anyhow};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::result::BufferSize;
use crate::units::BufSize;

/// Linux reports twice the requested size (socket(7)).
#[cfg(target_os = "linux")]
pub const KERNEL_DOUBLES: u64 = 2;
#[cfg(not(target_os = "linux"))]
pub const KERNEL_DOUBLES: u64 = 1;
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

impl Dir {
    pub fn sysctl(self) -> &'static str {
        match self {
            Dir::Send => "net.core.wmem_max",
            Dir::Recv => "net.core.rmem_max",
        }
    }
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

/// Resolves `host:port`, preferring the first address the resolver gives.
pub fn resolve(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let host_trim = host.trim_start_matches('[').trim_end_matches(']');
    (host_trim, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| anyhow!("cannot resolve '{host}': not an IP address or a known host name; try 127.0.0.1 or ::1"))
}

fn new_tcp(addr: &SocketAddr) -> io::Result<Socket> {
    Socket::new(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )
}

/// A listening socket with its buffers set before listen(), so accepted sockets inherit them and
/// the window scale is negotiated with them.
pub fn listen(addr: SocketAddr, req: Option<&BufReq>, backlog: i32) -> anyhow::Result<Socket> {
    let sock = new_tcp(&addr).with_context(|| format!("cannot create a socket for {addr}"))?;
    sock.set_reuse_address(true)
        .context("cannot set SO_REUSEADDR")?;
    if let Some(req) = req {
        req.apply(&sock)
            .context("cannot set the listening socket's buffer sizes")?;
    }
    sock.bind(&SockAddr::from(addr))
        .map_err(|e| bind_error(addr, e))?;
    sock.listen(backlog)
        .with_context(|| format!("cannot listen on {addr}"))?;
    Ok(sock)
}

fn bind_error(addr: SocketAddr, e: io::Error) -> anyhow::Error {
    match e.kind() {
        io::ErrorKind::AddrInUse => anyhow!(
            "cannot listen on {addr}: address already in use (another server holds port {}); try '--port 0' or stop the other server",
            addr.port()
        ),
        io::ErrorKind::AddrNotAvailable => anyhow!(
            "cannot listen on {addr}: no interface of this machine has that address; try 127.0.0.1 or ::1"
        ),
        io::ErrorKind::PermissionDenied => {
            anyhow!(
                "cannot listen on {addr}: permission denied (ports below 1024 need root); try '--port 0'"
            )
        }
        _ => anyhow!("cannot listen on {addr}: {e}"),
    }
}

/// A connected client socket with its buffers set before connect().
pub fn connect(
    addr: SocketAddr,
    req: Option<&BufReq>,
    timeout: Duration,
) -> anyhow::Result<Socket> {
    let sock = new_tcp(&addr).with_context(|| format!("cannot create a socket for {addr}"))?;
    if let Some(req) = req {
        req.apply(&sock)
            .context("cannot set the client's buffer sizes")?;
    }
    sock.connect_timeout(&SockAddr::from(addr), timeout)
        .map_err(|e| connect_error(addr, e, timeout))?;
    Ok(sock)
}

fn connect_error(addr: SocketAddr, e: io::Error, timeout: Duration) -> anyhow::Error {
    let start = match addr {
        SocketAddr::V4(_) => format!("tcplab server {} -p {}", addr.ip(), addr.port()),
        SocketAddr::V6(_) => format!("tcplab server {} -p {}", addr.ip(), addr.port()),
    };
    match e.kind() {
        io::ErrorKind::ConnectionRefused => anyhow!(
            "cannot connect to {addr}: connection refused (no server is listening there); start one with '{start}'"
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => anyhow!(
            "cannot connect to {addr}: no answer within {} ms; check the address and that the server's host is reachable",
            timeout.as_millis()
        ),
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
            anyhow!("cannot connect to {addr}: no route to that address; check the address")
        }
        _ => anyhow!("cannot connect to {addr}: {e}"),
    }
}
