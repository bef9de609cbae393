//! `tcplab run N`: says what to watch, runs each of the experiment's commands as a child process
//! (`catalogue::child`), judges the results (`catalogue::verdict`), and prints the verdict
//! (`report::catalogue`). Exit 0 when the expectation held, 1 when it did not, 130 or 143 when a
//! signal stopped it, 2 for an unknown experiment.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::Value;

use crate::catalogue::Experiment;
use crate::catalogue::child;
use crate::catalogue::files::Prepared;
use crate::catalogue::verdict::{self, CommandReport, Comparison, RunReport};
use crate::cli::catalogue::RunArgs;
use crate::interrupt;
use crate::report::{self, progress::Live};

pub fn main(a: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(exp) = super::experiment(&a.experiment)? else {
        return Ok(ExitCode::from(2));
    };
    let exp = &exp;
    let text = !a.json;
    let live = Live::decide(a.quiet, a.json);
    // The programs the commands run ({lab}), written into a folder removed when `lab` is dropped.
    let lab = crate::catalogue::files::prepare(exp)?;
    if text {
        say(|o| report::catalogue::write_intro(exp, a.quiet, o))?;
        if let (Some(dir), false) = (lab.lab_dir(), a.quiet) {
            say(|o| report::catalogue::write_lab_dir(dir, o))?;
        }
    } else if !a.quiet {
        report::catalogue::write_watch(exp, &mut io::stderr().lock())?;
    }
    let mut attempt = 1;
    let (reports, comparisons, passed, interrupted) = loop {
        let tried = attempt_once(exp, &lab, a, live, text)?;
        let (_, _, passed, interrupted) = &tried;
        if *passed || *interrupted || attempt >= exp.attempts {
            break tried;
        }
        attempt += 1;
        if text {
            say(|o| report::catalogue::write_retry(exp, attempt, o))?;
        }
    };
    if text {
        say(|o| {
            report::catalogue::write_verdict(
                exp,
                &reports,
                &comparisons,
                passed,
                interrupted,
                a.quiet,
                o,
            )
        })?;
    } else {
        let mut doc = RunReport::new(exp, reports, comparisons, passed, interrupted);
        doc.attempts = attempt;
        report::json::write(&doc, io::stdout().lock())?;
    }
    Ok(ExitCode::from(match (interrupted, passed) {
        (true, _) => interrupt::exit_code(),
        (false, true) => 0,
        (false, false) => 1,
    }))
}

/// What one attempt at the experiment gave: each command's report, the comparisons, whether it
/// passed, whether a signal stopped it.
type Attempt = (Vec<CommandReport>, Vec<Comparison>, bool, bool);

fn attempt_once(
    exp: &Experiment,
    lab: &Prepared,
    a: &RunArgs,
    live: Live,
    text: bool,
) -> anyhow::Result<Attempt> {
    let mut reports = Vec::new();
    let mut docs = Vec::new();
    let mut interrupted = false;
    for i in 0..exp.commands.len() {
        let args = &exp.command(i, live.shown());
        if text {
            say(|o| report::catalogue::write_command_start(i, exp.commands.len(), args, o))?;
        }
        let ran = child::run(&lab.fill(args), live.shown(), child::deadline_for(args))?;
        let doc: Option<Value> = serde_json::from_str(&ran.stdout).ok();
        let rep = verdict::judge_command(exp, i, doc.as_ref(), &ran);
        if text {
            // A child watched live has printed its own summary on the terminal already.
            let quiet = a.quiet || live.shown();
            say(|o| report::catalogue::write_command(&rep, doc.as_ref(), quiet, o))?;
        }
        interrupted = rep.outcome.as_deref() == Some("interrupted")
            || matches!(ran.exit_code, Some(130 | 143))
            || interrupt::requested();
        reports.push(rep);
        docs.push(doc);
        if interrupted {
            break;
        }
    }
    let comparisons = if interrupted {
        Vec::new()
    } else {
        verdict::compare(exp, &docs)
    };
    let passed = !interrupted
        && reports.len() == exp.commands.len()
        && reports.iter().all(|r| r.held)
        && comparisons.iter().all(|c| c.held);
    Ok((reports, comparisons, passed, interrupted))
}

/// Writes to stdout and flushes, so the text appears before the next child's live view; an error
/// (a closed pipe) is returned rather than panicking as `println!` would.
/// Writes a piece of the run's text view to stdout, wrapped to the terminal at word boundaries.
fn say(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut text = Vec::new();
    f(&mut text)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(report::wrap::for_stdout(&String::from_utf8_lossy(&text)).as_bytes())?;
    out.flush()
}
