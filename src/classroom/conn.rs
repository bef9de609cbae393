//! One accepted connection of the classroom server: its socket, its counters, and the named thread
//! that runs the shared echo loop (`server::serve`) on it. The supervisor holds the other reference
//! and is the only one that closes a connection early (stuck, Ctrl-C): it sets `stopping` and shuts
//! the socket down, which wakes the thread from send() or recv() (EPIPE, EOF), then joins it.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::Sender;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::Waker;
use socket2::Socket;

use crate::counters::{Phase, ThreadSlot};
use crate::server::{self, ServeCounters, ServeEnd};

/// Stack for a connection thread: the echo loop needs little, and 200 students should not cost
/// 200 × 2 MiB of address space (the heap buffer of `--read` bytes is separate).
const CONN_STACK: usize = 128 * 1024;

pub struct Conn {
    /// Number in accept order, from 1.
    pub id: u64,
    pub peer: String,
    pub sock: Socket,
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub slot: ThreadSlot,
    /// Set before the supervisor shuts the socket down, so the error that follows reads as "closed
    /// by the server", not as the client's doing.
    pub stopping: AtomicBool,
    pub accepted: Instant,
    /// Effective SO_SNDBUF/SO_RCVBUF as read back at accept, for the log lines.
    pub sizes: String,
}

impl Conn {
    pub fn new(id: u64, peer: String, sock: Socket, sizes: String) -> Conn {
        Conn {
            id,
            peer,
            sock,
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            slot: ThreadSlot::default(),
            stopping: AtomicBool::new(false),
            accepted: Instant::now(),
            sizes,
        }
    }

    /// Ends the connection from the supervisor's side; the thread returns on its own.
    pub fn close(&self) {
        self.stopping.store(true, Relaxed);
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Relaxed)
    }

    pub fn app_sending(&self) -> bool {
        self.slot.phase() == Phase::Sending
    }
}

/// Starts the echo thread; it reports `(id, end)` on `done` and wakes the supervisor when the
/// connection is over.
pub fn spawn(
    conn: Arc<Conn>,
    read: usize,
    done: Sender<(u64, ServeEnd)>,
    waker: Arc<Waker>,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("tcplab-conn-{}", conn.id))
        .stack_size(CONN_STACK)
        .spawn(move || {
            let mut buf = vec![0u8; read];
            let c = ServeCounters {
                received: &conn.received,
                sent: &conn.sent,
                slot: &conn.slot,
            };
            let end = server::serve(&conn.sock, &mut buf, &c);
            let _ = done.send((conn.id, end));
            // Wake the supervisor's poll so the thread is joined and its socket freed now, not at
            // the next tick.
            let _ = waker.wake();
        })
}

/// How a connection ended, in the words of the log line.
pub fn describe_end(end: &ServeEnd, closed_by_server: bool) -> (&'static str, String) {
    match end {
        ServeEnd::Eof => (
            "closed",
            "the client closed its side; everything was echoed".into(),
        ),
        ServeEnd::Error(_) if closed_by_server => ("closed", "closed by the server".into()),
        ServeEnd::Error(e) => match e.kind() {
            io::ErrorKind::ConnectionReset => ("reset", "the client reset the connection".into()),
            io::ErrorKind::BrokenPipe => (
                "reset",
                "the client went away while the server was writing".into(),
            ),
            _ => ("failed", format!("ended by an error: {e}")),
        },
    }
}
