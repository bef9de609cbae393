//! What `tcplab watch` shows: for one connection, the same live picture as tcplab's own runs; for
//! many, one row per connection with the stuck ones first; and at a verdict, who is blocked in
//! which call, the evidence, and the ledger from the kernel's counters alone.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::Serialize;

use super::export::Format;
use super::ledger::{evidence_text, write_ledger};
use super::live::Picture;
use super::live::{fit, thread_state};
use super::narration::event_lines;
use super::progress::Live;
use super::wrap;
use crate::ledger;
use crate::observe::diag::ConnKey;
use crate::report::human;
use crate::report::human::human_short;
use crate::result::Event;
use crate::sample::{Sample, Side, ThreadView};
use crate::watch::{CloseKind, Status, Target, Update, View, Watched, Watcher};

/// `#1 127.0.0.1:40000 → 127.0.0.1:1060`: a connection as one short name.
pub fn conn_name(id: u32, key: &ConnKey) -> String {
    let (server, client) = key.addrs();
    format!("#{id} {client} → {server}")
}

/// The connections in the order the table lists them: the stuck ones first.
pub fn sorted<'a>(conns: &[&'a Watched]) -> Vec<&'a Watched> {
    let mut sorted = conns.to_vec();
    sorted.sort_by_key(|c| (c.status, c.id));
    sorted
}

/// The four queues of a connection in the order the bytes travel (bytes); `None` out of sight.
pub fn queues(c: &Watched) -> [Option<u64>; 4] {
    let q = |side: Side, send: bool| {
        c.last()
            .and_then(|s| s.socket(side))
            .map(|q| if send { q.outq_bytes } else { q.inq_bytes })
    };
    [
        q(Side::Client, true),
        q(Side::Server, false),
        q(Side::Server, true),
        q(Side::Client, false),
    ]
}

/// One row's cells as the table prints them: name, state, the four queues, who waits.
pub fn row_cells(c: &Watched) -> (String, &'static str, [String; 4], String) {
    let q = queues(c).map(|b| b.map_or("-".to_string(), human));
    let who = c.last().map_or(String::new(), blocked_summary);
    (conn_name(c.id, &c.key), c.status.name(), q, who)
}

/// One row per connection, the stuck ones first, at most `rows` of them, every line within
/// `width` columns (`layout`). When every connection has the same server address, a title line
/// names it once and each row gives the client's address only.
pub fn table(conns: &[&Watched], width: usize, rows: usize) -> Vec<String> {
    let one_server = {
        let mut servers = conns.iter().map(|c| c.key.addrs().0);
        let first = servers.next();
        first.filter(|f| servers.all(|s| s == *f))
    };
    let title = one_server.map(|s| format!("{} connections to {s}", conns.len()));
    let head = if one_server.is_some() {
        "client"
    } else {
        "connection"
    };
    let cells: Vec<Row> = sorted(conns)
        .into_iter()
        .take(rows)
        .map(|c| Row {
            name: match one_server {
                Some(_) => format!("#{} {}", c.id, c.key.addrs().1),
                None => conn_name(c.id, &c.key),
            },
            state: c.status.name(),
            // A closed connection has no queues left: its last look's would read as current.
            queues: queues(c).map(|b| match b {
                Some(b) if c.status != Status::Closed => human_short(b),
                _ => "-".to_string(),
            }),
            who: c.last().map_or(String::new(), blocked_summary),
        })
        .collect();
    layout(title, head, &cells, conns.len().saturating_sub(rows), width)
}

/// One row of the table, as text.
pub struct Row {
    pub name: String,
    pub state: &'static str,
    pub queues: [String; 4],
    pub who: String,
}

/// Width of a queue column: the longest short byte count (`1023.9 KiB`).
const QUEUE_COL: usize = 10;
/// Width of the state column: the longest status name.
const STATE_COL: usize = 10;

