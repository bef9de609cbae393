//! The plots, drawn with plotters' SVG backend into a string (the caller writes the file, so only
//! one place opens files):
//! - `sweep`: bytes sent before the stall against a buffer size, log–log, one line per value of the
//!   other parameters (the median of the repeats, each run a dot), the prediction dashed beside it;
//! - `timeline`: one run over time, the app counters above and the four kernel queues below, so the
//!   buffers filling and then the flat line of a deadlock (or a fix's steady state) show.
//!
//! Axes carry byte counts in binary units through `units::human`.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::human;
use crate::report::sweep_plot::Series;
use crate::timeline::TimelineRow;

const SIZE: (u32, u32) = (960, 600);
const FONT: &str = "sans-serif";

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw the plot: {e}")
}

/// Median of a non-empty list (the lower middle for an even count: a value that was measured).
fn median(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s[(s.len() - 1) / 2]
}

/// The sweep plot as an SVG document.
pub fn sweep(series: &[Series], x_label: &str, title: &str) -> Result<String> {
    let xs = series.iter().flat_map(|s| {
        s.measured
            .iter()
            .map(|(x, _)| *x)
            .chain(s.predicted.iter().map(|p| p.0))
    });
    let ys = series.iter().flat_map(|s| {
        s.measured
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .chain(s.predicted.iter().map(|p| p.1))
    });
    let (xlo, xhi) = bounds(xs).ok_or("cannot draw the plot: no point has a buffer size")?;
    let (ylo, yhi) = bounds(ys).unwrap_or((1024.0, 1048576.0));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 20))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(
                (xlo / 1.3..xhi * 1.3).log_scale().base(2.0),
                (ylo / 1.5..yhi * 1.5).log_scale().base(2.0),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("bytes sent before the stall")
            .max_light_lines(1)
            .x_label_formatter(&|v| human(v.round() as u64))
            .y_label_formatter(&|v| human(v.round() as u64))
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let line: Vec<(f64, f64)> = s
                .measured
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(x, v)| (*x as f64, median(v) as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))
                .map_err(err)?
                .label(format!("{} (measured)", s.name))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            let dots = s.measured.iter().flat_map(|(x, v)| {
                v.iter()
                    .map(move |y| Circle::new((*x as f64, *y as f64), 3, color.filled()))
            });
            chart.draw_series(dots).map_err(err)?;
            let pred: Vec<(f64, f64)> = s
                .predicted
                .iter()
                .map(|(x, y)| (*x as f64, *y as f64))
                .collect();
            chart
                .draw_series(DashedLineSeries::new(pred, 8, 5, color.stroke_width(1)))
                .map_err(err)?
                .label(format!("{} (predicted)", s.name))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 8, y)], color));
        }
        // Bytes grow with the buffers, so the lower right corner is the one left empty.
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

fn bounds(v: impl Iterator<Item = u64>) -> Option<(f64, f64)> {
    let (lo, hi) = v
        .filter(|x| *x > 0)
        .fold((u64::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (hi > 0).then_some((lo as f64, hi as f64))
}

type Getter = (&'static str, fn(&TimelineRow) -> u64);

/// The app counters, top panel.
const COUNTERS: [Getter; 4] = [
    ("client sent", |r| r.client_sent_bytes),
    ("server processed", |r| r.server_processed_bytes),
    ("server sent", |r| r.server_sent_bytes),
    ("client received", |r| r.client_received_bytes),
];

/// The kernel queues, bottom panel, in the order a byte passes them.
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

/// The timeline plot of one run as an SVG document.
pub fn timeline(rows: &[TimelineRow], title: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, SIZE.1 + 200)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root.titled(title, (FONT, 20)).map_err(err)?;
        let (top, bottom) = root.split_vertically(SIZE.1 / 2 + 100);
        panel(&top, rows, &COUNTERS, "application counters (bytes)", 0)?;
        panel(&bottom, rows, &QUEUES, "kernel queues (bytes)", 4)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    rows: &[TimelineRow],
    lines: &[Getter],
    y_desc: &str,
    first_color: usize,
) -> Result<()> {
    let t_end = rows.last().map_or(1.0, |r| r.time_ms).max(1.0);
    // Headroom above the highest line keeps the legend (upper left) off the data.
    let y_max = rows
        .iter()
        .flat_map(|r| lines.iter().map(move |(_, get)| get(r)))
        .max()
        .unwrap_or(0)
        .max(1024);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..t_end, 0u64..y_max + y_max / 2)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time since the start (ms)")
        .y_desc(y_desc)
        .max_light_lines(1)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| human(*v))
        .draw()
        .map_err(err)?;
    for (i, (name, get)) in lines.iter().enumerate() {
        let color = Palette99::pick(first_color + i).to_rgba();
        let pts = rows.iter().map(|r| (r.time_ms, get(r)));
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_a_measured_value() {
        assert_eq!(median(&[5, 1, 3]), 3);
        assert_eq!(median(&[4, 1, 3, 2]), 2);
    }
}
