//! Each queue's capacity in the queue panel: a dashed line at the socket buffer that bounds it
//! (the client's SO_SNDBUF for its send queue, the server's SO_RCVBUF for its receive queue, …) as
//! each row recorded it, so an autotuned buffer's line moves with it, and its size written at the
//! line's right end. Queues whose capacity is the same all along share one line, in ink rather
//! than a queue's colour, so no dashes hide others; the legend names which queues it bounds.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{INK, LINE, TEXT, color, text};
use super::{Result, TimeChart, err};
use crate::report::human;
use crate::timeline::TimelineRow;

type Get = fn(&TimelineRow) -> Option<u64>;

/// Each queue, in the order a byte passes them, and the buffer that bounds it.
const BUFFERS: [(&str, &str, Get); 4] = [
    ("client send queue", "client SO_SNDBUF", |r| {
        r.client_sndbuf_bytes
    }),
    ("server receive queue", "server SO_RCVBUF", |r| {
        r.server_rcvbuf_bytes
    }),
    ("server send queue", "server SO_SNDBUF", |r| {
        r.server_sndbuf_bytes
    }),
    ("client receive queue", "client SO_RCVBUF", |r| {
        r.client_rcvbuf_bytes
    }),
];

/// One dashed line: the queues it bounds and its value at each row.
pub struct Capacity {
    queues: Vec<usize>,
    pub color: RGBColor,
    pub values: Vec<Option<u64>>,
}

impl Capacity {
    fn last(&self) -> Option<u64> {
        self.values.iter().rev().find_map(|v| *v)
    }

    /// What the legend says of it.
    pub fn legend(&self) -> String {
        let size = self.last().map(human).unwrap_or_default();
        let buffers: Vec<&str> = self.queues.iter().map(|&q| BUFFERS[q].1).collect();
        match self.queues[..] {
            [q] => format!(
                "capacity of the {}: its {} ({size})",
                BUFFERS[q].0, buffers[0]
            ),
            [_, _, _, _] => {
                format!("capacity of each queue: its SO_SNDBUF or SO_RCVBUF, all {size}")
            }
            _ => format!("capacity: {} ({size} each)", buffers.join(", ")),
        }
    }
}

/// The capacity lines of a run; none for a queue whose socket was out of sight.
pub fn lines(rows: &[TimelineRow]) -> Vec<Capacity> {
    let mut out: Vec<Capacity> = Vec::new();
    for (q, (_, _, get)) in BUFFERS.iter().enumerate() {
        let values: Vec<Option<u64>> = rows.iter().map(get).collect();
        if values.iter().all(Option::is_none) {
            continue;
        }
        match out.iter_mut().find(|c| c.values == values) {
            Some(c) => {
                c.queues.push(q);
                c.color = INK;
            }
            None => out.push(Capacity {
                queues: vec![q],
                color: color(q),
                values,
            }),
        }
    }
    out
}

/// Draws the dashed lines, each with its last size right of the plotting area (labels closer
/// than a line of text apart are pushed apart).
pub fn draw(
    chart: &mut TimeChart,
    rows: &[TimelineRow],
    caps: &[Capacity],
    t_end: f64,
) -> Result<()> {
    const GAP_PX: i32 = 22;
    let mut taken: Vec<i32> = Vec::new();
    for c in caps {
        let pts: Vec<(f64, u64)> = rows
            .iter()
            .zip(&c.values)
            .filter_map(|(r, v)| v.map(|v| (r.time_ms, v)))
            .collect();
        // plotters starts the dash pattern again at every point, so a line through hundreds of
        // samples 10 ms apart would be dashed irregularly, or not at all: keep only the corners.
        let pts = corners(&pts);
        chart
            .draw_series(DashedLineSeries::new(
                pts,
                12,
                8,
                c.color.stroke_width(LINE),
            ))
            .map_err(err)?;
        let Some(last) = c.last() else { continue };
        let y = chart.backend_coord(&(t_end, last)).1;
        let mut at = y;
        while taken.iter().any(|t| (t - at).abs() < GAP_PX) {
            at += GAP_PX;
        }
        taken.push(at);
        let label = EmptyElement::at((t_end, last))
            + Text::new(
                human(last),
                (10, at - y),
                text(TEXT, HPos::Left, VPos::Center),
            );
        chart.plotting_area().draw(&label).map_err(err)?;
    }
    Ok(())
}

/// The first and last points and those where the value changes (either side of each step).
fn corners(pts: &[(f64, u64)]) -> Vec<(f64, u64)> {
    let n = pts.len();
    (0..n)
        .filter(|&i| i == 0 || i + 1 == n || pts[i - 1].1 != pts[i].1 || pts[i + 1].1 != pts[i].1)
        .map(|i| pts[i])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_line_keeps_its_ends_and_a_step_its_corners() {
        let flat: Vec<(f64, u64)> = (0..50).map(|i| (f64::from(i) * 10.0, 8)).collect();
        assert_eq!(corners(&flat), [(0.0, 8), (490.0, 8)]);
        let step = [(0.0, 8), (10.0, 8), (20.0, 8), (30.0, 16), (40.0, 16)];
        assert_eq!(
            corners(&step),
            [(0.0, 8), (20.0, 8), (30.0, 16), (40.0, 16)]
        );
    }

    fn row(snd: u64, rcv: u64) -> TimelineRow {
        TimelineRow {
            client_sndbuf_bytes: Some(snd),
            client_rcvbuf_bytes: Some(rcv),
            server_sndbuf_bytes: Some(snd),
            server_rcvbuf_bytes: Some(rcv),
            ..TimelineRow::default()
        }
    }

    #[test]
    fn equal_capacities_share_one_line_and_the_legend_says_whose() {
        let all = lines(&[TimelineRow::default(), row(131072, 131072)]);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].color, INK);
        assert_eq!(
            all[0].legend(),
            "capacity of each queue: its SO_SNDBUF or SO_RCVBUF, all 128 KiB"
        );
        let two = lines(&[row(32768, 131072)]);
        assert_eq!(two.len(), 2);
        assert_eq!(
            two[0].legend(),
            "capacity: client SO_SNDBUF, server SO_SNDBUF (32 KiB each)"
        );
    }

    #[test]
    fn a_queue_alone_at_its_capacity_keeps_its_colour_and_an_unseen_one_has_no_line() {
        let rows = [TimelineRow {
            client_sndbuf_bytes: Some(8192),
            client_rcvbuf_bytes: Some(4096),
            ..TimelineRow::default()
        }];
        let caps = lines(&rows);
        assert_eq!(caps.len(), 2, "the server's side was out of sight");
        assert_eq!(caps[0].color, color(0));
        assert_eq!(
            caps[0].legend(),
            "capacity of the client send queue: its client SO_SNDBUF (8 KiB)"
        );
    }
}