/// The table's lines. The columns line up whatever the names; the queues are never cut (a cut
/// "125.0 KiB" would read as "12"): when a line is too long, "who waits" goes first, then the
/// names are shortened with "…".
pub fn layout(
    title: Option<String>,
    head: &str,
    rows: &[Row],
    more: usize,
    width: usize,
) -> Vec<String> {
    let fixed = 1 + STATE_COL + 4 * (1 + QUEUE_COL);
    let want = rows
        .iter()
        .map(|r| r.name.chars().count())
        .chain([head.chars().count()])
        .max()
        .unwrap_or(0);
    let name_col = want.min(width.saturating_sub(fixed).max(8));
    let who_room = width.saturating_sub(name_col + fixed + 2);
    let line = |name: &str, state: &str, q: [&str; 4], who: &str| {
        let mut l = format!(
            "{:<name_col$} {state:<STATE_COL$} {:>QUEUE_COL$} {:>QUEUE_COL$} {:>QUEUE_COL$} {:>QUEUE_COL$}",
            fit(name, name_col),
            q[0],
            q[1],
            q[2],
            q[3]
        );
        if who_room >= 8 && !who.is_empty() {
            l.push_str("  ");
            l.push_str(&fit(who, who_room));
        }
        l.trim_end().to_string()
    };
    let mut lines: Vec<String> = title.map(|t| fit(&t, width)).into_iter().collect();
    lines.push(line(
        head,
        "state",
        ["cli send", "srv recv", "srv send", "cli recv"],
        "who waits",
    ));
    for r in rows {
        let q = &r.queues;
        lines.push(line(&r.name, r.state, [&q[0], &q[1], &q[2], &q[3]], &r.who));
    }
    if more > 0 {
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// Who is blocked in which call, in a few words: `client in send, server in send`.
pub fn blocked_summary(s: &Sample) -> String {
    let part = |side: Side| {
        let calls: Vec<String> = s
            .threads_of(side)
            .filter(|t| t.on_socket == Some(true))
            .map(|t| format!("{} in {}", side.name(), t.call.map_or("?", |c| c.name())))
            .collect();
        calls.join(", ")
    };
    [part(Side::Client), part(Side::Server)]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A thread of a watched program, as a person reads it.
pub fn thread_line(t: &ThreadView) -> String {
    // A program names its own threads (prctl): shown, never obeyed (issue 19, faults).
    let name = super::outside::text(&t.name);
    let who = match (t.pid, t.tid) {
        (Some(p), Some(tid)) if p == tid => format!("{name} (pid {p})"),
        (Some(p), Some(tid)) => format!("{name} (pid {p}, thread {tid})"),
        _ => name.into_owned(),
    };
    // The state names the call (another program's by its own name: `blocked in sendto()`).
    let on = match t.on_socket {
        Some(true) => " on this connection's socket",
        Some(false) => " on another file",
        None => "",
    };
    format!("{who}: {}{on}", thread_state(t))
}

/// The verdict on a watched connection: evidence, who waits in which call, the ledger.
pub fn write_verdict(
    c: &Watched,
    unreadable: &BTreeMap<u32, String>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let Some((v, s)) = c.verdict() else {
        return Ok(());
    };
    let quiet_ms = v.at.saturating_sub(v.last_progress).as_millis();
    writeln!(
        out,
        "DEADLOCK on {} ({quiet_ms} ms after the last byte moved): nothing can move any more.",
        conn_name(c.id, &c.key)
    )?;
    writeln!(out, "Evidence, from the kernel:")?;
    for e in &v.evidence {
        writeln!(out, "  - {}", evidence_text(e))?;
    }
    writeln!(out, "\nWho waits, and where:")?;
    for side in [Side::Client, Side::Server] {
        let mut any = false;
        for t in s.threads_of(side) {
            writeln!(out, "  {:<7} {}", side.name(), thread_line(t))?;
            any = true;
        }
        if !any {
            let why = if s.socket(side).is_none() {
                "its end is out of sight (another host, or already closed)"
            } else {
                "its threads could not be read"
            };
            writeln!(out, "  {:<7} {why}", side.name())?;
        }
    }
    for (pid, why) in unreadable {
        writeln!(out, "  (process {pid} could not be read: {why})")?;
    }
    if let Some(l) = sample_ledger(s) {
        writeln!(
            out,
            "\nWhere every byte is (the programs' counters come from the kernel's: what a program wrote = bytes acknowledged + its send queue, the SYN and a FIN taken off; what it read = bytes received − its receive queue):"
        )?;
        write_ledger(&l, &mut &mut *out)?;
    }
    writeln!(
        out,
        "\nFix to try: read while you send. A second thread that calls recv() while the first one sends, or one loop that waits for 'readable' and 'writable' together (selectors, poll), keeps the echo draining; 'tcplab check client -- …' tests a fixed client."
    )
}

/// The ledger from the kernel's counters alone, when both ends were in sight.
pub fn sample_ledger(s: &Sample) -> Option<crate::result::Ledger> {
    let (client, server) = (s.client.as_ref()?, s.server.as_ref()?);
    Some(ledger::build(&s.counts, client, server, 1, 1))
}

/// How a connection ended, in one line: `#1 … closed cleanly (a FIN each way, nothing unread)`.
pub fn closed_line(c: &Watched) -> String {
    let name = conn_name(c.id, &c.key);
    let how = match &c.close {
        Some(CloseKind::Clean) => "closed cleanly (a FIN each way, nothing left unread)".into(),
        Some(CloseKind::ResetUnread {
            side,
            unread_bytes,
            process_ended,
        }) => format!(
            "closed with a reset: the {} closed its socket with {} unread{}, so its kernel sent a reset instead of a FIN, which throws away what still waited to be sent (tcp(7))",
            side.name(),
            human(*unread_bytes),
            if *process_ended {
                " (its process has ended: killed, or exited before reading)"
            } else {
                ""
            }
        ),
        Some(CloseKind::Reset) => {
            "closed with a reset (no FIN either way; which side sent it, the kernel did not show)"
                .into()
        }
        Some(CloseKind::Unknown) | None => {
            "closed (between two looks; how, tcplab could not see)".into()
        }
    };
    let totals = c
        .final_counts
        .map(|n| {
            format!(
                "; in all the client wrote {} and read {}, the server read {} and wrote {}",
                human(n.client_sent_bytes),
                human(n.client_received_bytes),
                human(n.server_received_bytes),
                human(n.server_sent_bytes)
            )
        })
        .unwrap_or_default();
    let deadlocked = c.verdict().map_or("", |_| " after its deadlock");
    let unseen = c
        .last()
        .map_or(", opened and closed between two of tcplab's looks", |_| "");
    format!("{name} {how}{deadlocked}{unseen}{totals}")
}

/// Why a watch ended at `--timeout`, true to what it saw.
pub fn timed_out_line(w: &Watcher, until_verdict: bool, timeout: &str) -> String {
    let n = w.conns().len();
    let open = w
        .conns()
        .iter()
        .filter(|c| c.closed_cleanly.is_none())
        .count();
    match (n, open, until_verdict) {
        (0, _, _) => format!("--timeout {timeout} passed and no connection came"),
        (_, 0, false) => format!(
            "--timeout {timeout} passed; all {n} watched connections had closed, without a verdict (with --until-verdict, watch ends as soon as they do)"
        ),
        (_, open, _) => format!(
            "--timeout {timeout} passed with no verdict, and {open} of {n} watched connections still open"
        ),
    }
}

/// The watch of a process that has exited ends (issue 19, faults).
pub fn process_gone_line(pid: u32) -> String {
    format!("process {pid} has exited, so there is nothing more of it to watch")
}

/// Said once, when the kernel's reports of destroyed sockets are not available.
pub fn destroyed_unavailable_line(why: &str) -> String {
    format!(
        "tcplab watch: the kernel's reports of closed sockets are not available ({why}; they need CAP_NET_ADMIN), so a connection that lives less than 0.1 s may be missed, and a close is judged from the last look"
    )
}

/// One watch update as one JSON line.
#[derive(Serialize)]
pub struct JsonUpdate<'a> {
    pub conn: u32,
    pub client: String,
    pub server: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'a Event>,
    /// Once closed: how.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close: Option<&'a CloseKind>,
    /// Once closed, where the kernel reported both ends: what each program wrote and read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_counts: Option<crate::result::Counts>,
    /// With a verdict: the evidence and the threads that wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<JsonVerdict<'a>>,
}

#[derive(Serialize)]
pub struct JsonVerdict<'a> {
    pub kind: &'static str,
    pub evidence: &'a [crate::result::Evidence],
    pub threads: &'a [ThreadView],
    pub counts: crate::result::Counts,
    pub ledger: Option<crate::result::Ledger>,
}

impl<'a> JsonUpdate<'a> {
    pub fn new(c: &'a Watched, event: Option<&'a Event>, with_verdict: bool) -> JsonUpdate<'a> {
        let (server, client) = c.key.addrs();
        let verdict = c
            .verdict()
            .filter(|_| with_verdict)
            .map(|(v, s)| JsonVerdict {
                kind: v.kind.name(),
                evidence: &v.evidence,
                threads: &s.threads,
                counts: s.counts,
                ledger: sample_ledger(s),
            });
        JsonUpdate {
            conn: c.id,
            client: client.to_string(),
            server: server.to_string(),
            status: c.status.name(),
            event,
            close: c.close.as_ref(),
            final_counts: c.final_counts,
            verdict,
        }
    }
}

