//! The timeline of one run: every watcher sample (about every 10 ms) as one row of the four app
//! counters and the four kernel queues, from the start to the verdict or the end. The recorder is
//! an `Observer`, so it runs on the watcher thread and never touches the I/O loops; its rows are
//! preallocated for the run's whole timeout (capped), so recording is a plain push.
//!
//! Writing the rows is the CSV view's job (`report::csv`), drawing them the SVG view's
//! (`report::svg::timeline`); `report::timeline` saves both.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use std::borrow::Cow;

use crate::observe::Observer;
use crate::result::Event;
use crate::run::SAMPLE_EVERY;
use crate::sample::{
    Call, Counts, KernelQueues, Phase, Role, Sample, Side, TcpInfoView, ThreadView,
};

/// Preallocate at most this many rows (10 minutes at 10 ms, ~5 MB); a longer run still records,
/// with the vector growing as usual.
const MAX_PREALLOCATED: usize = 60_000;

/// One sample: where the bytes were at that moment, what the windows and threads were doing, and
/// what the narrator told. Everything the live view draws is here, so a recorded run can be
/// replayed through it (`tcplab replay`). A column of a socket that was out of sight is empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// Time since the traffic started (milliseconds, microsecond precision).
    pub time_ms: f64,
    /// Bytes the client's send() calls accepted (bytes).
    pub client_sent_bytes: u64,
    /// Bytes the server read and processed (bytes).
    pub server_processed_bytes: u64,
    /// Bytes the server wrote back (bytes).
    pub server_sent_bytes: u64,
    /// Bytes of echo the client read (bytes).
    pub client_received_bytes: u64,
    /// The client's send queue, unacknowledged bytes included (SIOCOUTQ, bytes).
    pub client_send_queue_bytes: Option<u64>,
    /// The server's receive queue (SIOCINQ, bytes).
    pub server_recv_queue_bytes: Option<u64>,
    /// The server's send queue (SIOCOUTQ, bytes).
    pub server_send_queue_bytes: Option<u64>,
    /// The client's receive queue (SIOCINQ, bytes).
    pub client_recv_queue_bytes: Option<u64>,
    /// Of the client's send queue, bytes not yet sent (SIOCOUTQNSD, bytes).
    pub client_unsent_bytes: Option<u64>,
    /// Of the server's send queue, bytes not yet sent (bytes).
    pub server_unsent_bytes: Option<u64>,
    /// The client's SO_SNDBUF and SO_RCVBUF at that moment (bytes).
    pub client_sndbuf_bytes: Option<u64>,
    pub client_rcvbuf_bytes: Option<u64>,
    /// The server's SO_SNDBUF and SO_RCVBUF at that moment (bytes).
    pub server_sndbuf_bytes: Option<u64>,
    pub server_rcvbuf_bytes: Option<u64>,
    /// The window the server advertises, as the client last saw it (bytes; 0 = closed).
    pub client_peer_window_bytes: Option<u64>,
    /// The window the client advertises, as the server last saw it (bytes; 0 = closed).
    pub server_peer_window_bytes: Option<u64>,
    /// Whether the client's / the server's kernel probes a zero window.
    pub client_probing: Option<bool>,
    pub server_probing: Option<bool>,
    /// Each thread as `phase/call` (`sending/send`, `receiving/recv`, `done/`).
    pub client_thread: Option<String>,
    pub reader_thread: Option<String>,
    pub server_thread: Option<String>,
    /// The events told at this sample, as a JSON array.
    pub events: Option<String>,
}

