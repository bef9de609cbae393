//! tcplab against the classic Python deadlock pair (tests/fixtures/tcp_deadlock.py), both ways:
//! the wire is plain bytes, so either side can be swapped for the classic script.

mod support;

use std::time::Duration;

use support::*;
use tcplab::result::Outcome;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tcp_deadlock.py"
);

fn have_python() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn python_server() -> Announced {
    start_announced(
        "python3",
        &["-u", SCRIPT, "server", "127.0.0.1", "-p", "0"],
        "Listening at",
    )
}

#[test]
fn tcplab_client_gets_its_echo_from_the_classic_python_server() {
    if !have_python() {
        return eprintln!("skipped: python3 is not installed");
    }
    let srv = python_server();
    let port = srv.port.to_string();
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
        ]);
        let r = out.result();
        assert_eq!(r.outcome, Outcome::Completed, "{strategy}: {}", out.dump());
        assert!(
            r.verification
                .is_some_and(|v| v.matched && v.received_bytes == 65536),
            "{}",
            out.dump()
        );
        let done = next_line(&srv, "the Python server's summary");
        let done = if done.starts_with("Processing") {
            next_line(&srv, "the summary")
        } else {
            done
        };
        assert_eq!(done, "Completed processing 65536 bytes");
    }
}

#[test]
fn tcplab_client_detects_the_deadlock_against_the_classic_python_server() {
    if !have_python() {
        return eprintln!("skipped: python3 is not installed");
    }
    let srv = python_server();
    let port = srv.port.to_string();
    // Small client buffers; the server's accepted socket autotunes, so send well past it.
    let out = tcplab(&[
        "client", "-p", &port, "--sndbuf", "16K", "--rcvbuf", "16K", "--bytes", "256MiB", "--json",
    ]);
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert_eq!(out.code(), 3);
    assert!(r.counts.client_sent_bytes < 256 << 20);
}

#[test]
fn the_classic_python_client_gets_its_echo_from_tcplab_server() {
    if !have_python() {
        return eprintln!("skipped: python3 is not installed");
    }
    let srv = tcplab_server(&[]);
    let port = srv.port.to_string();
    let child = spawn(
        "python3",
        &["-u", SCRIPT, "client", "127.0.0.1", "100000", "-p", &port],
    );
    let out = finish(child, Duration::from_secs(60), "the Python client");
    assert!(out.status.success(), "{}", out.dump());
    assert!(
        out.stdout.contains("100000 bytes received, all uppercased"),
        "{}",
        out.dump()
    );
    let line = next_line(&srv, "tcplab server's connection summary");
    assert!(line.contains("97.66 KiB processed"), "{line}");
}
