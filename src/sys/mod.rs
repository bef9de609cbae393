//! The platform seam: everything tcplab reads from the Linux kernel about sockets and threads,
//! apart from the socket diagnostics (`diag`, netlink). tcplab reads Linux kernel state by design
//! and builds for Linux only (`lib.rs` says so at compile time elsewhere).
//!
//! - `input`: a file read (a FIFO's included) that Ctrl-C and SIGTERM can end.
//! - `probe`: a socket's queues and TCP_INFO through ioctl and getsockopt; the only `unsafe`.
//! - `proc`: one reader of `/proc` (through procfs) for processes, their threads, the call and
//!   state of each, and which process holds which socket.
//! - `process`: whether a process still runs, and in which network namespace.
//! - `syscall`: one table of system call numbers, names and the kind of wait each is.

pub mod input;
pub mod probe;
pub mod proc;
pub mod process;
pub mod syscall;

/// Thread `tid` of this process as the kernel shows it, when it can be read.
pub fn own_thread(tid: i32) -> Option<proc::ThreadState> {
    proc::thread(std::process::id() as i32, tid)
        .ok()
        .filter(|t| !matches!(t.call, proc::KernelCall::Unreadable(_)))
}
