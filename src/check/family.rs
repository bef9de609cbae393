//! Every process a checked program starts, so that the check can stop them all and say truly
//! whether anything is left running. A program may fork, call setsid() to leave its process group,
//! and let its parent exit; signalling its group does not reach such a grandchild.
//!
//! Where a cgroup v2 can be made (the unified hierarchy is mounted and writable: root, or a
//! delegated subtree), each check gets one: the program joins it as it starts (before it can
//! fork), every descendant stays in it whatever it does to its group or session, and the check
//! ends them all at once (`cgroup.kill`, Linux 5.14 on; else SIGKILL to each member) and removes
//! it. Elsewhere every process of the family carries a mark in its environment
//! (`TCPLAB_CHECK=…`, inherited across fork and exec) by which /proc finds it, and tcplab makes
//! itself the subreaper of its descendants (PR_SET_CHILD_SUBREAPER, prctl(2)) so that an orphaned
//! grandchild is re-parented to tcplab, which reaps it. A program that clears its own environment
//! leaves the mark behind: that is this fallback's limit.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use serde::{Deserialize, Serialize};

/// How long the members may take to disappear once killed.
const GONE_BOUND: Duration = Duration::from_secs(3);

/// A process that outlived the check's stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survivor {
    pub pid: u32,
    /// Its command name, when it could be read.
    pub comm: Option<String>,
}

/// How a check follows the processes it started.
#[derive(Debug)]
pub enum Family {
    /// A cgroup v2 of its own, at this path.
    Cgroup(PathBuf),
    /// Processes carrying this mark in their environment; tcplab is their subreaper.
    Subreaper { mark: String },
}

/// The environment variable that marks a family's processes.
pub const MARK_VAR: &str = "TCPLAB_CHECK";

impl Family {
    /// A cgroup for one check where one can be made, else the subreaper.
    #[allow(clippy::new_without_default)] // each call makes a cgroup: not a default value
    pub fn new() -> Family {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        if let Some(base) = own_cgroup() {
            let dir = base.join(format!(
                "tcplab-check-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Relaxed)
            ));
            if fs::create_dir(&dir).is_ok() {
                return Family::Cgroup(dir);
            }
        }
        Family::new_subreaper()
    }

    /// tcplab as the subreaper of everything it starts.
    pub fn new_subreaper() -> Family {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        // Errors only for a pid that is not this process's, which it is.
        let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
        Family::Subreaper {
            mark: format!("{}-{}", std::process::id(), SEQ.fetch_add(1, Relaxed)),
        }
    }

    /// The environment variable and value the program is started with: every process it starts
    /// inherits them.
    pub fn mark(&self) -> Option<(&'static str, &str)> {
        match self {
            Family::Subreaper { mark } => Some((MARK_VAR, mark)),
            Family::Cgroup(_) => None,
        }
    }

    /// What the program must open before it execs to join the family: the cgroup's
    /// `cgroup.procs`, into which it writes itself (`sys::probe::join_at_exec`).
    pub fn procs_file(&self) -> Option<OwnedFd> {
        match self {
            Family::Cgroup(dir) => fs::OpenOptions::new()
                .write(true)
                .open(dir.join("cgroup.procs"))
                .ok()
                .map(OwnedFd::from),
            Family::Subreaper { .. } => None,
        }
    }

    /// Every member alive now (the program's descendants included), the leader `leader` aside
    /// while it is not reaped yet; and whether a process that may be one could not be told yet.
    /// A process in the middle of an exec shows an empty environment for a moment (the kernel
    /// sets the new one's bounds after the switch), so a child of tcplab, of the leader or of a
    /// member with an empty environment is looked at again rather than taken as gone.
    fn scan(&self, leader: u32) -> (Vec<u32>, bool) {
        match self {
            Family::Cgroup(dir) => (
                fs::read_to_string(dir.join("cgroup.procs"))
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect(),
                false,
            ),
            Family::Subreaper { mark } => {
                let needle = format!("{MARK_VAR}={mark}");
                let mut members = Vec::new();
                let mut blank = Vec::new();
                for p in all_pids() {
                    if p == leader && is_zombie(p) {
                        continue;
                    }
                    match fs::read(format!("/proc/{p}/environ")) {
                        Ok(env) if env.is_empty() => blank.push(p),
                        Ok(env) if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) => {
                            members.push(p)
                        }
                        _ => {}
                    }
                }
                let own = std::process::id();
                let unsure = blank.into_iter().any(|p| {
                    parent_of(p)
                        .is_some_and(|pp| pp == own || pp == leader || members.contains(&pp))
                        && !is_zombie(p)
                });
                (members, unsure)
            }
        }
    }

    /// Ends every member, waits (bounded) until none is left, and names any that survived.
    /// The leader, a child of tcplab, is reaped by the caller; re-parented orphans are reaped here.
    pub fn stop_all(&self, leader: u32) -> Vec<Survivor> {
        if let Family::Cgroup(dir) = self {
            let _ = fs::write(dir.join("cgroup.kill"), "1");
        }
        let until = Instant::now() + GONE_BOUND;
        loop {
            let (members, unsure) = self.scan(leader);
            let alive: Vec<u32> = members.into_iter().filter(|p| !is_zombie(*p)).collect();
            for p in &alive {
                if let Some(pid) = Pid::from_raw(*p as i32) {
                    let _ = rustix::process::kill_process(pid, Signal::KILL);
                }
            }
            reap_orphans(&alive, leader);
            if (alive.is_empty() && !unsure) || Instant::now() >= until {
                return alive
                    .into_iter()
                    .map(|pid| Survivor {
                        pid,
                        comm: fs::read_to_string(format!("/proc/{pid}/comm"))
                            .ok()
                            .map(|c| c.trim_end().to_string()),
                    })
                    .collect();
            }
            // A bounded wait for killed processes to leave the table.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        if let Family::Cgroup(dir) = self {
            // Only an empty cgroup can be removed; a survivor keeps it, and is named.
            let _ = fs::remove_dir(dir);
        }
    }
}

