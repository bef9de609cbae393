//! The core lab end to end: the real binary on loopback with ephemeral ports.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::*;
use tcplab::result::{Failure, IoFailure, Outcome, RunResult, Side, StallBasis};
use tcplab::sock::{KERNEL_DOUBLES, Limits};

/// Small enough to stall after about 100 KiB.
const SMALL: &str = "16K";
/// For the fixes: naive stalls near 0.5 MB here, while healthy TCP does not fall into the crawl
/// phases (200 ms retransmission timers) that 4–16 KiB buffers show on a busy machine.
const FIX: &str = "64K";
/// Bound on one line from a running server.
const LINE: Duration = Duration::from_secs(30);

fn deadlock(extra: &[&str]) -> (Output, RunResult) {
    let mut args = vec!["deadlock", "--json", "--quiet"];
    args.extend_from_slice(extra);
    let out = tcplab(&args).run();
    let r = out.result();
    (out, r)
}

fn assert_completed_and_verified(out: &Output, r: &RunResult) {
    assert_eq!(r.outcome, Outcome::Completed, "{}", out.dump());
    assert_eq!(out.code(), 0, "{}", out.dump());
    let v = r.verification.clone().expect("a verification");
    assert!(v.matched, "echo did not match: {v:?}");
    assert_eq!(v.received_bytes, r.settings.bytes_total);
    assert_eq!(r.counts.client_sent_bytes, r.settings.bytes_total);
    assert_eq!(r.counts.client_received_bytes, r.settings.bytes_total);
}

#[test]
fn the_default_demo_deadlocks_on_kernel_evidence_and_its_ledger_adds_up() {
    let (out, r) = deadlock(&[]);
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert_eq!(out.code(), 3);
    let stall = r.stall.as_ref().expect("a stall report");
    assert_eq!(stall.basis, StallBasis::KernelEvidence, "{}", out.dump());
    assert!(
        r.counts.client_sent_bytes < r.settings.bytes_total,
        "the client sent everything: {}",
        out.dump()
    );
    let l = r.ledger.as_ref().expect("a ledger");
    assert!(
        l.forward.holds,
        "client → server does not add up: {:?}",
        l.forward
    );
    assert!(
        l.backward.holds,
        "server → client does not add up: {:?}",
        l.backward
    );
    assert_eq!(
        l.client_app_read.bytes, 0,
        "the naive client read before the stall"
    );
    assert!(
        l.client_recv_queue.bytes > 0 && l.server_recv_queue.bytes > 0,
        "{l:?}"
    );
}

#[test]
fn the_default_demo_prints_its_settings_verdict_and_ledger_as_text() {
    let out = tcplab(&["deadlock"]).run();
    assert_eq!(out.code(), 3, "{}", out.dump());
    for needle in [
        "strategy naive",
        "SO_SNDBUF 64 KiB → 128 KiB",
        "DEADLOCK",
        "client send queue",
        "adds up",
    ] {
        assert!(
            out.stdout.contains(needle),
            "missing '{needle}':\n{}",
            out.dump()
        );
    }
}

#[test]
fn a_naive_client_stalls_with_16k_buffers() {
    let (out, r) = deadlock(&["--sndbuf", SMALL, "--rcvbuf", SMALL, "--bytes", "2MiB"]);
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert!(
        r.ledger
            .as_ref()
            .is_some_and(|l| l.forward.holds && l.backward.holds),
        "{}",
        out.dump()
    );
}

/// `tcplab client` with the reader-thread fix against the server on `port`, printing JSON.
fn reader_thread_client(port: &str, bytes: &str) -> Cmd {
    tcplab(&["client", "-p", port, "--bytes", bytes]).args([
        "--strategy",
        "reader-thread",
        "--json",
    ])
}

/// A fix moves 2 MiB through 64 KiB buffers, where the naive client stalls near 0.5 MB.
fn fix_completes(strategy: &str) {
    let args = [
        "--sndbuf",
        FIX,
        "--rcvbuf",
        FIX,
        "--bytes",
        "2MiB",
        "--strategy",
        strategy,
    ];
    let (out, r) = deadlock(&args);
    assert_completed_and_verified(&out, &r);
}

#[test]
fn the_reader_thread_client_completes_where_naive_deadlocks() {
    fix_completes("reader-thread");
}

#[test]
fn the_poll_client_completes_where_naive_deadlocks() {
    fix_completes("poll");
}

