//! One table of exit codes for every long-running command: Ctrl-C (SIGINT) ends it with 130 and
//! SIGTERM with 143, promptly, after it has stopped its sockets, threads and child processes.
//! Each command is started, waited for (bounded) until it is really running, signalled, and then
//! checked for its code and for processes it left behind.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use tcplab::result::Outcome;

/// How long any command may take to become ready on a busy machine.
const READY: Duration = Duration::from_secs(30);
/// How long a command may take to stop after the signal; the ones that stop "at once" answer
/// within a tick or two, this bound is for a loaded 2-core machine.
const STOP: Duration = Duration::from_secs(15);

/// The code a signal's stop must give: 128 + the signal's number.
fn code_for(signal: i32) -> i32 {
    128 + signal
}

/// Sends `signal` to a running command, waits for it to end, and checks the exit code, the time
/// it took and that every process it had started has been reaped.
fn stop(mut p: Running, signal: i32, what: &str, within: Duration) -> Output {
    let children = descendants(p.pid());
    let sent = Instant::now();
    p.signal(signal);
    let out = p.finish(STOP);
    let took = sent.elapsed();
    assert_eq!(
        out.code(),
        code_for(signal),
        "{what}: wrong exit code for signal {signal}\n{}",
        out.dump()
    );
    assert!(
        took <= within,
        "{what}: took {took:?} to stop (bound {within:?})\n{}",
        out.dump()
    );
    let left: Vec<u32> = children
        .into_iter()
        .filter(|&c| process_exists(c))
        .collect();
    assert!(
        left.is_empty(),
        "{what}: left processes {left:?} behind\n{}",
        out.dump()
    );
    assert!(!out.stderr.contains("panicked"), "{what}\n{}", out.dump());
    out
}

/// `cmd` running until the thread `thread` exists.
fn with_thread(cmd: Cmd, thread: &str) -> Running {
    let mut p = cmd.spawn();
    p.wait_for(READY, &format!("the thread {thread} starting"), |p| {
        has_thread(p.pid(), thread)
    });
    p
}

fn every_long_running_command_stops_on(signal: i32) {
    let deadlock = tcplab(&["deadlock", "--bytes", "8GiB", "--strategy", "reader-thread"]);
    let out = stop(
        with_thread(deadlock, "tcplab-reader"),
        signal,
        "deadlock",
        STOP,
    );
    assert!(out.stdout.contains("INTERRUPTED"), "{}", out.dump());

    let server = tcplab_server(&[]);
    let port = server.port().to_string();
    let client = tcplab(&["client", "-p", &port, "--bytes", "8GiB", "--json"])
        .args(["--strategy", "reader-thread"]);
    let out = stop(with_thread(client, "tcplab-reader"), signal, "client", STOP);
    assert_eq!(out.result().outcome, Outcome::Interrupted);

    drop(server);

    let mut server = tcplab(&["server", "-p", "0", "--quiet"]).spawn();
    server.wait_line(|l| l.starts_with("listening on "), READY);
    stop(server, signal, "server", STOP);

    let mut sixteen = tcplab(&["sixteen", "server", "-p", "0"]).spawn();
    sixteen.wait_line(|l| l.starts_with("Listening at "), READY);
    stop(sixteen, signal, "sixteen server", STOP);

    // A sixteen client waiting for a reply that never comes: the peer accepts and stays silent.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a silent peer");
    let port = silent.local_addr().unwrap().port().to_string();
    let mut sixteen = tcplab(&["sixteen", "client", "-p", &port]).spawn();
    sixteen.wait_line(|l| l.starts_with("Client has been assigned"), READY);
    stop(
        sixteen,
        signal,
        "sixteen client waiting for its reply",
        STOP,
    );
    drop(silent);

    // A blocks server in the middle of a block: 14 of the 1004 bytes sent.
    let mut blocks = tcplab(&["blocks", "server", "-p", "0"]).spawn();
    let line = blocks.wait_line(|l| l.starts_with("Listening at "), READY);
    let addr = line.trim_start_matches("Listening at ");
    let mut peer = TcpStream::connect(addr).expect("connect to the blocks server");
    let mut raw = 1000u32.to_be_bytes().to_vec();
    raw.extend_from_slice(b"ten bytes.");
    peer.write_all(&raw).expect("send part of a block");
    blocks.wait_line(|l| l.starts_with("Accepted connection from"), READY);
    stop(blocks, signal, "blocks server mid-frame", STOP);
    drop(peer);

    let load = tcplab(&[
        "load",
        "--clients",
        "4",
        "--rounds",
        "3",
        "--hold-bytes",
        "8MiB",
    ]);
    let out = stop(with_thread(load, "tcplab-class"), signal, "load", STOP);
    assert!(out.stdout.contains("INTERRUPTED"), "{}", out.dump());

    let sweep = tcplab(&["sweep", "--buffers", "4K..1M:x2", "-q"]);
    stop(with_thread(sweep, "tcplab-client"), signal, "sweep", STOP);

    let mut run = tcplab(&["run", "6", "--quiet"]).spawn();
    run.wait_for(READY, "run 6 starting its first command", |r| {
        !descendants(r.pid()).is_empty()
    });
    let out = stop(run, signal, "run 6", STOP);
    assert!(out.stdout.contains("INTERRUPTED"), "{}", out.dump());

    let server = tcplab_server(&[]);
    let mut watch = tcplab(&["watch", "--port", &server.port().to_string()]).spawn();
    watch.wait_for(READY, "watch saying it waits", |w| {
        w.stderr_so_far().contains("waiting for connections")
    });
    stop(watch, signal, "watch", STOP);
    drop(server);

    let dir = scratch(&format!("replay-{signal}"));
    let recorded = dir.join("t.csv");
    tcplab(&["deadlock", "--sndbuf", "16K", "--rcvbuf", "16K", "--quiet"])
        .args(["--timeline", path_arg(&recorded)])
        .run()
        .assert_code(3);
    // A hundredth of the recorded speed: the first event is told well after it starts.
    let mut replay = tcplab(&["replay", path_arg(&recorded), "--speed", "0.01"]).spawn();
    replay.next_line(READY);
    stop(replay, signal, "replay", STOP);

    let halfclose = tcplab(&["halfclose", "--bytes", "16G"]);
    stop(
        with_thread(halfclose, "tcplab-client"),
        signal,
        "halfclose --bytes 16G",
        Duration::from_secs(3),
    );
}

