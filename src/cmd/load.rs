//! `tcplab load`: starts the server (unless one is given with --port), runs the classroom load test
//! (`classroom::load`), prints each client's line and the verdict, and stops the server it started
//! with SIGINT, so the server's own clean shutdown is part of what is tested.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use crate::classroom::load::{self, FREE_SLACK, LoadConfig, LoadReport};
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
    let report = load::run(&cfg)?;
    let server_summary = match server.as_mut() {
        Some(s) => Some(stop_server(s)?),
        None => None,
    };
    let mut out = io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_text(&report, server_summary.as_deref(), &mut out)?;
    }
    out.flush()?;
    Ok(ExitCode::from(if report.ok { 0 } else { 1 }))
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

/// SIGINT, a bounded wait for the exit, and the server's last line.
fn stop_server(s: &mut Server) -> anyhow::Result<String> {
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
    let lines = s.lines.take().map(|h| h.join().unwrap_or_default());
    Ok(lines
        .and_then(|l| {
            l.into_iter()
                .rev()
                .find(|l| l.starts_with("server stopped"))
        })
        .unwrap_or_else(|| "the server printed no summary".into()))
}

fn write_text(r: &LoadReport, server_line: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
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
    if let Some(l) = server_line {
        writeln!(out, "{l}")?;
    }
    writeln!(
        out,
        "{} in {:.1} s",
        if r.ok { "PASSED" } else { "FAILED" },
        r.elapsed_ms as f64 / 1000.0
    )
}
