//! What the classroom load test reports: each client's end, the server's resources, the verdict
//! of each round and of the whole run. Plain data with serde derives; `report::load` words it.

use serde::{Deserialize, Serialize};

use crate::classroom::procstat::ProcStatus;
use crate::result::Failure;

/// What a load-test client is there to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum LoadRole {
    /// Sends without reading, then holds the socket until the server frees it.
    Deadlocking,
    /// A fixed client (reader-thread or poll) whose echo is verified.
    Fixed,
}

/// How a load-test client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ClientEnd {
    Completed,
    /// The server closed the stuck client.
    Freed,
    /// The deadline passed and the server had not closed it.
    NotFreed,
    /// Everything was sent (the buffers held it all): never stuck.
    SentAll,
    Failed,
    Deadlock,
    TimedOut,
    Interrupted,
}

/// One client's end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientOutcome {
    /// From 0, in start order.
    pub index: u32,
    pub role: LoadRole,
    /// naive (holding), reader-thread or poll.
    pub strategy: String,
    pub outcome: ClientEnd,
    /// Bytes this client's send() calls accepted (bytes).
    pub sent_bytes: u64,
    /// Bytes of echo checked against the uppercased input and found equal (bytes).
    pub verified_bytes: u64,
    /// For a freed deadlocking client: from its last byte sent to the server closing it (ms).
    pub stall_to_free_ms: Option<u64>,
    /// The client's own address, to find its connection in the server's events.
    #[serde(default)]
    pub client_addr: Option<String>,
    /// Whether this client ended as it should (fixed: completed and verified; deadlocking: freed
    /// within the idle limit plus `FREE_SLACK`).
    pub ok: bool,
    /// What ended a fixed client's run that failed.
    #[serde(default)]
    pub failure: Option<Failure>,
    /// A client that could not connect or whose connection failed outside a run.
    pub error: Option<String>,
}

/// The server's resources at three moments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerUsage {
    pub before: ProcStatus,
    /// The largest values sampled while the clients ran.
    pub peak: ProcStatus,
    pub after: ProcStatus,
    /// `after.rss_bytes − before.rss_bytes` (bytes; negative when it shrank).
    pub rss_growth_bytes: i64,
    /// The allowed growth (bytes).
    pub rss_tolerance_bytes: u64,
}

/// Every round of a load test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadRun {
    pub rounds: Vec<LoadReport>,
    /// From the server's own events, when it was started by the load test: the longest time a
    /// connection stood still before the server freed it (ms).
    pub server_max_freed_after_ms: Option<u64>,
    /// The server stopped cleanly on SIGINT and reported its totals (when started here).
    pub server_stopped_cleanly: Option<bool>,
    /// The totals the server reported when it stopped (when started here).
    #[serde(default)]
    pub server_totals: Option<crate::classroom::event::Totals>,
    /// Every round passed (and the server, when started here, stopped cleanly).
    pub ok: bool,
    /// Ctrl-C or SIGTERM stopped the test: no client or round was started after it.
    #[serde(default)]
    pub interrupted: bool,
}

/// One round of a load test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    pub clients: Vec<ClientOutcome>,
    pub fixed_total: u32,
    pub fixed_ok: u32,
    pub deadlocking_total: u32,
    pub deadlocking_ok: u32,
    /// The longest time from a deadlocking client's last byte to the server freeing it (ms).
    pub max_stall_to_free_ms: Option<u64>,
    pub idle_timeout_ms: u64,
    /// Everything from the first connect to the last client's end (ms).
    pub elapsed_ms: u64,
    pub server: Option<ServerUsage>,
    /// Ctrl-C or SIGTERM came during the round: the clients not started yet never were.
    #[serde(default)]
    pub interrupted: bool,
    /// Every client ended as it should, and the server's threads and memory returned to baseline.
    pub ok: bool,
}
