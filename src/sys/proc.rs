//! The processes and threads behind sockets, read from `/proc` (proc(5)): who holds a socket
//! (`/proc/PID/fd/N -> socket:[INODE]`, what `ss -p` shows), which system call each of their
//! threads is in (`/proc/PID/task/TID/syscall`) and where the kernel parked it (`wchan`).
//!
//! Nothing here fails because a file cannot be read: another user's process (EACCES), a
//! restrictive ptrace policy (EPERM on `syscall`) or a process that exits mid-scan is reported
//! as data ([`Unreadable`]). Sockets themselves come from `netlink`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;

use procfs::ProcError;
use procfs::process::{Process, Syscall};

use super::syscall;
use crate::sample::Call;

/// Why something in `/proc` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// EACCES/EPERM: another user's process, or a ptrace policy (Yama) that forbids reading
    /// `syscall` of a process that is not our child.
    PermissionDenied,
    /// The process or thread exited while it was being read.
    Gone,
    /// Any other failure, as the OS described it.
    Other(String),
}

impl From<ProcError> for Unreadable {
    fn from(e: ProcError) -> Self {
        match e {
            ProcError::PermissionDenied(_) => Unreadable::PermissionDenied,
            ProcError::NotFound(_) => Unreadable::Gone,
            ProcError::Io(e, _) => Unreadable::from(e),
            other => Unreadable::Other(other.to_string()),
        }
    }
}

impl From<io::Error> for Unreadable {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => Unreadable::PermissionDenied,
            Some(libc::ENOENT | libc::ESRCH) => Unreadable::Gone,
            _ => Unreadable::Other(e.to_string()),
        }
    }
}

/// One open file descriptor that refers to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    /// Process id.
    pub pid: i32,
    /// File descriptor number in that process.
    pub fd: i32,
}

/// For each inode asked about and found: every (process, fd) that holds it. A socket may have
/// several owners (a forked child, a `dup`).
pub type OwnerMap = HashMap<u64, Vec<Owner>>;

/// Finds which processes hold the sockets `inodes` by reading every `/proc/PID/fd` link. Costs
/// one `readlink` per open fd on the machine; see [`Owners`] for repeated lookups.
pub fn socket_owners(inodes: &HashSet<u64>) -> OwnerMap {
    let mut owners = OwnerMap::new();
    let Ok(proc_dir) = fs::read_dir("/proc") else {
        return owners;
    };
    for entry in proc_dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        // Plain readdir + readlink: procfs's `Process::fd` also opens and stats every fd,
        // three system calls where one is enough here.
        // Another user's process (EACCES) is passed over.
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd_entry in fds.flatten() {
            let Some(fd) = fd_entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(target) = fs::read_link(fd_entry.path()) else {
                continue;
            };
            if let Some(inode) = target.to_str().and_then(socket_inode)
                && inodes.contains(&inode)
            {
                owners.entry(inode).or_default().push(Owner { pid, fd });
            }
        }
    }
    owners
}

/// `socket:[12345]` → 12345: how `/proc/PID/fd/N` names a socket.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The inodes of the sockets process `pid` holds (empty when its fds cannot be read).
pub fn socket_inodes(pid: u32) -> HashSet<u64> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return HashSet::new();
    };
    dir.flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .filter_map(|t| socket_inode(t.to_str()?))
        .collect()
}

/// A cache of socket owners for a caller that asks 5–10 times a second about mostly the same
/// sockets. `/proc` is scanned again only when an inode shows up that no scan has seen; cached
/// owners are checked with one `readlink` each, so a closed fd or an exited process drops out
/// (and when none is left, the next lookup scans again: a forking server whose parent closed its
/// copy is then found in the child). A second holder that appears while the first one keeps its
/// fd is not noticed until the inode is scanned for again.
#[derive(Debug, Default)]
pub struct Owners {
    known: HashMap<u64, Vec<Owner>>,
    /// Inodes a full scan found no (readable) owner for: not worth another scan each time.
    unowned: HashSet<u64>,
    scans: u32,
}

impl Owners {
    /// An empty cache; the first lookup scans.
    pub fn new() -> Self {
        Owners::default()
    }

    /// The owners of `inodes` (inode 0, a socket with no file, is never looked up). Entries for
    /// inodes not asked about are forgotten.
    pub fn lookup(&mut self, inodes: &HashSet<u64>) -> &HashMap<u64, Vec<Owner>> {
        self.known.retain(|inode, _| inodes.contains(inode));
        self.unowned.retain(|inode| inodes.contains(inode));
        for (inode, owners) in self.known.iter_mut() {
            owners.retain(|o| still_holds(*o, *inode));
        }
        self.known.retain(|_, owners| !owners.is_empty());
        let unknown = inodes
            .iter()
            .any(|i| *i != 0 && !self.known.contains_key(i) && !self.unowned.contains(i));
        if unknown {
            self.known = socket_owners(inodes);
            self.unowned = inodes
                .iter()
                .copied()
                .filter(|i| !self.known.contains_key(i))
                .collect();
            self.scans += 1;
        }
        &self.known
    }

