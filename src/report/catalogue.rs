//! The catalogue's views: the list of experiments, an experiment's page, and what `tcplab run N`
//! prints: what to watch, each command's report and checks, and the PASS/FAIL block.

use std::io::{self, Write};

use serde_json::Value;

use crate::catalogue::Experiment;
use crate::catalogue::verdict::{self, CommandReport, Comparison, RunReport};
use crate::report::human;
use crate::result::RunResult;

/// The list, one experiment a line; with a terminal's `width`, a long title wraps under itself
/// (the number and slug stay a column of their own) and the closing sentence wraps too.
pub fn write_list(
    list: &[Experiment],
    width: Option<usize>,
    out: &mut dyn Write,
) -> io::Result<()> {
    // `NN  slug(26) ` before the title.
    const TITLE_AT: usize = 31;
    for e in list {
        let title = match width {
            Some(w) => super::wrap::wrap(&e.title, w.saturating_sub(TITLE_AT).max(20), "")
                .replace('\n', &format!("\n{:TITLE_AT$}", "")),
            None => e.title.clone(),
        };
        writeln!(out, "{:>2}  {:<26} {title}", e.number, e.slug)?;
    }
    writeln!(out)?;
    let closing =
        "'tcplab show N' reads an experiment's page; 'tcplab run N' runs it and checks the result.";
    match width {
        Some(w) => writeln!(out, "{}", super::wrap::wrap(closing, w, "")),
        None => writeln!(out, "{closing}"),
    }
}

/// An experiment's page rendered for the terminal (answers only when asked), then the commands
/// `tcplab run N` runs.
pub fn write_page(
    exp: &Experiment,
    answers: bool,
    color: bool,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let opts = super::page::PageOptions {
        answers,
        color,
        number: exp.number,
    };
    write!(out, "{}", super::page::render(exp.page, width, opts))?;
    writeln!(out)?;
    let runs = format!(
        "'tcplab run {}' runs these commands (each with --json) and checks the result:",
        exp.number
    );
    writeln!(out, "{}", super::wrap::wrap(&runs, width, ""))?;
    for c in &exp.commands {
        let line = format!("  tcplab {}", c.join(" "));
        writeln!(out, "{}", super::wrap::wrap(&line, width, "    "))?;
    }
    Ok(())
}

/// The question of a hint, without the explanation that follows it (a hint is written as a
/// question first and an explanation second).
fn question(hint: &str) -> &str {
    match hint.find('?') {
        Some(i) => &hint[..=i],
        None => hint,
    }
}

/// A catalogue text indented by two spaces, each paragraph on one line: the file's own line
/// breaks are for its editor, and the terminal's width decides where the printed lines break.
fn indent(text: &str) -> String {
    text.split("\n\n")
        .map(|para| {
            format!(
                "  {}",
                para.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
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
    let text = format!("What to watch:\n{}\n", indent(&exp.watch));
    writeln!(out, "{}", super::wrap::for_stderr(&text))
}

/// The line before another attempt at an experiment that allows several.
pub fn write_retry(exp: &Experiment, attempt: u32, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Not this time; trying again (attempt {attempt} of {}): what experiment {} shows does not happen in every run.\n",
        exp.attempts, exp.number
    )
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
        let mark = if c.held { "yes" } else { "NO" };
        writeln!(out, "    {mark}: {} (found {})", c.means, c.actual)?;
    }
    writeln!(out)
}

/// The comparisons across commands, then PASS, FAIL or INTERRUPTED, then the questions.
/// An experiment's run as a command's document: the verdict in sentences, or the run report as
/// JSON.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct Verdict<'a> {
    pub report: &'a RunReport,
    #[serde(skip)]
    pub exp: &'a Experiment,
    #[serde(skip)]
    pub quiet: bool,
}

impl super::export::Document for Verdict<'_> {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = self.report;
        write_verdict(
            self.exp,
            &r.commands,
            &r.comparisons,
            r.passed,
            r.interrupted,
            self.quiet,
            out,
        )
    }
}

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
            "{} from command to command: {} ({mark})",
            c.means,
            vals.join(" → ")
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
            writeln!(out, "  - {}", question(h))?;
        }
        writeln!(
            out,
            "\n'tcplab show {n} --answers' explains what happened and why, once you have thought about them."
        )?;
    }
    Ok(())
}