#[test]
fn both_fixes_complete_at_the_default_demo_settings() {
    for s in ["reader-thread", "poll"] {
        let (out, r) = deadlock(&["--strategy", s]);
        assert_completed_and_verified(&out, &r);
    }
}

/// A paced fix whose sender naps between big batches is not silent: each strategy moves one
/// 512 KiB chunk, then sleeps 2 s until the next is due, twice the 1 s silence limit, waking every
/// 50 ms meanwhile. A fix stays a fix in slow motion (`--slow --chunk 1M` once ended in DEADLOCK
/// with every queue empty).
#[test]
fn paced_fixes_complete_however_long_their_sender_sleeps_between_batches() {
    let runs: Vec<_> = ["reader-thread", "poll"]
        .into_iter()
        .map(|strategy| {
            let args = [
                "deadlock",
                "--json",
                "--quiet",
                "--strategy",
                strategy,
                "--pace",
                "256KiB/s",
                "--chunk",
                "512K",
                "--bytes",
                "1M",
                "--stall-after",
                "1s",
            ];
            (strategy, tcplab(&args).spawn())
        })
        .collect();
    for (strategy, run) in runs {
        let out = run.finish(LINE);
        let r = out.result();
        assert!(
            r.timings.elapsed_ms >= 1500,
            "{strategy} was not paced: {}",
            out.dump()
        );
        assert_completed_and_verified(&out, &r);
    }
}

#[test]
fn send_once_loses_bytes_and_the_echo_matches_what_the_kernel_accepted() {
    let (out, r) = deadlock(&[
        "--strategy",
        "send-once",
        "--sndbuf",
        SMALL,
        "--rcvbuf",
        SMALL,
        "--bytes",
        "1MiB",
    ]);
    assert_eq!(r.outcome, Outcome::Completed, "{}", out.dump());
    let ss = r.short_sends.expect("short-send counts");
    assert_eq!(ss.calls, 1024 * 1024 / 16);
    assert_eq!(ss.calls, ss.full + ss.partial + ss.refused);
    assert!(ss.refused + ss.partial > 0, "no send was short: {ss:?}");
    assert_eq!(ss.lost_bytes, ss.offered_bytes - ss.accepted_bytes);
    assert!(ss.lost_bytes > 0);
    let v = r.verification.expect("verification");
    assert!(v.matched, "{v:?}");
    assert_eq!(v.received_bytes, ss.accepted_bytes);
}

#[test]
fn linux_reports_twice_the_requested_size_on_each_socket() {
    let (out, r) = deadlock(&[
        "--client-sndbuf",
        "8K",
        "--client-rcvbuf",
        "16K",
        "--server-sndbuf",
        "32K",
        "--server-rcvbuf",
        "48K",
        "--strategy",
        "reader-thread",
        "--bytes",
        "64K",
    ]);
    assert_eq!(r.outcome, Outcome::Completed, "{}", out.dump());
    let find = |role: Side| {
        r.buffers
            .iter()
            .find(|b| b.role == role)
            .expect("both sockets are reported")
            .clone()
    };
    let (c, s) = (find(Side::Client), find(Side::Server));
    for (b, req) in [
        (c.sndbuf, 8192),
        (c.rcvbuf, 16384),
        (s.sndbuf, 32768),
        (s.rcvbuf, 49152),
    ] {
        assert_eq!(b.requested_bytes, Some(req));
        assert_eq!(b.effective_bytes, KERNEL_DOUBLES * req, "{}", out.dump());
        assert_eq!(b.clamped_to_bytes, None);
    }
}

#[test]
fn a_request_above_wmem_max_is_clamped_and_the_sysctl_named() {
    let limits = Limits::read();
    let Some(wmem_max) = limits.wmem_max else {
        return eprintln!("skipped: no /proc/sys/net/core/wmem_max");
    };
    let ask = (wmem_max * 2).to_string();
    let args = [
        "--sndbuf",
        &ask,
        "--strategy",
        "reader-thread",
        "--bytes",
        "64K",
    ];
    // The text view names the sysctl; the JSON one gives the figures.
    let out = tcplab(&["deadlock"]).args(args).run();
    assert_eq!(out.code(), 0, "{}", out.dump());
    assert!(out.stdout.contains("net.core.wmem_max"), "{}", out.dump());
    let (out, r) = deadlock(&args);
    let c = r
        .buffers
        .iter()
        .find(|b| b.role == Side::Client)
        .expect("client")
        .sndbuf;
    assert_eq!(c.clamped_to_bytes, Some(wmem_max), "{}", out.dump());
    assert_eq!(c.effective_bytes, KERNEL_DOUBLES * wmem_max);
}

