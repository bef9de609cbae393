//! The sweep plot: bytes sent before the stall against the swept buffer size, both axes log2 and
//! ticked at powers of two. Each series is a solid line through the median of its runs with a dot
//! per run, and its prediction dashed in the same colour with a ring at each size, so a prediction
//! the measurement lies on still shows.

use plotters::prelude::*;

use super::style::{AXIS, FONT, LINE, TEXT, TITLE, WIDTH, color};
use super::ticks;
use super::{Result, err};
use crate::report::human;
use crate::report::sweep_plot::Series;

const HEIGHT: u32 = 860;

/// Median of a non-empty list (the lower middle for an even count: a value that was measured).
fn median(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s[(s.len() - 1) / 2]
}

fn bounds(v: impl Iterator<Item = u64>) -> Option<(f64, f64)> {
    let (lo, hi) = v
        .filter(|x| *x > 0)
        .fold((u64::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (hi > 0).then_some((lo as f64, hi as f64))
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
    let (x, y) = (ticks::log2(xlo, xhi), ticks::log2(ylo, yhi));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, TITLE))
            .margin(20)
            .x_label_area_size(80)
            .y_label_area_size(130)
            .build_cartesian_2d(
                (x.lo..x.hi).log_scale().base(2.0).with_key_points(x.ticks),
                (y.lo..y.hi).log_scale().base(2.0).with_key_points(y.ticks),
            )
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("bytes sent before the stall")
            .label_style((FONT, TEXT))
            .axis_desc_style((FONT, AXIS))
            .bold_line_style(BLACK.mix(0.15))
            .light_line_style(TRANSPARENT)
            .x_label_formatter(&|v| human(v.round() as u64))
            .y_label_formatter(&|v| human(v.round() as u64))
            .draw()
            .map_err(err)?;
        for (i, s) in series.iter().enumerate() {
            let c = color(i);
            let line: Vec<(f64, f64)> = s
                .measured
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(x, v)| (*x as f64, median(v) as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(line, c.stroke_width(LINE)))
                .map_err(err)?
                .label(format!("{} (measured: median line, a dot per run)", s.name))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new([(0, 0), (30, 0)], c.stroke_width(LINE))
                        + Circle::new((15, 0), 5, c.filled())
                });
            let dots = s.measured.iter().flat_map(|(x, v)| {
                v.iter()
                    .map(move |y| Circle::new((*x as f64, *y as f64), 5, c.filled()))
            });
            chart.draw_series(dots).map_err(err)?;
            let pred: Vec<(f64, f64)> = s
                .predicted
                .iter()
                .map(|(x, y)| (*x as f64, *y as f64))
                .collect();
            let rings = pred
                .iter()
                .map(|p| Circle::new(*p, 9, c.stroke_width(2)))
                .collect::<Vec<_>>();
            chart
                .draw_series(DashedLineSeries::new(pred, 12, 8, c.stroke_width(LINE)))
                .map_err(err)?
                .label(format!("{} (predicted: dashed, a ring per size)", s.name))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new([(0, 0), (10, 0)], c.stroke_width(LINE))
                        + PathElement::new([(18, 0), (30, 0)], c.stroke_width(LINE))
                        + Circle::new((15, 0), 7, c.stroke_width(2))
                });
            chart.draw_series(rings).map_err(err)?;
        }
        // Bytes grow with the buffers, so the lower right corner is the one left empty.
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, TEXT))
            .legend_area_size(40)
            .margin(16)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
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
