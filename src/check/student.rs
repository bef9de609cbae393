//! The student's program as a child process: started in a process group of its own (so a shell
//! wrapper's children are reached too, and the terminal's Ctrl-C reaches tcplab, which then stops
//! it), stdin from /dev/null, stdout and stderr read by two threads that keep the last lines.
//!
//! Stopping is bounded: SIGTERM to the group, a wait, then SIGKILL, then the reap. Until tcplab
//! reaps it, an exited program stays a zombie (its exit is read with `waitid(WNOWAIT)`), which
//! keeps its process id and so its group id from being reused while the group is signalled.
//! Dropping a `Student` stops it the same way, so no path leaves a program running.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use serde::{Deserialize, Serialize};

use super::family::{Family, Survivor};

/// Lines of stdout and of stderr kept for the report.
pub const TAIL_LINES: usize = 12;
/// Longest line kept (characters); a program that prints one endless line stays cheap.
const LINE_CHARS: usize = 300;
/// How long a program has to end after SIGTERM before it gets SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long the output readers may take to see the end of the pipes after the group is gone.
const READERS_BOUND: Duration = Duration::from_secs(2);

/// How the program ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessEnd {
    /// Its exit code, when it exited by itself.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Which signal tcplab sent to end it (`SIGTERM`, `SIGKILL`), when tcplab stopped it.
    pub stopped_with: Option<String>,
    /// Processes it started that outlived the stop (a setsid() grandchild that escaped even
    /// SIGKILL's reach is named here); empty when nothing is left running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survivors: Vec<Survivor>,
    /// Its last lines on stdout, oldest first.
    pub stdout_tail: Vec<String>,
    /// Its last lines on stderr, oldest first.
    pub stderr_tail: Vec<String>,
    /// From its start to its end (milliseconds).
    pub ran_ms: u64,
}

impl ProcessEnd {
    /// Whether it exited by itself with code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && self.stopped_with.is_none()
    }
}

/// The program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot start '{program}': no such program (not a path to a file, nor found on PATH)")]
    NotFound { program: String },
    #[error("cannot start '{program}': permission denied (is it executable?)")]
    NotExecutable { program: String },
    #[error("cannot start '{program}': {cause}")]
    Other { program: String, cause: io::Error },
}

