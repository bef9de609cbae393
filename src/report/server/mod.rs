//! What the classroom server tells the instructor: one stdout line per event (with `--log`, the
//! accepted connections too and the running totals appended), a status line on stderr when the
//! progress factory allows, and the totals at the end; or, with `--json`, one JSON object per
//! event, written by a thread of its own. A closed or full stdout never stops the server: the sink
//! stops writing and says so once on stderr. On a terminal the text lines wrap at word
//! boundaries (`--log` lines too: a terminal would otherwise cut them mid-word); into a pipe or a
//! file each line is one record. JSON lines are never wrapped.
//!
//! The running total (`processed` in the status line and after each `--log` line) is the closed
//! connections' bytes plus the open ones', as the server last counted them; a close brings the
//! open connections' count with it, so the connection that closed is counted once and the total
//! never goes down.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread;
use std::time::Duration;

use indicatif::ProgressBar;

use super::progress::Live;
use crate::classroom::event::{ConnClosed, ConnEnd, ServerEvent, Sink, Snapshot, Totals};
use crate::interrupt;
use crate::report::{human, human::count, wrap};

/// The text log.
pub struct TextSink {
    log: bool,
    status: Option<ProgressBar>,
    totals: Totals,
    open: usize,
    open_bytes: u64,
    stdout_gone: bool,
    /// Where the records go instead of stdout (the tests read them).
    kept: Option<Vec<String>>,
}

impl TextSink {
    pub fn new(log: bool, live: Live) -> TextSink {
        TextSink {
            log,
            status: live.shown().then(|| live.line("{spinner} {wide_msg}")),
            totals: Totals::default(),
            open: 0,
            open_bytes: 0,
            stdout_gone: false,
            kept: None,
        }
    }

    /// A sink that keeps its records (unwrapped) instead of printing them.
    #[cfg(test)]
    fn keeping(log: bool) -> TextSink {
        TextSink {
            kept: Some(Vec::new()),
            ..TextSink::new(log, Live::decide(true, false))
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} active, {} processed in all, {} freed as stuck, {} refused",
            self.open,
            human(self.totals.processed_bytes + self.open_bytes),
            self.totals.stuck,
            self.totals.refused
        )
    }

    /// A line as the log prints it, before wrapping: with `--log`, the running totals after it.
    fn record(&self, line: &str, with_totals: bool) -> String {
        if self.log && with_totals {
            format!("{line} [{}]", self.summary())
        } else {
            line.to_string()
        }
    }

    fn print(&mut self, line: &str, with_totals: bool) {
        if self.stdout_gone {
            return;
        }
        if self.kept.is_some() {
            let record = self.record(line, with_totals);
            self.kept.get_or_insert_default().push(record);
            return;
        }
        // One record per line into a pipe or a file (grep, tee); on a terminal, wrapped at word
        // boundaries, which the terminal itself would not do.
        let text = wrap::for_stdout(&self.record(line, with_totals));
        let write = || {
            let mut out = io::stdout().lock();
            writeln!(out, "{text}")?;
            out.flush()
        };
        let r = match &self.status {
            Some(b) => b.suspend(write),
            None => write(),
        };
        if let Err(e) = r {
            self.stdout_gone = true;
            self.warn(&format!(
                "tcplab: cannot write the server's log to stdout ({e}); the server goes on without it"
            ));
        }
    }

    fn warn(&self, line: &str) {
        match &self.status {
            Some(b) => b.suspend(|| wrap::eprint(line)),
            None => wrap::eprint(line),
        }
    }

    fn tally(&mut self, c: &ConnClosed) {
        self.totals.closed += 1;
        self.totals.processed_bytes += c.received_bytes;
        self.open = c.open;
        // The last tick's count still held this connection's bytes: counted twice until the
        // next tick (an 8 MiB connection showed 15.66 MiB, and the total then went down).
        self.open_bytes = c.open_bytes;
        match c.end {
            ConnEnd::Stuck { .. } => self.totals.stuck += 1,
            ConnEnd::Reset | ConnEnd::BrokenPipe => self.totals.reset += 1,
            _ => {}
        }
    }
}

