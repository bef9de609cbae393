//! `tcplab sweep` and `tcplab deadlock --timeline` end to end: the real binary on 127.0.0.1, small
//! buffers (8–128 KiB, so every stall comes after KiB), every wait bounded. The plots themselves
//! are read back in tests/plots.rs.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{scratch, tcplab};
use tcplab::report::sweep_row::SweepRow;
use tcplab::result::Outcome;
use tcplab::timeline::TimelineRow;

/// A whole sweep of a few points takes a few seconds; this bound is for a machine under load.
const DEADLINE: Duration = Duration::from_secs(120);

/// The CSV columns, pinned: a change here is a change of the published format.
const CSV_HEADER: &str = "point,run,strategy,chunk_bytes,read_bytes,total_bytes,\
client_sndbuf_requested_bytes,client_sndbuf_effective_bytes,\
client_rcvbuf_requested_bytes,client_rcvbuf_effective_bytes,\
server_sndbuf_requested_bytes,server_sndbuf_effective_bytes,\
server_rcvbuf_requested_bytes,server_rcvbuf_effective_bytes,\
outcome,client_sent_bytes,server_received_bytes,server_sent_bytes,client_received_bytes,\
last_progress_ms,stall_ms,stall_basis,elapsed_ms,throughput_bytes_per_s,\
predicted_capacity_bytes,measured_over_predicted,error";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    csv::Reader::from_path(path)
        .expect("cannot open the CSV")
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .expect("a CSV row does not parse back into its row type")
}

fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line does not parse"))
        .collect()
}

#[test]
fn csv_and_json_rows_carry_every_column_and_the_same_values() {
    let dir = scratch("columns");
    let (csv, json) = (dir.join("p.csv"), dir.join("p.json"));
    let o = tcplab(&[
        "sweep",
        "--buffers",
        "8K,16K",
        "-q",
        "-o",
        p(&csv),
        "-o",
        p(&json),
    ])
    .deadline(DEADLINE)
    .run();
    o.assert_code(0);
    let text = fs::read_to_string(&csv).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(CSV_HEADER),
        "the CSV header changed"
    );
    let rows: Vec<SweepRow> = read_csv(&csv);
    let objects = read_jsonl(&json);
    assert_eq!(rows.len(), 2, "{}", o.dump());
    assert_eq!(objects.len(), 2);
    let mut columns: Vec<&str> = CSV_HEADER.split(',').collect();
    columns.sort_unstable();
    for (row, obj) in rows.iter().zip(&objects) {
        let keys: Vec<&str> = obj
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, columns, "the JSON fields differ from the CSV columns");
        let back: SweepRow = serde_json::from_value(obj.clone()).unwrap();
        assert_eq!(&back, row, "the CSV and JSON views disagree");
        assert_eq!(row.outcome, Outcome::Deadlock, "{row:?}");
        assert!(row.stall_ms.is_some() && row.measured_over_predicted.is_some());
        #[cfg(target_os = "linux")]
        assert_eq!(
            Some(row.client_sndbuf_effective_bytes),
            row.client_sndbuf_requested_bytes.map(|r| 2 * r),
            "Linux doubles a SO_SNDBUF request (socket(7))"
        );
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn bytes_before_the_stall_grow_with_the_buffer_size() {
    let dir = scratch("grow");
    let csv = dir.join("p.csv");
    let o = tcplab(&[
        "sweep",
        "--buffers",
        "8K,32K,128K",
        "--repeat",
        "3",
        "-q",
        "-o",
        p(&csv),
    ])
    .deadline(DEADLINE)
    .run();
    o.assert_code(0);
    let rows: Vec<SweepRow> = read_csv(&csv);
    assert_eq!(rows.len(), 9);
    let mut medians = Vec::new();
    for size in [8192u64, 32768, 131072] {
        let at: Vec<&SweepRow> = rows
            .iter()
            .filter(|r| r.client_sndbuf_requested_bytes == Some(size))
            .collect();
        let stalls: Vec<u64> = at.iter().filter_map(|r| r.stalled_at()).collect();
        assert_eq!(
            stalls.len(),
            3,
            "every naive run at {size} B should stall: {at:?}"
        );
        // A single run lands at 0.7–1.08 of the prediction; this margin is wider still.
        for r in &at {
            let ratio = r.measured_over_predicted.unwrap();
            assert!(
                (0.4..=1.6).contains(&ratio),
                "ratio {ratio} far from the model: {r:?}"
            );
        }
        medians.push(median(stalls));
    }
    assert!(
        medians.windows(2).all(|w| w[0] < w[1]),
        "bytes before the stall did not grow with the buffers: medians {medians:?}"
    );
}

