//! The timeline plot of one run: the programs' counters in the upper panel, the four kernel queues
//! in the lower one with each queue's capacity dashed, a legend beside each panel. Lines that lie on each other are drawn inside one
//! another (`overlap`), so each shows. A counter and the queue it feeds share a colour (client
//! sent and the client's send queue, …).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend::{self, Entry, Swatch};
use super::style::{AXIS, FONT, TEXT, TITLE, WIDTH, color};
use super::{Result, capacity, err, overlap, ticks};
use crate::report::human;
use crate::timeline::TimelineRow;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
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

/// Pixels: a panel's height, the legend column's width, the room above a panel and to its right
/// for the capacity labels.
const PANEL_H: u32 = 440;
const LEGEND_W: u32 = 330;
const TOP_H: u32 = 24;
const CAPS_W: u32 = 100;
/// How close two lines may be and still look like one (pixels).
const SAME_LINE_PX: u64 = 4;

/// The timeline plot of one run as an SVG document.
pub fn timeline(rows: &[TimelineRow], title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 60 + 2 * PANEL_H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, (FONT, TITLE)).map_err(err)?;
        let (upper, lower) = root.split_vertically(PANEL_H);
        let lines = |getters: &[Getter]| -> Vec<Line> {
            getters
                .iter()
                .enumerate()
                .map(|(i, (name, get))| Line {
                    name,
                    color: color(i),
                    values: rows.iter().map(get).collect(),
                })
                .collect()
        };
        let panel_of = |lines, y_desc, capacities| Panel {
            rows,
            lines,
            y_desc,
            capacities,
        };
        draw_panel(
            &upper,
            &panel_of(lines(&COUNTERS), "application counters", false),
        )?;
        draw_panel(&lower, &panel_of(lines(&QUEUES), "kernel queues", true))?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One line of a panel.
struct Line {
    name: &'static str,
    color: RGBColor,
    values: Vec<u64>,
}

struct Panel<'a> {
    rows: &'a [TimelineRow],
    lines: Vec<Line>,
    y_desc: &'static str,
    capacities: bool,
}

fn draw_panel(area: &Area, p: &Panel) -> Result<()> {
    let (plot, side) = area.split_horizontally(WIDTH - LEGEND_W);
    let t_end = p.rows.last().map_or(1.0, |r| r.time_ms).max(1.0);
    let caps = if p.capacities {
        capacity::lines(p.rows)
    } else {
        Vec::new()
    };
    let y_max = p
        .lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .chain(caps.iter().flat_map(|c| c.values.iter().flatten().copied()))
        .max()
        .unwrap_or(0);
    // A little room above the highest line.
    let axis = ticks::linear(y_max + y_max / 16);
    let mut chart = ChartBuilder::on(&plot)
        .margin(10)
        .margin_top(TOP_H)
        .margin_right(CAPS_W)
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
        .y_desc(p.y_desc)
        .label_style((FONT, TEXT))
        .axis_desc_style((FONT, AXIS))
        .bold_line_style(BLACK.mix(0.15))
        .light_line_style(TRANSPARENT)
        .x_labels(10)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| human(*v))
        .draw()
        .map_err(err)?;
    let plot_px = u64::from(chart.plotting_area().dim_in_pixel().1.max(1));
    let tolerance = axis.top * SAME_LINE_PX / plot_px;
    let values: Vec<Vec<u64>> = p.lines.iter().map(|l| l.values.clone()).collect();
    let strokes = overlap::strokes(&values, tolerance);
    let mut entries = Vec::new();
    for (line, s) in p.lines.iter().zip(&strokes) {
        let pts = p
            .rows
            .iter()
            .zip(&line.values)
            .map(|(r, v)| (r.time_ms, *v));
        chart
            .draw_series(LineSeries::new(pts, line.color.stroke_width(s.width)))
            .map_err(err)?;
        let mut text = line.name.to_string();
        if !s.lies_on.is_empty() {
            let under: Vec<&str> = s.lies_on.iter().map(|&i| p.lines[i].name).collect();
            text += &format!(" (drawn inside {} where they meet)", under.join(", "));
        }
        entries.push(Entry {
            swatch: Swatch::Line(line.color, s.width),
            text,
        });
    }
    capacity::draw(&mut chart, p.rows, &caps, t_end)?;
    entries.extend(caps.iter().map(|c| Entry {
        swatch: Swatch::Dashed(c.color),
        text: c.legend(),
    }));
    legend::draw(&side, TOP_H as i32, &entries)
}
