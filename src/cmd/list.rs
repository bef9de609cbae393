//! `tcplab list`: the numbered experiments, number and title, one line each.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::catalogue;
use crate::cli::catalogue::ListArgs;

pub fn main(_a: &ListArgs) -> anyhow::Result<ExitCode> {
    let list = catalogue::load()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for e in &list {
        writeln!(out, "{:>2}  {:<26} {}", e.number, e.slug, e.title)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "'tcplab show N' reads an experiment's page; 'tcplab run N' runs it and checks the result."
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
