//! Turns finished points into the series of the sweep plot: the x axis is the first flag that takes
//! several sizes, and every combination of the other flags (and strategies, when several are swept)
//! is one line. Drawing is `report::svg::sweep`'s job.

use super::{Knob, Plan, Point, SweepRow};
use crate::report::svg::Series;
use crate::units::{BufSize, human};

/// The x axis and the series, or `None` when no flag of the sweep takes a byte size.
pub fn series(plan: &Plan, done: &[(Point, SweepRow)]) -> Option<(Knob, Vec<Series>)> {
    let x = plan.x_knob()?;
    let several = plan.strategies.len() > 1;
    let mut out: Vec<Series> = Vec::new();
    for (p, r) in done {
        let Some(xv) = p
            .values
            .iter()
            .find(|(k, _)| *k == x)
            .and_then(|(_, v)| v.requested())
        else {
            continue;
        };
        let name = series_label(p, Some(x), several);
        let i = match out.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                out.push(Series {
                    name,
                    ..Series::default()
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        let j = match s.measured.iter().position(|(mx, _)| *mx == xv) {
            Some(j) => j,
            None => {
                s.measured.push((xv, Vec::new()));
                s.predicted.push((xv, r.predicted_capacity_bytes));
                s.measured.len() - 1
            }
        };
        if let Some(b) = r.stalled_at() {
            s.measured[j].1.push(b);
        }
    }
    for s in &mut out {
        s.measured.sort_by_key(|m| m.0);
        s.predicted.sort_by_key(|m| m.0);
    }
    Some((x, out))
}

/// A point's values other than `x` (and its strategy, when several are swept), as a legend names
/// them: `SO_RCVBUF (both peers) 4 KiB, naive`.
pub fn series_label(p: &Point, x: Option<Knob>, several_strategies: bool) -> String {
    let mut parts: Vec<String> = p
        .values
        .iter()
        .filter(|(k, _)| Some(*k) != x)
        .map(|(k, v)| format!("{} {}", k.label(), show(*v)))
        .collect();
    if several_strategies || parts.is_empty() {
        parts.push(p.strategy.as_str().to_string());
    }
    parts.join(", ")
}

fn show(v: BufSize) -> String {
    match v.requested() {
        Some(n) => human(n),
        None => "auto".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::common::StrategyName;
    use crate::units::ByteSize;
    use std::time::Duration;

    fn kib(n: u64) -> BufSize {
        BufSize::Bytes(ByteSize(n * 1024))
    }

    #[test]
    fn legends_name_every_value_but_the_x_axis() {
        let p = Plan {
            axes: vec![
                (Knob::Sndbuf, vec![kib(4), kib(16)]),
                (Knob::Rcvbuf, vec![kib(4)]),
            ],
            strategies: vec![StrategyName::Naive],
            repeat: 1,
            chunk: 16,
            read: 1024,
            bytes: None,
            nodelay: false,
            buffers_after_connect: false,
            stall_after: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            host: "127.0.0.1".into(),
        };
        let pts = p.points();
        assert_eq!(
            series_label(&pts[0], p.x_knob(), false),
            "SO_RCVBUF (both peers) 4 KiB"
        );
    }
}
