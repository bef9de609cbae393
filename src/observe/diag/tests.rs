//! Pairing ends, the app counters from the kernel's, and a live pair sampled from outside.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::*;
use crate::diag::{SkMem, Timer};
use crate::observe::Sampler;
use crate::sample::Call;
use crate::tcpinfo::TcpInfo;

fn sock(local: &str, remote: &str, state: TcpState, recv_q: u32, send_q: u32) -> DiagSocket {
    DiagSocket {
        local: local.parse().unwrap(),
        remote: remote.parse().unwrap(),
        state,
        timer: Timer {
            kind: TimerKind::None,
            expires_ms: 0,
            retransmits: 0,
        },
        recv_q,
        send_q,
        inode: 1,
        uid: 0,
        cookie: 0,
        tcp_info: None,
        skmem: Some(SkMem::default()),
        shutdown: None,
    }
}

fn with_counters(mut s: DiagSocket, acked: u64, received: u64) -> DiagSocket {
    s.tcp_info = Some(TcpInfo {
        len: 280,
        bytes_acked: acked,
        bytes_received: received,
        ..TcpInfo::default()
    });
    s
}

#[test]
fn the_two_ends_of_a_loopback_connection_pair_up_with_the_server_end_named() {
    use TcpState::*;
    let sockets = [
        sock("127.0.0.1:1060", "0.0.0.0:0", Listen, 0, 128),
        sock("127.0.0.1:1060", "127.0.0.1:40000", Established, 0, 0),
        sock("127.0.0.1:40000", "127.0.0.1:1060", Established, 0, 0),
        // A client whose server is on another host.
        sock("127.0.0.1:40001", "10.0.0.9:1060", Established, 0, 0),
    ];
    let keys = pair(&sockets, |s| s.local.port() == 1060);
    assert_eq!(keys.len(), 2);
    let paired = keys.iter().find(|k| k.server.is_some()).unwrap();
    assert_eq!(paired.server.unwrap().local.port(), 1060);
    assert_eq!(paired.client.unwrap().local.port(), 40000);
    let alone = keys.iter().find(|k| k.server.is_none()).unwrap();
    assert_eq!(alone.client.unwrap().remote.to_string(), "10.0.0.9:1060");
}

/// Mid-handshake the server's end is a request socket; once accepted it is a socket of its own,
/// with another cookie. A second look pairs the same addresses with the new end: the connection
/// seen again, never a second one.
#[test]
fn a_connection_seen_again_takes_its_new_ends_and_keeps_the_ones_out_of_sight() {
    use TcpState::*;
    let mut request = sock("127.0.0.1:1060", "127.0.0.1:40000", SynRecv, 0, 0);
    request.cookie = 7;
    let mut accepted = sock("127.0.0.1:1060", "127.0.0.1:40000", Established, 0, 0);
    accepted.cookie = 8;
    let mut client = sock("127.0.0.1:40000", "127.0.0.1:1060", Established, 0, 0);
    client.cookie = 9;
    let server_port = |s: &DiagSocket| s.local.port() == 1060;
    let first = pair(&[request, client.clone()], server_port)[0];
    let second = pair(&[accepted, client.clone()], server_port)[0];
    assert_ne!(first, second, "the cookies differ");
    assert_eq!(first.addrs(), second.addrs());
    let now = first.seen_again(second);
    assert_eq!(
        (now.server.unwrap().cookie, now.client.unwrap().cookie),
        (8, 9)
    );
    // A look that shows only one end keeps the other as it was known.
    let half = pair(&[client], server_port)[0];
    assert_eq!(now.seen_again(half), now);
}

#[test]
fn app_counters_come_from_the_kernels_counters_syn_and_fin_taken_off() {
    use TcpState::*;
    // Mid-transfer: the client wrote 9000 (acked 5001 with the SYN, 4000 queued); the server read
    // 4000 (received 5000, 1000 unread) and wrote 3000 (acked 2000, 1000 queued).
    let client = with_counters(
        sock("127.0.0.1:40000", "127.0.0.1:1060", Established, 500, 4000),
        5001,
        2500,
    );
    let server = with_counters(
        sock("127.0.0.1:1060", "127.0.0.1:40000", Established, 1000, 1000),
        2000,
        5000,
    );
    let c = app_counts(Some(&client), Some(&server));
    assert_eq!(
        (
            c.client_sent_bytes,
            c.server_received_bytes,
            c.server_sent_bytes,
            c.client_received_bytes
        ),
        (9000, 4000, 3000, 2000)
    );
    // After the client's shutdown(SHUT_WR): its FIN was acknowledged (+1), the server got it (+1)
    // and read everything before it.
    let client = with_counters(
        sock("127.0.0.1:40000", "127.0.0.1:1060", FinWait2, 0, 0),
        1002,
        1000,
    );
    let server = with_counters(
        sock("127.0.0.1:1060", "127.0.0.1:40000", CloseWait, 0, 0),
        1000,
        1001,
    );
    let c = app_counts(Some(&client), Some(&server));
    assert_eq!((c.client_sent_bytes, c.server_received_bytes), (1000, 1000));
}

