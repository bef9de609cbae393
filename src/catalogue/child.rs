//! Runs one experiment command as a child process of this same binary, with `--json` appended:
//! stdout is captured (the result document), stderr is inherited (so the child's live view and
//! warnings reach the terminal). The run is bounded: the child is killed after a deadline.
//!
//! A child process rather than a function call keeps each command exactly what the student would
//! type, with its own exit code, and keeps one run's threads and sockets from outliving it.
//!
//! Ctrl-C or SIGTERM sent to the runner alone (`timeout`, `kill`) would leave the child running
//! on: the runner forwards the same signal, lets the child print its interrupted result for at
//! most `STOP_BOUND`, kills it after that, and always reaps it.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::interrupt;
use crate::units::Millis;

/// The environment variable that forces the live view on in a child whose stdout is a pipe
/// (`report::progress`). The runner sets it only when it would draw a live view itself.
pub const LIVE_ENV: &str = "TCPLAB_LIVE";

/// Kill deadline for a command without a `--timeout` of its own.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// How long a child may take to stop after the runner forwarded a signal to it.
pub const STOP_BOUND: Duration = Duration::from_secs(5);
/// How often the runner looks for a signal while its child runs.
const TICK: Duration = Duration::from_millis(50);

/// What one child run left behind.
#[derive(Debug)]
pub struct ChildRun {
    /// The exit code; `None` when a signal ended it (or it was killed).
    pub exit_code: Option<i32>,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Set when the runner killed it at the deadline.
    pub killed_after: Option<Duration>,
}

/// How long to let a command run: twice its own `--timeout` plus 10 s (it shuts itself down at
/// its timeout; the margin covers start-up and the final report), else `DEFAULT_DEADLINE`.
pub fn deadline_for(args: &[String]) -> Duration {
    // After a `--` the words are another program's, whatever they say.
    let ours = &args[..args.iter().position(|a| a == "--").unwrap_or(args.len())];
    let own = ours
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a.as_str() {
            "--timeout" => ours.get(i + 1).map(String::as_str),
            _ => a.strip_prefix("--timeout="),
        })
        .and_then(|v| Millis::parse(v).ok());
    match own {
        Some(Millis(t)) => t * 2 + Duration::from_secs(10),
        None => DEFAULT_DEADLINE,
    }
}

/// The arguments with `--json` added where tcplab reads it: at the end, or before a `--` whose
/// words belong to another program (`check client -- python3 client.py …`).
pub fn with_json(args: &[String]) -> Vec<String> {
    let mut out = args.to_vec();
    let at = args.iter().position(|a| a == "--").unwrap_or(args.len());
    out.insert(at, "--json".into());
    out
}

/// Runs `tcplab ARGS --json`; `live` sets `TCPLAB_LIVE=1` so the child draws its live view.
pub fn run(args: &[String], live: bool, deadline: Duration) -> anyhow::Result<ChildRun> {
    let exe = std::env::current_exe()
        .context("cannot find the tcplab binary to run the experiment's commands")?;
    let mut cmd = Command::new(exe);
    cmd.args(with_json(args))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if live {
        cmd.env(LIVE_ENV, "1");
    } else {
        cmd.env_remove(LIVE_ENV);
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot start 'tcplab {}'", args.join(" ")))?;
    let started = Instant::now();
    let mut out = child
        .stdout
        .take()
        .context("child stdout was not captured")?;
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("tcplab-run-stdout".into())
        .spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            let _ = tx.send(buf);
        })
        .context("cannot start the thread that reads the child's output")?;
    let mut stop = Stop::new(started, deadline);
    let stdout = loop {
        match rx.recv_timeout(TICK) {
            Ok(buf) => break String::from_utf8_lossy(&buf).into_owned(),
            Err(mpsc::RecvTimeoutError::Disconnected) => break String::new(),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if stop.overdue(&mut child) {
                    return kill(child, started);
                }
            }
        }
    };
    // Stdout closed: the child is exiting. Still bounded, in case it lingers.
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for the child")? {
            return Ok(ChildRun {
                exit_code: status.code(),
                stdout,
                killed_after: None,
            });
        }
        if stop.overdue(&mut child) {
            return kill(child, started);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// When a running child must be stopped: at its deadline, or `STOP_BOUND` after a signal to the
/// runner was forwarded to it.
struct Stop {
    started: Instant,
    deadline: Duration,
    forwarded: Option<Instant>,
}

impl Stop {
    fn new(started: Instant, deadline: Duration) -> Stop {
        Stop {
            started,
            deadline,
            forwarded: None,
        }
    }

    /// Forwards a signal the runner received (once), and says whether the child is past its bound.
    fn overdue(&mut self, child: &mut Child) -> bool {
        if self.forwarded.is_none() && interrupt::requested() {
            interrupt::forward(child);
            self.forwarded = Some(Instant::now());
        }
        self.started.elapsed() >= self.deadline
            || self.forwarded.is_some_and(|t| t.elapsed() >= STOP_BOUND)
    }
}

fn kill(mut child: Child, started: Instant) -> anyhow::Result<ChildRun> {
    let _ = child.kill();
    let _ = child.wait();
    Ok(ChildRun {
        exit_code: None,
        stdout: String::new(),
        killed_after: Some(started.elapsed()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn a_command_with_its_own_timeout_gets_twice_that_plus_ten_seconds() {
        assert_eq!(
            deadline_for(&args("deadlock --timeout 5s")),
            Duration::from_secs(20)
        );
        assert_eq!(
            deadline_for(&args("deadlock --timeout=2s")),
            Duration::from_secs(14)
        );
        assert_eq!(
            deadline_for(&args("check client --timeout 5s -- prog --timeout 100s")),
            Duration::from_secs(20)
        );
    }

    #[test]
    fn json_goes_before_the_double_dash_so_the_checked_program_never_sees_it() {
        assert_eq!(
            with_json(&args("deadlock --bytes 1M")),
            args("deadlock --bytes 1M --json")
        );
        assert_eq!(
            with_json(&args(
                "check client --bytes 8M -- python3 c.py {port} --json-ish --"
            )),
            args("check client --bytes 8M --json -- python3 c.py {port} --json-ish --")
        );
    }

    #[test]
    fn a_command_without_a_timeout_gets_the_default_deadline() {
        assert_eq!(deadline_for(&args("sixteen demo")), DEFAULT_DEADLINE);
    }
}
