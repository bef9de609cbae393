//! The classroom load test in reduced form: 40 clients at once against one server, half of them
//! deadlocking, 2 s idle limit (docs/classroom.md: shorter limits free healthy clients on a saturated
//! 2-core machine). Every fixed client completes with its echo verified, every stuck one is freed
//! within the idle limit, and the server's threads return to their baseline. The full-size run
//! (200 clients) is `scripts/load.sh`; its figures are in docs/classroom.md.

mod common;

use std::time::Duration;

use common::tcplab;
use tcplab::classroom::load::{LoadRole, LoadRun};

#[test]
fn forty_clients_half_deadlocking_all_end_as_they_should() {
    let out = tcplab(&["load", "--clients", "40", "--deadlocking", "0.5"])
        .args(["--sndbuf", "16K", "--rcvbuf", "16K", "--bytes", "128K"])
        .args(["--idle-timeout", "2s", "--timeout", "40s", "--json"])
        .deadline(Duration::from_secs(90))
        .run();
    let run: LoadRun = out.json();
    let r = &run.rounds[0];
    let bad: Vec<_> = r.clients.iter().filter(|c| !c.ok).collect();
    assert!(
        bad.is_empty(),
        "clients that did not end as they should: {bad:#?}"
    );
    assert_eq!((r.fixed_total, r.fixed_ok), (20, 20));
    assert_eq!((r.deadlocking_total, r.deadlocking_ok), (20, 20));
    assert!(
        r.clients
            .iter()
            .filter(|c| c.role == LoadRole::Fixed)
            .all(|c| c.verified_bytes == 128 * 1024),
        "every fixed client's echo is verified in full"
    );
    let s = r
        .server
        .as_ref()
        .expect("the load test started its own server");
    assert!(s.peak.threads > s.before.threads, "{s:?}");
    assert_eq!(
        s.after.threads, s.before.threads,
        "every connection thread was joined: {s:?}"
    );
    assert_eq!(run.server_stopped_cleanly, Some(true));
    // The server's own measure of how long each freed connection stood still.
    let freed = run
        .server_max_freed_after_ms
        .expect("the server freed connections");
    assert!((2000..3000).contains(&freed), "{freed} ms");
    assert!(run.ok && out.status.success(), "{}", out.dump());
}

/// A load test against a server that should already run refuses to start, in one line, when
/// nothing listens there or `--server-pid` is not the process that does: it would otherwise
/// fail one refused client at a time, or measure another process's memory and pass.
#[test]
fn a_load_test_checks_its_server_before_it_starts() {
    let free = common::refusing_port();
    let port = free.port.to_string();
    let out = tcplab(&["load", "-p", &port]).run();
    out.assert_code(1);
    assert!(
        out.one_error_line().starts_with(&format!(
            "tcplab: nothing listens on 127.0.0.1:{port}: start"
        )),
        "{}",
        out.dump()
    );
    let server = common::tcplab_server(&[]);
    let port = server.port().to_string();
    let out = tcplab(&["load", "-p", &port, "--server-pid", "999999999"]).run();
    out.assert_code(1);
    assert!(
        out.one_error_line()
            .contains("there is no process 999999999"),
        "{}",
        out.dump()
    );
    // This test's own process holds no listening socket on that port.
    let me = std::process::id().to_string();
    let out = tcplab(&["load", "-p", &port, "--server-pid", &me]).run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.contains(&format!("--server-pid {me}"))
            && line.contains("does not hold the socket listening on")
            && line.contains("try --server-pid "),
        "{}",
        out.dump()
    );
    assert!(out.stdout.is_empty(), "no client ran: {}", out.dump());
}