#[test]
fn auto_leaves_sizes_to_autotuning_and_reports_what_they_reached() {
    let (out, r) = deadlock(&[
        "--sndbuf",
        "auto",
        "--rcvbuf",
        "auto",
        "--strategy",
        "reader-thread",
        "--bytes",
        "1MiB",
    ]);
    assert_completed_and_verified(&out, &r);
    for b in &r.buffers {
        assert_eq!(b.sndbuf.requested_bytes, None);
        assert!(b.sndbuf.final_bytes > 0 && b.rcvbuf.final_bytes > 0);
    }
}

#[test]
fn the_run_works_on_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        return eprintln!("skipped: no IPv6 loopback on this machine");
    }
    let (out, r) = deadlock(&["--host", "::1"]);
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert!(r.settings.server_addr.starts_with("[::1]:"));
}

#[test]
fn a_timeout_ends_a_long_run_with_both_sockets_shut() {
    let (out, r) = deadlock(&[
        "--strategy",
        "reader-thread",
        "--bytes",
        "8GiB",
        "--timeout",
        "300ms",
    ]);
    assert_eq!(r.outcome, Outcome::TimedOut, "{}", out.dump());
    assert_eq!(out.code(), 1);
    assert!(r.counts.client_sent_bytes > 0);
}

#[test]
fn the_client_alone_stalls_against_a_server_and_reports_its_half() {
    let srv = tcplab_server(&["--sndbuf", SMALL, "--rcvbuf", SMALL]);
    let port = srv.port().to_string();
    let out = tcplab(&[
        "client", "-p", &port, "--sndbuf", SMALL, "--rcvbuf", SMALL, "--bytes", "8MiB", "--json",
        "--quiet",
    ])
    .run();
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Deadlock, "{}", out.dump());
    assert_eq!(out.code(), 3);
    let q = r.client_queues.expect("the client's queues");
    assert!(q.inq_bytes > 0, "no unread echo at the stall: {q:?}");
    assert!(
        r.ledger.is_none(),
        "a client alone cannot see the server's queues"
    );
}

#[test]
fn the_server_serves_the_next_client_after_a_stuck_one() {
    let mut srv = tcplab_server(&["--sndbuf", SMALL, "--rcvbuf", SMALL]);
    let port = srv.port().to_string();
    let stuck = tcplab(&[
        "client", "-p", &port, "--sndbuf", SMALL, "--rcvbuf", SMALL, "--bytes", "8MiB", "--json",
    ])
    .run();
    assert_eq!(stuck.code(), 3, "{}", stuck.dump());
    // The first connection's summary.
    let line = srv.next_line(LINE);
    assert!(line.contains("#1 from"), "{line}");
    let ok = reader_thread_client(&port, "1MiB").run();
    let r = ok.result();
    assert_completed_and_verified(&ok, &r);
}

#[test]
fn a_refused_connection_names_the_address_and_how_to_start_a_server() {
    let closed = refusing_port();
    let port = closed.port.to_string();
    let out = tcplab(&["client", "-p", &port]).run();
    assert_eq!(out.code(), 1, "{}", out.dump());
    let line = out.stderr.trim();
    assert_eq!(line.lines().count(), 1, "{}", out.dump());
    assert!(
        line.contains(&format!("127.0.0.1:{port}")) && line.contains("refused"),
        "{line}"
    );
    assert!(line.contains("tcplab server"), "{line}");
}

#[test]
fn a_port_in_use_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().unwrap().port().to_string();
    let out = tcplab(&["server", "-p", &port]).run();
    assert_eq!(out.code(), 1, "{}", out.dump());
    assert!(
        out.stderr.contains("address already in use") && out.stderr.contains(&port),
        "{}",
        out.dump()
    );
    assert_eq!(out.stderr.trim().lines().count(), 1);
}

