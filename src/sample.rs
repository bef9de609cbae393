//! The one observation model: what tcplab knows about a connection at one moment. Every source of
//! facts produces this same `Sample` — tcplab's own sockets (ioctl, getsockopt, /proc/self/task;
//! `observe::own`) and, for programs tcplab did not write, the kernel's socket diagnostics and
//! /proc — and every consumer reads only this: the watchdog's rules, the narrated events, the
//! live view, the timeline recorder.
//!
//! Plain data with serde derives; this module imports nothing from the crate, so everything else
//! may depend on it without a circle.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// What a thread is for. tcplab knows it for its own threads; for another program's it is
/// `Unknown` and only the kernel's view of the thread says anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sends the client's stream (and, in the naive strategy, reads the echo afterwards).
    Sender,
    /// Exists to read: it counts as a reader from the moment it is spawned until it is done.
    Reader,
    /// Reads and writes in one event loop.
    Both,
    /// The echo server's thread: reads, then writes back.
    Server,
    Unknown,
}

/// What a thread says it is doing, recorded by the thread itself at phase changes. The watcher
/// reads it together with the kernel's view (`Call`), which is what a blocked thread really is in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::FromRepr,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
#[strum(serialize_all = "snake_case")]
pub enum Phase {
    #[strum(serialize = "not started")]
    NotStarted = 0,
    Sending = 1,
    Receiving = 2,
    Polling = 3,
    Done = 4,
}

impl Phase {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The system call the kernel shows a thread in (`/proc/PID/task/TID/syscall`, proc(5)).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Call {
    /// On a CPU or runnable: not blocked in any call.
    Running,
    /// sendto, sendmsg or write.
    Send,
    /// recvfrom, recvmsg or read.
    Recv,
    /// poll, ppoll, select, epoll_wait.
    Poll,
    /// nanosleep, clock_nanosleep.
    Sleep,
    /// futex: waiting for a lock, a condition or another thread.
    Futex,
    Accept,
    Other,
}

impl Call {
    /// The name a person reads: `send` for `blocked in send()`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// One thread at the moment of a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadView {
    /// `tcplab-client`, `tcplab-reader`, `tcplab-server`, or a watched program's thread name.
    pub name: Cow<'static, str>,
    pub side: Side,
    pub role: Role,
    /// The thread's own record, where the program keeps one (tcplab's threads).
    pub phase: Option<Phase>,
    /// The kernel's view; `None` when it could not be read (or was not asked for this sample).
    pub call: Option<Call>,
    /// Whether the call's file descriptor is this connection's socket, when known.
    pub on_socket: Option<bool>,
    /// Process and kernel thread id, for threads of other programs.
    pub pid: Option<u32>,
    pub tid: Option<u32>,
    /// The system call's own name (`sendto`, `recvfrom`), when the source knows it.
    #[serde(default)]
    pub syscall: Option<Cow<'static, str>>,
    /// The scheduler's state letter (`R` running, `S` sleeping, `D` uninterruptible, `T` stopped
    /// by Ctrl-Z or SIGSTOP, `t` by a debugger), when read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<char>,
    /// Time it has run on a CPU so far (nanoseconds), when read: unchanged between two samples
    /// means it did not run at all in between.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ns: Option<u64>,
    /// Whether its wait ends by itself (a sleep, a wait with a timeout), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed: Option<bool>,
    /// tcplab's own slow-motion pacing: the sender sleeps until its schedule allows the next
    /// batch, in short naps so that a stop is noticed at once. Its waking is the schedule's, so
    /// it holds a verdict off however often it has run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paced: bool,
}

impl ThreadView {
    /// A thread known by its name, side and role only: what it does and what the kernel says of
    /// it are filled in by the source that reads them.
    pub fn new(name: Cow<'static, str>, side: Side, role: Role) -> ThreadView {
        ThreadView {
            name,
            side,
            role,
            phase: None,
            call: None,
            on_socket: None,
            pid: None,
            tid: None,
            syscall: None,
            state: None,
            cpu_ns: None,
            timed: None,
            paced: false,
        }
    }

