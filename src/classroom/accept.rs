//! The supervisor's accepting side: taking every connection waiting in the backlog, refusing
//! the ones beyond `--max-conns` (counting only connections open at that moment), starting a
//! thread for each accepted one, and reporting accept() failures without flooding the log.

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
use crate::observe::own::CallMemo;
use crate::server::ServeEnd;
use crate::sock;
use crate::watchdog::{Rule, Watchdog};

impl Server<'_> {
    /// Accepts every connection waiting in the backlog (sequential: only while none is open).
    pub(super) fn accept_all(
        &mut self,
        listener: &Socket,
        rx: &Receiver<(u64, ServeEnd)>,
        tx: &mpsc::Sender<(u64, ServeEnd)>,
        waker: &Arc<Waker>,
    ) {
        while !self.accepting_done() {
            if self.full() {
                // Count only connections open at this moment: ones that ended since the last
                // tick are removed first, and ones whose client has closed and whose thread is
                // about to see the EOF are given a moment to do so.
                self.collect_finished(rx);
                self.await_closing(rx);
                if self.full() && self.cfg.sequential {
                    return;
                }
            }
            let (sock, peer) = match listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: the pending connection stays in the backlog; try again
                    // at the next tick instead of spinning on it.
                    self.accept_failed(&e);
                    break;
                }
            };
            self.warn_accept_failures(true);
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
        match conn::spawn(
            Arc::clone(&conn),
            self.cfg.read,
            tx.clone(),
            Arc::clone(waker),
        ) {
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
                        watchdog: Watchdog::new(&rules),
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
            })),
        }
    }

    fn accept_failed(&mut self, e: &io::Error) {
        self.accept_failures += 1;
        if self.accept_failures == 1 {
            self.sink.event(&ServerEvent::AcceptFailed {
                error: Some(e.to_string()),
                repeats: 1,
            });
            self.accept_failures = 0;
            self.last_warning = Some(Instant::now());
        } else {
            self.warn_accept_failures(false);
        }
    }

    /// Reports the accept() failures not yet reported: when accept works again (`settled`), or
    /// at most every `WARN_EVERY` while they go on.
    pub(super) fn warn_accept_failures(&mut self, settled: bool) {
        let due = self.last_warning.is_none_or(|t| t.elapsed() >= WARN_EVERY);
        if self.accept_failures > 0 && (settled || due) {
            let repeats = std::mem::take(&mut self.accept_failures);
            self.sink.event(&ServerEvent::AcceptFailed {
                error: None,
                repeats,
            });
            self.last_warning = Some(Instant::now());
        }
        if settled {
            self.last_warning = None;
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
