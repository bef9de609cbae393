//! The one test harness every integration test uses: run a program (tcplab, python3, ip) with a
//! deadline, keep a long-running one under a guard that kills it on drop, start a server and read
//! the address it announces. Whatever goes wrong inside the harness (a deadline passed, JSON that
//! does not parse, a line never printed) panics with the command line, the exit status, stdout and
//! stderr. Every wait has a bound; nothing sleeps to synchronise. What a test asserts about the
//! output is left to the test.
//!
//! - `cmd.rs`: `Cmd` (the builder: `tcplab(&[..])`, `python(script)`, `Cmd::new(program)`) and
//!   `Output` (a finished process).
//! - `running.rs`: `Running`, the one child guard, with its stdout lines on a channel.
//! - `server.rs`: `Server`, a `Running` that announced its address (`tcplab_server`,
//!   `python_server`).
//! - `scratch.rs`: `Scratch`, a folder for a test's files, removed at the end.
//! - `timeline.rs`: `timeline_csv`, a made-up timeline for `replay`.
//! - `terminal.rs`: `Cmd::run_on_terminal`, a run on a pseudo-terminal of a chosen width.
//!
//! Each test file compiles its own copy and uses only part of it, hence the allow.
#![allow(dead_code, unused_imports)]

mod cmd;
mod running;
mod scratch;
mod server;
mod terminal;
mod timeline;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

pub use cmd::{Cmd, Output, python, tcplab};
pub use libc::{SIGCONT, SIGINT, SIGSTOP, SIGTERM};
pub use running::Running;
pub use scratch::{Scratch, path_arg, scratch};
pub use server::{Server, python_server, tcplab_server};
pub use timeline::timeline_csv;

pub const BIN: &str = env!("CARGO_BIN_EXE_tcplab");

/// The default bound on one run: generous for a busy 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Whether `program` is an executable file in one of the folders on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        Path::new(&dir)
            .join(program)
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Tests that talk to the classic Python scripts need python3; CI installs it, so its absence is a
/// failure to fix, not a reason to skip.
pub fn require_python() {
    assert!(
        on_path("python3"),
        "this test runs the classic Python scripts and needs python3 on PATH; .ci/run installs it"
    );
}

/// Asserts that `wrapped` is the text of `piped` wrapped to `width` columns: no line wider than
/// `width` (unless it is a single word, which is never cut), and the same words in the same order,
/// so no word was split at a line break.
pub fn assert_wrapped(piped: &str, wrapped: &str, width: usize) {
    for line in wrapped.lines() {
        assert!(
            textwrap::core::display_width(line) <= width || line.split_whitespace().count() == 1,
            "a line is wider than {width} columns:\n{line}\n--- in\n{wrapped}"
        );
    }
    assert_eq!(
        wrapped.split_whitespace().collect::<Vec<_>>(),
        piped.split_whitespace().collect::<Vec<_>>(),
        "the words differ from the pipe's at {width} columns (one split or lost)\n--- wrapped\n{wrapped}\n--- piped\n{piped}"
    );
}

/// Polls `cond` until it holds; panics saying what never happened once `bound` has passed.
pub fn wait_until(bound: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + bound;
    while !cond() {
        assert!(
            Instant::now() < until,
            "{what} never happened within {bound:?}"
        );
        // The polling interval of a bounded poll, not a synchronisation.
        thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a running process has a thread of this name (tcplab names its threads `tcplab-…`),
/// read from /proc/PID/task/*/comm.
pub fn has_thread(pid: u32, name: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks
        .flatten()
        .any(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
}

/// Every process started by `pid` and still running (children, their children, …), from
/// /proc/PID/task/*/children.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let text = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for child in text.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                todo.push(child);
            }
        }
    }
    found
}

/// Whether a process still exists (running, or a zombie nobody has reaped).
pub fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A loopback port that refuses connections: bound by this test and never listening, so no other
/// program can take it while this value lives, and a SYN to it gets a RST.
pub struct RefusingPort {
    _holder: socket2::Socket,
    pub port: u16,
}

pub fn refusing_port() -> RefusingPort {
    use socket2::{Domain, Socket, Type};
    let holder = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let loopback = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
    holder.bind(&loopback.into()).expect("bind to 127.0.0.1:0");
    let port = holder
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .expect("a bound address")
        .port();
    RefusingPort {
        _holder: holder,
        port,
    }
}
