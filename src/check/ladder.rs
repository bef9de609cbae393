//! A whole check: the client's runs at each size in turn, or the server's steps (the naive client
//! once, then the reader-thread fix at growing sizes), each stopping at the first failure. Each run
//! goes to the caller's `on_run` as it ends (the command says how it went, on the terminal); the
//! result is the check's document, with the last run's timeline for the lab report's plot.

use super::client::{self, ClientCheck};
use super::command::{self, BYTES};
use super::server::{self as srv, ServerCheck};
use super::{
    CheckError, ClientDoc, ClientRun, FORMAT_VERSION, Outcome, ProcessEnd, ServerDoc, ServerStep,
};
use crate::client::StrategyName;
use crate::interrupt;
use crate::observe::{FanOut, Observer};
use crate::timeline::{Recorder, TimelineRow};

/// The ladder's first size and its factor.
pub const LADDER_START: u64 = 16 * 1024;
pub const LADDER_FACTOR: u64 = 4;

/// The sizes `check client` runs at: one (`bytes`), or the ladder up to `max_bytes`; none when the
/// command has no `{bytes}`.
pub fn client_sizes(cfg: &ClientCheck, ladder: bool, bytes: u64, max_bytes: u64) -> Vec<u64> {
    match (cfg.template.has(BYTES), ladder) {
        (false, _) => Vec::new(),
        (true, true) => command::ladder(LADDER_START, LADDER_FACTOR, max_bytes),
        (true, false) => vec![bytes],
    }
}

/// Runs the client at each of `sizes` (once, with `{bytes}` unfilled, when there are none) until
/// one does not pass. `watch` sees every sample the timeline recorder sees (the command's
/// progress line; issue 19).
pub fn check_client(
    cfg: &ClientCheck,
    ladder: bool,
    sizes: Vec<u64>,
    on_run: &mut dyn FnMut(&ClientRun),
    watch: &mut dyn Observer,
) -> Result<(ClientDoc, Vec<TimelineRow>), CheckError> {
    let mut doc = ClientDoc {
        format_version: FORMAT_VERSION,
        check: "client".into(),
        command: cfg.template.argv().to_vec(),
        has_bytes: cfg.template.has(BYTES),
        ladder,
        sizes_bytes: sizes.clone(),
        derived_size: None,
        timeout_ms: cfg.timeout.as_millis() as u64,
        stall_after_ms: cfg.stall_after.as_millis() as u64,
        outcome: Outcome::Passed,
        first_failure_bytes: None,
        runs: Vec::new(),
    };
    let tries: Vec<Option<u64>> = if sizes.is_empty() {
        vec![None]
    } else {
        sizes.into_iter().map(Some).collect()
    };
    let mut rows = Vec::new();
    for bytes in tries {
        let mut recorder = Recorder::for_run(cfg.timeout);
        let run = client::run(cfg, bytes, &mut FanOut(vec![&mut recorder, &mut *watch]))?;
        rows = recorder.rows;
        on_run(&run);
        doc.outcome = run.outcome;
        let failed = run.outcome != Outcome::Passed;
        doc.runs.push(run);
        if failed {
            doc.first_failure_bytes = bytes;
            break;
        }
    }
    Ok((doc, rows))
}

/// Starts the student's server, drives it step by step until one does not pass, and stops it.
/// `on_listening` hears once it listens, `on_step` as each step ends; `watch` sees every sample
/// the timeline recorder sees.
pub fn check_server(
    cfg: &ServerCheck,
    bytes: u64,
    max_bytes: u64,
    on_listening: &mut dyn FnMut(&srv::Started),
    on_step: &mut dyn FnMut(&ServerStep),
    watch: &mut dyn Observer,
) -> Result<(ServerDoc, Vec<TimelineRow>), CheckError> {
    let mut started = srv::start(cfg)?;
    on_listening(&started);
    let mut plan = vec![(StrategyName::Naive, bytes)];
    let first = bytes.saturating_mul(LADDER_FACTOR);
    if first <= max_bytes {
        plan.extend(
            command::ladder(first, LADDER_FACTOR, max_bytes)
                .into_iter()
                .map(|b| (StrategyName::ReaderThread, b)),
        );
    }
    let mut steps = Vec::new();
    let mut outcome = Outcome::Passed;
    let mut first_failure = None;
    let mut rows = Vec::new();
    for (strategy, bytes) in plan {
        if interrupt::requested() {
            outcome = Outcome::Interrupted;
            break;
        }
        let mut recorder = Recorder::for_run(cfg.timeout);
        let step = started.step(
            cfg,
            strategy,
            bytes,
            &mut FanOut(vec![&mut recorder, &mut *watch]),
        );
        rows = recorder.rows;
        // On an error, dropping `started` stops and reaps the server.
        let step = step?;
        on_step(&step);
        outcome = step.outcome;
        let failed = outcome != Outcome::Passed;
        steps.push(step);
        if failed {
            first_failure = Some((strategy, bytes));
            break;
        }
    }
    let mut doc = ServerDoc {
        format_version: FORMAT_VERSION,
        check: "server".into(),
        command: cfg.template.argv().to_vec(),
        command_run: started.command.clone(),
        addr: started.addr.to_string(),
        listening_after_ms: started.listening_after_ms,
        outcome,
        first_failure,
        steps,
        server_process: ProcessEnd::default(),
        port_still_listening: false,
    };
    (doc.server_process, doc.port_still_listening) = started.stop();
    Ok((doc, rows))
}
