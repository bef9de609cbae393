//! The narrator's events in words: one timed line each, as the live view prints them while they
//! happen and the summary lists them afterwards.

use crate::report::human;
use crate::result::{Event, EventKind};

/// What an event says, without its time. A replayed file's events carry strings of their own
/// (a verdict's kind and calls), shown and never obeyed by the terminal.
pub fn event_text(e: &EventKind) -> String {
    super::outside::text(&worded(e)).into_owned()
}

fn worded(e: &EventKind) -> String {
    match e {
        EventKind::EchoArrives => "the echo starts arriving in the client's receive queue".into(),
        EventKind::ClientRecvQueueFull { bytes } => format!(
            "the client's receive queue is full ({}): the client is not reading, so its window closes",
            human(*bytes)
        ),
        EventKind::ServerSendBlocks { queued_bytes } => format!(
            "the server's send() blocks: its send queue holds {} and the client's window is closed",
            human(*queued_bytes)
        ),
        EventKind::ServerStopsReading { read_bytes } => format!(
            "the server stops reading (it read {}): it waits in send() instead of calling recv()",
            human(*read_bytes)
        ),
        EventKind::ServerRecvQueueFull {
            bytes,
            after_client,
        } => format!(
            "the server's receive queue is full ({}): its window closes{}",
            human(*bytes),
            if *after_client { " too" } else { "" }
        ),
        EventKind::ClientSendBlocks { queued_bytes } => format!(
            "the client's send() blocks: its send queue holds {} and the server's window is closed",
            human(*queued_bytes)
        ),
        EventKind::BothWindowsZero => {
            "both windows are zero: no byte can move in either direction".into()
        }
        EventKind::Verdict {
            kind,
            client_call,
            server_call,
        } => match (kind.as_str(), client_call.as_deref(), server_call.as_deref()) {
            ("deadlock", Some(c), Some(s)) if c == s => {
                format!("verdict: deadlock, each side waits in {c}() for the other to read")
            }
            ("deadlock", Some(c), Some(s)) => format!(
                "verdict: deadlock, the client waits in {c}() and the server in {s}(), and \
                 neither reads what the other sent"
            ),
            ("deadlock", ..) => {
                "verdict: deadlock, neither side reads what the other sent, so no byte can move"
                    .into()
            }
            ("halfclose", ..) => "verdict: both sides wait in recv() for each other".into(),
            ("peer_stalled", ..) => {
                "verdict: the server stopped taking and sending bytes (no deadlock of the client's)"
                    .into()
            }
            (other, ..) => format!("verdict: stuck ({other})"),
        },
        // Told once, when the fix has run a while (or at its end): the peak is the one so far.
        EventKind::SteadyState {
            client_recv_queue_peak_bytes: 0,
        } => "steady: the client reads while it sends, and every echo byte is read as soon as it arrives (its receive queue has stayed empty)".into(),
        EventKind::SteadyState {
            client_recv_queue_peak_bytes,
        } => format!(
            "steady: the client reads while it sends; its receive queue has held at most {} so far, so the server's send() never waits for long",
            human(*client_recv_queue_peak_bytes)
        ),
        EventKind::Crawling { bytes_per_s } => format!(
            "healthy but crawling at {}/s over the last second: the windows open and close, and each reopening waits for a timer",
            human(*bytes_per_s)
        ),
        EventKind::FullSpeed { bytes_per_s } => {
            format!("back to full speed: {}/s over the last second", human(*bytes_per_s))
        }
    }
}

/// One event as a timed line: `  2.93 s  the client's receive queue is full …`.
pub fn event_line(e: &Event) -> String {
    format!("{}{}", time_column(e), event_text(&e.kind))
}

fn time_column(e: &Event) -> String {
    format!("{:>7.2} s  ", e.at_ms as f64 / 1000.0)
}

/// The same, wrapped to `width` at word boundaries, continuation lines under the text, after
/// `prefix` (a connection's name, for `watch`).
pub fn event_lines(prefix: &str, e: &Event, width: usize) -> String {
    let head = format!("{prefix}{}", time_column(e));
    let hang = head.chars().count();
    let body = super::wrap::wrap(&event_text(&e.kind), width.saturating_sub(hang).max(20), "");
    format!("{head}{}", body.replace('\n', &format!("\n{:hang$}", "")))
}
