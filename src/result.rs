//! What a run produces: plain data with serde derives. The terminal summary, JSON, CSV and plots
//! are all views of these types; nothing here formats for people.

use serde::{Deserialize, Serialize};

pub use crate::outcome::Outcome;
pub use crate::sample::{Counts, KernelQueues, Side, TcpInfoView};
pub use crate::watchdog::{Evidence, StallBasis};

/// Version of the JSON document; bumped when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// How the client sends and reads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum StrategyName {
    /// The classic client: send everything (a write-all loop), shut down the write half, then read.
    /// Deadlocks once the data exceeds what the four buffers can hold.
    Naive,
    /// Fix: a second thread reads the replies while the main thread sends.
    ReaderThread,
    /// Fix: one thread, a non-blocking socket, an event loop that writes when writable and reads
    /// when readable.
    Poll,
    /// The bug that a write-all loop fixes: one send() per chunk on a non-blocking socket, its
    /// return value ignored. Shows the short sends and counts the bytes silently never sent.
    SendOnce,
}

impl StrategyName {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where the run's peers were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Mode {
    /// Both peers in one process, all four buffers in view (`tcplab deadlock`).
    Deadlock,
    /// The client alone; the server is in another process (`tcplab client`).
    Client,
}

impl Mode {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The settings a run used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub mode: Mode,
    /// Client strategy: naive, reader-thread, poll or send-once.
    pub strategy: StrategyName,
    /// Bytes the client was asked to send, rounded up to whole chunks (bytes).
    pub bytes_total: u64,
    /// Bytes asked for with --bytes, before the rounding up to whole chunks (bytes).
    #[serde(default)]
    pub bytes_requested: u64,
    /// Size of each client write (bytes).
    pub chunk_bytes: u64,
    /// Largest single recv() of the server and the client's reader (bytes).
    pub read_bytes: u64,
    /// Address of the server (host:port).
    pub server_addr: String,
    /// Address of the client's socket (host:port), to find this connection in a server's log.
    #[serde(default)]
    pub client_addr: Option<String>,
    /// Whether buffer sizes were set after connect()/accept() rather than before.
    pub buffers_after_connect: bool,
    /// Whether TCP_NODELAY was set on the client.
    pub nodelay: bool,
    /// Silence fallback of the stall watchdog (milliseconds).
    pub stall_after_ms: u64,
    /// Overall bound (milliseconds).
    pub timeout_ms: u64,
}

/// One buffer (SO_SNDBUF or SO_RCVBUF) of one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferSize {
    /// What was asked for (bytes); `None` for `auto` (kernel autotuning).
    pub requested_bytes: Option<u64>,
    /// What getsockopt() returned right after set-up (bytes). Linux doubles a request.
    pub effective_bytes: u64,
    /// What getsockopt() returned at the end or at the stall (bytes); autotuning moves it.
    pub final_bytes: u64,
    /// The sysctl limit the request was clamped to (bytes), when it was.
    pub clamped_to_bytes: Option<u64>,
}

/// The two buffers of one socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SocketBuffers {
    /// `client` or `server` (the server's accepted socket, which inherits the listener's sizes).
    pub role: Side,
    pub sndbuf: BufferSize,
    pub rcvbuf: BufferSize,
}

/// Which call a thread was in at the verdict: the app's own record and the kernel's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadReport {
    /// tcplab-client, tcplab-reader, tcplab-server.
    pub name: String,
    /// What the thread said it was doing (sending, receiving, polling, done).
    pub phase: String,
    /// The system call /proc/self/task/TID/syscall showed (send, recv, poll, running), if readable.
    pub kernel_call: Option<String>,
}

/// The watchdog's verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StallReport {
    pub basis: StallBasis,
    /// Time from the start to the last change of any app counter (milliseconds).
    pub last_progress_ms: u64,
    /// Time from the start to the verdict (milliseconds).
    pub verdict_ms: u64,
    /// The facts the verdict rests on, one sentence each.
    pub evidence: Vec<Evidence>,
    pub threads: Vec<ThreadReport>,
    /// With `--verify-stall`: bytes any app counter moved while the run was kept going after the
    /// verdict (bytes); 0 confirms the verdict. `None` when not checked.
    #[serde(default)]
    pub moved_after_verdict_bytes: Option<u64>,
}

