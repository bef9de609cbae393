//! `tcplab replay` of hostile input (issue 19): a row whose time is no time, a file far larger
//! than memory should hold, and a FIFO whose writer is slow or never comes. Each ends with one
//! line or a signal's exit code, and never with a panic or a wait nobody can end.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use common::*;

/// How long a replay may take to start, or to stop after a signal, on a busy machine.
const BOUND: Duration = Duration::from_secs(20);

const ECHO_ARRIVES: &str = r#"[{"at_ms":10,"event":"echo_arrives"}]"#;

#[test]
fn a_row_whose_time_is_no_time_is_named_in_one_line() {
    let dir = scratch("replay-times");
    for bad in ["inf", "1e308", "-inf", "NaN", "-5"] {
        let csv = dir.join("t.csv");
        fs::write(&csv, timeline_csv(&["0.0", "10.0", bad], None)).unwrap();
        for format in ["text", "json"] {
            let out = tcplab(&["replay", path_arg(&csv), "--format", format])
                .args(["--quiet", "--speed", "100"])
                .deadline(BOUND)
                .run();
            out.assert_code(1);
            let line = out.one_error_line();
            assert!(
                line.contains("row 3: time_ms is ") && line.contains("milliseconds from 0 to"),
                "{bad}: {line}"
            );
        }
        // The page is refused the same way, and no page is written.
        let html = dir.join("t.html");
        let out = tcplab(&["replay", path_arg(&csv), "--html", path_arg(&html)])
            .deadline(BOUND)
            .run();
        out.assert_code(1);
        assert!(out.one_error_line().contains("row 3: time_ms is "));
        assert!(!html.exists(), "{bad}: a page was written\n{}", out.dump());
    }
}

/// A 24 MiB timeline, replayed with the process's data memory limited to 16 MiB (`ulimit -d`):
/// a replay that read every row before playing held several times the file and was killed by
/// the allocator. One that reads a row at a time plays it to the end.
#[test]
fn a_replay_holds_a_row_not_the_file() {
    let dir = scratch("replay-large");
    let csv = dir.join("large.csv");
    let row = timeline_csv(&["0.0"], None);
    let (header, line) = row.split_once('\n').unwrap();
    let mut f = fs::File::create(&csv).unwrap();
    writeln!(f, "{header}").unwrap();
    let (_, rest) = line.split_once(',').unwrap();
    let mut size = 0;
    let mut i = 0u64;
    while size < 24 << 20 {
        // A row every 10 µs of recorded time: the whole file plays in well under a second.
        let l = format!("{}.{:02},{rest}", i / 100, i % 100);
        size += l.len() + 1;
        writeln!(f, "{l}").unwrap();
        i += 1;
    }
    drop(f);
    let script = r#"ulimit -d 16384; exec "$0" "$@""#;
    let out = Cmd::new("sh")
        .args([
            "-c",
            script,
            BIN,
            "replay",
            path_arg(&csv),
            "-q",
            "--speed",
            "1000",
        ])
        .deadline(Duration::from_secs(120))
        .run();
    out.assert_code(0);
    assert!(out.stderr.is_empty(), "{}", out.dump());
}

fn mkfifo(path: &Path) {
    Cmd::new("mkfifo").arg(path_arg(path)).run().assert_code(0);
}

/// A FIFO plays as its writer writes: the first event is told while the writer still holds the
/// FIFO open (a replay that read to the end first would wait for ever), and Ctrl-C or SIGTERM
/// then ends the replay waiting for the next row.
#[test]
fn a_fifo_plays_as_it_is_written_and_a_signal_ends_the_wait_for_more() {
    for signal in [SIGINT, SIGTERM] {
        let dir = scratch(&format!("replay-fifo-{signal}"));
        let fifo = dir.join("t.csv");
        mkfifo(&fifo);
        let mut replay = tcplab(&["replay", path_arg(&fifo), "-q"]).spawn();
        let mut writer = writing_end(&mut replay, &fifo);
        writer
            .write_all(timeline_csv(&["0.0"], Some(ECHO_ARRIVES)).as_bytes())
            .unwrap();
        writer.flush().unwrap();
        let line = replay.wait_line(|l| l.contains("echo starts arriving"), BOUND);
        assert!(line.contains("0.01 s"), "{line}");
        replay.signal(signal);
        let out = replay.finish(BOUND);
        out.assert_code(128 + signal);
        drop(writer);
    }
}

/// A FIFO nobody ever writes to: the replay waits for its first row until Ctrl-C or SIGTERM.
#[test]
fn a_fifo_without_a_writer_ends_on_a_signal() {
    for signal in [SIGINT, SIGTERM] {
        let dir = scratch(&format!("replay-no-writer-{signal}"));
        let fifo = dir.join("t.csv");
        mkfifo(&fifo);
        let mut replay = tcplab(&["replay", path_arg(&fifo)]).spawn();
        // The replay is waiting for its FIFO once it holds the reading end open.
        replay.wait_for(BOUND, "the replay opening its FIFO", |r| {
            holds_open(r.pid(), &fifo)
        });
        replay.signal(signal);
        let out = replay.finish(BOUND);
        out.assert_code(128 + signal);
        assert!(out.stderr.is_empty(), "{}", out.dump());
    }
}

/// The writing end of `fifo`, once `replay` has opened its reading end (a non-blocking open
/// fails until then, where a blocking one would wait without a bound).
fn writing_end(replay: &mut Running, fifo: &Path) -> fs::File {
    let mut end = None;
    replay.wait_for(BOUND, "the replay opening its FIFO", |_| {
        end = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(fifo)
            .ok();
        end.is_some()
    });
    end.expect("opened")
}

/// Whether process `pid` has `path` open (from /proc/PID/fd).
fn holds_open(pid: u32, path: &Path) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|p| p == path))
}

/// A replayed file's events carry strings of their own (a verdict's kind): escape codes in them
/// are shown as text, and the terminal obeys none of them.
#[test]
fn escape_codes_in_a_replayed_file_are_shown_not_obeyed() {
    let dir = scratch("replay-escapes");
    let csv = dir.join("t.csv");
    let event = r#"[{"at_ms":10,"event":"verdict","kind":"\u001b[2J\u001b]0;pwned\u0007"}]"#;
    fs::write(&csv, timeline_csv(&["0.0"], Some(event))).unwrap();
    let out = tcplab(&["replay", path_arg(&csv), "-q"])
        .deadline(BOUND)
        .run();
    out.assert_code(0);
    assert!(
        out.stdout
            .contains(r"verdict: stuck (\x1b[2J\x1b]0;pwned\x07)"),
        "{}",
        out.dump()
    );
    assert!(
        !out.stdout.contains('\x1b') && !out.stdout.contains('\x07'),
        "{}",
        out.dump()
    );
}