#[test]
fn every_long_running_command_exits_130_on_ctrl_c() {
    every_long_running_command_stops_on(SIGINT);
}

#[test]
fn every_long_running_command_exits_143_on_sigterm() {
    every_long_running_command_stops_on(SIGTERM);
}

/// SIGTERM (from `timeout`, `kill`, a service manager) ends a run the way Ctrl-C does: the JSON
/// document says "interrupted" and both timeline files are whole, with stdout sent to a file.
#[test]
fn sigterm_leaves_the_json_document_and_whole_timeline_files() {
    let dir = scratch("sigterm-files");
    let (json, csv, svg) = (dir.join("run.json"), dir.join("t.csv"), dir.join("t.svg"));
    let script = r#"out=$1; shift; exec "$0" "$@" > "$out""#;
    let cmd = Cmd::new("sh")
        .args(["-c", script, BIN, path_arg(&json)])
        .args([
            "deadlock",
            "--bytes",
            "8GiB",
            "--strategy",
            "reader-thread",
            "--json",
        ])
        .args([
            "--timeline",
            path_arg(&csv),
            "--plot-timeline",
            path_arg(&svg),
        ]);
    stop(
        with_thread(cmd, "tcplab-reader"),
        SIGTERM,
        "deadlock --json",
        STOP,
    );

    let text = std::fs::read_to_string(&json).expect("the JSON document");
    let r: tcplab::result::RunResult = serde_json::from_str(&text).expect("a whole JSON document");
    assert_eq!(r.outcome, Outcome::Interrupted, "{text}");
    let rows: Vec<tcplab::timeline::TimelineRow> = csv::Reader::from_path(&csv)
        .expect("the timeline CSV")
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("every CSV row parses");
    let last = rows.last().expect("timeline rows");
    assert!(last.client_sent_bytes > 0, "{last:?}");
    let plot = std::fs::read_to_string(&svg).expect("the timeline SVG");
    roxmltree::Document::parse(&plot).expect("the timeline SVG is whole XML");
}

/// The server `load` starts does not outlive a load that is killed outright.
#[test]
fn the_server_load_starts_dies_with_load() {
    // Fields after the ")" that ends the command name: state first.
    fn stat(pid: u32) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, rest) = text.rsplit_once(')')?;
        Some(rest.split_whitespace().map(String::from).collect())
    }
    let mut load = tcplab(&[
        "load",
        "--clients",
        "4",
        "--rounds",
        "20",
        "--hold-bytes",
        "8MiB",
    ])
    .spawn();
    let mut server = 0;
    load.wait_for(READY, "load's server serving", |l| {
        server = descendants(l.pid()).first().copied().unwrap_or(0);
        server != 0 && has_thread(server, "tcplab-log")
    });

    load.signal(libc::SIGKILL);
    let _ = load.finish(STOP);
    wait_until(STOP, "the server ending after load was killed", || {
        stat(server).is_none_or(|f| f[0] == "Z")
    });
}
