//! The classic programs end to end: every demo's `--json` outcome, interoperation with the Python 3
//! ports of tcp_sixteen.py and blocks.py in both directions, and the one-line errors of bad input.
//! Every wait has a deadline (tests/common); the Python tests need python3, which CI installs.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::{Output, Server, assert_wrapped, python, python_server, refusing_port, tcplab};
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(30);

/// Runs a demo with --json and returns its document, asserting the exit code.
fn demo_json(args: &[&str], code: i32) -> Value {
    let out = tcplab(args).deadline(DEADLINE).run();
    out.assert_code(code);
    out.json()
}

/// One of tcplab's classic servers, announcing `Listening at 127.0.0.1:PORT`.
fn classic_server(args: &[&str]) -> Server {
    Server::announced(tcplab(args), "Listening at")
}

#[test]
fn sixteen_demo_exchanges_both_sixteen_octet_messages() {
    let v = demo_json(&["sixteen", "demo", "--json"], 0);
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["server_received"], "'Hi there, server'");
    assert_eq!(v["client_received"], "'Farewell, client'");
}

#[test]
fn sixteen_demo_without_a_server_is_refused_and_explains_the_rst() {
    let v = demo_json(&["sixteen", "demo", "--no-server", "--json"], 0);
    assert_eq!(v["outcome"], "refused");
    assert!(
        v["error"].as_str().unwrap().contains("connection refused"),
        "{v}"
    );
    assert!(v["explanation"].as_str().unwrap().contains("RST"), "{v}");
}

#[test]
fn dribble_receiver_sees_one_recv_per_piece() {
    for (pieces, sizes) in [
        ("5,3,8", vec![5, 3, 8]),
        ("1,7,8", vec![1, 7, 8]),
        ("16", vec![16]),
    ] {
        let v = demo_json(&["dribble", "--pieces", pieces, "--json"], 0);
        assert_eq!(v["outcome"], "completed", "{v}");
        assert_eq!(v["recv_sizes_bytes"], serde_json::json!(sizes), "{v}");
        assert_eq!(v["received_bytes"], 16);
    }
}

#[test]
fn dribble_close_after_5_reports_socket_closed_after_5_of_16_bytes() {
    let v = demo_json(&["dribble", "--close-after", "5", "--json"], 0);
    assert_eq!(v["outcome"], "closed_early");
    assert_eq!(v["error"], "socket closed after 5 of 16 bytes");
    assert_eq!(v["recv_sizes_bytes"], serde_json::json!([5]));
}

#[test]
fn dribble_refuses_pieces_that_do_not_add_up_to_16() {
    let out = tcplab(&["dribble", "--pieces", "5,3"])
        .deadline(DEADLINE)
        .run();
    out.assert_code(2);
    assert!(
        out.one_error_line().contains("add up to 16"),
        "{}",
        out.dump()
    );
}

#[test]
fn halfclose_with_shutdown_gets_the_servers_count_back() {
    let v = demo_json(&["halfclose", "--bytes", "40K", "--json"], 0);
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["server_received_bytes"], 40 * 1024);
    assert!(v["reply"].as_str().unwrap().contains("40960 bytes"), "{v}");
}

#[test]
fn halfclose_without_shutdown_stalls_in_recv_and_exits_3() {
    let v = demo_json(
        &["halfclose", "--no-shutdown", "--bytes", "4K", "--json"],
        3,
    );
    assert_eq!(v["outcome"], "stalled");
    assert_eq!(v["server_received_bytes"], 4096);
    assert_eq!(v["client_received_bytes"], 0);
    if cfg!(target_os = "linux") {
        assert_eq!(v["stall"]["server_call"], "recv", "{v}");
        assert_eq!(v["stall"]["client_call"], "recv", "{v}");
    }
}

#[test]
fn blocks_demo_reads_three_blocks_and_the_end_block() {
    let v = demo_json(&["blocks", "demo", "--json"], 0);
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["blocks"][2], "b'Simple is better than complex.'");
    assert_eq!(v["block_sizes_bytes"], serde_json::json!([30, 33, 30]));
}

#[test]
fn blocks_demo_refuses_an_oversized_block_without_allocating_it() {
    let v = demo_json(
        &[
            "blocks",
            "demo",
            "--oversized",
            "--max-frame",
            "64K",
            "--json",
        ],
        0,
    );
    assert_eq!(v["outcome"], "frame_refused");
    assert_eq!(v["announced_bytes"], 65537);
    assert!(v["buffer_capacity_bytes"].as_u64().unwrap() < 65536, "{v}");
    assert!(v["error"].as_str().unwrap().contains("--max-frame"), "{v}");
}