    /// Whether this thread may read the connection now or soon. A thread that exists to read
    /// counts until it is done (it may still be starting, or between two recv() calls); for a
    /// thread of unknown purpose only the kernel's view decides, and an unknown view may read.
    pub fn may_read(&self) -> bool {
        match (self.role, self.phase) {
            (_, Some(Phase::Done)) => false,
            (Role::Reader | Role::Both, _) => true,
            (Role::Sender | Role::Server, Some(p)) => {
                matches!(p, Phase::Receiving | Phase::Polling)
            }
            (Role::Sender | Role::Server, None) | (Role::Unknown, _) => match self.call {
                Some(Call::Recv | Call::Poll | Call::Running) | None => {
                    self.on_socket != Some(false) || self.call.is_none()
                }
                Some(_) => false,
            },
        }
    }

    /// Whether its process is stopped (Ctrl-Z, SIGSTOP, or a debugger).
    pub fn stopped(&self) -> bool {
        matches!(self.state, Some('T' | 't'))
    }

    /// The call it waits in as a person names it: the system call's own name for another
    /// program's thread (`sendfile`, `epoll_wait`), the kind of call for tcplab's own (`send`).
    pub fn call_label(&self) -> Option<String> {
        match (&self.syscall, self.role) {
            (Some(name), Role::Unknown) => Some(name.to_string()),
            _ => self.call.map(|c| c.name().to_string()),
        }
    }

    /// Whether the thread is blocked sending: its own record says so (where it keeps one) and the
    /// kernel shows it in send(), or cannot be asked.
    pub fn blocked_in_send(&self) -> bool {
        let app = self.phase.is_none_or(|p| p == Phase::Sending);
        let kernel = match self.call {
            Some(Call::Send) => self.on_socket != Some(false),
            None => self.phase.is_some(),
            Some(_) => false,
        };
        app && kernel
    }

    /// Whether the thread waits in recv() (its record, confirmed by the kernel where readable).
    pub fn waiting_in_recv(&self) -> bool {
        let app = self.phase.is_none_or(|p| p == Phase::Receiving);
        let kernel = match self.call {
            Some(Call::Recv) => self.on_socket != Some(false),
            None => self.phase.is_some(),
            Some(_) => false,
        };
        app && kernel
    }
}

/// Selected fields of the kernel's TCP_INFO for one socket; each is `None` when the kernel did
/// not send that far into its struct.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TcpInfoView {
    /// TCP state name (ESTABLISHED, FIN_WAIT1, …).
    pub state: Option<String>,
    /// Unanswered zero-window probes outstanding.
    pub zero_window_probes: Option<u32>,
    /// Window scale this side applies to the peer's advertised window.
    pub snd_wscale: Option<u32>,
    /// Window scale this side uses for its own advertisements.
    pub rcv_wscale: Option<u32>,
    /// Retransmitted segments over the connection's life.
    pub total_retrans: Option<u32>,
    /// Bytes in the send queue not yet sent (bytes).
    pub notsent_bytes: Option<u64>,
    /// The peer's last advertised receive window (bytes): 0 means "stop sending".
    pub snd_wnd_bytes: Option<u64>,
    /// This side's current receive window (bytes).
    pub rcv_wnd_bytes: Option<u64>,
    /// Bytes the peer acknowledged, the SYN's one included (bytes).
    #[serde(default)]
    pub bytes_acked: Option<u64>,
    /// Bytes received in sequence (bytes).
    #[serde(default)]
    pub bytes_received: Option<u64>,
    /// Exponential backoff of the retransmission or probe timer (doublings).
    #[serde(default)]
    pub backoff: Option<u32>,
}

/// A window smaller than this is closed for the lesson's purposes: a receiver whose queue is full
/// may still advertise the last few hundred bytes (seen: 190 bytes for 8 s with 128 KiB queued
/// behind it), and no sender sends into it.
pub const CLOSED_BELOW: u64 = 1024;

/// Whether a window (bytes) is closed: zero, or too small for any sender to use.
pub fn closed(window: Option<u64>) -> bool {
    window.is_some_and(|w| w < CLOSED_BELOW)
}

/// The kernel's queues of one socket at one moment, with its capacities.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KernelQueues {
    /// Bytes waiting to be read by the application (SIOCINQ).
    pub inq_bytes: u64,
    /// Bytes in the send queue, sent-but-unacknowledged included (SIOCOUTQ).
    pub outq_bytes: u64,
    /// Bytes in the send queue not yet sent (SIOCOUTQNSD).
    pub notsent_bytes: u64,
    /// SO_SNDBUF at that moment (bytes).
    pub sndbuf_bytes: u64,
    /// SO_RCVBUF at that moment (bytes).
    pub rcvbuf_bytes: u64,
    pub tcp_info: Option<TcpInfoView>,
    /// Whether the zero-window probe (persist) timer is armed, when the source can tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probing: Option<bool>,
}

