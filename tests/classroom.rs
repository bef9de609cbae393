//! The classroom server with many connections: refusals beyond --max-conns, healthy clients served
//! while others are stuck, stuck ones freed with the kernel's reason, Ctrl-C closing everything.

mod common;

use std::io::Read;
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use common::{Server, tcplab, tcplab_server};
use tcplab::classroom::crowd::{self, Class};
use tcplab::classroom::outcomes::ClientEnd;
use tcplab::classroom::refusal;
use tcplab::result::{Outcome, RunResult};
use tcplab::sock::BufReq;
use tcplab::units::{BufSize, ByteSize};

const BOUND: Duration = Duration::from_secs(15);
const SMALL: BufReq = BufReq {
    snd: BufSize::Bytes(ByteSize(16 * 1024)),
    rcv: BufSize::Bytes(ByteSize(16 * 1024)),
};

/// A class of `n` clients that all deadlock: they send without reading and hold their sockets
/// until the server frees them.
fn holders(server: &Server, n: u32) -> Class {
    Class {
        addr: server.addr,
        clients: n,
        deadlocking: |_, _| true,
        fraction: 1.0,
        bytes: 0,
        hold_bytes: 64 << 20,
        chunk: 16,
        buffers: SMALL,
        timeout: BOUND,
        free_within: BOUND,
    }
}

fn reader_thread_client(server: &Server) -> RunResult {
    tcplab(&["client", &server.addr.ip().to_string(), "-p"])
        .arg(server.port().to_string())
        .args(["--bytes", "512K", "--strategy", "reader-thread"])
        .args(["--sndbuf", "64K", "--rcvbuf", "64K", "--timeout", "20s"])
        .arg("--json")
        .deadline(Duration::from_secs(30))
        .run()
        .result()
}

#[test]
fn a_connection_beyond_max_conns_gets_a_one_line_refusal() {
    let mut s = tcplab_server(&["--max-conns", "2", "--log"]);
    let a = TcpStream::connect(s.addr).unwrap();
    let b = TcpStream::connect(s.addr).unwrap();
    s.wait_line(|l| l.starts_with("accepted #2"), BOUND);
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(BOUND)).unwrap();
    let mut text = String::new();
    c.read_to_string(&mut text)
        .expect("the refused client reads the line and then EOF, never hangs");
    assert!(refusal::is_refusal(text.as_bytes()), "got {text:?}");
    assert_eq!(text.lines().count(), 1, "got {text:?}");
    s.wait_line(
        |l| l.starts_with("refused ") && l.contains("--max-conns 2"),
        BOUND,
    );
    drop((a, b));
}

#[test]
fn a_healthy_client_is_served_at_once_while_others_are_stuck() {
    let s = tcplab_server(&[
        "--sndbuf",
        "64K",
        "--rcvbuf",
        "64K",
        "--idle-timeout",
        "60s",
    ]);
    let class = holders(&s, 3);
    let holders = thread::spawn(move || crowd::run(&class, &mut |_| {}).unwrap());
    let r = reader_thread_client(&s);
    assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
    assert!(r.verification.is_some_and(|v| v.matched));
    // Ending the server frees the holders (their send() fails), which bounds their threads.
    let out = s.interrupt(BOUND);
    assert_eq!(
        out.code(),
        130,
        "Ctrl-C exits 130, as documented\n{}",
        out.dump()
    );
    for h in holders.join().unwrap() {
        assert_eq!(
            h.outcome,
            ClientEnd::Freed,
            "{h:?}\nthe server:\n{}",
            out.dump()
        );
    }
}

#[test]
fn a_client_that_stops_reading_is_freed_as_not_draining() {
    let mut s = tcplab_server(&["--sndbuf", "64K", "--rcvbuf", "64K", "--idle-timeout", "1s"]);
    let h = crowd::run(&holders(&s, 1), &mut |_| {}).unwrap().remove(0);
    assert_eq!(h.outcome, ClientEnd::Freed, "{h:?}");
    assert!(h.sent_bytes > 16 * 1024, "{h:?}");
    let line = s.wait_line(|l| l.starts_with("stuck #1"), BOUND);
    assert!(line.contains("(not-draining)"), "{line}");
    // The server is still there for the next student.
    let r = reader_thread_client(&s);
    assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
}

#[test]
fn ctrl_c_closes_every_connection_and_joins_every_thread() {
    let mut s = tcplab_server(&["--log", "--idle-timeout", "60s"]);
    let conns: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    s.wait_line(|l| l.starts_with("accepted #3"), BOUND);
    let out = s.interrupt(BOUND);
    out.assert_code(130);
    for n in 1..=3 {
        let tag = format!("closed #{n} ");
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with(&tag) && l.contains("Ctrl-C")),
            "no '{tag}… Ctrl-C' line\n{}",
            out.dump()
        );
    }
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("server stopped: 3 connections")),
        "{}",
        out.dump()
    );
    for mut c in conns {
        c.set_read_timeout(Some(BOUND)).unwrap();
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "the connection was closed, so the read sees EOF");
        let _ = c.shutdown(Shutdown::Both);
    }
}

#[test]
fn the_sequential_mode_serves_one_connection_after_another() {
    let s = tcplab_server(&["--sequential", "--connections", "2"]);
    for _ in 0..2 {
        let r = reader_thread_client(&s);
        assert_eq!(r.outcome, Outcome::Completed, "{r:?}");
    }
}

#[test]
fn sequential_and_max_conns_cannot_be_combined() {
    let out = tcplab(&["server", "--sequential", "--max-conns", "3"])
        .deadline(BOUND)
        .run();
    out.assert_code(2);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.dump());
}