/// Whether a status is one a person watching wants first.
pub fn stuck(s: Status) -> bool {
    matches!(s, Status::Deadlocked | Status::Crawling)
}

/// `tcplab watch`'s view: for a person, a line per connection found, event, verdict report and
/// close, above the live picture of one connection or the table of many; for a script, one JSON
/// object per line.
pub struct WatchView {
    json: bool,
    live: Live,
    bar: ProgressBar,
    width: usize,
    picture: Picture,
    last_table: Option<Instant>,
    /// `--table`: the table only, for every connection seen, and kept at the end.
    table_only: bool,
    /// With `table_only`: the newest full table, printed at the end.
    final_table: Vec<String>,
}

/// Rows of the table.
const ROWS: usize = 16;
/// Least time between two redraws of the table.
const TABLE_EVERY: Duration = Duration::from_millis(200);

impl WatchView {
    pub fn new(format: Format, live: Live, table_only: bool) -> WatchView {
        let width = wrap::stderr_width();
        WatchView {
            json: format == Format::Json,
            live,
            bar: live.line("{msg}"),
            width,
            picture: Picture::new(width),
            last_table: None,
            table_only: table_only && format != Format::Json,
            final_table: Vec::new(),
        }
    }

    /// A line on stdout, above the live view if there is one.
    fn say(&self, line: &str) -> io::Result<()> {
        self.bar.suspend(|| {
            let mut out = io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()
        })
    }

