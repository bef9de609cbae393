//! A program run on a terminal of its own: stdin, stdout and stderr on the slave side of a
//! pseudo-terminal of a chosen width, as a student's shell would give them, so what tcplab shows
//! only on a terminal (progress bars, tables at the end) can be tested. Everything the program
//! wrote comes back as one text in `Output::stdout` (a terminal has one screen, not two streams),
//! escape codes and carriage returns included.

use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::{Cmd, Output};

/// How long the screen may still receive output after the program has exited.
const AFTER_EXIT: Duration = Duration::from_secs(10);

impl Cmd {
    /// Runs the program to its end (at most the deadline) on a terminal `columns` wide.
    pub fn run_on_terminal(self, columns: u16) -> Output {
        let (master, slave) = open_pty(columns);
        let mut command = self.command();
        for (stream, name) in [(0, "stdin"), (1, "stdout"), (2, "stderr")] {
            let fd = slave
                .try_clone()
                .unwrap_or_else(|e| panic!("cannot share the terminal as {name}: {e}"));
            match stream {
                0 => command.stdin(Stdio::from(fd)),
                1 => command.stdout(Stdio::from(fd)),
                _ => command.stderr(Stdio::from(fd)),
            };
        }
        let shown = self.to_string();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
        // Only the child holds the terminal now, so reading the screen ends when it exits.
        drop(command);
        drop(slave);
        let (tx, screen) = mpsc::channel::<Vec<u8>>();
        thread::spawn(move || {
            let mut master = File::from(master);
            let mut buf = [0u8; 4096];
            // A read fails with EIO once no process holds the terminal any more.
            while let Ok(n @ 1..) = master.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        });
        let status = match child
            .wait_timeout(self.bound())
            .expect("wait for the child")
        {
            Some(s) => s,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`{shown}` did not finish within {:?}, so it was killed",
                    self.bound()
                );
            }
        };
        let mut text = Vec::new();
        let until = std::time::Instant::now() + AFTER_EXIT;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match screen.recv_timeout(left) {
                Ok(bytes) => text.extend(bytes),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("`{shown}` exited, but its terminal stayed open {AFTER_EXIT:?} longer")
                }
            }
        }
        Output {
            status,
            stdout: String::from_utf8_lossy(&text).into_owned(),
            stderr: String::new(),
            command: shown,
        }
    }
}

/// A new pseudo-terminal `columns` wide: its master and slave sides.
fn open_pty(columns: u16) -> (OwnedFd, OwnedFd) {
    let size = libc::winsize {
        ws_row: 50,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty(3) writes two descriptors into the integers it is given and reads the
    // window size; a null name and termios are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and belong to nothing else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
