//! The rules on synthetic timelines: samples built by hand, fed in order, the first verdict read.

use std::time::Duration;

use super::*;
use crate::sample::test_thread as thread;
use crate::sample::{Call, Counts, KernelQueues, Phase, Role, Side, TcpInfoView, ThreadView};

fn client_send() -> ThreadView {
    thread(Side::Client, Role::Sender, Phase::Sending, Some(Call::Send))
}
fn reader(phase: Phase, call: Option<Call>) -> ThreadView {
    thread(Side::Client, Role::Reader, phase, call)
}
fn server(phase: Phase, call: Call) -> ThreadView {
    thread(Side::Server, Role::Server, phase, Some(call))
}

pub(crate) fn q(inq: u64, notsent: u64, peer_wnd: u64) -> KernelQueues {
    KernelQueues {
        inq_bytes: inq,
        outq_bytes: notsent,
        notsent_bytes: notsent,
        tcp_info: Some(TcpInfoView {
            snd_wnd_bytes: Some(peer_wnd),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn sample(ms: u64, sent: u64, threads: Vec<ThreadView>) -> Sample {
    Sample {
        at: Duration::from_millis(ms),
        counts: Counts {
            client_sent_bytes: sent,
            ..Default::default()
        },
        client: Some(q(100_000, 50_000, 0)),
        server: Some(q(100_000, 60_000, 0)),
        threads,
    }
}

fn deadlock_rules() -> Watchdog {
    Watchdog::for_deadlock(Duration::from_millis(250), Duration::from_secs(2))
}

/// Feeds a timeline; returns the first verdict.
fn first_verdict(w: &mut Watchdog, samples: impl IntoIterator<Item = Sample>) -> Option<Verdict> {
    samples.into_iter().find_map(|s| w.observe(&s))
}

#[test]
fn both_blocked_in_send_is_a_deadlock_after_the_confirm_window() {
    let mut w = deadlock_rules();
    let both = || vec![client_send(), server(Phase::Sending, Call::Send)];
    let moving = (0..50).map(|i| sample(i * 10, 1000 + i * 16, both()));
    let frozen = (50..200).map(|i| sample(i * 10, 1000 + 49 * 16, both()));
    let v = first_verdict(&mut w, moving.chain(frozen)).expect("no verdict");
    assert_eq!(v.kind, Kind::Deadlock);
    assert_eq!(v.basis, StallBasis::KernelEvidence);
    assert_eq!(v.last_progress, Duration::from_millis(490));
    assert_eq!(v.at, Duration::from_millis(740));
    assert!(v.evidence.contains(&Evidence::ClientNotReading));
    assert!(
        v.evidence
            .contains(&Evidence::WindowClosed { side: Side::Server })
    );
}

/// A client whose reader keeps its receive queue empty is not blocked, whatever else stands still.
fn reading(ms: u64, sent: u64, threads: Vec<ThreadView>) -> Sample {
    Sample {
        client: Some(q(0, 50_000, 0)),
        ..sample(ms, sent, threads)
    }
}

#[test]
fn a_reader_that_keeps_its_queue_empty_prevents_a_kernel_verdict_and_only_silence_remains() {
    let mut w = deadlock_rules();
    let t = || {
        vec![
            client_send(),
            reader(Phase::Receiving, Some(Call::Recv)),
            server(Phase::Sending, Call::Send),
        ]
    };
    // A long healthy pause: frozen for 1.5 s, then moving again.
    let pause = (0..150).map(|i| reading(i * 10, 5000, t()));
    let again = (150..200).map(|i| reading(i * 10, 5000 + i, t()));
    assert_eq!(first_verdict(&mut w, pause.chain(again)), None);
}

#[test]
fn a_reader_that_is_spawned_but_not_yet_reading_still_counts_as_a_reader() {
    // The reader thread exists (its slot was claimed at spawn) but has not reached recv(): the
    // kernel shows it running or in a page fault, or nothing at all yet.
    for call in [
        None,
        Some(Call::Running),
        Some(Call::Futex),
        Some(Call::Other),
    ] {
        let mut w = deadlock_rules();
        let t = || {
            vec![
                client_send(),
                reader(Phase::NotStarted, call),
                server(Phase::Sending, Call::Send),
            ]
        };
        let frozen = (0..150).map(|i| sample(i * 10, 5000, t()));
        assert_eq!(first_verdict(&mut w, frozen), None, "reader in {call:?}");
    }
}

#[test]
fn silence_past_stall_after_is_the_fallback() {
    let mut w = deadlock_rules();
    let t = || {
        vec![
            client_send(),
            reader(Phase::Receiving, Some(Call::Recv)),
            server(Phase::Sending, Call::Send),
        ]
    };
    let v =
        first_verdict(&mut w, (0..300).map(|i| reading(i * 10, 5000, t()))).expect("no verdict");
    assert_eq!(v.basis, StallBasis::Silence);
    assert_eq!(v.at, Duration::from_secs(2));
}

/// A thread the kernel shows runnable is waiting for a CPU, not for its peer: on a starved machine
/// the sender may sit between a send() that returned and its counter for seconds (seen at load
/// average 500). Silence counts only from the last sample in which no thread was runnable.
#[test]
fn a_starved_runnable_thread_holds_off_the_silence_verdict() {
    let mut w = deadlock_rules();
    let starved = || {
        vec![
            thread(
                Side::Client,
                Role::Sender,
                Phase::Sending,
                Some(Call::Running),
            ),
            reader(Phase::Receiving, Some(Call::Recv)),
            server(Phase::Receiving, Call::Recv),
        ]
    };
    let runnable = (0..400).map(|i| reading(i * 10, 16, starved()));
    assert_eq!(
        first_verdict(&mut w, runnable),
        None,
        "4 s runnable, no verdict"
    );
    // Once nothing is runnable any more, silence counts from the last runnable sample (3.99 s).
    let blocked = || {
        vec![
            client_send(),
            reader(Phase::Receiving, Some(Call::Recv)),
            server(Phase::Sending, Call::Send),
        ]
    };
    let v = first_verdict(&mut w, (400..700).map(|i| reading(i * 10, 16, blocked())))
        .expect("silence after the threads block");
    assert_eq!(v.basis, StallBasis::Silence);
    assert_eq!(v.at, Duration::from_millis(3990 + 2000));
}

#[test]
fn queues_still_changing_delay_the_verdict() {
    let mut w = deadlock_rules();
    let both = || vec![client_send(), server(Phase::Sending, Call::Send)];
    let changing = (0..40).map(|i| {
        let mut s = sample(i * 10, 4000, both());
        s.client = Some(q(100_000 + i, 50_000, 0));
        s
    });
    let settled = (40..100).map(|i| {
        let mut s = sample(i * 10, 4000, both());
        s.client = Some(q(100_039, 50_000, 0));
        s
    });
    let v = first_verdict(&mut w, changing.chain(settled)).expect("no verdict");
    assert_eq!(v.at, Duration::from_millis(390 + 250));
}

#[test]
fn a_probe_timer_backing_off_is_not_a_queue_change() {
    let mut w = deadlock_rules();
    let both = || vec![client_send(), server(Phase::Sending, Call::Send)];
    let s = (0..100).map(|i| {
        let mut s = sample(i * 10, 4000, both());
        if let Some(t) = s.client.as_mut().and_then(|q| q.tcp_info.as_mut()) {
            t.backoff = Some(i as u32 / 20);
        }
        s
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.at, Duration::from_millis(250));
}

#[test]
fn a_server_with_data_to_read_is_not_stuck() {
    let mut w = deadlock_rules();
    let busy = (0..100).map(|i| {
        let mut s = sample(
            i * 10,
            4000,
            vec![client_send(), server(Phase::Receiving, Call::Recv)],
        );
        s.server = Some(q(4096, 0, 65536));
        s
    });
    assert_eq!(first_verdict(&mut w, busy), None);
}

#[test]
fn the_ack_starved_state_is_a_deadlock() {
    // Server read everything and waits in recv(); the client is stuck in send, not reading.
    let mut w = deadlock_rules();
    let starved = (0..100).map(|i| {
        let mut s = sample(
            i * 10,
            4000,
            vec![client_send(), server(Phase::Receiving, Call::Recv)],
        );
        s.server = Some(q(0, 60_000, 0));
        s
    });
    let v = first_verdict(&mut w, starved).expect("no verdict");
    assert!(v.evidence.contains(&Evidence::ServerWaitingOnEmptyQueue));
}

#[test]
fn a_thread_the_kernel_sees_running_is_not_blocked() {
    let mut w = deadlock_rules();
    let running = thread(
        Side::Client,
        Role::Sender,
        Phase::Sending,
        Some(Call::Running),
    );
    let s = (0..100).map(|i| {
        sample(
            i * 10,
            4000,
            vec![running.clone(), server(Phase::Sending, Call::Send)],
        )
    });
    assert_eq!(first_verdict(&mut w, s), None);
}

#[test]
fn a_client_alone_stalls_when_its_peer_window_is_closed() {
    let mut w = deadlock_rules();
    let s = (0..100).map(|i| Sample {
        at: Duration::from_millis(i * 10),
        counts: Counts {
            client_sent_bytes: 9000,
            ..Default::default()
        },
        client: Some(q(70_000, 30_000, 0)),
        server: None,
        threads: vec![client_send()],
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.basis, StallBasis::KernelEvidence);
    assert!(
        v.evidence
            .contains(&Evidence::WindowClosed { side: Side::Client })
    );
}

#[test]
fn with_no_thread_in_sight_closed_windows_and_unread_bytes_both_ways_are_a_deadlock() {
    let mut w = deadlock_rules();
    let s = (0..100).map(|i| Sample {
        at: Duration::from_millis(i * 10),
        counts: Counts {
            client_sent_bytes: 9000,
            ..Default::default()
        },
        client: Some(q(70_000, 30_000, 0)),
        server: Some(q(60_000, 90_000, 0)),
        threads: Vec::new(),
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert!(
        v.evidence
            .contains(&Evidence::ThreadsNotVisible { side: Side::Client })
    );
    // A healthy crawl: the client's reader emptied its queue, so it is not a deadlock.
    let mut w = deadlock_rules();
    let crawl = (0..100).map(|i| Sample {
        at: Duration::from_millis(i * 10),
        client: Some(q(0, 30_000, 0)),
        server: Some(q(60_000, 90_000, 0)),
        ..Sample::default()
    });
    assert_eq!(first_verdict(&mut w, crawl), None);
}

fn halfclose_sample(ms: u64, client_call: Call, outq: u64) -> Sample {
    let mut c = q(0, 0, 65536);
    c.outq_bytes = outq;
    Sample {
        at: Duration::from_millis(ms),
        counts: Counts {
            client_sent_bytes: 65536,
            server_received_bytes: 65536,
            ..Default::default()
        },
        client: Some(c),
        server: Some(q(0, 0, 65536)),
        threads: vec![
            thread(
                Side::Client,
                Role::Sender,
                Phase::Receiving,
                Some(client_call),
            ),
            thread(
                Side::Server,
                Role::Server,
                Phase::Receiving,
                Some(Call::Recv),
            ),
        ],
    }
}

#[test]
fn both_waiting_in_recv_with_nothing_in_flight_is_a_half_close_stall() {
    let confirm = Duration::from_millis(300);
    let mut w = Watchdog::new(&[Rule::HalfClose { confirm }]);
    let v = first_verdict(
        &mut w,
        (0..100).map(|i| halfclose_sample(i * 10, Call::Recv, 0)),
    )
    .expect("no verdict");
    assert_eq!(v.kind, Kind::HalfClose);
    assert_eq!(v.at, confirm);
    assert!(v.evidence.contains(&Evidence::NothingInFlight));
    // Bytes still in flight, or a client thread that is running, are not a stall.
    let mut w = Watchdog::new(&[Rule::HalfClose { confirm }]);
    assert_eq!(
        first_verdict(
            &mut w,
            (0..100).map(|i| halfclose_sample(i * 10, Call::Recv, 5))
        ),
        None
    );
    let mut w = Watchdog::new(&[Rule::HalfClose { confirm }]);
    assert_eq!(
        first_verdict(
            &mut w,
            (0..100).map(|i| halfclose_sample(i * 10, Call::Running, 0))
        ),
        None
    );
}

fn conn_sample(ms: u64, received: u64, sent: u64, server_q: KernelQueues, call: Call) -> Sample {
    let phase = if call == Call::Send {
        Phase::Sending
    } else {
        Phase::Receiving
    };
    Sample {
        at: Duration::from_millis(ms),
        counts: Counts {
            server_received_bytes: received,
            server_sent_bytes: sent,
            ..Default::default()
        },
        client: None,
        server: Some(server_q),
        threads: vec![thread(Side::Server, Role::Server, phase, Some(call))],
    }
}

fn stuck_rules() -> Watchdog {
    Watchdog::new(&[Rule::Stuck {
        limit: Duration::from_secs(1),
    }])
}

#[test]
fn a_connection_that_keeps_moving_is_never_stuck() {
    let mut w = stuck_rules();
    let s = (1..100).map(|i| conn_sample(i * 100, i * 10, i * 10, q(0, 0, 65536), Call::Recv));
    assert_eq!(first_verdict(&mut w, s), None);
}

#[test]
fn a_draining_send_queue_counts_as_progress() {
    let mut w = stuck_rules();
    // Counters frozen (the server is blocked in one send) but its queue shrinks each step.
    let s =
        (1..40).map(|i| conn_sample(i * 100, 4096, 2048, q(0, 10_000 - i * 100, 0), Call::Send));
    assert_eq!(first_verdict(&mut w, s), None);
}

#[test]
fn a_trickle_into_the_receive_queue_does_not_hide_a_server_blocked_in_send() {
    // The client never reads but sends one byte now and then: the server's receive queue grows,
    // its send queue does not drain.
    let mut w = stuck_rules();
    let s = (1..40).map(|i| {
        conn_sample(
            i * 100,
            4096,
            2048,
            q(20_000 + i / 10, 30_000, 0),
            Call::Send,
        )
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.kind, Kind::Stuck(StuckKind::NotDraining));
    assert_eq!(v.at, Duration::from_secs(1));
    assert!(
        v.evidence
            .contains(&Evidence::SendQueueNotDraining { bytes: 30_000 })
    );
}

#[test]
fn a_client_that_never_sends_is_silent_and_one_that_stops_is_idle() {
    let mut w = stuck_rules();
    let s = (0..20).map(|i| conn_sample(i * 100, 0, 0, q(0, 0, 65536), Call::Recv));
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.kind, Kind::Stuck(StuckKind::Silent));
    assert_eq!(v.at, Duration::from_secs(1));
    let mut w = stuck_rules();
    let s = (0..30).map(|i| {
        conn_sample(
            i * 100,
            160.min(i * 16),
            160.min(i * 16),
            q(0, 0, 65536),
            Call::Recv,
        )
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.kind, Kind::Stuck(StuckKind::Idle));
    assert_eq!(v.at, Duration::from_millis(1000 + 1000));
}

#[test]
fn a_server_thread_not_scheduled_with_bytes_to_read_is_never_stuck() {
    // Two busy cores, hundreds of echo loops: the thread is runnable (the kernel shows no call)
    // and the client's bytes wait in its receive queue. Nothing moves, yet the client did its part.
    let mut w = stuck_rules();
    let s = (0..50).map(|i| {
        conn_sample(
            i * 100,
            181_216,
            181_216,
            q(129_040, 0, 65536),
            Call::Running,
        )
    });
    assert_eq!(first_verdict(&mut w, s), None);
    // The same thread waiting in recv() with bytes queued is a moment before a wake-up: not stuck.
    let mut w = stuck_rules();
    let s = (0..50).map(|i| conn_sample(i * 100, 4096, 4096, q(512, 0, 65536), Call::Recv));
    assert_eq!(first_verdict(&mut w, s), None);
    // A silent client seen while the server thread has not yet reached recv(): not stuck either.
    let mut w = stuck_rules();
    let s = (0..50).map(|i| conn_sample(i * 100, 0, 0, q(0, 0, 65536), Call::Running));
    assert_eq!(first_verdict(&mut w, s), None);
}

/// A thread of a program tcplab did not write, as sock_diag and /proc show it.
fn other(side: Side, tid: u32, call: Call, syscall: &'static str) -> ThreadView {
    ThreadView {
        name: std::borrow::Cow::Borrowed("python3"),
        side,
        role: Role::Unknown,
        phase: None,
        call: Some(call),
        on_socket: None,
        pid: Some(tid),
        tid: Some(tid),
        syscall: Some(std::borrow::Cow::Borrowed(syscall)),
        state: Some('S'),
        cpu_ns: Some(1_000),
        timed: None,
        paced: false,
    }
}

/// A thread in a wait that ends by itself, having run `cpu_ns` so far.
fn timed(mut t: ThreadView, cpu_ns: u64) -> ThreadView {
    t.timed = Some(true);
    t.cpu_ns = Some(cpu_ns);
    t
}

fn frozen(from_ms: u64, to_ms: u64, threads: impl Fn(u64) -> Vec<ThreadView>) -> Vec<Sample> {
    (from_ms / 10..to_ms / 10)
        .map(|i| sample(i * 10, 5000, threads(i * 10)))
        .collect()
}

#[test]
fn a_deadlock_is_found_whatever_call_the_programs_wait_in() {
    let server_send = || other(Side::Server, 2, Call::Send, "sendto");
    let cases: [(&str, Vec<ThreadView>); 5] = [
        ("send", vec![other(Side::Client, 1, Call::Send, "sendto")]),
        ("write", vec![other(Side::Client, 1, Call::Send, "write")]),
        (
            "sendfile",
            vec![other(Side::Client, 1, Call::Send, "sendfile")],
        ),
        // sendall() on a socket with a timeout waits in poll() for room to write; its timeout
        // holds nothing off, for a wait for the unread echo would have returned.
        (
            "poll in sendall",
            vec![timed(other(Side::Client, 1, Call::Poll, "poll"), 1_000)],
        ),
        // Node: the main thread writes synchronously; its runtime's threads sit in epoll.
        (
            "epoll in a runtime",
            vec![
                other(Side::Client, 1, Call::Send, "write"),
                other(Side::Client, 3, Call::Poll, "epoll_pwait"),
                other(Side::Client, 4, Call::Futex, "futex"),
            ],
        ),
    ];
    for (what, client) in cases {
        let mut w = deadlock_rules();
        let threads = |_| {
            let mut t = client.clone();
            t.push(server_send());
            t
        };
        let v = first_verdict(&mut w, frozen(0, 1000, threads)).unwrap_or_else(|| panic!("{what}"));
        assert_eq!(v.kind, Kind::Deadlock, "{what}");
        assert_eq!(v.basis, StallBasis::KernelEvidence, "{what}");
        assert_eq!(v.at, Duration::from_millis(250), "{what}");
    }
}

#[test]
fn a_reader_asleep_holds_the_verdict_off_until_it_has_run_and_a_drain_teaches_the_pause() {
    let mut w = deadlock_rules();
    let sender = || other(Side::Client, 1, Call::Send, "sendto");
    let server_send = || other(Side::Server, 2, Call::Send, "sendto");
    // The reader sleeps 1 s between reads: all four queues full, both windows zero meanwhile.
    let asleep = |cpu| {
        move |_| {
            vec![
                sender(),
                timed(other(Side::Client, 3, Call::Sleep, "clock_nanosleep"), cpu),
                server_send(),
            ]
        }
    };
    assert_eq!(first_verdict(&mut w, frozen(0, 1000, asleep(10))), None);
    // It wakes and reads a block: the client's queue shrinks and the server sends more.
    let mut drained = sample(1000, 5000, asleep(20)(0));
    drained.client = Some(q(90_000, 50_000, 0));
    assert_eq!(w.observe(&drained), None);
    assert_eq!(w.history().longest_pause, Duration::from_secs(1));
    // Asleep again: held off again, and the stillness must now outlast 1.5 × the pause.
    let again = (101..250).map(|i| {
        let mut s = sample(i * 10, 5000, asleep(20)(0));
        s.client = Some(q(90_000, 50_000, 0));
        s
    });
    assert_eq!(first_verdict(&mut w, again), None);
}

#[test]
fn one_look_that_finds_a_woken_reader_back_in_recv_beside_its_old_bytes_is_no_verdict() {
    let mut w = deadlock_rules();
    let sender = || other(Side::Client, 1, Call::Send, "sendto");
    let server_send = || other(Side::Server, 2, Call::Send, "sendto");
    let asleep = |_| {
        vec![
            sender(),
            timed(other(Side::Client, 3, Call::Sleep, "clock_nanosleep"), 10),
            server_send(),
        ]
    };
    // Looks every 100 ms while the reader sleeps, then none for 400 ms (the watcher starved of
    // CPU); the next look read the sockets just before the reader woke, and its threads just
    // after it had taken the bytes and gone back into recv().
    let looks = (0..7).map(|i| sample(i * 100, 5000, asleep(0)));
    assert_eq!(first_verdict(&mut w, looks), None);
    let torn = sample(
        1000,
        5000,
        vec![
            sender(),
            other(Side::Client, 3, Call::Recv, "recvfrom"),
            server_send(),
        ],
    );
    assert!(w.history().stuck_for(&torn) >= Duration::from_millis(300));
    assert_eq!(w.observe(&torn), None, "a verdict on one torn look");
    // The next look shows what the reader took.
    let mut next = sample(1100, 5000, torn.threads.clone());
    next.client = Some(q(0, 50_000, 0));
    next.counts.client_received_bytes += 90_000;
    assert_eq!(w.observe(&next), None);
}

#[test]
fn a_sleeper_that_woke_and_did_not_read_holds_nothing_off() {
    let mut w = deadlock_rules();
    let threads = |at: u64| {
        vec![
            other(Side::Client, 1, Call::Send, "sendto"),
            // A heartbeat thread: it wakes every 300 ms and goes back to sleep.
            timed(
                other(Side::Client, 3, Call::Sleep, "clock_nanosleep"),
                10 + at / 300,
            ),
            other(Side::Server, 2, Call::Send, "sendto"),
        ]
    };
    let v = first_verdict(&mut w, frozen(0, 2000, threads)).expect("no verdict");
    assert_eq!(v.kind, Kind::Deadlock);
    // It ran by 300 ms without anything moving: the stillness counts from the last sample before.
    assert_eq!(v.at, Duration::from_millis(290 + 250));
}

#[test]
fn a_stopped_process_is_never_deadlocked() {
    let mut w = deadlock_rules();
    let threads = |_| {
        let mut c = other(Side::Client, 1, Call::Sleep, "clock_nanosleep");
        c.state = Some('T');
        vec![c, other(Side::Server, 2, Call::Send, "sendto")]
    };
    assert_eq!(first_verdict(&mut w, frozen(0, 5000, threads)), None);
    assert!(matches!(
        w.history().held,
        Some(Hold::Stopped {
            side: Side::Client,
            ..
        })
    ));
}

#[test]
fn tcplab_s_own_pacer_that_naps_and_wakes_is_not_silence_and_another_sleeper_is() {
    // The pacer sleeps in short naps, so its CPU time grows from one look to the next: a
    // student's thread that keeps waking without moving a byte holds nothing off, tcplab's own
    // paced sender does.
    let samples = |paced: bool| -> Vec<Sample> {
        (0..500)
            .map(|i| reading(i * 10, 16, beside_a_reader(sleeping_sender(5 + i, paced))))
            .collect()
    };
    assert_eq!(
        first_verdict(&mut deadlock_rules(), samples(true)),
        None,
        "5 s of tcplab's own pacing naps"
    );
    assert!(
        first_verdict(&mut deadlock_rules(), samples(false)).is_some(),
        "a sleeper that keeps waking and moves nothing is no reason to wait"
    );
}

/// tcplab's client sender asleep in a timed wait, having run `cpu_ns` so far; `paced` as its
/// sampler marks its pacing naps.
fn sleeping_sender(cpu_ns: u64, paced: bool) -> ThreadView {
    let mut t = thread(
        Side::Client,
        Role::Sender,
        Phase::Sending,
        Some(Call::Sleep),
    );
    t.timed = Some(true);
    t.tid = Some(7);
    t.cpu_ns = Some(cpu_ns);
    t.paced = paced;
    t
}

/// `sender` with the client's reader and the server both waiting in recv().
fn beside_a_reader(sender: ThreadView) -> Vec<ThreadView> {
    vec![
        sender,
        reader(Phase::Receiving, Some(Call::Recv)),
        server(Phase::Receiving, Call::Recv),
    ]
}

#[test]
fn tcplab_s_own_pacing_sleep_is_not_silence() {
    let mut w = deadlock_rules();
    let quiet: Vec<Sample> = (0..500)
        .map(|i| reading(i * 10, 16, beside_a_reader(sleeping_sender(5, false))))
        .collect();
    assert_eq!(
        first_verdict(&mut w, quiet),
        None,
        "5 s asleep between two paced writes"
    );
}

#[test]
fn a_client_alone_whose_reader_waits_on_an_empty_queue_sees_its_peer_stalled() {
    let mut w = deadlock_rules();
    let s = (0..300).map(|i| Sample {
        at: Duration::from_millis(i * 10),
        counts: Counts {
            client_sent_bytes: 9000,
            ..Default::default()
        },
        client: Some(q(0, 30_000, 0)),
        server: None,
        threads: vec![client_send(), reader(Phase::Receiving, Some(Call::Recv))],
    });
    let v = first_verdict(&mut w, s).expect("no verdict");
    assert_eq!(v.kind, Kind::PeerStalled);
    assert_eq!(v.at, Duration::from_secs(2));
}

#[test]
fn a_peer_that_trickles_a_byte_a_second_and_never_reads_is_stuck_whatever_the_server_waits_in() {
    // The server echoes each byte into a send queue nobody takes from (the client's kernel
    // acknowledges nothing more); with autotuned buffers its thread is back in recv().
    let trickle = |i: u64| {
        let mut q = q(0, 200_000 + i, 0);
        if let Some(t) = q.tcp_info.as_mut() {
            t.bytes_acked = Some(1_000_000);
        }
        conn_sample(i * 100, 1_000_000 + i, 1_000_000 + i, q, Call::Recv)
    };
    let mut w = stuck_rules();
    let v = first_verdict(&mut w, (0..40).map(trickle)).expect("no verdict");
    assert_eq!(v.kind, Kind::Stuck(StuckKind::NotDraining));
    assert!(
        v.evidence
            .contains(&Evidence::SendQueueNotDraining { bytes: 200_010 })
    );
    // The same queue, acknowledged as it goes (a client that reads): never stuck.
    let reading = |i: u64| {
        let mut s = trickle(i);
        if let Some(t) = s.server.as_mut().and_then(|q| q.tcp_info.as_mut()) {
            t.bytes_acked = Some(1_000_000 + i);
        }
        s
    };
    assert_eq!(
        first_verdict(&mut stuck_rules(), (0..40).map(reading)),
        None
    );
}
