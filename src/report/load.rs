//! The load test's text view: one line per client, then each round's verdict, the server's memory
//! and threads, and PASSED or FAILED. Each line is a record; the command wraps them for a
//! terminal (`wrap::for_stdout`).

use std::io::{self, Write};

use crate::classroom::load::{FREE_SLACK, LoadReport, LoadRun};
use crate::report::{human, human_signed};

/// The load test on a terminal: a line as each round starts, and a status line while the class
/// runs (how many connected, ended, freed, verified), through the one progress factory.
pub struct Progress {
    /// Whether a person reads stderr (text output): the round lines are for them.
    text: bool,
    bar: indicatif::ProgressBar,
    clients: u32,
    deadlocking: f64,
}

impl Progress {
    pub fn new(text: bool, clients: u32, deadlocking: f64) -> Progress {
        let live = super::progress::Live::decide(false, !text);
        Progress {
            text,
            bar: live.line("{msg}"),
            clients,
            deadlocking,
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl crate::classroom::load::Progress for Progress {
    fn round(&mut self, round: u32, of: u32, addr: std::net::SocketAddr) {
        if self.text {
            let line = round_line(round, of, self.clients, addr, self.deadlocking);
            self.bar.suspend(|| super::wrap::eprint(&line));
        }
    }

    fn tally(&mut self, t: crate::classroom::load::Tally) {
        self.bar.set_message(format!(
            "  {} of {} clients connected, {} ended: {} freed by the server, {} echoes verified",
            t.connected, t.total, t.done, t.freed, t.verified
        ));
    }
}

/// What the load test is starting, for stderr: the class at the first round, the round's number
/// when there are several.
pub fn round_line(
    round: u32,
    of: u32,
    clients: u32,
    addr: std::net::SocketAddr,
    deadlocking: f64,
) -> String {
    let mut lines = Vec::new();
    if round == 1 {
        lines.push(format!(
            "tcplab load: {clients} clients against {addr}, {:.0} % of them deadlocking",
            deadlocking * 100.0
        ));
    }
    if of > 1 {
        lines.push(format!("tcplab load: round {round} of {of}"));
    }
    lines.join("\n")
}

/// The load test's document: the text report, or the run as JSON.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct LoadDoc<'a>(pub &'a LoadRun);

impl super::export::Document for LoadDoc<'_> {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        write_run(self.0, out)
    }
}

pub fn write_run(run: &LoadRun, out: &mut dyn Write) -> io::Result<()> {
    for (i, r) in run.rounds.iter().enumerate() {
        if run.rounds.len() > 1 {
            writeln!(out, "round {}:", i + 1)?;
        }
        write_round(r, out)?;
    }
    if let Some(ms) = run.server_max_freed_after_ms {
        writeln!(
            out,
            "server log: the longest a stuck connection stood still before it was freed: {ms} ms"
        )?;
    }
    match (&run.server_totals, run.server_stopped_cleanly) {
        (Some(t), _) => writeln!(out, "{}", super::server::stopped_line(t))?,
        (None, Some(_)) => writeln!(out, "the server printed no summary on SIGINT")?,
        (None, None) => {}
    }
    if run.interrupted {
        return writeln!(
            out,
            "INTERRUPTED by {}: no client or round was started after it; the report covers the \
             clients that had started",
            crate::interrupt::signal_name()
        );
    }
    writeln!(out, "{}", if run.ok { "PASSED" } else { "FAILED" })
}

pub fn write_round(r: &LoadReport, out: &mut dyn Write) -> io::Result<()> {
    for c in &r.clients {
        let why = c
            .failure
            .as_ref()
            .map(super::text::failure_text)
            .or_else(|| c.error.clone());
        let detail = match (why, c.stall_to_free_ms) {
            (Some(e), _) => format!("; {e}"),
            (None, Some(ms)) => format!("; freed {ms} ms after its last byte"),
            _ => String::new(),
        };
        // `fixed (reader-thread)` in one column keeps the row, up to its detail, within 79
        // columns, so an 80-column terminal wraps only the detail, never the table.
        let kind = format!("{} ({})", <&str>::from(c.role), c.strategy);
        writeln!(
            out,
            "client {:>3} {kind:<21} {:<9} sent {:>10}, verified {:>10}{detail}",
            c.index,
            <&str>::from(c.outcome),
            human(c.sent_bytes),
            human(c.verified_bytes)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "fixed clients: {} of {} completed with the echo verified",
        r.fixed_ok, r.fixed_total
    )?;
    writeln!(
        out,
        "deadlocking clients: {} of {} freed by the server within --idle-timeout {} ms + {} ms ({})",
        r.deadlocking_ok,
        r.deadlocking_total,
        r.idle_timeout_ms,
        FREE_SLACK.as_millis(),
        r.max_stall_to_free_ms
            .map_or("none was freed".to_string(), |m| format!(
                "longest: {m} ms after the last byte"
            ))
    )?;
    if let Some(s) = &r.server {
        writeln!(
            out,
            "server memory (VmRSS): {} before, {} at the peak, {} after ({} growth; tolerance {})",
            human(s.before.rss_bytes),
            human(s.peak.rss_bytes),
            human(s.after.rss_bytes),
            human_signed(s.rss_growth_bytes),
            human(s.rss_tolerance_bytes)
        )?;
        writeln!(
            out,
            "server threads: {} before, {} at the peak, {} after",
            s.before.threads, s.peak.threads, s.after.threads
        )?;
    }
    writeln!(
        out,
        "round {} in {:.1} s",
        match (r.interrupted, r.ok) {
            (true, _) => "interrupted",
            (false, true) => "passed",
            (false, false) => "failed",
        },
        r.elapsed_ms as f64 / 1000.0
    )
}

/// Why a load test did not start, in one line with the next thing to try.
pub fn not_ready_line(n: &crate::classroom::load::NotReady) -> String {
    use crate::classroom::load::NotReady;
    match n {
        NotReady::NothingListens { addr } => format!(
            "nothing listens on {addr}: start the server first (tcplab server {} -p {}), or leave out --port and tcplab load starts one itself",
            addr.ip(),
            addr.port()
        ),
        NotReady::NoSuchProcess { pid } => format!(
            "--server-pid {pid}: there is no process {pid}; give the pid of the server that listens on the port (pgrep -f 'tcplab server'), or leave --server-pid out"
        ),
        NotReady::NotTheServer {
            pid,
            name,
            addr,
            holders,
        } => {
            let name = name
                .as_deref()
                .map(|n| format!(" ({})", super::outside::text(n)))
                .unwrap_or_default();
            let hint = match holders.as_slice() {
                [] => "give the pid of the process that listens there, or leave --server-pid out"
                    .to_string(),
                [one] => format!("the socket is held by process {one}: try --server-pid {one}"),
                many => format!(
                    "the socket is held by processes {}: give the one that serves",
                    many.iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!(
                "--server-pid {pid}{name} does not hold the socket listening on {addr}, so its memory and threads say nothing about the server; {hint}"
            )
        }
    }
}
