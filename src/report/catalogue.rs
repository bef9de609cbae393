//! The catalogue's views: the list of experiments, an experiment's page, and what `tcplab run N`
//! prints: what to watch, each command's report and checks, and the PASS/FAIL block. A command
//! that could not be judged is told apart from an experiment that behaved otherwise: only the
//! latter points at the machine.

use std::io::{self, Write};

use serde_json::Value;

use crate::catalogue::Experiment;
use crate::catalogue::files::{self, LAB};
use crate::catalogue::verdict::{self, CommandReport, Comparison, Failure, Problem, RunReport};
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
    if let Some(note) = lab_note(exp) {
        writeln!(out, "\n{}", super::wrap::wrap(&note, width, ""))?;
    }
    Ok(())
}

/// Where the programs `{lab}` names are, for a page whose commands use them: the first such
/// command, with the folder a student chose, shows how to run one by hand.
fn lab_note(exp: &Experiment) -> Option<String> {
    let example = exp
        .commands
        .iter()
        .find(|c| files::uses_lab(std::slice::from_ref(c)))?
        .join(" ")
        .replace(LAB, "DIR");
    Some(format!(
        "{LAB} is a temporary folder: 'tcplab run {n}' writes the programs tcplab carries into it \
         and removes it when the run ends. 'tcplab files DIR' writes the same programs into DIR, \
         to read, edit and run by hand, e.g. 'tcplab {example}'.",
        n = exp.number
    ))
}

/// The line before a run whose commands use the lab folder: where the programs are this time.
pub fn write_lab_dir(dir: &std::path::Path, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "The programs this experiment runs are in {} ({LAB} in the commands below), a temporary \
         folder removed when the run ends; 'tcplab files DIR' writes them into DIR to keep.\n",
        dir.display()
    )
}

/// An outcome name as a student reads it, as what a run did: `deadlocked`, `was closed early`.
pub fn outcome_words(outcome: &str) -> &str {
    match outcome {
        "deadlock" => "deadlocked",
        "timed_out" => "ran out of time",
        "interrupted" => "was interrupted",
        "refused" => "was refused",
        "closed_early" => "was closed early",
        "frame_refused" => "refused an oversized block",
        "truncated" => "was cut short",
        "passed" => "passed the check",
        "hung" => "hung without a deadlock",
        other => other,
    }
}

/// `first`, `second`, … for the runs of an experiment (a few commands each).
fn ordinal(i: usize) -> String {
    const WORDS: [&str; 8] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
    ];
    WORDS
        .get(i)
        .map_or_else(|| format!("run {}", i + 1), |w| (*w).to_string())
}

/// `two`, `three`, … runs in a row.
fn number(n: usize) -> String {
    const WORDS: [&str; 7] = ["one", "two", "three", "four", "five", "six", "seven"];
    WORDS
        .get(n.wrapping_sub(1))
        .map_or_else(|| n.to_string(), |w| (*w).to_string())
}

/// What the runs of an experiment did, in turn, as a sentence: `the run deadlocked`, `both runs
/// completed`, `the first run completed, the second was closed early`, `the first run deadlocked,
/// the next two passed the check`. Runs in a row with the same outcome are told together.
pub fn outcomes_in_words(outcomes: &[String]) -> String {
    match outcomes {
        [] => "the runs did what the page says".into(),
        [one] => format!("the run {}", outcome_words(one)),
        [a, b] if a == b => format!("both runs {}", outcome_words(a)),
        [first, rest @ ..] if rest.iter().all(|o| o == first) => {
            format!(
                "all {} runs {}",
                number(outcomes.len()),
                outcome_words(first)
            )
        }
        _ => {
            let mut parts = Vec::new();
            let mut i = 0;
            while i < outcomes.len() {
                let same = outcomes[i..]
                    .iter()
                    .take_while(|o| **o == outcomes[i])
                    .count();
                let who = match (i, same) {
                    (0, 1) => "the first run".to_string(),
                    (0, n) => format!("the first {} runs", number(n)),
                    (i, 1) => format!("the {}", ordinal(i)),
                    (_, n) => format!("the next {}", number(n)),
                };
                parts.push(format!("{who} {}", outcome_words(&outcomes[i])));
                i += same;
            }
            parts.join(", ")
        }
    }
}