    /// Full scans of `/proc` so far; count.
    pub fn scans(&self) -> u32 {
        self.scans
    }
}

fn still_holds(o: Owner, inode: u64) -> bool {
    fs::read_link(format!("/proc/{}/fd/{}", o.pid, o.fd))
        .ok()
        .and_then(|t| t.to_str().and_then(socket_inode))
        == Some(inode)
}

/// Which system call a thread is in, from `/proc/PID/task/TID/syscall`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelCall {
    /// On a CPU (or runnable) right now.
    Running,
    /// Blocked inside system call `nr` (x86_64 numbering on x86_64) with these arguments.
    Blocked { nr: i64, args: [u64; 6] },
    /// Blocked, but not in a system call (the file shows -1): a page fault, a stop signal.
    NotInSyscall,
    /// The file could not be read; the thread's `wchan` may still tell where it waits.
    Unreadable(Unreadable),
}

impl KernelCall {
    /// The name of the system call, for the calls that matter to a socket deadlock.
    pub fn name(&self) -> Option<&'static str> {
        self.syscall().map(|s| s.name)
    }

    /// The file descriptor the call works on, for calls that take one (reads, writes, sends,
    /// receives, sendfile, accept, connect): compare it with [`Owner::fd`] to tell whether the
    /// thread is blocked on *this* socket.
    pub fn fd(&self) -> Option<i32> {
        let KernelCall::Blocked { args, .. } = self else {
            return None;
        };
        // The register holds a C int: the low 32 bits are the fd.
        self.syscall()?.fd_arg.map(|i| args[i] as u32 as i32)
    }

    /// The kind of wait, as the observation model names it.
    pub fn kind(&self) -> Call {
        match self {
            KernelCall::Running | KernelCall::NotInSyscall => Call::Running,
            KernelCall::Blocked { nr, .. } => syscall::call_of(*nr),
            KernelCall::Unreadable(_) => Call::Other,
        }
    }

    fn syscall(&self) -> Option<&'static syscall::Syscall> {
        match self {
            KernelCall::Blocked { nr, .. } => syscall::lookup(*nr),
            _ => None,
        }
    }
}

/// One thread of a process and where it is in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    /// Thread id.
    pub tid: i32,
    /// Thread name (`/proc/PID/task/TID/comm`, at most 15 bytes); `None` if unreadable.
    pub comm: Option<String>,
    /// The system call it is in.
    pub call: KernelCall,
    /// The scheduler's state letter (`/proc/PID/task/TID/stat`, proc(5)): `R` running, `S`
    /// sleeping, `D` in uninterruptible wait, `T` stopped (Ctrl-Z, SIGSTOP), `t` stopped by a
    /// debugger, `Z` a zombie; `None` when unreadable.
    pub state: Option<char>,
    /// Kernel function it sleeps in (`wait_woken` for a blocked socket call,
    /// `sk_stream_wait_memory` on some kernels); `None` when running or not permitted (the
    /// kernel then shows "0").
    pub wchan: Option<String>,
}

/// Every thread of `pid` with its system call, state and `wchan`. A thread that exits during
/// the read is left out; a thread whose `syscall` is not readable is kept with
/// [`KernelCall::Unreadable`]. Fails only when the thread list itself cannot be read.
pub fn threads(pid: i32) -> Result<Vec<ThreadState>, Unreadable> {
    let process = Process::new(pid)?;
    let mut out = Vec::new();
    for task in process.tasks()? {
        let Ok(task) = task else { continue };
        if let Some(t) = thread_state(pid, &task) {
            out.push(t);
        }
    }
    Ok(out)
}

/// One thread of `pid`, as `threads` reads each (tcplab's own threads, by their ids).
pub fn thread(pid: i32, tid: i32) -> Result<ThreadState, Unreadable> {
    let task = Process::new(pid)?.task_from_tid(tid)?;
    thread_state(pid, &task).ok_or(Unreadable::Gone)
}

/// `None` when the thread is gone.
fn thread_state(pid: i32, task: &procfs::process::Task) -> Option<ThreadState> {
    let call = match task.syscall() {
        Ok(Syscall::Running) => KernelCall::Running,
        Ok(Syscall::Blocked { syscall_number, .. }) if syscall_number < 0 => {
            KernelCall::NotInSyscall
        }
        Ok(Syscall::Blocked {
            syscall_number,
            argument_registers,
            ..
        }) => KernelCall::Blocked {
            nr: syscall_number,
            args: argument_registers,
        },
        // `Syscall` is non-exhaustive: a form a later procfs adds is not one we can read.
        Ok(other) => KernelCall::Unreadable(Unreadable::Other(format!("{other:?}"))),
        Err(e) => match Unreadable::from(e) {
            Unreadable::Gone => return None,
            reason => KernelCall::Unreadable(reason),
        },
    };
    let base = format!("/proc/{pid}/task/{}", task.tid);
    Some(ThreadState {
        tid: task.tid,
        comm: read_line(&format!("{base}/comm")),
        call,
        state: task.stat().ok().map(|s| s.state),
        wchan: read_line(&format!("{base}/wchan")).filter(|w| w != "0"),
    })
}