/// The last lines a pipe carried.
#[derive(Debug, Default)]
struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    fn push(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let line: String = text
            .trim_end_matches(['\n', '\r'])
            .chars()
            .take(LINE_CHARS)
            .collect();
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// A started program.
pub struct Student {
    child: Child,
    pid: Pid,
    started: Instant,
    reaped: Option<ProcessEnd>,
    stdout: Arc<Mutex<Tail>>,
    stderr: Arc<Mutex<Tail>>,
    /// Each disconnects when its reader thread has seen the end of its pipe.
    readers: Vec<Receiver<()>>,
    /// Every process it starts, followed until the stop.
    family: Family,
}

impl Student {
    /// Starts `argv` (program first).
    pub fn spawn(argv: &[String]) -> Result<Student, StartError> {
        let program = argv[0].clone();
        let mut cmd = Command::new(&program);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let family = Family::new();
        if let Some(procs) = family.procs_file() {
            crate::sys::probe::join_at_exec(&mut cmd, procs);
        }
        if let Some((k, v)) = family.mark() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|cause| match cause.kind() {
            io::ErrorKind::NotFound => StartError::NotFound { program },
            io::ErrorKind::PermissionDenied => StartError::NotExecutable { program },
            _ => StartError::Other { program, cause },
        })?;
        let pid = Pid::from_child(&child);
        let stdout = Arc::new(Mutex::new(Tail::default()));
        let stderr = Arc::new(Mutex::new(Tail::default()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(read_lines("tcplab-stdout", out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(read_lines("tcplab-stderr", err, Arc::clone(&stderr)));
        }
        Ok(Student {
            child,
            pid,
            started: Instant::now(),
            reaped: None,
            stdout,
            stderr,
            readers,
            family,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// Whether it has exited (it stays a zombie until `stop` reaps it).
    pub fn exited(&self) -> bool {
        if self.reaped.is_some() {
            return true;
        }
        let opts = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        matches!(
            rustix::process::waitid(WaitId::Pid(self.pid), opts),
            Ok(Some(_))
        )
    }

    /// Whether it exits within `bound` (or has already).
    pub fn exits_within(&self, bound: Duration) -> bool {
        let until = Instant::now() + bound;
        loop {
            if self.exited() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            // The polling interval of a bounded wait for the process to end.
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The time its threads have run on a CPU so far (nanoseconds), when it can be read.
    pub fn cpu_ns(&self) -> Option<u64> {
        let threads = crate::sys::proc::threads(self.pid.as_raw_nonzero().get()).ok()?;
        Some(threads.iter().filter_map(|t| t.cpu_ns).sum())
    }

    /// Ends it (SIGTERM to its group, `TERM_GRACE`, then SIGKILL), reaps it, and says how it
    /// ended. A program that already exited is only reaped (its group gets SIGKILL, for any child
    /// it left behind).
    pub fn stop(&mut self) -> ProcessEnd {
        if let Some(end) = &self.reaped {
            return end.clone();
        }
        let mut stopped_with = None;
        if !self.exited() {
            if self.signal(Signal::TERM) {
                stopped_with = Some("SIGTERM".to_string());
            }
            if !self.exits_within(TERM_GRACE) && self.signal(Signal::KILL) {
                stopped_with = Some("SIGKILL".to_string());
            }
        }
        // Whatever the program left behind in its group (a shell wrapper's child). The leader is
        // not reaped yet, so the group id is still its own. Then every process it started,
        // whatever group or session it moved to.
        self.signal(Signal::KILL);
        let survivors = self.family.stop_all(self.pid());
        let ran_ms = self.started.elapsed().as_millis() as u64;
        let status = self.child.wait().ok();
        let until = Instant::now() + READERS_BOUND;
        for r in &self.readers {
            let _ = r.recv_timeout(until.saturating_duration_since(Instant::now()));
        }
        let end = ProcessEnd {
            exit_code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| std::os::unix::process::ExitStatusExt::signal(&s)),
            stopped_with,
            survivors,
            stdout_tail: lines(&self.stdout),
            stderr_tail: lines(&self.stderr),
            ran_ms,
        };
        self.reaped = Some(end.clone());
        end
    }

    /// Sends `sig` to the program's group; false when nobody was left to receive it.
    fn signal(&self, sig: Signal) -> bool {
        rustix::process::kill_process_group(self.pid, sig).is_ok()
    }
}

impl Drop for Student {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            self.stop();
        }
    }
}

fn lines(t: &Mutex<Tail>) -> Vec<String> {
    t.lock()
        .map(|t| t.lines.iter().cloned().collect())
        .unwrap_or_default()
}

/// A thread that reads a pipe to its end, keeping the last lines.
fn read_lines(
    name: &str,
    pipe: impl Read + Send + 'static,
    tail: Arc<Mutex<Tail>>,
) -> Receiver<()> {
    let (done, rx) = mpsc::channel::<()>();
    let spawned = thread::Builder::new().name(name.into()).spawn(move || {
        let _done = done;
        let mut r = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if let Ok(mut t) = tail.lock() {
                        t.push(&buf);
                    }
                }
            }
        }
    });
    // Without the thread the pipe is dropped here: the program then sees EPIPE on output, which
    // the report shows, rather than blocking.
    drop(spawned);
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Student {
        Student::spawn(&["sh".into(), "-c".into(), script.into()]).expect("sh starts")
    }

    fn wait_exit(s: &Student) {
        let until = Instant::now() + Duration::from_secs(10);
        while !s.exited() {
            assert!(Instant::now() < until, "the program never exited");
            thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_program_that_exits_keeps_its_code_and_its_last_lines() {
        let mut s = sh("echo out; echo err >&2; exit 3");
        wait_exit(&s);
        let end = s.stop();
        assert_eq!(end.exit_code, Some(3));
        assert_eq!(end.stopped_with, None);
        assert_eq!(end.stdout_tail, ["out"]);
        assert_eq!(end.stderr_tail, ["err"]);
        assert!(!end.succeeded());
    }

    #[test]
    fn a_program_that_ignores_sigterm_gets_sigkill_and_its_whole_group_goes() {
        // The shell ignores SIGTERM and waits for a child of its own, in the same group.
        let mut s = sh("trap '' TERM; sleep 30 & echo ready; wait");
        let until = Instant::now() + Duration::from_secs(10);
        while lines(&s.stdout).is_empty() {
            assert!(Instant::now() < until, "the shell never got ready");
            thread::sleep(Duration::from_millis(5));
        }
        let pid = s.pid;
        let end = s.stop();
        assert_eq!(end.stopped_with.as_deref(), Some("SIGKILL"));
        assert_eq!(end.signal, Some(9));
        // The background sleep got SIGKILL too; once dead it is init's to reap, so only a living
        // member would be a failure.
        let pgid = pid.as_raw_nonzero().get();
        let until = Instant::now() + Duration::from_secs(5);
        while living_members(pgid) > 0 {
            assert!(
                Instant::now() < until,
                "a process of the group is still alive"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Processes of group `pgid` that are not zombies, from /proc/*/stat (proc(5): the state is
    /// the field after the name in parentheses, the group two fields later).
    fn living_members(pgid: i32) -> usize {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
            .filter(|stat| {
                let Some((_, rest)) = stat.rsplit_once(')') else {
                    return false;
                };
                let f: Vec<&str> = rest.split_whitespace().collect();
                f.len() > 2 && f[0] != "Z" && f[2] == pgid.to_string()
            })
            .count()
    }

    #[test]
    fn a_program_that_cannot_be_found_is_a_typed_error() {
        let e = Student::spawn(&["tcplab-no-such-program".into()]).err();
        assert!(matches!(e, Some(StartError::NotFound { .. })), "{e:?}");
    }
}
