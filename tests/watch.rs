//! `tcplab watch` on programs tcplab did not write: the unmodified classic Python deadlock pair is
//! named a deadlock with the ledger and the threads that wait; a healthy transfer is not.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use tcplab::sample::Call;

/// The classic server on an ephemeral port.
fn classic_server() -> Server {
    python_server("tcp_deadlock.py", &["server", "127.0.0.1", "-p", "0"])
}

#[test]
fn the_classic_python_pair_is_watched_to_a_deadlock_with_its_ledger_and_threads() {
    let server = classic_server();
    let port = server.port().to_string();
    let watch = tcplab(&["watch", "--port", &port, "--until-verdict", "--json"])
        .deadline(Duration::from_secs(60))
        .spawn();
    let _client = python("tcp_deadlock.py")
        .args(["client", "127.0.0.1", "100000000", "-p", &port])
        .spawn();
    let out = watch.finish(Duration::from_secs(60));
    out.assert_code(3);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{}", out.dump())))
        .collect();
    let v = lines
        .iter()
        .find_map(|l| l.get("verdict"))
        .unwrap_or_else(|| panic!("no verdict line\n{}", out.dump()));
    assert_eq!(v["kind"], "deadlock");
    // Which thread of which process waits in which call, on this very socket.
    let threads = v["threads"].as_array().unwrap();
    for side in ["client", "server"] {
        let t = threads
            .iter()
            .find(|t| t["side"] == side && t["on_socket"] == true)
            .unwrap_or_else(|| panic!("no {side} thread on the socket: {v}"));
        assert_eq!(t["call"], "send", "{t}");
        assert_eq!(t["syscall"], "sendto", "{t}");
        assert!(t["pid"].as_u64().unwrap() > 0);
    }
    let ledger = &v["ledger"];
    assert_eq!(ledger["forward"]["holds"], true, "{ledger}");
    assert_eq!(ledger["backward"]["holds"], true, "{ledger}");
    assert!(ledger["client_app_sent"]["bytes"].as_u64().unwrap() > 1 << 20);
    assert_eq!(ledger["client_app_read"]["bytes"], 0);
}

#[test]
fn the_table_alone_shows_a_class_in_aligned_rows_within_80_columns() {
    let server = tcplab_server(&["--sndbuf", "16K", "--rcvbuf", "16K"]);
    let port = server.port().to_string();
    let watch = tcplab(&["watch", "--port", &port, "--table", "--until-verdict"])
        .env("COLUMNS", "80")
        .deadline(Duration::from_secs(60))
        .spawn();
    // Two classic clients that never read: both deadlock against 16 KiB buffers.
    let _clients: Vec<_> = (0..2)
        .map(|_| {
            python("tcp_deadlock.py")
                .args(["client", "127.0.0.1", "100000000", "-p", &port])
                .spawn()
        })
        .collect();
    let out = watch.finish(Duration::from_secs(60));
    out.assert_code(3);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // Only the table: no line per event, no report.
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("DEADLOCK") && !l.starts_with("watching")),
        "{}",
        out.dump()
    );
    let head = lines
        .iter()
        .position(|l| l.starts_with("client ") && l.contains("cli recv"))
        .unwrap_or_else(|| panic!("no table header\n{}", out.dump()));
    assert!(
        lines[head - 1].ends_with(&format!("connections to 127.0.0.1:{port}")),
        "{}",
        out.dump()
    );
    let rows = &lines[head + 1..];
    assert!(
        rows[0].contains(" deadlocked "),
        "stuck first:\n{}",
        out.dump()
    );
    let at = lines[head].find("state").unwrap();
    for l in lines[head..].iter() {
        assert!(l.chars().count() <= 80, "wider than 80 columns: {l:?}");
    }
    for r in rows {
        assert!(r.starts_with('#'), "{r:?}");
        let state = r[at..].split_whitespace().next().unwrap();
        assert!(
            ["deadlocked", "flowing", "crawling", "idle"].contains(&state),
            "the state column is out of line: {r:?}\n{}",
            out.dump()
        );
    }
}

#[test]
fn a_healthy_transfer_is_watched_to_its_clean_close_without_a_verdict() {
    let server = tcplab_server(&[]);
    let port = server.port().to_string();
    let watch = tcplab(&["watch", "--port", &port, "--until-verdict", "--json"])
        .deadline(Duration::from_secs(60))
        .spawn();
    // The watcher is looking before the client connects: wait until it says so is not possible
    // in JSON mode, so the client sends enough (16 MiB, about 3 s) to be seen mid-transfer.
    let client = tcplab(&[
        "client",
        "-p",
        &port,
        "--strategy",
        "reader-thread",
        "--bytes",
        "16MiB",
        "--sndbuf",
        "64K",
        "--rcvbuf",
        "64K",
        "--json",
    ])
    .run();
    client.assert_code(0);
    let out = watch.finish(Duration::from_secs(30));
    out.assert_code(0);
    assert!(!out.stdout.contains("\"verdict\""), "{}", out.dump());
}

