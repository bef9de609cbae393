//! The JSON view: one document per run, raw numbers with the unit in each field's name.

use std::io::{self, Write};

use crate::result::RunResult;

pub fn write_run(result: &RunResult, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, result)?;
    writeln!(out)
}