impl TimelineRow {
    pub fn from_sample(s: &Sample) -> TimelineRow {
        let c = s.client.as_ref();
        let sv = s.server.as_ref();
        let thread = |side: Side, reader: bool| {
            s.threads_of(side)
                .find(|t| (t.role == Role::Reader) == reader)
                .map(thread_code)
        };
        TimelineRow {
            time_ms: (s.at.as_micros() as f64) / 1000.0,
            client_sent_bytes: s.counts.client_sent_bytes,
            server_processed_bytes: s.counts.server_received_bytes,
            server_sent_bytes: s.counts.server_sent_bytes,
            client_received_bytes: s.counts.client_received_bytes,
            client_send_queue_bytes: c.map(|q| q.outq_bytes),
            server_recv_queue_bytes: sv.map(|q| q.inq_bytes),
            server_send_queue_bytes: sv.map(|q| q.outq_bytes),
            client_recv_queue_bytes: c.map(|q| q.inq_bytes),
            client_unsent_bytes: c.map(|q| q.notsent_bytes),
            server_unsent_bytes: sv.map(|q| q.notsent_bytes),
            client_sndbuf_bytes: c.map(|q| q.sndbuf_bytes),
            client_rcvbuf_bytes: c.map(|q| q.rcvbuf_bytes),
            server_sndbuf_bytes: sv.map(|q| q.sndbuf_bytes),
            server_rcvbuf_bytes: sv.map(|q| q.rcvbuf_bytes),
            client_peer_window_bytes: c.and_then(KernelQueues::peer_window),
            server_peer_window_bytes: sv.and_then(KernelQueues::peer_window),
            client_probing: c.and_then(|q| q.probing),
            server_probing: sv.and_then(|q| q.probing),
            client_thread: thread(Side::Client, false),
            reader_thread: thread(Side::Client, true),
            server_thread: thread(Side::Server, false),
            events: None,
        }
    }

    /// The sample this row records, for a replay.
    pub fn to_sample(&self) -> Sample {
        let socket = |inq: Option<u64>,
                      outq: Option<u64>,
                      unsent: Option<u64>,
                      snd: Option<u64>,
                      rcv: Option<u64>,
                      wnd: Option<u64>,
                      probing: Option<bool>| {
            Some(KernelQueues {
                inq_bytes: inq?,
                outq_bytes: outq?,
                notsent_bytes: unsent.unwrap_or(0),
                sndbuf_bytes: snd.unwrap_or(0),
                rcvbuf_bytes: rcv.unwrap_or(0),
                tcp_info: Some(TcpInfoView {
                    snd_wnd_bytes: wnd,
                    ..TcpInfoView::default()
                }),
                probing,
            })
        };
        let mut threads = Vec::new();
        let mut add = |code: &Option<String>, side: Side, reader: bool| {
            if let Some(t) = code
                .as_deref()
                .and_then(|c| thread_from_code(c, side, reader))
            {
                threads.push(t);
            }
        };
        add(&self.client_thread, Side::Client, false);
        add(&self.reader_thread, Side::Client, true);
        add(&self.server_thread, Side::Server, false);
        Sample {
            at: Duration::from_micros((self.time_ms * 1000.0).round().max(0.0) as u64),
            counts: Counts {
                client_sent_bytes: self.client_sent_bytes,
                server_received_bytes: self.server_processed_bytes,
                server_sent_bytes: self.server_sent_bytes,
                client_received_bytes: self.client_received_bytes,
            },
            client: socket(
                self.client_recv_queue_bytes,
                self.client_send_queue_bytes,
                self.client_unsent_bytes,
                self.client_sndbuf_bytes,
                self.client_rcvbuf_bytes,
                self.client_peer_window_bytes,
                self.client_probing,
            ),
            server: socket(
                self.server_recv_queue_bytes,
                self.server_send_queue_bytes,
                self.server_unsent_bytes,
                self.server_sndbuf_bytes,
                self.server_rcvbuf_bytes,
                self.server_peer_window_bytes,
                self.server_probing,
            ),
            threads,
        }
    }

    /// The events recorded at this row.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .unwrap_or_default()
    }
}

/// A thread as one cell: `phase/call`.
fn thread_code(t: &ThreadView) -> String {
    let phase = t.phase.map_or("", |p| p.name());
    let call = t.call.map_or("", |c| c.name());
    format!("{phase}/{call}")
}

