//! What `tcplab check` says: the verdict on a student's client or server with its evidence — who
//! waits in which call, the kernel's facts, the ledger, the last lines a crashed program wrote —
//! and the fix to try. One wording, built as blocks, drawn two ways: text for the terminal and a
//! Markdown lab report (`--report FILE.md`, with the timeline SVG beside it).

use std::io::{self, Write};

use super::human;
use super::ledger::{evidence_text, write_ledger};
use super::watch::thread_line;
use crate::check::client::{ClientRun, Hang, Shortfall};
use crate::check::server::{Problem, ServerStep};
use crate::check::{ClientDoc, Outcome, ProcessEnd, ServerDoc, how_it_ended, shell_words};
use crate::payload::MESSAGE;
use crate::sample::Side;

/// A piece of the report.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    Heading(String),
    Para(String),
    List(Vec<String>),
    /// Preformatted lines (ledger, program output).
    Pre(Vec<String>),
    /// A table: header, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// A size with its exact byte count: `1 MiB (1048576 bytes)`, or `176 bytes`.
fn size(b: u64) -> String {
    if b < 1024 {
        format!("{b} bytes")
    } else {
        format!("{} ({b} bytes)", human(b))
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// The advice for a client that deadlocks.
const FIX_DEADLOCK: &str = "Fix to try: read while you send. A second thread that calls recv() \
    while the first one sends (experiments/solutions/threaded_client.py), or one loop that waits \
    for 'readable' and 'writable' together (selectors, poll: selectors_client.py), keeps the echo \
    draining, so the server never stops reading.";

const FIX_HALFCLOSE: &str = "Fix to try: after your last send(), call shutdown(SHUT_WR) (Python: \
    sock.shutdown(socket.SHUT_WR)). The server reads until end of stream, and only that tells it \
    there is no more; close() would not do, because you still have to read the echo.";

/// A line for stderr as each run of a client check ends: `  1 MiB  passed  0.4 s`.
pub fn client_run_line(r: &ClientRun) -> String {
    let what = r.bytes.map_or("the run".to_string(), human);
    format!(
        "  {what:>9}  {:<10}  {}",
        r.outcome.name(),
        secs(r.elapsed_ms)
    )
}

/// A line for stderr as each step of a server check ends.
pub fn server_step_line(s: &ServerStep) -> String {
    format!(
        "  {:<13} {:>9}  {:<10}  {}",
        s.strategy.as_str(),
        human(s.bytes),
        s.outcome.name(),
        secs(s.result.timings.elapsed_ms)
    )
}

/// What a client check is about to do, for stderr.
pub fn client_intro(doc: &ClientDoc, addr: &str) -> String {
    let sizes = match (doc.ladder, doc.sizes_bytes.as_slice()) {
        (true, s) => format!(
            ", {{bytes}} from {} up to {}",
            human(s[0]),
            human(*s.last().unwrap_or(&0))
        ),
        (false, [b]) => format!(", {{bytes}} = {}", human(*b)),
        _ => String::new(),
    };
    format!(
        "tcplab check client: {} against tcplab's echo server on {addr}{sizes}",
        shell_words(&doc.command)
    )
}

fn client_blocks(doc: &ClientDoc) -> Vec<Block> {
    let mut b = Vec::new();
    if doc.ladder {
        let rows = doc
            .runs
            .iter()
            .map(|r| {
                vec![
                    r.bytes.map_or("-".into(), human),
                    r.outcome.name().to_string(),
                    secs(r.elapsed_ms),
                ]
            })
            .collect();
        b.push(Block::Table(
            vec!["{bytes}".into(), "verdict".into(), "time".into()],
            rows,
        ));
        match doc.first_failure_bytes {
            Some(at) => b.push(Block::Para(format!(
                "The first size at which the client did not pass: {}. It passed at every smaller size.",
                size(at)
            ))),
            None => b.push(Block::Para(format!(
                "The client passed at every size up to {}.",
                size(*doc.sizes_bytes.last().unwrap_or(&0))
            ))),
        }
    }
    if let Some(r) = doc.runs.last() {
        b.extend(client_run_blocks(doc, r));
    }
    b
}

/// The verdict on one client run, with its evidence.
fn client_run_blocks(doc: &ClientDoc, r: &ClientRun) -> Vec<Block> {
    let mut b = Vec::new();
    let sent = r.counts.client_sent_bytes;
    let of = r
        .bytes
        .map(|n| format!(" of {}", human(n)))
        .unwrap_or_default();
    match r.outcome {
        Outcome::Passed => b.push(Block::Para(match r.bytes {
            Some(n) => format!(
                "PASSED: tcplab's server received and echoed exactly {}, and the client exited 0 after {}.",
                size(n),
                secs(r.process.ran_ms)
            ),
            None => format!(
                "PASSED: the client sent {} (the command has no {{bytes}}, so any count passes), tcplab's server echoed all of it, and the client exited 0 after {}.",
                size(r.server_received_bytes),
                secs(r.process.ran_ms)
            ),
        })),
        Outcome::Deadlocked => {
            let v = r.verdict.as_ref();
            let quiet = v.map_or(0, |v| v.verdict_ms.saturating_sub(v.last_progress_ms));
            b.push(Block::Para(format!(
                "DEADLOCKED after the client had sent {}{of} and read {} of the echo: nothing could move any more ({quiet} ms after the last byte moved).",
                human(sent),
                human(r.counts.client_received_bytes)
            )));
            b.extend(evidence_blocks(r));
            b.push(Block::Para(FIX_DEADLOCK.into()));
        }
        Outcome::Hung => {
            b.push(Block::Para(hang_text(doc, r)));
            if matches!(r.hang, Some(Hang::BothWaitInRecv | Hang::Silent { .. })) {
                b.extend(evidence_blocks(r));
            }
            if r.hang == Some(Hang::BothWaitInRecv) {
                b.push(Block::Para(FIX_HALFCLOSE.into()));
            }
        }
        Outcome::Crashed => {
            b.push(Block::Para(format!(
                "CRASHED: the client {} after {}; tcplab's server had received {}{of} and echoed {}.",
                how_it_ended(&r.process),
                secs(r.process.ran_ms),
                human(r.server_received_bytes),
                human(r.server_echoed_bytes)
            )));
            b.extend(output_blocks(&r.process, true));
        }
        Outcome::Failed => b.push(Block::Para(shortfall_text(r))),
        Outcome::Interrupted => b.push(Block::Para(format!(
            "INTERRUPTED: stopped by {} after the client had sent {}{of}.",
            crate::interrupt::signal_name(),
            human(sent)
        ))),
    }
    if r.outcome != Outcome::Crashed && r.outcome != Outcome::Passed {
        b.push(Block::Para(ended_text(r)));
    }
    b
}

fn hang_text(doc: &ClientDoc, r: &ClientRun) -> String {
    match &r.hang {
        Some(Hang::BothWaitInRecv) => format!(
            "HUNG: both sides wait in recv() and nothing is in flight. tcplab's server has echoed all {} it received and waits for more or for end of stream; the client waits for echo that cannot come. Did the client forget shutdown(SHUT_WR) after its last send?",
            human(r.server_received_bytes)
        ),
        Some(Hang::Silent { ms }) => format!(
            "HUNG: no byte moved for {ms} ms (--stall-after {}), and the kernel shows no deadlock. The client had sent {} and read {}.",
            secs(doc.stall_after_ms),
            human(r.counts.client_sent_bytes),
            human(r.counts.client_received_bytes)
        ),
        Some(Hang::NeverConnected { ms }) => format!(
            "HUNG: the client never connected within {} (--stall-after). Does it take the host and port from the command line? Use {{host}} and {{port}} in the command.",
            secs(*ms)
        ),
        Some(Hang::KeptRunning { ms }) => format!(
            "HUNG: the connection was over (tcplab's server received {} and echoed {}), but the client kept running for {} more. What does it wait for after the echo?",
            human(r.server_received_bytes),
            human(r.server_echoed_bytes),
            secs(*ms)
        ),
        Some(Hang::TimedOut { ms }) => format!(
            "HUNG: the client was still running after {} (--timeout), having sent {}.",
            secs(*ms),
            human(r.counts.client_sent_bytes)
        ),
        None => "HUNG.".into(),
    }
}

fn shortfall_text(r: &ClientRun) -> String {
    match &r.shortfall {
        Some(Shortfall::WrongCount {
            received_bytes,
            expected_bytes,
        }) => format!(
            "FAILED: the client exited 0, but tcplab's server received {} where {{bytes}} was {}. Send exactly the number of bytes you are asked for.",
            size(*received_bytes),
            size(*expected_bytes)
        ),
        Some(Shortfall::ClosedEarly { echoed_bytes }) => format!(
            "FAILED: the client exited 0, but closed the connection while tcplab's server was still echoing ({} of {} written back). Read until recv() returns 0 (the server closed) before you close.",
            human(*echoed_bytes),
            human(r.server_received_bytes)
        ),
        None => "FAILED.".into(),
    }
}

/// What tcplab did to end a run it ended.
fn ended_text(r: &ClientRun) -> String {
    let how = match &r.process.stopped_with {
        Some(sig) => format!("stopped the client with {sig}"),
        None => format!(
            "found the client already ended ({})",
            how_it_ended(&r.process)
        ),
    };
    format!("What tcplab did: shut its server's side down and {how}; nothing is left running.")
}

/// Who waits in which call, the kernel's facts, and the ledger.
fn evidence_blocks(r: &ClientRun) -> Vec<Block> {
    let mut b = Vec::new();
    if !r.threads.is_empty() {
        b.push(Block::Heading("Who waits, and where".into()));
        let mut lines = Vec::new();
        for (side, name) in [(Side::Client, "client"), (Side::Server, "server")] {
            for t in r.threads.iter().filter(|t| t.side == side) {
                lines.push(format!("{name}: {}", thread_line(t)));
            }
        }
        b.push(Block::List(lines));
    }
    if let Some(v) = &r.verdict {
        b.push(Block::Heading("Evidence, from the kernel".into()));
        b.push(Block::List(v.evidence.iter().map(evidence_text).collect()));
    }
    if let Some(l) = &r.ledger {
        b.push(Block::Heading("Where every byte is".into()));
        b.push(Block::Para(
            "The programs' counters come from the kernel's: what a program wrote = bytes acknowledged + its send queue; what it read = bytes received − its receive queue.".into(),
        ));
        let mut v = Vec::new();
        let _ = write_ledger(l, &mut v);
        b.push(Block::Pre(
            String::from_utf8_lossy(&v)
                .lines()
                .map(str::to_owned)
                .collect(),
        ));
    }
    b
}

/// The program's last lines (stderr always, stdout when asked).
fn output_blocks(p: &ProcessEnd, stdout: bool) -> Vec<Block> {
    let mut b = Vec::new();
    if !p.stderr_tail.is_empty() {
        b.push(Block::Heading("Its last lines on stderr".into()));
        b.push(Block::Pre(p.stderr_tail.clone()));
    }
    if stdout && !p.stdout_tail.is_empty() {
        b.push(Block::Heading("Its last lines on stdout".into()));
        b.push(Block::Pre(p.stdout_tail.clone()));
    }
    b
}

fn server_blocks(doc: &ServerDoc) -> Vec<Block> {
    let mut b = vec![Block::Table(
        vec![
            "tcplab's client".into(),
            "bytes".into(),
            "verdict".into(),
            "time".into(),
        ],
        doc.steps
            .iter()
            .map(|s| {
                vec![
                    s.strategy.as_str().to_string(),
                    human(s.bytes),
                    s.outcome.name().to_string(),
                    secs(s.result.timings.elapsed_ms),
                ]
            })
            .collect(),
    )];
    let last = doc.steps.last();
    match (doc.outcome, last) {
        (Outcome::Passed, _) => b.push(Block::Para(format!(
            "PASSED: every echo came back uppercased, byte for byte, up to {}, and the server closed each connection after its echo.",
            size(last.map_or(0, |s| s.bytes))
        ))),
        (_, Some(s)) => {
            b.push(Block::Para(step_verdict(doc, s)));
            if doc.outcome == Outcome::Crashed {
                b.extend(output_blocks(&doc.server_process, false));
            }
        }
        (o, None) => b.push(Block::Para(format!("{}.", o.name().to_uppercase()))),
    }
    let end = match &doc.server_process.stopped_with {
        Some(sig) => format!("tcplab stopped the server with {sig} at the end"),
        None => format!("the server {} by itself", how_it_ended(&doc.server_process)),
    };
    b.push(Block::Para(format!("{end}; nothing is left running.")));
    b
}

fn step_verdict(doc: &ServerDoc, s: &ServerStep) -> String {
    let with = format!(
        "with tcplab's {} client at {}",
        s.strategy.as_str(),
        human(s.bytes)
    );
    let word = doc.outcome.name().to_uppercase();
    if doc.outcome == Outcome::Crashed {
        return format!(
            "CRASHED {with}: the server {} during the run.",
            how_it_ended(&doc.server_process)
        );
    }
    let what = match &s.problem {
        Some(Problem::WrongByte { at_byte, said }) => {
            let want = MESSAGE[(*at_byte % MESSAGE.len() as u64) as usize].to_ascii_uppercase();
            let quote = said
                .as_ref()
                .map(|t| {
                    format!(
                        " The echo began '{}'.",
                        t.chars().take(48).collect::<String>()
                    )
                })
                .unwrap_or_default();
            format!(
                "the echo differs from the uppercased input at byte {at_byte} (the first wrong byte; '{}' was expected there).{quote} Every ASCII letter must come back uppercased, every other byte unchanged.",
                want as char
            )
        }
        Some(Problem::Missing {
            received_bytes,
            expected_bytes,
        }) => format!(
            "the echo ended after {received_bytes} of {expected_bytes} bytes: the last {} never came back before the server closed. Send every block back before you close.",
            size(expected_bytes.saturating_sub(*received_bytes))
        ),
        Some(Problem::NeverCloses { ms }) => format!(
            "every byte came back, but the server never closed the connection: tcplab's client still waited for end of stream {ms} ms later. Close the connection (or shutdown(SHUT_WR)) once recv() returns 0."
        ),
        Some(Problem::Stalled {
            ms,
            received_bytes,
            expected_bytes,
        }) => format!(
            "nothing moved for {ms} ms with {} of {} echoed back. Does the server stop reading while it writes, or wait for more than it was sent?",
            human(*received_bytes),
            human(*expected_bytes)
        ),
        Some(Problem::Connection { failure }) => super::text::failure_text(failure),
        Some(Problem::TimedOut { ms }) => {
            format!("the run was still going after {ms} ms (--timeout).")
        }
        None => String::new(),
    };
    let smaller = doc.steps.len() > 1;
    let note = if smaller {
        " It passed every smaller run before this one."
    } else {
        ""
    };
    format!("{word} {with}: {what}{note}")
}

/// The text report of a client check.
pub fn write_client(doc: &ClientDoc, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "tcplab check client: {}", shell_words(&doc.command))?;
    if let Some(r) = doc.runs.last() {
        writeln!(out, "  ran: {}", shell_words(&r.command))?;
    }
    writeln!(out)?;
    write_text(&client_blocks(doc), out)
}

/// The text report of a server check.
pub fn write_server(doc: &ServerDoc, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "tcplab check server: {}", shell_words(&doc.command))?;
    writeln!(
        out,
        "  ran: {}\n  it listened on {} after {} ms\n",
        shell_words(&doc.command_run),
        doc.addr,
        doc.listening_after_ms
    )?;
    write_text(&server_blocks(doc), out)
}

