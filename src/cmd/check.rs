//! `tcplab check client|server -- CMD…`: checks the arguments (placeholders, output paths) before
//! anything runs, runs the whole check (`check::ladder`), says how each run went on stderr as it
//! ends, prints the report in the format asked for, writes the Markdown lab report with its
//! timeline, and exits 0 passed, 3 deadlocked, 1 any other failure, 2 bad arguments.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::check::client::ClientCheck;
use crate::check::command::{BYTES, PORT, Template};
use crate::check::ladder::{self, check_client, check_server};
use crate::check::server::ServerCheck;
use crate::check::{CheckError, ClientDoc, ServerDoc};
use crate::cli::check::{CheckArgs, CheckClientArgs, CheckCommon, CheckServerArgs, CheckWhat};
use crate::report::check::progress::CheckProgress;
use crate::report::errors::Usage;
use crate::report::export;
use crate::report::output::{self, Wanted};
use crate::report::{self, progress};
use crate::sock;
use crate::units::ByteSize;
use crate::watchdog::DEFAULT_CONFIRM;

pub fn main(a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let r = match &a.what {
        CheckWhat::Client(c) => client_main(c),
        CheckWhat::Server(s) => server_main(s),
    };
    match r {
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

/// The Markdown report and the SVG beside it, checked and opened before anything runs.
struct ReportFiles {
    md: Box<dyn Write>,
    svg: Box<dyn Write>,
    svg_name: String,
    paths: [PathBuf; 2],
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
    let wanted = [
        Wanted {
            flag: "--report",
            path: md,
        },
        Wanted {
            flag: "--report",
            path: &svg,
        },
    ];
    let mut opened = output::open(&wanted, None)?.into_iter();
    Ok(Some(ReportFiles {
        md: opened.next().expect("two files"),
        svg: opened.next().expect("two files"),
        svg_name,
        paths: [md.to_path_buf(), svg],
    }))
}

/// Whether progress is drawn, under the one rule of `report::progress`: only for a person
/// watching the terminal (so an error stays the only line a script sees).
fn live(c: &CheckCommon) -> progress::Live {
    progress::Live::decide(c.quiet, c.format.machine())
}

/// A progress line on stderr, when progress is drawn.
fn say(c: &CheckCommon, line: &str) {
    if live(c).shown() {
        eprintln!("{}", report::wrap::for_stderr(line));
    }
}

fn client_main(a: &CheckClientArgs) -> anyhow::Result<ExitCode> {
    export::supported::<ClientDoc>(a.common.format.get())?;
    let template = Template::new(a.command.clone());
    if a.ladder && !template.has(BYTES) {
        return Err(Usage(
            "--ladder needs {bytes} in the command, where your client takes the number of bytes to send (e.g. '… {host} {port} {bytes}')".into(),
        )
        .into());
    }
    need_port(&template, &a.common)?;
    let addr = address(&a.common)?;
    let mut files = open_report(a.common.report.as_deref())?;
    let cfg = ClientCheck {
        template,
        addr,
        timeout: a.common.timeout.0,
        stall_after: a.common.stall_after.0,
        confirm: DEFAULT_CONFIRM,
    };
    // Without a size given, one that outgrows this machine's buffers (measured first).
    let derived = match (a.bytes, a.max_bytes.or(a.bytes)) {
        (Some(_), _) | (_, Some(_)) => None,
        _ if !cfg.template.has(BYTES) => None,
        _ => {
            say(&a.common, &report::check::deriving_line());
            Some(crate::check::size::for_this_machine(
                &addr.ip().to_string(),
            )?)
        }
    };
    let pick = |given: Option<ByteSize>| {
        given.map_or_else(|| derived.map_or(0, |d| d.bytes), |b| b.bytes())
    };
    let sizes = ladder::client_sizes(&cfg, a.ladder, pick(a.bytes), pick(a.max_bytes.or(a.bytes)));
    let where_ = if addr.port() == 0 {
        format!("{} (a free port)", addr.ip())
    } else {
        addr.to_string()
    };
    say(
        &a.common,
        &report::check::client_intro(&a.command, a.ladder, &sizes, &where_),
    );
    // A status line of what has moved, between the lines of each run (issue 19).
    let moving = CheckProgress::new(live(&a.common));
    let (mut doc, rows) = check_client(
        &cfg,
        a.ladder,
        sizes,
        &mut |run| moving.say(&report::check::client_run_line(run)),
        &mut moving.feed(),
    )?;
    drop(moving);
    doc.derived_size = derived;
    export::print(&doc, a.common.format.get())?;
    if let Some(f) = files.as_mut() {
        report::check::write_timeline(&rows, &doc.command, doc.outcome, &mut f.svg)?;
        report::check::write_client_markdown(&doc, Some(&f.svg_name), &mut f.md)?;
        f.md.flush()?;
        f.paths.iter().for_each(|p| output::tell_written(p, None));
    }
    Ok(ExitCode::from(doc.outcome.exit_code()))
}

fn server_main(a: &CheckServerArgs) -> anyhow::Result<ExitCode> {
    export::supported::<ServerDoc>(a.common.format.get())?;
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
    let moving = CheckProgress::new(live(&a.common));
    let (doc, rows) = check_server(
        &cfg,
        a.bytes.bytes(),
        a.max_bytes.bytes(),
        &mut |started| moving.say(&report::check::server_listening_line(started)),
        &mut |step| moving.say(&report::check::server_step_line(step)),
        &mut moving.feed(),
    )?;
    drop(moving);
    export::print(&doc, a.common.format.get())?;
    if let Some(f) = files.as_mut() {
        report::check::write_timeline(&rows, &doc.command, doc.outcome, &mut f.svg)?;
        report::check::write_server_markdown(&doc, Some(&f.svg_name), &mut f.md)?;
        f.md.flush()?;
        f.paths.iter().for_each(|p| output::tell_written(p, None));
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
