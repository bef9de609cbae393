//! Hostile and broken input: clients that reset, stay silent, half-close at once or read slowly; a
//! port already in use; IPv6 loopback; arbitrary bytes to the server and arbitrary text to every
//! parser of a size, duration, fraction or port (proptest).

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use common::{Server, tcplab, tcplab_server};
use proptest::prelude::*;
use socket2::{Domain, SockAddr, Socket, Type};
use tcplab::cli::Cli;
use tcplab::cli::load::fraction_arg;
use tcplab::units::{BufSize, ByteSize, MAX_SIZE, Millis};

const BOUND: Duration = Duration::from_secs(15);

fn upper(b: &[u8]) -> Vec<u8> {
    b.to_ascii_uppercase()
}

/// Sends `data`, half-closes, reads the echo to EOF (bounded).
fn echo(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(BOUND)).unwrap();
    let mut w = s.try_clone().unwrap();
    let data = data.to_vec();
    let writer = thread::spawn(move || {
        w.write_all(&data).expect("send");
        w.shutdown(Shutdown::Write).expect("half-close");
    });
    let mut back = Vec::new();
    (&s).read_to_end(&mut back).expect("read the echo to EOF");
    writer.join().unwrap();
    back
}

#[test]
fn a_client_reset_mid_stream_is_logged_and_the_next_client_is_served() {
    let mut s = tcplab_server(&["--sndbuf", "16K", "--rcvbuf", "16K"]);
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.connect(&SockAddr::from(s.addr)).unwrap();
    // Enough that the server is busy echoing when the reset arrives, not finished.
    sock.set_nonblocking(true).unwrap();
    let data = vec![b'x'; 256 * 1024];
    let mut sent = 0;
    let until = Instant::now() + BOUND;
    while sent < 64 * 1024 && Instant::now() < until {
        match (&sock).write(&data[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::yield_now(),
            Err(e) => panic!("send failed before the reset: {e}"),
        }
    }
    // SO_LINGER 0 then close: the kernel sends RST instead of FIN (socket(7)).
    sock.set_linger(Some(Duration::ZERO)).unwrap();
    drop(sock);
    let line = s.wait_line(|l| l.contains("#1 "), BOUND);
    assert!(line.starts_with("reset #1"), "{line}");
    assert_eq!(echo(s.addr, b"still here?"), b"STILL HERE?");
}

#[test]
fn a_client_that_sends_nothing_is_freed_by_the_idle_timeout() {
    let mut s = tcplab_server(&["--idle-timeout", "1s"]);
    let mut c = TcpStream::connect(s.addr).unwrap();
    let line = s.wait_line(|l| l.contains("#1 "), BOUND);
    assert!(
        line.starts_with("stuck #1") && line.contains("(silent)"),
        "{line}"
    );
    c.set_read_timeout(Some(BOUND)).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        c.read(&mut buf).unwrap_or(0),
        0,
        "the freed client sees EOF"
    );
}

#[test]
fn a_client_that_half_closes_at_once_gets_eof_and_a_clean_close() {
    let mut s = tcplab_server(&[]);
    let c = TcpStream::connect(s.addr).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    c.set_read_timeout(Some(BOUND)).unwrap();
    let mut back = Vec::new();
    (&c).read_to_end(&mut back).expect("EOF, not an error");
    assert!(back.is_empty());
    let line = s.wait_line(|l| l.contains("#1 "), BOUND);
    assert!(
        line.starts_with("closed #1") && line.contains("0 B processed"),
        "{line}"
    );
}

#[test]
fn a_slow_reader_whose_queue_still_drains_is_not_declared_stuck() {
    // The server's send is blocked for most of the run, but each slow read reopens the window a
    // little, so its send queue keeps moving: that is not stuck. 2 KiB per 100 ms with 4 KiB
    // buffers reopens the window several times per second (a 1-byte-a-second reader would not:
    // receive-side silly-window avoidance keeps the window shut until half the buffer is free;
    // docs/classroom.md).
    let mut s = tcplab_server(&["--sndbuf", "4K", "--rcvbuf", "4K", "--idle-timeout", "1s"]);
    const TOTAL: usize = 24 * 1024;
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&SockAddr::from(s.addr)).unwrap();
    let c: TcpStream = sock.into();
    let mut w = c.try_clone().unwrap();
    let writer = thread::spawn(move || {
        let _ = w.write_all(&[b'a'; TOTAL]);
        let _ = w.shutdown(Shutdown::Write);
    });
    let (_never, pace) = mpsc::channel::<()>();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    c.set_read_timeout(Some(BOUND)).unwrap();
    let until = Instant::now() + BOUND;
    while Instant::now() < until {
        // The scenario's pacing: the reader waits 100 ms between reads.
        let _ = pace.recv_timeout(Duration::from_millis(100));
        match (&c).read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {} bytes: {e}", got.len()),
        }
    }
    writer.join().unwrap();
    assert_eq!(got.len(), TOTAL, "the whole echo came back");
    assert!(got.iter().all(|&b| b == b'A'));
    let line = s.wait_line(|l| l.contains("#1 "), BOUND);
    assert!(line.starts_with("closed #1"), "{line}");
}

