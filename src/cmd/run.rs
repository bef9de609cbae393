//! `tcplab run N`: says what to watch, runs each of the experiment's commands as a child process
//! (`catalogue::child`), judges the results (`catalogue::verdict`), and prints one pass/fail line
//! that says what the result means. Exit 0 when the expectation held, 1 when it did not, 130 on
//! Ctrl-C, 2 for an unknown experiment.

use std::io::{self, Write};
use std::process::ExitCode;

use serde::Serialize;
use serde_json::Value;

use crate::catalogue::verdict::{self, CommandReport, Comparison};
use crate::catalogue::{Experiment, child};
use crate::cli::catalogue::RunArgs;
use crate::result::RunResult;
use crate::units::human;
use crate::{interrupt, progress, report};

/// Version of the runner's JSON document.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// The runner's JSON document (`tcplab run N --json`).
#[derive(Debug, Serialize)]
pub struct RunReport<'a> {
    pub format_version: u32,
    pub experiment: u32,
    pub slug: &'a str,
    pub title: &'a str,
    pub commands: Vec<CommandReport>,
    pub comparisons: Vec<Comparison>,
    /// True when every command met its expectation and every comparison held.
    pub passed: bool,
    /// True when Ctrl-C stopped the run before its end.
    pub interrupted: bool,
}

pub fn main(a: &RunArgs) -> anyhow::Result<ExitCode> {
    let Some(exp) = super::experiment(&a.experiment)? else {
        return Ok(ExitCode::from(2));
    };
    let exp = &exp;
    let text = !a.json;
    let live = progress::wanted(a.quiet, a.json);
    if text {
        say(&format!("Experiment {}: {}\n", exp.number, exp.title))?;
        if !a.quiet {
            say(&format!(
                "{}\n\nWhat to watch:\n{}\n\n",
                exp.summary,
                indent(&exp.watch)
            ))?;
        }
    } else if !a.quiet {
        eprintln!("What to watch:\n{}\n", indent(&exp.watch));
    }
    let mut reports = Vec::new();
    let mut docs = Vec::new();
    let mut interrupted = false;
    for (i, args) in exp.commands.iter().enumerate() {
        if text {
            let n = exp.commands.len();
            say(&format!("[{}/{n}] tcplab {}\n", i + 1, args.join(" ")))?;
        }
        let deadline = child::deadline_for(args);
        let ran = child::run(args, live, deadline)?;
        let doc: Option<Value> = serde_json::from_str(&ran.stdout).ok();
        let problem = match (&ran.killed_after, &doc) {
            (Some(t), _) => Some(format!(
                "it was still running after {:.0} s and was killed; the machine may be overloaded",
                t.as_secs_f64()
            )),
            (None, None) => Some(format!(
                "it printed no JSON result (exit code {})",
                code_text(ran.exit_code)
            )),
            _ => None,
        };
        let rep = verdict::judge_command(exp, i, doc.as_ref(), ran.exit_code, problem);
        if text {
            print_command(&rep, doc.as_ref(), a.quiet)?;
        }
        interrupted = rep.outcome.as_deref() == Some("interrupted")
            || ran.exit_code == Some(130)
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
    if text {
        print_verdict(exp, &reports, &comparisons, passed, interrupted, a.quiet)?;
    } else {
        let doc = RunReport {
            format_version: RUN_FORMAT_VERSION,
            experiment: exp.number,
            slug: &exp.slug,
            title: &exp.title,
            commands: reports,
            comparisons,
            passed,
            interrupted,
        };
        // Serialised first, so a closed stdout surfaces as an io::Error (a quiet exit in main).
        say(&format!("{}\n", serde_json::to_string_pretty(&doc)?))?;
    }
    Ok(ExitCode::from(match (interrupted, passed) {
        (true, _) => 130,
        (false, true) => 0,
        (false, false) => 1,
    }))
}

/// Writes to stdout and flushes, so the text appears before the next child's live view; an error
/// (a closed pipe) is returned rather than panicking as `println!` would.
fn say(text: &str) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn code_text(code: Option<i32>) -> String {
    code.map_or_else(|| "none: ended by a signal".to_owned(), |c| c.to_string())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}").trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The child's own text report (for the core commands, whose JSON is a `RunResult`), then one line
/// on its outcome and checks.
fn print_command(rep: &CommandReport, doc: Option<&Value>, quiet: bool) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let run: Option<RunResult> = doc
        .filter(|d| d.get("settings").is_some())
        .and_then(|d| serde_json::from_value(d.clone()).ok());
    if let (Some(r), false) = (&run, quiet) {
        report::text::write_run(r, &mut out)?;
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
    writeln!(out)?;
    out.flush()
}

fn print_verdict(
    exp: &Experiment,
    reports: &[CommandReport],
    comparisons: &[Comparison],
    passed: bool,
    interrupted: bool,
    quiet: bool,
) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
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
            "INTERRUPTED: experiment {n} was stopped with Ctrl-C before it ended; no verdict."
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
    out.flush()
}
