//! The classic programs end to end: every demo's `--json` outcome, interoperation with the Python 3
//! ports of tcp_sixteen.py and blocks.py in both directions, and the one-line errors of bad input.
//! Every wait has a deadline; a guard kills each child on drop; nothing sleeps.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(30);

/// A running child whose stdout arrives line by line over a channel; killed on drop.
struct Running {
    name: String,
    child: Child,
    lines: mpsc::Receiver<Option<String>>,
    stderr: mpsc::Receiver<String>,
    seen: Vec<String>,
    eof: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(mut cmd: Command) -> Running {
    let name = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().expect("piped stdout");
    thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(Some(l)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    let (etx, stderr) = mpsc::channel();
    let mut err = child.stderr.take().expect("piped stderr");
    thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        let _ = etx.send(s);
    });
    Running {
        name,
        child,
        lines,
        stderr,
        seen: Vec::new(),
        eof: false,
    }
}

struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Running {
    /// Waits for the first stdout line that `pred` accepts.
    fn line_where(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Some(l)) => {
                    self.seen.push(l.clone());
                    if pred(&l) {
                        return l;
                    }
                }
                Ok(None) | Err(_) => panic!(
                    "{} never printed {what}; stdout so far: {:?}",
                    self.name, self.seen
                ),
            }
        }
    }

    /// Waits for the child to close its output and exit.
    fn finish(mut self) -> Finished {
        let end = Instant::now() + DEADLINE;
        while !self.eof {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(Some(l)) => self.seen.push(l),
                Ok(None) => self.eof = true,
                Err(_) => panic!(
                    "{} did not finish within {DEADLINE:?}; stdout: {:?}",
                    self.name, self.seen
                ),
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        let stderr = self
            .stderr
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("{} kept stderr open", self.name));
        // Both pipes are closed: the process has exited (or is exiting), so wait() is short.
        let code = self.child.wait().expect("wait for child").code();
        Finished {
            code,
            stdout: self.seen.join("\n"),
            stderr,
        }
    }
}

fn tcplab(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tcplab"));
    c.args(args);
    c
}

fn python(script: &str, args: &[&str]) -> Command {
    let mut c = Command::new("python3");
    c.arg("-u")
        .arg(format!(
            "{}/tests/fixtures/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args);
    c
}

fn run(args: &[&str]) -> Finished {
    spawn(tcplab(args)).finish()
}

/// Runs a demo with --json and returns its document, asserting the exit code.
fn demo_json(args: &[&str], code: i32) -> Value {
    let f = run(args);
    assert_eq!(
        f.code,
        Some(code),
        "{args:?}: stdout {}\nstderr {}",
        f.stdout,
        f.stderr
    );
    serde_json::from_str(&f.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed no JSON ({e}): {}\nstderr {}",
            f.stdout, f.stderr
        )
    })
}

/// The port at the end of a `Listening at` line, tcplab's (`127.0.0.1:4000`) or Python's
/// (`('127.0.0.1', 4000)`).
fn port_of(line: &str) -> u16 {
    let digits: String = line
        .trim_end_matches(')')
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no port in {line:?}"))
}

fn listening(r: &mut Running) -> String {
    port_of(&r.line_where("a 'Listening at' line", |l| l.starts_with("Listening at"))).to_string()
}

fn one_error_line(f: &Finished) -> &str {
    let lines: Vec<&str> = f.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one error line, got {:?}",
        f.stderr
    );
    assert!(lines[0].starts_with("tcplab: "), "{:?}", lines[0]);
    lines[0]
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
    let f = run(&["dribble", "--pieces", "5,3"]);
    assert_eq!(f.code, Some(2));
    assert!(one_error_line(&f).contains("add up to 16"));
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
    let f = run(&["blocks", "demo", "--max-frame", "12Q"]);
    assert_eq!(f.code, Some(2));
    assert!(one_error_line(&f).contains("'12Q'"));
}

#[test]
fn tcplab_sixteen_server_answers_the_python_client() {
    let mut server = spawn(tcplab(&["sixteen", "server", "-p", "0", "--once"]));
    let port = listening(&mut server);
    let client = spawn(python("tcp_sixteen.py", &["client", "-p", &port])).finish();
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    assert!(
        client
            .stdout
            .contains("The server said b'Farewell, client'"),
        "{}",
        client.stdout
    );
    let f = server.finish();
    assert_eq!(f.code, Some(0), "{}", f.stderr);
    assert!(
        f.stdout
            .contains("The incoming sixteen-octet message says 'Hi there, server'"),
        "{}",
        f.stdout
    );
}

