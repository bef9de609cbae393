//! The terminal summary of a run: settings, requested vs effective buffer sizes, the verdict and
//! its evidence, the ledger as a small diagram, and what to try next. Sizes through humansize.

use std::io::{self, Write};

use super::ledger::{evidence_text, row, write_ledger};
use crate::report::{human, human_rate};
use crate::result::{
    BufferSize, Failure, IoFailure, Mode, Outcome, RunResult, ShortSends, Stage, StallBasis,
    StrategyName,
};

pub fn write_run(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let s = &r.settings;
    writeln!(
        out,
        "tcplab {} · strategy {} · {} in {} writes · reads of up to {} · server {}",
        s.mode.name(),
        s.strategy.as_str(),
        human(s.bytes_total),
        human(s.chunk_bytes),
        human(s.read_bytes),
        s.server_addr
    )?;
    if s.bytes_requested > 0 && s.bytes_requested != s.bytes_total {
        writeln!(
            out,
            "(--bytes {} was rounded up to whole {} writes: {}.)",
            human(s.bytes_requested),
            human(s.chunk_bytes),
            human(s.bytes_total)
        )?;
    }
    write_buffers(r, out)?;
    writeln!(out)?;
    match r.outcome {
        Outcome::Completed => write_completed(r, out)?,
        Outcome::Deadlock => write_deadlock(r, out)?,
        Outcome::Interrupted => {
            writeln!(
                out,
                "INTERRUPTED ({}); both sockets were shut down. What had moved:",
                crate::interrupt::signal_name()
            )?;
            write_counts(r, out)?;
        }
        _ => {
            let why = r
                .failure
                .as_ref()
                .map_or_else(|| "the run did not complete".to_string(), failure_text);
            writeln!(out, "FAILED: {why}")?;
            write_counts(r, out)?;
        }
    }
    Ok(())
}

/// The width of a buffer cell in the two-column layout: `  client  ` + 34 + 2 + 34 = 80 columns.
const CELL: usize = 34;

