//! The ledger as a small diagram: where every byte sits, stage by stage in the order the bytes
//! travel, with each direction's balance; and the watchdog's evidence, one sentence per fact.

use std::io::{self, Write};

use crate::report::{human, human_signed};
use crate::result::{Balance, Evidence, Ledger, Stage};

pub fn evidence_text(e: &Evidence) -> String {
    let kernel = |c: &Option<String>| match c {
        Some(c) => format!(" (the kernel shows the thread in {c}())"),
        None => String::new(),
    };
    // tcplab's own threads are named by the kind of call (send), another program's by the
    // system call itself (sendto, write, sendfile).
    let sending = |who: &str, c: &Option<String>, then: &str| match c.as_deref() {
        Some(name) if name != "send" => {
            format!("the {who} is blocked in {name}(), waiting for room in its send queue{then}")
        }
        _ => format!("the {who} is blocked in send(){then}{}", kernel(c)),
    };
    match e {
        Evidence::ClientBlockedInSend { kernel_call } => sending("client", kernel_call, ""),
        Evidence::ClientNotReading => "no client thread reads the echo".into(),
        Evidence::ServerNotReading => "no server thread reads what the client sent".into(),
        Evidence::ServerBlockedInSend { kernel_call } => {
            sending("server", kernel_call, ", so it no longer reads")
        }
        Evidence::WaitsNotForUnread { side, kernel_call } => format!(
            "the {} waits in {}() for something else: a wait for the bytes in its receive queue \
             would have returned at once",
            side.name(),
            kernel_call.as_deref().unwrap_or("poll")
        ),
        Evidence::ServerWaitingOnEmptyQueue => {
            "the server waits in recv() on an empty receive queue, yet the client cannot send: \
             the client's receive memory is full, so its kernel drops the server's segments and \
             the acknowledgements they carry; the client's send queue still counts bytes the \
             server has already read, and its send() waits for acknowledgements that never come"
                .into()
        }
        Evidence::UnreadEcho { bytes } => format!(
            "{} of echo wait in the client's receive queue; nobody reads them",
            human(*bytes)
        ),
        Evidence::WindowClosed { side } => format!(
            "the {} advertises a zero receive window, so the {} may not send",
            side.other().name(),
            side.name()
        ),
        Evidence::Unsent { side, bytes } => format!(
            "{} wait in the {}'s send queue, not yet sent",
            human(*bytes),
            side.name()
        ),
        Evidence::ZeroWindowProbing { side } => format!(
            "the {}'s kernel probes the peer's zero window (the persist timer is armed)",
            side.name()
        ),
        Evidence::Unread { side, bytes } => format!(
            "{} wait in the {}'s receive queue, unread",
            human(*bytes),
            side.name()
        ),
        Evidence::ThreadsNotVisible { side } => format!(
            "the {}'s threads cannot be seen; its socket's window and queues stand in for them",
            side.name()
        ),
        Evidence::WaitingInRecv { side, kernel_call } => {
            format!("the {} waits in recv(){}", side.name(), kernel(kernel_call))
        }
        Evidence::NothingInFlight => {
            "both receive queues are empty and nothing is in flight".into()
        }
        Evidence::NothingSentYet => "the client sent nothing since it connected".into(),
        Evidence::SendQueueNotDraining { bytes } => format!(
            "the server's send queue holds {} and does not drain: the client stopped reading",
            human(*bytes)
        ),
        Evidence::StillFor { ms } => format!("no counter and no kernel queue changed for {ms} ms"),
        Evidence::SilentFor { ms } => format!("no byte moved for {ms} ms"),
    }
}

/// One stage of the ledger: its name and dot leaders to column 25, then the bytes (right-aligned
/// in 11 columns, room for `1023.99 KiB`), its capacity and a note. A send queue over its capacity
/// with bytes unsent, `↓ server send queue ...  132.49 KiB of 128 KiB (104%)  (132.47 KiB unsent)`,
/// takes 77 columns, so the rows fit an 80-column terminal and are never wrapped.
pub fn row(out: &mut impl Write, name: &str, st: Stage, note: &str) -> io::Result<()> {
    let dots = ".".repeat(23usize.saturating_sub(name.chars().count()));
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
    let unsent = |b: u64| format!("  ({} unsent)", human(b));
    let (cu, su) = (
        unsent(l.client_send_queue_unsent_bytes),
        unsent(l.server_send_queue_unsent_bytes),
    );
    for (name, st, note) in [
        ("client app sent", l.client_app_sent, ""),
        ("↓ client send queue", l.client_send_queue, &cu),
        ("↓ server receive queue", l.server_recv_queue, ""),
        ("↓ server app read", l.server_app_read, ""),
        ("  server app wrote", l.server_app_written, "  (uppercased)"),
        ("↓ server send queue", l.server_send_queue, &su),
        ("↓ client receive queue", l.client_recv_queue, ""),
        ("↓ client app read", l.client_app_read, ""),
    ] {
        row(out, name, st, note)?;
    }
    let over = |st: Stage| st.capacity_bytes.is_some_and(|c| st.bytes > c);
    if over(l.client_send_queue) || over(l.server_send_queue) {
        writeln!(
            out,
            "  Why a send queue can be fuller than 100%: the kernel checks SO_SNDBUF only when it starts a new packet buffer; each small write is appended to the last buffer, which on loopback may grow to 64 KiB, so the queue can pass a small SO_SNDBUF several times over."
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
