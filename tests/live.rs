//! Watching it happen: slow motion keeps the stall where it was but spreads it over seconds, the
//! narrated events reach the JSON and the timeline, and a replay tells the recorded events again.

mod common;

use std::fs;
use std::time::Duration;

use common::*;
use tcplab::result::{Event, EventKind, Outcome};

#[test]
fn a_paced_run_of_256_kib_at_128_kib_per_second_takes_at_least_one_and_a_half_seconds() {
    let o = tcplab(&[
        "deadlock",
        "--strategy",
        "reader-thread",
        "--bytes",
        "256K",
        "--pace",
        "128KiB/s",
        "--json",
    ])
    .run();
    o.assert_code(0);
    let r = o.result();
    assert_eq!(r.outcome, Outcome::Completed, "{}", o.dump());
    // 256 KiB at 128 KiB/s is due at 2 s; pacing guarantees the lower bound, nothing the upper.
    assert!(
        r.timings.elapsed_ms >= 1500,
        "{} ms: the pace was not kept",
        r.timings.elapsed_ms
    );
}

#[test]
fn the_narrated_deadlock_reaches_the_json_in_the_order_the_buffers_fill() {
    let o = tcplab(&["deadlock", "--sndbuf", "16K", "--rcvbuf", "16K", "--json"]).run();
    o.assert_code(3);
    let r = o.result();
    let kinds: Vec<&EventKind> = r.events.iter().map(|e| &e.kind).collect();
    assert!(
        matches!(kinds.first(), Some(EventKind::EchoArrives)),
        "{kinds:?}"
    );
    assert!(
        matches!(kinds.last(), Some(EventKind::Verdict { kind, .. }) if kind == "deadlock"),
        "{kinds:?}"
    );
    let pos = |f: fn(&EventKind) -> bool| kinds.iter().position(|k| f(k));
    let full = pos(|k| matches!(k, EventKind::ClientRecvQueueFull { .. }))
        .unwrap_or_else(|| panic!("the client's receive queue never filled: {kinds:?}"));
    // In the ACK-starved variant of the stall the server never blocks in send(); when it does,
    // it is after the client's receive queue filled.
    if let Some(blocks) = pos(|k| matches!(k, EventKind::ServerSendBlocks { .. })) {
        assert!(full <= blocks, "{kinds:?}");
    }
    let times: Vec<u64> = r.events.iter().map(|e| e.at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

#[test]
fn a_replay_tells_the_recorded_events_again() {
    let dir = std::env::temp_dir().join(format!("tcplab-replay-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("timeline.csv");
    let csv_arg = csv.to_str().unwrap();
    let o = tcplab(&[
        "deadlock",
        "--sndbuf",
        "16K",
        "--rcvbuf",
        "16K",
        "--json",
        "--timeline",
        csv_arg,
    ])
    .run();
    o.assert_code(3);
    let recorded = o.result().events;
    assert!(recorded.len() >= 3, "{recorded:?}");
    let replay = tcplab(&["replay", csv_arg, "--speed", "100", "--json"])
        .deadline(Duration::from_secs(30))
        .run();
    replay.assert_code(0);
    let told: Vec<Event> = replay
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", replay.dump())))
        .collect();
    assert_eq!(told, recorded);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_a_timeline_is_one_line_naming_it() {
    let o = tcplab(&["replay", "Cargo.toml"]).run();
    o.assert_code(1);
    let line = o.one_error_line();
    assert!(
        line.contains("'Cargo.toml' is not a tcplab timeline"),
        "{line}"
    );
    assert!(line.contains("--timeline"), "{line}");
}
