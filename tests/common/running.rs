//! `Running`, the one child guard: a started process whose stdout lines arrive on a channel (so a
//! test waits for an event, a line, rather than for time) and whose stderr is collected as it
//! comes. Dropping it kills and reaps the process, so a failing test leaves nothing behind. Every
//! line seen is kept, so any failure can show what the process had printed up to then.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::Output;
use super::cmd::{AfterLines, dump};

/// How long output may still arrive after the process has exited (a grandchild holding the pipes
/// open would otherwise keep the test waiting).
const AFTER_EXIT: Duration = Duration::from_secs(10);

pub struct Running {
    child: Child,
    command: String,
    /// Raw stdout lines, each with its `\n` (the last one may lack it); closed at EOF.
    lines: Receiver<String>,
    /// Every stdout line received so far.
    stdout: Vec<String>,
    /// How many of `stdout` the `wait_line` calls have looked at.
    consumed: usize,
    stdout_closed: bool,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Disconnects when stderr reaches EOF.
    stderr_open: Receiver<()>,
    status: Option<ExitStatus>,
    /// Dropped with the guard: lets an unread stdout pipe go.
    _keep_open: mpsc::Sender<()>,
}

impl Running {
    pub(super) fn new(
        mut child: Child,
        command: String,
        stdin: Option<Vec<u8>>,
        head: Option<(usize, AfterLines)>,
    ) -> Running {
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A program that exits without reading its stdin is the test's business, not an error.
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        let (keep_open, unread) = mpsc::channel::<()>();
        thread::spawn(move || {
            let mut out = BufReader::new(out);
            let mut buf = Vec::new();
            let mut left = head.map_or(usize::MAX, |h| h.0);
            // With `head`, returning drops the pipe's reading end after that many lines.
            while left > 0 && matches!(out.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
                if tx.send(String::from_utf8_lossy(&buf).into_owned()).is_err() {
                    return;
                }
                buf.clear();
                left -= 1;
            }
            if head.is_some_and(|h| h.1 == AfterLines::KeepOpen) {
                // Holds the pipe, unread, until the guard is dropped; no more lines will come.
                drop(tx);
                let _ = unread.recv();
            }
        });
        let mut err = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (open, stderr_open) = mpsc::channel::<()>();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let _open = open;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Running {
            child,
            command,
            lines,
            stdout: Vec::new(),
            consumed: 0,
            stdout_closed: false,
            stderr,
            stderr_open,
            status: None,
            _keep_open: keep_open,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.exit_status().is_none()
    }

    /// Waits for the first stdout line matching `pred` among those no earlier call has looked at,
    /// and returns it without its line ending.
    pub fn wait_line(&mut self, pred: impl Fn(&str) -> bool, bound: Duration) -> String {
        let until = Instant::now() + bound;
        loop {
            while self.consumed < self.stdout.len() {
                let line = self.stdout[self.consumed].trim_end_matches(['\n', '\r']);
                self.consumed += 1;
                if pred(line) {
                    return line.to_owned();
                }
            }
            if !self.receive(until) {
                let when = if self.stdout_closed {
                    "before the process closed its stdout".to_owned()
                } else {
                    format!("within {bound:?}")
                };
                panic!("no stdout line matched {when}\n{}", self.dump());
            }
        }
    }

    /// The next stdout line, whatever it says.
    pub fn next_line(&mut self, bound: Duration) -> String {
        self.wait_line(|_| true, bound)
    }

    /// Polls `cond` (which may look at this process) until it holds; after `bound` the test fails
    /// saying what never happened, with everything the process printed.
    pub fn wait_for(
        &mut self,
        bound: Duration,
        what: &str,
        mut cond: impl FnMut(&mut Self) -> bool,
    ) {
        let until = Instant::now() + bound;
        while !cond(self) {
            if Instant::now() >= until {
                panic!("{what} never happened within {bound:?}\n{}", self.dump());
            }
            // The polling interval of a bounded poll, not a synchronisation.
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends a signal (`SIGINT` is Ctrl-C) to a process that has not been reaped yet.
    pub fn signal(&mut self, signal: libc::c_int) {
        if self.alive() {
            let pid = libc::pid_t::try_from(self.pid()).expect("a pid fits pid_t");
            // SAFETY: kill(2) takes plain integers. The pid is our child's and it has not been
            // reaped (try_wait just said so), so it cannot have been reused by another process.
            let rc = unsafe { libc::kill(pid, signal) };
            assert_eq!(
                rc,
                0,
                "kill({pid}, {signal}) failed: {}",
                std::io::Error::last_os_error()
            );
        } else {
            panic!(
                "cannot send signal {signal}: the process has already exited\n{}",
                self.dump()
            );
        }
    }

    /// Sends SIGINT, as Ctrl-C does, and collects how the process ended (at most `bound`).
    pub fn interrupt(mut self, bound: Duration) -> Output {
        self.signal(libc::SIGINT);
        self.finish(bound)
    }

    /// Waits at most `deadline` for the process to exit and its output to end. Past the deadline
    /// the process is killed and the test fails with everything it printed.
    pub fn finish(mut self, deadline: Duration) -> Output {
        let status = match self.status {
            Some(s) => s,
            None => match self
                .child
                .wait_timeout(deadline)
                .expect("wait for the child")
            {
                Some(s) => s,
                None => {
                    let _ = self.child.kill();
                    self.status = self.child.wait().ok();
                    self.collect(Instant::now() + Duration::from_secs(2));
                    panic!(
                        "did not finish within {deadline:?}, so it was killed\n{}",
                        self.dump()
                    );
                }
            },
        };
        self.status = Some(status);
        if !self.collect(Instant::now() + AFTER_EXIT) {
            panic!(
                "exited, but its output stayed open {AFTER_EXIT:?} longer (a process of its own \
                 still holding the pipes?)\n{}",
                self.dump()
            );
        }
        Output {
            status,
            stdout: self.stdout.concat(),
            stderr: self.stderr_text(),
            command: self.command.clone(),
        }
    }

    /// Everything the process has written to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr_text()
    }

    /// Everything known so far: the command, whether it still runs, stdout and stderr.
    pub fn dump(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.stdout.push(line);
        }
        let status = match self.exit_status() {
            Some(s) => s.to_string(),
            None => "still running".to_owned(),
        };
        dump(
            &self.command,
            &status,
            &self.stdout.concat(),
            &self.stderr_text(),
        )
    }

    fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait on the child");
        }
        self.status
    }

    /// Receives one stdout line before `until`; false at EOF or when time is up.
    fn receive(&mut self, until: Instant) -> bool {
        if self.stdout_closed {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.stdout.push(line);
                true
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.stdout_closed = true;
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
        }
    }

    /// Reads stdout and stderr to their ends before `until`; false if either is still open.
    fn collect(&mut self, until: Instant) -> bool {
        while self.receive(until) {}
        let left = until.saturating_duration_since(Instant::now());
        let stderr_done = matches!(
            self.stderr_open.recv_timeout(left),
            Err(RecvTimeoutError::Disconnected)
        );
        self.stdout_closed && stderr_done
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
