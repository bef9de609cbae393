//! What the live page is sent: one frame per thing that happened, as data. A sample frame carries
//! the `--timeline` CSV row itself (`TimelineRow`, the one list of sample fields), events and
//! verdicts carry the run's own result types (`Event`, `StallReport`, `Ledger`); beside the data,
//! each frame carries the words the terminal would print for it, made by `report` and passed in
//! here as plain strings, so the page never words anything itself.

use serde::{Deserialize, Serialize};

use crate::result::{Event, Ledger, Outcome, StallReport};
use crate::timeline::TimelineRow;

/// One message on the stream (`data: {"type": …}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// What is shown: the command and its settings in a few words.
    Title(TitleFrame),
    Sample(SampleFrame),
    Event(EventFrame),
    Verdict(VerdictFrame),
    Dashboard(Dashboard),
    /// The run is over; the server stops after its linger.
    End(EndFrame),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TitleFrame {
    /// `deadlock`, `replay` or `watch`.
    pub mode: String,
    /// The line above the terminal's live view.
    pub title: String,
}

/// One sample of one connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SampleFrame {
    /// For `watch`: the connection's short name (`#1 127.0.0.1:40000 → 127.0.0.1:1060`).
    pub conn: Option<String>,
    /// The same fields as one row of the `--timeline` CSV (bytes, milliseconds).
    pub row: TimelineRow,
    /// The window each way, as the live view words it (`client→server ZERO, probing`).
    pub windows: Vec<String>,
    /// Each thread and its call, as the live view words it (`server: blocked in send()`).
    pub threads: Vec<String>,
    /// The app counters with their rates, as the live view words them.
    pub app: Vec<String>,
}

/// One narrated event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventFrame {
    pub conn: Option<String>,
    pub event: Event,
    /// The narrated line without its time.
    pub text: String,
}

/// How a run (or a watched connection) ended: the result's data and its words.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictFrame {
    pub conn: Option<String>,
    /// A run's outcome; `None` for a watched connection's deadlock verdict.
    pub outcome: Option<Outcome>,
    /// The verdict's kind (`deadlock`, `halfclose`, `stuck`), when there is one.
    pub verdict: Option<String>,
    /// The exit code the command ends with, when this frame decides it.
    pub exit_code: Option<u8>,
    pub stall: Option<StallReport>,
    /// Where every byte was at the verdict (bytes).
    pub ledger: Option<Ledger>,
    /// The evidence, one sentence each.
    pub evidence: Vec<String>,
    /// Who waits in which call (`watch`), one line each.
    pub who_waits: Vec<String>,
    /// The two balance lines of the ledger (`client → server: sent … = …`, `adds up exactly`).
    pub balance: Vec<String>,
    /// The terminal's summary, as printed.
    pub summary: String,
}

/// The classroom view: one row per watched connection, the stuck ones first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dashboard {
    pub rows: Vec<DashboardRow>,
    /// Connections watched in all, closed ones included.
    pub total: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardRow {
    pub id: u32,
    /// The connection's short name, as the terminal table shows it.
    pub name: String,
    /// Its state, in the terminal table's word (`deadlocked`, `crawling`, `flowing`, …).
    pub state: String,
    /// Whether the state is one a person watching wants first.
    pub stuck: bool,
    /// The four queues in the order the bytes travel (bytes); `None` when out of sight.
    pub queues: [Option<u64>; 4],
    /// The same four as the terminal table prints them (`127.92 KiB`, `-`).
    pub queue_text: [String; 4],
    /// The terminal table's last column (`client in send, server in send`).
    pub who_waits: String,
    /// The programs at both ends, as the kernel names their threads (student-chosen text).
    pub programs: Vec<String>,
}

/// The end of what will be sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndFrame {
    /// The command's exit code, when known.
    pub exit_code: Option<u8>,
    /// How much longer the server answers (milliseconds).
    pub linger_ms: u64,
}
