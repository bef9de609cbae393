//! The sweep's live line on stderr: how many points have finished (in any order, since several
//! run at once), the time left, and the last finished point in a few words. The line is at most
//! 80 columns wide with the longest values it can show, so a terminal of 80 columns shows it whole
//! instead of cutting the last result off mid-number.

use indicatif::ProgressBar;

use super::human;
use super::progress::Live;
use super::sweep_row::SweepRow;
use crate::result::Outcome;

/// `sweep [====>           ] 7/24 points, ETA 9s  deadlock after 1.02 MiB`: 25 columns for the
/// bar, up to 16 for the count (1000 points at most), 9 for the ETA (`89s`, `89m`), 2 of space and
/// up to 26 for the message (`brief`): 78 in all.
const TEMPLATE: &str = "sweep [{bar:16.cyan/blue}] {pos}/{len} points, ETA {eta}  {msg}";

/// The bar of a sweep of `len` points, drawn when `live` says so.
pub fn bar(live: Live, len: usize) -> ProgressBar {
    live.bar(len as u64, TEMPLATE)
}

/// A finished point in a few words: `deadlock after 112.50 KiB`.
pub fn brief(r: &SweepRow) -> String {
    match r.stalled_at() {
        Some(b) => format!("deadlock after {}", human(b)),
        None => match r.outcome {
            Outcome::Completed => "completed".into(),
            Outcome::TimedOut => "timed out".into(),
            Outcome::Deadlock | Outcome::Interrupted => "stopped".into(),
            _ => "failed".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::*;
    use crate::report::progress::bar_style;
    use crate::sweep::grid::MAX_POINTS;

    /// A terminal far wider than the line, so what is drawn is the line's own width.
    #[derive(Debug, Clone, Default)]
    struct Wide(Arc<Mutex<String>>);

    impl TermLike for Wide {
        fn width(&self) -> u16 {
            300
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            let mut t = self.0.lock().unwrap();
            t.push_str(s);
            t.push('\n');
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.0.lock().unwrap().push('\n');
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The text without its colour codes (`ESC [ … m`).
    fn plain(s: &str) -> String {
        console::strip_ansi_codes(s).into_owned()
    }

    fn row(outcome: Outcome, sent: u64) -> SweepRow {
        let line = include_str!("testdata/sweep.jsonl").lines().next().unwrap();
        let mut r: SweepRow = serde_json::from_str(line).unwrap();
        r.outcome = outcome;
        r.client_sent_bytes = sent;
        r
    }

    #[test]
    fn the_sweep_bar_fits_80_columns_with_its_longest_values() {
        let messages: Vec<String> = [
            row(Outcome::Deadlock, 1023 * 1024 * 1024 + 1023 * 1024),
            row(Outcome::Deadlock, 1_000_000_000_000),
            row(Outcome::TimedOut, 0),
            row(Outcome::Failed, 0),
        ]
        .iter()
        .map(brief)
        .collect();
        let longest = messages.iter().map(|m| m.len()).max().unwrap();
        assert!(
            longest >= "deadlock after 1023.00 MiB".len(),
            "{messages:?}"
        );
        for msg in messages {
            let term = Wide::default();
            let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
            let bar = ProgressBar::with_draw_target(Some(MAX_POINTS as u64), target)
                .with_style(bar_style(TEMPLATE));
            bar.set_position(MAX_POINTS as u64);
            bar.set_message(msg.clone());
            bar.force_draw();
            let drawn = plain(&term.0.lock().unwrap());
            let line = drawn
                .lines()
                .rfind(|l| l.contains(&msg))
                .unwrap_or_else(|| panic!("the message was not drawn: {drawn:?}"));
            // The test's ETA is at most `1s`; a real one is at most three characters (`89m`).
            let eta = line
                .split("ETA ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            let width = line.trim_end().chars().count() - eta.len() + 3;
            assert!(width <= 80, "{width} columns: {line:?}");
        }
    }
}
