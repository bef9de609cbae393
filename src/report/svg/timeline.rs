//! The timeline plot of one run: the programs' counters in the upper panel, the four kernel queues
//! in the lower one with each queue's capacity dashed, the narrated events as numbered vertical
//! lines on both, the late steps ringed, a legend beside each panel, and under the plot the events
//! in the words the terminal prints and, when the run shows them, the late steps explained. A
//! counter and the queue it feeds share a colour (client sent and the client's send queue, …).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::legend::{self, Entry, Swatch};
use super::marks::{self, LateSteps, Mark, QUEUES};
use super::notes::{self, MAX_STEPS, letter};
use super::style::{AXIS, FONT, INK, LINE, TEXT, TITLE, WIDTH, color, text};
use super::{Result, TimeChart, capacity, err, overlap, ticks};
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

/// Pixels: a panel's height, the legend column's width, the room above a panel for the event
/// numbers and to its right for the capacity labels.
const PANEL_H: u32 = 440;
const LEGEND_W: u32 = 330;
const MARKS_H: u32 = 64;
const CAPS_W: u32 = 100;
/// How close two lines may be and still look like one (pixels).
const SAME_LINE_PX: u64 = 4;

/// The timeline plot of one run as an SVG document.
pub fn timeline(rows: &[TimelineRow], title: &str) -> Result<String> {
    let (marks, events) = marks::events(rows);
    let late = marks::late_steps(rows);
    let listed = notes::notes(&events, late.as_ref());
    let height = 60 + 2 * PANEL_H + 24 + listed.len() as u32 * notes::LINE_H + 20;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, (FONT, TITLE)).map_err(err)?;
        let (panels, below) = root.split_vertically(2 * PANEL_H);
        let (upper, lower) = panels.split_vertically(PANEL_H);
        let counters: Vec<Line> = COUNTERS
            .iter()
            .enumerate()
            .map(|(i, (name, get))| Line {
                name,
                color: color(i),
                values: rows.iter().map(get).collect(),
            })
            .collect();
        let queues: Vec<Line> = QUEUES
            .iter()
            .enumerate()
            .map(|(i, name)| Line {
                name,
                color: color(i),
                values: rows
                    .iter()
                    .map(|r| marks::queues(r)[i].unwrap_or(0))
                    .collect(),
            })
            .collect();
        let panel_of = |lines, y_desc, queues| Panel {
            rows,
            lines,
            y_desc,
            marks: &marks,
            late: late.as_ref().filter(|_| queues),
            capacities: queues,
        };
        draw_panel(&upper, &panel_of(counters, "application counters", false))?;
        draw_panel(&lower, &panel_of(queues, "kernel queues", true))?;
        notes::draw(&below, &listed)?;
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
    marks: &'a [Mark],
    late: Option<&'a LateSteps>,
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
        .margin_top(MARKS_H)
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
    draw_marks(&mut chart, p.marks, axis.top)?;
    if !p.marks.is_empty() {
        entries.push(Entry {
            swatch: Swatch::Mark,
            text: "a narrated event, numbered as in the list below".into(),
        });
    }
    if let Some(late) = p.late {
        draw_steps(&mut chart, late, &p.lines)?;
        entries.push(Entry {
            swatch: Swatch::Ring,
            text: "a late step: a queue moves after the programs stopped (below)".into(),
        });
    }
    legend::draw(&side, MARKS_H as i32, &entries)
}

/// A vertical line at each mark, its number above the panel (stacked when marks crowd).
fn draw_marks(chart: &mut TimeChart, marks: &[Mark], top: u64) -> Result<()> {
    const NEAR_PX: i32 = 40;
    let mut last_x: Option<i32> = None;
    let mut level = 0;
    for m in marks {
        let x = chart.backend_coord(&(m.at_ms, top)).0;
        level = match last_x {
            Some(px) if x - px < NEAR_PX => (level + 1) % 3,
            _ => 0,
        };
        last_x = Some(x);
        chart
            .draw_series(LineSeries::new(
                [(m.at_ms, 0), (m.at_ms, top)],
                INK.mix(0.8).stroke_width(2),
            ))
            .map_err(err)?;
        let label = EmptyElement::at((m.at_ms, top))
            + Text::new(
                m.label(),
                (0, -6 - 20 * level),
                text(TEXT, HPos::Center, VPos::Bottom),
            );
        chart.plotting_area().draw(&label).map_err(err)?;
    }
    Ok(())
}

/// A ring in the queue's colour where each late step leaves a queue, with the step's letter.
fn draw_steps(chart: &mut TimeChart, late: &LateSteps, lines: &[Line]) -> Result<()> {
    for (i, step) in late.steps.iter().take(MAX_STEPS).enumerate() {
        for m in &step.moves {
            let ring = EmptyElement::at((step.at_ms, m.level))
                + Circle::new((0, 0), 9, lines[m.queue].color.stroke_width(LINE))
                + Text::new(letter(i), (11, -10), text(TEXT, HPos::Left, VPos::Bottom));
            chart.plotting_area().draw(&ring).map_err(err)?;
        }
    }
    Ok(())
}
