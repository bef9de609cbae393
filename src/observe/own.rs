//! Samples of tcplab's own connections: the app counters the I/O loops keep (`counters::Shared`),
//! each thread's phase and the call the kernel shows it in (`/proc/self/task/TID/syscall`), and the
//! queues of whichever of the two sockets live in this process (ioctl and getsockopt).
//!
//! Reading /proc costs a few microseconds per thread, so the kernel's view of the threads is read
//! only when no counter moved since the last sample (a thread whose counter moves is not blocked)
//! or, for a run with a live view, when the last read is older than `CALLS_EVERY`.

use std::borrow::Cow;
use std::time::Duration;

use socket2::Socket;

use super::Sampler;
use crate::counters::{Shared, ThreadSlot};
use crate::sample::{Counts, Phase, Role, Sample, Side, ThreadView};
use crate::sock;

/// Longest time between two reads of the threads' calls while counters keep moving.
const CALLS_EVERY: Duration = Duration::from_millis(100);

/// The threads a connection of tcplab's may have: slot, name, side and role.
const THREADS: [(Slot, &str, Side, Role); 3] = [
    (Slot::Client, "tcplab-client", Side::Client, Role::Sender),
    (Slot::Reader, "tcplab-reader", Side::Client, Role::Reader),
    (Slot::Server, "tcplab-server", Side::Server, Role::Server),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Client,
    Reader,
    Server,
}

/// When the sampler last asked the kernel about the threads, and how often it may.
#[derive(Debug, Clone, Default)]
pub struct CallMemo {
    last_counts: Option<Counts>,
    last_calls: Option<Duration>,
    /// Ask at least this often; `None`: only when no counter moved.
    every: Option<Duration>,
}

impl CallMemo {
    /// Asks the kernel only when no counter moved since the last sample (many connections).
    pub fn only_when_still() -> CallMemo {
        CallMemo::default()
    }

    /// Asks also whenever the last answer is older than `CALLS_EVERY` (a live view).
    pub fn current() -> CallMemo {
        CallMemo {
            every: Some(CALLS_EVERY),
            ..CallMemo::default()
        }
    }

    /// Whether to ask the kernel for this sample, and remembers the answer.
    fn ask(&mut self, at: Duration, counts: Counts) -> bool {
        let still = self.last_counts == Some(counts);
        let stale = match self.every {
            Some(every) => self
                .last_calls
                .is_none_or(|t| at.saturating_sub(t) >= every),
            None => false,
        };
        self.last_counts = Some(counts);
        let ask = still || stale;
        if ask {
            self.last_calls = Some(at);
        }
        ask
    }
}

pub struct OwnSampler<'a> {
    shared: &'a Shared,
    client: Option<&'a Socket>,
    server: Option<&'a Socket>,
    /// The client thread's role: `Both` for a strategy that reads and writes in one loop.
    client_role: Role,
    /// Name of the server thread (a classroom connection's thread carries its number).
    server_name: Cow<'static, str>,
    /// The client keeps a slow-motion pace (`--slow`, `--pace`) and sends this many bytes in all.
    paced: Option<u64>,
    memo: CallMemo,
}

impl<'a> OwnSampler<'a> {
    /// Samples the sockets of this process that belong to the connection (`None` for an end
    /// that is elsewhere) and the threads that claimed a slot in `shared`.
    pub fn new(
        shared: &'a Shared,
        client: Option<&'a Socket>,
        server: Option<&'a Socket>,
    ) -> OwnSampler<'a> {
        OwnSampler {
            shared,
            client,
            server,
            client_role: Role::Sender,
            server_name: Cow::Borrowed("tcplab-server"),
            paced: None,
            memo: CallMemo::current(),
        }
    }

    /// Carries on from an earlier sampler of the same connection.
    pub fn with_memo(mut self, memo: CallMemo) -> Self {
        self.memo = memo;
        self
    }

    pub fn into_memo(self) -> CallMemo {
        self.memo
    }

    /// The client keeps a slow-motion pace and sends `total` bytes: until it has sent them all,
    /// its timed waits (a sleep, a poll with a timeout) are the pacer's.
    pub fn paced(mut self, total: Option<u64>) -> Self {
        self.paced = total;
        self
    }

    /// The client thread both sends and reads (an event loop).
    pub fn client_role(mut self, role: Role) -> Self {
        self.client_role = role;
        self
    }

    pub fn server_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.server_name = name.into();
        self
    }

    fn slot(&self, s: Slot) -> &ThreadSlot {
        match s {
            Slot::Client => &self.shared.client,
            Slot::Reader => &self.shared.reader,
            Slot::Server => &self.shared.server,
        }
    }
}

impl Sampler for OwnSampler<'_> {
    fn sample(&mut self, at: Duration) -> Sample {
        let counts = self.shared.counts();
        let ask_kernel = self.memo.ask(at, counts);
        let threads = THREADS
            .iter()
            .filter(|(slot, ..)| self.slot(*slot).used())
            .map(|&(slot, name, side, role)| {
                let s = self.slot(slot);
                let (name, role) = match slot {
                    Slot::Client => (Cow::Borrowed(name), self.client_role),
                    Slot::Server => (self.server_name.clone(), role),
                    Slot::Reader => (Cow::Borrowed(name), role),
                };
                let mut v = ThreadView {
                    phase: Some(s.phase()),
                    ..ThreadView::new(name, side, role)
                };
                if let Some(k) = ask_kernel.then(|| s.kernel_view()).flatten() {
                    super::kernel_fields(&mut v, &k, None);
                }
                // tcplab's own paced sender waits with a timeout only to keep its pace: while
                // bytes are still to go, or while it sleeps out the schedule of its last batch.
                v.paced = slot == Slot::Client
                    && v.timed == Some(true)
                    && self.paced.is_some_and(|total| {
                        counts.client_sent_bytes < total || v.phase == Some(Phase::Sending)
                    });
                v
            })
            .collect();
        Sample {
            at,
            counts,
            client: self.client.and_then(|s| sock::queues(s).ok()),
            server: self.server.and_then(|s| sock::queues(s).ok()),
            threads,
        }
    }
}
