//! The classic programs: `sixteen` (tcp_sixteen.py), `blocks` (blocks.py), and two experiments
//! built from them, `dribble` (recv() returns what has arrived) and `halfclose` (the streamer).
//!
//! This file holds what they share: the outcome names every `--json` document carries, Python's
//! `repr()` of bytes (so output reads like the classic scripts'), connect/accept with the lab's
//! error style, and a reader whose waits are bounded and end on Ctrl-C. The wire format itself is
//! `crate::wire`; argument types are `crate::cli::classic`.

pub mod blocks;
pub mod dribble;
pub mod halfclose;
pub mod sixteen;

use std::io::{self, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::interrupt;

/// How often a wait wakes to check for Ctrl-C.
pub const TICK: Duration = Duration::from_millis(100);
/// A peer silent this long is given up on (in the roles; the demos have their own bounds).
pub const PEER_IDLE: Duration = Duration::from_secs(30);
/// Bound on every wait inside a one-process demo: loopback answers in microseconds.
pub const DEMO_WAIT: Duration = Duration::from_secs(10);

/// What a demo showed; the `"outcome"` field of every `--json` document. The names are an
/// interface: the experiments runner checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The exchange ran to its end.
    Completed,
    /// connect() was answered with a RST.
    Refused,
    /// The peer closed before the expected bytes arrived.
    ClosedEarly,
    /// Both sides waited for each other and nothing moved.
    Stalled,
    /// A length prefix above --max-frame was refused.
    FrameRefused,
    /// The stream ended inside a block header or body.
    Truncated,
}

/// Python's `repr()` of a bytes object: `b'Hi'`, or without the `b` the way Python 2 printed a
/// str (`'Hi'`), as tcp_sixteen.py did.
pub fn py_repr(bytes: &[u8], b_prefix: bool) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::with_capacity(bytes.len() + 3);
    if b_prefix {
        s.push('b');
    }
    s.push(quote);
    for &c in bytes {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// A connected TCP socket, with refusals explained in the style of `sock::connect`; `start` is the
/// command that would start the matching server.
pub fn connect(addr: SocketAddr, start: &str) -> anyhow::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| anyhow!("cannot create a socket for {addr}: {e}"))?;
    sock.connect_timeout(&SockAddr::from(addr), DEMO_WAIT)
        .map_err(|e| connect_error(addr, &e, start))?;
    Ok(sock)
}

pub fn connect_error(addr: SocketAddr, e: &io::Error, start: &str) -> anyhow::Error {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => anyhow!(
            "cannot connect to {addr}: connection refused (no server is listening there); start one with '{start} {} -p {}'",
            addr.ip(),
            addr.port()
        ),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => anyhow!(
            "cannot connect to {addr}: no answer within {} s; check the address and that the server's host is reachable",
            DEMO_WAIT.as_secs()
        ),
        _ => anyhow!("cannot connect to {addr}: {e}"),
    }
}

/// The address a socket is bound to (or connected from).
pub fn local(sock: &Socket) -> io::Result<SocketAddr> {
    sock.local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("the socket has no IP address"))
}

/// The address of the other end.
pub fn peer(sock: &Socket) -> io::Result<SocketAddr> {
    sock.peer_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::other("the peer has no IP address"))
}

/// Waits for the next connection; `Ok(None)` once Ctrl-C was pressed. The listener is switched
/// to non-blocking mode so the wait can wake every TICK.
pub fn accept(listener: &Socket) -> io::Result<Option<(Socket, SocketAddr)>> {
    listener.set_nonblocking(true)?;
    let mut poll = Poll::new()?;
    let fd = listener.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)?;
    let mut events = Events::with_capacity(4);
    loop {
        if interrupt::requested() {
            return Ok(None);
        }
        match listener.accept() {
            Ok((conn, addr)) => {
                conn.set_nonblocking(false)?;
                let addr = addr
                    .as_socket()
                    .ok_or_else(|| io::Error::other("the peer has no IP address"))?;
                return Ok(Some((conn, addr)));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                ) =>
            {
                match poll.poll(&mut events, Some(TICK)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads from a socket like a blocking recv(), but gives up when the peer has been silent for
/// `idle` or Ctrl-C was pressed (Rust's Ctrl-C handler restarts recv(), so the wait must wake by
/// itself: SO_RCVTIMEO = TICK).
pub struct Patient<'a> {
    sock: &'a Socket,
    idle: Duration,
}

impl<'a> Patient<'a> {
    pub fn new(sock: &'a Socket, idle: Duration) -> io::Result<Patient<'a>> {
        sock.set_read_timeout(Some(TICK))?;
        Ok(Patient { sock, idle })
    }
}

impl Read for Patient<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let start = Instant::now();
        loop {
            match (&mut &*self.sock).read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if interrupt::requested() {
                        return Err(io::Error::other("interrupted by Ctrl-C"));
                    }
                    if start.elapsed() >= self.idle {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("the peer sent nothing for {} s", self.idle.as_secs()),
                        ));
                    }
                }
                other => return other,
            }
        }
    }
}

/// Writes one JSON document and a newline to stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn bytes_print_like_python_repr() {
        assert_eq!(py_repr(b"Hi there, server", true), "b'Hi there, server'");
        assert_eq!(py_repr(b"Hi there, server", false), "'Hi there, server'");
        assert_eq!(py_repr(b"it's", true), "b\"it's\"");
        assert_eq!(py_repr(b"'\"\n\x00\xff", true), "b'\\'\"\\n\\x00\\xff'");
    }
}
