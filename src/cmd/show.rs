//! `tcplab show N`: an experiment's page, then the commands `tcplab run N` will run.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::cli::catalogue::ShowArgs;

pub fn main(a: &ShowArgs) -> anyhow::Result<ExitCode> {
    let Some(exp) = super::experiment(&a.experiment)? else {
        return Ok(ExitCode::from(2));
    };
    let exp = &exp;
    let stdout = io::stdout();
    let mut out = stdout.lock();
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
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
