//! The bug that a write-all loop fixes: one send() per chunk, its return value ignored.
//!
//! A blocking send() on Linux waits until the whole buffer is copied, so it never returns short
//! (tcp(7)); short sends happen on a non-blocking socket, under SO_SNDTIMEO, or when a signal
//! interrupts the call. This strategy makes the socket non-blocking so the short sends happen
//! every time: once the buffers are full, send() accepts part of a chunk or nothing (EAGAIN),
//! and code that ignores the count silently drops the rest. The echo is then checked against
//! what the kernel actually accepted.

use std::io;
use std::sync::atomic::Ordering::Relaxed;

use std::net::Shutdown;

use super::pace::Pacer;
use super::{ClientJob, ClientReport, Strategy};
use crate::payload::{Layout, Verifier};
use crate::result::ShortSends;
use crate::sample::Phase;

pub struct SendOnce;

/// Runs of equal accepted lengths kept for the echo check (16 bytes each, allocated up front).
const MAX_RUNS: usize = 1 << 16;

impl Strategy for SendOnce {
    fn reads_while_sending(&self) -> bool {
        false
    }

    fn run(&self, job: &ClientJob<'_>) -> ClientReport {
        let s = job.shared;
        s.client.enter();
        if !job.connected() {
            return job.never_connected();
        }
        let mut runs: Vec<(u32, u64)> = Vec::with_capacity(MAX_RUNS);
        let mut stats = ShortSends::default();
        let mut buf = vec![0u8; job.read];
        s.client.set(Phase::Sending);
        let sent = send_each_once(job, &mut runs, &mut stats);
        let mut report = ClientReport {
            short_sends: Some(stats),
            ..ClientReport::default()
        };
        let overflowed = runs.len() == MAX_RUNS;
        let mut verifier = Verifier::new(job.chunk.len(), Layout::Runs(runs));
        let result = sent
            .and_then(|()| job.sock.shutdown(Shutdown::Write))
            .and_then(|()| job.sock.set_nonblocking(false))
            .and_then(|()| job.read_echo(&mut buf, &mut verifier));
        s.client.set(Phase::Done);
        // With more irregular sends than runs recorded the exact layout is unknown: no check.
        report.verification = (!overflowed).then(|| verifier.finish());
        report.error = result.err().and_then(|e| job.report_error(e));
        report
    }
}

fn send_each_once(
    job: &ClientJob<'_>,
    runs: &mut Vec<(u32, u64)>,
    st: &mut ShortSends,
) -> io::Result<()> {
    job.sock.set_nonblocking(true)?;
    let calls = job.total / job.chunk.len() as u64;
    let pacer = job.pace.map(Pacer::new);
    let per_batch = pacer.map_or(calls, |p| {
        p.batch(job.chunk.len() as u64) / job.chunk.len() as u64
    });
    for i in 0..calls {
        if let Some(p) = &pacer
            && i % per_batch == 0
        {
            p.wait(st.offered_bytes, || job.shared.is_stopping());
        }
        st.calls += 1;
        st.offered_bytes += job.chunk.len() as u64;
        let n = match job.sock.send(job.chunk) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(e) => return Err(e),
        };
        match n {
            0 => st.refused += 1,
            n if n == job.chunk.len() => st.full += 1,
            _ => st.partial += 1,
        }
        if n > 0 {
            st.accepted_bytes += n as u64;
            job.shared.client_sent.fetch_add(n as u64, Relaxed);
            record(runs, n as u32);
        }
    }
    st.lost_bytes = st.offered_bytes - st.accepted_bytes;
    Ok(())
}

/// Appends one accepted length, merging it into the last run when equal; never reallocates.
fn record(runs: &mut Vec<(u32, u64)>, n: u32) {
    if let Some((len, count)) = runs.last_mut()
        && *len == n
    {
        *count += 1;
    } else if runs.len() < runs.capacity() {
        runs.push((n, 1));
    }
}
