//! `tcplab show N`: an experiment's page, then the commands `tcplab run N` will run.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::catalogue::ShowArgs;
use crate::report;

pub fn main(a: &ShowArgs) -> anyhow::Result<ExitCode> {
    let exp = crate::catalogue::pick(&a.experiment)?;
    let stdout = io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = report::wrap::terminal_width();
    let mut out = stdout.lock();
    report::catalogue::write_page(&exp, a.answers, color, width, &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
