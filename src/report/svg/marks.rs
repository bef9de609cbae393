//! What the timeline marks besides its lines, found in the rows:
//! - the narrated events (the `events` column), numbered in the order they were told; events told
//!   at the same sample share one mark;
//! - the late steps: queue levels that still change after the last counter moved. Neither program
//!   moves a byte then, so each step is the kernel's own doing (a piece of data it held back, sent
//!   when its zero-window probe timer fired, or the acknowledgement of such a piece).
//!
//! Words are the timeline's business (`timeline.rs`, `report::narration`); this file finds times.

use crate::result::Event;
use crate::timeline::TimelineRow;

/// One mark on the time axis: the events told at one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The sample's time (ms since the start).
    pub at_ms: f64,
    /// The numbers of its events (1 = the first event of the run), first and last.
    pub first: usize,
    pub last: usize,
}

impl Mark {
    /// `3`, or `4–6` for several events at one sample.
    pub fn label(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}–{}", self.first, self.last)
        }
    }
}

/// The marks and the events in the order told (event `n` is `events[n - 1]`).
pub fn events(rows: &[TimelineRow]) -> (Vec<Mark>, Vec<Event>) {
    let mut marks = Vec::new();
    let mut all = Vec::new();
    for r in rows {
        let told = r.events();
        if told.is_empty() {
            continue;
        }
        marks.push(Mark {
            at_ms: r.time_ms,
            first: all.len() + 1,
            last: all.len() + told.len(),
        });
        all.extend(told);
    }
    (marks, all)
}

/// The kernel queues, in the order a byte passes them.
pub const QUEUES: [&str; 4] = [
    "client send queue",
    "server receive queue",
    "server send queue",
    "client receive queue",
];

/// The four queues of a row, in the order of `QUEUES`.
pub fn queues(r: &TimelineRow) -> [Option<u64>; 4] {
    [
        r.client_send_queue_bytes,
        r.server_recv_queue_bytes,
        r.server_send_queue_bytes,
        r.client_recv_queue_bytes,
    ]
}

fn counters(r: &TimelineRow) -> [u64; 4] {
    [
        r.client_sent_bytes,
        r.server_processed_bytes,
        r.server_sent_bytes,
        r.client_received_bytes,
    ]
}

/// A queue level that changed at one sample after the programs had stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// Which queue (an index into `queues`).
    pub queue: usize,
    /// By how much (bytes; negative when it fell).
    pub change: i64,
    /// Its level after the change (bytes).
    pub level: u64,
}

/// One late step: the queues that changed at one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at_ms: f64,
    pub moves: Vec<Move>,
}

/// The late steps of a run, and when the programs last moved a byte.
#[derive(Debug, Clone, PartialEq)]
pub struct LateSteps {
    /// The time of the last sample at which a counter changed (ms).
    pub counters_still_from_ms: f64,
    pub steps: Vec<Step>,
}

/// The queue changes after the last counter change; `None` when there are none (a run that
/// completes, or one whose queues settled when the programs stopped).
pub fn late_steps(rows: &[TimelineRow]) -> Option<LateSteps> {
    let last_move = rows
        .windows(2)
        .rposition(|w| counters(&w[0]) != counters(&w[1]))?
        + 1;
    let steps: Vec<Step> = rows[last_move..]
        .windows(2)
        .filter_map(|w| {
            let (before, after) = (queues(&w[0]), queues(&w[1]));
            let moves: Vec<Move> = (0..4)
                .filter_map(|q| {
                    let (b, a) = (before[q]?, after[q]?);
                    (a != b).then(|| Move {
                        queue: q,
                        change: a as i64 - b as i64,
                        level: a,
                    })
                })
                .collect();
            (!moves.is_empty()).then_some(Step {
                at_ms: w[1].time_ms,
                moves,
            })
        })
        .collect();
    (!steps.is_empty()).then_some(LateSteps {
        counters_still_from_ms: rows[last_move].time_ms,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::EventKind;

    fn row(ms: f64, sent: u64, q: [u64; 4]) -> TimelineRow {
        TimelineRow {
            time_ms: ms,
            client_sent_bytes: sent,
            client_send_queue_bytes: Some(q[0]),
            server_recv_queue_bytes: Some(q[1]),
            server_send_queue_bytes: Some(q[2]),
            client_recv_queue_bytes: Some(q[3]),
            ..TimelineRow::default()
        }
    }

    #[test]
    fn queues_that_move_after_the_counters_stop_are_late_steps() {
        let rows = [
            TimelineRow::default(),
            row(10.0, 1000, [100, 200, 300, 400]),
            row(80.0, 2000, [150, 250, 300, 400]),
            row(90.0, 2000, [150, 250, 300, 400]),
            row(250.0, 2000, [150, 250, 300, 612]),
            row(300.0, 2000, [150, 250, 88, 612]),
            row(460.0, 2000, [50, 350, 88, 612]),
            row(700.0, 2000, [50, 350, 88, 612]),
        ];
        let late = late_steps(&rows).expect("late steps");
        assert_eq!(late.counters_still_from_ms, 80.0);
        let at: Vec<f64> = late.steps.iter().map(|s| s.at_ms).collect();
        assert_eq!(at, [250.0, 300.0, 460.0]);
        assert_eq!(
            late.steps[2].moves,
            [
                Move {
                    queue: 0,
                    change: -100,
                    level: 50
                },
                Move {
                    queue: 1,
                    change: 100,
                    level: 350
                }
            ]
        );
    }

    #[test]
    fn a_run_whose_queues_settle_with_the_counters_has_no_late_steps() {
        let rows = [
            TimelineRow::default(),
            row(10.0, 1000, [100, 200, 300, 400]),
            row(20.0, 2000, [0, 0, 0, 0]),
            row(30.0, 2000, [0, 0, 0, 0]),
        ];
        assert_eq!(late_steps(&rows), None);
        assert_eq!(late_steps(&[TimelineRow::default()]), None);
    }

    #[test]
    fn events_told_at_one_sample_share_a_mark_and_numbers_run_on() {
        let told = |kinds: &[EventKind]| {
            let e: Vec<Event> = kinds
                .iter()
                .map(|k| Event {
                    at_ms: 5,
                    kind: k.clone(),
                })
                .collect();
            Some(serde_json::to_string(&e).unwrap())
        };
        let rows = [
            TimelineRow {
                time_ms: 10.0,
                events: told(&[EventKind::EchoArrives]),
                ..Default::default()
            },
            TimelineRow {
                time_ms: 20.0,
                ..Default::default()
            },
            TimelineRow {
                time_ms: 30.0,
                events: told(&[EventKind::BothWindowsZero, EventKind::BothWindowsZero]),
                ..Default::default()
            },
        ];
        let (marks, events) = events(&rows);
        assert_eq!(events.len(), 3);
        let labels: Vec<(f64, String)> = marks.iter().map(|m| (m.at_ms, m.label())).collect();
        assert_eq!(labels, [(10.0, "1".into()), (30.0, "2–3".into())]);
    }
}
