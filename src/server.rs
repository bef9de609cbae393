//! The uppercase-echo server role: recv() at most `read` bytes, uppercase ASCII letters, write
//! everything back with a write-all loop, until the peer shuts down its write half. The same
//! function serves the one-process demo and every connection of `tcplab server`; the write-all
//! loop here is the one every sender of tcplab's own stream uses.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use socket2::Socket;
use std::net::Shutdown;

use crate::counters::ThreadSlot;
use crate::payload::uppercase_in_place;
use crate::sample::Phase;

/// Byte counters one connection bumps (relaxed adds; the watcher reads them).
pub struct ServeCounters<'a> {
    pub received: &'a AtomicU64,
    pub sent: &'a AtomicU64,
    pub slot: &'a ThreadSlot,
}

impl crate::counters::Shared {
    /// The server's counters and thread slot, for `serve`.
    pub fn serve_counters(&self) -> ServeCounters<'_> {
        ServeCounters {
            received: &self.server_received,
            sent: &self.server_sent,
            slot: &self.server,
        }
    }
}

/// How a connection ended.
#[derive(Debug)]
pub enum ServeEnd {
    /// The peer shut down its write half and every byte was echoed.
    Eof,
    /// An I/O error (reset, broken pipe, shutdown by the watcher).
    Error(io::Error),
}

/// Serves one connection to its end. `buf` is allocated once by the caller.
pub fn serve(sock: &Socket, buf: &mut [u8], c: &ServeCounters<'_>) -> ServeEnd {
    c.slot.enter();
    let end = loop {
        c.slot.set(Phase::Receiving);
        let n = match (&*sock).read(buf) {
            Ok(0) => break ServeEnd::Eof,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break ServeEnd::Error(e),
        };
        c.received.fetch_add(n as u64, Relaxed);
        uppercase_in_place(&mut buf[..n]);
        c.slot.set(Phase::Sending);
        if let Err(e) = write_all_counted(sock, &buf[..n], c.sent) {
            break ServeEnd::Error(e);
        }
    };
    if matches!(end, ServeEnd::Eof) {
        // The classic server closes the socket here; shutting the write half down first makes the
        // client's read loop see EOF even while this side still holds the socket.
        let _ = sock.shutdown(Shutdown::Write);
    }
    c.slot.set(Phase::Done);
    end
}

/// A write-all loop that counts each write's return value as it comes.
pub fn write_all_counted(sock: &Socket, data: &[u8], counter: &AtomicU64) -> io::Result<()> {
    crate::wire::send_all_counted(&mut &*sock, data, counter)
}