/// One stage of the ledger: bytes sitting there and, for a queue, its capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Bytes counted at this stage (bytes).
    pub bytes: u64,
    /// The buffer size behind it (bytes); `None` for an application counter.
    pub capacity_bytes: Option<u64>,
}

/// One direction's conservation check: what the sender's app handed over must be in the sender's
/// not-yet-sent queue, the receiver's queue, or read by the receiving app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// What the sending application's send() calls returned (bytes).
    pub sent_bytes: u64,
    /// Not-yet-sent + receiver's queue + read by the receiver (bytes).
    pub accounted_bytes: u64,
    /// sent − accounted (bytes); negative when a blocked send() had already copied part of its
    /// buffer into the kernel, positive while segments are in flight or being retransmitted.
    pub residual_bytes: i64,
    /// Smallest residual that still counts as adding up (bytes): −(write size − 1).
    pub tolerance_low_bytes: i64,
    /// Largest residual that still counts as adding up (bytes): sent-but-unacknowledged bytes.
    pub tolerance_high_bytes: i64,
    /// Whether the residual lies within the tolerance.
    pub holds: bool,
}

/// Where every byte was, read from the kernel's queues of all four buffers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub client_app_sent: Stage,
    pub client_send_queue: Stage,
    /// Of the client's send queue, bytes not yet sent at all (bytes).
    pub client_send_queue_unsent_bytes: u64,
    pub server_recv_queue: Stage,
    pub server_app_read: Stage,
    pub server_app_written: Stage,
    pub server_send_queue: Stage,
    pub server_send_queue_unsent_bytes: u64,
    pub client_recv_queue: Stage,
    pub client_app_read: Stage,
    /// client → server.
    pub forward: Balance,
    /// server → client.
    pub backward: Balance,
}

/// The check of the echo against the uppercased input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Bytes the echo should hold (bytes).
    pub expected_bytes: u64,
    /// Bytes that came back (bytes).
    pub received_bytes: u64,
    /// Stream offset of the first byte that differed, if any (bytes).
    pub first_mismatch_at: Option<u64>,
    /// True when every expected byte came back, in order, uppercased, and nothing more.
    pub matched: bool,
    /// When the very first byte was wrong and what came back reads as text: its first line
    /// (a busy server's refusal, or a server that speaks another protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_said: Option<String>,
}

/// What the send-once strategy saw: every send() call and what it accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortSends {
    /// send() calls made, one per chunk.
    pub calls: u64,
    /// Calls that accepted the whole chunk.
    pub full: u64,
    /// Calls that accepted part of the chunk.
    pub partial: u64,
    /// Calls that accepted nothing (EAGAIN: the send buffer was full).
    pub refused: u64,
    /// Bytes offered to send() (bytes).
    pub offered_bytes: u64,
    /// Bytes send() accepted (bytes).
    pub accepted_bytes: u64,
    /// Bytes silently never sent because the return value was ignored (bytes).
    pub lost_bytes: u64,
}

/// Timings of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timings {
    /// From the start of the traffic to the end of the run (milliseconds).
    pub elapsed_ms: u64,
    /// From the start to the last change of any app counter (milliseconds).
    pub last_progress_ms: u64,
}

/// Everything one run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub format_version: u32,
    pub settings: Settings,
    pub buffers: Vec<SocketBuffers>,
    pub outcome: Outcome,
    pub counts: Counts,
    pub stall: Option<StallReport>,
    pub ledger: Option<Ledger>,
    /// The client's half of the ledger when the server is in another process.
    pub client_queues: Option<KernelQueues>,
    pub server_queues: Option<KernelQueues>,
    pub verification: Option<Verification>,
    pub short_sends: Option<ShortSends>,
    pub timings: Timings,
    /// What ended a failed or timed-out run, as data (`report` words it).
    #[serde(default)]
    pub failure: Option<Failure>,
    /// What happened to the buffers, in the order the kernel showed it.
    #[serde(default)]
    pub events: Vec<Event>,
    /// The highest each kernel queue reached during the run (bytes).
    #[serde(default)]
    pub peaks: QueuePeaks,
}

