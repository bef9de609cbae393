//! `tcplab run N` in the engine: runs each of the experiment's commands as a child process
//! (`child`), judges each (`verdict`), compares them, and tries again where the experiment allows
//! several attempts. What happens along the way goes to a `Progress`, which the command words.

use serde_json::Value;

use super::Experiment;
use super::child;
use super::files::LabDir;
use super::verdict::{self, CommandReport, RunReport};
use crate::interrupt;

/// Hears what a run of an experiment does, as it does it.
pub trait Progress {
    /// Command `i` of `n` is about to run as `args`.
    fn command_start(&mut self, _i: usize, _n: usize, _args: &[String]) {}
    /// A command ended: its report and its JSON document, if it printed one.
    fn command_done(&mut self, _report: &CommandReport, _doc: Option<&Value>) {}
    /// The experiment is tried again: this is attempt number `attempt`.
    fn retry(&mut self, _attempt: u32) {}
}

/// Runs the experiment (its children's live views shown when `live`) and judges it; `lab` holds
/// the programs its commands name as `{lab}/NAME` (`files::prepare`).
pub fn run(
    exp: &Experiment,
    lab: Option<&LabDir>,
    live: bool,
    p: &mut dyn Progress,
) -> anyhow::Result<RunReport> {
    let mut attempt = 1;
    loop {
        let mut report = attempt_once(exp, lab, live, p)?;
        report.attempts = attempt;
        if report.passed || report.interrupted || attempt >= exp.attempts {
            return Ok(report);
        }
        attempt += 1;
        p.retry(attempt);
    }
}

fn attempt_once(
    exp: &Experiment,
    lab: Option<&LabDir>,
    live: bool,
    p: &mut dyn Progress,
) -> anyhow::Result<RunReport> {
    let mut reports = Vec::new();
    let mut docs = Vec::new();
    let mut interrupted = false;
    for i in 0..exp.commands.len() {
        let args = &exp.command(i, live);
        p.command_start(i, exp.commands.len(), args);
        let ran = child::run(
            &lab.map_or_else(|| args.to_vec(), |l| l.fill(args)),
            live,
            child::deadline_for(args),
        )?;
        let doc: Option<Value> = serde_json::from_str(&ran.stdout).ok();
        let rep = verdict::judge_command(exp, i, doc.as_ref(), &ran);
        p.command_done(&rep, doc.as_ref());
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
    Ok(RunReport::new(
        exp,
        reports,
        comparisons,
        passed,
        interrupted,
    ))
}
