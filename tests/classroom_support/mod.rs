//! Shared by the classroom, fault, load and two-host tests: a `tcplab server` child whose stdout
//! lines arrive on a channel (so a test waits for an event, never for time), killed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tcplab");

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    lines: Receiver<String>,
    /// Every stdout line seen so far, for failure messages.
    pub seen: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
}

impl Server {
    /// Starts `tcplab server HOST --port 0 ARGS…` and waits (bounded) for its address.
    pub fn start(host: &str, args: &[&str]) -> Server {
        Server::start_with(Command::new(BIN), host, args)
    }

    /// Same, with a prepared command (e.g. `ip netns exec NS tcplab`).
    pub fn start_with(mut cmd: Command, host: &str, args: &[&str]) -> Server {
        let mut child = cmd
            .arg("server")
            .arg(host)
            .args(["--port", "0", "--quiet"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcplab server");
        let out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let mut s = Server {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            lines: rx,
            seen: Vec::new(),
            stderr: Some(stderr),
        };
        let first = s.wait_line(|l| l.starts_with("listening on "), Duration::from_secs(10));
        s.addr = first["listening on ".len()..]
            .parse()
            .unwrap_or_else(|_| panic!("bad address line: {first}"));
        s
    }

    /// Waits for the first line (after those already consumed) that matches.
    pub fn wait_line(&mut self, pred: impl Fn(&str) -> bool, bound: Duration) -> String {
        self.try_wait_line(pred, bound).unwrap_or_else(|| {
            panic!(
                "the server printed no matching line within {} s; it printed:\n{}",
                bound.as_secs_f64(),
                self.seen.join("\n")
            )
        })
    }

    pub fn try_wait_line(
        &mut self,
        pred: impl Fn(&str) -> bool,
        bound: Duration,
    ) -> Option<String> {
        let until = Instant::now() + bound;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return Some(l);
                    }
                }
                Err(_) => return None,
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    /// Sends SIGINT (Ctrl-C) and waits, bounded, for the exit; returns the status and every line.
    pub fn interrupt(mut self, bound: Duration) -> (ExitStatus, Vec<String>, String) {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        let until = Instant::now() + bound;
        let status = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st;
            }
            assert!(
                Instant::now() < until,
                "the server did not exit within {} s of SIGINT; it printed:\n{}",
                bound.as_secs_f64(),
                self.seen.join("\n")
            );
            // Polling a child's exit with a deadline.
            let _ = self
                .lines
                .recv_timeout(Duration::from_millis(20))
                .map(|l| self.seen.push(l));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(l);
        }
        let err = self
            .stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        (status, std::mem::take(&mut self.seen), err)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the tcplab binary to its end with a bound; returns (status, stdout, stderr).
pub fn run_bounded(mut cmd: Command, bound: Duration) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcplab");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let until = Instant::now() + bound;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tcplab did not finish within {} s: {:?}",
                bound.as_secs(),
                cmd
            );
        }
        // Polling a child's exit with a deadline; its output is read by the two threads.
        thread::sleep(Duration::from_millis(20));
    };
    (status, o.join().unwrap(), e.join().unwrap())
}
