//! The narrator: what happens to the four buffers, as events in the order the kernel shows them.
//! A pure function of the samples, like the watchdog's rules, so it is tested on synthetic
//! timelines and works the same for every source of samples.
//!
//! While no client thread reads (the naive client), it follows the deadlock as it builds: the echo
//! arrives, the client's receive queue fills (its window closes), the server's send() blocks, the
//! server stops reading, the server's receive queue fills, the client's send() blocks, both windows
//! are zero. While a client thread reads (a fix), nothing of that is said, since it would read as
//! a deadlock: instead the steady state (how low the reader keeps the client's receive queue), and
//! a crawl when healthy traffic slows to a trickle with the windows opening and closing.
//!
//! `report` words the events; here they are data, with their time.

use std::time::Duration;

use crate::rate::{RateTracker, WINDOW as RATE_WINDOW};
pub use crate::result::{Event, EventKind};
use crate::sample::{Call, Sample, Side};

/// How long a fix must have run before its steady state is reported.
const STEADY_AFTER: Duration = Duration::from_secs(1);
/// Below this, healthy traffic is crawling (bytes per second); a paced run uses half its pace.
const CRAWL_BELOW: u64 = 64 * 1024;
/// The server is said to have stopped reading once it read nothing for this long while blocked.
const STOPPED_READING_AFTER: Duration = Duration::from_millis(100);
/// A send queue this full (of SO_SNDBUF) is full: the next write() waits.
const FULL_FRACTION: f64 = 0.9;

pub use crate::sample::closed;

/// Whether a thread of the client exists to read while another sends: one of tcplab's readers (from
/// its spawn until it is done) or event loops. A sender that reads after its last send is not one,
/// nor is a thread of another program that waits in poll or epoll (a runtime's threads do, reading
/// nothing); another program's reading shows in its counters instead.
fn reads(t: &crate::sample::ThreadView) -> bool {
    use crate::sample::Role;
    matches!(t.role, Role::Reader | Role::Both) && t.may_read()
}

/// Whether a socket's send queue has reached its capacity.
fn send_queue_full(q: &crate::sample::KernelQueues) -> bool {
    q.sndbuf_bytes > 0 && q.outq_bytes as f64 >= FULL_FRACTION * q.sndbuf_bytes as f64
}

/// Follows one run's samples.
#[derive(Debug, Clone, Default)]
pub struct Narrator {
    said: Vec<&'static str>,
    /// The app counters' rates, the same the live view shows.
    rates: RateTracker,
    window_closed_recently: Option<Duration>,
    crawling: bool,
    client_recv_peak: u64,
    server_blocked_since: Option<(Duration, u64)>,
    last_counts: Option<crate::sample::Counts>,
    /// A paced run's rate (bytes per second): slower than this by design is not a crawl.
    pace: Option<u64>,
    saw_reader: bool,
    /// Samples in which the client both sent and read since the one before.
    overlaps: u32,
}

impl Narrator {
    pub fn new(pace: Option<u64>) -> Narrator {
        Narrator {
            pace,
            ..Narrator::default()
        }
    }

    fn once(&mut self, key: &'static str) -> bool {
        if self.said.contains(&key) {
            false
        } else {
            self.said.push(key);
            true
        }
    }