impl Sink for TextSink {
    fn event(&mut self, e: &ServerEvent) {
        match e {
            ServerEvent::Listening {
                addr,
                reachable_from_network,
            } => {
                self.print(&format!("listening on {addr}"), false);
                if *reachable_from_network {
                    let ip = addr.rsplit_once(':').map_or(addr.as_str(), |(ip, _)| ip);
                    self.print(
                        &format!(
                            "note: {ip} is reachable from the network, not only from this machine"
                        ),
                        false,
                    );
                }
            }
            ServerEvent::Accepted {
                id,
                peer,
                sndbuf_bytes,
                rcvbuf_bytes,
                open,
            } => {
                self.totals.accepted += 1;
                self.open = *open;
                if self.log {
                    let sizes = sizes(*sndbuf_bytes, *rcvbuf_bytes);
                    self.print(&format!("accepted #{id} from {peer} ({sizes})"), true);
                }
            }
            ServerEvent::Refused {
                peer,
                open,
                max_conns,
            } => {
                self.totals.refused += 1;
                self.print(
                    &format!(
                        "refused {peer}: {} already open (--max-conns {max_conns})",
                        count(*open as u64, "connection")
                    ),
                    true,
                );
            }
            ServerEvent::Closed(c) => {
                self.tally(c);
                self.print(&closed_line(c), true);
            }
            ServerEvent::AcceptFailed { error, repeats } => {
                let line = match error {
                    Some(error) => format!(
                        "tcplab: accept failed: {error}; still listening, retrying at each tick (further failures are counted)"
                    ),
                    None => {
                        format!("tcplab: accept() failed {repeats} more times; still listening")
                    }
                };
                self.warn(&line);
            }
            ServerEvent::Stopped { totals, .. } => {
                if let Some(b) = self.status.take() {
                    b.finish_and_clear();
                }
                self.print(&stopped_line(totals), false);
            }
        }
    }

    fn tick(&mut self, now: &Snapshot) {
        self.open = now.open;
        self.open_bytes = now.open_bytes;
        if let Some(b) = &self.status {
            b.set_message(self.summary());
            b.tick();
        }
    }
}

/// The server's log in the format asked for: JSON lines, or text lines (`log`: one per event)
/// with a live status line.
pub fn sink(
    format: super::export::Format,
    log: bool,
    live: super::progress::Live,
) -> io::Result<Box<dyn Sink>> {
    Ok(match format {
        super::export::Format::Json => Box::new(JsonSink::new()?),
        _ => Box::new(TextSink::new(log, live)),
    })
}

/// One JSON object per event, one per line, written by a thread of its own (`Outbox`).
pub struct JsonSink {
    out: Outbox,
}

impl JsonSink {
    pub fn new() -> io::Result<JsonSink> {
        Ok(JsonSink {
            out: Outbox::start()?,
        })
    }
}

impl Sink for JsonSink {
    fn event(&mut self, e: &ServerEvent) {
        match serde_json::to_string(e) {
            Ok(line) => self.out.send(line),
            Err(err) => wrap::eprint(&format!(
                "tcplab: cannot write a server event as JSON: {err}"
            )),
        }
    }
}

/// Lines bound for stdout, handed to a writer thread. The supervisor never waits for whoever
/// reads stdout: with a thousand clients on two busy cores, a `tcplab load` reading the events
/// was starved for seconds, its pipe filled, and the server, blocked writing an event, accepted
/// nobody and freed nobody. Lines beyond `OUTBOX_LINES` waiting are counted, not kept.
struct Outbox {
    tx: Option<SyncSender<String>>,
    done: Receiver<()>,
    dropped: u64,
}

/// Most lines waiting for the writer (at about 300 bytes each, 30 MB at worst).
const OUTBOX_LINES: usize = 100_000;
/// How long the last lines may take to be written once the server stops.
const OUTBOX_FLUSH: Duration = Duration::from_secs(5);

