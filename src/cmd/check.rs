//! `tcplab check client|server -- CMD…`: checks the arguments (placeholders, output paths) before
//! anything runs, runs the engine's checks (`check::client::run` once or up the ladder,
//! `check::server` step by step), says how each run went on stderr as it ends, prints the report
//! (text or JSON) and writes the Markdown lab report with its timeline, and turns the outcome
//! into the exit code: 0 passed, 3 deadlocked, 1 any other failure, 2 bad arguments.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::check::client::{self, ClientCheck};
use crate::check::command::{self, BYTES, PORT, Template};
use crate::check::server::{self as srv, ServerCheck};
use crate::check::{CheckError, ClientDoc, FORMAT_VERSION, Outcome, ServerDoc};
use crate::cli::check::{CheckArgs, CheckClientArgs, CheckCommon, CheckServerArgs, CheckWhat};
use crate::client::StrategyName;
use crate::report::{self, progress};
use crate::sock;
use crate::timeline::{Recorder, TimelineRow};
use crate::watchdog::DEFAULT_CONFIRM;

/// The ladder's first size and its factor.
const LADDER_START: u64 = 16 * 1024;
const LADDER_FACTOR: u64 = 4;

pub fn main(a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let r = match &a.what {
        CheckWhat::Client(c) => client_main(c),
        CheckWhat::Server(s) => server_main(s),
    };
    match r {
        Err(e) if bad_input(&e) => {
            eprintln!(
                "{}",
                report::wrap::for_stderr(&format!("tcplab: {}", report::errors::line(&e)))
            );
            Ok(ExitCode::from(2))
        }
        Err(e)
            if e.chain()
                .any(|c| matches!(c.downcast_ref(), Some(CheckError::Interrupted(_)))) =>
        {
            eprintln!(
                "{}",
                report::wrap::for_stderr(&format!("tcplab: {}", report::errors::line(&e)))
            );
            Ok(ExitCode::from(crate::interrupt::exit_code()))
        }
        r => r,
    }
}

/// Errors that mean the command line was wrong (exit 2) rather than a check that failed.
fn bad_input(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Usage>() || matches!(c.downcast_ref::<CheckError>(), Some(CheckError::Start(_)))
    })
}

/// A usage mistake clap cannot see: a placeholder the check needs is missing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

/// The loopback address to run on, with the port asked for.
fn address(c: &CheckCommon) -> anyhow::Result<SocketAddr> {
    let addr = sock::resolve(&c.host, c.port)?;
    if !addr.ip().is_loopback() {
        return Err(Usage(format!(
            "'{}' is not a loopback address: tcplab check runs both programs on this machine; try 127.0.0.1 or ::1",
            c.host
        ))
        .into());
    }
    Ok(addr)
}

/// The Markdown report and the SVG beside it, opened before anything runs.
struct ReportFiles {
    md: Box<dyn Write>,
    svg: Box<dyn Write>,
    svg_name: String,
    paths: [PathBuf; 2],
}

impl ReportFiles {
    /// Names both files on stderr, once they are written.
    fn tell(&self) {
        self.paths
            .iter()
            .for_each(|p| crate::cmd::outputs::tell_written(p, None));
    }
}

fn open_report(path: Option<&Path>) -> anyhow::Result<Option<ReportFiles>> {
    let Some(md) = path else { return Ok(None) };
    let svg: PathBuf = md.with_extension("svg");
    if svg == md {
        return Err(Usage(format!(
            "'{}' for --report would be overwritten by its own timeline; name it FILE.md",
            md.display()
        ))
        .into());
    }
    let svg_name = svg
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Some(ReportFiles {
        md: report::create(md)?,
        svg: report::create(&svg)?,
        svg_name,
        paths: [md.to_path_buf(), svg],
    }))
}

/// A progress line on stderr, under the one rule of `report::progress`: only for a person
/// watching the terminal (so an error stays the only line a script sees).
fn say(c: &CheckCommon, line: &str) {
    if progress::Live::decide(c.quiet, c.json).shown() {
        eprintln!("{}", report::wrap::for_stderr(line));
    }
}

fn client_main(a: &CheckClientArgs) -> anyhow::Result<ExitCode> {
    let template = Template::new(a.command.clone());
    let has_bytes = template.has(BYTES);
    if a.ladder && !has_bytes {
        return Err(Usage(
            "--ladder needs {bytes} in the command, where your client takes the number of bytes to send (e.g. '… {host} {port} {bytes}')".into(),
        )
        .into());
    }
    need_port(&template, &a.common)?;
    let addr = address(&a.common)?;
    let mut files = open_report(a.common.report.as_deref())?;
    let sizes: Vec<u64> = match (has_bytes, a.ladder) {
        (false, _) => Vec::new(),
        (true, true) => command::ladder(LADDER_START, LADDER_FACTOR, a.max_bytes.bytes()),
        (true, false) => vec![a.bytes.bytes()],
    };
    let cfg = ClientCheck {
        template,
        addr,
        timeout: a.common.timeout.0,
        stall_after: a.common.stall_after.0,
        confirm: DEFAULT_CONFIRM,
    };
    let mut doc = ClientDoc {
        format_version: FORMAT_VERSION,
        check: "client".into(),
        command: a.command.clone(),
        has_bytes,
        ladder: a.ladder,
        sizes_bytes: sizes.clone(),
        timeout_ms: cfg.timeout.as_millis() as u64,
        stall_after_ms: cfg.stall_after.as_millis() as u64,
        outcome: Outcome::Passed,
        first_failure_bytes: None,
        runs: Vec::new(),
    };
    let where_ = if addr.port() == 0 {
        format!("{} (a free port)", addr.ip())
    } else {
        addr.to_string()
    };
    say(&a.common, &report::check::client_intro(&doc, &where_));
    let mut rows = Vec::new();
    let tries: Vec<Option<u64>> = if sizes.is_empty() {
        vec![None]
    } else {
        sizes.iter().copied().map(Some).collect()
    };
    for bytes in tries {
        let mut recorder = Recorder::for_run(cfg.timeout);
        let run = client::run(&cfg, bytes, &mut recorder)?;
        rows = recorder.rows;
        say(&a.common, &report::check::client_run_line(&run));
        doc.outcome = run.outcome;
        let failed = run.outcome != Outcome::Passed;
        doc.runs.push(run);
        if failed {
            doc.first_failure_bytes = bytes;
            break;
        }
    }
    let mut text = Vec::new();
    report::check::write_client(&doc, &mut text)?;
    print(&a.common, &text, &doc)?;
    if let Some(f) = files.as_mut() {
        let title = timeline_title(&doc.command, doc.outcome);
        write_svg(&rows, &title, &mut f.svg)?;
        report::check::write_client_markdown(&doc, Some(&f.svg_name), &mut f.md)?;
        f.md.flush()?;
        f.tell();
    }
    Ok(ExitCode::from(doc.outcome.exit_code()))
}

