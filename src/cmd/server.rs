//! `tcplab server`: the uppercase-echo server as its own process, until Ctrl-C (or
//! `--connections N`). Concurrent by default (`classroom`: one thread per connection, `--max-conns`,
//! `--idle-timeout`); `--sequential` keeps the classic one-connection-after-another loop, here, in
//! which one stuck client blocks everyone behind it. One bad connection never takes it down.

use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use socket2::Socket;
use std::net::Shutdown;

use crate::cli::lab::ServerArgs;
use crate::counters::Shared;
use crate::server::{self, ServeEnd};
use crate::sock::{self, BufReq, Limits};
use crate::units::{human, human_rate};
use crate::{classroom, interrupt};

/// How often waits wake to check for Ctrl-C and redraw.
const TICK: Duration = Duration::from_millis(100);

pub fn main(a: &ServerArgs) -> anyhow::Result<ExitCode> {
    let addr = sock::resolve(&a.host, a.port)?;
    let req = BufReq {
        snd: a.buffers.sndbuf,
        rcv: a.buffers.rcvbuf,
    };
    // A class connects at once: the backlog must hold them until the supervisor accepts (or
    // refuses) each, or their SYNs are dropped and retried a second later.
    let backlog = if a.sequential {
        16
    } else {
        a.max_conns.max(128) as i32
    };
    let listener = sock::listen(addr, Some(&req), backlog)?;
    let local: SocketAddr = listener
        .local_addr()?
        .as_socket()
        .context("the listening socket has no IP address")?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {local}")?;
    if !addr.ip().is_loopback() {
        writeln!(
            out,
            "note: {} is reachable from the network, not only from this machine",
            addr.ip()
        )?;
    }
    out.flush()?;
    drop(out);
    let live = !a.quiet && io::stderr().is_terminal() && io::stdout().is_terminal();
    if a.sequential {
        return sequential(a, &listener, &req, live);
    }
    let cfg = classroom::Config {
        read: a.read.bytes().min(1 << 30) as usize,
        req,
        max_conns: a.max_conns as usize,
        idle_timeout: a.idle_timeout.0,
        log: a.log,
        live,
        connections: a.connections,
    };
    let t = classroom::run(&listener, &cfg)?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "server stopped: {} connections served ({} freed as stuck, {} reset by the client), {} refused, {} processed",
        t.accepted,
        t.stuck,
        t.reset,
        t.refused,
        human(t.processed_bytes)
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The classic loop: accept, serve to the end, accept the next.
fn sequential(
    a: &ServerArgs,
    listener: &Socket,
    req: &BufReq,
    live: bool,
) -> anyhow::Result<ExitCode> {
    let limits = Limits::read();
    let mut served = 0u64;
    while a.connections.is_none_or(|n| served < n) {
        // The same Ctrl-C-aware wait as the classic programs' servers.
        let (conn, peer) = match crate::classic::accept(listener) {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                // EMFILE and friends: the connection stays in the backlog; back off a tick.
                eprintln!("tcplab: accept failed: {e}; still listening");
                std::thread::sleep(TICK);
                continue;
            }
        };
        served += 1;
        let peer = peer.to_string();
        let line = serve_one(
            served,
            &conn,
            &peer,
            a.read.bytes().min(1 << 30) as usize,
            req,
            &limits,
            live,
        );
        let mut out = io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

fn serve_one(
    n: u64,
    conn: &Socket,
    peer: &str,
    read: usize,
    req: &BufReq,
    limits: &Limits,
    live: bool,
) -> String {
    let _ = conn.set_nonblocking(false);
    let sizes = match req.report(conn, limits) {
        Ok((s, r)) => format!(
            "SO_SNDBUF {}, SO_RCVBUF {}",
            human(s.effective_bytes),
            human(r.effective_bytes)
        ),
        Err(_) => String::from("buffer sizes unknown"),
    };
    let shared = Shared::default();
    let bar = live.then(|| {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
        b.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg}").expect("static template"),
        );
        b.set_prefix(format!("connection {n} from {peer}:"));
        b
    });
    let started = Instant::now();
    let end = thread::scope(|scope| {
        let (tx, rx) = mpsc::channel();
        let shared = &shared;
        let spawned = thread::Builder::new()
            .name("tcplab-server".into())
            .spawn_scoped(scope, move || {
                let mut buf = vec![0u8; read];
                let c = shared.serve_counters();
                let _ = tx.send(server::serve(conn, &mut buf, &c));
            });
        if let Err(e) = spawned {
            return ServeEnd::Error(e);
        }
        loop {
            match rx.recv_timeout(TICK) {
                Ok(end) => return end,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return ServeEnd::Error(io::ErrorKind::Other.into());
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Some(b) = &bar {
                let done = shared.server_received.load(Relaxed);
                b.set_message(format!(
                    "{} processed so far ({})",
                    human(done),
                    human_rate(done, started.elapsed())
                ));
                b.tick();
            }
            if interrupt::requested() {
                shared.stopping.store(true, Relaxed);
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let c = shared.counts();
    // Checked first: after the shutdown, a recv() blocked at that moment returns EOF, not an error.
    let how = match end {
        _ if shared.is_stopping() => "closed by Ctrl-C".to_string(),
        ServeEnd::Eof => "the client closed its side; everything was echoed".to_string(),
        ServeEnd::Error(e) => match e.kind() {
            io::ErrorKind::ConnectionReset => "the client reset the connection".to_string(),
            io::ErrorKind::BrokenPipe => {
                "the client went away while the server was writing".to_string()
            }
            _ => format!("ended by an error: {e}"),
        },
    };
    format!(
        "connection {n} from {peer} ({sizes}): {} processed, {} echoed in {:.2} s; {how}",
        human(c.server_received_bytes),
        human(c.server_sent_bytes),
        started.elapsed().as_secs_f64()
    )
}
