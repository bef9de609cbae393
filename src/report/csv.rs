//! The CSV view: one header from the row type's serde fields, then one line per row. The writer
//! flushes after every row, so a sweep cut short still leaves a valid file with every finished
//! point in it. Which columns exist is decided by the row types alone (`report::sweep_row::SweepRow`,
//! `timeline::TimelineRow`), never by a list kept here.

use std::io::{self, Write};

use serde::Serialize;

/// Writes rows one at a time, each flushed at once.
pub struct CsvSink<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> CsvSink<W> {
        CsvSink {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one row (the header first, before the first row) and flushes.
    pub fn write<T: Serialize>(&mut self, row: &T) -> io::Result<()> {
        self.inner.serialize(row).map_err(into_io)?;
        self.inner.flush()
    }
}

/// Writes a whole table at once (the timeline, recorded in memory first).
pub fn write_rows<T: Serialize>(rows: &[T], out: impl Write) -> io::Result<()> {
    let mut sink = CsvSink::new(out);
    for r in rows {
        sink.inner.serialize(r).map_err(into_io)?;
    }
    sink.inner.flush()
}

fn into_io(e: csv::Error) -> io::Error {
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        _ => io::Error::other(format!("cannot write a CSV row: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        time_ms: f64,
        sent_bytes: u64,
        stall_ms: Option<u64>,
    }

    #[test]
    fn the_header_comes_from_the_field_names_and_empty_options_stay_empty() {
        let mut out = Vec::new();
        let rows = [
            Row {
                time_ms: 10.5,
                sent_bytes: 4096,
                stall_ms: None,
            },
            Row {
                time_ms: 20.0,
                sent_bytes: 8192,
                stall_ms: Some(300),
            },
        ];
        write_rows(&rows, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time_ms,sent_bytes,stall_ms\n10.5,4096,\n20.0,8192,300\n"
        );
    }
}
