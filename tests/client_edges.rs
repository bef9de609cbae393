//! The client at its edges (issue 9): writes of hundreds of MiB (the chunk is built before the
//! connection exists and the echo is verified as it streams, so neither the watchdog nor the
//! server mistakes the build for a stall), a chunk size beyond what any flag accepts, and an echo
//! with one wrong byte, which ends the run at that byte.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tcplab::result::{Failure, Outcome, RunResult};

/// Chunk and total of the big-chunk runs. A debug build fills and checks memory about ten times
/// slower than a release build, so it moves a quarter as much.
#[cfg(debug_assertions)]
const BIG: (&str, &str) = ("64M", "128M");
#[cfg(not(debug_assertions))]
const BIG: (&str, &str) = ("256M", "512M");

fn assert_completed_and_verified(out: &Output, r: &RunResult) {
    assert_eq!(r.outcome, Outcome::Completed, "{}", out.dump());
    out.assert_code(0);
    let v = r.verification.as_ref().expect("a verification");
    assert!(v.matched, "{v:?}\n{}", out.dump());
    assert_eq!(v.received_bytes, r.settings.bytes_total);
}

#[test]
fn a_reader_thread_run_with_chunks_of_hundreds_of_mib_completes_verified() {
    let (chunk, bytes) = BIG;
    let out = tcplab(&[
        "deadlock",
        "--strategy",
        "reader-thread",
        "--json",
        "--quiet",
    ])
    .args([
        "--chunk", chunk, "--bytes", bytes, "--sndbuf", "64K", "--rcvbuf", "64K",
    ])
    .deadline(Duration::from_secs(180))
    .run();
    let r = out.result();
    assert_completed_and_verified(&out, &r);
}

#[test]
fn a_chunk_beyond_any_write_is_refused_in_one_line() {
    let out = tcplab(&["deadlock", "--chunk", "64G"]).run();
    out.assert_code(2);
    let line = out.one_error_line();
    assert!(line.contains("'64G'") && line.contains("--chunk"), "{line}");
}

#[test]
fn a_client_with_a_big_chunk_is_not_freed_as_silent() {
    let (chunk, _) = BIG;
    let server = tcplab_server(&["--idle-timeout", "3s", "--read", "1M"]);
    let port = server.port().to_string();
    let out = tcplab(&["client", "-p", &port, "--chunk", chunk, "--bytes", chunk])
        .args(["--read", "1M", "--strategy", "reader-thread", "--json"])
        .deadline(Duration::from_secs(180))
        .run();
    let r = out.result();
    assert_completed_and_verified(&out, &r);
    let out = server.interrupt(Duration::from_secs(20));
    assert!(
        out.stdout.contains("0 freed as stuck"),
        "the server freed the client\n{}",
        out.dump()
    );
}

#[test]
fn an_echo_with_one_wrong_byte_fails_at_that_byte_and_at_once() {
    let server = python_server("wrong_echo_server.py", &["-p", "0", "--at", "1000"]);
    let port = server.port().to_string();
    let started = Instant::now();
    let out = tcplab(&["client", "-p", &port, "--bytes", "32MiB"])
        .args(["--strategy", "reader-thread", "--json"])
        .run();
    let took = started.elapsed();
    out.assert_code(1);
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Failed, "{}", out.dump());
    assert_eq!(
        r.failure,
        Some(Failure::EchoDiffers { at_byte: 1000 }),
        "{}",
        out.dump()
    );
    let doc: serde_json::Value = out.json();
    assert_eq!(
        doc["failure"],
        serde_json::json!({"kind": "echo_differs", "at_byte": 1000})
    );
    // The whole 32 MiB through a Python echo server takes several seconds more.
    assert!(
        took < Duration::from_secs(4),
        "took {took:?}: the client did not stop at the wrong byte\n{}",
        out.dump()
    );
}