    fn json_line(&self, u: &JsonUpdate) -> io::Result<()> {
        super::json::write_line(u, io::stdout().lock())
    }
}

impl View for WatchView {
    fn waiting(&mut self, t: &Target) -> io::Result<()> {
        if self.json {
            return Ok(());
        }
        let mut parts = Vec::new();
        if let Some(p) = t.port {
            parts.push(format!("on port {p}"));
        }
        if let Some(p) = t.pid {
            parts.push(format!("of process {p}"));
        }
        if let Some(h) = t.host {
            parts.push(format!("with {h}"));
        }
        let line = format!(
            "tcplab watch: waiting for connections {} (Ctrl-C to stop)",
            parts.join(" ")
        );
        self.bar.suspend(|| wrap::eprint(&line));
        Ok(())
    }

    fn updates(&mut self, w: &Watcher, updates: &[Update]) -> io::Result<()> {
        if self.table_only {
            let all: Vec<&Watched> = w.conns().iter().collect();
            self.final_table = table(&all, self.width, usize::MAX);
            if self.live.shown() && self.last_table.is_none_or(|t| t.elapsed() >= TABLE_EVERY) {
                self.bar
                    .set_message(table(&all, self.width, ROWS).join("\n"));
                self.last_table = Some(Instant::now());
            }
            return Ok(());
        }
        for u in updates {
            let (id, event) = match u {
                Update::Found { conn } | Update::Verdict { conn } | Update::Closed { conn } => {
                    (conn, None)
                }
                Update::Event { conn, event } => (conn, Some(event)),
            };
            let c = &w.conns()[*id as usize - 1];
            if self.json {
                let with_verdict = matches!(u, Update::Verdict { .. });
                self.json_line(&JsonUpdate::new(c, event, with_verdict))?;
                continue;
            }
            let name = conn_name(c.id, &c.key);
            self.say(&match u {
                Update::Found { .. } => format!("watching {name}"),
                Update::Event { event, .. } => event_lines(&format!("{name}  "), event, self.width),
                Update::Verdict { .. } => {
                    wrap::for_stdout(&super::captured(|o| write_verdict(c, w.unreadable(), o)))
                }
                Update::Closed { .. } => wrap::for_stdout(&closed_line(c)),
            })?;
        }
        if self.live.shown() {
            let open: Vec<&Watched> = w
                .conns()
                .iter()
                .filter(|c| c.closed_cleanly.is_none())
                .collect();
            match open.as_slice() {
                [one] => {
                    if let Some(f) = one.last().and_then(|s| self.picture.frame(s)) {
                        self.bar.set_message(f);
                    }
                }
                [] => self.bar.set_message(""),
                many => {
                    if self.last_table.is_none_or(|t| t.elapsed() >= TABLE_EVERY) {
                        self.bar
                            .set_message(table(many, self.width, ROWS).join("\n"));
                        self.last_table = Some(Instant::now());
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
        if self.table_only && !self.final_table.is_empty() {
            let mut out = io::stdout().lock();
            for l in &self.final_table {
                let _ = writeln!(out, "{l}");
            }
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Row, human_short, layout};

    fn row(name: &str, state: &'static str, bytes: [u64; 4]) -> Row {
        Row {
            name: name.into(),
            state,
            queues: bytes.map(human_short),
            who: "client in sendto, server in sendto".into(),
        }
    }

    /// The byte of each line where the state column starts.
    fn state_at(line: &str) -> usize {
        ["deadlocked", "flowing", "state"]
            .iter()
            .find_map(|w| line.find(w))
            .expect("a state")
    }

    #[test]
    fn the_class_table_fits_80_columns_lines_up_and_never_cuts_a_queue() {
        let rows = [
            row("#1 127.0.0.1:39398", "flowing", [0, 1024, 40_960, 128_409]),
            row(
                "#40 255.255.255.255:65535",
                "deadlocked",
                [3_774_873, 1_048_063, 130_048, 1_073_741_824],
            ),
            row(
                "#7 [fd00::1:2:3:4:5]:40000 → [fd00::9]:1060",
                "flowing",
                [1; 4],
            ),
        ];
        let lines = layout(Some("40 connections to x".into()), "client", &rows, 3, 80);
        insta::assert_snapshot!(lines.join("\n"));
        for l in &lines {
            assert!(l.chars().count() <= 80, "wider than 80: {l:?}");
        }
        let at = state_at(&lines[1]);
        for l in &lines[1..4] {
            assert_eq!(
                state_at(l),
                at,
                "the state column moved:\n{}",
                lines.join("\n")
            );
        }
        for (r, l) in rows.iter().zip(&lines[2..]) {
            for q in &r.queues {
                assert!(l.contains(&format!(" {q}")), "{q} cut in {l:?}");
            }
        }
        assert_eq!(lines.last().unwrap(), "… and 3 more");
    }

    #[test]
    fn a_wide_terminal_shows_who_waits() {
        let rows = [row("#1 127.0.0.1:39398", "flowing", [0; 4])];
        let lines = layout(None, "client", &rows, 0, 120);
        assert!(
            lines[1].ends_with("client in sendto, server in sendto"),
            "{lines:?}"
        );
        assert!(lines[0].ends_with("who waits"), "{lines:?}");
    }
}
