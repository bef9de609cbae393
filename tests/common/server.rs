//! `Server`, the one way to start a server and wait for it: start the program, wait (bounded) for
//! the stdout line that announces its address, and keep it running under the `Running` guard.
//! tcplab announces `listening on 127.0.0.1:PORT` (`Listening at 127.0.0.1:PORT` for the classic
//! programs), the Python fixtures `Listening at ('127.0.0.1', PORT)`; `--port 0` / `-p 0` lets the
//! kernel pick a free port, so tests share nothing.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use super::{Cmd, Output, Running, python, tcplab};

/// How long a server may take to announce its address on a busy machine.
const ANNOUNCE: Duration = Duration::from_secs(20);

pub struct Server {
    pub addr: SocketAddr,
    process: Running,
}

/// `tcplab server 127.0.0.1 --port 0 --quiet EXTRA…`, ready to accept.
pub fn tcplab_server(extra: &[&str]) -> Server {
    Server::start("127.0.0.1", extra)
}

/// `python3 -u tests/fixtures/SCRIPT ARGS…` (which should ask for port 0), ready to accept.
pub fn python_server(script: &str, args: &[&str]) -> Server {
    Server::announced(python(script).args(args), "Listening at")
}

impl Server {
    /// `tcplab server HOST --port 0 --quiet EXTRA…`, ready to accept.
    pub fn start(host: &str, extra: &[&str]) -> Server {
        Server::start_with(tcplab(&[]), host, extra)
    }

    /// The same server started through `prefix`, e.g. `ip netns exec NS tcplab`.
    pub fn start_with(prefix: Cmd, host: &str, extra: &[&str]) -> Server {
        let cmd = prefix
            .args(["server", host, "--port", "0", "--quiet"])
            .args(extra);
        Server::announced(cmd, "listening on ")
    }

    /// Starts `cmd` and waits for the stdout line that starts with `prefix` and ends with an
    /// address.
    pub fn announced(cmd: Cmd, prefix: &str) -> Server {
        let mut process = cmd.spawn();
        let line = process.wait_line(|l| l.starts_with(prefix), ANNOUNCE);
        let Some(addr) = parse_addr(&line[prefix.len()..]) else {
            panic!("no address in {line:?}\n{}", process.dump());
        };
        Server { addr, process }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Waits (at most `deadline`) for the server to exit by itself.
    pub fn finish(self, deadline: Duration) -> Output {
        self.process.finish(deadline)
    }

    /// Ctrl-C, then how the server ended (at most `bound`).
    pub fn interrupt(self, bound: Duration) -> Output {
        self.process.interrupt(bound)
    }
}

/// A server is its process: lines, signals, `alive()`, the guard.
impl Deref for Server {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.process
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.process
    }
}

/// `127.0.0.1:4000`, `[::1]:4000` or Python's `('127.0.0.1', 4000)`.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    // A JSON announcement: the address ends at its closing quote.
    let text = text.split('"').next().unwrap_or(text).trim();
    if let Ok(addr) = text.parse() {
        return Some(addr);
    }
    let inner = text.strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.split(',').map(str::trim);
    let host = parts.next()?.trim_matches('\'').parse().ok()?;
    let port = parts.next()?.parse().ok()?;
    Some(SocketAddr::new(host, port))
}
