//! The platform seam: everything tcplab reads from the Linux kernel about sockets and threads,
//! apart from the socket diagnostics (`diag`, netlink). tcplab reads Linux kernel state by design
//! and builds for Linux only (`lib.rs` says so at compile time elsewhere).
//!
//! - `probe`: a socket's queues and TCP_INFO through ioctl and getsockopt; the only `unsafe`.
//! - `proc`: one reader of `/proc` (through procfs) for processes, their threads, the call and
//!   state of each, and which process holds which socket.
//! - `syscall`: one table of system call numbers, names and the kind of wait each is.

pub mod probe;
pub mod proc;
pub mod syscall;

use crate::sample::Call;

/// The call the kernel shows thread `tid` of this process in, when it can be read.
pub fn own_thread_call(tid: i32) -> Option<Call> {
    let t = proc::thread(std::process::id() as i32, tid).ok()?;
    match t.call {
        proc::KernelCall::Unreadable(_) => None,
        c => Some(c.kind()),
    }
}
