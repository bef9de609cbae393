//! Saves a recorded timeline: the rows as CSV (`report::csv`) and drawn as SVG
//! (`report::svg::timeline`), to whichever outputs were asked for.

use std::io::Write;

use crate::report::human;
use crate::result::RunResult;
use crate::timeline::TimelineRow;

/// Writes the recorded rows as CSV and as the plot, to whichever outputs were asked for.
pub fn save(
    rows: &[TimelineRow],
    result: &RunResult,
    csv: Option<Box<dyn Write>>,
    svg: Option<Box<dyn Write>>,
) -> anyhow::Result<()> {
    if let Some(out) = csv {
        super::csv::write_rows(rows, out)?;
    }
    if let Some(mut out) = svg {
        let happened = match &result.stall {
            Some(s) => format!(
                "deadlock after {} sent, verdict at {} ms",
                human(result.counts.client_sent_bytes),
                s.verdict_ms
            ),
            None => format!(
                "{} sent in {} ms",
                human(result.counts.client_sent_bytes),
                result.timings.elapsed_ms
            ),
        };
        let title = format!("{} client: {happened}", result.settings.strategy.as_str());
        let svg = super::svg::timeline(rows, &title).map_err(anyhow::Error::msg)?;
        out.write_all(svg.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}
