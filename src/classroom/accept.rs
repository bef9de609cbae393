//! The supervisor's accepting side: taking every connection waiting in the backlog, refusing
//! the ones beyond `--max-conns` (counting only connections open at that moment), starting a
//! thread for each accepted one, and reporting accept() failures without flooding the log: the
//! first failure of an episode in full, the rest as a count at most every `WARN_EVERY` (a server
//! out of descriptors retries at every tick, ten times a second).

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use mio::Waker;
use socket2::Socket;

use super::conn::{self, Conn};
use super::{
    CLOSING_WAIT, ConnClosed, ConnEnd, Entry, Server, ServerEvent, WARN_EVERY, refusal, split,
};
use crate::follow::Follower;
use crate::observe::own::CallMemo;
use crate::server::ServeEnd;
use crate::sock;
use crate::watchdog::{Rule, Watchdog};

/// What is left in the backlog after `accept_all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backlog {
    /// Nothing (or nothing more will be accepted).
    Empty,
    /// Connections wait that are accepted at a later tick (sequential, full, or out of
    /// descriptors).
    Waits,
    /// The budget ran out with connections still waiting: accept again at once.
    More,
}

/// Longest the supervisor accepts in one go before it looks at the open connections again.
const ACCEPT_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

impl Server<'_> {
    /// Accepts the connections waiting in the backlog (sequential: only while none is open), at
    /// most `ACCEPT_BUDGET` of them, so the watch over the open ones runs at every tick even
    /// while a thousand clients arrive.
    pub(super) fn accept_all(
        &mut self,
        listener: &Socket,
        rx: &Receiver<(u64, ServeEnd)>,
        tx: &mpsc::Sender<(u64, ServeEnd)>,
        waker: &Arc<Waker>,
    ) -> Backlog {
        self.warn_accept_failures(false);
        let until = Instant::now() + ACCEPT_BUDGET;
        while !self.accepting_done() && Instant::now() < until {
            if self.full() {
                // Count only connections open at this moment: ones that ended since the last
                // tick are removed first, and ones whose client has closed and whose thread is
                // about to see the EOF are given a moment to do so.
                self.collect_finished(rx);
                self.await_closing(rx);
                if self.full() && self.cfg.sequential {
                    return Backlog::Waits;
                }
            }
            let (sock, peer) = match listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Backlog::Empty,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: the pending connection stays in the backlog; try again
                    // at the next tick instead of spinning on it.
                    self.accept_failed(&e);
                    return Backlog::Waits;
                }
            };
            let peer = peer
                .as_socket()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "?".into());
            if self.full() {
                let _ = refusal::refuse(&sock, self.cfg.max_conns);
                self.totals.refused += 1;
                let open = self.table.len();
                let max_conns = self.cfg.max_conns;
                self.sink.event(&ServerEvent::Refused {
                    peer,
                    open,
                    max_conns,
                });
                continue;
            }
            self.start(sock, peer, tx, waker);
        }
        if self.accepting_done() {
            Backlog::Empty
        } else {
            Backlog::More
        }
    }

    fn start(
        &mut self,
        sock: Socket,
        peer: String,
        tx: &mpsc::Sender<(u64, ServeEnd)>,
        waker: &Arc<Waker>,
    ) {
        self.next_id += 1;
        let _ = sock.set_nonblocking(false);
        let conn = Arc::new(Conn::new(self.next_id, peer, sock));
        let r = conn::spawn(
            Arc::clone(&conn),
            self.cfg.read,
            tx.clone(),
            Arc::clone(waker),
        );
        match r {
            Ok(handle) => {
                self.totals.accepted += 1;
                let rules: Vec<Rule> = self
                    .cfg
                    .idle_timeout
                    .map(|limit| Rule::Stuck { limit })
                    .into_iter()
                    .collect();
                let (sndbuf_bytes, rcvbuf_bytes) = split(conn.sizes);
                self.sink.event(&ServerEvent::Accepted {
                    id: conn.id,
                    peer: conn.peer.clone(),
                    sndbuf_bytes,
                    rcvbuf_bytes,
                    open: self.table.len() + 1,
                });
                self.table.insert(
                    conn.id,
                    Entry {
                        conn,
                        handle,
                        follower: Follower::new(Watchdog::new(&rules), None),
                        memo: CallMemo::only_when_still(),
                        stuck: None,
                    },
                );
            }
            Err(e) => self.sink.event(&ServerEvent::Closed(ConnClosed {
                id: conn.id,
                peer: conn.peer.clone(),
                sndbuf_bytes: None,
                rcvbuf_bytes: None,
                received_bytes: 0,
                sent_bytes: 0,
                elapsed_ms: 0,
                end: ConnEnd::Error {
                    message: format!("cannot start a thread for it: {e}"),
                },
                open: self.table.len(),
                open_bytes: self.open_bytes(),
            })),
        }
    }

    /// One failed accept(): worded in full when it starts an episode (no failure for
    /// `WARN_EVERY`), otherwise counted. Connections freeing descriptors now and then let an
    /// accept() through between failures; that does not start a new episode.
    fn accept_failed(&mut self, e: &io::Error) {
        let new_episode = self
            .last_accept_failure
            .is_none_or(|t| t.elapsed() >= WARN_EVERY);
        self.last_accept_failure = Some(Instant::now());
        if new_episode {
            self.warn_accept_failures(true);
            self.sink.event(&ServerEvent::AcceptFailed {
                error: Some(e.to_string()),
                repeats: 1,
            });
            self.last_warning = Some(Instant::now());
        } else {
            self.accept_failures += 1;
            self.warn_accept_failures(false);
        }
    }

    /// Reports the counted accept() failures: at most every `WARN_EVERY`, or all of them at once
    /// (`now`: before a new episode's warning, and when the server stops).
    pub(super) fn warn_accept_failures(&mut self, now: bool) {
        let due = self.last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if self.accept_failures > 0 && (now || due) {
            let repeats = std::mem::take(&mut self.accept_failures);
            self.sink.event(&ServerEvent::AcceptFailed {
                error: None,
                repeats,
            });
            self.last_warning = Some(Instant::now());
        }
    }

    /// Waits (at most `CLOSING_WAIT`) for the threads of connections whose client has closed and
    /// whose queues are empty: they return as soon as they are scheduled.
    fn await_closing(&mut self, rx: &Receiver<(u64, ServeEnd)>) {
        let closing = self
            .table
            .values()
            .filter(|e| e.stuck.is_none() && closed_by_peer(&e.conn.sock))
            .count();
        let until = Instant::now() + CLOSING_WAIT;
        for _ in 0..closing {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((id, end)) => self.finish(id, &end),
                Err(_) => break,
            }
        }
    }
}

/// The client closed its side and everything was echoed: the echo thread's next recv() returns
/// EOF.
fn closed_by_peer(sock: &Socket) -> bool {
    sock::queues(sock).is_ok_and(|q| {
        let state = q.tcp_info.as_ref().and_then(|t| t.state.as_deref());
        matches!(state, Some("CLOSE_WAIT" | "CLOSE" | "LAST_ACK"))
            && q.inq_bytes == 0
            && q.outq_bytes == 0
    })
}
