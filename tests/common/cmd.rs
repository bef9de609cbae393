//! `Cmd`, the one way a test starts a program: arguments, environment, stdin and a deadline, then
//! `run()` to the end or `spawn()` for a process the test talks to while it runs. `Output` is what
//! a finished process left behind, with the dump every harness failure prints.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tcplab::result::RunResult;

use super::{BIN, DEADLINE, Running, require_python};

/// Tells tcplab that a student watches the terminal; a test never does.
const LIVE_ENV: &str = "TCPLAB_LIVE";

/// A program to run, its arguments and environment, and how long a run may take.
#[derive(Clone, Debug)]
pub struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
    /// The folder it starts in (the test's own when `None`).
    dir: Option<std::path::PathBuf>,
    deadline: Duration,
    /// What happens to stdout after a number of lines.
    stdout_lines: Option<(usize, AfterLines)>,
}

/// What the test does with stdout once it has read the lines it wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterLines {
    /// Closes the pipe (`| head -N`).
    Close,
    /// Keeps the pipe open, unread, until the guard is dropped.
    KeepOpen,
}

/// `tcplab ARGS`, bounded by `DEADLINE` unless `.deadline(..)` says otherwise.
pub fn tcplab(args: &[&str]) -> Cmd {
    Cmd::new(BIN).args(args)
}

/// `python3 -u tests/fixtures/SCRIPT` (unbuffered, so each line arrives as it is printed).
pub fn python(script: &str) -> Cmd {
    require_python();
    let path = format!("{}/tests/fixtures/{script}", env!("CARGO_MANIFEST_DIR"));
    Cmd::new("python3").arg("-u").arg(path)
}

impl Cmd {
    pub fn new(program: impl Into<OsString>) -> Cmd {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            // A test reads a pipe: no COLUMNS from the terminal that ran cargo, so each line is a
            // record unless the test sets COLUMNS itself.
            env: vec![(LIVE_ENV.into(), None), ("COLUMNS".into(), None)],
            stdin: None,
            dir: None,
            deadline: DEADLINE,
            stdout_lines: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Cmd {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.env.push((key.into(), None));
        self
    }

    /// Starts the program in `dir` (as `cd DIR && PROGRAM` does).
    pub fn current_dir(mut self, dir: &std::path::Path) -> Cmd {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Bytes for the program's stdin, which is then closed (without this, stdin is /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Reads `lines` lines of stdout, then closes the pipe, as `PROGRAM | head -LINES` does: the
    /// program's next writes to stdout fail with a broken pipe.
    pub fn head(mut self, lines: usize) -> Cmd {
        self.stdout_lines = Some((lines, AfterLines::Close));
        self
    }

    /// Reads `lines` lines of stdout, then stops reading but keeps the pipe open, as a reader
    /// that is starved or stuck does: once the pipe is full, the program's writes to stdout wait.
    pub fn unread_after(mut self, lines: usize) -> Cmd {
        self.stdout_lines = Some((lines, AfterLines::KeepOpen));
        self
    }

    /// How long `run()` waits before it kills the program and fails the test.
    pub fn deadline(mut self, deadline: Duration) -> Cmd {
        self.deadline = deadline;
        self
    }

    /// Runs to the end, at most the deadline; the exit code is the test's to judge.
    pub fn run(self) -> Output {
        let deadline = self.deadline;
        self.spawn().finish(deadline)
    }

    /// The program, its arguments, folder and environment, with the standard streams still to set.
    pub(super) fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        for (key, value) in &self.env {
            match value {
                Some(v) => command.env(key, v),
                None => command.env_remove(key),
            };
        }
        command
    }

    /// How long a run may take.
    pub(super) fn bound(&self) -> Duration {
        self.deadline
    }

    /// Starts the program; the returned guard kills it when dropped.
    pub fn spawn(self) -> Running {
        let mut command = self.command();
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let shown = self.to_string();
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
        Running::new(child, shown, self.stdin, self.stdout_lines)
    }
}

/// The command line as a person would type it (the folder, then environment changes first).
impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quote = |s: &OsString| {
            let s = s.to_string_lossy();
            if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "'\"$()".contains(c)) {
                format!("'{}'", s.replace('\'', r"'\''"))
            } else {
                s.into_owned()
            }
        };
        let mut words: Vec<String> = self
            .env
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{}={}", quote(k), quote(v))))
            .collect();
        let program = if self.program == BIN {
            "tcplab".to_owned()
        } else {
            quote(&self.program)
        };
        words.push(program);
        words.extend(self.args.iter().map(quote));
        if let Some(dir) = &self.dir {
            write!(f, "cd {} && ", quote(&dir.clone().into_os_string()))?;
        }
        f.write_str(&words.join(" "))
    }
}

/// A finished process: how it ended and everything it printed.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// The exit code, or -1 when a signal ended the process.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    /// Fails the test, with the dump, unless the process exited with `want`.
    pub fn assert_code(&self, want: i32) -> &Output {
        assert_eq!(self.code(), want, "unexpected exit code\n{}", self.dump());
        self
    }

    /// Stdout parsed as JSON into `T`; a failure shows what was printed instead.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a {} ({e})\n{}",
                std::any::type_name::<T>(),
                self.dump()
            )
        })
    }

    /// Stdout as the `RunResult` of a `--json` run.
    pub fn result(&self) -> RunResult {
        self.json()
    }

    /// The single `tcplab: …` line a failed command prints on stderr.
    pub fn one_error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.trim_end().lines().collect();
        assert!(
            lines.len() == 1 && lines[0].starts_with("tcplab: "),
            "expected one 'tcplab: …' line on stderr\n{}",
            self.dump()
        );
        lines[0]
    }

    /// The command, status, stdout and stderr, for a failure message.
    pub fn dump(&self) -> String {
        dump(
            &self.command,
            &self.status.to_string(),
            &self.stdout,
            &self.stderr,
        )
    }
}

/// The one failure report: the command line, how it ended, stdout and stderr.
pub(super) fn dump(command: &str, status: &str, stdout: &str, stderr: &str) -> String {
    let mut s = format!("command: {command}\nstatus:  {status}\n");
    for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
        let _ = writeln!(s, "--- {name} ({} bytes)", text.len());
        s.push_str(text);
        if !text.is_empty() && !text.ends_with('\n') {
            s.push('\n');
        }
    }
    s.push_str("--- end");
    s
}
