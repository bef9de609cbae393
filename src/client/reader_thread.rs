//! Fix: a second thread (`tcplab-reader`) reads the echo while the main thread sends, so the
//! server's replies always drain and its send() never waits for ever.
//!
//! The reader's slot is claimed before the thread is spawned, and everything it needs (buffer,
//! verifier) is made before that too, so from the watcher's first look there is a reader, and the
//! reader's first act is recv(): nothing sits between its spawn and its first read. Against a
//! server elsewhere, both threads exist before the socket connects (`counters::StartGate`).

use std::net::Shutdown;
use std::thread;

use super::{ClientJob, ClientReport, Strategy, read_to_eof, send_chunks};
use crate::payload::{Layout, Verifier};
use crate::sample::Phase;

pub struct ReaderThread;

impl Strategy for ReaderThread {
    fn threads(&self) -> u32 {
        2
    }

    fn run(&self, job: &ClientJob<'_>) -> ClientReport {
        let s = job.shared;
        s.client.enter();
        let mut buf = vec![0u8; job.read];
        let mut verifier = Verifier::new(job.chunk.len(), Layout::Whole { total: job.total });
        s.reader.claim(Phase::Receiving);
        thread::scope(|scope| {
            let reader = thread::Builder::new()
                .name("tcplab-reader".into())
                .spawn_scoped(scope, || {
                    s.reader.enter();
                    if !s.start.pass() {
                        s.reader.set(Phase::Done);
                        return (verifier.finish(), Ok(()));
                    }
                    let r = read_to_eof(
                        job.sock,
                        &mut buf,
                        &mut verifier,
                        &s.client_received,
                        &s.reader,
                    );
                    s.reader.set(Phase::Done);
                    // A reader that stopped early (a wrong byte) ends the sender too.
                    if r.is_err() || verifier.mismatched() {
                        let _ = job.sock.shutdown(Shutdown::Both);
                    }
                    (verifier.finish(), r)
                });
            let reader = match reader {
                Ok(r) => r,
                Err(e) => {
                    s.reader.set(Phase::Done);
                    s.start.skip();
                    if !job.connected() {
                        return job.never_connected();
                    }
                    return ClientReport {
                        error: Some(e),
                        ..ClientReport::default()
                    };
                }
            };
            if !job.connected() {
                let _ = reader.join();
                return job.never_connected();
            }
            s.client.set(Phase::Sending);
            let sent =
                send_chunks(job, &s.client_sent).and_then(|()| job.sock.shutdown(Shutdown::Write));
            s.client.set(Phase::Done);
            if sent.is_err() {
                // The reader would otherwise wait for an EOF that a failed sender never causes.
                let _ = job.sock.shutdown(Shutdown::Read);
            }
            let (verification, read) = reader.join().unwrap_or_else(|_| {
                (
                    Verifier::new(job.chunk.len(), Layout::Whole { total: job.total }).finish(),
                    Ok(()),
                )
            });
            // A sender cut off because the reader found a wrong byte is not the failure to report.
            let sent = if verification
                .first_mismatch_at
                .is_some_and(|at| at < verification.received_bytes)
            {
                Ok(())
            } else {
                sent
            };
            ClientReport {
                verification: Some(verification),
                short_sends: None,
                error: sent.err().or(read.err()).and_then(|e| job.report_error(e)),
            }
        })
    }
}
