//! The text view of a sweep: a table for people, one line per point written as it finishes, sizes
//! in binary units. The CSV and JSON views carry the same rows as raw numbers.

use std::io::{self, Write};

use crate::report::human;
use crate::result::Outcome;
use crate::sweep::SweepRow;

const HEADER: [(&str, usize); 10] = [
    ("point", 7),
    ("strategy", 13),
    ("client snd/rcv", 21),
    ("server snd/rcv", 21),
    ("outcome", 10),
    ("sent", 11),
    ("stall at", 9),
    ("rate", 13),
    ("predicted", 11),
    ("ratio", 5),
];

/// The table's heading: what the columns mean, then their names.
pub fn write_header(mut out: impl Write) -> io::Result<()> {
    writeln!(
        out,
        "Buffer sizes are what the kernel kept (getsockopt; Linux doubles each request). \
         'sent' counts the client's bytes before the stall; 'predicted' is the sum of the four \
         buffers; 'ratio' = sent / predicted."
    )?;
    let line: Vec<String> = HEADER.iter().map(|(h, w)| format!("{h:<w$}")).collect();
    writeln!(out, "{}", line.join(" ").trim_end())?;
    out.flush()
}

pub fn write_row(r: &SweepRow, mut out: impl Write) -> io::Result<()> {
    let pair = |a: u64, b: u64| format!("{} / {}", human(a), human(b));
    let outcome = match r.outcome {
        Outcome::Completed => "completed",
        Outcome::Deadlock => "deadlock",
        Outcome::TimedOut => "timed out",
        Outcome::Interrupted => "stopped",
        Outcome::Failed => "failed",
    };
    let point = if r.run > 1 {
        format!("{}.{}", r.point, r.run)
    } else {
        r.point.to_string()
    };
    let cells = [
        point,
        r.strategy.clone(),
        pair(
            r.client_sndbuf_effective_bytes,
            r.client_rcvbuf_effective_bytes,
        ),
        pair(
            r.server_sndbuf_effective_bytes,
            r.server_rcvbuf_effective_bytes,
        ),
        outcome.to_string(),
        human(r.client_sent_bytes),
        r.stall_ms.map_or("-".into(), |ms| format!("{ms} ms")),
        format!("{}/s", human(r.throughput_bytes_per_s)),
        human(r.predicted_capacity_bytes),
        r.measured_over_predicted
            .map_or("-".into(), |v| format!("{v:.2}")),
    ];
    let line: Vec<String> = cells
        .iter()
        .zip(HEADER)
        .map(|(c, (_, w))| format!("{c:<w$}"))
        .collect();
    writeln!(out, "{}", line.join(" ").trim_end())?;
    if let Some(e) = &r.error {
        writeln!(out, "{:7} {e}", "")?;
    }
    out.flush()
}