fn thread_from_code(code: &str, side: Side, reader: bool) -> Option<ThreadView> {
    let (phase, call) = code.split_once('/')?;
    let (phase, call) = (phase.parse::<Phase>().ok(), call.parse::<Call>().ok());
    let (name, role) = match (side, reader) {
        (Side::Client, true) => ("tcplab-reader", Role::Reader),
        (Side::Client, false) if phase == Some(Phase::Polling) => ("tcplab-client", Role::Both),
        (Side::Client, false) => ("tcplab-client", Role::Sender),
        (Side::Server, _) => ("tcplab-server", Role::Server),
    };
    Some(ThreadView {
        phase,
        call,
        ..ThreadView::new(Cow::Borrowed(name), side, role)
    })
}

/// A recorded timeline could not be read.
#[derive(Debug, thiserror::Error)]
#[error("'{path}' is not a tcplab timeline ({why})")]
pub struct NotATimeline {
    pub path: String,
    pub why: String,
}

/// The latest a row may be: the longest run tcplab records (`--timeout` at most 24 h).
const LATEST_MS: f64 = crate::units::MAX_DURATION.as_millis() as f64;

/// The rows of a timeline recorded with `--timeline` (CSV with a header), read one at a time as
/// they are asked for, so a replay holds one row, not the file. The file may be a FIFO: a read
/// that waits for its writer ends on Ctrl-C or SIGTERM (then the interrupt flag is set and the
/// row is an error).
pub struct Rows {
    path: String,
    rows:
        csv::DeserializeRecordsIntoIter<std::io::BufReader<crate::sys::input::Input>, TimelineRow>,
    /// Rows read so far.
    read: usize,
}

/// Opens a timeline and reads its header; the rows are read as they are asked for.
pub fn rows(path: &std::path::Path) -> Result<Rows, NotATimeline> {
    let shown = path.display().to_string();
    let file =
        crate::sys::input::open(path, crate::interrupt::requested).map_err(|e| NotATimeline {
            path: shown.clone(),
            why: io_words(&e),
        })?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::new(file));
    // Read here, where an error (a stop included) is seen: the row iterator would drop it.
    reader.headers().map_err(|e| NotATimeline {
        path: shown.clone(),
        why: match e.kind() {
            csv::ErrorKind::Io(io) => io_words(io),
            _ => format!("its header: {e}"),
        },
    })?;
    Ok(Rows {
        path: shown,
        rows: reader.into_deserialize(),
        read: 0,
    })
}

/// An I/O error in a few lower-case words, without its `(os error N)`.
fn io_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    let cause = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = cause.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Rows {
    fn bad(&self, why: String) -> NotATimeline {
        NotATimeline {
            path: self.path.clone(),
            why,
        }
    }

    /// The error for a file that ended before its first row.
    pub fn empty(&self) -> NotATimeline {
        self.bad("it has no rows".into())
    }
}

impl Iterator for Rows {
    type Item = Result<TimelineRow, NotATimeline>;

    fn next(&mut self) -> Option<Self::Item> {
        let row = self.rows.next()?;
        self.read += 1;
        let n = self.read;
        Some(match row {
            Err(e) => Err(self.bad(format!("row {n}: {e}"))),
            // A time no run can have would become a wait no replay can make.
            Ok(r) if !(0.0..=LATEST_MS).contains(&r.time_ms) => Err(self.bad(format!(
                "row {n}: time_ms is {:?}; a row's time is a number of milliseconds from 0 to {}",
                r.time_ms, LATEST_MS
            ))),
            Ok(r) => Ok(r),
        })
    }
}

/// Records every sample of one run.
#[derive(Debug, Default)]
pub struct Recorder {
    pub rows: Vec<TimelineRow>,
}

impl Recorder {
    /// A recorder with room for a run that lasts up to `timeout`. Its first row is the start
    /// (time 0, nothing moved yet): the watcher's first sample comes ~10 ms in, and small buffers
    /// fill faster than that.
    pub fn for_run(timeout: Duration) -> Recorder {
        let n = (timeout.as_millis() / SAMPLE_EVERY.as_millis().max(1)) as usize + 16;
        let mut rows = Vec::with_capacity(n.min(MAX_PREALLOCATED));
        rows.push(TimelineRow::default());
        Recorder { rows }
    }
}