    /// Takes in one sample; the events it shows for the first time.
    pub fn observe(&mut self, s: &Sample) -> Vec<Event> {
        let mut out = Vec::new();
        let at_ms = s.at.as_millis() as u64;
        let mut say = |kind| out.push(Event { at_ms, kind });
        let cq = s.client.as_ref();
        let sq = s.server.as_ref();
        if let Some(q) = cq {
            self.client_recv_peak = self.client_recv_peak.max(q.inq_bytes);
        }
        let echo = cq.is_some_and(|q| q.inq_bytes > 0) || s.counts.client_received_bytes > 0;
        if echo && self.once("echo") {
            say(EventKind::EchoArrives);
        }
        let last = self.last_counts.replace(s.counts);
        // Reading while sending: both counters moved between two samples, seen twice (a client
        // that sends all, then reads, moves both at most once, at the turn).
        let both = last.is_some_and(|c| {
            s.counts.client_received_bytes > c.client_received_bytes
                && s.counts.client_sent_bytes > c.client_sent_bytes
        });
        self.overlaps += u32::from(both);
        if self.overlaps >= 2 || s.threads_of(Side::Client).any(reads) {
            self.saw_reader = true;
        }
        // A client that reads is a fix, for the rest of the run: nothing it does is told as a
        // deadlock building up. Nor is a connection that is closing.
        if self.saw_reader {
            self.fix(s, &mut say);
            return out;
        }
        let closing = [cq, sq].iter().flatten().any(|q| {
            q.tcp_info
                .as_ref()
                .and_then(|t| t.state.as_deref())
                .is_some_and(|st| st != "ESTABLISHED")
        });
        if closing {
            return out;
        }
        // A window is closed when the peer advertises (next to) nothing to this end.
        let closed =
            |q: Option<&crate::sample::KernelQueues>| closed(q.and_then(|q| q.peer_window()));
        // A thread is blocked in send() when the kernel shows it there and its counter stood still.
        let blocked = |side: Side, moved: bool| {
            !moved
                && s.threads_of(side).any(|t| {
                    t.call == Some(Call::Send) || (t.call.is_none() && t.blocked_in_send())
                })
        };
        let server_moved = last.is_none_or(|c| c.server_sent_bytes != s.counts.server_sent_bytes);
        let client_moved = last.is_none_or(|c| c.client_sent_bytes != s.counts.client_sent_bytes);
        // The client's receive window: seen from the server (its peer window), or, with the
        // server out of sight, from the client's own advertised window. A window that reads
        // closed while the client's queue, in sight, holds nothing is one about to reopen (the
        // program read it all and the update is on its way), not a full queue.
        let client_full = match sq {
            Some(_) => closed(sq),
            None => self::closed(cq.and_then(|q| q.tcp_info.as_ref()?.rcv_wnd_bytes)),
        } && cq.is_none_or(|q| q.inq_bytes > 0);
        if client_full && self.once("client full") {
            say(EventKind::ClientRecvQueueFull {
                bytes: cq.map_or(0, |q| q.inq_bytes),
            });
        }
        if let Some(q) = sq
            && blocked(Side::Server, server_moved)
            && closed(sq)
            && send_queue_full(q)
        {
            if self.once("server blocks") {
                say(EventKind::ServerSendBlocks {
                    queued_bytes: q.outq_bytes,
                });
            }
            let read = s.counts.server_received_bytes;
            match self.server_blocked_since {
                Some((t, r)) if r == read => {
                    if s.at.saturating_sub(t) >= STOPPED_READING_AFTER && self.once("server stops")
                    {
                        say(EventKind::ServerStopsReading { read_bytes: read });
                    }
                }
                _ => self.server_blocked_since = Some((s.at, read)),
            }
        }
        // The server's queue is told full only when it is seen holding bytes: with the server
        // out of sight (or ACK-starved, its queue empty) a closed window says nothing of it.
        if let Some(q) = sq.filter(|q| q.inq_bytes > 0)
            && closed(cq)
            && self.once("server full")
        {
            say(EventKind::ServerRecvQueueFull {
                bytes: q.inq_bytes,
                after_client: self.said.contains(&"client full"),
            });
        }
        if let Some(q) = cq
            && blocked(Side::Client, client_moved)
            && closed(cq)
            && send_queue_full(q)
            && self.once("client blocks")
        {
            say(EventKind::ClientSendBlocks {
                queued_bytes: q.outq_bytes,
            });
        }
        if sq.is_some() && closed(cq) && closed(sq) && self.once("both zero") {
            say(EventKind::BothWindowsZero);
        }
        out
    }

    /// The run ended on its own at `at`: a fix that ended before its steady state was told gets it
    /// now, from the whole run.
    pub fn finish(&mut self, at: Duration) -> Option<Event> {
        let peak = self.client_recv_peak;
        (self.saw_reader && self.once("steady")).then_some(Event {
            at_ms: at.as_millis() as u64,
            kind: EventKind::SteadyState {
                client_recv_queue_peak_bytes: peak,
            },
        })
    }

    /// A fix: the steady state once, and crawls as they come and go.
    fn fix(&mut self, s: &Sample, say: &mut impl FnMut(EventKind)) {
        let closed_now = [s.client.as_ref(), s.server.as_ref()]
            .iter()
            .any(|q| closed(q.and_then(|q| q.peer_window())));
        if closed_now {
            self.window_closed_recently = Some(s.at);
        }
        let r = self.rates.take(s.at, s.counts);
        if s.at >= STEADY_AFTER && self.once("steady") {
            say(EventKind::SteadyState {
                client_recv_queue_peak_bytes: self.client_recv_peak,
            });
        }
        if r.span < RATE_WINDOW * 9 / 10 {
            return;
        }
        let rate = r.client_sent;
        let threshold = self.pace.map_or(CRAWL_BELOW, |p| CRAWL_BELOW.min(p / 2));
        let windows_flapping = self
            .window_closed_recently
            .is_some_and(|t| s.at.saturating_sub(t) <= RATE_WINDOW);
        if !self.crawling && rate > 0 && rate < threshold && windows_flapping {
            self.crawling = true;
            say(EventKind::Crawling { bytes_per_s: rate });
        } else if self.crawling && rate >= threshold * 4 {
            self.crawling = false;
            say(EventKind::FullSpeed { bytes_per_s: rate });
        }
    }
}

#[cfg(test)]
mod tests;
