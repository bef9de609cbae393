//! `tcplab load`: starts the server (unless one is given with --port), runs the classroom load test
//! (`classroom::load`), prints the report (`report::load`), and stops the server it started with
//! SIGINT, so the server's own clean shutdown is part of what is tested. The server started here
//! reports its events as JSON lines, which this command reads as data.
//!
//! Ctrl-C or SIGTERM stops the test: no client or round starts after it, the clients already
//! running end (each is bounded and stops on the signal), the server is stopped, and the report
//! of what finished is printed before exiting 130 or 143.
//!
//! The server runs in this process's group, so a Ctrl-C at the terminal reaches it too and it may
//! have stopped already. If this command dies without stopping it, the kernel sends the server
//! SIGTERM (`server --managed-by PID`). It was tried in a session of its own (Linux schedules each
//! session as one group): under a busy machine its supervisor then competed with its own hundreds
//! of connection threads and freed stuck clients 20-50 s late in 200-client runs, so it stays here.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use crate::classroom::event::{ConnEnd, ServerEvent};
use crate::classroom::load::{self, LoadConfig, LoadRun};
use crate::cli::load::LoadArgs;
use crate::report::wrap;
use crate::sock::{self, BufReq};
use crate::{interrupt, report};

/// How long the started server may take to stop after SIGINT.
const STOP_BOUND: Duration = Duration::from_secs(10);

/// A server child that is stopped when this is dropped, whatever happened.
struct Server {
    child: Child,
    events: Option<JoinHandle<Vec<ServerEvent>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn main(a: &LoadArgs) -> anyhow::Result<ExitCode> {
    super::loopback_only(&a.host, "", "tcplab load")?;
    let buffers = BufReq {
        snd: a.sndbuf,
        rcv: a.rcvbuf,
    };
    let mut server = None;
    let (addr, pid) = match a.port {
        Some(p) => (sock::resolve(&a.host, p)?, a.server_pid),
        None => {
            let (s, addr) = start_server(a)?;
            let pid = s.child.id();
            server = Some(s);
            (addr, Some(pid))
        }
    };
    if !a.json {
        eprintln!(
            "{}",
            wrap::for_stderr(&format!(
                "tcplab load: {} clients against {addr}, {:.0} % of them deadlocking",
                a.clients,
                a.deadlocking * 100.0
            ))
        );
    }
    let cfg = LoadConfig {
        addr,
        server_pid: pid,
        clients: a.clients,
        deadlocking: a.deadlocking,
        bytes: a.bytes.bytes(),
        hold_bytes: a.hold_bytes.bytes(),
        chunk: a.chunk.bytes() as usize,
        buffers,
        idle_timeout: a.idle_timeout.0,
        rss_tolerance: a.rss_tolerance.bytes(),
        timeout: a.timeout.0,
    };
    let mut rounds = Vec::new();
    for round in 1..=a.rounds {
        if interrupt::requested() {
            break;
        }
        if !a.json && a.rounds > 1 {
            eprintln!(
                "{}",
                wrap::for_stderr(&format!("tcplab load: round {round} of {}", a.rounds))
            );
        }
        rounds.push(load::run(&cfg)?);
    }
    let interrupted = interrupt::requested();
    let events = match server.as_mut() {
        Some(s) => Some(stop_server(s)?),
        None => None,
    };
    let totals = events.as_ref().and_then(|ev| {
        ev.iter().rev().find_map(|e| match e {
            ServerEvent::Stopped { totals, .. } => Some(*totals),
            _ => None,
        })
    });
    let freed_after = events.as_ref().and_then(|ev| {
        ev.iter()
            .filter_map(|e| match e {
                ServerEvent::Closed(c) => match &c.end {
                    ConnEnd::Stuck { still_ms, .. } => Some(*still_ms),
                    _ => None,
                },
                _ => None,
            })
            .max()
    });
    let stopped_cleanly = events.as_ref().map(|_| totals.is_some());
    let run = LoadRun {
        ok: !interrupted && rounds.iter().all(|r| r.ok) && stopped_cleanly != Some(false),
        interrupted,
        server_max_freed_after_ms: freed_after,
        server_stopped_cleanly: stopped_cleanly,
        server_totals: totals,
        rounds,
    };
    let stdout = io::stdout();
    if a.json {
        report::json::write(&run, stdout.lock())?;
    } else {
        let mut text = Vec::new();
        report::load::write_run(&run, &mut text)?;
        let mut out = stdout.lock();
        write!(out, "{}", wrap::for_stdout(&String::from_utf8_lossy(&text)))?;
        out.flush()?;
    }
    Ok(ExitCode::from(match (interrupted, run.ok) {
        (true, _) => interrupt::exit_code(),
        (false, true) => 0,
        (false, false) => 1,
    }))
}

fn start_server(a: &LoadArgs) -> anyhow::Result<(Server, SocketAddr)> {
    let exe = std::env::current_exe().context("cannot find the tcplab binary to start a server")?;
    let mut child = Command::new(exe)
        .arg("server")
        .arg(&a.host)
        .args(["--port", "0", "--quiet", "--json"])
        .args(["--managed-by", &std::process::id().to_string()])
        // Raw byte counts and milliseconds: exactly what was asked for, never a display form.
        .args(["--sndbuf", &a.sndbuf.to_arg()])
        .args(["--rcvbuf", &a.rcvbuf.to_arg()])
        .args(["--idle-timeout", &a.idle_timeout.to_arg()])
        .args(["--max-conns", &(a.clients + 8).to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start 'tcplab server'")?;
    let stdout = child.stdout.take().context("the server has no stdout")?;
    let mut server = Server {
        child,
        events: None,
    };
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .context("cannot read the server's first line")?;
    let addr = match serde_json::from_str::<ServerEvent>(&first) {
        Ok(ServerEvent::Listening { addr, .. }) => addr.parse::<SocketAddr>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        anyhow!(
            "the server did not announce its address (it said '{}')",
            first.trim()
        )
    })?;
    server.events = Some(drain(reader)?);
    Ok((server, addr))
}

/// Reads the server's events as they come, so its stdout pipe never fills and blocks it.
fn drain(reader: BufReader<ChildStdout>) -> io::Result<JoinHandle<Vec<ServerEvent>>> {
    thread::Builder::new()
        .name("tcplab-load-log".into())
        .spawn(move || {
            reader
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect()
        })
}

/// SIGINT, a bounded wait for the exit, and every event the server reported. A server that has
/// already stopped (a signal sent to it directly) is only reaped: once reaped, its pid may belong
/// to another process.
fn stop_server(s: &mut Server) -> anyhow::Result<Vec<ServerEvent>> {
    interrupt::send(&mut s.child, "INT");
    let until = Instant::now() + STOP_BOUND;
    while s.child.try_wait()?.is_none() {
        if Instant::now() >= until {
            return Err(anyhow!(
                "the server did not stop within {} s of SIGINT",
                STOP_BOUND.as_secs()
            ));
        }
        thread::sleep(Duration::from_millis(20)); // polling a child's exit with a deadline
    }
    Ok(s.events
        .take()
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default())
}