#[test]
fn the_timeline_moves_forward_in_time_and_its_counters_never_decrease() {
    let dir = scratch("timeline");
    let (csv, svg) = (dir.join("t.csv"), dir.join("t.svg"));
    let o = tcplab(&[
        "deadlock",
        "--sndbuf",
        "16K",
        "--rcvbuf",
        "16K",
        "--json",
        "--timeline",
        p(&csv),
        "--plot-timeline",
        p(&svg),
    ])
    .deadline(DEADLINE)
    .run();
    assert_eq!(o.code(), 3, "the naive demo deadlocks\n{}", o.dump());
    let rows: Vec<TimelineRow> = read_csv(&csv);
    assert!(rows.len() >= 3, "too few samples: {rows:?}");
    for w in rows.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(
            b.time_ms > a.time_ms,
            "time went backwards: {a:?} then {b:?}"
        );
        assert!(
            b.client_sent_bytes >= a.client_sent_bytes,
            "{a:?} then {b:?}"
        );
        assert!(b.server_processed_bytes >= a.server_processed_bytes);
        assert!(b.server_sent_bytes >= a.server_sent_bytes);
        assert!(b.client_received_bytes >= a.client_received_bytes);
    }
    let last = rows.last().unwrap();
    assert!(
        last.client_sent_bytes > 0 && last.client_send_queue_bytes > Some(0),
        "{last:?}"
    );
    let result: serde_json::Value = o.json();
    assert_eq!(
        result["counts"]["client_sent_bytes"].as_u64(),
        Some(last.client_sent_bytes),
        "the last sample is the one the verdict rests on"
    );
    // What the plot shows is tests/plots.rs's business; here it is whole SVG.
    let text = fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("the timeline plot is not XML");
}

#[test]
fn each_row_is_written_as_its_point_finishes() {
    let dir = scratch("stream");
    let csv = dir.join("p.csv");
    let mut sweep = tcplab(&["sweep", "--buffers", "8K..256K:x2", "-q", "-o", p(&csv)]).spawn();
    let mut seen_while_running = false;
    sweep.wait_for(DEADLINE, "a first row reaching the file", |sweep| {
        let running = sweep.alive();
        let text = fs::read_to_string(&csv).unwrap_or_default();
        if text.lines().count() >= 2 && text.ends_with('\n') {
            seen_while_running = running;
            return true;
        }
        assert!(
            running,
            "the sweep ended without writing a row\n{}",
            sweep.dump()
        );
        false
    });
    assert!(seen_while_running, "the first row appeared only at the end");
    // Cut the sweep short, harder than Ctrl-C: what is on disk must still be a valid CSV.
    drop(sweep);
    let rows: Vec<SweepRow> = read_csv(&csv);
    assert!(!rows.is_empty() && rows.len() < 6, "{} rows", rows.len());
}

