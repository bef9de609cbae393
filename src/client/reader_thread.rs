//! Fix: a second thread (`tcplab-reader`) reads the echo while the main thread sends, so the
//! server's replies always drain and its send() never waits for ever.

use std::thread;

use std::net::Shutdown;

use super::{ClientJob, ClientReport, Strategy, read_to_eof, send_chunks};
use crate::counters::Phase;
use crate::payload::{Layout, Verifier};

pub struct ReaderThread;

impl Strategy for ReaderThread {
    fn run(&self, job: &ClientJob<'_>) -> ClientReport {
        let s = job.shared;
        s.client.enter();
        thread::scope(|scope| {
            let reader = thread::Builder::new()
                .name("tcplab-reader".into())
                .spawn_scoped(scope, || {
                    s.reader.enter();
                    let mut buf = vec![0u8; job.read];
                    let mut verifier = Verifier::new(job.chunk, Layout::Whole { total: job.total });
                    let r = read_to_eof(
                        job.sock,
                        &mut buf,
                        &mut verifier,
                        &s.client_received,
                        &s.reader,
                    );
                    s.reader.set(Phase::Done);
                    (verifier.finish(), r)
                });
            let reader = match reader {
                Ok(r) => r,
                Err(e) => {
                    return ClientReport {
                        error: Some(e),
                        ..ClientReport::default()
                    };
                }
            };
            s.client.set(Phase::Sending);
            let sent = send_chunks(job.sock, job.chunk, job.total, &s.client_sent)
                .and_then(|()| job.sock.shutdown(Shutdown::Write));
            s.client.set(Phase::Done);
            if sent.is_err() {
                // The reader would otherwise wait for an EOF that a failed sender never causes.
                let _ = job.sock.shutdown(Shutdown::Read);
            }
            let (verification, read) = reader.join().unwrap_or_else(|_| {
                (
                    Verifier::new(job.chunk, Layout::Whole { total: job.total }).finish(),
                    Ok(()),
                )
            });
            ClientReport {
                verification: Some(verification),
                short_sends: None,
                error: sent.err().or(read.err()).and_then(|e| job.report_error(e)),
            }
        })
    }
}