#[test]
fn python_sixteen_server_answers_the_tcplab_client() {
    let mut server = spawn(python("tcp_sixteen.py", &["server", "-p", "0"]));
    let port = listening(&mut server);
    let f = run(&["sixteen", "client", "-p", &port]);
    assert_eq!(f.code, Some(0), "{}", f.stderr);
    assert!(
        f.stdout.contains("The server said 'Farewell, client'"),
        "{}",
        f.stdout
    );
    server.line_where("the client's message", |l| {
        l == "The incoming sixteen-octet message says b'Hi there, server'"
    });
}

#[test]
fn tcplab_blocks_server_reads_the_python_client() {
    let mut server = spawn(tcplab(&["blocks", "server", "-p", "0"]));
    let port = listening(&mut server);
    let client = spawn(python("blocks.py", &["-c", "-p", &port])).finish();
    assert_eq!(client.code, Some(0), "{}", client.stderr);
    let f = server.finish();
    assert_eq!(f.code, Some(0), "{}", f.stderr);
    assert_eq!(
        f.stdout.matches("Block says: b'").count(),
        3,
        "{}",
        f.stdout
    );
    assert!(
        f.stdout
            .contains("Block says: b'Explicit is better than implicit.'"),
        "{}",
        f.stdout
    );
}

#[test]
fn python_blocks_server_reads_the_tcplab_client() {
    let mut server = spawn(python("blocks.py", &["-p", "0"]));
    let port = listening(&mut server);
    let f = run(&["blocks", "client", "-p", &port]);
    assert_eq!(f.code, Some(0), "{}", f.stderr);
    let py = server.finish();
    assert_eq!(py.code, Some(0), "{}", py.stderr);
    assert_eq!(
        py.stdout.matches("Block says: b'").count(),
        3,
        "{}",
        py.stdout
    );
}

/// Starts `tcplab blocks server`, sends it raw bytes, closes, and returns how it ended.
fn blocks_server_fed(raw: &[u8], max_frame: &str) -> Finished {
    let mut server = spawn(tcplab(&[
        "blocks",
        "server",
        "-p",
        "0",
        "--max-frame",
        max_frame,
    ]));
    let port: u16 = listening(&mut server).parse().unwrap();
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to tcplab");
    s.write_all(raw).expect("send raw bytes");
    drop(s);
    server.finish()
}

#[test]
fn blocks_server_refuses_an_oversized_block_in_one_line_with_exit_1() {
    let f = blocks_server_fed(&2000u32.to_be_bytes(), "1K");
    assert_eq!(f.code, Some(1));
    let line = one_error_line(&f);
    assert!(
        line.contains("2000") && line.contains("1024") && line.contains("--max-frame"),
        "{line}"
    );
}

#[test]
fn blocks_server_reports_a_cut_body_in_one_line_with_exit_1() {
    let mut raw = 30u32.to_be_bytes().to_vec();
    raw.extend_from_slice(b"twelve bytes");
    let f = blocks_server_fed(&raw, "1M");
    assert_eq!(f.code, Some(1));
    assert!(
        one_error_line(&f).contains("12 of 30 body bytes (18 missing)"),
        "{}",
        f.stderr
    );
}

#[test]
fn sixteen_server_reports_a_client_that_closes_after_5_bytes() {
    let mut server = spawn(tcplab(&["sixteen", "server", "-p", "0", "--once"]));
    let port: u16 = listening(&mut server).parse().unwrap();
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to tcplab");
    s.write_all(b"Hi th").expect("send 5 bytes");
    drop(s);
    let f = server.finish();
    assert_eq!(f.code, Some(1));
    assert!(
        one_error_line(&f).contains("socket closed after 5 of 16 bytes"),
        "{}",
        f.stderr
    );
}

#[test]
fn sixteen_client_without_a_server_is_refused_with_exit_1() {
    // A bound socket that never listens: nobody else can take the port, and a SYN gets a RST.
    let holder = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    holder
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    let port = holder
        .local_addr()
        .unwrap()
        .as_socket()
        .unwrap()
        .port()
        .to_string();
    let f = run(&["sixteen", "client", "-p", &port]);
    assert_eq!(f.code, Some(1));
    assert!(
        one_error_line(&f).contains("connection refused"),
        "{}",
        f.stderr
    );
}