#[test]
fn bad_grid_specs_get_one_line_errors_and_exit_2() {
    let cases = [
        ("--sndbuf", "4K.."),
        ("--sndbuf", "x2"),
        ("--rcvbuf", "1M..4K:x2"),
        ("--client-sndbuf", "4K..1M:x1"),
        ("--server-rcvbuf", "1..1G:+1"),
    ];
    for (flag, spec) in cases {
        let o = tcplab(&["sweep", flag, spec, "-q"])
            .deadline(DEADLINE)
            .run();
        let err = &o.stderr;
        assert_eq!(o.code(), 2, "{flag} {spec}: {}", o.dump());
        assert_eq!(err.trim_end().lines().count(), 1, "{flag} {spec}: {err}");
        assert!(err.starts_with("tcplab: "), "{err}");
        assert!(
            err.contains(spec) && err.contains(flag),
            "names neither spec nor flag: {err}"
        );
        assert!(o.stdout.is_empty(), "nothing ran, nothing printed");
    }
    // Each flag alone is fine; together they make too many points.
    let o = tcplab(&[
        "sweep",
        "--sndbuf",
        "1K..500K:+1K",
        "--rcvbuf",
        "4K,8K,16K",
        "-q",
    ])
    .deadline(DEADLINE)
    .run();
    let err = &o.stderr;
    o.assert_code(2);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("--sndbuf") && err.contains("1500 points"),
        "{err}"
    );
}

/// The rows of a sweep's CSV, checked to be the points 1..=N, each once, in order.
fn rows_in_point_order(csv: &Path) -> Vec<SweepRow> {
    let rows: Vec<SweepRow> = read_csv(csv);
    let points: Vec<u32> = rows.iter().map(|r| r.point).collect();
    let want: Vec<u32> = (1..=rows.len() as u32).collect();
    assert_eq!(points, want, "rows out of point order: {rows:?}");
    rows
}

#[test]
fn a_sweep_with_two_jobs_writes_its_rows_in_point_order() {
    let dir = scratch("jobs");
    let (csv, json) = (dir.join("p.csv"), dir.join("p.json"));
    // The first point holds the most bytes, so it tends to finish after the second one starts.
    let o = tcplab(&[
        "sweep",
        "--buffers",
        "64K,8K,16K,8K..16K:+8K",
        "--jobs",
        "2",
        "-q",
        "-o",
        p(&csv),
        "-o",
        p(&json),
    ])
    .deadline(DEADLINE)
    .run();
    o.assert_code(0);
    assert!(
        o.stdout.is_empty(),
        "rows go to the files only\n{}",
        o.dump()
    );
    let rows = rows_in_point_order(&csv);
    assert_eq!(rows.len(), 3, "{}", o.dump());
    let sizes: Vec<Option<u64>> = rows
        .iter()
        .map(|r| r.client_sndbuf_requested_bytes)
        .collect();
    assert_eq!(sizes, [Some(65536), Some(8192), Some(16384)]);
    let objects: Vec<u64> = read_jsonl(&json)
        .iter()
        .map(|o| o["point"].as_u64().unwrap())
        .collect();
    assert_eq!(objects, [1, 2, 3], "JSON lines out of point order");
    for r in &rows {
        assert_eq!(r.outcome, Outcome::Deadlock, "{r:?}");
    }
}