impl Observer for Recorder {
    fn sample(&mut self, s: &Sample) {
        self.rows.push(TimelineRow::from_sample(s));
    }

    /// An event belongs to the sample it was told at: the last row.
    fn event(&mut self, e: &Event) {
        let Some(row) = self.rows.last_mut() else {
            return;
        };
        let mut events = row.events();
        events.push(e.clone());
        row.events = serde_json::to_string(&events).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::FanOut;
    use crate::sample::{Counts, KernelQueues};

    fn sample(ms: u64, sent: u64, outq: u64) -> Sample {
        Sample {
            at: Duration::from_millis(ms),
            counts: Counts {
                client_sent_bytes: sent,
                ..Counts::default()
            },
            client: Some(KernelQueues {
                outq_bytes: outq,
                inq_bytes: 7,
                ..KernelQueues::default()
            }),
            server: None,
            threads: Vec::new(),
        }
    }

    #[test]
    fn a_fan_out_gives_every_observer_every_sample() {
        let mut a = Recorder::for_run(Duration::from_secs(1));
        let mut b = Recorder::for_run(Duration::from_secs(1));
        {
            let mut both = FanOut(vec![&mut a, &mut b]);
            both.sample(&sample(10, 100, 50));
            both.sample(&sample(20, 200, 60));
            both.finish();
        }
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.rows.len(), 3, "the start row and two samples");
        assert_eq!(a.rows[0], TimelineRow::default());
        let r = &a.rows[2];
        assert_eq!(
            (r.time_ms, r.client_sent_bytes, r.client_send_queue_bytes),
            (20.0, 200, Some(60))
        );
        assert_eq!(
            (r.client_recv_queue_bytes, r.server_recv_queue_bytes),
            (Some(7), None)
        );
    }

    #[test]
    fn a_row_gives_back_the_sample_the_live_view_needs_and_its_events() {
        use crate::result::EventKind;
        use crate::sample::test_thread;
        let mut s = sample(30, 300, 90);
        s.server = Some(KernelQueues {
            inq_bytes: 5,
            outq_bytes: 6,
            notsent_bytes: 4,
            sndbuf_bytes: 131072,
            rcvbuf_bytes: 131072,
            tcp_info: Some(TcpInfoView {
                snd_wnd_bytes: Some(0),
                ..TcpInfoView::default()
            }),
            probing: Some(true),
        });
        s.threads = vec![
            test_thread(Side::Client, Role::Sender, Phase::Sending, Some(Call::Send)),
            test_thread(Side::Server, Role::Server, Phase::Sending, None),
        ];
        let mut rec = Recorder::default();
        rec.sample(&s);
        let e = Event {
            at_ms: 30,
            kind: EventKind::BothWindowsZero,
        };
        rec.event(&e);
        // Through CSV and back, as a replay reads it.
        let mut w = ::csv::Writer::from_writer(Vec::new());
        rec.rows.iter().for_each(|r| w.serialize(r).unwrap());
        let csv = w.into_inner().unwrap();
        let row: TimelineRow = ::csv::Reader::from_reader(&csv[..])
            .deserialize()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(row.events(), vec![e]);
        let back = row.to_sample();
        assert_eq!(back.counts, s.counts);
        assert_eq!(back.server.as_ref().and_then(|q| q.peer_window()), Some(0));
        assert_eq!(
            back.server
                .as_ref()
                .map(|q| [q.inq_bytes, q.outq_bytes, q.notsent_bytes]),
            Some([5, 6, 4])
        );
        assert_eq!(back.threads.len(), 2);
        assert!(back.threads[0].blocked_in_send());
    }

    #[test]
    fn the_recorder_preallocates_for_the_timeout_but_not_without_bound() {
        assert!(Recorder::for_run(Duration::from_secs(2)).rows.capacity() >= 200);
        assert!(
            Recorder::for_run(Duration::from_secs(86_400))
                .rows
                .capacity()
                <= 60_000
        );
    }
}
