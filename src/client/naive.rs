//! The classic client: a write-all loop over every chunk, then shut down the write half, then read
//! the echo until EOF. While it sends it never reads, so once the echo fills the server's send
//! buffer and the client's receive buffer, the server blocks in send(), stops reading, and the
//! client blocks in send() too.

use std::net::Shutdown;

use super::{ClientJob, ClientReport, Strategy, send_chunks};
use crate::payload::{Layout, Verifier};
use crate::sample::Phase;

pub struct Naive;

impl Strategy for Naive {
    fn reads_while_sending(&self) -> bool {
        false
    }

    fn run(&self, job: &ClientJob<'_>) -> ClientReport {
        let s = job.shared;
        s.client.enter();
        if !job.connected() {
            return job.never_connected();
        }
        let mut buf = vec![0u8; job.read];
        let mut verifier = Verifier::new(job.chunk.len(), Layout::Whole { total: job.total });
        s.client.set(Phase::Sending);
        let result = send_chunks(job, &s.client_sent)
            .and_then(|()| job.sock.shutdown(Shutdown::Write))
            .and_then(|()| job.read_echo(&mut buf, &mut verifier));
        s.client.set(Phase::Done);
        ClientReport {
            verification: Some(verifier.finish()),
            short_sends: None,
            error: result.err().and_then(|e| job.report_error(e)),
        }
    }
}
