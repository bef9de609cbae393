//! The live picture at fixed widths, from samples recorded in real runs (`testdata/live-rows.csv`,
//! rows of `--timeline` files): a slow-motion deadlock mid-fill and at its verdict, a reader-thread
//! fix in its steady state, and a reader-thread crawl with 1 KiB buffers.

use std::time::Duration;

use super::*;
use crate::timeline::TimelineRow;

fn rows() -> Vec<Sample> {
    csv::Reader::from_reader(include_str!("../testdata/live-rows.csv").as_bytes())
        .deserialize::<TimelineRow>()
        .map(|r| r.expect("a recorded timeline row").to_sample())
        .collect()
}

fn motion(sent_per_s: u64, stalled_ms: Option<u64>) -> Motion {
    Motion {
        sent_per_s,
        processed_per_s: sent_per_s,
        received_per_s: 0,
        stalled_for: stalled_ms.map(Duration::from_millis),
    }
}

fn picture(i: usize, m: Motion, width: usize) -> String {
    let lines = render(&rows()[i], &m, width);
    for l in &lines {
        assert!(
            l.chars().count() <= width,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    assert!(lines.len() <= 12, "{} lines", lines.len());
    lines.join("\n")
}

#[test]
fn mid_fill_at_80_and_120_columns() {
    let m = motion(32 * 1024, None);
    insta::assert_snapshot!("mid_fill_80", picture(0, m, 80));
    insta::assert_snapshot!("mid_fill_120", picture(0, m, 120));
}

#[test]
fn the_deadlock_verdict_at_80_and_120_columns() {
    let m = motion(0, Some(260));
    insta::assert_snapshot!("verdict_80", picture(1, m, 80));
    insta::assert_snapshot!("verdict_120", picture(1, m, 120));
}

#[test]
fn a_fix_in_its_steady_state_at_80_and_120_columns() {
    let m = Motion {
        sent_per_s: 2_400_000,
        processed_per_s: 2_400_000,
        received_per_s: 2_400_000,
        stalled_for: None,
    };
    insta::assert_snapshot!("steady_80", picture(2, m, 80));
    insta::assert_snapshot!("steady_120", picture(2, m, 120));
}

#[test]
fn a_crawl_at_80_and_120_columns() {
    let m = motion(4500, None);
    insta::assert_snapshot!("crawl_80", picture(3, m, 80));
    insta::assert_snapshot!("crawl_120", picture(3, m, 120));
}

#[test]
fn no_line_is_ever_wider_than_the_terminal() {
    for width in [40, 60, 80, 100, 120] {
        for (i, s) in rows().iter().enumerate() {
            for l in render(s, &motion(123_456_789, Some(99_000)), width) {
                assert!(l.chars().count() <= width, "row {i} at {width}: {l}");
            }
        }
    }
}

#[test]
fn a_send_queue_past_its_capacity_says_so_instead_of_clipping() {
    let verdict = &rows()[1];
    let lines = render(verdict, &motion(0, Some(300)), 100);
    let client = &lines[0];
    assert!(
        client.contains("103%") && client.contains("over"),
        "{client}"
    );
}

#[test]
fn rates_stop_falling_and_say_stalled_when_nothing_moves() {
    let mut t = MotionTracker::default();
    let mut s = rows()[0].clone();
    let base = s.counts;
    let mut m = Motion::default();
    for i in 0..100u64 {
        s.at = Duration::from_millis(i * 10);
        if i < 50 {
            s.counts.client_sent_bytes = base.client_sent_bytes + i * 320;
        }
        m = t.take(&s);
        if i == 49 {
            assert!((28_000..36_000).contains(&m.sent_per_s), "{m:?}");
        }
    }
    assert_eq!(m.stalled_for, Some(Duration::from_millis(500)));
}
