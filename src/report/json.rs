//! The JSON views: one document per run (raw numbers with the unit in each field's name, plus the
//! failure in words as `error`), and one JSON document for anything else serialisable.

use std::io::{self, Write};

use serde::Serialize;

use crate::result::RunResult;

/// A run result with its failure worded, for scripts that only want the sentence.
#[derive(Serialize)]
struct Worded<'a> {
    #[serde(flatten)]
    result: &'a RunResult,
    /// The failure in one line, as the text view says it.
    error: Option<String>,
}

pub fn write_run(result: &RunResult, out: impl Write) -> io::Result<()> {
    let worded = Worded {
        result,
        error: result.failure.as_ref().map(super::text::failure_text),
    };
    write(&worded, out)
}

/// Writes one pretty-printed JSON document and a newline, and flushes.
pub fn write<T: Serialize>(value: &T, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Writes one JSON object on one line (JSON Lines), and flushes.
pub fn write_line<T: Serialize>(value: &T, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}
