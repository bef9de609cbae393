//! Tests of the sock_diag side: the filter, `decode` on a reply captured from a real kernel
//! (`tests/data/sock_diag/`), and live dumps of loopback pairs this test process owns.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use netlink_packet_core::{NLMSG_DONE, NetlinkBuffer};

use super::*;
use crate::tcpinfo::field;

/// Every wait on the kernel in these tests ends by then.
const DEADLINE: Duration = Duration::from_secs(5);

/// Bytes each side of the captured pair wrote and the other never read.
const CLIENT_WROTE: u32 = 1000;
const SERVER_WROTE: u32 = 300;
/// Bytes the IPv6 client of the capture wrote before `shutdown(SHUT_WR)`.
const V6_CLIENT_WROTE: u32 = 500;
/// The accept-queue limit the capture's listeners ask for in `listen()`.
const CAPTURE_BACKLOG: i32 = 7;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sock_diag")
}

fn own_inode(fd: i32) -> u64 {
    let link = fs::read_link(format!("/proc/self/fd/{fd}")).expect("own fd link");
    link.to_str()
        .and_then(|l| l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .expect("a socket link")
}

fn listen(at: &str, backlog: i32) -> TcpListener {
    let at = addr(at);
    let s = socket2::Socket::new(
        socket2::Domain::for_address(at),
        socket2::Type::STREAM,
        None,
    )
    .expect("socket");
    s.bind(&at.into()).expect("bind");
    s.listen(backlog).expect("listen");
    s.into()
}

/// Dumps sockets on `port` until `done` holds for the dump, or fails saying what never happened.
fn dump_until(
    diag: &mut Diag,
    port: u16,
    what: &str,
    done: impl Fn(&[DiagSocket]) -> bool,
) -> Vec<DiagSocket> {
    let start = Instant::now();
    loop {
        let sockets = diag.dump(&Filter::port(port)).expect("dump");
        if done(&sockets) {
            return sockets;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{what} never happened; last dump: {sockets:#?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn find(sockets: &[DiagSocket], local: SocketAddr) -> &DiagSocket {
    sockets
        .iter()
        .find(|s| s.local == local && s.state != TcpState::Listen)
        .unwrap_or_else(|| panic!("no socket at {local} in {sockets:#?}"))
}

#[test]
fn a_port_filter_matches_either_end() {
    let f = Filter::port(1060);
    assert!(f.matches(&addr("127.0.0.1:1060"), &addr("127.0.0.1:40000"), 1));
    assert!(f.matches(&addr("127.0.0.1:40000"), &addr("127.0.0.1:1060"), 1));
    assert!(!f.matches(&addr("127.0.0.1:40000"), &addr("127.0.0.1:40001"), 1));
}

#[test]
fn an_ipv4_host_matches_its_mapped_ipv6_form() {
    let f = Filter {
        host: Some("127.0.0.1".parse().expect("ip")),
        ..Filter::default()
    };
    assert!(f.matches(&addr("[::ffff:127.0.0.1]:1060"), &addr("[::1]:5"), 1));
    assert!(!f.matches(&addr("[::1]:1060"), &addr("[::1]:5"), 1));
}

#[test]
fn every_condition_set_must_hold() {
    let f = Filter {
        port: Some(1060),
        inodes: Some(HashSet::from([7])),
        ..Filter::default()
    };
    assert!(f.matches(&addr("127.0.0.1:1060"), &addr("127.0.0.1:9"), 7));
    assert!(!f.matches(&addr("127.0.0.1:1060"), &addr("127.0.0.1:9"), 8));
}

#[test]
fn kernel_state_numbers_map_to_names() {
    assert_eq!(TcpState::from_kernel(1), TcpState::Established);
    assert_eq!(TcpState::from_kernel(10), TcpState::Listen);
    assert_eq!(TcpState::from_kernel(99), TcpState::Other(99));
}

/// What the capture knew about its own sockets, stored beside the reply bytes.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Capture {
    kernel: String,
    listener: SocketAddr,
    client: SocketAddr,
    server: SocketAddr,
    listener_inode: u64,
    client_inode: u64,
    server_inode: u64,
    v6_listener: SocketAddr,
    v6_client: SocketAddr,
    v6_server: SocketAddr,
}

/// Keeps only the messages of `raw` that describe sockets `filter` matches, and the
/// `NLMSG_DONE`s, so the committed capture holds no other program's sockets.
fn keep_only(raw: &[u8], filter: &Filter) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < raw.len() {
        let msg = NetlinkBuffer::new_checked(&raw[offset..]).expect("well-formed capture");
        let len = (msg.length() as usize)
            .next_multiple_of(4)
            .min(raw.len() - offset);
        let bytes = &raw[offset..offset + len];
        let keep = msg.message_type() == NLMSG_DONE
            || !decode_filtered(bytes, filter)
                .expect("decodable")
                .is_empty();
        if keep {
            out.extend_from_slice(bytes);
        }
        offset += len;
    }
    out
}

/// Writes `tests/data/sock_diag/loopback.{bin,json}`: an IPv4 pair with unread bytes both ways
/// and an IPv6 pair whose client wrote and then shut down its sending side, as the kernel
/// reports them. Run by hand: `cargo test --lib capture_loopback_reply -- --ignored`.
#[test]
#[ignore = "writes the committed capture; run by hand"]
fn capture_loopback_reply() {
    let listener = listen("127.0.0.1:0", CAPTURE_BACKLOG);
    let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (mut server, _) = listener.accept().expect("accept");
    client
        .write_all(&[b'a'; CLIENT_WROTE as usize])
        .expect("client write");
    server
        .write_all(&[b'B'; SERVER_WROTE as usize])
        .expect("server write");

    let v6_listener = listen("[::1]:0", CAPTURE_BACKLOG);
    let mut v6_client =
        TcpStream::connect(v6_listener.local_addr().expect("addr")).expect("connect");
    let (v6_server, _) = v6_listener.accept().expect("accept");
    v6_client
        .write_all(&[b'c'; V6_CLIENT_WROTE as usize])
        .expect("v6 write");
    v6_client.shutdown(Shutdown::Write).expect("shutdown");

    let ports = [listener.local_addr(), v6_listener.local_addr()].map(|a| a.expect("addr").port());
    let mut diag = Diag::new().expect("netlink socket");
    dump_until(&mut diag, ports[0], "every byte acknowledged", |s| {
        s.iter()
            .filter(|s| s.state == TcpState::Established)
            .all(|s| s.send_q == 0)
            && s.iter().map(|s| s.recv_q).sum::<u32>() == CLIENT_WROTE + SERVER_WROTE
    });
    dump_until(&mut diag, ports[1], "the FIN acknowledged", |s| {
        s.iter().any(|s| s.state == TcpState::FinWait2)
    });
    let raw = diag.dump_raw().expect("dump");
    let ours = keep_only(&raw, &Filter::port(ports[0]))
        .into_iter()
        .chain(keep_only(&raw, &Filter::port(ports[1])))
        .collect::<Vec<u8>>();
    let capture = Capture {
        kernel: kernel_version(),
        listener: listener.local_addr().expect("addr"),
        client: client.local_addr().expect("addr"),
        server: server.local_addr().expect("addr"),
        listener_inode: own_inode(listener.as_raw_fd()),
        client_inode: own_inode(client.as_raw_fd()),
        server_inode: own_inode(server.as_raw_fd()),
        v6_listener: v6_listener.local_addr().expect("addr"),
        v6_client: v6_client.local_addr().expect("addr"),
        v6_server: v6_server.local_addr().expect("addr"),
    };
    fs::create_dir_all(data_dir()).expect("data dir");
    fs::write(data_dir().join("loopback.bin"), &ours).expect("write capture");
    let json = serde_json::to_string_pretty(&capture).expect("json") + "\n";
    fs::write(data_dir().join("loopback.json"), json).expect("write facts");
}

/// `6.18.44` from `6.18.44-some-build-tag`: the version, not the machine's build name.
fn kernel_version() -> String {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    release
        .trim()
        .split('-')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn captured() -> (Vec<u8>, Capture) {
    let raw = fs::read(data_dir().join("loopback.bin")).expect("committed capture");
    let json = fs::read_to_string(data_dir().join("loopback.json")).expect("committed facts");
    (raw, serde_json::from_str(&json).expect("facts parse"))
}

// The capture is in the byte order of the machine that made it (x86_64).
#[cfg(target_endian = "little")]
#[test]
fn a_captured_reply_decodes_to_the_loopback_pairs() {
    let (raw, facts) = captured();
    let sockets = decode(&raw).expect("capture decodes");

    let listener = sockets
        .iter()
        .find(|s| s.local == facts.listener && s.state == TcpState::Listen)
        .expect("listener in capture");
    assert_eq!(listener.inode, facts.listener_inode);
    assert_eq!(
        (listener.recv_q, listener.send_q),
        (0, CAPTURE_BACKLOG as u32),
        "LISTEN: accept queue, backlog"
    );

    let client = find(&sockets, facts.client);
    let server = find(&sockets, facts.server);
    assert_eq!(
        (client.remote, server.remote),
        (facts.listener, facts.client)
    );
    assert_eq!(
        (client.inode, server.inode),
        (facts.client_inode, facts.server_inode)
    );
    assert_eq!(
        (client.state, client.timer.kind),
        (TcpState::Established, TimerKind::None)
    );
    assert_eq!((client.recv_q, client.send_q), (SERVER_WROTE, 0));
    assert_eq!((server.recv_q, server.send_q), (CLIENT_WROTE, 0));
    assert_eq!(client.shutdown, Some(0));

    let ci = client.tcp_info.as_ref().expect("client tcp_info");
    let si = server.tcp_info.as_ref().expect("server tcp_info");
    assert_eq!((ci.state, si.state), (1, 1), "ESTABLISHED in tcp_info too");
    assert!(
        ci.has(field::RCV_WND) && si.has(field::RCV_WND),
        "kernel {} sends rcv_wnd",
        facts.kernel
    );
    assert_eq!(
        (ci.snd_wscale, ci.rcv_wscale),
        (si.rcv_wscale, si.snd_wscale),
        "each side's send scale is the other's receive scale"
    );
    // The active opener's bytes_acked counts its SYN; the passive side's does not.
    assert_eq!(ci.bytes_acked, u64::from(CLIENT_WROTE) + 1);
    assert_eq!(si.bytes_acked, u64::from(SERVER_WROTE));
    assert_eq!(
        (ci.bytes_received, si.bytes_received),
        (u64::from(SERVER_WROTE), u64::from(CLIENT_WROTE))
    );
    assert_eq!(
        (ci.bytes_sent, si.bytes_sent),
        (u64::from(CLIENT_WROTE), u64::from(SERVER_WROTE))
    );
    let skmem = client.skmem.expect("client skmem");
    assert!(
        skmem.rmem_alloc > 0 && skmem.rcvbuf > 0 && skmem.sndbuf > 0,
        "{skmem:?}"
    );

    // After SHUT_WR the client waits in FIN_WAIT2; the server has the FIN queued behind the data.
    let v6_client = find(&sockets, facts.v6_client);
    let v6_server = find(&sockets, facts.v6_server);
    assert_eq!(v6_client.remote, facts.v6_listener);
    assert_eq!(v6_client.state, TcpState::FinWait2);
    assert_eq!(v6_client.shutdown, Some(2), "SEND_SHUTDOWN");
    assert_eq!(v6_server.state, TcpState::CloseWait);
    assert_eq!(v6_server.shutdown, Some(1), "RCV_SHUTDOWN");
    let v6ci = v6_client.tcp_info.as_ref().expect("tcp_info");
    let v6si = v6_server.tcp_info.as_ref().expect("tcp_info");
    assert_eq!(
        v6ci.bytes_acked,
        u64::from(V6_CLIENT_WROTE) + 2,
        "SYN and FIN acknowledged"
    );
    assert_eq!(
        v6si.bytes_received,
        u64::from(V6_CLIENT_WROTE) + 1,
        "the FIN counts one"
    );
    assert_eq!(
        v6_server.recv_q,
        V6_CLIENT_WROTE + 1,
        "Recv-Q counts the unread FIN"
    );
    assert_eq!(v6_client.send_q, 0);
}

#[test]
fn every_prefix_of_a_reply_decodes_or_fails_without_panicking() {
    let (raw, _) = captured();
    for cut in 0..raw.len() {
        let _ = decode(&raw[..cut]);
    }
    assert!(matches!(
        decode(&raw[..raw.len() - 7]),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn an_nlmsg_error_reply_is_the_kernels_errno() {
    let mut msg = Vec::new();
    msg.extend_from_slice(&36u32.to_ne_bytes()); // length: header, code, echoed header
    msg.extend_from_slice(&2u16.to_ne_bytes()); // NLMSG_ERROR
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&(-libc::EPERM).to_ne_bytes());
    msg.extend_from_slice(&[0u8; 16]);
    assert_eq!(
        decode(&msg),
        Err(DecodeError::Kernel { errno: libc::EPERM })
    );
}

#[test]
fn a_live_pair_shows_unread_bytes_in_the_receivers_recv_q() {
    const N: u32 = 4096;
    let listener = listen("127.0.0.1:0", 4);
    let port = listener.local_addr().expect("addr").port();
    let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.write_all(&[b'x'; N as usize]).expect("write");

    let mut diag = Diag::new().expect("netlink socket");
    let server_at = server.local_addr().expect("addr");
    let sockets = dump_until(&mut diag, port, "the server's Recv-Q reaching N", |s| {
        s.iter()
            .any(|s| s.local == server_at && s.state == TcpState::Established && s.recv_q == N)
    });
    let srv = find(&sockets, server_at);
    let cli = find(&sockets, client.local_addr().expect("addr"));
    assert_eq!(srv.inode, own_inode(server.as_raw_fd()));
    assert_eq!(cli.inode, own_inode(client.as_raw_fd()));
    let si = srv.tcp_info.as_ref().expect("tcp_info");
    assert_eq!(si.bytes_received, u64::from(N));
    // Acknowledgement can trail arrival by a moment: wait for the client's queue to drain.
    let sockets = dump_until(&mut diag, port, "the client's Send-Q draining", |s| {
        s.iter().any(|s| s.inode == cli.inode && s.send_q == 0)
    });
    let ci = find(&sockets, cli.local)
        .tcp_info
        .clone()
        .expect("tcp_info");
    assert_eq!(ci.bytes_acked, u64::from(N) + 1, "N bytes and the SYN");
    assert_eq!(ci.notsent_bytes, 0);
    assert_eq!(srv.uid, own_uid());
}

/// This process's uid, as the owner of `/proc/self`.
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").expect("proc self").uid()
}

#[test]
fn a_listener_shows_its_accept_queue_in_recv_q_and_its_backlog_in_send_q() {
    let listener = listen("127.0.0.1:0", 5);
    let at = listener.local_addr().expect("addr");
    let _waiting = [
        TcpStream::connect(at).expect("connect"),
        TcpStream::connect(at).expect("connect"),
    ];
    let mut diag = Diag::new().expect("netlink socket");
    let sockets = dump_until(
        &mut diag,
        at.port(),
        "two connections in the accept queue",
        |s| {
            s.iter()
                .any(|s| s.state == TcpState::Listen && s.recv_q == 2)
        },
    );
    let l = sockets
        .iter()
        .find(|s| s.state == TcpState::Listen)
        .expect("listener");
    assert_eq!(l.send_q, 5);
    assert_eq!(l.remote.port(), 0);
}

#[test]
fn one_diag_serves_many_dumps_and_an_inode_filter_narrows_them() {
    let listener = listen("[::1]:0", 4);
    let at = listener.local_addr().expect("addr");
    let client = TcpStream::connect(at).expect("connect");
    let inode = own_inode(client.as_raw_fd());
    let only_client = Filter {
        inodes: Some(HashSet::from([inode])),
        ..Filter::default()
    };
    let mut diag = Diag::new().expect("netlink socket");
    for _ in 0..20 {
        let sockets = diag.dump(&only_client).expect("dump");
        assert_eq!(sockets.len(), 1, "{sockets:#?}");
        assert_eq!(sockets[0].local, client.local_addr().expect("addr"));
        assert_eq!(sockets[0].remote, at);
    }
    assert_eq!(
        dump(&Filter::port(at.port())).expect("one-off dump").len(),
        3,
        "listener, client, server"
    );
}

#[test]
fn an_exact_lookup_finds_a_known_socket_and_nothing_else() {
    let listener = listen("127.0.0.1:0", 4);
    let at = listener.local_addr().expect("addr");
    let mut client = TcpStream::connect(at).expect("connect");
    let (_server, _) = listener.accept().expect("accept");
    client.write_all(b"sixteen bytes!!!").expect("write");
    let local = client.local_addr().expect("addr");
    let mut diag = Diag::new().expect("netlink socket");
    let dumped = find(&diag.dump(&Filter::port(at.port())).expect("dump"), local).clone();

    let found = diag
        .lookup(local, at, None)
        .expect("lookup")
        .expect("the client socket");
    assert_eq!((found.inode, found.cookie), (dumped.inode, dumped.cookie));
    assert!(found.tcp_info.is_some() && found.skmem.is_some());
    let same = diag.lookup(local, at, Some(dumped.cookie)).expect("lookup");
    assert_eq!(same.map(|s| s.inode), Some(dumped.inode));

    let stale = diag
        .lookup(local, at, Some(dumped.cookie ^ 1))
        .expect("lookup");
    assert_eq!(stale, None, "another cookie is another socket");
    let nobody = SocketAddr::new(at.ip(), 1);
    assert_eq!(diag.lookup(local, nobody, None).expect("lookup"), None);
    // The socket is still usable for dumps after the refusals.
    assert_eq!(diag.dump(&Filter::port(at.port())).expect("dump").len(), 3);
}

#[test]
fn a_closed_connection_is_reported_with_its_final_counters_when_destroyed() {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};
    let mut listener = match super::Destroyed::listen() {
        Ok(l) => l,
        // Subscribing needs CAP_NET_ADMIN; tcplab then says what it may miss.
        Err(e) if !rustix::process::geteuid().is_root() => {
            assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
            return;
        }
        Err(e) => panic!("root could not subscribe: {e}"),
    };
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut s, _) = l.accept().unwrap();
    let client = c.local_addr().unwrap();
    c.write_all(&[7u8; 5000]).unwrap();
    let mut buf = [0u8; 5000];
    s.read_exact(&mut buf).unwrap();
    // The server closes with nothing unread, the client with 3 bytes unread: a reset.
    s.write_all(b"abc").unwrap();
    drop(s);
    // Wait until the 3 bytes are in the client's queue (peek leaves them there).
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut three = [0u8; 3];
    assert_eq!(c.peek(&mut three).unwrap(), 3);
    drop(c);
    let until = Instant::now() + Duration::from_secs(10);
    let filter = Filter::port(client.port());
    let mut seen = Vec::new();
    while seen.len() < 2 && Instant::now() < until {
        seen.extend(listener.drain(&filter).unwrap());
        std::thread::sleep(Duration::from_millis(10)); // bounded wait for the kernel's messages
    }
    let mine = seen
        .iter()
        .find(|d| d.local == client)
        .unwrap_or_else(|| panic!("the client's end was not reported: {seen:?}"));
    let info = mine.tcp_info.as_ref().expect("tcp_info at destroy");
    assert_eq!(info.bytes_acked, 5001, "SYN and 5000 bytes acknowledged");
    assert!(
        mine.recv_q >= 3,
        "it closed with the 3 bytes unread: {mine:?}"
    );
}

#[test]
fn every_state_is_named_as_in_tcp_states_h() {
    let names: Vec<&str> = (1..=13).map(|n| TcpState::from_kernel(n).into()).collect();
    assert_eq!(
        names,
        [
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT1",
            "FIN_WAIT2",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "CLOSING",
            "NEW_SYN_RECV",
            "UNKNOWN"
        ]
    );
}
