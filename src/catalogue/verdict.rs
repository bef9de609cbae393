//! Did an experiment behave as its entry expects? Pure functions from the commands' JSON documents
//! to a report: each command's outcome against the expected one, each check, and the comparisons
//! across commands (`increasing`, `decreasing`). Printing is left to `cmd::run`.

use serde::Serialize;
use serde_json::Value;

use super::Experiment;
use super::child::ChildRun;

/// Version of the runner's JSON document.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// The runner's JSON document (`tcplab run N --json`).
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub format_version: u32,
    pub experiment: u32,
    pub slug: String,
    pub title: String,
    pub commands: Vec<CommandReport>,
    pub comparisons: Vec<Comparison>,
    /// True when every command met its expectation and every comparison held.
    pub passed: bool,
    /// True when a signal stopped the run before its end.
    pub interrupted: bool,
    /// Attempts made (more than one only for an experiment that allows several).
    pub attempts: u32,
}

impl RunReport {
    pub fn new(
        exp: &Experiment,
        commands: Vec<CommandReport>,
        comparisons: Vec<Comparison>,
        passed: bool,
        interrupted: bool,
    ) -> RunReport {
        RunReport {
            format_version: RUN_FORMAT_VERSION,
            experiment: exp.number,
            slug: exp.slug.clone(),
            title: exp.title.clone(),
            commands,
            comparisons,
            passed,
            interrupted,
            attempts: 1,
        }
    }
}

/// One check on one command, as evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The check as written in the entry (a JSON pointer, an operator and a value).
    pub check: String,
    /// What it shows, in a sentence.
    pub means: String,
    /// The value found at the pointer (`null` when absent).
    pub actual: Value,
    pub held: bool,
}

/// One command of the experiment, as run.
#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    /// tcplab arguments as run (`--json` appended by the runner is not shown).
    pub args: Vec<String>,
    /// The child's exit code; `null` when it was killed.
    pub exit_code: Option<i32>,
    /// The `outcome` of its JSON document; `null` when it printed none.
    pub outcome: Option<String>,
    pub expected_outcome: String,
    pub checks: Vec<CheckReport>,
    /// Why the command could not be judged (no JSON, killed at the deadline), if so.
    pub problem: Option<Problem>,
    /// Outcome as expected and every check held.
    pub held: bool,
}

/// Why a command could not be judged: the kind is data, `report` words it. A command that could
/// not be judged says nothing about the kernel, so the verdict does not blame the machine for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// It was still running at its deadline and was killed (milliseconds after its start).
    Killed { after_ms: u64 },
    /// It printed no JSON document: it could not start its work (its own one-line error went to
    /// stderr, where the runner leaves it); `null` exit code when a signal ended it.
    NoJson { exit_code: Option<i32> },
    /// Its JSON has no top-level `outcome`.
    NoOutcome,
}

/// The first thing that went against the expectation, as data for `report` to word. Only
/// `Unjudged` says nothing about the kernel's behaviour.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure<'a> {
    /// Command `command` (from 1) could not be judged.
    Unjudged {
        command: usize,
        problem: &'a Problem,
    },
    /// Command `command` ended with another outcome (or none) than expected.
    Outcome {
        command: usize,
        found: Option<&'a str>,
        expected: &'a str,
    },
    /// A check on command `command` did not hold.
    Check {
        command: usize,
        check: &'a CheckReport,
    },
    /// A comparison across the commands did not hold.
    Comparison(&'a Comparison),
}

/// A comparison across the commands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// `increasing` or `decreasing`.
    pub kind: String,
    pub pointer: String,
    /// What it shows, in a sentence.
    pub means: String,
    /// The value of each command, in order (`null` when absent).
    pub values: Vec<Value>,
    pub held: bool,
}

