//! The one table of system calls tcplab recognises: number → name, the kind of wait it is
//! (`Call`), and which argument holds the file descriptor it works on. Numbers come from libc,
//! so the table is right for the architecture the binary is built for (x86_64 and aarch64 differ:
//! the older ABI's `poll`, `select`, `epoll_wait` and `accept` exist only on x86_64).

use crate::sample::Call;

/// One system call a blocked network program may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    pub nr: i64,
    pub name: &'static str,
    pub call: Call,
    /// The argument (0-based) that holds the socket's file descriptor, for calls that take one.
    pub fd_arg: Option<usize>,
}

const fn sc(nr: i64, name: &'static str, call: Call, fd_arg: Option<usize>) -> Syscall {
    Syscall {
        nr,
        name,
        call,
        fd_arg,
    }
}

const TABLE: &[Syscall] = &[
    sc(libc::SYS_sendto, "sendto", Call::Send, Some(0)),
    sc(libc::SYS_sendmsg, "sendmsg", Call::Send, Some(0)),
    sc(libc::SYS_sendmmsg, "sendmmsg", Call::Send, Some(0)),
    sc(libc::SYS_write, "write", Call::Send, Some(0)),
    sc(libc::SYS_writev, "writev", Call::Send, Some(0)),
    sc(libc::SYS_pwritev, "pwritev", Call::Send, Some(0)),
    // sendfile(out_fd, in_fd, …): the socket is the first argument; splice(in, _, out, …) the third.
    sc(libc::SYS_sendfile, "sendfile", Call::Send, Some(0)),
    sc(libc::SYS_splice, "splice", Call::Send, Some(2)),
    sc(libc::SYS_recvfrom, "recvfrom", Call::Recv, Some(0)),
    sc(libc::SYS_recvmsg, "recvmsg", Call::Recv, Some(0)),
    sc(libc::SYS_recvmmsg, "recvmmsg", Call::Recv, Some(0)),
    sc(libc::SYS_read, "read", Call::Recv, Some(0)),
    sc(libc::SYS_readv, "readv", Call::Recv, Some(0)),
    sc(libc::SYS_ppoll, "ppoll", Call::Poll, None),
    sc(libc::SYS_pselect6, "pselect6", Call::Poll, None),
    sc(libc::SYS_epoll_pwait, "epoll_pwait", Call::Poll, None),
    sc(libc::SYS_epoll_pwait2, "epoll_pwait2", Call::Poll, None),
    sc(libc::SYS_futex, "futex", Call::Futex, None),
    sc(libc::SYS_nanosleep, "nanosleep", Call::Sleep, None),
    sc(
        libc::SYS_clock_nanosleep,
        "clock_nanosleep",
        Call::Sleep,
        None,
    ),
    sc(libc::SYS_accept4, "accept4", Call::Accept, Some(0)),
    sc(libc::SYS_connect, "connect", Call::Other, Some(0)),
    sc(libc::SYS_wait4, "wait4", Call::Other, None),
    #[cfg(target_arch = "x86_64")]
    sc(libc::SYS_poll, "poll", Call::Poll, None),
    #[cfg(target_arch = "x86_64")]
    sc(libc::SYS_select, "select", Call::Poll, None),
    #[cfg(target_arch = "x86_64")]
    sc(libc::SYS_epoll_wait, "epoll_wait", Call::Poll, None),
    #[cfg(target_arch = "x86_64")]
    sc(libc::SYS_accept, "accept", Call::Accept, Some(0)),
    #[cfg(target_arch = "x86_64")]
    sc(libc::SYS_pause, "pause", Call::Other, None),
];

/// The entry for system call `nr`, if tcplab knows it.
pub fn lookup(nr: i64) -> Option<&'static Syscall> {
    TABLE.iter().find(|s| s.nr == nr)
}

/// The kind of wait system call `nr` is: `Other` for a call tcplab does not know.
pub fn call_of(nr: i64) -> Call {
    lookup(nr).map_or(Call::Other, |s| s.call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_of_a_blocked_network_program_have_names_and_kinds() {
        assert_eq!(lookup(libc::SYS_sendto).map(|s| s.name), Some("sendto"));
        assert_eq!(call_of(libc::SYS_sendfile), Call::Send);
        assert_eq!(call_of(libc::SYS_recvfrom), Call::Recv);
        assert_eq!(call_of(libc::SYS_epoll_pwait), Call::Poll);
        assert_eq!(call_of(libc::SYS_clock_nanosleep), Call::Sleep);
        assert_eq!(call_of(libc::SYS_futex), Call::Futex);
        assert_eq!(call_of(-1), Call::Other);
        assert_eq!(lookup(-1), None);
    }

    #[test]
    fn every_number_appears_once() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|b| b.nr != a.nr),
                "{} twice",
                a.name
            );
        }
    }
}
