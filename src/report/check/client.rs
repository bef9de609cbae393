//! The wording of `check client`: the verdict on each run of a student's client, with who waits
//! where, the kernel's evidence, the ledger and the fix to try; the ladder's table.

use std::io::{self, Write};

use super::{
    Block, how_it_ended, markdown_title, output_blocks, secs, size, write_blocks, write_settings,
    write_svg_link,
};
use crate::check::{ClientDoc, ClientRun, Hang, Outcome, Shortfall, shell_words};
use crate::report::human;
use crate::report::ledger::{evidence_text, write_ledger};
use crate::report::watch::thread_line;
use crate::sample::Side;

/// The advice for a client that deadlocks.
const FIX_DEADLOCK: &str = "Fix to try: read while you send. A second thread that calls recv() \
    while the first one sends (threaded_client.py, which 'tcplab files DIR' writes), or one loop that waits \
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

/// Said while the default size is measured, for stderr.
pub fn deriving_line() -> String {
    "tcplab check client: measuring how much this machine's default buffers hold (about a second)…"
        .into()
}

/// Where the default size came from, for the report.
fn derived_text(d: &crate::check::size::Derived) -> String {
    format!(
        "  {{bytes}} = {}: twice the {} that tcplab's own naive client got through before it deadlocked on this machine with the default buffers, so a client that reads only after it sent everything deadlocks here too",
        human(d.bytes),
        human(d.stall_bytes)
    )
}

/// What a client check is about to do, for stderr.
pub fn client_intro(command: &[String], ladder: bool, sizes: &[u64], addr: &str) -> String {
    let sizes = match (ladder, sizes) {
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
        shell_words(command)
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
        Outcome::Interrupted => b.push(Block::Para(format!(
            "INTERRUPTED: stopped by {} after the client had sent {}{of}.",
            crate::interrupt::signal_name(),
            human(sent)
        ))),
        _ => b.push(Block::Para(shortfall_text(r))),
    }
    if r.outcome != Outcome::Crashed && r.outcome != Outcome::Passed {
        b.push(Block::Para(ended_text(r)));
    }
    b
}

fn hang_text(doc: &ClientDoc, r: &ClientRun) -> String {
    match &r.hang {
        Some(Hang::BothWaitInRecv) if r.server_received_bytes == 0 => "HUNG: the client connected but never sent a byte, and now waits in recv() for an echo of nothing; tcplab's server waits in recv() for its bytes. Send the data (sendall) before you read.".to_string(),
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
        Some(Hang::Stopped { ms }) => format!(
            "HUNG: the client is stopped (Ctrl-Z or SIGSTOP: the kernel shows its threads in state T) and has been for {}. Nothing is deadlocked; it simply does not run. Continue it (fg, or kill -CONT) or run it again.",
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
        Some(Shortfall::ResetUnread {
            received_bytes,
            expected_bytes,
        }) => format!(
            "FAILED: the client exited 0, but tcplab's server received only {} of {}: the client closed its socket while echo still waited unread in it, so Linux sent a reset instead of a FIN (tcp(7)), and the reset threw away what was still on its way to tcplab's server. Read the echo to the end (until recv() returns 0) before you close.",
            size(*received_bytes),
            size(*expected_bytes)
        ),
        Some(Shortfall::EchoUnread {
            read_bytes: Some(read),
            unread_bytes: Some(unread),
            reset,
        }) => format!(
            "FAILED: the client exited 0, but it read only {} of the {} tcplab's server echoed back: it closed its socket with {} still unread in it{}. Read the echo to the end (until recv() returns 0) before you close.",
            human(*read),
            human(r.server_echoed_bytes),
            human(*unread),
            if *reset {
                ", so Linux sent a reset instead of a FIN (tcp(7))"
            } else {
                ""
            }
        ),
        Some(Shortfall::EchoUnread { .. }) => "FAILED: the client exited 0, but it closed its socket with echo still unread in it: Linux sent tcplab's server a reset instead of a FIN (tcp(7)). Read the echo to the end (until recv() returns 0) before you close.".into(),
        Some(Shortfall::NothingSent { expected_bytes }) => format!(
            "FAILED: the client connected and exited 0 without sending a byte ({{bytes}} was {}). Does it send anything at all?",
            size(*expected_bytes)
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
    format!(
        "What tcplab did: shut its server's side down and {how}; {}.",
        super::left_running(&r.process, None)
    )
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
        let ledger = crate::report::captured(|o| write_ledger(l, o));
        b.push(Block::Pre(ledger.lines().map(str::to_owned).collect()));
    }
    b
}

impl crate::report::export::Document for ClientDoc {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        write_client(self, &mut &mut *out)
    }
}

/// The text report of a client check.
pub fn write_client(doc: &ClientDoc, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "tcplab check client: {}", shell_words(&doc.command))?;
    if let Some(r) = doc.runs.last() {
        writeln!(out, "  ran: {}", shell_words(&r.command))?;
    }
    if let Some(d) = &doc.derived_size {
        writeln!(out, "{}", derived_text(d))?;
    }
    writeln!(out)?;
    write_blocks(&client_blocks(doc), false, out)
}

/// The Markdown lab report of a client check; `svg` names the timeline drawn beside it.
pub fn write_client_markdown(
    doc: &ClientDoc,
    svg: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    markdown_title("client", &doc.command, out)?;
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
    write_blocks(&client_blocks(doc), true, out)?;
    if let Some(r) = doc.runs.last()
        && r.outcome != Outcome::Crashed
    {
        write_blocks(&output_blocks(&r.process, true), true, out)?;
    }
    write_svg_link(svg, out)
}
