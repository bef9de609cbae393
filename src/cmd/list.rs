//! `tcplab list`: the numbered experiments, number and title, one line each.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::catalogue;
use crate::cli::catalogue::ListArgs;
use crate::report;

pub fn main(_a: &ListArgs) -> anyhow::Result<ExitCode> {
    let list = catalogue::load()?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    report::catalogue::write_list(&list, report::wrap::stdout_width(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
