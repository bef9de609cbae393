//! Fix: one thread, a non-blocking socket and an event loop (mio, edge-triggered): write while the
//! socket takes data, read while it has data, and sleep in poll only when neither can progress.
//! Reading whenever the echo arrives is what keeps the server's send() from waiting for ever.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use std::net::Shutdown;

use super::pace::Pacer;
use super::{ClientJob, ClientReport, Strategy, write_nonblocking};
use crate::payload::{Layout, Verifier};
use crate::sample::{Phase, Role};

pub struct PollLoop;

/// How long one poll() may wait before the loop checks whether the watcher asked it to stop.
const POLL_TICK: Duration = Duration::from_millis(100);
const SOCK: Token = Token(0);

impl Strategy for PollLoop {
    fn role(&self) -> Role {
        Role::Both
    }

    fn run(&self, job: &ClientJob<'_>) -> ClientReport {
        let s = job.shared;
        s.client.enter();
        if !job.connected() {
            return job.never_connected();
        }
        s.client.set(Phase::Polling);
        let mut verifier = Verifier::new(job.chunk.len(), Layout::Whole { total: job.total });
        let result = event_loop(job, &mut verifier);
        s.client.set(Phase::Done);
        let _ = job.sock.set_nonblocking(false);
        ClientReport {
            verification: Some(verifier.finish()),
            short_sends: None,
            error: result.err().and_then(|e| job.report_error(e)),
        }
    }
}

fn event_loop(job: &ClientJob<'_>, verifier: &mut Verifier) -> io::Result<()> {
    let s = job.shared;
    let sock = job.sock;
    sock.set_nonblocking(true)?;
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(4);
    let fd = sock.as_raw_fd();
    poll.registry().register(
        &mut SourceFd(&fd),
        SOCK,
        Interest::READABLE | Interest::WRITABLE,
    )?;
    let mut buf = vec![0u8; job.read];
    let chunk = job.chunk;
    let pacer = job.pace.map(Pacer::new);
    let (mut sent, mut pos, mut write_open) = (0u64, 0usize, true);
    loop {
        // Paced: write only what the schedule allows, and wake when more is due.
        let mut wait = POLL_TICK;
        // Edge-triggered: drain both directions until the kernel says WouldBlock.
        while write_open && sent < job.total {
            if let Some(p) = &pacer {
                let ahead = p.ahead_by(sent);
                if !ahead.is_zero() {
                    wait = wait.min(ahead);
                    break;
                }
            }
            let want = ((chunk.len() - pos) as u64).min(job.total - sent) as usize;
            match write_nonblocking(sock, &chunk[pos..pos + want]) {
                Ok(n) => {
                    s.client_sent.fetch_add(n as u64, Relaxed);
                    sent += n as u64;
                    pos = (pos + n) % chunk.len();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if write_open && sent == job.total {
            sock.shutdown(Shutdown::Write)?;
            write_open = false;
            poll.registry()
                .reregister(&mut SourceFd(&fd), SOCK, Interest::READABLE)?;
        }
        loop {
            match (&*sock).read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    s.client_received.fetch_add(n as u64, Relaxed);
                    verifier.feed(&buf[..n]);
                    if verifier.mismatched() {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if s.is_stopping() {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
