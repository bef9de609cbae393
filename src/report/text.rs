//! The terminal summary of a run: settings, requested vs effective buffer sizes, the verdict and
//! its evidence, the ledger as a small diagram, and what to try next. Sizes through humansize.

use std::io::{self, Write};

use crate::result::{
    Balance, BufferSize, Ledger, Outcome, RunResult, ShortSends, Stage, StallBasis,
};
use crate::units::{human, human_rate, human_signed};
use crate::watchdog::Evidence;

pub fn write_run(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let s = &r.settings;
    writeln!(
        out,
        "tcplab {} · strategy {} · {} in {} writes · reads of up to {} · server {}",
        s.mode,
        s.strategy,
        human(s.bytes_total),
        human(s.chunk_bytes),
        human(s.read_bytes),
        s.server_addr
    )?;
    write_buffers(r, out)?;
    writeln!(out)?;
    match r.outcome {
        Outcome::Completed => write_completed(r, out)?,
        Outcome::Deadlock => write_deadlock(r, out)?,
        Outcome::TimedOut | Outcome::Failed => {
            writeln!(
                out,
                "FAILED: {}",
                r.error.as_deref().unwrap_or("the run did not complete")
            )?;
            write_counts(r, out)?;
        }
        Outcome::Interrupted => {
            writeln!(
                out,
                "INTERRUPTED (Ctrl-C); both sockets were shut down. What had moved:"
            )?;
            write_counts(r, out)?;
        }
    }
    Ok(())
}

fn write_buffers(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "\nBuffers (asked → kernel kept):")?;
    let mut any_auto = false;
    let mut clamps = Vec::new();
    for b in &r.buffers {
        let mut cell = |name: &str, size: &BufferSize, sysctl: &str| {
            any_auto |= size.requested_bytes.is_none();
            if let Some(max) = size.clamped_to_bytes {
                clamps.push(format!(
                    "the {} {name} request of {} was clamped to {sysctl} = {}",
                    b.role,
                    human(size.requested_bytes.unwrap_or(0)),
                    human(max)
                ));
            }
            match size.requested_bytes {
                Some(req) => format!("{name} {} → {}", human(req), human(size.effective_bytes)),
                None if size.final_bytes != size.effective_bytes => format!(
                    "{name} auto: {} at start, {} at the end",
                    human(size.effective_bytes),
                    human(size.final_bytes)
                ),
                None => format!("{name} auto: {}", human(size.effective_bytes)),
            }
        };
        let snd = cell("SO_SNDBUF", &b.sndbuf, "net.core.wmem_max");
        let rcv = cell("SO_RCVBUF", &b.rcvbuf, "net.core.rmem_max");
        writeln!(out, "  {:<7} {snd:<34} {rcv}", b.role)?;
    }
    if r.buffers
        .iter()
        .any(|b| b.sndbuf.requested_bytes.is_some() || b.rcvbuf.requested_bytes.is_some())
    {
        writeln!(
            out,
            "  Linux doubles each request (socket(7)): the extra half pays for its bookkeeping."
        )?;
    }
    if any_auto {
        writeln!(
            out,
            "  'auto' leaves a buffer to TCP's autotuning, which grows it with the traffic (net.ipv4.tcp_wmem/tcp_rmem)."
        )?;
    }
    for c in clamps {
        writeln!(out, "  Note: {c}; raise it with 'sysctl -w' to go further.")?;
    }
    if r.settings.buffers_after_connect {
        writeln!(
            out,
            "  The sizes were set after connect(): the window scale was already fixed by then."
        )?;
    }
    Ok(())
}

fn write_completed(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let secs = r.timings.elapsed_ms as f64 / 1000.0;
    let rate = human_rate(
        r.counts.client_received_bytes,
        std::time::Duration::from_millis(r.timings.elapsed_ms.max(1)),
    );
    if let Some(ss) = &r.short_sends {
        writeln!(out, "COMPLETED in {secs:.2} s, but bytes were lost:")?;
        return write_short_sends(ss, r, out);
    }
    writeln!(
        out,
        "COMPLETED in {secs:.2} s: {} sent, {} came back ({rate}).",
        human(r.counts.client_sent_bytes),
        human(r.counts.client_received_bytes)
    )?;
    if let Some(v) = r.verification.as_ref().filter(|v| v.matched) {
        writeln!(
            out,
            "The echo is the uppercased input, byte for byte ({} checked).",
            human(v.received_bytes)
        )?;
    }
    Ok(())
}