fn read_line(path: &str) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd;

    fn own_inode(fd: i32) -> u64 {
        let link = fs::read_link(format!("/proc/self/fd/{fd}")).expect("own fd link");
        link.to_str().and_then(socket_inode).expect("a socket link")
    }

    #[test]
    fn socket_links_parse_to_inodes() {
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn a_scan_finds_this_process_holding_its_own_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let fd = listener.as_raw_fd();
        let inode = own_inode(fd);
        let owners = socket_owners(&HashSet::from([inode]));
        let me = Owner {
            pid: std::process::id() as i32,
            fd,
        };
        assert_eq!(owners.get(&inode), Some(&vec![me]));
    }

    #[test]
    fn the_cache_rescans_only_for_an_unknown_inode_and_forgets_closed_fds() {
        let a = TcpListener::bind("127.0.0.1:0").expect("bind");
        let ia = own_inode(a.as_raw_fd());
        let mut owners = Owners::new();
        assert!(owners.lookup(&HashSet::from([ia])).contains_key(&ia));
        assert!(owners.lookup(&HashSet::from([ia])).contains_key(&ia));
        assert_eq!(owners.scans(), 1, "a known inode must not trigger a scan");

        let b = TcpStream::connect(a.local_addr().expect("addr")).expect("connect");
        let ib = own_inode(b.as_raw_fd());
        let both = HashSet::from([ia, ib]);
        assert!(owners.lookup(&both).contains_key(&ib));
        assert_eq!(owners.scans(), 2);

        drop(b);
        assert!(
            !owners.lookup(&both).contains_key(&ib),
            "a closed fd must drop out"
        );
    }

    /// The calling thread's id, from `/proc/thread-self` (std has no `gettid`).
    fn own_tid() -> i32 {
        fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok())
            .expect("/proc/thread-self names the thread")
    }

    #[test]
    fn the_calling_thread_is_listed_with_its_name() {
        let threads = threads(std::process::id() as i32).expect("own threads are readable");
        // Other tests' threads come and go meanwhile; only this one is sure to be there.
        let me = own_tid();
        let mine = threads.iter().find(|t| t.tid == me);
        assert!(mine.is_some_and(|t| t.comm.is_some()), "{threads:?}");
    }

    #[test]
    fn a_thread_blocked_in_recv_shows_the_call_and_its_fd() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        let fd = server.as_raw_fd();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let reader = std::thread::Builder::new()
            .name("tcplab-recv".into())
            .spawn(move || {
                let _ = tid_tx.send(own_tid());
                let mut buf = [0u8; 1];
                std::io::Read::read(&mut &server, &mut buf)
            })
            .expect("spawn");
        let tid = tid_rx.recv().expect("tid");
        let pid = std::process::id() as i32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let seen = loop {
            let t = threads(pid).expect("threads");
            let me = t
                .into_iter()
                .find(|t| t.tid == tid)
                .expect("reader thread listed");
            if matches!(me.call, KernelCall::Blocked { .. }) {
                break me;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "reader never blocked: {me:?}"
            );
            std::thread::yield_now();
        };
        assert_eq!(seen.call.fd(), Some(fd), "{seen:?}");
        assert!(
            matches!(seen.call.name(), Some("recvfrom" | "read")),
            "{seen:?}"
        );
        assert_eq!(seen.comm.as_deref(), Some("tcplab-recv"));
        assert!(seen.wchan.is_some(), "{seen:?}");
        drop(client);
        let _ = reader.join();
    }

    #[test]
    fn a_vanished_process_is_data_not_an_error() {
        // PIDs are below 2^22 on Linux (pid_max), so this one cannot exist.
        assert_eq!(threads(i32::MAX), Err(Unreadable::Gone));
        assert_eq!(thread(i32::MAX, 1).map(|t| t.tid), Err(Unreadable::Gone));
    }

    #[test]
    fn permission_errors_map_to_permission_denied() {
        let e = |n| Unreadable::from(io::Error::from_raw_os_error(n));
        assert_eq!(e(libc::EACCES), Unreadable::PermissionDenied);
        assert_eq!(e(libc::EPERM), Unreadable::PermissionDenied);
        assert_eq!(e(libc::ESRCH), Unreadable::Gone);
    }
}
