//! The status line of a check while it runs, on a terminal: what the connection has moved so far,
//! from the samples the check takes anyway (the same ones its timeline records), so a slow client
//! shows progress instead of a header and a long silence. Drawn through the progress factory, so
//! it is hidden under `--quiet`, `--json` and without a terminal. The check's own lines are
//! printed through `say`, above the status line, which is cut (never wrapped) at the terminal's
//! width.

use std::time::Duration;

use indicatif::ProgressBar;

use crate::observe::Observer;
use crate::report::human;
use crate::report::progress::Live;
use crate::sample::Sample;

/// How often the spinner turns while nothing is sampled (before the connection).
const TICK: Duration = Duration::from_millis(100);

/// The status line; one for the whole check (each run's samples start again from zero). It is
/// cleared when dropped, also when the check ends in an error.
pub struct CheckProgress {
    bar: ProgressBar,
    shown: bool,
}

/// What feeds the status line: an `Observer` for the check's samples.
pub struct Feed {
    bar: ProgressBar,
}

impl CheckProgress {
    pub fn new(live: Live) -> CheckProgress {
        let bar = live.line("{spinner} {elapsed:>3} {wide_msg}");
        if live.shown() {
            bar.enable_steady_tick(TICK);
        }
        bar.set_message(WAITING);
        CheckProgress {
            bar,
            shown: live.shown(),
        }
    }

    /// The observer that moves this line.
    pub fn feed(&self) -> Feed {
        Feed {
            bar: self.bar.clone(),
        }
    }

    /// Prints `line` on stderr above the status line, when the line is shown at all (a script
    /// sees no progress lines, only the report and errors).
    pub fn say(&self, line: &str) {
        if self.shown {
            let line = crate::report::wrap::for_stderr(line);
            self.bar.suspend(|| eprintln!("{line}"));
            self.bar.reset_elapsed();
            self.bar.set_message(WAITING);
        }
    }
}

impl Drop for CheckProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Said until the first sample of a run.
const WAITING: &str = "waiting for the connection";

/// What has moved so far, as the status line says it.
pub fn moved_line(s: &Sample) -> String {
    let c = &s.counts;
    format!(
        "client sent {} · server echoed {} · client read {} back",
        human(c.client_sent_bytes),
        human(c.server_sent_bytes),
        human(c.client_received_bytes)
    )
}

impl Observer for Feed {
    fn sample(&mut self, s: &Sample) {
        self.bar.set_message(moved_line(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Counts;

    #[test]
    fn the_status_line_says_what_has_moved_in_each_direction() {
        let s = Sample {
            counts: Counts {
                client_sent_bytes: 3 << 20,
                server_received_bytes: 2 << 20,
                server_sent_bytes: 2 << 20,
                client_received_bytes: 1 << 20,
            },
            ..Sample::default()
        };
        assert_eq!(
            moved_line(&s),
            "client sent 3 MiB · server echoed 2 MiB · client read 1 MiB back"
        );
    }
}