fn server_main(a: &CheckServerArgs) -> anyhow::Result<ExitCode> {
    let template = Template::new(a.command.clone());
    need_port(&template, &a.common)?;
    let addr = address(&a.common)?;
    let mut files = open_report(a.common.report.as_deref())?;
    let cfg = ServerCheck {
        template,
        addr,
        listen_timeout: a.listen_timeout.0,
        timeout: a.common.timeout.0,
        stall_after: a.common.stall_after.0,
    };
    let mut started = srv::start(&cfg)?;
    say(
        &a.common,
        &format!(
            "tcplab check server: {} listens on {} (after {} ms)",
            crate::check::shell_words(&started.command),
            started.addr,
            started.listening_after_ms
        ),
    );
    let mut plan = vec![(StrategyName::Naive, a.bytes.bytes())];
    let first = a.bytes.bytes().saturating_mul(LADDER_FACTOR);
    if first <= a.max_bytes.bytes() {
        plan.extend(
            command::ladder(first, LADDER_FACTOR, a.max_bytes.bytes())
                .into_iter()
                .map(|b| (StrategyName::ReaderThread, b)),
        );
    }
    let mut steps = Vec::new();
    let mut outcome = Outcome::Passed;
    let mut first_failure = None;
    let mut rows = Vec::new();
    for (strategy, bytes) in plan {
        if crate::interrupt::requested() {
            outcome = Outcome::Interrupted;
            break;
        }
        let mut recorder = Recorder::for_run(cfg.timeout);
        let step = started.step(&cfg, strategy, bytes, &mut recorder);
        rows = recorder.rows;
        let step = match step {
            Ok(s) => s,
            Err(e) => {
                started.stop();
                return Err(e.into());
            }
        };
        say(&a.common, &report::check::server_step_line(&step));
        outcome = step.outcome;
        let failed = outcome != Outcome::Passed;
        steps.push(step);
        if failed {
            first_failure = Some((strategy, bytes));
            break;
        }
    }
    let doc = ServerDoc {
        format_version: FORMAT_VERSION,
        check: "server".into(),
        command: a.command.clone(),
        command_run: started.command.clone(),
        addr: started.addr.to_string(),
        listening_after_ms: started.listening_after_ms,
        outcome,
        first_failure,
        steps,
        server_process: started.stop(),
    };
    let mut text = Vec::new();
    report::check::write_server(&doc, &mut text)?;
    print(&a.common, &text, &doc)?;
    if let Some(f) = files.as_mut() {
        let title = timeline_title(&doc.command, doc.outcome);
        write_svg(&rows, &title, &mut f.svg)?;
        report::check::write_server_markdown(&doc, Some(&f.svg_name), &mut f.md)?;
        f.md.flush()?;
        f.tell();
    }
    Ok(ExitCode::from(doc.outcome.exit_code()))
}

/// Without {port} the program cannot know where to connect or listen, unless a fixed --port says
/// it is the one the program always uses.
fn need_port(t: &Template, c: &CheckCommon) -> anyhow::Result<()> {
    if t.has(PORT) || c.port != 0 {
        return Ok(());
    }
    Err(Usage(
        "the command has no {port}: tcplab picks a free port and puts it where {port} stands (e.g. '… {host} {port}'); if the program always uses one port, give it with --port".into(),
    )
    .into())
}

/// The plot's title: the program (its script, for an interpreter) and the verdict.
fn timeline_title(command: &[String], outcome: Outcome) -> String {
    let program = command
        .iter()
        .take(2)
        .rfind(|a| a.contains('.') || a.contains('/'))
        .or(command.first())
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("the program");
    format!("tcplab check: {program} {}", outcome.name())
}

fn write_svg(rows: &[TimelineRow], title: &str, out: &mut Box<dyn Write>) -> anyhow::Result<()> {
    let svg = report::svg::timeline(rows, title).map_err(anyhow::Error::msg)?;
    out.write_all(svg.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The report on stdout: text, or the JSON document (with the text on stderr when `tcplab run`
/// watches this process).
fn print<T: serde::Serialize>(c: &CheckCommon, text: &[u8], doc: &T) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let text = String::from_utf8_lossy(text);
    if c.json {
        if progress::watched_by_runner() {
            write!(
                io::stderr().lock(),
                "{}",
                report::wrap::wrap(&text, report::wrap::stderr_width(), "    ")
            )?;
        }
        report::json::write(doc, &mut out)?;
    } else {
        write!(out, "{}", report::wrap::for_stdout(&text))?;
    }
    out.flush()
}
