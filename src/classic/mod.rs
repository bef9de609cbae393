//! The classic programs: `sixteen` (tcp_sixteen.py), `blocks` (blocks.py), and two experiments
//! built from them, `dribble` (recv() returns what has arrived) and `halfclose` (the streamer).
//!
//! This file holds what they share: the outcome names every `--json` document carries, Python's
//! `repr()` of bytes (so transcripts read like the classic scripts'), an accept that ends on
//! Ctrl-C, and a reader whose waits are bounded and end on Ctrl-C. The programs hand their
//! transcript lines to a callback and return reports as data; `report::classic` prints them. The
//! wire format itself is `crate::wire`.

pub mod blocks;
pub mod dribble;
pub mod halfclose;
pub mod sixteen;

use std::io::{self, Read};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use socket2::Socket;

use crate::interrupt;

/// How often a wait wakes to check for Ctrl-C.
pub const TICK: Duration = Duration::from_millis(100);
/// A peer silent this long is given up on (in the roles; the demos have their own bounds).
pub const PEER_IDLE: Duration = Duration::from_secs(30);
/// Bound on every wait inside a one-process demo: loopback answers in microseconds.
pub const DEMO_WAIT: Duration = Duration::from_secs(10);

pub use crate::outcome::Outcome;

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

/// A demo's own loopback connection: (client end, server end, the client's address). The
/// handshake completes in the kernel's backlog, so the accept cannot wait.
pub fn own_connection() -> anyhow::Result<(Socket, Socket, SocketAddr)> {
    use anyhow::Context;
    let listener = crate::sock::listen(
        SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
        None,
        1,
    )?;
    let addr = crate::sock::local(&listener)?;
    let client = crate::sock::connect(addr, None, DEMO_WAIT, crate::sock::Peer::Own)?;
    let (conn, from) = listener
        .accept()
        .context("accepting the demo's own connection")?;
    let from = from
        .as_socket()
        .context("the demo's own connection has no IP address")?;
    Ok((client, conn, from))
}

/// The peer reset the connection (ECONNRESET, ENOTCONN once the reset has come, EPIPE): said in
/// words, with the step it cut short, instead of the system's error number.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the {peer} reset the connection {during}")]
pub struct PeerReset {
    /// `client` or `server`.
    pub peer: &'static str,
    /// What it cut short: `before it sent its sixteen octets`.
    pub during: &'static str,
}

/// Whether an I/O error means the peer reset the connection or went away.
pub fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::NotConnected
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// A failed step of the wire as one error: a reset in words (`PeerReset`), anything else with
/// `context` (what the step was).
pub fn step_failed(
    e: crate::wire::WireError,
    reset: PeerReset,
    context: &'static str,
) -> anyhow::Error {
    match e {
        crate::wire::WireError::Io(io) if is_reset(&io) => reset.into(),
        e => anyhow::Error::new(e).context(context),
    }
}

/// A wait ended because Ctrl-C or SIGTERM asked the program to stop.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("stopped by a signal while waiting for the peer")]
pub struct Stopped;

/// Whether an error chain is a wait that a signal ended (`Stopped`), however it was wrapped.
pub fn was_stopped(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<Stopped>() {
            return true;
        }
        // An io::Error's source() skips the error it wraps, and a transparent WireError's skips
        // its io::Error: look inside both.
        let io = match err.downcast_ref::<crate::wire::WireError>() {
            Some(crate::wire::WireError::Io(io)) => Some(io),
            _ => err.downcast_ref::<io::Error>(),
        };
        if io.is_some_and(|io| io.get_ref().is_some_and(|inner| inner.is::<Stopped>())) {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Reads from a socket like a blocking recv(), but gives up when the peer has been silent for
/// `idle` or Ctrl-C was pressed (Rust's Ctrl-C handler restarts recv(), so the wait must wake by
/// itself: SO_RCVTIMEO = TICK). A signal ends the read with an error that `was_stopped` finds.
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
                        return Err(io::Error::other(Stopped));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_found_inside_a_wire_error_and_its_context() {
        let wire = crate::wire::WireError::Io(io::Error::other(Stopped));
        assert!(was_stopped(&wire));
        let wrapped = anyhow::Error::new(wire).context("block 1 from 127.0.0.1:4000");
        assert!(was_stopped(wrapped.as_ref()));
        assert!(!was_stopped(&crate::wire::WireError::CutHeader { got: 2 }));
    }

    #[test]
    fn bytes_print_like_python_repr() {
        assert_eq!(py_repr(b"Hi there, server", true), "b'Hi there, server'");
        assert_eq!(py_repr(b"Hi there, server", false), "'Hi there, server'");
        assert_eq!(py_repr(b"it's", true), "b\"it's\"");
        assert_eq!(py_repr(b"'\"\n\x00\xff", true), "b'\\'\"\\n\\x00\\xff'");
    }
}