impl Outbox {
    fn start() -> io::Result<Outbox> {
        let (tx, rx) = mpsc::sync_channel::<String>(OUTBOX_LINES);
        let (done_tx, done) = mpsc::channel();
        thread::Builder::new()
            .name("tcplab-log".into())
            .spawn(move || {
                let mut gone = false;
                for line in rx {
                    if gone {
                        continue;
                    }
                    let mut out = io::stdout().lock();
                    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                        gone = true;
                        wrap::eprint(&format!(
                            "tcplab: cannot write the server's events to stdout ({e}); the server goes on without them"
                        ));
                    }
                }
                let _ = done_tx.send(());
            })?;
        Ok(Outbox {
            tx: Some(tx),
            done,
            dropped: 0,
        })
    }

    fn send(&mut self, line: String) {
        if let Some(tx) = &self.tx {
            match tx.try_send(line) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => self.dropped += 1,
                Err(TrySendError::Disconnected(_)) => self.tx = None,
            }
        }
    }
}

impl Drop for Outbox {
    /// Lets the writer finish the lines waiting, for at most `OUTBOX_FLUSH`.
    fn drop(&mut self) {
        self.tx = None;
        if self.done.recv_timeout(OUTBOX_FLUSH).is_err() {
            wrap::eprint(&format!(
                "tcplab: stdout took more than {} s to take the server's last events; some are lost",
                OUTBOX_FLUSH.as_secs()
            ));
        }
        if self.dropped > 0 {
            wrap::eprint(&format!(
                "tcplab: {} not written: stdout was not read fast enough",
                match self.dropped {
                    1 => "1 event was".to_string(),
                    n => format!("{n} events were"),
                }
            ));
        }
    }
}

/// The server's last line: its totals.
pub fn stopped_line(t: &Totals) -> String {
    format!(
        "server stopped: {} served ({} freed as stuck, {} reset by the client), {} refused, {} processed",
        count(t.accepted, "connection"),
        t.stuck,
        t.reset,
        t.refused,
        human(t.processed_bytes)
    )
}

fn sizes(snd: Option<u64>, rcv: Option<u64>) -> String {
    match (snd, rcv) {
        (Some(s), Some(r)) => format!("SO_SNDBUF {}, SO_RCVBUF {}", human(s), human(r)),
        _ => "buffer sizes unknown".into(),
    }
}

/// A connection's end in one line: `closed #3 from …: 1 MiB processed, …; how it ended`.
pub fn closed_line(c: &ConnClosed) -> String {
    let (word, how) = match &c.end {
        ConnEnd::Eof => (
            "closed",
            "the client closed its side; everything was echoed".to_string(),
        ),
        ConnEnd::Stuck {
            kind,
            still_ms,
            send_queue_bytes,
            recv_queue_bytes,
            kernel_call,
            ..
        } => {
            let q = |name: &str, v: &Option<u64>| {
                v.map(|v| format!("; server {name} queue {}", human(v)))
                    .unwrap_or_default()
            };
            (
                "stuck",
                format!(
                    "freed after {:.1} s without movement ({kind}): {}{}{}; thread in {}",
                    *still_ms as f64 / 1000.0,
                    stuck_reason(kind, kernel_call.as_deref()),
                    q("send", send_queue_bytes),
                    q("receive", recv_queue_bytes),
                    kernel_call.as_deref().unwrap_or("an unknown call")
                ),
            )
        }
        ConnEnd::Reset => ("reset", "the client reset the connection".into()),
        ConnEnd::BrokenPipe => (
            "reset",
            "the client went away while the server was writing".into(),
        ),
        ConnEnd::Stopped => ("closed", format!("closed by {}", interrupt::signal_name())),
        ConnEnd::Error { message } => ("failed", format!("ended by an error: {message}")),
    };
    format!(
        "{word} #{} from {} ({}): {} processed, {} echoed in {:.2} s; {how}",
        c.id,
        c.peer,
        sizes(c.sndbuf_bytes, c.rcvbuf_bytes),
        human(c.received_bytes),
        human(c.sent_bytes),
        c.elapsed_ms as f64 / 1000.0
    )
}

fn stuck_reason(kind: &str, call: Option<&str>) -> &'static str {
    match (kind, call) {
        ("silent", _) => "the client sent nothing since it connected",
        ("not-draining", Some("send")) => {
            "the server is blocked in send() and its send queue does not drain: the client stopped reading"
        }
        ("not-draining", _) => {
            "the server's send queue does not drain, its echo waiting there while its thread is back in recv(): the client stopped reading"
        }
        _ => {
            "the server waits in recv() with nothing queued either way, and the client sends nothing more"
        }
    }
}

#[cfg(test)]
mod tests;
