//! The timeline's legends, one column beside each panel, drawn with plotters' elements: each entry
//! a swatch that looks like what it names (a line at its own width, a dashed limit, an event mark,
//! a ring) and its words, wrapped to the column. Kept off the plotting area, so no legend ever
//! covers a line.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{FONT, INK, TEXT};
use super::{Result, err};
use crate::report::wrap::wrap;

/// What an entry's swatch looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A solid line of this colour and width (pixels).
    Line(RGBColor, u32),
    /// A dashed line of this colour.
    Dashed(RGBColor),
    /// A narrated event's vertical mark.
    Mark,
    /// The ring around a late step.
    Ring,
}

/// One entry: its swatch and its words.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub swatch: Swatch,
    pub text: String,
}

/// Columns of text in a legend line (16 px sans-serif, 270 px beside the swatch).
const COLUMNS: usize = 27;
/// Pixels from one line of text to the next, and between entries.
const LINE_GAP: i32 = 22;
const ENTRY_GAP: i32 = 10;
const SWATCH: (i32, i32) = (8, 48);
const TEXT_AT: i32 = 58;

/// Draws the entries down `area`, starting `top` pixels from its top.
pub fn draw(area: &DrawingArea<SVGBackend<'_>, Shift>, top: i32, entries: &[Entry]) -> Result<()> {
    let font = (FONT, TEXT)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = top;
    for e in entries {
        let mid = y + LINE_GAP / 2;
        swatch(area, e.swatch, mid)?;
        for (i, line) in wrap(&e.text, COLUMNS, "").lines().enumerate() {
            let at = (TEXT_AT, mid + i as i32 * LINE_GAP);
            area.draw(&Text::new(line.to_string(), at, font.clone()))
                .map_err(err)?;
            y += LINE_GAP;
        }
        y += ENTRY_GAP;
    }
    Ok(())
}

fn swatch(area: &DrawingArea<SVGBackend<'_>, Shift>, s: Swatch, y: i32) -> Result<()> {
    let (x0, x1) = SWATCH;
    match s {
        Swatch::Line(c, w) => {
            area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(w)))
        }
        Swatch::Dashed(c) => area.draw(&DashedPathElement::new(
            vec![(x0, y), (x1, y)],
            10,
            6,
            c.stroke_width(3),
        )),
        Swatch::Mark => {
            let x = (x0 + x1) / 2;
            area.draw(&PathElement::new(
                vec![(x, y - 10), (x, y + 10)],
                INK.mix(0.8).stroke_width(2),
            ))
        }
        Swatch::Ring => area.draw(&Circle::new(((x0 + x1) / 2, y), 8, INK.stroke_width(3))),
    }
    .map_err(err)
}