#[test]
fn an_interrupted_concurrent_sweep_leaves_a_valid_csv_and_stops_everything() {
    for (signal, code) in [(common::SIGINT, 130), (common::SIGTERM, 143)] {
        let dir = scratch(&format!("interrupt-{signal}"));
        let csv = dir.join("p.csv");
        // 12 points, two at a time: the signal comes long before the last one.
        let mut sweep = tcplab(&[
            "sweep",
            "--sndbuf",
            "8K,16K,32K,64K",
            "--rcvbuf",
            "8K,16K,32K",
            "--jobs",
            "2",
            "-q",
            "-o",
            p(&csv),
        ])
        .spawn();
        sweep.wait_for(DEADLINE, "a first row in the CSV", |sweep| {
            let text = fs::read_to_string(&csv).unwrap_or_default();
            assert!(
                sweep.alive(),
                "the sweep ended before it was signalled\n{}",
                sweep.dump()
            );
            text.lines().count() >= 2 && text.ends_with('\n')
        });
        let pid = sweep.pid();
        sweep.signal(signal);
        // The running points watch the same flag as the sweep; none runs to its 60 s timeout.
        let o = sweep.finish(Duration::from_secs(30));
        assert_eq!(o.code(), code, "signal {signal}\n{}", o.dump());
        assert!(
            !common::process_exists(pid),
            "the sweep's process is still there"
        );
        assert!(!o.stderr.contains("panicked"), "{}", o.dump());
        let rows = rows_in_point_order(&csv);
        assert!(
            !rows.is_empty() && rows.len() < 12,
            "{} rows after signal {signal}\n{}",
            rows.len(),
            o.dump()
        );
        // Points that finished before the signal deadlocked; a point it cut short says so.
        for r in &rows {
            assert!(
                matches!(r.outcome, Outcome::Deadlock | Outcome::Interrupted),
                "{r:?}"
            );
        }
        assert!(
            o.stderr.contains(&format!("({} row", rows.len())),
            "the rows written are counted on stderr\n{}",
            o.dump()
        );
    }
}

#[test]
fn jobs_must_be_a_whole_number_from_one() {
    for bad in ["0", "-1", "-4", "two", "1.5", "65"] {
        let o = tcplab(&["sweep", "--buffers", "8K", "--jobs", bad, "-q"])
            .deadline(DEADLINE)
            .run();
        assert_eq!(o.code(), 2, "--jobs {bad}\n{}", o.dump());
        let line = o.one_error_line();
        assert!(
            line.contains("--jobs") && line.contains(&format!("'{bad}'")),
            "names neither the flag nor the value: {line}"
        );
        assert!(o.stdout.is_empty(), "nothing ran, nothing printed");
    }
}

/// `ESC [ … letter` sequences removed: what a person sees of a line.
fn visible(s: &str) -> String {
    console::strip_ansi_codes(s).into_owned()
}

#[test]
fn on_a_terminal_the_table_is_shown_at_the_end_and_the_bar_fits_80_columns() {
    let dir = scratch("terminal");
    let csv = dir.join("p.csv");
    // A terminal wider than the bar, so nothing is cut and the bar's own width shows.
    let o = tcplab(&["sweep", "--buffers", "8K,16K", "--jobs", "2", "-o", p(&csv)])
        .deadline(DEADLINE)
        .run_on_terminal(200);
    o.assert_code(0);
    let screen = &o.stdout;
    // The bar redraws itself after a carriage return or a clear-line code.
    let frames: Vec<String> = screen
        .split(['\r', '\n'])
        .flat_map(|l| l.split("\u{1b}[2K"))
        .map(visible)
        .filter(|l| l.starts_with("sweep ["))
        .collect();
    assert!(!frames.is_empty(), "no progress bar drawn\n{}", o.dump());
    for f in &frames {
        assert!(
            f.trim_end().chars().count() <= 80,
            "a bar wider than 80 columns: {f:?}"
        );
    }
    let lines: Vec<String> = screen.lines().map(visible).collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("point") && l.contains("strategy") && l.contains("ratio"))
        .unwrap_or_else(|| panic!("no table on the screen\n{}", o.dump()));
    // On a terminal narrower than the one-line table, each point takes two lines; the first
    // starts with its number and gives the outcome.
    let rows = read_csv::<SweepRow>(&csv);
    assert_eq!(rows.len(), 2, "{}", o.dump());
    for r in &rows {
        assert!(
            lines[header..]
                .iter()
                .any(|l| l.starts_with(&format!("{} ", r.point)) && l.contains("deadlock")),
            "point {} is not in the table\n{}",
            r.point,
            o.dump()
        );
    }
    assert!(
        screen.contains("wrote"),
        "the file is still named\n{}",
        o.dump()
    );
}
