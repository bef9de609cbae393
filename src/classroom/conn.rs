//! One accepted connection of the classroom server: its socket, the counters and thread slot the
//! echo loop bumps (`counters::Shared`), and the named thread that runs the shared echo loop
//! (`server::serve`) on it. The supervisor holds the other reference and is the only one that
//! closes a connection early (stuck, Ctrl-C): it marks it stopping and shuts the socket down, which
//! wakes the thread from send() or recv() (EPIPE, EOF), then joins it.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::Sender;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use mio::Waker;
use socket2::Socket;

use crate::counters::Shared;
use crate::sample::Phase;
use crate::server::{self, ServeEnd};

/// Stack for a connection thread: the echo loop needs little, and 200 students should not cost
/// 200 × 2 MiB of address space (the heap buffer of `--read` bytes is separate).
const CONN_STACK: usize = 128 * 1024;

pub struct Conn {
    /// Number in accept order, from 1.
    pub id: u64,
    pub peer: String,
    pub sock: Socket,
    /// The server's half of the shared counters: bytes received and echoed, and the thread slot.
    pub shared: Shared,
    pub accepted: Instant,
    /// Effective SO_SNDBUF and SO_RCVBUF read back at accept (bytes).
    pub sizes: Option<(u64, u64)>,
}

impl Conn {
    pub fn new(id: u64, peer: String, sock: Socket) -> Conn {
        let sizes = sock
            .send_buffer_size()
            .and_then(|s| Ok((s as u64, sock.recv_buffer_size()? as u64)))
            .ok();
        Conn {
            id,
            peer,
            sock,
            shared: Shared::default(),
            accepted: Instant::now(),
            sizes,
        }
    }

    /// Ends the connection from the supervisor's side; the thread returns on its own.
    pub fn close(&self) {
        self.shared.stop();
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    pub fn received(&self) -> u64 {
        self.shared.server_received.load(Relaxed)
    }

    pub fn sent(&self) -> u64 {
        self.shared.server_sent.load(Relaxed)
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
    conn.shared.server.claim(Phase::Receiving);
    thread::Builder::new()
        .name(format!("tcplab-conn-{}", conn.id))
        .stack_size(CONN_STACK)
        .spawn(move || {
            let mut buf = vec![0u8; read];
            let end = server::serve(&conn.sock, &mut buf, &conn.shared.serve_counters());
            let _ = done.send((conn.id, end));
            // Wake the supervisor's poll so the thread is joined and its socket freed now, not at
            // the next tick.
            let _ = waker.wake();
        })
}