#[test]
fn final_reports_in_state_close_take_off_the_fins_the_close_exchanged() {
    use TcpState::*;
    // A clean close after 1000 bytes each way: each end's FIN was acknowledged (+1 in
    // bytes_acked) and received (+1 in bytes_received), and nothing waits unread.
    let client = with_counters(
        sock("127.0.0.1:40000", "127.0.0.1:1060", Close, 0, 0),
        1002,
        1001,
    );
    let server = with_counters(
        sock("127.0.0.1:1060", "127.0.0.1:40000", Close, 0, 0),
        1001,
        1001,
    );
    let c = final_counts(&client, &server, [true, true]);
    assert_eq!(
        (
            c.client_sent_bytes,
            c.server_received_bytes,
            c.server_sent_bytes,
            c.client_received_bytes
        ),
        (1000, 1000, 1000, 1000)
    );
    // The server reset with 200 bytes unread after the client's FIN came: no FIN of its own.
    let server = with_counters(
        sock("127.0.0.1:1060", "127.0.0.1:40000", Close, 201, 0),
        800,
        1001,
    );
    let client = with_counters(
        sock("127.0.0.1:40000", "127.0.0.1:1060", Close, 0, 0),
        1002,
        800,
    );
    let c = final_counts(&client, &server, [true, false]);
    assert_eq!(
        (
            c.client_sent_bytes,
            c.server_received_bytes,
            c.server_sent_bytes,
            c.client_received_bytes
        ),
        (1000, 800, 800, 800)
    );
}

#[test]
fn a_live_pair_sampled_from_outside_shows_its_unread_bytes_and_its_threads() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(&[b'x'; 3000]).unwrap();
    let mut src = DiagSource::new().expect("sock_diag is available");
    let port = addr.port();
    let until = Instant::now() + Duration::from_secs(10);
    let key = loop {
        let socks = src.dump(&Filter::port(port)).unwrap();
        let keys = pair(&socks, |s| s.local.port() == port);
        let found = keys
            .into_iter()
            .find(|k| k.client.is_some() && k.server.is_some());
        if let Some(k) = found {
            break k;
        }
        assert!(Instant::now() < until, "the pair never showed up in a dump");
    };
    let s = src.sampler(key).sample(Duration::ZERO);
    let sq = s.server.as_ref().expect("the server end");
    assert_eq!(sq.inq_bytes, 3000, "{s:?}");
    assert_eq!(s.counts.client_sent_bytes, 3000);
    assert_eq!(s.counts.server_received_bytes, 0);
    // This process holds both sockets: its threads are listed, each once.
    assert!(!s.threads.is_empty());
    let mut tids: Vec<_> = s.threads.iter().map(|t| t.tid).collect();
    tids.dedup();
    assert_eq!(tids.len(), s.threads.len());
    let mut buf = [0u8; 3000];
    server.read_exact(&mut buf).unwrap();
    let s = src.sampler(key).sample(Duration::from_millis(10));
    assert_eq!(s.counts.server_received_bytes, 3000);
}

#[test]
fn a_fresh_look_reads_threads_the_cache_would_show_as_they_were() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (end_tx, end_rx) = std::sync::mpsc::channel::<()>();
    // A reader: in recv() until a byte comes, then in a timed wait until told to end.
    let reader = std::thread::spawn(move || {
        tid_tx
            .send(crate::sys::probe::current_tid() as u32)
            .unwrap();
        let mut b = [0u8; 1];
        server.read_exact(&mut b).unwrap();
        let _ = end_rx.recv_timeout(Duration::from_secs(30));
    });
    let tid = tid_rx.recv().unwrap();
    let mut src = DiagSource::new()
        .expect("sock_diag is available")
        .threads_every(Duration::from_secs(60));
    let port = addr.port();
    let key = loop {
        let socks = src.dump(&Filter::port(port)).unwrap();
        if let Some(k) = pair(&socks, |s| s.local.port() == port)
            .into_iter()
            .find(|k| k.client.is_some() && k.server.is_some())
        {
            break k;
        }
    };
    let call = |src: &mut DiagSource, fresh: bool| {
        let s = src.sampler(key).fresh_threads(fresh).sample(Duration::ZERO);
        s.threads
            .iter()
            .find(|t| t.tid == Some(tid))
            .and_then(|t| t.call)
    };
    let until = Instant::now() + Duration::from_secs(10);
    while call(&mut src, true) != Some(Call::Recv) {
        assert!(Instant::now() < until, "the reader never showed in recv()");
    }
    client.write_all(b"x").unwrap();
    // A second source tells when the reader has left recv(), leaving the first one's cache be.
    let mut other = DiagSource::new().expect("sock_diag is available");
    let until = Instant::now() + Duration::from_secs(10);
    while call(&mut other, true) == Some(Call::Recv) {
        assert!(Instant::now() < until, "the reader never left recv()");
    }
    assert_eq!(
        call(&mut src, false),
        Some(Call::Recv),
        "the cache is a minute old at most"
    );
    assert_ne!(call(&mut src, true), Some(Call::Recv));
    end_tx.send(()).unwrap();
    reader.join().unwrap();
}
