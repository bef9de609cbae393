//! What the classroom server tells the instructor: one stdout line per event (with `--log`, the
//! running totals appended), a status line on stderr when it is a terminal, and the totals at the
//! end. Formatting only; the supervisor decides what happened.

use std::io::{self, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use socket2::Socket;

use crate::sock::{BufReq, Limits};
use crate::units::human;

/// Counts over the server's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub accepted: u64,
    pub closed: u64,
    /// Closed by the server after `--idle-timeout` without movement.
    pub stuck: u64,
    /// Reset or abandoned by the client.
    pub reset: u64,
    /// Turned away beyond `--max-conns`.
    pub refused: u64,
    /// Bytes received over all connections (bytes).
    pub processed_bytes: u64,
}

pub struct Status {
    pub accepted: u64,
    pub closed: u64,
    pub stuck: u64,
    pub reset: u64,
    pub refused: u64,
    /// Bytes received by connections that already ended.
    pub processed_closed: u64,
    live_bytes: u64,
    log: bool,
    bar: Option<ProgressBar>,
}

impl Status {
    pub fn new(log: bool, live: bool) -> Status {
        let bar = live.then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            b.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
            b
        });
        Status {
            accepted: 0,
            closed: 0,
            stuck: 0,
            reset: 0,
            refused: 0,
            processed_closed: 0,
            live_bytes: 0,
            log,
            bar,
        }
    }

    fn summary(&self, active: usize) -> String {
        format!(
            "{active} active, {} processed, {} freed as stuck, {} refused",
            human(self.processed_closed + self.live_bytes),
            self.stuck,
            self.refused
        )
    }

    /// Prints one event line on stdout (above the status line, if any).
    pub fn event(&mut self, line: &str, active: usize) -> io::Result<()> {
        let text = if self.log {
            format!("{line} [{}]", self.summary(active))
        } else {
            line.to_string()
        };
        let print = || {
            let mut out = io::stdout().lock();
            writeln!(out, "{text}")?;
            out.flush()
        };
        match &self.bar {
            Some(b) => b.suspend(print),
            None => print(),
        }
    }

    /// A warning on stderr; the server goes on.
    pub fn warn(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub fn redraw(&mut self, active: usize, live_bytes: u64) {
        self.live_bytes = live_bytes;
        if let Some(b) = &self.bar {
            b.set_message(self.summary(active));
            b.tick();
        }
    }

    /// A connection ended: its bytes move from the live sum to the closed one.
    pub fn ended(&mut self, received: u64) {
        self.processed_closed += received;
        self.live_bytes = self.live_bytes.saturating_sub(received);
    }

    pub fn finish(&mut self) {
        self.live_bytes = 0;
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    pub fn totals(&self) -> Totals {
        Totals {
            accepted: self.accepted,
            closed: self.closed,
            stuck: self.stuck,
            reset: self.reset,
            refused: self.refused,
            processed_bytes: self.processed_closed,
        }
    }
}

/// The effective buffer sizes of an accepted socket, as the log lines show them.
pub fn describe_sizes(req: &BufReq, sock: &Socket, limits: &Limits) -> String {
    match req.report(sock, limits) {
        Ok((s, r)) => format!(
            "SO_SNDBUF {}, SO_RCVBUF {}",
            human(s.effective_bytes),
            human(r.effective_bytes)
        ),
        Err(_) => String::from("buffer sizes unknown"),
    }
}
