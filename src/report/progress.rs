//! The one progress factory: every live bar, gauge and status line of tcplab is made here, and
//! one rule decides whether it is drawn at all (hyperfine's `get_progress_bar` is the model).
//!
//! The rule: live output goes to stderr, and is drawn only when stderr is a terminal and the
//! command was not asked for `--quiet` or `--json`. `tcplab run` captures a child's stdout (its
//! JSON) while a student watches the terminal: `TCPLAB_LIVE=1` tells the child that it is watched,
//! so it draws its live view (and its text summary, on stderr) despite `--json`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::catalogue::child::LIVE_ENV;

/// Redraws per second of every live view.
pub const HZ: u8 = 10;

/// Whether anything live is drawn, decided once per command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    shown: bool,
}

impl Live {
    /// The one rule (see the module doc).
    pub fn decide(quiet: bool, json: bool) -> Live {
        let terminal = std::io::stderr().is_terminal();
        let shown = !quiet && terminal && (!json || watched_by_runner());
        Live { shown }
    }

    pub fn shown(self) -> bool {
        self.shown
    }

    fn target(self) -> ProgressDrawTarget {
        if self.shown {
            ProgressDrawTarget::stderr_with_hz(HZ)
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A bar of `len` steps drawn with `template` (indicatif's template language).
    pub fn bar(self, len: u64, template: &str) -> ProgressBar {
        ProgressBar::with_draw_target(Some(len), self.target()).with_style(bar_style(template))
    }

    /// A line of text (a status line, or several lines: a multi-line message is drawn as is).
    pub fn line(self, template: &str) -> ProgressBar {
        let b = ProgressBar::with_draw_target(None, self.target());
        b.set_style(style(template));
        b
    }
}

/// The style of every bar, for a test that draws one on a terminal of its own.
pub(crate) fn bar_style(template: &str) -> ProgressStyle {
    style(template).progress_chars("=> ")
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants of this crate; a typo is a bug that every test run shows.
    ProgressStyle::with_template(template).expect("a valid indicatif template")
}

/// Whether `tcplab run` is watching this process on the terminal (see the module doc).
pub fn watched_by_runner() -> bool {
    std::env::var_os(LIVE_ENV).is_some_and(|v| v == "1") && std::io::stderr().is_terminal()
}
