//! The sweep plot's data: finished points turned into series: the x axis is the first flag that takes
//! several sizes, and every combination of the other flags (and strategies, when several are swept)
//! is one line. Drawing is `report::svg::sweep`'s job, and so is naming the values: a legend is a
//! list of `(flag, value)` pairs until the view words it.

use std::io::Write;

use crate::report::human;
use crate::report::sweep_row::SweepRow;
use crate::sweep::{Knob, Plan, Point};
use crate::units::BufSize;

/// One line of the sweep plot.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The legend text: the values of the parameters other than the x axis.
    pub name: String,
    /// Each x (bytes) with the bytes sent before the stall in each run that stalled there.
    pub measured: Vec<(u64, Vec<u64>)>,
    /// The model's prediction at each x (bytes).
    pub predicted: Vec<(u64, u64)>,
}

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
        .map(|(k, v)| format!("{} {}", knob_label(*k), show(*v)))
        .collect();
    if several_strategies || parts.is_empty() {
        parts.push(p.strategy.as_str().to_string());
    }
    parts.join(", ")
}

/// What a plot axis or legend calls it.
pub fn knob_label(k: Knob) -> &'static str {
    match k {
        Knob::Buffers => "each of the four buffers",
        Knob::Sndbuf => "SO_SNDBUF (both peers)",
        Knob::Rcvbuf => "SO_RCVBUF (both peers)",
        Knob::ClientSndbuf => "client SO_SNDBUF",
        Knob::ClientRcvbuf => "client SO_RCVBUF",
        Knob::ServerSndbuf => "server SO_SNDBUF",
        Knob::ServerRcvbuf => "server SO_RCVBUF",
    }
}

fn show(v: BufSize) -> String {
    match v.requested() {
        Some(n) => human(n),
        None => "auto".into(),
    }
}

/// Draws the plot of the points that finished into `out`.
pub fn write_plot(
    plan: &Plan,
    done: &[(Point, SweepRow)],
    mut out: Box<dyn Write>,
) -> anyhow::Result<()> {
    let Some((x, series)) = series(plan, done) else {
        anyhow::bail!("cannot draw --plot: no swept flag takes a byte size");
    };
    let title = format!(
        "Bytes sent before the deadlock ({}, {} B writes); dashed: the sum of the four buffers",
        plan.strategies
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.chunk
    );
    let svg = super::svg::sweep(&series, &format!("{} (requested)", knob_label(x)), &title)
        .map_err(anyhow::Error::msg)?;
    out.write_all(svg.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::StrategyName;
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
            jobs: std::num::NonZeroUsize::MIN,
        };
        let pts = p.points();
        assert_eq!(
            series_label(&pts[0], p.x_knob(), false),
            "SO_RCVBUF (both peers) 4 KiB"
        );
    }
}
