//! What `tcplab check` produces: plain data with serde derives — each run of a student's client,
//! each step against a student's server, and the document of the whole check. The text and
//! Markdown views (`report::check`) and the JSON read only these; nothing here words anything.

use serde::{Deserialize, Serialize};

use super::refserver::EchoEnd;
use super::student::ProcessEnd;
use crate::client::StrategyName;
use crate::result::{Counts, Event, Evidence, Failure, Ledger, QueuePeaks, RunResult};
use crate::sample::ThreadView;

/// Version of the JSON document of `tcplab check`.
pub const FORMAT_VERSION: u32 = 1;

pub use crate::outcome::Outcome;

/// The watchdog's verdict, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictReport {
    /// `deadlock` or `halfclose` (both wait in recv()).
    pub kind: String,
    /// The facts it rests on.
    pub evidence: Vec<Evidence>,
    /// From the connection's accept() to the verdict (milliseconds).
    pub verdict_ms: u64,
    /// From the connection's accept() to the last change of any byte counter (milliseconds).
    pub last_progress_ms: u64,
}

/// Why a client hung.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hang {
    /// Both sides wait in recv() and nothing is in flight: the server has echoed everything and
    /// waits for more or for end of stream; the client waits for echo that cannot come.
    BothWaitInRecv,
    /// Nothing moved for this long, without kernel evidence of a deadlock (milliseconds).
    Silent { ms: u64 },
    /// It never connected within this long (milliseconds).
    NeverConnected { ms: u64 },
    /// The connection was over, but the program kept running this long (milliseconds).
    KeptRunning { ms: u64 },
    /// Still running at --timeout (milliseconds).
    TimedOut { ms: u64 },
    /// The program has been stopped (Ctrl-Z, SIGSTOP) this long (milliseconds).
    Stopped { ms: u64 },
}

/// What was wrong with a client that exited with code 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shortfall {
    /// The server received another number of bytes than `{bytes}` asked for.
    WrongCount {
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// The client closed while the server was still echoing.
    ClosedEarly { echoed_bytes: u64 },
    /// The client closed its socket with echo unread, so its kernel sent a reset instead of a
    /// FIN (tcp(7)), which threw away what was still on its way (in the client's send queue and
    /// the server's receive queue): the server's program got only `received_bytes` of
    /// `expected_bytes`.
    ResetUnread {
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// Every byte was echoed, but the client closed its socket with echo unread in it
    /// (`unread_bytes`, having read `read_bytes`, from the kernel's final report of its socket,
    /// where it could be read); `reset` when its kernel reset the connection for it (tcp(7)).
    EchoUnread {
        read_bytes: Option<u64>,
        unread_bytes: Option<u64>,
        reset: bool,
    },
    /// The client connected and exited without sending a byte.
    NothingSent { expected_bytes: u64 },
}

/// One run of the student's client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRun {
    /// The command as run, placeholders filled in.
    pub command: Vec<String>,
    /// What `{bytes}` stood for (bytes); `None` when the command has none.
    pub bytes: Option<u64>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hang: Option<Hang>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<Shortfall>,
    /// The watchdog's verdict (a deadlock, or both waiting in recv()).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictReport>,
    /// Every thread of both ends at the verdict or the last look: which call each one is in.
    pub threads: Vec<ThreadView>,
    /// Where every byte was at the verdict, from the kernel's counters and queues.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<Ledger>,
    /// Bytes tcplab's server read from the client (its own counter; bytes).
    pub server_received_bytes: u64,
    /// Bytes tcplab's server wrote back (its own counter; bytes).
    pub server_echoed_bytes: u64,
    /// The four counters at the verdict or the last look, from the kernel's (bytes).
    pub counts: Counts,
    /// How the server's echo loop ended.
    pub echo_end: Option<EchoEnd>,
    /// How the client process ended.
    pub process: ProcessEnd,
    /// From the start of the program to its connection (milliseconds).
    pub connected_after_ms: Option<u64>,
    /// From the start of the program to the end of the run (milliseconds).
    pub elapsed_ms: u64,
    /// What happened to the buffers, in order.
    pub events: Vec<Event>,
    /// The highest each queue reached (bytes).
    pub peaks: QueuePeaks,
}

/// What went wrong in one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The echo differs from the uppercased input at this stream offset (bytes); `said` quotes
    /// the start of the echo when it reads as text.
    WrongByte { at_byte: u64, said: Option<String> },
    /// More came back than was sent: `received_bytes` of echo for `expected_bytes` sent.
    TooLong {
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// The echo ended (the server closed) after `received_bytes` of `expected_bytes`.
    Missing {
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// Every byte came back, but the server never closed its side: the client still waited for
    /// end of stream after this long (milliseconds).
    NeverCloses { ms: u64 },
    /// Nothing moved for this long with `received_bytes` of `expected_bytes` back (milliseconds).
    Stalled {
        ms: u64,
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// The connection failed (reset, closed early): the client's failure as data.
    Connection { failure: Failure },
    /// The run reached --timeout.
    TimedOut { ms: u64 },
}

/// One client run against the student's server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerStep {
    pub strategy: StrategyName,
    /// Bytes tcplab's client sent (bytes).
    pub bytes: u64,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// The client's whole result (counts, verification, queues).
    pub result: RunResult,
}

/// The document of `tcplab check client` (JSON, and what the text and Markdown views read).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientDoc {
    pub format_version: u32,
    /// `client`.
    pub check: String,
    /// The command as typed, placeholders and all.
    pub command: Vec<String>,
    /// Whether the command has `{bytes}`; without it any byte count passes.
    pub has_bytes: bool,
    pub ladder: bool,
    /// The sizes tried or to be tried, in order (bytes); empty without `{bytes}`.
    pub sizes_bytes: Vec<u64>,
    /// How the default size was found on this machine, when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_size: Option<super::size::Derived>,
    /// Bound on one run (milliseconds).
    pub timeout_ms: u64,
    /// Nothing moving this long is a hang (milliseconds).
    pub stall_after_ms: u64,
    pub outcome: Outcome,
    /// The first size at which it did not pass (bytes), if any.
    pub first_failure_bytes: Option<u64>,
    /// Every run, in order; the last one decided the outcome.
    pub runs: Vec<ClientRun>,
}

/// The document of `tcplab check server`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerDoc {
    pub format_version: u32,
    /// `server`.
    pub check: String,
    /// The command as typed, placeholders and all.
    pub command: Vec<String>,
    /// The command as run.
    pub command_run: Vec<String>,
    /// Where it listened (host:port).
    pub addr: String,
    /// From its start until it listened (milliseconds).
    pub listening_after_ms: u64,
    pub outcome: Outcome,
    /// The first step that did not pass: its client's strategy and size.
    pub first_failure: Option<(StrategyName, u64)>,
    /// Every client run, in order; the last one decided the outcome.
    pub steps: Vec<ServerStep>,
    /// Whether something still listened on the server's port after tcplab stopped the server and
    /// everything it had started.
    #[serde(default)]
    pub port_still_listening: bool,
    /// How the server process ended (tcplab stops it at the end).
    pub server_process: ProcessEnd,
}