#[test]
fn blocks_demo_cut_streams_say_how_many_bytes_were_missing() {
    let v = demo_json(&["blocks", "demo", "--cut", "header", "--json"], 0);
    assert_eq!(v["outcome"], "truncated");
    assert_eq!(v["missing_bytes"], 2);
    assert!(
        v["error"].as_str().unwrap().contains("2 of 4 header bytes"),
        "{v}"
    );
    let v = demo_json(&["blocks", "demo", "--cut", "body", "--json"], 0);
    assert_eq!(v["outcome"], "truncated");
    assert_eq!(v["missing_bytes"], 21);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("12 of 33 body bytes (21 missing)"),
        "{v}"
    );
}

#[test]
fn a_malformed_max_frame_is_one_line_and_exit_2() {
    let out = tcplab(&["blocks", "demo", "--max-frame", "12Q"])
        .deadline(DEADLINE)
        .run();
    out.assert_code(2);
    assert!(out.one_error_line().contains("'12Q'"), "{}", out.dump());
}

#[test]
fn tcplab_sixteen_server_answers_the_python_client() {
    let server = classic_server(&["sixteen", "server", "-p", "0", "--once"]);
    let client = python("tcp_sixteen.py")
        .args(["client", "-p", &server.port().to_string()])
        .deadline(DEADLINE)
        .run();
    client.assert_code(0);
    assert!(
        client
            .stdout
            .contains("The server said b'Farewell, client'"),
        "{}",
        client.dump()
    );
    let out = server.finish(DEADLINE);
    out.assert_code(0);
    assert!(
        out.stdout
            .contains("The incoming sixteen-octet message says 'Hi there, server'"),
        "{}",
        out.dump()
    );
}

#[test]
fn python_sixteen_server_answers_the_tcplab_client() {
    let mut server = python_server("tcp_sixteen.py", &["server", "-p", "0"]);
    let out = tcplab(&["sixteen", "client", "-p", &server.port().to_string()])
        .deadline(DEADLINE)
        .run();
    out.assert_code(0);
    assert!(
        out.stdout.contains("The server said 'Farewell, client'"),
        "{}",
        out.dump()
    );
    // The client's message, as the Python server prints it.
    server.wait_line(
        |l| l == "The incoming sixteen-octet message says b'Hi there, server'",
        DEADLINE,
    );
}

#[test]
fn tcplab_blocks_server_reads_the_python_client() {
    let server = classic_server(&["blocks", "server", "-p", "0"]);
    let client = python("blocks.py")
        .args(["-c", "-p", &server.port().to_string()])
        .deadline(DEADLINE)
        .run();
    client.assert_code(0);
    let out = server.finish(DEADLINE);
    out.assert_code(0);
    assert_eq!(
        out.stdout.matches("Block says: b'").count(),
        3,
        "{}",
        out.dump()
    );
    assert!(
        out.stdout
            .contains("Block says: b'Explicit is better than implicit.'"),
        "{}",
        out.dump()
    );
}

#[test]
fn python_blocks_server_reads_the_tcplab_client() {
    let server = python_server("blocks.py", &["-p", "0"]);
    let out = tcplab(&["blocks", "client", "-p", &server.port().to_string()])
        .deadline(DEADLINE)
        .run();
    out.assert_code(0);
    let py = server.finish(DEADLINE);
    py.assert_code(0);
    assert_eq!(
        py.stdout.matches("Block says: b'").count(),
        3,
        "{}",
        py.dump()
    );
}

/// Starts `tcplab blocks server`, sends it raw bytes, closes, and returns how it ended.
fn blocks_server_fed(raw: &[u8], max_frame: &str) -> Output {
    let server = classic_server(&["blocks", "server", "-p", "0", "--max-frame", max_frame]);
    let mut s = TcpStream::connect(server.addr).expect("connect to tcplab");
    s.write_all(raw).expect("send raw bytes");
    drop(s);
    server.finish(DEADLINE)
}

#[test]
fn blocks_server_refuses_an_oversized_block_in_one_line_with_exit_1() {
    let out = blocks_server_fed(&2000u32.to_be_bytes(), "1K");
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(
        line.contains("2000") && line.contains("1024") && line.contains("--max-frame"),
        "{line}"
    );
}

#[test]
fn blocks_server_reports_a_cut_body_in_one_line_with_exit_1() {
    let mut raw = 30u32.to_be_bytes().to_vec();
    raw.extend_from_slice(b"twelve bytes");
    let out = blocks_server_fed(&raw, "1M");
    out.assert_code(1);
    assert!(
        out.one_error_line()
            .contains("12 of 30 body bytes (18 missing)"),
        "{}",
        out.dump()
    );
}

#[test]
fn sixteen_server_reports_a_client_that_closes_after_5_bytes() {
    let server = classic_server(&["sixteen", "server", "-p", "0", "--once"]);
    let mut s = TcpStream::connect(server.addr).expect("connect to tcplab");
    s.write_all(b"Hi th").expect("send 5 bytes");
    drop(s);
    let out = server.finish(DEADLINE);
    out.assert_code(1);
    assert!(
        out.one_error_line()
            .contains("socket closed after 5 of 16 bytes"),
        "{}",
        out.dump()
    );
}

