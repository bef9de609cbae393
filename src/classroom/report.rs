//! What the classroom load test reports: each client's end, the server's resources, the verdict
//! of each round and of the whole run. Plain data with serde derives; `cmd::load` prints it.

use serde::{Deserialize, Serialize};

use crate::classroom::procstat::ProcStatus;

/// One client's end.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientOutcome {
    /// From 0, in start order.
    pub index: u32,
    /// `deadlocking` or `fixed`.
    pub role: String,
    /// naive (holding), reader-thread or poll.
    pub strategy: String,
    /// completed, freed, not-freed, sent-all, failed, deadlock, timed-out.
    pub outcome: String,
    /// Bytes this client's send() calls accepted (bytes).
    pub sent_bytes: u64,
    /// Bytes of echo checked against the uppercased input and found equal (bytes).
    pub verified_bytes: u64,
    /// For a freed deadlocking client: from its last byte sent to the server closing it (ms).
    pub stall_to_free_ms: Option<u64>,
    /// Whether this client ended as it should (fixed: completed and verified; deadlocking: freed
    /// within the idle limit plus `FREE_SLACK`).
    pub ok: bool,
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
    /// From the server's own log, when it was started by the load test: the longest time a
    /// connection stood still before the server freed it (ms).
    pub server_max_freed_after_ms: Option<u64>,
    /// The server stopped cleanly on SIGINT and printed its summary (when started here).
    pub server_stopped_cleanly: Option<bool>,
    /// Every round passed (and the server, when started here, stopped cleanly).
    pub ok: bool,
}

/// The `freed after X s` figure of a server's `stuck` line, in milliseconds.
pub fn freed_after_ms(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("stuck ")?;
    let after = rest.split("freed after ").nth(1)?;
    let secs: f64 = after.split_whitespace().next()?.parse().ok()?;
    Some((secs * 1000.0).round() as u64)
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
    /// Every client ended as it should, and the server's threads and memory returned to baseline.
    pub ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_freed_after_figure_is_read_from_a_stuck_line() {
        let line = "stuck #3 from 127.0.0.1:5 (SO_SNDBUF 8 KiB, SO_RCVBUF 8 KiB): 0 B processed, \
                    0 B echoed in 1.00 s; freed after 1.1 s without movement (silent): x";
        assert_eq!(freed_after_ms(line), Some(1100));
        assert_eq!(freed_after_ms("closed #3 from x"), None);
    }
}
