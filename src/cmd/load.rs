//! `tcplab load`: starts the server (unless one is given with --port), runs the classroom load test
//! (`classroom::load`), prints each client's line and the verdict, and stops the server it started
//! with SIGINT, so the server's own clean shutdown is part of what is tested.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use crate::classroom::load::{self, FREE_SLACK, LoadConfig, LoadReport, LoadRun};
use crate::cli::load::LoadArgs;
use crate::sock::{self, BufReq};
use crate::units::{human, human_signed};

/// How long the started server may take to stop after SIGINT.
const STOP_BOUND: Duration = Duration::from_secs(10);

/// A server child that is stopped when this is dropped, whatever happened.
struct Server {
    child: Child,
    lines: Option<JoinHandle<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn main(a: &LoadArgs) -> anyhow::Result<ExitCode> {
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
            "tcplab load: {} clients against {addr}, {:.0} % of them deadlocking",
            a.clients,
            a.deadlocking * 100.0
        );
    }
    let cfg = LoadConfig {
        addr,
        server_pid: pid,
        clients: a.clients,
        deadlocking: a.deadlocking,
        bytes: a.bytes.bytes(),
        hold_bytes: a.hold_bytes.bytes(),
        chunk: a.chunk.bytes().min(1 << 20) as usize,
        buffers,
        idle_timeout: a.idle_timeout.0,
        rss_tolerance: a.rss_tolerance.bytes(),
        timeout: a.timeout.0,
    };
    let mut rounds = Vec::new();
    for round in 1..=a.rounds {
        if !a.json && a.rounds > 1 {
            eprintln!("tcplab load: round {round} of {}", a.rounds);
        }
        rounds.push(load::run(&cfg)?);
    }
    let server_lines = match server.as_mut() {
        Some(s) => Some(stop_server(s)?),
        None => None,
    };
    let summary = server_lines
        .as_ref()
        .map(|l| l.iter().rev().find(|l| l.starts_with("server stopped")));
    let run = LoadRun {
        ok: rounds.iter().all(|r| r.ok) && summary.is_none_or(|s| s.is_some()),
        server_max_freed_after_ms: server_lines
            .as_ref()
            .and_then(|l| l.iter().filter_map(|l| load::freed_after_ms(l)).max()),
        server_stopped_cleanly: summary.map(|s| s.is_some()),
        rounds,
    };
    let mut out = io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &run)?;
        writeln!(out)?;
    } else {
        for (i, r) in run.rounds.iter().enumerate() {
            if run.rounds.len() > 1 {
                writeln!(out, "round {}:", i + 1)?;
            }
            write_text(r, &mut out)?;
        }
        if let Some(ms) = run.server_max_freed_after_ms {
            writeln!(
                out,
                "server log: the longest a stuck connection stood still before it was freed: {ms} ms"
            )?;
        }
        match summary {
            Some(Some(l)) => writeln!(out, "{l}")?,
            Some(None) => writeln!(out, "the server printed no summary on SIGINT")?,
            None => {}
        }
        writeln!(out, "{}", if run.ok { "PASSED" } else { "FAILED" })?;
    }
    out.flush()?;
    Ok(ExitCode::from(if run.ok { 0 } else { 1 }))
}

fn start_server(a: &LoadArgs) -> anyhow::Result<(Server, SocketAddr)> {
    let exe = std::env::current_exe().context("cannot find the tcplab binary to start a server")?;
    let mut child = Command::new(exe)
        .arg("server")
        .arg(&a.host)
        .args(["--port", "0", "--quiet"])
        .args(["--sndbuf", &a.sndbuf.to_string().replace(' ', "")])
        .args(["--rcvbuf", &a.rcvbuf.to_string().replace(' ', "")])
        .args(["--idle-timeout", &a.idle_timeout.to_string()])
        .args(["--max-conns", &(a.clients + 8).to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start 'tcplab server'")?;
    let stdout = child.stdout.take().context("the server has no stdout")?;
    let mut server = Server { child, lines: None };
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader
        .read_line(&mut first)
        .context("cannot read the server's first line")?;
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on ")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            anyhow!(
                "the server did not announce its address (it said '{}')",
                first.trim()
            )
        })?;
    server.lines = Some(drain(reader)?);
    Ok((server, addr))
}

/// Reads the server's event lines as they come, so its stdout pipe never fills and blocks it.
fn drain(reader: BufReader<ChildStdout>) -> io::Result<JoinHandle<Vec<String>>> {
    thread::Builder::new()
        .name("tcplab-load-log".into())
        .spawn(move || reader.lines().map_while(Result::ok).collect())
}

/// SIGINT, a bounded wait for the exit, and every line the server printed.
fn stop_server(s: &mut Server) -> anyhow::Result<Vec<String>> {
    let pid = s.child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
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
    Ok(s.lines
        .take()
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default())
}

fn write_text(r: &LoadReport, out: &mut dyn Write) -> io::Result<()> {
    for c in &r.clients {
        let detail = match (&c.error, c.stall_to_free_ms) {
            (Some(e), _) => format!("; {e}"),
            (None, Some(ms)) => format!("; freed {ms} ms after its last byte"),
            _ => String::new(),
        };
        writeln!(
            out,
            "client {:>3} {:<11} {:<13} {:<9} sent {:>10}, verified {:>10}{detail}",
            c.index,
            c.role,
            c.strategy,
            c.outcome,
            human(c.sent_bytes),
            human(c.verified_bytes)
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "fixed clients: {} of {} completed with the echo verified",
        r.fixed_ok, r.fixed_total
    )?;
    writeln!(
        out,
        "deadlocking clients: {} of {} freed by the server within --idle-timeout {} ms + {} ms (longest: {} ms after the last byte)",
        r.deadlocking_ok,
        r.deadlocking_total,
        r.idle_timeout_ms,
        FREE_SLACK.as_millis(),
        r.max_stall_to_free_ms
            .map_or("-".to_string(), |m| m.to_string())
    )?;
    if let Some(s) = &r.server {
        writeln!(
            out,
            "server memory (VmRSS): {} before, {} at the peak, {} after ({} growth; tolerance {})",
            human(s.before.rss_bytes),
            human(s.peak.rss_bytes),
            human(s.after.rss_bytes),
            human_signed(s.rss_growth_bytes),
            human(s.rss_tolerance_bytes)
        )?;
        writeln!(
            out,
            "server threads: {} before, {} at the peak, {} after",
            s.before.threads, s.peak.threads, s.after.threads
        )?;
    }
    writeln!(
        out,
        "round {} in {:.1} s",
        if r.ok { "passed" } else { "failed" },
        r.elapsed_ms as f64 / 1000.0
    )
}
