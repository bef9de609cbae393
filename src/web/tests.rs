//! The hub and the server without a browser: the viewer bound, a stalled viewer, the snapshot on
//! reconnect, the read-only answers, and the escaping of a recording inside the page.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::frame::{EndFrame, EventFrame, SampleFrame, TitleFrame};
use super::*;
use crate::result::{Event, EventKind};
use crate::timeline::TimelineRow;

const BOUND: Duration = Duration::from_secs(20);

fn start(hub: Arc<Hub>) -> Server {
    Server::start("127.0.0.1:0".parse().unwrap(), hub).expect("the server starts on a free port")
}

fn title(t: &str) -> Frame {
    Frame::Title(TitleFrame {
        mode: "deadlock".into(),
        title: t.into(),
    })
}

fn event(at_ms: u64) -> Frame {
    Frame::Event(EventFrame {
        conn: None,
        event: Event {
            at_ms,
            kind: EventKind::BothWindowsZero,
        },
        text: "both windows are zero".into(),
    })
}

fn sample(sent: u64, padding: usize) -> Frame {
    Frame::Sample(SampleFrame {
        conn: None,
        row: TimelineRow {
            client_sent_bytes: sent,
            ..TimelineRow::default()
        },
        windows: vec![],
        threads: vec![],
        app: vec!["x".repeat(padding)],
    })
}

fn end(code: u8) -> Frame {
    Frame::End(EndFrame {
        exit_code: Some(code),
        linger_ms: 0,
    })
}

/// A viewer of `/events`: the stream, read line by line.
struct Client {
    r: BufReader<TcpStream>,
}

