//! The timeline plot of one run: the programs' counters in the upper panel, the four kernel queues
//! in the lower one. A counter and the queue it feeds share a colour (client sent and the client's
//! send queue, …).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{AXIS, FONT, LINE, TEXT, TITLE, WIDTH, color};
use super::ticks;
use super::{Result, err};
use crate::report::human;
use crate::timeline::TimelineRow;

type Getter = (&'static str, fn(&TimelineRow) -> u64);

/// The app counters, upper panel.
const COUNTERS: [Getter; 4] = [
    ("client sent", |r| r.client_sent_bytes),
    ("server processed", |r| r.server_processed_bytes),
    ("server sent", |r| r.server_sent_bytes),
    ("client received", |r| r.client_received_bytes),
];

/// The kernel queues, lower panel, in the order a byte passes them.
const QUEUES: [Getter; 4] = [
    ("client send queue", |r| {
        r.client_send_queue_bytes.unwrap_or(0)
    }),
    ("server receive queue", |r| {
        r.server_recv_queue_bytes.unwrap_or(0)
    }),
    ("server send queue", |r| {
        r.server_send_queue_bytes.unwrap_or(0)
    }),
    ("client receive queue", |r| {
        r.client_recv_queue_bytes.unwrap_or(0)
    }),
];

/// A panel's height (pixels).
const PANEL_H: u32 = 440;

/// The timeline plot of one run as an SVG document.
pub fn timeline(rows: &[TimelineRow], title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 60 + 2 * PANEL_H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, (FONT, TITLE)).map_err(err)?;
        let (upper, lower) = root.split_vertically(PANEL_H);
        panel(&upper, rows, &COUNTERS, "application counters")?;
        panel(&lower, rows, &QUEUES, "kernel queues")?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[TimelineRow],
    lines: &[Getter],
    y_desc: &str,
) -> Result<()> {
    let t_end = rows.last().map_or(1.0, |r| r.time_ms).max(1.0);
    let y_max = rows
        .iter()
        .flat_map(|r| lines.iter().map(move |(_, get)| get(r)))
        .max()
        .unwrap_or(0);
    // Headroom above the highest line keeps the legend (upper left) off the data.
    let axis = ticks::linear(y_max + y_max / 2);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(64)
        .y_label_area_size(120)
        .build_cartesian_2d(
            0.0..t_end,
            (0u64..axis.top).with_key_points(axis.ticks.clone()),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time since the start (ms)")
        .y_desc(y_desc)
        .label_style((FONT, TEXT))
        .axis_desc_style((FONT, AXIS))
        .bold_line_style(BLACK.mix(0.15))
        .light_line_style(TRANSPARENT)
        .x_labels(10)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| human(*v))
        .draw()
        .map_err(err)?;
    for (i, (name, get)) in lines.iter().enumerate() {
        let c = color(i);
        let pts = rows.iter().map(|r| (r.time_ms, get(r)));
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(LINE)))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 30, y)], c.stroke_width(LINE)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, TEXT))
        .legend_area_size(40)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}
