//! Output paths are checked before a run (issue 9, item 7.1 of the issue): a file that cannot be
//! written fails at once and by name, two outputs naming one file are refused, stdout takes a
//! second output only when it is free, and a write error after the run names its file too.

mod common;

use std::fs;
use std::time::Duration;

use common::*;

/// These runs stop before any point or run starts; a sweep that ran would take seconds.
const BEFORE_RUN: Duration = Duration::from_secs(20);

#[cfg(target_os = "linux")]
#[test]
fn a_plot_path_that_takes_no_writes_fails_before_the_sweep_runs() {
    let out = tcplab(&[
        "sweep",
        "--buffers",
        "16K,64K",
        "-q",
        "--plot",
        "/proc/version",
    ])
    .deadline(BEFORE_RUN)
    .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.starts_with("tcplab: cannot write '/proc/version': "),
        "{line}"
    );
    assert!(out.stdout.is_empty(), "the sweep ran first\n{}", out.dump());
}

#[cfg(target_os = "linux")]
#[test]
fn an_output_on_a_full_device_is_named() {
    let out = tcplab(&["sweep", "--buffers", "16K", "-q", "-o", "/dev/full"])
        .deadline(BEFORE_RUN)
        .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.starts_with("tcplab: cannot write '/dev/full': no space left on device; "),
        "{line}"
    );
}

#[test]
fn two_outputs_naming_one_file_are_refused_and_the_file_is_left_alone() {
    let dir = scratch("same-file");
    let x = dir.join("x.csv");
    fs::write(&x, "an earlier sweep\n").unwrap();
    let same = dir.join(".").join("x.csv");
    let out = tcplab(&["sweep", "--buffers", "16K,64K", "-q"])
        .args(["--plot", path_arg(&x), "-o", path_arg(&same)])
        .deadline(BEFORE_RUN)
        .run();
    out.assert_code(2);
    let line = out.one_error_line();
    assert!(line.contains("the same file"), "{line}");
    assert_eq!(fs::read_to_string(&x).unwrap(), "an earlier sweep\n");
}

#[test]
fn the_timeline_cannot_share_stdout_with_the_json_document() {
    let out = tcplab(&["deadlock", "--json", "--timeline", "-"])
        .deadline(BEFORE_RUN)
        .run();
    out.assert_code(2);
    let line = out.one_error_line();
    assert!(
        line.contains("--timeline") && line.contains("stdout already carries the JSON document"),
        "{line}"
    );
    assert!(out.stdout.is_empty(), "{}", out.dump());
}

#[test]
fn stdout_takes_the_plot_when_the_rows_go_to_a_file() {
    let dir = scratch("plot-on-stdout");
    let rows = dir.join("rows.csv");
    let out = tcplab(&["sweep", "--buffers", "16K,64K", "-q", "-o", path_arg(&rows)])
        .args(["--plot", "-"])
        .deadline(Duration::from_secs(120))
        .run();
    out.assert_code(0);
    assert!(out.stdout.starts_with("<svg"), "{}", out.dump());
    let clash = tcplab(&["sweep", "--buffers", "16K", "-q", "--plot", "-"])
        .deadline(BEFORE_RUN)
        .run();
    clash.assert_code(2);
    assert!(clash.one_error_line().contains("the sweep's rows"));
}

/// A file that grows past the process's file-size limit (`ulimit -f`, with SIGXFSZ ignored so the
/// write fails with EFBIG instead of killing the process) fails mid-write, after the run.
#[test]
fn a_write_error_after_the_run_names_the_file() {
    let dir = scratch("too-large");
    let csv = dir.join("t.csv");
    let script = r#"trap '' XFSZ; ulimit -f 2; exec "$0" "$@""#;
    let out = Cmd::new("sh")
        .args([
            "-c", script, BIN, "deadlock", "--sndbuf", "16K", "--rcvbuf", "16K",
        ])
        .args(["--json", "--timeline", path_arg(&csv)])
        .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.starts_with(&format!("tcplab: cannot write '{}': ", csv.display())),
        "{line}"
    );
}

/// The lines of stderr that name a written file (`wrote …`), in order.
fn wrote_lines(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("wrote "))
        .collect()
}

#[test]
fn each_timeline_file_is_named_on_stderr_and_stdout_keeps_only_the_json() {
    let dir = scratch("wrote-timeline");
    let (csv, svg) = (dir.join("t.csv"), dir.join("t.svg"));
    let out = tcplab(&["deadlock", "--sndbuf", "16K", "--rcvbuf", "16K", "--json"])
        .args([
            "--timeline",
            path_arg(&csv),
            "--plot-timeline",
            path_arg(&svg),
        ])
        .run();
    out.assert_code(3);
    // The whole of stdout is the one JSON document.
    let _ = out.result();
    let rows = csv::Reader::from_path(&csv)
        .expect("the timeline CSV")
        .records()
        .count();
    assert!(rows >= 2, "{rows} rows\n{}", out.dump());
    assert_eq!(
        wrote_lines(&out),
        [
            format!("wrote {} ({rows} rows)", csv.display()),
            format!("wrote {}", svg.display())
        ],
        "{}",
        out.dump()
    );
}

