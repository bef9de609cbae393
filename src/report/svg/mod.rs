//! The plots, drawn with plotters' SVG backend into a string (the caller writes the file, so only
//! one place opens files):
//! - `sweep` (`sweep.rs`): bytes sent before the stall against a buffer size, log–log, one line per
//!   value of the other parameters (the median of the repeats, each run a dot), the prediction
//!   dashed beside it;
//! - `timeline` (`timeline.rs`): one run over time, the app counters above and the four kernel
//!   queues below with their capacities dashed (`capacity.rs`), every line visible where lines
//!   lie on each other (`overlap.rs`), the legends beside the panels (`legend.rs`), the narrated
//!   events and the late steps marked (`marks.rs`) and listed under the plot (`notes.rs`).
//!
//! Both share one look (`style.rs`), byte axes ticked at round binary sizes (`ticks.rs`) and
//! labelled through `report::human`.

mod capacity;
mod legend;
mod marks;
mod notes;
mod overlap;
pub mod style;
mod sweep;
mod ticks;
mod timeline;

use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordf64, RangedCoordu64};
use plotters::prelude::{Cartesian2d, ChartContext, SVGBackend};

pub use sweep::sweep;
pub use timeline::timeline;

type Result<T> = std::result::Result<T, String>;

/// A timeline panel: time (ms) across, bytes up, ticked at the key points of `ticks::linear`.
type TimeChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, WithKeyPoints<RangedCoordu64>>>;

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw the plot: {e}")
}
