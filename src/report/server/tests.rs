//! The server's log as the instructor reads it: its lines at 80 and 120 columns (snapshots), and
//! the running total, which counts each connection once and never goes down.

use super::*;
use crate::report::wrap::{assert_wrapped, wrap};

const MIB: u64 = 1 << 20;

fn closed(id: u64, received: u64, end: ConnEnd, open: usize, open_bytes: u64) -> ConnClosed {
    ConnClosed {
        id,
        peer: format!("127.0.0.1:{}", 45564 + id),
        sndbuf_bytes: Some(2_626_560),
        rcvbuf_bytes: Some(131_072),
        received_bytes: received,
        sent_bytes: received,
        elapsed_ms: 1_734,
        end,
        open,
        open_bytes,
    }
}

fn accepted(id: u64, open: usize) -> ServerEvent {
    ServerEvent::Accepted {
        id,
        peer: format!("127.0.0.1:{}", 45564 + id),
        sndbuf_bytes: Some(2_626_560),
        rcvbuf_bytes: Some(131_072),
        open,
    }
}

fn tick(open: usize, open_bytes: u64) -> Snapshot {
    Snapshot {
        open,
        totals: Totals::default(),
        open_bytes,
    }
}

fn stuck() -> ConnEnd {
    ConnEnd::Stuck {
        kind: "not-draining".into(),
        still_ms: 1_004,
        send_queue_bytes: Some(2_532_480),
        recv_queue_bytes: Some(0),
        kernel_call: Some("send".into()),
        evidence: Vec::new(),
    }
}

/// A short class: three clients, one freed as stuck, one turned away, then Ctrl-C.
fn a_session(log: bool) -> Vec<String> {
    let mut sink = TextSink::keeping(log);
    sink.event(&ServerEvent::Listening {
        addr: "0.0.0.0:1060".into(),
        reachable_from_network: true,
    });
    sink.event(&accepted(1, 1));
    sink.tick(&tick(1, 3 * MIB));
    sink.event(&accepted(2, 2));
    sink.tick(&tick(2, 7 * MIB + 680 * 1024));
    sink.event(&ServerEvent::Closed(closed(
        1,
        8 * MIB,
        ConnEnd::Eof,
        1,
        1024 * 1024,
    )));
    sink.event(&ServerEvent::Refused {
        peer: "127.0.0.1:45599".into(),
        open: 1,
        max_conns: 1,
    });
    sink.tick(&tick(1, 2 * MIB));
    sink.event(&ServerEvent::Closed(closed(2, 2_532_480, stuck(), 0, 0)));
    sink.event(&ServerEvent::Closed(closed(
        3,
        170_917,
        ConnEnd::Reset,
        0,
        0,
    )));
    sink.event(&ServerEvent::Stopped {
        totals: Totals {
            accepted: 3,
            closed: 3,
            stuck: 1,
            reset: 1,
            refused: 1,
            processed_bytes: 8 * MIB + 2_532_480 + 170_917,
        },
        interrupted: true,
    });
    sink.kept.unwrap_or_default()
}

#[test]
fn the_log_at_80_columns() {
    let lines = a_session(true);
    let shown: Vec<String> = lines.iter().map(|l| wrap(l, 80, "    ")).collect();
    for (l, s) in lines.iter().zip(&shown) {
        assert_wrapped(l, s, 80);
    }
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn the_log_at_120_columns() {
    let lines = a_session(true);
    let shown: Vec<String> = lines.iter().map(|l| wrap(l, 120, "    ")).collect();
    for (l, s) in lines.iter().zip(&shown) {
        assert_wrapped(l, s, 120);
    }
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn without_log_only_closes_and_refusals_are_told_and_without_totals() {
    insta::assert_snapshot!(a_session(false).join("\n"));
}

/// The running total after each `--log` line.
fn totals_in(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.rsplit_once('[')?.1.split(", ").nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn one_8_mib_connection_counts_8_mib() {
    let mut sink = TextSink::keeping(true);
    sink.event(&accepted(1, 1));
    // The last tick before the close had counted 7.66 MiB of it.
    sink.tick(&tick(1, 7 * MIB + 676 * 1024));
    sink.event(&ServerEvent::Closed(closed(1, 8 * MIB, ConnEnd::Eof, 0, 0)));
    assert_eq!(
        totals_in(&sink.kept.unwrap()),
        ["0 B processed in all", "8 MiB processed in all"]
    );
}

#[test]
fn the_running_total_never_goes_down() {
    let mut sink = TextSink::keeping(true);
    let mut shown = Vec::new();
    let total = |sink: &TextSink| sink.totals.processed_bytes + sink.open_bytes;
    // Three connections of 8 MiB each, ticks between their closes: each close brings the open
    // ones' bytes at that moment with it.
    for id in 1..=3 {
        sink.event(&accepted(id, id as usize));
    }
    sink.tick(&tick(3, 3 * 5 * MIB));
    shown.push(total(&sink));
    sink.event(&ServerEvent::Closed(closed(
        2,
        8 * MIB,
        ConnEnd::Eof,
        2,
        2 * 6 * MIB,
    )));
    shown.push(total(&sink));
    sink.tick(&tick(2, 2 * 7 * MIB));
    shown.push(total(&sink));
    sink.event(&ServerEvent::Closed(closed(
        1,
        8 * MIB,
        ConnEnd::Eof,
        1,
        7 * MIB + 1,
    )));
    shown.push(total(&sink));
    sink.event(&ServerEvent::Closed(closed(3, 8 * MIB, ConnEnd::Eof, 0, 0)));
    shown.push(total(&sink));
    assert!(shown.windows(2).all(|w| w[0] <= w[1]), "{shown:?}");
    assert_eq!(shown.last(), Some(&(24 * MIB)));
}

#[test]
fn the_servers_lines_wrap_at_80_and_120_columns_without_splitting_an_address() {
    let totals = Totals {
        accepted: 6,
        closed: 6,
        stuck: 3,
        reset: 0,
        refused: 1,
        processed_bytes: 989_204,
    };
    let lines = [
        closed_line(&closed(3, 456_384, stuck(), 2, 0)),
        closed_line(&closed(3, 456_384, ConnEnd::Eof, 2, 0)),
        closed_line(&closed(3, 456_384, ConnEnd::BrokenPipe, 2, 0)),
        stopped_line(&totals),
    ];
    for line in lines {
        assert!(line.len() > 80, "{line}");
        for width in [80, 120] {
            let wrapped = wrap(&line, width, "    ");
            assert_wrapped(&line, &wrapped, width);
            assert!(!wrapped.contains("45567") || wrapped.contains("127.0.0.1:45567"));
        }
    }
}

#[test]
fn one_connection_is_singular() {
    let one = Totals {
        accepted: 1,
        closed: 1,
        ..Totals::default()
    };
    assert!(stopped_line(&one).starts_with("server stopped: 1 connection served ("));
}