/// A client that resets before its sixteen octets (close with SO_LINGER 0): the reset may come
/// before or after the server has asked for the peer's address (ENOTCONN, then ECONNRESET); either
/// way the server says in words what happened, never an OS error number.
#[test]
fn sixteen_server_tells_a_client_reset_in_words() {
    for _ in 0..3 {
        let server = classic_server(&["sixteen", "server", "-p", "0", "--once"]);
        let s = socket2::Socket::from(TcpStream::connect(server.addr).expect("connect to tcplab"));
        s.set_linger(Some(Duration::ZERO)).expect("SO_LINGER 0");
        drop(s);
        let out = server.finish(DEADLINE);
        out.assert_code(1);
        let line = out.one_error_line();
        assert!(
            line.contains("the client reset the connection before it had sent its sixteen octets"),
            "{}",
            out.dump()
        );
        assert!(!line.contains("os error"), "{}", out.dump());
    }
}

#[test]
fn sixteen_client_without_a_server_is_refused_with_exit_1() {
    let closed = refusing_port();
    let port = closed.port.to_string();
    let out = tcplab(&["sixteen", "client", "-p", &port])
        .deadline(DEADLINE)
        .run();
    out.assert_code(1);
    assert!(
        out.one_error_line().contains("connection refused"),
        "{}",
        out.dump()
    );
}

/// Resident memory the blocks server may use while it waits for the rest of a block: a few MB
/// of its own, far below the 1 GiB the block announces.
const BLOCKS_SERVER_RSS: u64 = 50 << 20;

#[cfg(target_os = "linux")]
#[test]
fn blocks_server_memory_follows_the_bytes_received_not_the_announced_length() {
    use tcplab::classroom::procstat;
    use tcplab::diag::{self, Filter};

    let mut server = classic_server(&["blocks", "server", "-p", "0", "--max-frame", "1G"]);
    let server_port = server.port();
    let mut s = TcpStream::connect(server.addr).expect("connect to tcplab");
    let me = s.local_addr().expect("the client's address");
    let mut raw = (1u32 << 30).to_be_bytes().to_vec();
    raw.resize(4 + 100_000, b'x');
    s.write_all(&raw).expect("send a header and 100 KB of body");
    // Both queues empty: every byte reached the server's socket and its reads took them all.
    server.wait_for(DEADLINE, "the server reading the 100 KB body", |_| {
        let Ok(socks) = diag::dump(&Filter::port(me.port())) else {
            return false;
        };
        let sent = socks.iter().any(|d| d.local == me && d.send_q == 0);
        let read = socks
            .iter()
            .any(|d| d.remote == me && d.local.port() == server_port && d.recv_q == 0);
        sent && read
    });
    let rss = procstat::read(server.pid())
        .expect("the server's status")
        .rss_bytes;
    assert!(
        rss < BLOCKS_SERVER_RSS,
        "the server holds {rss} bytes for a block of which 100 KB arrived\n{}",
        server.dump()
    );
    drop(s);
    let out = server.finish(DEADLINE);
    out.assert_code(1);
    assert!(
        out.one_error_line()
            .contains("socket closed after 100000 of 1073741824 body bytes"),
        "{}",
        out.dump()
    );
}

#[test]
fn a_max_frame_above_what_a_length_prefix_can_announce_is_refused() {
    let out = tcplab(&["blocks", "server", "-p", "0", "--max-frame", "4G"])
        .deadline(DEADLINE)
        .run();
    out.assert_code(2);
    assert!(
        out.one_error_line().contains("at most 4294967295 bytes"),
        "{}",
        out.dump()
    );
    tcplab(&["blocks", "demo", "--max-frame", "4294967295", "--json"])
        .deadline(DEADLINE)
        .run()
        .assert_code(0);
}

#[test]
fn classic_demos_wrap_to_the_terminal_and_keep_one_record_per_line_in_a_pipe() {
    for args in [
        &["blocks", "demo", "--oversized"][..],
        &["dribble", "--close-after", "8"],
    ] {
        let piped = tcplab(args).deadline(DEADLINE).run();
        piped.assert_code(0);
        let outcome = piped.stdout.lines().last().unwrap_or_default();
        assert!(
            outcome.starts_with("outcome: ") && outcome.len() > 120,
            "the outcome is one line in a pipe\n{}",
            piped.dump()
        );
        for width in [80, 120] {
            let wrapped = tcplab(args)
                .env("COLUMNS", &width.to_string())
                .deadline(DEADLINE)
                .run();
            wrapped.assert_code(0);
            assert_wrapped(&piped.stdout, &wrapped.stdout, width);
        }
    }
}
