//! `tcplab check`: grades a student's own program against tcplab's half of the lab.
//!
//! - `client`: tcplab's reference echo server (`refserver`) in this process, the student's client
//!   as a child process (`student`), the connection between them watched from the kernel
//!   (`observe::diag`, both ends read the same way) by the one watchdog. One run per size; the
//!   ladder is the caller's loop over `command::ladder`.
//! - `server`: the student's server as a child process, waited for until it listens, then driven
//!   by tcplab's own clients (`run::run_client`), whose echo verification names the first wrong
//!   byte.
//!
//! Everything here returns data (`ClientRun`, `ServerStep`, typed `CheckError`s); `report::check`
//! words it, `cmd::check` decides what to print and how to exit.

pub mod client;
pub mod command;
pub mod refserver;
pub mod server;
pub mod student;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::result::Evidence;
use crate::sock::NetError;
pub use student::{ProcessEnd, StartError};

/// Version of the JSON document of `tcplab check`.
pub const FORMAT_VERSION: u32 = 1;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The program did everything right at every size tried.
    Passed,
    /// The two ends waited on each other for ever (kernel evidence).
    Deadlocked,
    /// The program exited with an error (or a signal) while it was being checked.
    Crashed,
    /// It stopped making progress without a deadlock, or never finished.
    Hung,
    /// It finished, but did not do what was asked (wrong byte count, wrong echo, bytes missing).
    Failed,
    /// Ctrl-C or SIGTERM stopped the check.
    Interrupted,
}

impl Outcome {
    /// The exit code: 0 passed, 3 deadlocked, 1 any other failure, 130/143 interrupted.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Deadlocked => 3,
            Outcome::Crashed | Outcome::Hung | Outcome::Failed => 1,
            Outcome::Interrupted => crate::interrupt::exit_code(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Deadlocked => "deadlocked",
            Outcome::Crashed => "crashed",
            Outcome::Hung => "hung",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }
}

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

/// Why a check could not be carried out; the program was not judged.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot read the kernel's socket diagnostics (sock_diag): {0}")]
    Diag(io::Error),
    #[error("cannot accept the client's connection: {0}")]
    Accept(io::Error),
    /// The program ended before it connected (client) or listened (server).
    #[error("'{command}' {how} before it {what} {addr}")]
    ExitedEarly {
        command: String,
        how: String,
        /// `connected to` or `listened on`.
        what: &'static str,
        addr: SocketAddr,
        /// Its last line on stderr, if any.
        said: Option<String>,
        /// Whether the command had a `{port}` in it.
        port_given: bool,
    },
    /// Ctrl-C or SIGTERM came before the program was ready.
    #[error("stopped by {0} before the server listened")]
    Interrupted(&'static str),
    /// The server never listened on the address within the bound.
    #[error("the server never listened on {addr} within {} s", bound.as_secs())]
    NeverListened {
        addr: SocketAddr,
        bound: Duration,
        /// Ports its process does listen on, if any.
        listens_on: Vec<u16>,
        port_given: bool,
    },
}

/// How a program that ended by itself ended, in a few words: `exited with code 2`, `was killed by
/// signal 11`.
pub fn how_it_ended(p: &ProcessEnd) -> String {
    match (p.exit_code, p.signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was ended by signal {s}"),
        (None, None) => "ended".into(),
    }
}

/// One command line as a person would type it.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty()
                || a.contains(|c: char| c.is_whitespace() || "'\"$()\\;&|<>*?".contains(c))
            {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    /// Bound on one run (milliseconds).
    pub timeout_ms: u64,
    /// Nothing moving this long is a hang (milliseconds).
    pub stall_after_ms: u64,
    pub outcome: Outcome,
    /// The first size at which it did not pass (bytes), if any.
    pub first_failure_bytes: Option<u64>,
    /// Every run, in order; the last one decided the outcome.
    pub runs: Vec<client::ClientRun>,
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
    pub first_failure: Option<(crate::client::StrategyName, u64)>,
    /// Every client run, in order; the last one decided the outcome.
    pub steps: Vec<server::ServerStep>,
    /// How the server process ended (tcplab stops it at the end).
    pub server_process: ProcessEnd,
}
