//! The text view of a sweep: a table for people, one line per point written as it finishes, sizes
//! in binary units. The CSV and JSON views carry the same rows as raw numbers.
//!
//! The table is 129 columns wide. Into a pipe or a file (no width) and on a terminal that wide,
//! each point is one line. A narrower terminal (`wrap::stdout_width`, at most 120 columns) gets
//! each point on two lines of at most 72 columns, under a two-line heading, so no row is ever
//! wrapped into the next column; the paragraph above the table is wrapped at word boundaries.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use super::csv::CsvSink;
use super::export::Format;

use super::wrap::wrap;
use crate::report::human;
use crate::report::sweep_row::SweepRow;
use crate::result::Outcome;

const HEADER: [(&str, usize); 10] = [
    ("point", 7),
    ("strategy", 13),
    ("client snd/rcv", 21),
    ("server snd/rcv", 21),
    ("outcome", 10),
    ("sent", 11),
    ("stall at", 9),
    ("rate", 13),
    ("predicted", 11),
    ("ratio", 5),
];

/// The columns of each line of a point on a narrow terminal, by index into `HEADER`: the result
/// first, then (under an empty `point` cell) the buffers and the rate.
const NARROW: [&[usize]; 2] = [&[0, 1, 4, 5, 6, 8, 9], &[0, 2, 3, 7]];

/// The width of the one-line table.
pub fn wide_width() -> usize {
    HEADER.iter().map(|(_, w)| w).sum::<usize>() + HEADER.len() - 1
}

/// One point a line when there is no width to keep to or the table fits it.
fn one_line(width: Option<usize>) -> bool {
    width.is_none_or(|w| w >= wide_width())
}

/// The cells of `cols`, each padded to its column (the last one not), in one line.
fn line(cells: &[String], cols: &[usize]) -> String {
    let padded: Vec<String> = cols
        .iter()
        .map(|&i| format!("{:<w$}", cells[i], w = HEADER[i].1))
        .collect();
    padded.join(" ").trim_end().to_string()
}

/// The table's heading: what the columns mean, then their names. `width` is the terminal's, or
/// `None` into a pipe or a file.
pub fn write_header(mut out: impl Write, width: Option<usize>) -> io::Result<()> {
    let about = "Buffer sizes are what the kernel kept (getsockopt; Linux doubles each request). \
                 'sent' counts the client's bytes before the stall; 'predicted' is the sum of the \
                 four buffers; 'ratio' = sent / predicted.";
    match width {
        Some(w) => writeln!(out, "{}", wrap(about, w, ""))?,
        None => writeln!(out, "{about}")?,
    }
    let mut names: Vec<String> = HEADER.iter().map(|(h, _)| h.to_string()).collect();
    write_cells(&mut names, &mut out, width)?;
    out.flush()
}

/// A header or a point's cells: one line, or two on a narrow terminal, the second without the
/// first column (it would repeat the point's number).
fn write_cells(cells: &mut [String], out: &mut impl Write, width: Option<usize>) -> io::Result<()> {
    if one_line(width) {
        let all: Vec<usize> = (0..HEADER.len()).collect();
        return writeln!(out, "{}", line(cells, &all));
    }
    writeln!(out, "{}", line(cells, NARROW[0]))?;
    cells[0].clear();
    writeln!(out, "{}", line(cells, NARROW[1]))
}

/// One point, as soon as it finished: one line, or two on a narrow terminal (see the module).
pub fn write_row(r: &SweepRow, mut out: impl Write, width: Option<usize>) -> io::Result<()> {
    let pair = |a: u64, b: u64| format!("{} / {}", human(a), human(b));
    let outcome = match r.outcome {
        Outcome::Completed => "completed",
        Outcome::Deadlock => "deadlock",
        Outcome::TimedOut => "timed out",
        Outcome::Interrupted => "stopped",
        _ => "failed",
    };
    let point = if r.run > 1 {
        format!("{}.{}", r.point, r.run)
    } else {
        r.point.to_string()
    };
    let mut cells = [
        point,
        r.strategy.clone(),
        pair(
            r.client_sndbuf_effective_bytes,
            r.client_rcvbuf_effective_bytes,
        ),
        pair(
            r.server_sndbuf_effective_bytes,
            r.server_rcvbuf_effective_bytes,
        ),
        outcome.to_string(),
        human(r.client_sent_bytes),
        r.stall_ms.map_or("-".into(), |ms| format!("{ms} ms")),
        format!("{}/s", human(r.throughput_bytes_per_s)),
        human(r.predicted_capacity_bytes),
        r.measured_over_predicted
            .map_or("-".into(), |v| format!("{v:.2}")),
    ];
    write_cells(&mut cells, &mut out, width)?;
    if let Some(e) = &r.error {
        let e = format!("{:7} {e}", "");
        match width {
            Some(w) => writeln!(out, "{}", wrap(&e, w, "    "))?,
            None => writeln!(out, "{e}")?,
        }
    }
    out.flush()
}

/// The whole table at once on stdout, when stdout is a terminal: at the end of a sweep whose rows
/// went only to files, so they are on screen too. Into a pipe or a file nothing is written, so a
/// script still finds stdout empty.
pub fn show_on_terminal<'a>(rows: impl IntoIterator<Item = &'a SweepRow>) -> io::Result<()> {
    let stdout = io::stdout();
    if !stdout.is_terminal() {
        return Ok(());
    }
    let width = super::wrap::stdout_width();
    let mut out = stdout.lock();
    write_header(&mut out, width)?;
    rows.into_iter()
        .try_for_each(|r| write_row(r, &mut out, width))
}

/// One destination of the rows.
pub enum RowSink {
    /// The table, laid out for the terminal's width when it goes to one (`None`: a pipe, a file).
    Text(Box<dyn Write>, Option<usize>),
    Csv(Box<CsvSink<Box<dyn Write>>>),
    Json(Box<dyn Write>),
}

impl RowSink {
    /// Rows into `out`, in the form the file name's extension asks for (else `fallback`; text for
    /// a form rows do not have).
    pub fn new(path: &Path, out: Box<dyn Write>, fallback: Format) -> io::Result<RowSink> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let format = match ext.to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "json" | "jsonl" | "ndjson" => Format::Json,
            "txt" => Format::Text,
            _ => fallback,
        };
        Ok(match format {
            Format::Text | Format::Svg => {
                let mut out = out;
                let width = if path.as_os_str() == "-" {
                    super::wrap::stdout_width()
                } else {
                    None
                };
                write_header(&mut out, width)?;
                RowSink::Text(out, width)
            }
            Format::Csv => RowSink::Csv(Box::new(CsvSink::new(out))),
            Format::Json => RowSink::Json(out),
        })
    }

    pub fn write(&mut self, row: &SweepRow) -> std::io::Result<()> {
        match self {
            RowSink::Text(out, width) => write_row(row, out, *width),
            RowSink::Csv(csv) => csv.write(row),
            RowSink::Json(out) => super::json::write_line(row, out),
        }
    }
}
