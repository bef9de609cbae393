//! Kernel queue probes for Linux: how many bytes wait in each queue of a TCP socket, what the
//! windows are, and which system call a thread is blocked in. This is the only file with `unsafe`.
//!
//! - `ioctl(FIONREAD)` (= SIOCINQ, tcp(7)): bytes in the receive queue, not yet read by the app.
//! - `ioctl(TIOCOUTQ)` (= SIOCOUTQ): bytes in the send queue, sent-but-unacknowledged included.
//! - `ioctl(SIOCOUTQNSD)`: bytes in the send queue not yet sent at all.
//! - `getsockopt(TCP_INFO)`: windows, window scales, zero-window probes. The struct grows with
//!   kernel versions, so fields are read by offset from `linux/tcp.h` after checking the length the
//!   kernel returned.
//! - `/proc/self/task/TID/syscall`: the number of the system call a thread is blocked in.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

use crate::sample::{Call, KernelQueues, TcpInfoView};

/// `SIOCOUTQNSD` from `linux/sockios.h`; not exported by the libc crate.
const SIOCOUTQNSD: libc::Ioctl = 0x894B;

// Offsets into `struct tcp_info` (linux/tcp.h).
const TCPI_STATE: usize = 0;
const TCPI_PROBES: usize = 3;
const TCPI_BACKOFF: usize = 4;
const TCPI_WSCALE: usize = 6; // snd_wscale : 4, rcv_wscale : 4
const TCPI_UNACKED: usize = 24;
const TCPI_TOTAL_RETRANS: usize = 100;
const TCPI_BYTES_ACKED: usize = 120;
const TCPI_BYTES_RECEIVED: usize = 128;
const TCPI_NOTSENT_BYTES: usize = 144;
const TCPI_SND_WND: usize = 228;
const TCPI_RCV_WND: usize = 232;
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

fn u32_at(buf: &[u8], len: usize, off: usize) -> Option<u32> {
    (off + 4 <= len).then(|| u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()))
}

fn u64_at(buf: &[u8], len: usize, off: usize) -> Option<u64> {
    (off + 8 <= len).then(|| u64::from_ne_bytes(buf[off..off + 8].try_into().unwrap()))
}

/// TCP_INFO and whether the zero-window probe timer must be armed: the kernel arms the persist
/// timer when the peer's window is zero, data waits to be sent and nothing is in flight
/// (tcp_check_probe_timer in net/ipv4/tcp_output.c).
fn tcp_info(fd: i32) -> io::Result<(TcpInfoView, Option<bool>)> {
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
    let len = (len as usize).min(TCPI_BUF_LEN);
    let byte = |off: usize| (off < len).then(|| buf[off]);
    let view = TcpInfoView {
        state: byte(TCPI_STATE).map(tcp_state_name),
        zero_window_probes: byte(TCPI_PROBES).map(u32::from),
        snd_wscale: byte(TCPI_WSCALE).map(|b| u32::from(b & 0x0f)),
        rcv_wscale: byte(TCPI_WSCALE).map(|b| u32::from(b >> 4)),
        total_retrans: u32_at(&buf, len, TCPI_TOTAL_RETRANS),
        notsent_bytes: u32_at(&buf, len, TCPI_NOTSENT_BYTES).map(u64::from),
        snd_wnd_bytes: u32_at(&buf, len, TCPI_SND_WND).map(u64::from),
        rcv_wnd_bytes: u32_at(&buf, len, TCPI_RCV_WND).map(u64::from),
        bytes_acked: u64_at(&buf, len, TCPI_BYTES_ACKED),
        bytes_received: u64_at(&buf, len, TCPI_BYTES_RECEIVED),
        backoff: byte(TCPI_BACKOFF).map(u32::from),
    };
    let probing = match (
        view.snd_wnd_bytes,
        view.notsent_bytes,
        u32_at(&buf, len, TCPI_UNACKED),
    ) {
        (Some(w), Some(n), Some(u)) => Some(w == 0 && n > 0 && u == 0),
        _ => None,
    };
    Ok((view, probing))
}

fn tcp_state_name(state: u8) -> String {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
    .to_string()
}

/// Reads every queue of one TCP socket. Socket sizes are read too, since autotuning moves them.
pub fn queues(sock: &socket2::Socket) -> io::Result<KernelQueues> {
    let fd = sock.as_raw_fd();
    let (tcp_info, probing) = match tcp_info(fd) {
        Ok((t, p)) => (Some(t), p),
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

/// The kernel's id of the calling thread, for `thread_syscall`.
pub fn current_tid() -> i32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::gettid() }
}

/// Which system call the thread `tid` of this process is in right now, from
/// `/proc/self/task/TID/syscall` (proc(5)); `None` when the file cannot be read.
pub fn thread_call(tid: i32) -> Option<Call> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
    let first = text.split_whitespace().next()?;
    if first == "running" {
        return Some(Call::Running);
    }
    let nr: libc::c_long = first.parse().ok()?;
    Some(call_of(nr))
}

/// The kind of call a system call number stands for (x86_64 and aarch64 numbers via libc).
pub fn call_of(nr: libc::c_long) -> Call {
    match nr {
        libc::SYS_sendto | libc::SYS_sendmsg | libc::SYS_write | libc::SYS_writev => Call::Send,
        libc::SYS_recvfrom | libc::SYS_recvmsg | libc::SYS_read | libc::SYS_readv => Call::Recv,
        libc::SYS_epoll_wait | libc::SYS_epoll_pwait | libc::SYS_ppoll | libc::SYS_pselect6 => {
            Call::Poll
        }
        #[cfg(target_arch = "x86_64")]
        libc::SYS_poll | libc::SYS_select => Call::Poll,
        libc::SYS_accept4 => Call::Accept,
        #[cfg(target_arch = "x86_64")]
        libc::SYS_accept => Call::Accept,
        libc::SYS_futex => Call::Futex,
        libc::SYS_nanosleep | libc::SYS_clock_nanosleep => Call::Sleep,
        _ => Call::Other,
    }
}

pub const AVAILABLE: bool = true;
