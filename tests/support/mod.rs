//! Shared test plumbing: run the real binary with a deadline, start a server on an ephemeral port
//! and read the address it announces, and kill every child on drop. No sleeps: every wait is a
//! bounded wait on a process or a channel, and failures say what never happened.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tcplab::result::RunResult;
use wait_timeout::ChildExt;

pub const BIN: &str = env!("CARGO_BIN_EXE_tcplab");

/// Generous bound for one run on a busy 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    /// For assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }

    pub fn result(&self) -> RunResult {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a RunResult ({e}):\n{}", self.dump()))
    }
}

/// Kills the child when dropped, so a failing test leaves nothing running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn drain(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(r).read_to_string(&mut s);
        let _ = tx.send(s);
    });
    rx
}

/// Waits for a child with a deadline, collecting its output.
pub fn finish(mut child: Child, deadline: Duration, what: &str) -> Output {
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let mut guard = Guard(child);
    let status = match guard.0.wait_timeout(deadline).expect("wait") {
        Some(s) => s,
        None => {
            let _ = guard.0.kill();
            let _ = guard.0.wait();
            let stdout = out.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            let stderr = err.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            panic!(
                "{what} did not finish within {deadline:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
            );
        }
    };
    let stdout = out
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default();
    let stderr = err
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_default();
    Output {
        status,
        stdout,
        stderr,
    }
}

pub fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

/// Runs `tcplab ARGS` to the end (bounded).
pub fn tcplab(args: &[&str]) -> Output {
    finish(
        spawn(BIN, args),
        DEADLINE,
        &format!("tcplab {}", args.join(" ")),
    )
}

/// A process that announces its address on its first stdout line(s).
pub struct Announced {
    pub guard: Guard,
    pub port: u16,
    pub lines: mpsc::Receiver<String>,
}

/// Starts `program args` and waits (bounded) for a stdout line containing `marker`, whose last
/// `:PORT` or `, PORT)` gives the port.
pub fn start_announced(program: &str, args: &[&str], marker: &str) -> Announced {
    let mut child = spawn(program, args);
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let guard = Guard(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = rx.recv_timeout(left).unwrap_or_else(|_| {
            panic!(
                "{program} {} never announced '{marker}' within 20 s",
                args.join(" ")
            )
        });
        if line.contains(marker) {
            let digits: String = line
                .trim_end_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let port = digits
                .parse()
                .unwrap_or_else(|_| panic!("no port in '{line}'"));
            return Announced {
                guard,
                port,
                lines: rx,
            };
        }
    }
}

/// `tcplab server -p 0 EXTRA…`, ready to accept.
pub fn tcplab_server(extra: &[&str]) -> Announced {
    let mut args = vec!["server", "-p", "0", "--quiet"];
    args.extend_from_slice(extra);
    start_announced(BIN, &args, "listening on")
}

/// The next stdout line of an announced process, bounded.
pub fn next_line(a: &Announced, what: &str) -> String {
    a.lines
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("never saw {what} within 30 s"))
}

/// Polls `cond` until it holds or `deadline` passes; panics with `what` when it never held.
pub fn wait_until(deadline: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + deadline;
    while !cond() {
        assert!(
            std::time::Instant::now() < end,
            "{what} never happened within {deadline:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a running process has a thread of this name (threads are named "tcplab-…"), from /proc.
pub fn has_thread(pid: u32, name: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks
        .flatten()
        .any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// Sends SIGINT, as Ctrl-C does.
pub fn interrupt(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -INT {pid} failed");
}