#[test]
fn each_sweep_file_is_named_on_stderr_and_rows_on_stdout_stay_clean() {
    let dir = scratch("wrote-sweep");
    let (csv, json, svg) = (dir.join("p.csv"), dir.join("p.json"), dir.join("p.svg"));
    let out = tcplab(&["sweep", "--buffers", "16K,32K", "-q"])
        .args(["-o", path_arg(&csv), "-o", path_arg(&json)])
        .args(["--plot", path_arg(&svg)])
        .deadline(Duration::from_secs(120))
        .run();
    out.assert_code(0);
    assert!(out.stdout.is_empty(), "{}", out.dump());
    assert_eq!(
        wrote_lines(&out),
        [
            format!("wrote {} (2 rows)", csv.display()),
            format!("wrote {} (2 rows)", json.display()),
            format!("wrote {}", svg.display())
        ],
        "{}",
        out.dump()
    );
    // Rows on stdout as JSON Lines: every line of stdout is a row, the plot is named on stderr.
    let out = tcplab(&["sweep", "--buffers", "16K", "-q", "--json"])
        .args(["--plot", path_arg(&svg)])
        .deadline(Duration::from_secs(120))
        .run();
    out.assert_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.dump());
    serde_json::from_str::<serde_json::Value>(lines[0]).expect("a JSON row");
    assert_eq!(wrote_lines(&out), [format!("wrote {}", svg.display())]);
}

/// What each output file held before a command ran: its text, or `None` when it did not exist.
fn contents(paths: &[&std::path::Path]) -> Vec<Option<String>> {
    paths.iter().map(|p| fs::read_to_string(p).ok()).collect()
}

/// Runs `args` (which fail at start-up: a bad path or a missing program) twice, once over outputs
/// that hold an earlier run's text and once where they do not exist yet, and checks that the
/// command failed with one line and left every output as it was: nothing emptied, nothing created.
fn fails_at_start_up_and_leaves(outputs: &[&std::path::Path], args: &[&str], code: i32) {
    for earlier in [true, false] {
        for p in outputs {
            let _ = fs::remove_file(p);
            if earlier {
                fs::write(p, format!("an earlier run's {}\n", p.display())).unwrap();
            }
        }
        let before = contents(outputs);
        let out = tcplab(args).deadline(BEFORE_RUN).run();
        out.assert_code(code);
        out.one_error_line();
        assert_eq!(
            contents(outputs),
            before,
            "an output was emptied or created\n{}",
            out.dump()
        );
    }
}

#[test]
fn a_sweep_with_a_bad_plot_path_leaves_its_csv_as_it_was() {
    let dir = scratch("start-up-sweep");
    let csv = dir.join("a.csv");
    fails_at_start_up_and_leaves(
        &[&csv],
        &[
            "sweep",
            "-q",
            "-o",
            path_arg(&csv),
            "--plot",
            "/nonexistent/p.svg",
        ],
        1,
    );
}

#[test]
fn a_deadlock_with_a_bad_plot_path_leaves_its_timeline_as_it_was() {
    let dir = scratch("start-up-deadlock");
    let csv = dir.join("a.csv");
    fails_at_start_up_and_leaves(
        &[&csv],
        &[
            "deadlock",
            "--timeline",
            path_arg(&csv),
            "--plot-timeline",
            "/bad/x.svg",
        ],
        1,
    );
}

#[test]
fn a_check_of_a_missing_program_leaves_its_report_and_timeline_as_they_were() {
    let dir = scratch("start-up-check");
    let (md, svg) = (dir.join("r.md"), dir.join("r.svg"));
    let missing = dir.join("no-such-program");
    fails_at_start_up_and_leaves(
        &[&md, &svg],
        &[
            "check",
            "client",
            "--report",
            path_arg(&md),
            "--",
            path_arg(&missing),
            "{port}",
        ],
        2,
    );
    // A program that starts but exits before it connects: the check fails, the files stay.
    fails_at_start_up_and_leaves(
        &[&md, &svg],
        &[
            "check",
            "client",
            "--report",
            path_arg(&md),
            "--",
            "sh",
            "-c",
            "exit 4",
            "{port}",
        ],
        1,
    );
}

#[test]
fn a_replay_of_a_bad_timeline_leaves_its_html_as_it_was() {
    let dir = scratch("start-up-replay");
    let (csv, html) = (dir.join("t.csv"), dir.join("t.html"));
    fs::write(&csv, timeline_csv(&["0.0", "inf"], None)).unwrap();
    fails_at_start_up_and_leaves(
        &[&html],
        &["replay", path_arg(&csv), "--html", path_arg(&html)],
        1,
    );
}
