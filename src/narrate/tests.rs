//! The narrator on synthetic timelines: a deadlock building up in the order the kernel shows it,
//! a fix in its steady state, and a crawl.

use std::time::Duration;

use super::*;
use crate::sample::test_thread as thread;
use crate::sample::{Counts, KernelQueues, Phase, Role, TcpInfoView, ThreadView};

fn q(inq: u64, notsent: u64, peer_wnd: u64) -> KernelQueues {
    KernelQueues {
        inq_bytes: inq,
        outq_bytes: notsent,
        notsent_bytes: notsent,
        sndbuf_bytes: 131072,
        rcvbuf_bytes: 131072,
        tcp_info: Some(TcpInfoView {
            snd_wnd_bytes: Some(peer_wnd),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One step of a timeline: the client's and the server's queues and calls.
struct Step {
    ms: u64,
    sent: u64,
    read: u64,
    client: KernelQueues,
    server: KernelQueues,
    client_call: Call,
    server_call: Call,
}

fn sample(st: &Step, reader: Option<ThreadView>) -> Sample {
    let mut threads = vec![
        thread(
            Side::Client,
            Role::Sender,
            Phase::Sending,
            Some(st.client_call),
        ),
        thread(
            Side::Server,
            Role::Server,
            Phase::Sending,
            Some(st.server_call),
        ),
    ];
    threads.extend(reader);
    Sample {
        at: Duration::from_millis(st.ms),
        counts: Counts {
            client_sent_bytes: st.sent,
            server_received_bytes: st.read,
            server_sent_bytes: st.read,
            ..Default::default()
        },
        client: Some(st.client.clone()),
        server: Some(st.server.clone()),
        threads,
    }
}

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_deadlock_is_narrated_in_the_order_the_buffers_fill() {
    use Call::{Running, Send};
    let w = 65536;
    let steps = [
        // Bytes flow; no echo yet.
        Step {
            ms: 10,
            sent: 10_000,
            read: 9_000,
            client: q(0, 1_000, w),
            server: q(1_000, 0, w),
            client_call: Running,
            server_call: Running,
        },
        // The echo arrives.
        Step {
            ms: 20,
            sent: 40_000,
            read: 30_000,
            client: q(20_000, 2_000, w),
            server: q(2_000, 0, w),
            client_call: Running,
            server_call: Running,
        },
        // The client's receive queue is full: the server sees its window closed (190 bytes
        // left) and still writes into its own send queue.
        Step {
            ms: 30,
            sent: 200_000,
            read: 140_000,
            client: q(125_000, 3_000, w),
            server: q(5_000, 90_000, 190),
            client_call: Running,
            server_call: Send,
        },
        // The server's send queue is full and its send() no longer returns.
        Step {
            ms: 40,
            sent: 220_000,
            read: 150_000,
            client: q(125_000, 4_000, w),
            server: q(20_000, 130_000, 0),
            client_call: Running,
            server_call: Send,
        },
        Step {
            ms: 50,
            sent: 240_000,
            read: 150_000,
            client: q(125_000, 5_000, w),
            server: q(30_000, 130_000, 0),
            client_call: Running,
            server_call: Send,
        },
        // It reads nothing more.
        Step {
            ms: 150,
            sent: 300_000,
            read: 150_000,
            client: q(125_000, 9_000, w),
            server: q(90_000, 130_000, 0),
            client_call: Running,
            server_call: Send,
        },
        // The server's receive queue is full: both windows are closed; the client still writes.
        Step {
            ms: 200,
            sent: 430_000,
            read: 150_000,
            client: q(125_000, 120_000, 0),
            server: q(128_000, 130_000, 0),
            client_call: Running,
            server_call: Send,
        },
        // The client's send queue is full and its send() no longer returns.
        Step {
            ms: 210,
            sent: 440_000,
            read: 150_000,
            client: q(125_000, 130_000, 0),
            server: q(128_000, 130_000, 0),
            client_call: Send,
            server_call: Send,
        },
        Step {
            ms: 220,
            sent: 440_000,
            read: 150_000,
            client: q(125_000, 130_000, 0),
            server: q(128_000, 130_000, 0),
            client_call: Send,
            server_call: Send,
        },
    ];
    let mut n = Narrator::new(None);
    let events: Vec<Event> = steps
        .iter()
        .flat_map(|st| n.observe(&sample(st, None)))
        .collect();
    assert_eq!(
        names(&events),
        [
            "echo_arrives",
            "client_recv_queue_full",
            "server_send_blocks",
            "server_stops_reading",
            "server_recv_queue_full",
            "both_windows_zero",
            "client_send_blocks"
        ]
    );
    let times: Vec<u64> = events.iter().map(|e| e.at_ms).collect();
    assert_eq!(times, [20, 30, 50, 150, 200, 200, 220]);
}

#[test]
fn a_fix_gets_its_steady_state_and_never_a_deadlock_event() {
    let reader = thread(
        Side::Client,
        Role::Reader,
        Phase::Receiving,
        Some(Call::Recv),
    );
    let mut n = Narrator::new(None);
    let mut events = Vec::new();
    for i in 0..200u64 {
        // Fast and healthy: 1 MB/s, the receive queue below 12 KiB. Once the window closes for
        // a moment (a burst), which must not be told as "full".
        let peer = if i == 50 { 0 } else { 65536 };
        let st = Step {
            ms: i * 10,
            sent: i * 10_000,
            read: i * 9_000,
            client: q(i % 12 * 1000, 1000, 65536),
            server: q(500, 500, peer),
            client_call: Call::Send,
            server_call: Call::Send,
        };
        events.extend(n.observe(&sample(&st, Some(reader.clone()))));
    }
    assert_eq!(names(&events), ["echo_arrives", "steady_state"]);
    assert_eq!(
        events[1].kind,
        EventKind::SteadyState {
            client_recv_queue_peak_bytes: 11_000
        }
    );
}

#[test]
fn a_healthy_crawl_is_told_as_a_crawl() {
    let reader = thread(
        Side::Client,
        Role::Reader,
        Phase::Receiving,
        Some(Call::Recv),
    );
    let mut n = Narrator::new(None);
    let mut events = Vec::new();
    for i in 0..300u64 {
        // 9 KB/s, the server's window closing every 200 ms.
        let peer = if i % 20 < 10 { 0 } else { 8192 };
        let st = Step {
            ms: i * 10,
            sent: i * 90,
            read: i * 90,
            client: q(0, 4000, peer),
            server: q(0, 4000, 8192),
            client_call: Call::Send,
            server_call: Call::Send,
        };
        events.extend(n.observe(&sample(&st, Some(reader.clone()))));
    }
    let crawl = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Crawling { .. }))
        .expect("no crawl told");
    let EventKind::Crawling { bytes_per_s } = crawl.kind else {
        unreachable!()
    };
    assert!((8_000..10_000).contains(&bytes_per_s), "{bytes_per_s}");
    assert!(
        !names(&events)
            .iter()
            .any(|e| e.contains("full") || e.contains("blocks"))
    );
}

#[test]
fn a_paced_run_is_not_a_crawl() {
    let reader = thread(
        Side::Client,
        Role::Reader,
        Phase::Receiving,
        Some(Call::Recv),
    );
    let mut n = Narrator::new(Some(16 * 1024));
    let mut events = Vec::new();
    for i in 0..300u64 {
        let peer = if i % 20 < 2 { 0 } else { 65536 };
        let st = Step {
            ms: i * 10,
            sent: i * 160,
            read: i * 160,
            client: q(0, 0, peer),
            server: q(0, 0, 65536),
            client_call: Call::Sleep,
            server_call: Call::Recv,
        };
        events.extend(n.observe(&sample(&st, Some(reader.clone()))));
    }
    assert!(
        !names(&events).contains(&"crawling".to_string()),
        "{events:?}"
    );
}

/// A window that reads closed while the client's queue holds nothing is about to reopen: the
/// client read everything. It is never told as a full receive queue ("full (0 B)").
#[test]
fn a_closed_window_over_an_empty_queue_is_not_a_full_queue() {
    let mut n = Narrator::new(None);
    let mut events = Vec::new();
    for i in 0..20u64 {
        let mut client = q(0, 0, 65536);
        if let Some(t) = client.tcp_info.as_mut() {
            t.rcv_wnd_bytes = Some(0);
        }
        let mut s = sample(
            &Step {
                ms: i * 10,
                sent: i * 1000,
                read: i * 1000,
                client,
                server: q(0, 0, 0),
                client_call: Call::Send,
                server_call: Call::Recv,
            },
            None,
        );
        s.server = None; // the server out of sight: the client's own window decides
        events.extend(n.observe(&s));
    }
    assert!(
        !names(&events).contains(&"client_recv_queue_full".to_string()),
        "{events:?}"
    );
    // The same window over a queue that holds bytes is a full queue.
    let mut n = Narrator::new(None);
    let mut client = q(4096, 0, 65536);
    if let Some(t) = client.tcp_info.as_mut() {
        t.rcv_wnd_bytes = Some(0);
    }
    let mut s = sample(
        &Step {
            ms: 0,
            sent: 1000,
            read: 1000,
            client,
            server: q(0, 0, 0),
            client_call: Call::Send,
            server_call: Call::Recv,
        },
        None,
    );
    s.server = None;
    assert!(names(&n.observe(&s)).contains(&"client_recv_queue_full".to_string()));
}
