//! Turns finished points into the series of the sweep plot: the x axis is the first flag that takes
//! several sizes, and every combination of the other flags (and strategies, when several are swept)
//! is one line. Drawing is `report::svg::sweep`'s job.

use super::{Knob, Plan, Point, SweepRow, series_label};
use crate::report::svg::Series;

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