fn write_short_sends(ss: &ShortSends, r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "  send() was called {} times: {} accepted the whole chunk, {} accepted part of it, {} accepted nothing (EAGAIN).",
        ss.calls, ss.full, ss.partial, ss.refused
    )?;
    let pct = if ss.offered_bytes > 0 {
        100.0 * ss.lost_bytes as f64 / ss.offered_bytes as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "  {} of {} ({pct:.1}%) were silently never sent, because the return value was ignored.",
        human(ss.lost_bytes),
        human(ss.offered_bytes)
    )?;
    if let Some(v) = r.verification.as_ref().filter(|v| v.matched) {
        writeln!(
            out,
            "  The echo matches exactly the {} the kernel accepted; nothing else arrived.",
            human(v.received_bytes)
        )?;
    }
    writeln!(
        out,
        "A write-all loop (Python's sendall) checks each count and sends the rest; --strategy naive uses one."
    )
}

fn write_deadlock(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let Some(st) = &r.stall else { return Ok(()) };
    let alone = r.settings.mode == "client";
    let quiet_ms = st.verdict_ms.saturating_sub(st.last_progress_ms);
    let what = if alone {
        "STALLED: this side can no longer move"
    } else {
        "DEADLOCK: nothing can move any more"
    };
    writeln!(
        out,
        "{what} (verdict {:.2} s after the start, {quiet_ms} ms after the last byte moved).",
        st.verdict_ms as f64 / 1000.0
    )?;
    let basis = match st.basis {
        StallBasis::KernelEvidence => "the threads' calls and the kernel's queues",
        StallBasis::Silence => "silence (the --stall-after fallback)",
    };
    writeln!(out, "Evidence, from {basis}:")?;
    for e in &st.evidence {
        writeln!(out, "  - {}", evidence_text(e))?;
    }
    if let Some(l) = &r.ledger {
        writeln!(
            out,
            "\nWhere every byte is at the stall (app counters and the kernel's queues):"
        )?;
        write_ledger(l, out)?;
    } else if let Some(q) = &r.client_queues {
        writeln!(
            out,
            "\nThis side's half of the ledger (the server's is in its own process):"
        )?;
        let c = &r.counts;
        row(
            out,
            "client app sent",
            Stage {
                bytes: c.client_sent_bytes,
                capacity_bytes: None,
            },
            "",
        )?;
        let unsent = format!("  ({} not yet sent)", human(q.notsent_bytes));
        row(
            out,
            "↓ client send queue",
            Stage {
                bytes: q.outq_bytes,
                capacity_bytes: Some(q.sndbuf_bytes),
            },
            &unsent,
        )?;
        writeln!(
            out,
            "  ⋯ the server's receive queue, app and send queue are out of sight"
        )?;
        row(
            out,
            "↓ client receive queue",
            Stage {
                bytes: q.inq_bytes,
                capacity_bytes: Some(q.rcvbuf_bytes),
            },
            "",
        )?;
        row(
            out,
            "↓ client app read",
            Stage {
                bytes: c.client_received_bytes,
                capacity_bytes: None,
            },
            "",
        )?;
    }
    writeln!(
        out,
        "\nThe watchdog ended it by shutting {} down; every blocked call returned and every thread was joined.",
        if alone { "the socket" } else { "both sockets" }
    )?;
    if r.settings.strategy == "naive" {
        writeln!(
            out,
            "Next: the same run with --strategy reader-thread or --strategy poll reads while it sends, and completes."
        )?;
    }
    Ok(())
}

fn evidence_text(e: &Evidence) -> String {
    let kernel = |c: &Option<String>| match c {
        Some(c) => format!(" (the kernel shows the thread in {c}())"),
        None => String::new(),
    };
    match e {
        Evidence::ClientBlockedInSend { kernel_call } => {
            format!("the client is blocked in send(){}", kernel(kernel_call))
        }
        Evidence::ClientNotReading => "no client thread reads the echo".into(),
        Evidence::ServerBlockedInSend { kernel_call } => {
            format!(
                "the server is blocked in send(), so it no longer reads{}",
                kernel(kernel_call)
            )
        }
        Evidence::ServerWaitingOnEmptyQueue => {
            "the server waits in recv() on an empty receive queue".into()
        }
        Evidence::UnreadEcho { bytes } => format!(
            "{} of echo wait in the client's receive queue; nobody reads them",
            human(*bytes)
        ),
        Evidence::WindowClosed { side } => {
            let peer = if side == "client" { "server" } else { "client" };
            format!("the {peer} advertises a zero receive window, so the {side} may not send")
        }
        Evidence::Unsent { side, bytes } => format!(
            "{} wait in the {side}'s send queue, not yet sent",
            human(*bytes)
        ),
        Evidence::StillFor { ms } => format!("no counter and no kernel queue changed for {ms} ms"),
        Evidence::SilentFor { ms } => format!("no byte moved for {ms} ms"),
    }
}

