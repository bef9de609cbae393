//! The text under the timeline: the narrated events, numbered as on the plot, in the words the
//! terminal prints (`report::narration`), and, when the run has late steps, what they are and
//! each step's moves. Laid out in columns (number or letter, time, words), because SVG text
//! collapses the spaces a terminal would align with.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::marks::{LateSteps, QUEUES};
use super::style::{TEXT, text};
use super::{Result, err};
use crate::report::human_signed;
use crate::report::narration::event_text;
use crate::report::wrap::wrap;
use crate::result::Event;

/// Pixels from one line to the next.
pub const LINE_H: u32 = 26;
/// Columns of a line's words.
const COLUMNS: usize = 140;
/// Late steps ringed and listed at most; more are counted.
pub const MAX_STEPS: usize = 8;

/// One line: the words, after a number or letter and a time when `keyed` (its continuation lines
/// are keyed too, with both blank), else from the margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    key: String,
    time: String,
    text: String,
    keyed: bool,
}

impl Note {
    fn plain(text: &str) -> Note {
        Note {
            key: String::new(),
            time: String::new(),
            text: text.to_string(),
            keyed: false,
        }
    }
}

/// The letter of the `i`-th late step: a, b, c, …
pub fn letter(i: usize) -> String {
    char::from(b'a' + (i % 26) as u8).to_string()
}

fn ms(t: f64) -> String {
    format!("{t:.0} ms")
}

fn keyed(out: &mut Vec<Note>, key: String, time: String, words: &str) {
    for (i, line) in wrap(words, COLUMNS - 20, "").lines().enumerate() {
        let first = i == 0;
        out.push(Note {
            key: if first { key.clone() } else { String::new() },
            time: if first { time.clone() } else { String::new() },
            text: line.to_string(),
            keyed: true,
        });
    }
}

/// The lines under the plot.
pub fn notes(events: &[Event], late: Option<&LateSteps>) -> Vec<Note> {
    let mut out = Vec::new();
    if !events.is_empty() {
        out.push(Note::plain(
            "What happened, as the terminal told it (numbered as on the plot):",
        ));
    }
    for (n, e) in events.iter().enumerate() {
        keyed(
            &mut out,
            (n + 1).to_string(),
            ms(e.at_ms as f64),
            &event_text(&e.kind),
        );
    }
    let Some(late) = late else { return out };
    let shown = late.steps.len().min(MAX_STEPS);
    let letters = match shown {
        1 => "a".to_string(),
        n => format!("a–{}", letter(n - 1)),
    };
    let why = format!(
        "After {} neither program moves a byte, yet the queues still step ({letters}, ringed). \
         While the other side's window is smaller than one packet, a sending kernel holds its \
         data back until its zero-window probe timer fires (200 ms or more after it was set), \
         then sends what fits: the piece lands in the next queue, and leaves the sender's queue \
         when it is acknowledged.",
        ms(late.counters_still_from_ms)
    );
    out.push(Note::plain(""));
    for line in wrap(&why, COLUMNS, "").lines() {
        out.push(Note::plain(line));
    }
    for (i, step) in late.steps.iter().take(MAX_STEPS).enumerate() {
        let moves: Vec<String> = step
            .moves
            .iter()
            .map(|m| {
                let sign = if m.change > 0 { "+" } else { "" };
                format!("{} {sign}{}", QUEUES[m.queue], human_signed(m.change))
            })
            .collect();
        keyed(&mut out, letter(i), ms(step.at_ms), &moves.join(", "));
    }
    if late.steps.len() > MAX_STEPS {
        let more = late.steps.len() - MAX_STEPS;
        out.push(Note::plain(&format!("and {more} more steps after that")));
    }
    out
}

/// Draws the lines down `area`.
pub fn draw(area: &DrawingArea<SVGBackend<'_>, Shift>, notes: &[Note]) -> Result<()> {
    const KEY_X: i32 = 56;
    const TIME_X: i32 = 150;
    const TEXT_X: i32 = 166;
    const MARGIN_X: i32 = 20;
    let right = text(TEXT, HPos::Right, VPos::Center);
    let left = text(TEXT, HPos::Left, VPos::Center);
    for (i, n) in notes.iter().enumerate() {
        let y = 24 + i as i32 * LINE_H as i32;
        if !n.key.is_empty() {
            area.draw(&Text::new(n.key.clone(), (KEY_X, y), right.clone()))
                .map_err(err)?;
        }
        if !n.time.is_empty() {
            area.draw(&Text::new(n.time.clone(), (TIME_X, y), right.clone()))
                .map_err(err)?;
        }
        let x = if n.keyed { TEXT_X } else { MARGIN_X };
        area.draw(&Text::new(n.text.clone(), (x, y), left.clone()))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::human;
    use crate::report::svg::marks::{Move, Step};
    use crate::result::EventKind;

    #[test]
    fn events_are_listed_in_the_terminals_words_and_late_steps_with_their_moves() {
        let events = [Event {
            at_ms: 480,
            kind: EventKind::BothWindowsZero,
        }];
        let late = LateSteps {
            counters_still_from_ms: 92.4,
            steps: vec![Step {
                at_ms: 463.0,
                moves: vec![
                    Move {
                        queue: 0,
                        change: -38_098,
                        level: 97_604,
                    },
                    Move {
                        queue: 1,
                        change: 38_098,
                        level: 88_644,
                    },
                ],
            }],
        };
        let n = notes(&events, Some(&late));
        let event = &n[1];
        assert_eq!((event.key.as_str(), event.time.as_str()), ("1", "480 ms"));
        assert_eq!(event.text, event_text(&EventKind::BothWindowsZero));
        assert!(
            n[3].text
                .starts_with("After 92 ms neither program moves a byte"),
            "{n:?}"
        );
        let step = n.iter().find(|l| l.key == "a").expect("step a");
        assert_eq!(step.time, "463 ms");
        assert_eq!(
            step.text,
            format!(
                "client send queue -{0}, server receive queue +{0}",
                human(38_098)
            )
        );
    }

    #[test]
    fn a_run_without_events_or_late_steps_has_nothing_under_the_plot() {
        assert!(notes(&[], None).is_empty());
    }
}