impl KernelQueues {
    /// The peer's advertised window as this socket last saw it (bytes).
    pub fn peer_window(&self) -> Option<u64> {
        self.tcp_info.as_ref().and_then(|t| t.snd_wnd_bytes)
    }
}

/// The application-level counters the I/O loops bump.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Bytes the client's send() calls returned as accepted (bytes).
    pub client_sent_bytes: u64,
    /// Bytes the server's recv() calls returned (bytes); in `client` mode, unknown and 0.
    pub server_received_bytes: u64,
    /// Bytes the server's send() calls returned as accepted (bytes); in `client` mode, 0.
    pub server_sent_bytes: u64,
    /// Bytes the client's recv() calls returned (bytes).
    pub client_received_bytes: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.client_sent_bytes
            + self.server_received_bytes
            + self.server_sent_bytes
            + self.client_received_bytes
    }
}

/// Everything the watcher saw of one connection at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// Time since the traffic started.
    pub at: Duration,
    pub counts: Counts,
    /// The client's socket; `None` when it is out of sight (or the probe failed).
    pub client: Option<KernelQueues>,
    /// The server's socket; `None` when it is in another process (`tcplab client`).
    pub server: Option<KernelQueues>,
    pub threads: Vec<ThreadView>,
}

impl Sample {
    pub fn socket(&self, side: Side) -> Option<&KernelQueues> {
        match side {
            Side::Client => self.client.as_ref(),
            Side::Server => self.server.as_ref(),
        }
    }

    pub fn threads_of(&self, side: Side) -> impl Iterator<Item = &ThreadView> {
        self.threads.iter().filter(move |t| t.side == side)
    }
}

/// A thread of tcplab's own, named as the sampler names it, for the rules' and the narrator's
/// synthetic timelines.
#[cfg(test)]
pub(crate) fn test_thread(side: Side, role: Role, phase: Phase, call: Option<Call>) -> ThreadView {
    let name = match (side, role) {
        (Side::Client, Role::Reader) => "tcplab-reader",
        (Side::Client, _) => "tcplab-client",
        (Side::Server, _) => "tcplab-server",
    };
    ThreadView {
        phase: Some(phase),
        call,
        ..ThreadView::new(Cow::Borrowed(name), side, role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(role: Role, phase: Option<Phase>, call: Option<Call>) -> ThreadView {
        ThreadView {
            name: Cow::Borrowed("t"),
            side: Side::Client,
            role,
            phase,
            call,
            on_socket: None,
            pid: None,
            tid: None,
            syscall: None,
            state: None,
            cpu_ns: None,
            timed: None,
            paced: false,
        }
    }

    #[test]
    fn a_reader_reads_from_its_spawn_until_it_is_done() {
        assert!(t(Role::Reader, Some(Phase::NotStarted), None).may_read());
        assert!(t(Role::Reader, Some(Phase::Receiving), Some(Call::Futex)).may_read());
        assert!(!t(Role::Reader, Some(Phase::Done), None).may_read());
    }

    #[test]
    fn a_thread_of_unknown_purpose_reads_when_the_kernel_says_so_or_cannot_say() {
        assert!(t(Role::Unknown, None, Some(Call::Recv)).may_read());
        assert!(t(Role::Unknown, None, None).may_read());
        assert!(!t(Role::Unknown, None, Some(Call::Send)).may_read());
        let mut elsewhere = t(Role::Unknown, None, Some(Call::Recv));
        elsewhere.on_socket = Some(false);
        assert!(!elsewhere.may_read());
    }

    #[test]
    fn blocked_in_send_needs_the_kernels_word_when_it_can_be_read() {
        assert!(t(Role::Sender, Some(Phase::Sending), Some(Call::Send)).blocked_in_send());
        assert!(t(Role::Sender, Some(Phase::Sending), None).blocked_in_send());
        assert!(!t(Role::Sender, Some(Phase::Sending), Some(Call::Running)).blocked_in_send());
        assert!(t(Role::Unknown, None, Some(Call::Send)).blocked_in_send());
        assert!(!t(Role::Unknown, None, None).blocked_in_send());
    }
}
