//! The classic programs' views: the transcript of each demo, then one `outcome:` line saying what
//! it teaches. Each line is a record; the command wraps them for a terminal (`wrap::for_stdout`).

use std::io::{self, Write};

use crate::classic::blocks::BlocksReport;
use crate::classic::dribble::DribbleReport;
use crate::classic::halfclose::HalfcloseReport;
use crate::classic::sixteen::{CLIENT_MESSAGE, DemoReport};
use crate::classic::{Outcome, py_repr};
use crate::report::human;

/// A classic demo's report as a command's document: its text view (`quiet`: the verdict line
/// only) and its JSON as the report itself.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct Demo<'a, R: serde::Serialize> {
    report: &'a R,
    #[serde(skip)]
    quiet: bool,
    #[serde(skip)]
    words: TextView<R>,
}

/// The text view of one demo's report.
pub type TextView<R> = fn(&R, bool, &mut dyn Write) -> io::Result<()>;

impl<'a, R: serde::Serialize> Demo<'a, R> {
    pub fn new(report: &'a R, quiet: bool, words: TextView<R>) -> Demo<'a, R> {
        Demo {
            report,
            quiet,
            words,
        }
    }
}

impl<R: serde::Serialize> super::export::Document for Demo<'_, R> {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        (self.words)(self.report, self.quiet, out)
    }
}

pub fn sixteen(r: &DemoReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    if !quiet {
        for l in &r.transcript {
            writeln!(out, "{l}")?;
        }
        writeln!(out)?;
    }
    match r.outcome {
        Outcome::Refused => writeln!(out, "outcome: refused: {}", r.explanation),
        _ => writeln!(out, "outcome: completed: {}", r.explanation),
    }
}

pub fn blocks(r: &BlocksReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    if !quiet {
        for b in &r.blocks {
            writeln!(out, "Block says: {b}")?;
        }
        if let Some(e) = &r.error {
            writeln!(out, "server: {e}")?;
        }
        writeln!(out)?;
    }
    match r.outcome {
        Outcome::FrameRefused => writeln!(
            out,
            "outcome: frame_refused: the peer announced {} bytes with 4 bytes of header; the reader compared it with --max-frame ({}) before allocating, so its buffer stayed at {}",
            r.announced_bytes.unwrap_or(0),
            human(r.max_frame_bytes),
            human(r.buffer_capacity_bytes as u64)
        ),
        Outcome::Truncated => writeln!(
            out,
            "outcome: truncated: the stream ended {} bytes short of a complete block, and before the zero-length end block; only the length prefix lets the reader tell a cut stream from a finished one",
            r.missing_bytes.unwrap_or(0)
        ),
        _ => writeln!(
            out,
            "outcome: completed: {} blocks and the zero-length end block; the 4-byte length prefix marks where each message ends in the byte stream",
            r.blocks.len()
        ),
    }
}

