//! tcplab against the classic Python deadlock pair (tests/fixtures/tcp_deadlock.py), both ways:
//! the wire is plain bytes, so either side can be swapped for the classic script. These tests need
//! python3 (CI installs it) and fail, saying so, without it.

mod common;

use std::time::Duration;

use common::*;
use tcplab::result::Outcome;

const SCRIPT: &str = "tcp_deadlock.py";
/// Bound on one line from a running server.
const LINE: Duration = Duration::from_secs(30);

fn classic_server() -> Server {
    python_server(SCRIPT, &["server", "127.0.0.1", "-p", "0"])
}

#[test]
fn tcplab_client_gets_its_echo_from_the_classic_python_server() {
    let mut srv = classic_server();
    let port = srv.port().to_string();
    for strategy in ["naive", "reader-thread", "poll"] {
        let out = tcplab(&[
            "client",
            "-p",
            &port,
            "--bytes",
            "64KiB",
            "--strategy",
            strategy,
            "--json",
            "--quiet",
        ])
        .run();
        let r = out.result();
        assert_eq!(r.outcome, Outcome::Completed, "{strategy}: {}", out.dump());
        assert!(
            r.verification
                .is_some_and(|v| v.matched && v.received_bytes == 65536),
            "{}",
            out.dump()
        );
        // The Python server's summary, after its optional "Processing …" line.
        let done = srv.wait_line(|l| !l.starts_with("Processing"), LINE);
        assert_eq!(done, "Completed processing 65536 bytes");
    }
}

#[test]
fn tcplab_client_detects_the_deadlock_against_the_classic_python_server() {
    let srv = classic_server();
    let port = srv.port().to_string();
    // Small client buffers; the server's accepted socket autotunes, so send well past it.
    let out = tcplab(&[
        "client", "-p", &port, "--sndbuf", "16K", "--rcvbuf", "16K", "--bytes", "256MiB", "--json",
    ])
    .run();
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert_eq!(out.code(), 3);
    assert!(r.counts.client_sent_bytes < 256 << 20);
}

#[test]
fn the_classic_python_client_gets_its_echo_from_tcplab_server() {
    let mut srv = tcplab_server(&[]);
    let port = srv.port().to_string();
    let out = python(SCRIPT)
        .args(["client", "127.0.0.1", "100000", "-p", &port])
        .run();
    assert!(out.status.success(), "{}", out.dump());
    assert!(
        out.stdout.contains("100000 bytes received, all uppercased"),
        "{}",
        out.dump()
    );
    // tcplab server's connection summary.
    let line = srv.next_line(LINE);
    assert!(line.contains("97.66 KiB processed"), "{line}");
}
