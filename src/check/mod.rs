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
pub mod family;
pub mod ladder;
pub mod refserver;
pub mod results;
pub mod server;
pub mod size;
pub mod student;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::sock::NetError;
pub use results::*;
pub use student::{ProcessEnd, StartError};

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
    #[error("'{command}' {} before it {what} {addr}", ended(*exit_code, *signal))]
    ExitedEarly {
        command: String,
        exit_code: Option<i32>,
        signal: Option<i32>,
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
    /// The server listens on the port, but on an address that does not take connections to
    /// `addr` (0.0.0.0 for an IPv6 `addr`, ::1 for 127.0.0.1): the connection would be refused
    /// (issue 19, faults).
    #[error("'{command}' listens on {}, which does not take connections to {addr}", listening.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and "))]
    ListensElsewhere {
        command: String,
        addr: SocketAddr,
        listening: Vec<SocketAddr>,
    },
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

/// How a program ended, for the error's sentence.
fn ended(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was ended by signal {s}"),
        (None, None) => "ended".into(),
    }
}
