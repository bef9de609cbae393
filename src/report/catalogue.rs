//! The catalogue's views: the list of experiments, an experiment's page, and what `tcplab run N`
//! prints: what to watch, each command's report and checks, and the PASS/FAIL block.

use std::io::{self, Write};

use serde_json::Value;

use crate::catalogue::Experiment;
use crate::catalogue::verdict::{self, CommandReport, Comparison};
use crate::report::human;
use crate::result::RunResult;

pub fn write_list(list: &[Experiment], out: &mut dyn Write) -> io::Result<()> {
    for e in list {
        writeln!(out, "{:>2}  {:<26} {}", e.number, e.slug, e.title)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "'tcplab show N' reads an experiment's page; 'tcplab run N' runs it and checks the result."
    )
}

pub fn write_page(exp: &Experiment, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", exp.page.trim_end())?;
    writeln!(out)?;
    writeln!(
        out,
        "'tcplab run {}' runs (each with --json, and checks the result):",
        exp.number
    )?;
    for c in &exp.commands {
        writeln!(out, "  tcplab {}", c.join(" "))?;
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}").trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The experiment's title and, unless quiet, its summary and what to watch.
pub fn write_intro(exp: &Experiment, quiet: bool, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Experiment {}: {}\n", exp.number, exp.title)?;
    if !quiet {
        writeln!(
            out,
            "{}\n\nWhat to watch:\n{}\n",
            exp.summary,
            indent(&exp.watch)
        )?;
    }
    Ok(())
}

/// What to watch, for a run whose report is JSON (on stderr, where the live views are).
pub fn write_watch(exp: &Experiment, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "What to watch:\n{}\n", indent(&exp.watch))
}

/// The line announcing command `i` of `n`.
pub fn write_command_start(
    i: usize,
    n: usize,
    args: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "[{}/{n}] tcplab {}", i + 1, args.join(" "))
}

/// The child's own text report (for the core commands, whose JSON is a `RunResult`), then one line
/// on its outcome and checks.
pub fn write_command(
    rep: &CommandReport,
    doc: Option<&Value>,
    quiet: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let run: Option<RunResult> = doc
        .filter(|d| d.get("settings").is_some())
        .and_then(|d| serde_json::from_value(d.clone()).ok());
    if let (Some(r), false) = (&run, quiet) {
        super::text::write_run(r, &mut &mut *out)?;
        writeln!(out)?;
    }
    let mark = if rep.held {
        "as expected"
    } else {
        "NOT as expected"
    };
    match (&rep.outcome, &rep.problem) {
        (_, Some(p)) => writeln!(out, "  → {p}; expected '{}'", rep.expected_outcome)?,
        (Some(o), None) => {
            let moved = run
                .map(|r| {
                    format!(
                        " ({} sent by the client in {:.2} s)",
                        human(r.counts.client_sent_bytes),
                        r.timings.elapsed_ms as f64 / 1000.0
                    )
                })
                .unwrap_or_default();
            writeln!(out, "  → {o}{moved}: {mark}")?
        }
        (None, None) => {}
    }
    for c in &rep.checks {
        let mark = if c.held { "holds" } else { "does NOT hold" };
        writeln!(out, "    {}: found {}, {mark}", c.check, c.actual)?;
    }
    writeln!(out)
}

/// The comparisons across commands, then PASS, FAIL or INTERRUPTED, then the questions.
pub fn write_verdict(
    exp: &Experiment,
    reports: &[CommandReport],
    comparisons: &[Comparison],
    passed: bool,
    interrupted: bool,
    quiet: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for c in comparisons {
        let vals: Vec<String> = c.values.iter().map(Value::to_string).collect();
        let mark = if c.held {
            "as expected"
        } else {
            "NOT as expected"
        };
        writeln!(
            out,
            "{} from command to command: {} ({mark}, expected {})",
            c.pointer,
            vals.join(" → "),
            c.kind
        )?;
    }
    let n = exp.number;
    if interrupted {
        writeln!(
            out,
            "INTERRUPTED: experiment {n} was stopped with {} before it ended; no verdict.",
            crate::interrupt::signal_name()
        )?;
    } else if passed {
        writeln!(
            out,
            "PASS: experiment {n} did what its page describes: {}.",
            verdict::describe_expectation(exp)
        )?;
    } else {
        let why = verdict::first_failure(reports, comparisons).unwrap_or_default();
        writeln!(
            out,
            "FAIL: experiment {n} did not do what its page describes: {why}. \
             This machine may behave differently (docs/kernel-facts.md); 'tcplab show {n}' explains what was expected."
        )?;
    }
    if !quiet && !interrupted {
        writeln!(out, "\nQuestions to think about:")?;
        for h in &exp.hints {
            writeln!(out, "  - {}", h.replace('\n', "\n    "))?;
        }
        writeln!(out, "\n'tcplab show {n}' explains what happened and why.")?;
    }
    Ok(())
}