/// The expectation in words, for the pass/fail line: one sentence per part.
pub fn describe_expectation(exp: &Experiment) -> String {
    let mut parts = vec![outcomes_in_words(&exp.expect.outcomes)];
    parts.extend(exp.expect.checks.iter().map(|c| c.means.clone()));
    for t in [&exp.expect.increasing, &exp.expect.decreasing]
        .into_iter()
        .flatten()
    {
        parts.push(t.means.clone());
    }
    parts.join("; ")
}

/// Why a command could not be judged, as a student reads it.
pub fn problem_words(p: &Problem) -> String {
    match p {
        Problem::Killed { after_ms } => format!(
            "it was still running after {:.0} s and was killed; the machine may be overloaded",
            *after_ms as f64 / 1000.0
        ),
        Problem::NoJson {
            exit_code: Some(code),
        } => format!(
            "it printed no result (exit code {code}); the 'tcplab:' line it printed says why"
        ),
        Problem::NoJson { exit_code: None } => "it printed no result: a signal ended it".to_owned(),
        Problem::NoOutcome => "its JSON has no top-level 'outcome'".to_owned(),
    }
}

/// The first thing that went against the expectation, in words.
pub fn failure_words(f: &Failure) -> String {
    match f {
        Failure::Unjudged { command, problem } => {
            format!(
                "command {command} could not be judged: {}",
                problem_words(problem)
            )
        }
        Failure::Outcome {
            command,
            found,
            expected,
        } => format!(
            "command {command} {}, where it should have {}",
            found.map_or("gave no outcome", outcome_words),
            outcome_words(expected)
        ),
        Failure::Check { command, check } => format!(
            "command {command}: it was not so that {} (found {})",
            check.means, check.actual
        ),
        Failure::Comparison(c) => {
            let vals: Vec<String> = c.values.iter().map(Value::to_string).collect();
            format!("it was not so that {} (read {})", c.means, vals.join(", "))
        }
    }
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
        (_, Some(p)) => writeln!(
            out,
            "  → {}; expected '{}'",
            problem_words(p),
            rep.expected_outcome
        )?,
        (Some(o), None) => {
            let moved = run.map(|r| {
                format!(
                    "{} sent by the client in {:.2} s",
                    human(r.counts.client_sent_bytes),
                    r.timings.elapsed_ms as f64 / 1000.0
                )
            });
            // The command's own code, told apart from the code of `tcplab run` itself.
            let code = rep.exit_code.map(|c| format!("it exited with code {c}"));
            let detail: Vec<String> = moved.into_iter().chain(code).collect();
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join("; "))
            };
            writeln!(out, "  → {o}{detail}: {mark}")?
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
            "PASS: experiment {n} did what its page describes: {}. 'tcplab run {n}' exits with code 0.",
            describe_expectation(exp)
        )?;
    } else {
        let code = format!("'tcplab run {n}' exits with code 1.");
        match verdict::first_failure(reports, comparisons) {
            // A command that never got to run its test says nothing about the kernel.
            Some(Failure::Unjudged { command, problem }) => writeln!(
                out,
                "FAIL: experiment {n} could not be judged: command {command}: {}. {code}",
                problem_words(problem)
            )?,
            // The kernel did something else than the page says: the machine may differ.
            Some(f) => writeln!(
                out,
                "FAIL: experiment {n} did not do what its page describes: {}. \
                 This machine may behave differently (docs/kernel-facts.md); 'tcplab show {n}' explains what was expected. {code}",
                failure_words(&f)
            )?,
            None => writeln!(
                out,
                "FAIL: experiment {n} did not finish its commands. {code}"
            )?,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::parse_entry;
    use crate::catalogue::verdict::Problem;

    const ENTRY: &str = r#"
format_version = 1
title = "t"
summary = "s"
watch = "w"
commands = [["check", "client", "--", "python3", "{lab}/naive_client.py", "{port}"]]
hints = ["h?"]
[expect]
outcome = "deadlocked"
"#;

    fn report(outcome: Option<&str>, problem: Option<Problem>) -> CommandReport {
        CommandReport {
            args: vec![],
            exit_code: Some(1),
            outcome: outcome.map(str::to_owned),
            expected_outcome: "deadlocked".into(),
            checks: vec![],
            problem,
            held: false,
        }
    }

    fn verdict(rep: CommandReport) -> String {
        let exp = parse_entry("15-x", ENTRY, Some("p")).unwrap();
        let mut out = Vec::new();
        write_verdict(&exp, &[rep], &[], false, false, true, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_command_that_printed_no_result_is_not_blamed_on_the_machine() {
        let text = verdict(report(None, Some(Problem::NoJson { exit_code: Some(1) })));
        assert_eq!(
            text,
            "FAIL: experiment 15 could not be judged: command 1: it printed no result (exit code \
             1); the 'tcplab:' line it printed says why. 'tcplab run 15' exits with code 1.\n"
        );
    }

    #[test]
    fn another_outcome_than_the_page_says_points_at_the_machine() {
        let text = verdict(report(Some("passed"), None));
        assert!(
            text.starts_with(
                "FAIL: experiment 15 did not do what its page describes: command 1 passed the \
                 check, where it should have deadlocked. This machine may behave differently"
            ),
            "{text}"
        );
    }

    #[test]
    fn the_runs_of_an_experiment_are_told_in_a_natural_sentence() {
        let words =
            |o: &[&str]| outcomes_in_words(&o.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(words(&["deadlock"]), "the run deadlocked");
        assert_eq!(words(&["deadlock", "deadlock"]), "both runs deadlocked");
        assert_eq!(
            words(&["deadlock", "deadlock", "deadlock"]),
            "all three runs deadlocked"
        );
        assert_eq!(
            words(&["completed", "closed_early"]),
            "the first run completed, the second was closed early"
        );
        assert_eq!(
            words(&["deadlocked", "passed", "passed"]),
            "the first run deadlocked, the next two passed the check"
        );
        assert_eq!(
            words(&["completed", "frame_refused", "truncated"]),
            "the first run completed, the second refused an oversized block, the third was cut \
             short"
        );
        assert_eq!(
            words(&["passed", "passed", "deadlocked"]),
            "the first two runs passed the check, the third deadlocked"
        );
    }

    /// Every experiment's PASS sentence, as `tcplab run N` prints it.
    #[test]
    fn every_experiments_expectation_reads_as_a_sentence() {
        let list = crate::catalogue::load().expect("the catalogue");
        let all: Vec<String> = list
            .iter()
            .map(|e| format!("{:>2}: {}", e.number, describe_expectation(e)))
            .collect();
        for line in &all {
            assert!(
                !line.contains('{'),
                "a placeholder reaches the sentence a student reads: {line}"
            );
        }
        insta::assert_snapshot!(all.join("\n"));
    }

    #[test]
    fn a_page_whose_commands_use_the_lab_folder_says_where_it_is() {
        let exp = parse_entry("15-x", ENTRY, Some("# 15. x\n")).unwrap();
        let mut out = Vec::new();
        write_page(&exp, false, false, 200, &mut out).unwrap();
        let page = String::from_utf8(out).unwrap().replace('\n', " ");
        assert!(
            page.contains(
                "{lab} is a temporary folder: 'tcplab run 15' writes the programs tcplab carries \
                 into it and removes it when the run ends. 'tcplab files DIR' writes the same \
                 programs into DIR, to read, edit and run by hand, e.g. 'tcplab check client -- \
                 python3 DIR/naive_client.py {port}'."
            ),
            "{page}"
        );
    }
}
