//! Handlers of the classic programs: pick the role, run it, print the demo's report as JSON or
//! text, and say how the process exits (a demo whose lesson is an error still exits 0; a stalled
//! half-close exits 3).

use std::io::{self, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::classic::{self, Outcome, blocks, dribble, halfclose, sixteen};
use crate::cli::classic::{
    BlocksArgs, BlocksRole, DemoOutput, DribbleArgs, HalfcloseArgs, SixteenArgs, SixteenRole,
};

type TextView<R> = fn(&R, bool, &mut dyn Write) -> io::Result<()>;

fn emit<R: Serialize>(report: &R, o: &DemoOutput, text: TextView<R>) -> anyhow::Result<()> {
    if o.json {
        if crate::progress::watched_by_runner() {
            text(report, o.quiet, &mut io::stderr().lock())?;
        }
        return classic::print_json(report);
    }
    let mut out = io::stdout().lock();
    text(report, o.quiet, &mut out)?;
    out.flush()?;
    Ok(())
}

pub fn sixteen(a: &SixteenArgs) -> anyhow::Result<ExitCode> {
    match &a.role {
        SixteenRole::Server(s) => sixteen::server(s),
        SixteenRole::Client(c) => sixteen::client(c),
        SixteenRole::Demo(d) => {
            let report = sixteen::demo(d)?;
            emit(&report, &d.output, sixteen::write_text)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn blocks(a: &BlocksArgs) -> anyhow::Result<ExitCode> {
    match &a.role {
        BlocksRole::Server(s) => blocks::server(s),
        BlocksRole::Client(c) => blocks::client(c),
        BlocksRole::Demo(d) => {
            let report = blocks::demo(d)?;
            emit(&report, &d.output, blocks::write_text)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn dribble(a: &DribbleArgs) -> anyhow::Result<ExitCode> {
    if let Err(e) = dribble::check(a) {
        eprintln!("tcplab: {e}");
        return Ok(ExitCode::from(2));
    }
    let report = dribble::run(a)?;
    emit(&report, &a.output, dribble::write_text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn halfclose(a: &HalfcloseArgs) -> anyhow::Result<ExitCode> {
    let report = halfclose::run(a)?;
    emit(&report, &a.output, halfclose::write_text)?;
    Ok(ExitCode::from(match report.outcome {
        Outcome::Stalled => 3,
        _ => 0,
    }))
}
