//! JSON: one pretty-printed document, or one object per line (JSON Lines), each with raw numbers
//! and the unit in each field's name.

use std::io::{self, Write};

use serde::Serialize;

/// Writes one pretty-printed JSON document and a newline, and flushes.
pub fn write<T: Serialize + ?Sized>(value: &T, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Writes one JSON object on one line (JSON Lines), and flushes.
pub fn write_line<T: Serialize + ?Sized>(value: &T, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}
