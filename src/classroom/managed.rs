//! A `tcplab server` started by the load test: a child process of this binary on an ephemeral
//! port, its events read as JSON lines (data, never its log text), stopped with SIGINT at the end
//! so the server's own clean shutdown is part of what is tested. It is killed when dropped,
//! whatever happened, and it stops by itself if this process dies first (`--managed-by`).
//!
//! The server runs in this process's group, so a Ctrl-C at the terminal reaches it too and it may
//! have stopped already. It was tried in a session of its own (Linux schedules each session as
//! one group): under a busy machine its supervisor then competed with its own hundreds of
//! connection threads and freed stuck clients 20-50 s late in 200-client runs, so it stays here.

use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};

use super::event::ServerEvent;
use crate::interrupt;
use crate::sock::BufReq;

/// How long the started server may take to stop after SIGINT.
const STOP_BOUND: Duration = Duration::from_secs(10);

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub host: String,
    pub buffers: BufReq,
    pub idle_timeout: Duration,
    pub max_conns: u32,
}

/// A server child that is stopped when this is dropped.
pub struct ManagedServer {
    child: Child,
    events: Option<JoinHandle<Vec<ServerEvent>>>,
    pub addr: SocketAddr,
}

impl Drop for ManagedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ManagedServer {
    pub fn start(spec: &ServerSpec) -> anyhow::Result<ManagedServer> {
        let exe =
            std::env::current_exe().context("cannot find the tcplab binary to start a server")?;
        let mut child = Command::new(exe)
            .arg("server")
            .arg(&spec.host)
            .args(["--port", "0", "--quiet", "--format", "json"])
            .args(["--managed-by", &std::process::id().to_string()])
            // Raw byte counts and milliseconds: exactly what was asked for, never a display form.
            .args(["--sndbuf", &spec.buffers.snd.to_arg()])
            .args(["--rcvbuf", &spec.buffers.rcv.to_arg()])
            .args([
                "--idle-timeout",
                &format!("{}ms", spec.idle_timeout.as_millis()),
            ])
            .args(["--max-conns", &spec.max_conns.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start 'tcplab server'")?;
        let stdout = child.stdout.take().context("the server has no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let read = reader.read_line(&mut first);
        let addr = match serde_json::from_str::<ServerEvent>(&first) {
            Ok(ServerEvent::Listening { addr, .. }) => addr.parse::<SocketAddr>().ok(),
            _ => None,
        };
        let mut server = ManagedServer {
            child,
            events: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        read.context("cannot read the server's first line")?;
        server.addr = addr.ok_or_else(|| {
            anyhow!(
                "the server did not announce its address (it said '{}')",
                first.trim()
            )
        })?;
        server.events = Some(drain(reader)?);
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGINT, a bounded wait for the exit, and every event the server reported. A server that has
    /// already stopped (a signal sent to it directly) is only reaped: once reaped, its pid may
    /// belong to another process.
    pub fn stop(&mut self) -> anyhow::Result<Vec<ServerEvent>> {
        interrupt::send(&mut self.child, "INT");
        let until = Instant::now() + STOP_BOUND;
        while self.child.try_wait()?.is_none() {
            if Instant::now() >= until {
                return Err(anyhow!(
                    "the server did not stop within {} s of SIGINT",
                    STOP_BOUND.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(20)); // polling a child's exit with a deadline
        }
        Ok(self
            .events
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default())
    }
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
