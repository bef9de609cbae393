//! Kernel queue probes for Linux: how many bytes wait in each queue of a TCP socket, what the
//! windows are, and which system call a thread is blocked in. This is the only file with `unsafe`.
//!
//! - `ioctl(FIONREAD)` (= SIOCINQ, tcp(7)): bytes in the receive queue, not yet read by the app.
//! - `ioctl(TIOCOUTQ)` (= SIOCOUTQ): bytes in the send queue, sent-but-unacknowledged included.
//! - `ioctl(SIOCOUTQNSD)`: bytes in the send queue not yet sent at all.
//! - `getsockopt(TCP_INFO)`: windows, window scales, zero-window probes, read by `tcpinfo::parse`,
//!   which knows which fields a shorter struct from an older kernel lacks.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

use crate::sample::KernelQueues;
use crate::tcpinfo::{self, TcpInfo};

/// `SIOCOUTQNSD` from `linux/sockios.h`; not exported by the libc crate.
const SIOCOUTQNSD: libc::Ioctl = 0x894B;

/// Room for `struct tcp_info` (280 bytes on Linux 6.18) and what later kernels add.
const TCPI_BUF_LEN: usize = 512;

fn ioctl_int(fd: i32, request: libc::Ioctl) -> io::Result<u64> {
    let mut value: libc::c_int = 0;
    // SAFETY: the three requests used here (FIONREAD, TIOCOUTQ, SIOCOUTQNSD) write one `int`
    // through the pointer, which points at a live local of that type.
    let rc = unsafe { libc::ioctl(fd, request, &mut value as *mut libc::c_int) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value.max(0) as u64)
}

/// TCP_INFO of one socket, read by `tcpinfo::parse` (the parser sock_diag's replies go through).
fn tcp_info(fd: i32) -> io::Result<TcpInfo> {
    let mut buf = [0u8; TCPI_BUF_LEN];
    let mut len = TCPI_BUF_LEN as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf`, which is that large, and stores the
    // length it wrote back into `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(tcpinfo::parse(&buf[..(len as usize).min(TCPI_BUF_LEN)]))
}

/// Reads every queue of one TCP socket. Socket sizes are read too, since autotuning moves them.
pub fn queues(sock: &socket2::Socket) -> io::Result<KernelQueues> {
    let fd = sock.as_raw_fd();
    let (tcp_info, probing) = match tcp_info(fd) {
        Ok(t) => (Some(t.view()), t.must_probe()),
        Err(_) => (None, None),
    };
    Ok(KernelQueues {
        inq_bytes: ioctl_int(fd, libc::FIONREAD)?,
        outq_bytes: ioctl_int(fd, libc::TIOCOUTQ)?,
        notsent_bytes: ioctl_int(fd, SIOCOUTQNSD)?,
        sndbuf_bytes: sock.send_buffer_size()? as u64,
        rcvbuf_bytes: sock.recv_buffer_size()? as u64,
        tcp_info,
        probing,
    })
}

/// The TCP state of one socket, numbered as in `include/net/tcp_states.h` (7 = CLOSE).
pub fn tcp_state(sock: &socket2::Socket) -> io::Result<u8> {
    Ok(tcp_info(sock.as_raw_fd())?.state)
}

/// The kernel's id of the calling thread, for reading its state in `/proc/self/task`.
pub fn current_tid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// Makes the program `cmd` starts join the cgroup whose `cgroup.procs` is `procs` before it runs a
/// single instruction of its own (between fork and exec), so that nothing it forks escapes it.
pub fn join_at_exec(cmd: &mut std::process::Command, procs: std::os::fd::OwnedFd) {
    use std::os::unix::process::CommandExt;
    let fd = procs.as_raw_fd();
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed: it makes one write(2) of a static buffer to a descriptor opened before
    // the fork (kept open by `procs`, moved into the closure), and allocates nothing. Writing "0"
    // to cgroup.procs moves the writing process itself (cgroup(7)).
    unsafe {
        cmd.pre_exec(move || {
            let _keep = &procs;
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Gives the memory the allocator holds free back to the system (glibc's `malloc_trim(0)`, every
/// arena): a server whose thousand connection threads have ended would otherwise keep their
/// arenas' pages resident.
pub fn release_free_memory() {
    // SAFETY: malloc_trim has no preconditions; it only returns free pages of the allocator's own
    // arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