fn write_buffers(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "\nBuffers (asked → kernel kept):")?;
    let mut any_auto = false;
    let mut doubled = false;
    let mut clamps = Vec::new();
    let mut floors = Vec::new();
    let mut rows = Vec::new();
    for b in &r.buffers {
        let mut cell = |name: &str, size: &BufferSize, sysctl: &str| {
            any_auto |= size.requested_bytes.is_none();
            if let Some(req) = size.requested_bytes {
                let twice = crate::sock::KERNEL_DOUBLES * req;
                if size.clamped_to_bytes.is_none() && size.effective_bytes > twice {
                    floors.push(format!(
                        "the {} {name} request of {} is below Linux's smallest buffer: the kernel keeps {} instead",
                        b.role.name(),
                        human(req),
                        human(size.effective_bytes)
                    ));
                } else if size.effective_bytes == twice {
                    doubled = true;
                }
            }
            if let Some(max) = size.clamped_to_bytes {
                clamps.push(format!(
                    "the {} {name} request of {} was clamped to {sysctl} = {}",
                    b.role.name(),
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
        rows.push((b.role.name(), snd, rcv));
    }
    // Two columns when every cell fits its column, so a row stays within 80 columns; otherwise
    // (autotuned sizes that moved say where they started and ended) one line per buffer, so two
    // long cells never run together or wrap into each other.
    let fits = rows
        .iter()
        .all(|(_, snd, rcv)| snd.chars().count() <= CELL && rcv.chars().count() <= CELL);
    for (role, snd, rcv) in &rows {
        if fits {
            writeln!(out, "  {role:<7} {snd:<CELL$}  {rcv}")?;
        } else {
            writeln!(out, "  {role:<7} {snd}")?;
            writeln!(out, "  {role:<7} {rcv}")?;
        }
    }
    if doubled {
        writeln!(
            out,
            "  Linux doubles each request (socket(7)): the extra half pays for its bookkeeping."
        )?;
    }
    for f in floors {
        writeln!(out, "  Note: {f}.")?;
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
        "COMPLETED in {secs:.2} s: {} sent, {} came back ({rate} on average over the run).",
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
    write_why_no_deadlock(r, out)
}

/// What kept a completed run from deadlocking, with the highest each queue reached.
fn write_why_no_deadlock(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let p = &r.peaks;
    let cap = |role: crate::result::Side, snd: bool| {
        r.buffers.iter().find(|b| b.role == role).map(|b| {
            if snd {
                b.sndbuf.final_bytes
            } else {
                b.rcvbuf.final_bytes
            }
        })
    };
    let peak = |bytes: u64, of: Option<u64>| match of {
        Some(c) if c > 0 => format!("{} of {}", human(bytes), human(c)),
        _ => human(bytes),
    };
    use crate::result::Side::{Client, Server};
    let client_recv = peak(p.client_recv_queue_bytes, cap(Client, false));
    let why = match r.settings.strategy {
        StrategyName::ReaderThread => format!(
            "a second thread read the echo while the first one sent, so the client's receive queue \
             never stayed full (its highest: {client_recv}) and the server's send() never had to \
             wait for ever."
        ),
        StrategyName::Poll => format!(
            "one thread read whenever the echo arrived and wrote whenever there was room, so the \
             client's receive queue always drained (its highest: {client_recv}) and the server's \
             send() never had to wait for ever."
        ),
        s if !crate::client::for_name(s).reads_while_sending() => format!(
            "all {} fit in the four buffers before the client had to read, so nobody waited for \
             ever; send more than the buffers hold and this client deadlocks.",
            human(r.counts.client_sent_bytes)
        ),
        _ => format!(
            "the client read the echo while it sent, so its receive queue kept draining (its \
             highest: {client_recv}) and the server's send() never had to wait for ever."
        ),
    };
    writeln!(out, "\nWhy it never deadlocked: {why}")?;
    if r.settings.mode == Mode::Deadlock {
        writeln!(
            out,
            "The queues at their highest: client send queue {}, server receive queue {}, server send queue {}, client receive queue {}.",
            peak(p.client_send_queue_bytes, cap(Client, true)),
            peak(p.server_recv_queue_bytes, cap(Server, false)),
            peak(p.server_send_queue_bytes, cap(Server, true)),
            client_recv
        )?;
    }
    Ok(())
}

/// What happened, in order, for a run whose events were not shown live.
pub fn write_events(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    if r.events.is_empty() {
        return Ok(());
    }
    writeln!(out, "What happened, in the order the kernel showed it:")?;
    for e in &r.events {
        writeln!(out, "{}", super::narration::event_line(e))?;
    }
    Ok(())
}

fn write_short_sends(ss: &ShortSends, r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "  send() was called {}: {} accepted the whole chunk, {} accepted part of it, {} accepted nothing (EAGAIN).",
        super::human::count(ss.calls, "time"),
        ss.full,
        ss.partial,
        ss.refused
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
    let alone = r.settings.mode == Mode::Client;
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
        write_client_half(r, q, out)?;
    }
    writeln!(
        out,
        "\nThe watchdog ended it by shutting {} down; every blocked call returned and every thread was joined.",
        if alone { "the socket" } else { "both sockets" }
    )?;
    if r.settings.strategy == StrategyName::Naive {
        writeln!(
            out,
            "Next: the same run with --strategy reader-thread or --strategy poll reads while it sends, and completes."
        )?;
    }
    writeln!(
        out,
        "'tcplab {}' exits with code 3: a deadlock was detected, as this run sets out to show ('tcplab --help' lists every code).",
        r.settings.mode.name()
    )?;
    Ok(())
}

/// The client's half of the ledger, for `tcplab client` (the server is in its own process).
fn write_client_half(
    r: &RunResult,
    q: &crate::result::KernelQueues,
    out: &mut impl Write,
) -> io::Result<()> {
    let c = &r.counts;
    let app = |bytes| Stage {
        bytes,
        capacity_bytes: None,
    };
    row(out, "client app sent", app(c.client_sent_bytes), "")?;
    let unsent = format!("  ({} unsent)", human(q.notsent_bytes));
    let send_queue = Stage {
        bytes: q.outq_bytes,
        capacity_bytes: Some(q.sndbuf_bytes),
    };
    row(out, "↓ client send queue", send_queue, &unsent)?;
    writeln!(
        out,
        "  ⋯ the server's receive queue, app and send queue are out of sight"
    )?;
    let recv_queue = Stage {
        bytes: q.inq_bytes,
        capacity_bytes: Some(q.rcvbuf_bytes),
    };
    row(out, "↓ client receive queue", recv_queue, "")?;
    row(out, "↓ client app read", app(c.client_received_bytes), "")
}

/// A run's failure in one line, with what to try next.
pub fn failure_text(f: &Failure) -> String {
    match f {
        Failure::PeerText { text } => {
            format!(
                "the server answered with text instead of the echo: '{}'",
                super::outside::text(text)
            )
        }
        Failure::Connection {
            error,
            sent_bytes,
            total_bytes,
            received_bytes,
        } => {
            let what = match error {
                IoFailure::Reset => "the peer reset the connection".to_string(),
                IoFailure::BrokenPipe => {
                    "the peer closed the connection while this side was still sending".to_string()
                }
                IoFailure::ClosedEarly => "the peer closed the connection early".to_string(),
                IoFailure::Other { message } => format!("the connection failed: {message}"),
            };
            // A connection closed before any echo came back is most often a full classroom
            // server (--max-conns), which writes one line and closes at once.
            let hint = if *received_bytes == 0
                && matches!(error, IoFailure::Reset | IoFailure::BrokenPipe)
            {
                "is the server full (its --max-conns) or not an echo server?"
            } else {
                "is the other side running the same experiment?"
            };
            format!(
                "{what} after {sent_bytes} of {total_bytes} bytes were sent and {received_bytes} came back; {hint}"
            )
        }
        Failure::EchoDiffers { at_byte } => {
            format!("the echo differs from the uppercased input at byte {at_byte}")
        }
        Failure::EchoShort {
            received_bytes,
            expected_bytes,
        } => format!("the echo is {received_bytes} bytes where {expected_bytes} were expected"),
        Failure::PeerStalled { still_ms } => format!(
            "the server stopped: for {} its window stayed closed and nothing arrived, while this \
             client's reader waited in recv(); no deadlock of the client's, the server neither \
             reads nor sends (is it stopped, with Ctrl-Z, or stuck?)",
            super::human::secs(*still_ms)
        ),
        Failure::TimedOut { after_ms } => {
            format!("no end within {after_ms} ms (--timeout); both sockets were shut down")
        }
    }
}

fn write_counts(r: &RunResult, out: &mut impl Write) -> io::Result<()> {
    let c = &r.counts;
    writeln!(
        out,
        "  client sent {}, client received {}",
        human(c.client_sent_bytes),
        human(c.client_received_bytes)
    )?;
    if r.settings.mode == Mode::Deadlock {
        writeln!(
            out,
            "  server received {}, server sent {}",
            human(c.server_received_bytes),
            human(c.server_sent_bytes)
        )?;
    }
    Ok(())
}
