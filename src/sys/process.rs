//! A process as a whole, from `/proc/PID` (proc(5)): whether it still runs, and whether it lives
//! in this program's network namespace. Another namespace (`ip netns`, a container) has sockets of
//! its own that this namespace's sock_diag never lists, so a watch from here cannot see them;
//! tcplab must run inside it (`ip netns exec NAME …`, `nsenter --target PID --net …`).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Whether process `pid` still runs: it exists and is not a zombie (exited, not yet reaped).
pub fn running(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `PID (comm) STATE …`; comm may hold spaces and parentheses, the state follows the last ')'.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X" | "x") | None)
}

/// A network namespace, as the kernel names it: the inode of its `nsfs` file (`net:[INODE]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetNs {
    dev: u64,
    pub inode: u64,
}

fn netns_at(path: &Path) -> Option<NetNs> {
    fs::metadata(path).ok().map(|m| NetNs {
        dev: m.dev(),
        inode: m.ino(),
    })
}

/// The network namespace process `pid` lives in (`None` when it cannot be read).
pub fn netns_of(pid: u32) -> Option<NetNs> {
    netns_at(Path::new(&format!("/proc/{pid}/ns/net")))
}

/// This program's own network namespace.
pub fn own_netns() -> Option<NetNs> {
    netns_at(Path::new("/proc/self/ns/net"))
}

/// The name `ip netns` knows `ns` by (a file under /run/netns bound to it), if any.
pub fn netns_name(ns: NetNs) -> Option<String> {
    fs::read_dir("/run/netns")
        .ok()?
        .flatten()
        .find(|e| netns_at(&e.path()) == Some(ns))
        .and_then(|e| e.file_name().into_string().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_runs_and_lives_in_its_own_namespace() {
        assert!(running(std::process::id()));
        assert!(own_netns().is_some());
        assert_eq!(netns_of(std::process::id()), own_netns());
    }

    #[test]
    fn a_reaped_process_and_a_zombie_do_not_run() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Exited but not reaped: a zombie, still listed in /proc.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while running(pid) {
            assert!(std::time::Instant::now() < until, "'true' never exited");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(
            Path::new(&format!("/proc/{pid}")).exists(),
            "reaped too early"
        );
        child.wait().unwrap();
        assert!(!running(pid));
    }
}
