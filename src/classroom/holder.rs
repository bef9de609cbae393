//! A client that stays stuck, for testing the server's `--idle-timeout`: it connects, sends 16-byte
//! chunks and never reads, and then simply holds the socket, blocked in send(), until the server
//! frees it (its send() fails with a reset or broken pipe) or its own deadline passes. Unlike the
//! naive client of `tcplab client`, it has no watchdog of its own that would end the deadlock from
//! the client's side first. Ctrl-C or SIGTERM ends it too, within one send slice.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::Socket;

use crate::interrupt;
use crate::sock::{self, BufReq, Peer};

/// How long one blocked send() waits before the deadline is checked again (SO_SNDTIMEO).
const SEND_SLICE: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct HolderConfig {
    pub addr: SocketAddr,
    pub buffers: BufReq,
    /// Bytes to offer; more than the buffers hold, so the client is stuck long before the end.
    pub total: u64,
    pub chunk: Vec<u8>,
    pub connect_timeout: Duration,
    /// Give up waiting to be freed after this long in all.
    pub deadline: Duration,
}

/// How a holder ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "end")]
pub enum HolderEnd {
    /// The server closed the connection while the holder was stuck.
    Freed,
    /// The deadline passed and the server had not closed it.
    NotFreed,
    /// Everything was sent (the buffers held it all): never stuck in send().
    SentAll,
    /// Ctrl-C or SIGTERM asked the program to stop before the server freed it.
    Interrupted,
    /// It could not connect, or the connection failed in another way.
    Failed { error: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HolderResult {
    #[serde(flatten)]
    pub end: HolderEnd,
    /// Bytes send() accepted (bytes).
    pub sent_bytes: u64,
    /// When the connection last moved as the holder sees it, from connect (milliseconds): a byte
    /// accepted by its send(), or more echo in its receive queue (the server's send() still
    /// draining, so the server cannot call it stuck yet).
    pub last_progress_ms: u64,
    /// When the holder ended, from connect (milliseconds).
    pub ended_ms: u64,
    /// The holder's own address (host:port).
    #[serde(default)]
    pub client_addr: Option<String>,
}

pub fn hold(cfg: &HolderConfig) -> HolderResult {
    let sock = match sock::connect(
        cfg.addr,
        Some(&cfg.buffers),
        cfg.connect_timeout,
        Peer::Echo,
    ) {
        Ok(s) => s,
        Err(e) => {
            return HolderResult {
                end: HolderEnd::Failed {
                    error: e.to_string(),
                },
                sent_bytes: 0,
                last_progress_ms: 0,
                ended_ms: 0,
                client_addr: None,
            };
        }
    };
    let started = Instant::now();
    let (end, sent, last) = send_until_freed(&sock, cfg, started);
    HolderResult {
        end,
        sent_bytes: sent,
        last_progress_ms: last.as_millis() as u64,
        ended_ms: started.elapsed().as_millis() as u64,
        client_addr: sock::local(&sock).ok().map(|a| a.to_string()),
    }
}

fn send_until_freed(
    sock: &Socket,
    cfg: &HolderConfig,
    started: Instant,
) -> (HolderEnd, u64, Duration) {
    let failed = |e: io::Error| HolderEnd::Failed {
        error: e.to_string(),
    };
    if let Err(e) = sock.set_write_timeout(Some(SEND_SLICE)) {
        return (failed(e), 0, Duration::ZERO);
    }
    let mut sent = 0u64;
    let mut last = Duration::ZERO;
    let mut at = 0usize;
    let mut echo_queued = 0u64;
    while sent < cfg.total {
        if started.elapsed() >= cfg.deadline {
            return (HolderEnd::NotFreed, sent, last);
        }
        if interrupt::requested() {
            return (HolderEnd::Interrupted, sent, last);
        }
        let want = ((cfg.chunk.len() - at) as u64).min(cfg.total - sent) as usize;
        match (&*sock).write(&cfg.chunk[at..at + want]) {
            Ok(0) => return (failed(io::ErrorKind::WriteZero.into()), sent, last),
            Ok(n) => {
                sent += n as u64;
                at = (at + n) % cfg.chunk.len();
                last = started.elapsed();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                // Blocked: has the server's echo moved since the last look?
                if let Ok(q) = sock::queues(sock)
                    && q.inq_bytes != echo_queued
                {
                    echo_queued = q.inq_bytes;
                    last = started.elapsed();
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ) =>
            {
                return (HolderEnd::Freed, sent, last);
            }
            Err(e) => return (failed(e), sent, last),
        }
    }
    (HolderEnd::SentAll, sent, last)
}