pub fn dribble(r: &DribbleReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    if !quiet {
        let plan: Vec<String> = r.pieces_bytes.iter().map(|p| p.to_string()).collect();
        writeln!(
            out,
            "sender: TCP_NODELAY on; writes {} as pieces of {} bytes, each after the receiver's previous recv() returned",
            r.message,
            plan.join(" + ")
        )?;
        let mut at = 0;
        for (asked, got) in r.recv_asked_bytes.iter().zip(&r.recv_sizes_bytes) {
            writeln!(
                out,
                "receiver: recv({asked}) returned {got} {} {:<12} {} of 16 so far",
                if *got == 1 { "byte " } else { "bytes" },
                py_repr(&CLIENT_MESSAGE[at..at + got], true),
                at + got
            )?;
            at += got;
        }
        if let Some(e) = &r.error {
            writeln!(
                out,
                "receiver: recv({}) returned 0 bytes: end of stream",
                16 - at
            )?;
            writeln!(out, "receiver: recv_all: {e}")?;
        } else {
            writeln!(out, "receiver: recv_all assembled 16 bytes: {}", r.message)?;
        }
        writeln!(out)?;
    }
    match r.outcome {
        Outcome::ClosedEarly => writeln!(
            out,
            "outcome: closed_early: the sender closed after {} of 16 bytes; a recv() of 0 bytes is the end of the stream, and only a loop that counts can tell that the message is incomplete",
            r.received_bytes
        ),
        _ => writeln!(
            out,
            "outcome: completed: {} recv() calls returned {} bytes; recv() returns what has arrived, not what was asked for, so the loop asks again for the rest",
            r.recv_sizes_bytes.len(),
            r.recv_sizes_bytes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    }
}

pub fn halfclose(r: &HalfcloseReport, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    if !quiet {
        let shut = if r.client_shut_down_write {
            "then shutdown(SHUT_WR): a FIN tells the server the request is over"
        } else {
            "and does not call shutdown(SHUT_WR)"
        };
        writeln!(out, "client: sends {} {shut}", human(r.client_sent_bytes))?;
        writeln!(
            out,
            "server: read {} in {} recv() calls",
            human(r.server_received_bytes),
            r.server_recv_calls
        )?;
        match &r.stall {
            None => {
                writeln!(out, "server: recv() returned 0 (EOF); replied and closed")?;
                writeln!(out, "client: read the reply until EOF: '{}'", r.reply)?;
            }
            Some(e) => {
                let call = |c: &Option<String>| {
                    c.clone()
                        .unwrap_or_else(|| "recv (by its own record)".into())
                };
                let q = |b: Option<u64>| b.map(human).unwrap_or_else(|| "unknown".into());
                writeln!(
                    out,
                    "watcher: for {} ms the server thread was in {} with {} queued, the client thread in {} with {} queued, {} in flight",
                    e.held_ms,
                    call(&e.server_call),
                    q(e.server_inq_bytes),
                    call(&e.client_call),
                    q(e.client_inq_bytes),
                    q(e.client_outq_bytes)
                )?;
                writeln!(
                    out,
                    "watcher: shut both sockets down, which ends both recv() calls"
                )?;
            }
        }
        writeln!(out)?;
    }
    match r.outcome {
        Outcome::Stalled => writeln!(
            out,
            "outcome: stalled: the server reads until recv() returns 0, which happens only after the client's FIN; the client never sent one and waits in recv() for a reply that comes only after it. Each side waits for the other with nothing in flight. Fix: call shutdown(SHUT_WR) after the last send, or frame the request so the server knows where it ends (see 'tcplab blocks')"
        ),
        _ => writeln!(
            out,
            "outcome: completed: shutdown(SHUT_WR) closes only the sending half: the server sees EOF, and the client can still read the reply"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classic::halfclose::StallEvidence;
    use crate::report::wrap::{assert_wrapped, wrap};

    fn text(view: impl Fn(&mut dyn Write) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        view(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    /// Every view of every demo's outcome, as the terminal shows it at 80 and at 120 columns.
    fn wraps_at_80_and_120(text: &str) {
        for width in [80, 120] {
            assert_wrapped(text, &wrap(text, width, "    "), width);
        }
    }

    #[test]
    fn the_sixteen_demo_wraps_at_word_boundaries() {
        let r = DemoReport {
            outcome: Outcome::Completed,
            server_addr: "127.0.0.1:46731".into(),
            client_addr: Some("127.0.0.1:34712".into()),
            server_received: Some("Hi there, server".into()),
            client_received: Some("Farewell, client".into()),
            transcript: vec![
                "server: Listening at 127.0.0.1:46731".into(),
                "server: Socket connects 127.0.0.1:46731 and 127.0.0.1:34712".into(),
            ],
            error: None,
            explanation: "each side asked recv() for 16 bytes and looped until it had all 16: TCP \
                          delivers a stream of bytes, not messages, so a single recv() may return \
                          fewer"
                .into(),
        };
        wraps_at_80_and_120(&text(|o| sixteen(&r, false, o)));
    }

    #[test]
    fn every_blocks_outcome_wraps_at_word_boundaries() {
        for outcome in [
            Outcome::Completed,
            Outcome::FrameRefused,
            Outcome::Truncated,
        ] {
            let r = BlocksReport {
                outcome,
                max_frame_bytes: 1 << 20,
                blocks: vec!["b'Beautiful is better than ugly.'".into()],
                block_sizes_bytes: vec![30],
                announced_bytes: Some((1 << 20) + 1),
                missing_bytes: Some(7),
                buffer_capacity_bytes: 30,
                error: Some(
                    "peer announced a block of 1048577 bytes, above the limit of 1048576 bytes \
                     set by --max-frame; refused before allocating; raise --max-frame if the \
                     peer is trusted"
                        .into(),
                ),
            };
            wraps_at_80_and_120(&text(|o| blocks(&r, false, o)));
        }
    }

    #[test]
    fn every_dribble_outcome_wraps_at_word_boundaries() {
        for (outcome, error) in [
            (Outcome::Completed, None),
            (
                Outcome::ClosedEarly,
                Some("the peer closed after 8 of 16 bytes".to_string()),
            ),
        ] {
            let r = DribbleReport {
                outcome,
                message: "'Hi there, server'".into(),
                pieces_bytes: vec![5, 3, 8],
                recv_asked_bytes: vec![16, 11, 8],
                recv_sizes_bytes: vec![5, 3, 8],
                received_bytes: 16,
                error,
            };
            wraps_at_80_and_120(&text(|o| dribble(&r, false, o)));
        }
    }

    #[test]
    fn both_halfclose_outcomes_wrap_at_word_boundaries() {
        let stall = StallEvidence {
            server_call: Some("recv".into()),
            client_call: Some("recv".into()),
            server_inq_bytes: Some(0),
            client_inq_bytes: Some(0),
            client_outq_bytes: Some(0),
            held_ms: 300,
        };
        for (outcome, stall) in [(Outcome::Completed, None), (Outcome::Stalled, Some(stall))] {
            let r = HalfcloseReport {
                outcome,
                client_shut_down_write: stall.is_none(),
                client_sent_bytes: 65536,
                server_received_bytes: 65536,
                server_recv_calls: 4,
                reply: "server read 65536 bytes in 4 recv() calls, then EOF".into(),
                client_received_bytes: 52,
                stall,
                elapsed_ms: 310,
            };
            wraps_at_80_and_120(&text(|o| halfclose(&r, false, o)));
        }
    }
}