/// Judges one command's result. `doc` is its parsed stdout, if any.
pub fn judge_command(
    exp: &Experiment,
    index: usize,
    doc: Option<&Value>,
    ran: &ChildRun,
) -> CommandReport {
    let exit_code = ran.exit_code;
    let problem = match (&ran.killed_after, doc) {
        (Some(t), _) => Some(Problem::Killed {
            after_ms: t.as_millis() as u64,
        }),
        (None, None) => Some(Problem::NoJson { exit_code }),
        _ => None,
    };
    let expected_outcome = exp.expect.outcomes[index].clone();
    let outcome = doc
        .and_then(|d| d.get("outcome"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let checks: Vec<CheckReport> = exp
        .expect
        .checks
        .iter()
        .filter(|c| c.applies_to(index))
        .map(|c| {
            let (held, actual) = doc.map(|d| c.eval(d)).unwrap_or((false, None));
            CheckReport {
                check: c.to_string(),
                means: c.means.clone(),
                actual: actual.unwrap_or(Value::Null),
                held,
            }
        })
        .collect();
    let problem =
        problem.or_else(|| (doc.is_some() && outcome.is_none()).then_some(Problem::NoOutcome));
    let held = problem.is_none()
        && outcome.as_deref() == Some(expected_outcome.as_str())
        && checks.iter().all(|c| c.held);
    CommandReport {
        args: exp.commands[index].clone(),
        exit_code,
        outcome,
        expected_outcome,
        checks,
        problem,
        held,
    }
}

/// Evaluates `increasing` / `decreasing` over the commands' documents.
pub fn compare(exp: &Experiment, docs: &[Option<Value>]) -> Vec<Comparison> {
    let mut out = Vec::new();
    for (kind, pointer) in [
        ("increasing", &exp.expect.increasing),
        ("decreasing", &exp.expect.decreasing),
    ] {
        let Some(trend) = pointer else { continue };
        let pointer = &trend.pointer;
        let values: Vec<Value> = docs
            .iter()
            .map(|d| {
                d.as_ref()
                    .and_then(|d| d.pointer(pointer))
                    .cloned()
                    .unwrap_or(Value::Null)
            })
            .collect();
        let nums: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
        let held = nums.is_some_and(|n| {
            n.len() == exp.commands.len()
                && n.windows(2).all(|w| {
                    if kind == "increasing" {
                        w[0] < w[1]
                    } else {
                        w[0] > w[1]
                    }
                })
        });
        out.push(Comparison {
            kind: kind.to_owned(),
            pointer: pointer.clone(),
            means: trend.means.clone(),
            values,
            held,
        });
    }
    out
}

/// The first thing that went against the expectation.
pub fn first_failure<'a>(
    commands: &'a [CommandReport],
    comparisons: &'a [Comparison],
) -> Option<Failure<'a>> {
    for (i, c) in commands.iter().enumerate() {
        let command = i + 1;
        if let Some(problem) = &c.problem {
            return Some(Failure::Unjudged { command, problem });
        }
        if c.outcome.as_deref() != Some(c.expected_outcome.as_str()) {
            return Some(Failure::Outcome {
                command,
                found: c.outcome.as_deref(),
                expected: &c.expected_outcome,
            });
        }
        if let Some(check) = c.checks.iter().find(|k| !k.held) {
            return Some(Failure::Check { command, check });
        }
    }
    comparisons
        .iter()
        .find(|c| !c.held)
        .map(Failure::Comparison)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::parse_entry;
    use serde_json::json;

    const ENTRY: &str = r#"
format_version = 1
title = "t"
summary = "s"
watch = "w"
commands = [["deadlock"], ["deadlock", "--sndbuf", "64K"]]
hints = ["h"]
[expect]
outcome = "deadlock"
checks = [{ check = "2: /counts/client_sent_bytes > 1000", means = "the second run sent more than 1000 bytes" }]
increasing = { pointer = "/counts/client_sent_bytes", means = "more went out each time" }
"#;

    fn ran(code: i32) -> ChildRun {
        ChildRun {
            exit_code: Some(code),
            stdout: String::new(),
            killed_after: None,
        }
    }

    fn doc(outcome: &str, sent: u64) -> Value {
        json!({"outcome": outcome, "counts": {"client_sent_bytes": sent}})
    }

    #[test]
    fn a_run_that_matches_outcomes_checks_and_growth_holds() {
        let e = parse_entry("06-x", ENTRY, Some("p")).unwrap();
        let docs = [Some(doc("deadlock", 500)), Some(doc("deadlock", 2000))];
        let reps: Vec<_> = (0..2)
            .map(|i| judge_command(&e, i, docs[i].as_ref(), &ran(3)))
            .collect();
        assert!(reps.iter().all(|r| r.held));
        assert_eq!(
            reps[0].checks.len(),
            0,
            "the check applies to command 2 only"
        );
        let cmp = compare(&e, &docs);
        assert!(cmp[0].held);
        assert_eq!(first_failure(&reps, &cmp), None);
    }

    #[test]
    fn a_wrong_outcome_or_a_shrinking_value_is_named_as_the_failure() {
        let e = parse_entry("06-x", ENTRY, Some("p")).unwrap();
        let docs = [Some(doc("deadlock", 5000)), Some(doc("completed", 2000))];
        let reps: Vec<_> = (0..2)
            .map(|i| judge_command(&e, i, docs[i].as_ref(), &ran(0)))
            .collect();
        assert!(!reps[1].held);
        let cmp = compare(&e, &docs);
        assert!(!cmp[0].held);
        assert_eq!(
            first_failure(&reps, &cmp).unwrap(),
            Failure::Outcome {
                command: 2,
                found: Some("completed"),
                expected: "deadlock"
            }
        );
    }

    #[test]
    fn a_command_without_json_cannot_pass() {
        let e = parse_entry("06-x", ENTRY, Some("p")).unwrap();
        let r = judge_command(&e, 0, None, &ran(2));
        assert!(!r.held);
        assert_eq!(r.outcome, None);
        assert_eq!(r.problem, Some(Problem::NoJson { exit_code: Some(2) }));
        let reps = [r];
        assert_eq!(
            first_failure(&reps, &[]),
            Some(Failure::Unjudged {
                command: 1,
                problem: &Problem::NoJson { exit_code: Some(2) }
            })
        );
    }
}