/// One thing that happened, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Time since the traffic started (milliseconds).
    pub at_ms: u64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The first echo reaches the client's receive queue.
    EchoArrives,
    /// The client's receive queue is full: it advertises a zero window (nobody reads it).
    ClientRecvQueueFull { bytes: u64 },
    /// The server's send() waits: its send queue is full and the client's window is closed.
    ServerSendBlocks { queued_bytes: u64 },
    /// The server has not read anything since it blocked: its receive queue only fills now.
    ServerStopsReading { read_bytes: u64 },
    /// The server's receive queue is full: it advertises a zero window.
    ServerRecvQueueFull {
        bytes: u64,
        /// Whether the client's receive queue was told full first (its window closed first).
        #[serde(default)]
        after_client: bool,
    },
    /// The client's send() waits: its send queue is full and the server's window is closed.
    ClientSendBlocks { queued_bytes: u64 },
    /// Both ends advertise a zero window: no byte can move either way.
    BothWindowsZero,
    /// The watchdog's verdict (`deadlock`, `halfclose` or `stuck`).
    Verdict {
        kind: String,
        /// The call each end waits in, where the verdict's evidence names one (`send`, `sendfile`,
        /// `epoll_wait`; `recv` for a server that waits on an empty queue).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_call: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        server_call: Option<String>,
    },
    /// A fix in its steady state: the reader keeps the client's receive queue under this much.
    SteadyState { client_recv_queue_peak_bytes: u64 },
    /// Healthy but crawling: the rate over the last second, with the windows opening and closing.
    Crawling { bytes_per_s: u64 },
    /// Back to full speed after a crawl.
    FullSpeed { bytes_per_s: u64 },
}

/// The highest each of the four queues reached during a run (bytes); 0 for a queue out of sight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuePeaks {
    /// The client's send queue (SIOCOUTQ, bytes).
    pub client_send_queue_bytes: u64,
    /// The server's receive queue (SIOCINQ, bytes).
    pub server_recv_queue_bytes: u64,
    /// The server's send queue (SIOCOUTQ, bytes).
    pub server_send_queue_bytes: u64,
    /// The client's receive queue (SIOCINQ, bytes).
    pub client_recv_queue_bytes: u64,
}

impl QueuePeaks {
    /// Raises each peak to what the sample shows.
    pub fn take(&mut self, s: &crate::sample::Sample) {
        if let Some(q) = &s.client {
            self.client_send_queue_bytes = self.client_send_queue_bytes.max(q.outq_bytes);
            self.client_recv_queue_bytes = self.client_recv_queue_bytes.max(q.inq_bytes);
        }
        if let Some(q) = &s.server {
            self.server_send_queue_bytes = self.server_send_queue_bytes.max(q.outq_bytes);
            self.server_recv_queue_bytes = self.server_recv_queue_bytes.max(q.inq_bytes);
        }
    }
}

/// What ended a run that failed, as data; `report::text` words it with what to try next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// The server answered with a line of text instead of the echo (a full classroom server's
    /// refusal, or a server of another protocol).
    PeerText { text: String },
    /// The connection failed in the middle of the traffic.
    Connection {
        error: IoFailure,
        /// Bytes the client had sent when it failed (bytes).
        sent_bytes: u64,
        /// Bytes the client was to send (bytes).
        total_bytes: u64,
        /// Bytes of echo that had come back (bytes).
        received_bytes: u64,
    },
    /// The echo differs from the uppercased input at this stream offset (bytes).
    EchoDiffers { at_byte: u64 },
    /// The echo ended after `received_bytes` where `expected_bytes` were expected.
    EchoShort {
        received_bytes: u64,
        expected_bytes: u64,
    },
    /// No end within --timeout; both sockets were shut down.
    TimedOut { after_ms: u64 },
    /// Seen from the client alone: the server's window stayed closed and nothing arrived for
    /// `still_ms` while a client thread waited in recv(); the server stopped taking and sending
    /// bytes (milliseconds).
    PeerStalled { still_ms: u64 },
}

/// The kind of I/O error that ended a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum IoFailure {
    /// The peer reset the connection (ECONNRESET).
    Reset,
    /// The peer closed while this side was still sending (EPIPE).
    BrokenPipe,
    /// The peer closed before the expected bytes arrived.
    ClosedEarly,
    /// Any other error, with the system's description of it.
    Other { message: String },
}

impl IoFailure {
    pub fn from_io(e: &std::io::Error) -> IoFailure {
        use std::io::ErrorKind::*;
        match e.kind() {
            ConnectionReset => IoFailure::Reset,
            BrokenPipe => IoFailure::BrokenPipe,
            UnexpectedEof => IoFailure::ClosedEarly,
            _ => IoFailure::Other {
                message: e.to_string(),
            },
        }
    }
}
