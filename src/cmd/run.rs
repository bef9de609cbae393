//! `tcplab run N`: says what to watch, runs the experiment (`catalogue::runner`), telling each
//! command as it starts and ends, and prints the verdict (`report::catalogue`). Exit 0 when the
//! expectation held, 1 when it did not, 130 or 143 when a signal stopped it, 2 for an unknown
//! experiment.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::Value;

use crate::catalogue::files::LabDir;
use crate::catalogue::runner::{self, Progress};
use crate::catalogue::verdict::CommandReport;
use crate::catalogue::{self, Experiment};
use crate::cli::catalogue::RunArgs;
use crate::interrupt;
use crate::report::catalogue::Verdict;
use crate::report::export::{self, Format};
use crate::report::{self, progress::Live};

pub fn main(a: &RunArgs) -> anyhow::Result<ExitCode> {
    let exp = catalogue::pick(&a.experiment)?;
    let format = a.format.get();
    export::supported::<Verdict>(format)?;
    let live = Live::decide(a.quiet, a.format.machine());
    // The programs the commands run ({lab}), written into a folder removed when `lab` is dropped.
    let lab = catalogue::files::prepare(&exp)?;
    let mut told = Told {
        exp: &exp,
        text: format == Format::Text,
        // A child watched live prints its own summary on the terminal.
        quiet: a.quiet || live.shown(),
    };
    if told.text {
        say(|o| report::catalogue::write_intro(&exp, a.quiet, o))?;
        if let (Some(dir), false) = (lab.as_ref().map(LabDir::path), a.quiet) {
            say(|o| report::catalogue::write_lab_dir(dir, o))?;
        }
    } else if !a.quiet {
        report::catalogue::write_watch(&exp, &mut io::stderr().lock())?;
    }
    let r = runner::run(&exp, lab.as_ref(), live.shown(), &mut told)?;
    let verdict = Verdict {
        report: &r,
        exp: &exp,
        quiet: a.quiet,
    };
    if told.text {
        say(|o| export::Document::text(&verdict, o))?;
    } else {
        export::print(&verdict, format)?;
    }
    Ok(ExitCode::from(match (r.interrupted, r.passed) {
        (true, _) => interrupt::exit_code(),
        (false, true) => 0,
        (false, false) => 1,
    }))
}

/// Tells a person each command as it starts and ends (nothing for a script).
struct Told<'a> {
    exp: &'a Experiment,
    text: bool,
    quiet: bool,
}

impl Progress for Told<'_> {
    fn command_start(&mut self, i: usize, n: usize, args: &[String]) {
        if self.text {
            let _ = say(|o| report::catalogue::write_command_start(i, n, args, o));
        }
    }

    fn command_done(&mut self, rep: &CommandReport, doc: Option<&Value>) {
        if self.text {
            let _ = say(|o| report::catalogue::write_command(rep, doc, self.quiet, o));
        }
    }

    fn retry(&mut self, attempt: u32) {
        if self.text {
            let _ = say(|o| report::catalogue::write_retry(self.exp, attempt, o));
        }
    }
}

/// Writes a piece of the run's text view to stdout, wrapped to the terminal at word boundaries,
/// and flushes, so the text appears before the next child's live view.
fn say(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut text = Vec::new();
    f(&mut text)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(report::wrap::for_stdout(&String::from_utf8_lossy(&text)).as_bytes())?;
    out.flush()
}