#[test]
fn a_port_already_in_use_is_a_one_line_error_naming_the_port() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = tcplab(&["server", "127.0.0.1", "--port", &port])
        .deadline(BOUND)
        .run();
    out.assert_code(1);
    let err = out.one_error_line();
    assert!(
        err.contains(&port) && err.contains("already in use"),
        "{}",
        out.dump()
    );
}

#[test]
fn ipv6_loopback_serves_a_client() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback (::1 cannot be bound)");
        return;
    }
    let s = Server::start("::1", &[]);
    assert!(s.addr.is_ipv6(), "{}", s.addr);
    assert_eq!(echo(s.addr, b"over ipv6"), b"OVER IPV6");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn size_parsing_never_panics_and_stays_within_limits(text in "\\PC{0,24}") {
        if let Ok(ByteSize(n)) = ByteSize::parse(&text) {
            prop_assert!(n <= MAX_SIZE);
        }
        if let Ok(ByteSize(n)) = ByteSize::parse_nonzero(&text) {
            prop_assert!(n > 0 && n <= MAX_SIZE);
        }
        if let Ok(BufSize::Bytes(ByteSize(n))) = BufSize::parse(&text) {
            prop_assert!(n > 0 && n <= MAX_SIZE);
        }
    }

    #[test]
    fn sizes_with_suffixes_round_trip(n in 0u64..=(64 << 30), unit in 0usize..4, lower in any::<bool>()) {
        let (suffix, shift) = [("", 0), ("K", 10), ("MiB", 20), ("G", 30)][unit];
        let n = n >> shift;
        let text = format!("{n}{suffix}");
        let text = if lower { text.to_lowercase() } else { text };
        prop_assert_eq!(ByteSize::parse(&text), Ok(ByteSize(n << shift)));
    }

    #[test]
    fn duration_parsing_never_panics_and_stays_within_limits(text in "\\PC{0,24}") {
        if let Ok(Millis(d)) = Millis::parse(&text) {
            prop_assert!(d > Duration::ZERO, "{text:?} gave a zero duration");
            prop_assert!(d <= Duration::from_secs(86_400));
        }
    }

    #[test]
    fn numeric_durations_never_panic(v in any::<f64>(), unit in 0usize..3) {
        let text = format!("{v}{}", ["ms", "s", "m"][unit]);
        if let Ok(Millis(d)) = Millis::parse(&text) {
            prop_assert!(d > Duration::ZERO && d <= Duration::from_secs(86_400), "{text:?}");
        }
    }

    #[test]
    fn durations_round_trip_through_their_argument_form(ms in 1u64..86_400_000) {
        let d = Millis(Duration::from_millis(ms));
        prop_assert_eq!(Millis::parse(&d.to_arg()), Ok(d));
    }

    #[test]
    fn fractions_are_accepted_only_between_zero_and_one(text in "\\PC{0,12}", v in any::<f64>()) {
        if let Ok(f) = fraction_arg(&text) {
            prop_assert!((0.0..=1.0).contains(&f));
        }
        let accepted = fraction_arg(&v.to_string()).is_ok();
        prop_assert_eq!(accepted, (0.0..=1.0).contains(&v));
    }

    #[test]
    fn port_and_size_flags_never_panic(text in "\\PC{0,12}") {
        for flag in ["--port", "--sndbuf", "--read", "--idle-timeout", "--max-conns"] {
            let r = Cli::try_parse_from(["tcplab", "server", flag, text.as_str()]);
            if flag == "--port" {
                prop_assert_eq!(r.is_ok(), text.parse::<u16>().is_ok(), "{:?}", text);
            }
        }
    }
}

/// One server for every fuzz case: it must echo each arbitrary payload uppercased and still be up.
#[test]
fn the_server_echoes_arbitrary_bytes_and_stays_up() {
    let mut s = tcplab_server(&["--read", "7"]);
    let addr = s.addr;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..8192), |data| {
            prop_assert_eq!(echo(addr, &data), upper(&data));
            Ok(())
        })
        .unwrap();
    assert!(s.alive(), "the server died on arbitrary input");
    assert_eq!(echo(s.addr, b"last"), b"LAST");
}
