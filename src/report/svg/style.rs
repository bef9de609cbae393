//! The look both plots share, chosen for a projector at the back of a room and for students who do
//! not tell red from green: the Okabe–Ito colours (Okabe & Ito, "Color Universal Design", 2008)
//! without their yellow, which is too faint on white; data lines at least 3 px wide; text no
//! smaller than 16 px on a 1400 px page. Solid lines are measurements; dashed lines are limits
//! (a queue's capacity) or predictions, in every plot.

use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{IntoFont, RGBColor, TextStyle};

/// Blue, vermillion, bluish green, reddish purple, orange, sky blue, black: the order the lines
/// take them in. The first four are the strongest on white, and a timeline panel uses only those.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
];

/// The colour of the `i`-th line (colours repeat after seven).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Text, and marks that are not one queue's: event lines, a capacity several queues share.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// The narrowest data line (pixels); a line drawn inside another is this much narrower each time.
pub const LINE: u32 = 3;

/// The page's width (pixels); heights follow from what each plot holds.
pub const WIDTH: u32 = 1400;

pub const FONT: &str = "sans-serif";

/// Font sizes as plotters takes them: its SVG backend writes `font-size` = size / 1.24, so 20
/// gives 16 px text.
pub const TITLE: f64 = 30.0;
pub const AXIS: f64 = 22.0;
pub const TEXT: f64 = 20.0;

/// Text in ink at `size`, anchored as given.
pub fn text(size: f64, h: HPos, v: VPos) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK).pos(Pos::new(h, v))
}
