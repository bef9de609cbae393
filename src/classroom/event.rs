//! What the classroom server reports, as data: one `ServerEvent` per thing that happened
//! (listening, accepted, refused, closed, stuck and freed, stopped) and a `Snapshot` of the totals
//! for a live status line. `report::server` words them as log lines or writes them as JSON lines;
//! the load test reads the JSON lines instead of parsing text.

use serde::{Deserialize, Serialize};

use crate::result::Evidence;

/// One event of the server's life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The server is ready; its first event.
    Listening {
        addr: String,
        /// The address is not a loopback one: the server can be reached from the network.
        reachable_from_network: bool,
    },
    Accepted {
        id: u64,
        peer: String,
        /// Effective SO_SNDBUF and SO_RCVBUF of the accepted socket (bytes); `None` if unreadable.
        sndbuf_bytes: Option<u64>,
        rcvbuf_bytes: Option<u64>,
        /// Connections open after this one (itself included).
        open: usize,
    },
    /// A connection beyond --max-conns: told so in one line and closed.
    Refused {
        peer: String,
        open: usize,
        max_conns: usize,
    },
    /// A connection ended; `end` says how.
    Closed(ConnClosed),
    /// accept() failed (EMFILE and friends); the server goes on. The first failure carries the
    /// error; later ones are counted and reported together (`error` then `None`) when accept()
    /// works again, or at most every ten seconds while it keeps failing.
    AcceptFailed { error: Option<String>, repeats: u64 },
    /// The server stopped; its last event.
    Stopped { totals: Totals, interrupted: bool },
}

/// A connection's end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnClosed {
    pub id: u64,
    pub peer: String,
    pub sndbuf_bytes: Option<u64>,
    pub rcvbuf_bytes: Option<u64>,
    /// Bytes the server read from this connection (bytes).
    pub received_bytes: u64,
    /// Bytes the server echoed (bytes).
    pub sent_bytes: u64,
    /// From accept to the end (milliseconds).
    pub elapsed_ms: u64,
    pub end: ConnEnd,
    /// Connections still open.
    pub open: usize,
    /// Bytes received by the connections still open, at this close (bytes): with
    /// `Totals::processed_bytes`, the running total, this connection counted once.
    #[serde(default)]
    pub open_bytes: u64,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum ConnEnd {
    /// The client closed its side and everything was echoed.
    Eof,
    /// The server freed it: no progress for --idle-timeout.
    Stuck {
        /// silent, not-draining or idle.
        kind: String,
        /// How long it made no progress (milliseconds).
        still_ms: u64,
        /// The server's send and receive queues at that moment (bytes).
        send_queue_bytes: Option<u64>,
        recv_queue_bytes: Option<u64>,
        /// The call the kernel showed the thread in.
        kernel_call: Option<String>,
        evidence: Vec<Evidence>,
    },
    /// The client reset the connection.
    Reset,
    /// The client went away while the server was writing.
    BrokenPipe,
    /// The server stopped (Ctrl-C, SIGTERM) and closed it.
    Stopped,
    /// Any other error.
    Error { message: String },
}

/// Counts over the server's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub accepted: u64,
    pub closed: u64,
    /// Closed by the server after `--idle-timeout` without progress.
    pub stuck: u64,
    /// Reset or abandoned by the client.
    pub reset: u64,
    /// Turned away beyond `--max-conns`.
    pub refused: u64,
    /// Bytes received over all connections (bytes).
    pub processed_bytes: u64,
}

/// The server now, for a live status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub open: usize,
    pub totals: Totals,
    /// Bytes received by the connections still open (bytes).
    pub open_bytes: u64,
}

/// Where the server's events go.
pub trait Sink {
    /// One event. A sink deals with its own output errors: a log pipe closed by `head` must not
    /// stop the server.
    fn event(&mut self, e: &ServerEvent);
    /// The totals, about ten times a second.
    fn tick(&mut self, _now: &Snapshot) {}
}
