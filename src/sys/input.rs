//! A file read that a signal can end: `tcplab replay` may be handed a FIFO (`mkfifo`, or
//! `<(…)` from a shell), where open(2) waits for a writer and read(2) for data, for as long as
//! the writer likes. The signal handlers restart both calls (SA_RESTART), so Ctrl-C and SIGTERM
//! would only set a flag nobody looks at. Here the file is opened with O_NONBLOCK (open returns at
//! once, writer or not) and every read first waits in poll(2) for at most a tick, asking `stop`
//! between ticks. A regular file is always readable, so it costs one extra poll per read.
//!
//! What the reader is stopped for is the caller's business: `stop` is any check (the program's
//! interrupt flag).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// How long one wait lasts before `stop` is asked again.
const TICK: Duration = Duration::from_millis(100);

/// A file whose reads wait in ticks and end when `stop` says so.
pub struct Input {
    file: File,
    stop: fn() -> bool,
}

/// The error a read returns once `stop` said so. Its kind is `Other`, not `Interrupted`, which
/// readers such as `read_to_end` would simply retry.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("stopped by a signal while waiting for input")]
pub struct Stopped;

/// Opens `path` for reading without waiting for a writer.
pub fn open(path: &Path, stop: fn() -> bool) -> io::Result<Input> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    Ok(Input { file, stop })
}

impl Input {
    /// Waits until the file has something to read (data, or the end), a tick at a time.
    fn wait(&self) -> io::Result<()> {
        let tick = Timespec::try_from(TICK).map_err(io::Error::other)?;
        loop {
            if (self.stop)() {
                return Err(io::Error::other(Stopped));
            }
            let mut fds = [PollFd::new(&self.file, PollFlags::IN)];
            match poll(&mut fds, Some(&tick)) {
                // Readable, or hung up (the last writer closed): read(2) says which.
                Ok(n) if n > 0 => return Ok(()),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            // A FIFO without a writer yet reads as its end (0) at once: wait before reading.
            self.wait()?;
            match self.file.read(buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    static STOP: AtomicBool = AtomicBool::new(false);

    #[test]
    fn a_regular_file_reads_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, b"time_ms\n0.0\n").unwrap();
        let mut text = String::new();
        open(&path, || false)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "time_ms\n0.0\n");
    }

    /// A FIFO nobody writes to: the read waits, and ends with `Stopped` once `stop` says so.
    #[test]
    fn a_read_from_a_fifo_without_a_writer_ends_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let mut input = open(&path, || STOP.load(Ordering::Relaxed)).unwrap();
        let reader = std::thread::spawn(move || input.read(&mut [0u8; 16]));
        STOP.store(true, Ordering::Relaxed);
        // Without a writer the read must wait (not read an end of file) until it is stopped.
        let err = reader.join().unwrap().expect_err("a stopped read fails");
        assert!(err.get_ref().is_some_and(|e| e.is::<Stopped>()), "{err}");
    }

    #[test]
    fn a_fifo_reads_what_its_writer_wrote_then_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let mut input = open(&path, || false).unwrap();
        let writer_path = path.clone();
        let writer = std::thread::spawn(move || {
            let mut w = OpenOptions::new().write(true).open(writer_path).unwrap();
            w.write_all(b"a,b\n1,2\n").unwrap();
        });
        let mut text = String::new();
        input.read_to_string(&mut text).unwrap();
        writer.join().unwrap();
        assert_eq!(text, "a,b\n1,2\n");
    }
}
