//! A process's resident memory and thread count from `/proc/PID/status` (proc(5)): what the load
//! test reports about the server before and after a class's worth of clients.

use std::io;

/// The two lines of `/proc/PID/status` the load test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcStatus {
    /// `VmRSS`: resident memory (bytes).
    pub rss_bytes: u64,
    /// `Threads`: threads in the process.
    pub threads: u64,
}

pub fn read(pid: u32) -> io::Result<ProcStatus> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)?;
    parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmRSS or Threads line in {path} (has the process {pid} ended?)"),
        )
    })
}

/// Parses the text of a status file; `VmRSS` is given in kB (1024 bytes).
pub fn parse(text: &str) -> Option<ProcStatus> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some(ProcStatus {
        rss_bytes: field("VmRSS:")? * 1024,
        threads: field("Threads:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_and_threads_are_read_from_status_text() {
        let text = "Name:\ttcplab\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(
            parse(text),
            Some(ProcStatus {
                rss_bytes: 5120 * 1024,
                threads: 3
            })
        );
        assert_eq!(parse("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let s = read(std::process::id()).expect("own /proc status");
        assert!(s.threads >= 1 && s.rss_bytes > 0);
    }
}
