//! The classroom server at its edges (issue 9): a client that stops reading but keeps trickling
//! bytes in is still stuck, --max-conns counts only connections that are open, running out of
//! file descriptors is reported once rather than ten times a second, and a closed stdout
//! (`--log | head -1`) does not take the server down with it.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use tcplab::result::{Outcome, RunResult};

/// Bound on one line from a running server or client.
const LINE: Duration = Duration::from_secs(30);

/// `tcplab client` with the reader-thread fix against `server`, printing JSON.
fn reader_thread_client(server: &Server, bytes: &str) -> RunResult {
    let port = server.port().to_string();
    let out = tcplab(&["client", "-p", &port, "--bytes", bytes])
        .args(["--strategy", "reader-thread", "--json"])
        .run();
    let r = out.result();
    assert_eq!(r.outcome, Outcome::Completed, "{}", out.dump());
    assert!(
        r.verification.as_ref().is_some_and(|v| v.matched),
        "{}",
        out.dump()
    );
    r
}

#[test]
fn a_client_that_stops_reading_but_trickles_bytes_in_is_freed_as_blocked_in_send() {
    let idle = Duration::from_secs(2);
    let mut server = tcplab_server(&["--idle-timeout", "2s", "--sndbuf", "16K"]);
    let port = server.port().to_string();
    let mut client = python("trickle_client.py").args(["-p", &port]).spawn();
    client.wait_line(|l| l == "burst sent", LINE);
    let sent = Instant::now();
    // The idle limit, one supervisor tick, and room for a busy machine.
    let line = server.wait_line(|l| l.starts_with("stuck #1"), idle + Duration::from_secs(6));
    assert!(line.contains("(not-draining)"), "{line}");
    assert!(sent.elapsed() < idle + Duration::from_secs(6), "{line}");
    let out = client.finish(LINE);
    out.assert_code(0);
    assert!(out.stdout.contains("freed after"), "{}", out.dump());
}

/// Connections waiting in the accept queue of the listener on `port` (sock_diag's Recv-Q of a
/// LISTEN socket).
#[cfg(target_os = "linux")]
fn backlog(port: u16) -> u32 {
    use tcplab::diag::{self, Filter, TcpState};
    diag::dump(&Filter::port(port))
        .unwrap_or_default()
        .iter()
        .find(|d| d.state == TcpState::Listen && d.local.port() == port)
        .map_or(0, |d| d.recv_q)
}

#[cfg(target_os = "linux")]
#[test]
fn max_conns_counts_only_the_connections_still_open() {
    let mut server = tcplab_server(&["--max-conns", "2", "--log"]);
    let port = server.port();
    // Repeated, so that a pass by luck of timing is unlikely.
    for round in 0..5 {
        // The server is stopped while three clients connect and close and a real one connects,
        // so that it meets all four in one go, the closed ones not yet seen to be closed.
        server.signal(SIGSTOP);
        for _ in 0..3 {
            drop(TcpStream::connect(server.addr).expect("connect"));
        }
        let client = tcplab(&["client", "-p", &port.to_string(), "--bytes", "64K"])
            .args(["--strategy", "reader-thread", "--json"])
            .spawn();
        wait_until(LINE, "four connections waiting in the backlog", || {
            backlog(port) >= 4
        });
        server.signal(SIGCONT);
        let out = client.finish(LINE);
        let r = out.result();
        assert_eq!(
            r.outcome,
            Outcome::Completed,
            "round {round}\n{}",
            out.dump()
        );
        assert_eq!(r.counts.client_received_bytes, 64 * 1024, "round {round}");
    }
}

/// Descriptors the server may open: stdin, stdout, stderr, the listener, the poll and its waker,
/// and a few for connections, so that a dozen clients run it out.
const FD_LIMIT: u32 = 16;

#[test]
fn running_out_of_descriptors_is_reported_once_and_the_server_recovers() {
    let limited = Cmd::new("sh").args([
        "-c",
        &format!(r#"ulimit -n {FD_LIMIT}; exec "$0" "$@""#),
        BIN,
    ]);
    let mut server = Server::start_with(limited, "127.0.0.1", &["--idle-timeout", "60s"]);
    let held: Vec<TcpStream> = (0..3 * FD_LIMIT)
        .map(|_| TcpStream::connect(server.addr).expect("connect (the backlog takes it)"))
        .collect();
    server.wait_for(LINE, "the accept() failure being reported", |s| {
        s.stderr_so_far().contains("accept failed")
    });
    // A second and a half of failing accept() calls, about 15 supervisor ticks, during which a
    // warning per failure would pile up. Time passing is what is tested here, not a
    // synchronisation.
    std::thread::sleep(Duration::from_millis(1500));
    drop(held);
    // The held connections end and free their descriptors; the next client is served.
    reader_thread_client(&server, "256K");
    let out = server.interrupt(LINE);
    out.assert_code(130);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("accept"))
        .collect();
    assert_eq!(
        warnings
            .iter()
            .filter(|l| l.starts_with("tcplab: accept failed: "))
            .count(),
        1,
        "{}",
        out.dump()
    );
    // Besides the warning, at most the count when accept() worked again (and one per 10 s).
    assert!(warnings.len() <= 3, "{}", out.dump());
}

#[test]
fn a_closed_stdout_does_not_stop_the_server_serving() {
    let mut server = Server::announced(
        tcplab(&["server", "127.0.0.1", "--port", "0", "--log"]).head(1),
        "listening on ",
    );
    // `| head -1`: the first line was read, and the reading end of the pipe is closed with it.
    let r = reader_thread_client(&server, "4MiB");
    assert_eq!(r.counts.client_received_bytes, 4 << 20);
    assert!(server.alive(), "{}", server.dump());
    // A second client, after the server has surely tried to log to the closed pipe.
    reader_thread_client(&server, "1MiB");
    let out = server.interrupt(LINE);
    out.assert_code(130);
    assert!(!out.stderr.contains("panicked"), "{}", out.dump());
}

/// Connects and waits for the server to close the connection; how long that took.
fn freed_after(server: &Server, bound: Duration) -> Duration {
    use std::io::Read;
    let mut c = TcpStream::connect(server.addr).expect("connect");
    c.set_read_timeout(Some(bound)).expect("read timeout");
    let start = Instant::now();
    let mut byte = [0u8; 1];
    match c.read(&mut byte) {
        Ok(0) => {}
        Ok(_) => panic!("the server sent a byte to a client that sent none"),
        Err(e) => assert!(
            e.kind() == std::io::ErrorKind::ConnectionReset,
            "not freed within {bound:?}: {e}"
        ),
    }
    start.elapsed()
}

#[test]
fn a_reader_that_stops_reading_the_events_does_not_stop_the_server_freeing_clients() {
    // `--json` events go to a pipe read for its first line only. Six hundred connections make
    // far more than a pipe holds; then a silent client must still be freed at the idle limit.
    let mut server = Server::announced(
        tcplab(&["server", "127.0.0.1", "--port", "0", "--quiet", "--json"])
            .args(["--idle-timeout", "1s"])
            .unread_after(1),
        "{\"event\":\"listening\",\"addr\":\"",
    );
    for _ in 0..600 {
        drop(TcpStream::connect(server.addr).expect("connect"));
    }
    let took = freed_after(&server, Duration::from_secs(20));
    assert!(took < Duration::from_secs(8), "freed after {took:?}");
    server.signal(SIGINT);
    let out = server.finish(Duration::from_secs(30));
    out.assert_code(130);
}