impl Client {
    fn get(addr: SocketAddr, path: &str) -> Client {
        let mut s = TcpStream::connect(addr).expect("connect to the live view");
        s.set_read_timeout(Some(BOUND)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
        Client {
            r: BufReader::new(s),
        }
    }

    fn status(&mut self) -> u16 {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("a status line");
        line.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The next `data:` payload, parsed.
    fn next_data(&mut self) -> serde_json::Value {
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.r.read_line(&mut line).expect("the stream goes on");
            assert!(n > 0, "the stream ended before a frame");
            if let Some(d) = line.strip_prefix("data: ") {
                return serde_json::from_str(d.trim_end()).expect("a frame is JSON");
            }
        }
    }

    fn rest(mut self) -> String {
        let mut s = String::new();
        let _ = self.r.read_to_string(&mut s);
        s
    }
}

/// Waits until `cond` holds, failing with `what` after `BOUND`.
fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + BOUND;
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_viewer_that_connects_late_gets_the_state_so_far_and_again_when_it_reconnects() {
    let hub = Hub::new(hub::MAX_VIEWERS);
    let server = start(Arc::clone(&hub));
    hub.publish(&title("the demo"));
    hub.publish(&event(10));
    hub.publish(&sample(100, 0));
    hub.publish(&sample(200, 0));
    let mut first = Client::get(server.addr(), "/events");
    assert_eq!(first.status(), 200);
    let snap = first.next_data();
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(snap["title"]["title"], "the demo");
    assert_eq!(snap["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        snap["sample"]["row"]["client_sent_bytes"], 200,
        "the latest sample"
    );
    // Live frames follow the snapshot.
    hub.publish(&event(20));
    assert_eq!(first.next_data()["event"]["at_ms"], 20);
    drop(first);
    hub.publish(&event(30));
    hub.publish(&end(3));
    let mut again = Client::get(server.addr(), "/events");
    assert_eq!(again.status(), 200);
    let snap = again.next_data();
    let times: Vec<u64> = snap["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times, [10, 20, 30]);
    assert_eq!(snap["end"]["exit_code"], 3);
    server.close();
    assert_eq!(hub.join().err(), Some(hub::Refused::Closed));
}

#[test]
fn the_viewer_over_the_bound_gets_503_with_one_line() {
    let hub = Hub::new(hub::MAX_VIEWERS);
    let server = start(Arc::clone(&hub));
    hub.publish(&title("full house"));
    let mut viewers: Vec<Client> = (0..hub::MAX_VIEWERS)
        .map(|_| Client::get(server.addr(), "/events"))
        .collect();
    for v in &mut viewers {
        assert_eq!(v.status(), 200);
        assert_eq!(v.next_data()["type"], "snapshot");
    }
    assert_eq!(hub.viewers(), 64);
    let mut over = Client::get(server.addr(), "/events");
    assert_eq!(over.status(), 503, "the 65th viewer");
    let text = over.rest();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    assert_eq!(body.lines().count(), 1, "{body:?}");
    assert!(
        body.starts_with("tcplab: 64 viewers are already watching"),
        "{body:?}"
    );
    // One leaves: a place is free again.
    drop(viewers.pop());
    until("the hub to count a viewer that left", || hub.viewers() < 64);
    let mut next = Client::get(server.addr(), "/events");
    assert_eq!(next.status(), 200);
    assert_eq!(next.next_data()["type"], "snapshot");
}

#[test]
fn a_stalled_viewer_has_its_frames_dropped_and_never_holds_up_the_run() {
    let hub = Hub::with_queue(hub::MAX_VIEWERS, 8);
    let server = start(Arc::clone(&hub));
    // A viewer that asks for the stream and never reads it, with a small receive buffer so that
    // the server's write to it blocks soon.
    let stalled = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    stalled.set_recv_buffer_size(4096).unwrap();
    stalled.connect(&server.addr().into()).unwrap();
    let mut stalled: TcpStream = stalled.into();
    write!(stalled, "GET /events HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    until("the stalled viewer to join", || hub.viewers() == 1);
    let mut healthy = Client::get(server.addr(), "/events");
    assert_eq!(healthy.status(), 200);
    until("the healthy viewer to join", || hub.viewers() == 2);
    // The run: frames of a few KiB each, published from another thread, until the stalled
    // viewer's queue has overflowed (bounded in count).
    let publisher = {
        let hub = Arc::clone(&hub);
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            let mut n = 0u64;
            while hub.dropped() == 0 && n < 100_000 {
                let t = Instant::now();
                hub.publish(&sample(n, 4096));
                slowest = slowest.max(t.elapsed());
                n += 1;
            }
            hub.publish(&end(42));
            (n, slowest)
        })
    };
    let deadline = Instant::now() + BOUND;
    while !publisher.is_finished() {
        assert!(
            Instant::now() < deadline,
            "publishing did not finish: a stalled viewer held up the run"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (n, slowest) = publisher.join().unwrap();
    assert!(
        hub.dropped() > 0,
        "the stalled viewer's queue never filled ({n} frames)"
    );
    // No publish waited on a socket (a blocked write would have taken STALLED_FOR).
    assert!(
        slowest < Duration::from_secs(2),
        "the slowest publish took {slowest:?}"
    );
    // The healthy viewer keeps up: it gets the end, live or in a fresh snapshot.
    let got_end = (0..200_000).any(|_| {
        let f = healthy.next_data();
        f["exit_code"] == 42 || f["end"]["exit_code"] == 42
    });
    assert!(got_end, "the healthy viewer never saw the end");
    drop(stalled);
}

#[test]
fn only_get_is_answered_and_unknown_paths_are_404() {
    let hub = Hub::new(4);
    let server = start(hub);
    let mut s = TcpStream::connect(server.addr()).unwrap();
    s.set_read_timeout(Some(BOUND)).unwrap();
    write!(
        s,
        "POST /events HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 405"), "{text}");
    assert!(text.contains("read-only"), "{text}");
    let mut page = Client::get(server.addr(), "/");
    assert_eq!(page.status(), 200);
    let mut missing = Client::get(server.addr(), "/etc/passwd");
    assert_eq!(missing.status(), 404);
}

#[test]
fn a_recording_inside_the_page_cannot_end_its_script_block() {
    assert!(
        page::PAGE.contains(r#"<script type="application/json" id="recording"></script>"#),
        "the page keeps the block a recording goes into"
    );
    let hostile = "</script><script>alert(1)</script><!-- & \u{2028}";
    let frames = vec![title(hostile), sample(7, 0)];
    let html = page::standalone(&frames);
    let open = r#"<script type="application/json" id="recording">"#;
    let start = html.find(open).expect("the recording block") + open.len();
    let len = html[start..].find("</script>").expect("its end");
    let block = &html[start..start + len];
    assert!(!block.contains('<') && !block.contains('>') && !block.contains('&'));
    // The first `</script>` after the block's start is the block's own end: the data stayed in.
    let back: Vec<serde_json::Value> = serde_json::from_str(block).expect("the block is JSON");
    assert_eq!(back[0]["title"], hostile);
    assert_eq!(back[1]["row"]["client_sent_bytes"], 7);
    assert!(!html.contains("<script>alert"), "only escaped forms of it");
}

#[test]
fn a_bare_port_is_served_on_loopback_and_an_address_as_given() {
    assert_eq!(parse_addr("8080").unwrap().to_string(), "127.0.0.1:8080");
    assert_eq!(parse_addr("0").unwrap().to_string(), "127.0.0.1:0");
    assert_eq!(parse_addr("0.0.0.0:80").unwrap().to_string(), "0.0.0.0:80");
    assert_eq!(parse_addr("[::1]:8080").unwrap().to_string(), "[::1]:8080");
    for bad in ["http://localhost:8080", "localhost", "70000", ""] {
        assert!(parse_addr(bad).is_err(), "{bad:?}");
    }
}