/// This process's own cgroup in the unified (v2) hierarchy, where it is mounted.
fn own_cgroup() -> Option<PathBuf> {
    let mounts = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mounts.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        (post.split_whitespace().next() == Some("cgroup2"))
            .then(|| pre.split_whitespace().nth(4).map(PathBuf::from))
            .flatten()
    })?;
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = mount.join(path.trim_start_matches('/'));
    Path::new(&dir).is_dir().then_some(dir)
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The parent of `pid` and its state, from `/proc/PID/stat` (the name may hold spaces or
/// parentheses: the fields start after the last `)`).
fn stat_fields(pid: u32) -> Option<(char, u32)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid).map(|(_, p)| p)
}

fn is_zombie(pid: u32) -> bool {
    stat_fields(pid).is_none_or(|(s, _)| s == 'Z' || s == 'X')
}

/// Reaps the zombies of the family tcplab inherited as subreaper (never the leader: the caller
/// reaps it).
fn reap_orphans(members: &[u32], leader: u32) {
    for &p in members {
        if p != leader
            && parent_of(p) == Some(std::process::id())
            && is_zombie(p)
            && let Some(pid) = Pid::from_raw(p as i32)
        {
            let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A grandchild that left its parent's group and session (setsid) is still found and ended.
    fn a_setsid_grandchild_is_found_and_stopped(family: Family) {
        // A sleep of a length no other process has: 29.PID seconds.
        let marker = format!("29.{}", std::process::id());
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("setsid sleep {marker} & exit 0")]);
        if let Some(procs) = family.procs_file() {
            crate::sys::probe::join_at_exec(&mut cmd, procs);
        }
        if let Some((k, v)) = family.mark() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("sh runs");
        let leader = child.id();
        child.wait().expect("sh exits at once");
        let until = Instant::now() + Duration::from_secs(10);
        let grandchild = loop {
            let found = family.scan(leader).0.into_iter().find(|p| {
                fs::read_to_string(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| c.split('\0').any(|a| a == marker))
            });
            if let Some(p) = found {
                break p;
            }
            assert!(Instant::now() < until, "the grandchild never showed up");
            std::thread::sleep(Duration::from_millis(20)); // bounded wait for the fork
        };
        assert_eq!(family.stop_all(leader), Vec::new());
        // Killed: a process in the middle of its exit has lost the mark /proc shows, and is a
        // zombie or gone a moment later (a bounded wait, on a busy machine too).
        let gone = || is_zombie(grandchild) || !Path::new(&format!("/proc/{grandchild}")).exists();
        let until = Instant::now() + Duration::from_secs(5);
        while !gone() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(), "the grandchild {grandchild} is still running");
    }

    /// A child with an empty environment looks like one in the middle of an exec: the scan is
    /// unsure rather than taking it as no member, so `stop_all` looks again.
    #[test]
    fn a_child_with_a_blank_environment_leaves_the_scan_unsure() {
        let family = Family::new_subreaper();
        let mut blank = Command::new("sleep")
            .arg("30")
            .env_clear()
            .spawn()
            .expect("sleep runs");
        // The environment is blank from the exec on; a bounded wait for it.
        let until = Instant::now() + Duration::from_secs(10);
        while fs::read_to_string(format!("/proc/{}/comm", blank.id()))
            .is_ok_and(|c| c.trim_end() != "sleep")
        {
            assert!(Instant::now() < until, "sleep never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let (members, unsure) = family.scan(0);
        let _ = blank.kill();
        let _ = blank.wait();
        assert!(!members.contains(&blank.id()), "it carries no mark");
        assert!(unsure, "a blank child must be looked at again");
    }

    #[test]
    fn the_subreaper_finds_an_orphan_that_left_its_session() {
        a_setsid_grandchild_is_found_and_stopped(Family::new_subreaper());
    }

    #[test]
    fn a_cgroup_keeps_an_orphan_that_left_its_session() {
        match Family::new() {
            f @ Family::Cgroup(_) => a_setsid_grandchild_is_found_and_stopped(f),
            // No writable cgroup v2 here: the subreaper test covers this machine.
            Family::Subreaper { .. } => {}
        }
    }
}