fn write_text(blocks: &[Block], out: &mut impl Write) -> io::Result<()> {
    for b in blocks {
        match b {
            Block::Heading(h) => writeln!(out, "{h}:")?,
            Block::Para(p) => writeln!(out, "{p}\n")?,
            Block::List(items) => {
                for i in items {
                    writeln!(out, "  - {i}")?;
                }
                writeln!(out)?;
            }
            Block::Pre(lines) => {
                for l in lines {
                    writeln!(out, "  | {l}")?;
                }
                writeln!(out)?;
            }
            Block::Table(head, rows) => {
                let widths: Vec<usize> = (0..head.len())
                    .map(|i| {
                        rows.iter()
                            .map(|r| r[i].chars().count())
                            .chain([head[i].chars().count()])
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                for row in std::iter::once(head).chain(rows) {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .map(|(c, w)| format!("{c:<w$}"))
                        .collect();
                    writeln!(out, "  {}", cells.join("  ").trim_end())?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// The Markdown lab report of a client check; `svg` names the timeline drawn beside it.
pub fn write_client_markdown(
    doc: &ClientDoc,
    svg: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    let program = doc
        .command
        .get(1)
        .or(doc.command.first())
        .cloned()
        .unwrap_or_default();
    writeln!(out, "# tcplab check client: {program}\n")?;
    let mut settings = vec![(
        "command".to_string(),
        format!("`{}`", shell_words(&doc.command)),
    )];
    if let Some(r) = doc.runs.last() {
        settings.push(("run as".into(), format!("`{}`", shell_words(&r.command))));
    }
    settings.push((
        "server".into(),
        "tcplab's reference echo server (recv() up to 1 KiB, uppercase, send it all back)".into(),
    ));
    let sizes = if !doc.has_bytes {
        "none: the command has no {bytes}".to_string()
    } else if doc.ladder {
        doc.sizes_bytes
            .iter()
            .map(|b| human(*b))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        size(doc.sizes_bytes[0])
    };
    settings.push(("{bytes}".into(), sizes));
    settings.push(("--stall-after".into(), secs(doc.stall_after_ms)));
    settings.push(("--timeout".into(), secs(doc.timeout_ms)));
    settings.push(("verdict".into(), format!("**{}**", doc.outcome.name())));
    write_settings(&settings, out)?;
    writeln!(out, "## Verdict\n")?;
    write_markdown(&client_blocks(doc), out)?;
    if let Some(r) = doc.runs.last()
        && r.outcome != Outcome::Crashed
    {
        write_markdown(&output_blocks(&r.process, true), out)?;
    }
    write_svg_link(svg, out)
}

/// The Markdown lab report of a server check.
pub fn write_server_markdown(
    doc: &ServerDoc,
    svg: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    let program = doc
        .command
        .get(1)
        .or(doc.command.first())
        .cloned()
        .unwrap_or_default();
    writeln!(out, "# tcplab check server: {program}\n")?;
    let settings = vec![
        ("command".to_string(), format!("`{}`", shell_words(&doc.command))),
        ("run as".into(), format!("`{}`", shell_words(&doc.command_run))),
        (
            "listened".into(),
            format!("on {} after {} ms", doc.addr, doc.listening_after_ms),
        ),
        (
            "clients".into(),
            "tcplab's naive client, then its reader-thread client at growing sizes; 16-byte writes of 'capitalize this!'".into(),
        ),
        ("verdict".into(), format!("**{}**", doc.outcome.name())),
    ];
    write_settings(&settings, out)?;
    writeln!(out, "## Verdict\n")?;
    write_markdown(&server_blocks(doc), out)?;
    write_svg_link(svg, out)
}

fn write_settings(rows: &[(String, String)], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| setting | value |\n|---|---|")?;
    for (k, v) in rows {
        writeln!(
            out,
            "| {} | {} |",
            k.replace('|', "\\|"),
            v.replace('|', "\\|")
        )?;
    }
    writeln!(out)
}

fn write_svg_link(svg: Option<&str>, out: &mut impl Write) -> io::Result<()> {
    if let Some(name) = svg {
        writeln!(
            out,
            "## Timeline\n\nThe four queues and the programs' counters over time, sampled from the kernel.\n\n![timeline]({name})"
        )?;
    }
    Ok(())
}

fn write_markdown(blocks: &[Block], out: &mut impl Write) -> io::Result<()> {
    for b in blocks {
        match b {
            Block::Heading(h) => writeln!(out, "### {h}\n")?,
            Block::Para(p) => writeln!(out, "{p}\n")?,
            Block::List(items) => {
                for i in items {
                    writeln!(out, "- {i}")?;
                }
                writeln!(out)?;
            }
            Block::Pre(lines) => writeln!(out, "```text\n{}\n```\n", lines.join("\n"))?,
            Block::Table(head, rows) => {
                writeln!(out, "| {} |", head.join(" | "))?;
                writeln!(out, "|{}", "---|".repeat(head.len()))?;
                for r in rows {
                    writeln!(out, "| {} |", r.join(" | "))?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
