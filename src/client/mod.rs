//! The client role: one `Strategy` per way of sending and reading. Every strategy sends `total`
//! bytes as writes of one chunk, reads the echo, and checks it against the uppercased input.
//! The send/recv loops allocate nothing: the chunk and the read buffer exist before they start.

mod naive;
pub mod pace;
mod poll;
mod reader_thread;
mod send_once;

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use socket2::Socket;

use crate::counters::{Shared, ThreadSlot};
use crate::payload::Verifier;
pub use crate::result::StrategyName;
use crate::result::{ShortSends, Verification};
use crate::sample::{Phase, Role};
use pace::Pacer;

/// What a strategy works with.
pub struct ClientJob<'a> {
    pub sock: &'a Socket,
    /// Bytes to send, a whole number of chunks.
    pub total: u64,
    /// One chunk's bytes.
    pub chunk: &'a [u8],
    /// Largest single recv().
    pub read: usize,
    pub shared: &'a Shared,
    /// Bytes per second, for slow motion; `None`: as fast as the socket takes them.
    pub pace: Option<u64>,
}

/// What a strategy reports back.
#[derive(Debug, Default)]
pub struct ClientReport {
    pub verification: Option<Verification>,
    pub short_sends: Option<ShortSends>,
    /// The I/O error that ended the client, unless the watcher stopped it.
    pub error: Option<io::Error>,
}

pub trait Strategy: Sync {
    fn run(&self, job: &ClientJob<'_>) -> ClientReport;

    /// Whether the client reads the echo while it sends (a fix), rather than only after its last
    /// send: it then sends everything however small the buffers are.
    fn reads_while_sending(&self) -> bool {
        true
    }

    /// The role of the client's own thread (an event loop both reads and writes).
    fn role(&self) -> Role {
        Role::Sender
    }

    /// How many threads use the socket, each passing the start gate once.
    fn threads(&self) -> u32 {
        1
    }
}

pub fn for_name(name: StrategyName) -> &'static dyn Strategy {
    match name {
        StrategyName::Naive => &naive::Naive,
        StrategyName::ReaderThread => &reader_thread::ReaderThread,
        StrategyName::Poll => &poll::PollLoop,
        StrategyName::SendOnce => &send_once::SendOnce,
    }
}

impl ClientJob<'_> {
    /// Waits at the start gate until the socket is connected; false when it never will be.
    fn connected(&self) -> bool {
        self.shared.start.pass()
    }

    /// The report of a client whose socket never connected: it did nothing.
    fn never_connected(&self) -> ClientReport {
        self.shared.client.set(Phase::Done);
        ClientReport::default()
    }

    /// An error is only reported when the watcher did not cause it by shutting the socket down.
    fn report_error(&self, e: io::Error) -> Option<io::Error> {
        (!self.shared.is_stopping()).then_some(e)
    }

    /// The client thread reads the echo to EOF (the strategies that send first, then read).
    fn read_echo(&self, buf: &mut [u8], verifier: &mut Verifier) -> io::Result<()> {
        let s = self.shared;
        read_to_eof(self.sock, buf, verifier, &s.client_received, &s.client)
    }
}

/// Sends the job's bytes as back-to-back writes of one chunk, each one a write-all loop. Paced, it
/// writes a batch at full speed and then waits for the schedule; unpaced, the whole stream is one
/// batch.
fn send_chunks(job: &ClientJob<'_>, counter: &AtomicU64) -> io::Result<()> {
    let (sock, chunk) = (job.sock, job.chunk);
    let pacer = job.pace.map(Pacer::new);
    let batch = pacer.map_or(job.total, |p| p.batch(chunk.len() as u64));
    let mut sent = 0u64;
    while sent < job.total {
        let end = (sent + batch).min(job.total);
        while sent < end {
            let part = &chunk[..(chunk.len() as u64).min(end - sent) as usize];
            crate::server::write_all_counted(sock, part, counter)?;
            sent += part.len() as u64;
        }
        if let Some(p) = &pacer {
            p.wait(sent, || job.shared.is_stopping());
        }
    }
    Ok(())
}

/// Reads until EOF into `buf`, feeding the verifier and the counter. Stops at the first byte that
/// differs from the expected echo: the rest cannot make it right.
fn read_to_eof(
    sock: &Socket,
    buf: &mut [u8],
    verifier: &mut Verifier,
    counter: &AtomicU64,
    slot: &ThreadSlot,
) -> io::Result<()> {
    slot.set(Phase::Receiving);
    loop {
        match (&*sock).read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                counter.fetch_add(n as u64, Relaxed);
                verifier.feed(&buf[..n]);
                if verifier.mismatched() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes as much as the socket takes without blocking; returns bytes written.
fn write_nonblocking(sock: &Socket, data: &[u8]) -> io::Result<usize> {
    loop {
        match (&*sock).write(data) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
