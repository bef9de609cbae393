//! tcplab's reference server for `check client`: the same echo loop as every tcplab server
//! (`server::serve`: recv() up to 1 KiB, uppercase, write everything back, shut the write half at
//! end of stream), on one thread named `tcplab-server`, for the one connection the student's
//! client opens. The listener is non-blocking and polled by the check's own loop, so the check
//! never waits in accept() for a client that never comes.
//!
//! Its side can be shut down at any moment (`shut_down`): that wakes the echo thread from a
//! blocked send() or recv() (EPIPE, or end of stream), which is how a deadlock is ended.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use socket2::Socket;

use crate::counters::Shared;
use crate::sample::Phase;
use crate::server::{self, ServeEnd};
use crate::sock::{self, NetError};

/// Largest single recv() of the reference server, as the classic server's `recv(1024)`.
pub const READ: usize = 1024;
/// The thread's name, as /proc shows it (the check keeps only this thread of its own process).
pub const THREAD_NAME: &str = "tcplab-server";

/// TCP_CLOSE in include/net/tcp_states.h.
const TCP_CLOSE: u8 = 7;

/// A listening reference server.
pub struct RefServer {
    listener: Socket,
    pub addr: SocketAddr,
}

/// The one connection being served.
pub struct Served {
    pub sock: Arc<Socket>,
    /// The client's address, as accept() gave it.
    pub peer: SocketAddr,
    pub shared: Arc<Shared>,
    /// The echo thread's kernel thread id (0 until it has started).
    pub tid: Arc<AtomicI32>,
    ended: Receiver<ServeEnd>,
    handle: Option<JoinHandle<()>>,
    end: Option<ServeEnd>,
}

/// How the echo of the connection ended, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EchoEnd {
    /// The client shut down its write half and every byte was echoed.
    EndOfStream,
    /// The client reset the connection (it closed with echo unread, or was killed).
    Reset,
    /// The client closed while the server was still sending.
    BrokenPipe,
    /// tcplab shut its side down (after a verdict).
    ShutDown,
    Other,
}

impl RefServer {
    /// Listens on `addr` (port 0: a free one).
    pub fn listen(addr: SocketAddr) -> Result<RefServer, NetError> {
        let listener = sock::listen(addr, None, 8)?;
        let local = sock::local(&listener).map_err(|cause| NetError::Listen { addr, cause })?;
        listener
            .set_nonblocking(true)
            .map_err(|cause| NetError::Listen { addr, cause })?;
        Ok(RefServer {
            listener,
            addr: local,
        })
    }

    /// Accepts the client's connection if one is waiting, and starts echoing it.
    pub fn try_accept(&self) -> io::Result<Option<Served>> {
        let (s, peer) = match self.listener.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
            Err(e) => return Err(e),
        };
        s.set_nonblocking(false)?;
        let peer = peer
            .as_socket()
            .ok_or_else(|| io::Error::other("the client has no IP address"))?;
        let sock = Arc::new(s);
        let shared = Arc::new(Shared::default());
        let tid = Arc::new(AtomicI32::new(0));
        let (tx, ended) = mpsc::channel();
        shared.server.claim(Phase::Receiving);
        let (s2, sh2, t2) = (Arc::clone(&sock), Arc::clone(&shared), Arc::clone(&tid));
        let handle = thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                t2.store(sock::current_tid(), Relaxed);
                let mut buf = vec![0u8; READ];
                let end = server::serve(&s2, &mut buf, &sh2.serve_counters());
                let _ = tx.send(end);
            })?;
        Ok(Some(Served {
            sock,
            peer,
            shared,
            tid,
            ended,
            handle: Some(handle),
            end: None,
        }))
    }
}

impl Served {
    /// Bytes the echo loop's recv() calls returned, and its send() calls accepted.
    pub fn counts(&self) -> (u64, u64) {
        let c = self.shared.counts();
        (c.server_received_bytes, c.server_sent_bytes)
    }

    /// Whether the echo loop has returned; waits at most `bound` for it.
    pub fn finished(&mut self, bound: Duration) -> bool {
        if self.end.is_some() {
            return true;
        }
        match self.ended.recv_timeout(bound) {
            Ok(e) => {
                self.end = Some(e);
                true
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.end = Some(ServeEnd::Error(io::Error::other("the echo thread ended")));
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
        }
    }

    /// How the echo ended, once it has.
    pub fn end(&self) -> Option<EchoEnd> {
        let stopping = self.shared.is_stopping();
        self.end.as_ref().map(|e| match e {
            ServeEnd::Eof => EchoEnd::EndOfStream,
            ServeEnd::Error(_) if stopping => EchoEnd::ShutDown,
            ServeEnd::Error(e) => match e.kind() {
                io::ErrorKind::ConnectionReset => EchoEnd::Reset,
                io::ErrorKind::BrokenPipe => EchoEnd::BrokenPipe,
                _ => EchoEnd::Other,
            },
        })
    }

    /// Once the echo ended at end of stream (the server's FIN went out after the last byte) and
    /// the client's program has closed its socket: whether the client's kernel reset the
    /// connection, as it does when its program closes with echo unread (tcp(7)), or acknowledged
    /// the FIN. Waits at most `bound` for one or the other; `None` when neither came.
    pub fn reset_at_close(&self, bound: Duration) -> Option<bool> {
        if !matches!(self.end.as_ref(), Some(ServeEnd::Eof)) {
            return None;
        }
        let until = std::time::Instant::now() + bound;
        loop {
            // TCP_CLOSE: the FIN was acknowledged, or a reset came (which leaves ECONNRESET).
            if crate::sys::probe::tcp_state(&self.sock).ok()? == TCP_CLOSE {
                let err = self.sock.take_error().ok()?;
                return Some(err.is_some_and(|e| e.kind() == io::ErrorKind::ConnectionReset));
            }
            if std::time::Instant::now() >= until {
                return None;
            }
            // The polling interval of a bounded wait for the kernel's state.
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Shuts the server's side down (both directions): a blocked send() or recv() returns.
    pub fn shut_down(&self) {
        self.shared.stop();
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    /// Shuts down and joins the echo thread (at most `bound`).
    pub fn close(mut self, bound: Duration) {
        self.shut_down();
        if self.finished(bound)
            && let Some(h) = self.handle.take()
        {
            let _ = h.join();
        }
    }
}