fn row(out: &mut impl Write, name: &str, st: Stage, note: &str) -> io::Result<()> {
    let dots = ".".repeat(26usize.saturating_sub(name.chars().count()));
    let cap = match st.capacity_bytes {
        Some(c) if c > 0 => format!(
            " of {} ({:.0}%)",
            human(c),
            100.0 * st.bytes as f64 / c as f64
        ),
        _ => String::new(),
    };
    writeln!(out, "  {name} {dots} {:>11}{cap}{note}", human(st.bytes))
}

pub fn write_ledger(l: &Ledger, out: &mut impl Write) -> io::Result<()> {
    let unsent = |b: u64| format!("  ({} not yet sent)", human(b));
    row(out, "client app sent", l.client_app_sent, "")?;
    row(
        out,
        "↓ client send queue",
        l.client_send_queue,
        &unsent(l.client_send_queue_unsent_bytes),
    )?;
    row(out, "↓ server receive queue", l.server_recv_queue, "")?;
    row(out, "↓ server app read", l.server_app_read, "")?;
    row(
        out,
        "  server app wrote",
        l.server_app_written,
        "  (uppercased)",
    )?;
    row(
        out,
        "↓ server send queue",
        l.server_send_queue,
        &unsent(l.server_send_queue_unsent_bytes),
    )?;
    row(out, "↓ client receive queue", l.client_recv_queue, "")?;
    row(out, "↓ client app read", l.client_app_read, "")?;
    let over = |st: Stage| st.capacity_bytes.is_some_and(|c| st.bytes > c);
    if over(l.client_send_queue) || over(l.server_send_queue) {
        writeln!(
            out,
            "  (A send queue can pass SO_SNDBUF: the limit is checked when a new packet buffer starts, and small writes are appended to the last one.)"
        )?;
    }
    writeln!(out)?;
    let fwd = [
        l.client_send_queue_unsent_bytes,
        l.server_recv_queue.bytes,
        l.server_app_read.bytes,
    ];
    balance_line(
        out,
        "client → server",
        &l.forward,
        fwd,
        ["client unsent", "server queue", "server read"],
    )?;
    let bwd = [
        l.server_send_queue_unsent_bytes,
        l.client_recv_queue.bytes,
        l.client_app_read.bytes,
    ];
    balance_line(
        out,
        "server → client",
        &l.backward,
        bwd,
        ["server unsent", "client queue", "client read"],
    )
}

fn balance_line(
    out: &mut impl Write,
    dir: &str,
    b: &Balance,
    parts: [u64; 3],
    names: [&str; 3],
) -> io::Result<()> {
    let sum = names
        .iter()
        .zip(parts)
        .map(|(n, p)| format!("{n} {}", human(p)))
        .collect::<Vec<_>>()
        .join(" + ");
    writeln!(out, "  {dir}: sent {} = {sum}", human(b.sent_bytes))?;
    let verdict = match (b.holds, b.residual_bytes) {
        (true, 0) => "adds up exactly".to_string(),
        (true, r) if r < 0 => format!(
            "adds up within {}: the blocked send() had already copied that much of its write",
            human(r.unsigned_abs())
        ),
        (true, r) => format!(
            "adds up within {}: bytes in flight, sent but not yet queued at the peer",
            human(r as u64)
        ),
        (false, r) => format!(
            "does NOT add up: off by {} (allowed {} to {})",
            human_signed(r),
            human_signed(b.tolerance_low_bytes),
            human_signed(b.tolerance_high_bytes)
        ),
    };
    writeln!(out, "    {verdict}")
}

fn write_counts(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let c = &r.counts;
    writeln!(
        out,
        "  client sent {}, client received {}",
        human(c.client_sent_bytes),
        human(c.client_received_bytes)
    )?;
    if r.settings.mode == "deadlock" {
        writeln!(
            out,
            "  server received {}, server sent {}",
            human(c.server_received_bytes),
            human(c.server_sent_bytes)
        )?;
    }
    Ok(())
}