#[test]
fn bad_arguments_get_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["deadlock", "--sndbuf", "12Q"], "'12Q'"),
        (&["deadlock", "--bytes", "99999999999G"], "64 GiB"),
        (&["deadlock", "--chunk", "0"], "at least 1 byte"),
        (&["deadlock", "--strategy", "telepathy"], "reader-thread"),
        (&["deadlock", "--stall-after", "5"], "500ms"),
        (&["client", "-p", "70000"], "70000"),
    ];
    for (args, needle) in cases {
        let out = tcplab(args).run();
        assert_eq!(out.code(), 2, "{args:?}: {}", out.dump());
        let err = out.stderr.trim();
        assert_eq!(err.lines().count(), 1, "{args:?}: {}", out.dump());
        assert!(
            err.starts_with("tcplab: ") && err.contains(needle),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_peer_that_resets_mid_stream_ends_the_run_with_counts_and_no_panic() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port().to_string();
    let client = reader_thread_client(&port, "64MiB").spawn();
    let (conn, _) = listener.accept().expect("accept");
    // Wait (bounded by the client's own timeout) for data, then reset: SO_LINGER 0 + close sends RST.
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut &conn, &mut first).expect("the client sent nothing");
    let s = socket2::Socket::from(conn);
    s.set_linger(Some(Duration::ZERO)).expect("linger");
    drop(s);
    let out = client.finish(DEADLINE);
    assert_eq!(out.code(), 1, "{}", out.dump());
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(
        matches!(
            r.failure,
            Some(Failure::Connection {
                error: IoFailure::Reset | IoFailure::BrokenPipe | IoFailure::ClosedEarly,
                ..
            })
        ),
        "{}",
        out.dump()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.dump());
}

#[test]
fn ctrl_c_stops_a_run_and_prints_what_had_moved() {
    let mut run = tcplab(&["deadlock", "--strategy", "reader-thread", "--bytes", "8GiB"]).spawn();
    // The reader thread exists once the traffic runs (the handler is installed before).
    run.wait_for(Duration::from_secs(20), "the reader thread starting", |r| {
        has_thread(r.pid(), "tcplab-reader")
    });
    let out = run.interrupt(DEADLINE);
    assert_eq!(out.code(), 130, "{}", out.dump());
    assert!(
        out.stdout.contains("INTERRUPTED") && out.stdout.contains("client sent"),
        "{}",
        out.dump()
    );
}

#[test]
fn ctrl_c_stops_the_server_cleanly_while_a_client_is_connected() {
    let mut srv = tcplab_server(&["--sndbuf", SMALL, "--rcvbuf", SMALL]);
    let port = srv.port().to_string();
    let client = reader_thread_client(&port, "8GiB").spawn();
    srv.wait_for(
        Duration::from_secs(20),
        "the server's connection thread starting",
        |s| has_thread(s.pid(), "tcplab-conn-1"),
    );
    srv.signal(SIGINT);
    // The server's summary after Ctrl-C.
    let line = srv.next_line(LINE);
    assert!(line.contains("closed by Ctrl-C"), "{line}");
    let out = client.finish(DEADLINE);
    assert_eq!(out.code(), 1, "{}", out.dump());
    assert!(!out.stderr.contains("panicked"), "{}", out.dump());
}

#[test]
fn a_client_turned_away_by_a_full_server_quotes_the_refusal() {
    let mut srv = tcplab_server(&["--max-conns", "1", "--log"]);
    let holder = std::net::TcpStream::connect(srv.addr).expect("the first connection");
    // The server accepting the first connection.
    let line = srv.next_line(LINE);
    assert!(line.starts_with("accepted #1"), "{line}");
    let port = srv.port().to_string();
    let out = reader_thread_client(&port, "1MiB").run();
    assert_eq!(out.code(), 1, "{}", out.dump());
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Failed);
    let Some(Failure::PeerText { text }) = r.failure else {
        panic!("no refusal quoted: {}", out.dump());
    };
    assert!(
        text.contains("tcplab server busy") && text.contains("--max-conns 1"),
        "{text}"
    );
    drop(holder);
}

/// The demo's last line says what its exit code means, also when the story of the run is printed
/// with the summary (stdout not a terminal).
#[test]
fn the_demo_ends_on_the_line_that_explains_exit_code_3() {
    let out = tcplab(&["deadlock"]).run();
    assert_eq!(out.code(), 3, "{}", out.dump());
    let last = out
        .stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(last.contains("exits with code 3"), "{}", out.dump());
    assert!(out.stdout.starts_with("What happened"), "{}", out.dump());
}
