//! `tcplab files DIR`: writes the programs tcplab carries (`catalogue::files`) into a folder and
//! says what it wrote and what to try next (`report::files`). A program's file that exists
//! already is a refusal (exit 2, worded by `report::errors`) unless `--force` is given, and then
//! nothing is written.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::catalogue::files::{self, LAB_FILES};
use crate::cli::files::FilesArgs;
use crate::report;

pub fn main(a: &FilesArgs) -> anyhow::Result<ExitCode> {
    let written = files::write_into(&a.dir, a.force)?;
    let mut text = Vec::new();
    report::files::write_written(&a.dir, &written, LAB_FILES, &mut text)?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(report::wrap::for_stdout(&String::from_utf8_lossy(&text)).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