#[test]
fn a_process_without_tcp_sockets_is_one_line() {
    let out = tcplab(&["watch", "--pid", &std::process::id().to_string()]).run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(line.contains("has no TCP socket"), "{line}");
}

/// A Python process with one loopback connection to itself, until it is ended.
const HOLDER: &str = "import socket, time\n\
    l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen()\n\
    c = socket.create_connection(l.getsockname()); a, _ = l.accept()\n\
    print('ready', flush=True)\n\
    time.sleep(600)\n";

/// Once the process `--pid` names has exited, the watch tells how its connection closed, then
/// ends with one line and exit 1 instead of running on to --timeout.
#[test]
fn the_watch_of_a_process_that_exits_ends_with_one_line() {
    require_python();
    let mut holder = Cmd::new("python3").args(["-c", HOLDER]).spawn();
    holder.next_line(Duration::from_secs(20));
    let pid = holder.pid().to_string();
    let mut watch = tcplab(&["watch", "--pid", &pid, "--timeout", "120s"]).spawn();
    // Between two looks the watch sleeps: then it has found the process and follows it.
    watch.wait_for(
        Duration::from_secs(30),
        "the watch following the process",
        |w| {
            let id = w.pid() as i32;
            tcplab::sys::proc::thread(id, id).is_ok_and(|t| t.call.kind() == Call::Sleep)
        },
    );
    holder.signal(SIGTERM);
    let ended = std::time::Instant::now();
    let out = watch.finish(Duration::from_secs(30));
    out.assert_code(1);
    assert_eq!(
        out.one_error_line(),
        format!("tcplab: process {pid} has exited, so there is nothing more of it to watch")
    );
    assert!(out.stdout.contains(" closed"), "{}", out.dump());
    assert!(ended.elapsed() < Duration::from_secs(20), "{}", out.dump());
    drop(holder);
}

/// A network namespace made for a test, removed on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Cmd::new("ip").args(["netns", "del", &self.0]).run();
    }
}

/// A process in another network namespace: its sockets are out of this one's sight, and the
/// line says so and how to run tcplab inside it, instead of "no TCP socket".
#[test]
fn a_process_in_another_network_namespace_is_named_as_such() {
    let name = format!("tcplab-w{}", std::process::id());
    if !on_path("ip") {
        eprintln!("skipped: 'ip' is not on PATH");
        return;
    }
    let made = Cmd::new("ip").args(["netns", "add", &name]).run();
    if !made.status.success() {
        eprintln!(
            "skipped: cannot add a network namespace: {}",
            made.stderr.trim()
        );
        return;
    }
    let ns = Netns(name);
    // `ip netns exec` execs the program: its pid is the sleeper's.
    let mut sleeper = Cmd::new("ip")
        .args(["netns", "exec", &ns.0, "sleep", "60"])
        .spawn();
    let pid = sleeper.pid();
    sleeper.wait_for(
        Duration::from_secs(20),
        "sleep starting in the namespace",
        |_| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep"),
    );
    let out = tcplab(&["watch", "--pid", &pid.to_string()]).run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.contains(&format!("process {pid} is in another network namespace")),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "'ip netns exec {} tcplab watch --pid {pid}'",
            ns.0
        )),
        "{line}"
    );
    drop(sleeper);
}

#[test]
fn watch_needs_something_to_watch() {
    let out = tcplab(&["watch"]).run();
    out.assert_code(2);
    out.one_error_line();
}

#[test]
fn a_connection_over_in_a_moment_is_told_once_with_how_it_closed() {
    let server = tcplab_server(&[]);
    let port = server.port().to_string();
    let mut watch = tcplab(&["watch", "--port", &port, "--until-verdict"])
        .deadline(Duration::from_secs(30))
        .spawn();
    watch.wait_for(Duration::from_secs(10), "watch waiting", |w| {
        w.stderr_so_far().contains("waiting for connections")
    });
    // 1 KiB each way is over in a few milliseconds, mostly between two of watch's looks: it is
    // told from the kernel's reports of the two ends' destruction, or from the looks that caught
    // it, and in either case once.
    tcplab(&["client", "-p", &port, "--bytes", "1KiB"])
        .run()
        .assert_code(0);
    let out = watch.finish(Duration::from_secs(20));
    out.assert_code(0);
    let closes: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(" closed "))
        .collect();
    assert_eq!(closes.len(), 1, "{}", out.dump());
    assert!(
        closes[0].contains("closed cleanly")
            && closes[0].contains(
                "the client wrote 1 KiB and read 1 KiB, the server read 1 KiB and wrote 1 KiB"
            ),
        "{}",
        out.dump()
    );
}
