//! The one output seam: every command's document reaches stdout through `print`, in the format
//! asked for with `--format` (or `--json`). A document has its text view and its JSON (serde); a
//! form beyond those is one line in `Format` and one `Exporter` that the document names in
//! `Document::exporter` (hyperfine's `Exporter` trait is the model).
//!
//! Streams of rows or events (a sweep's points, the server's log, `watch`'s updates) go through
//! their sinks (`sweep_table`, `server`, `watch`), which pick their writer by the same `Format`.

use std::io::{self, Write};

use serde::Serialize;

use super::progress;
use super::wrap;

pub use crate::format::Format;

/// Writes one document in one format.
pub trait Exporter<D: ?Sized> {
    fn export(&self, doc: &D, out: &mut dyn Write) -> io::Result<()>;
}

/// A command's document: its text for a person, its JSON (serde) for scripts, and any other form
/// it has.
pub trait Document: Serialize {
    /// The document in sentences and tables.
    fn text(&self, out: &mut dyn Write) -> io::Result<()>;

    /// The exporter of a form beyond text and JSON (csv, svg), where the document has one.
    fn exporter<'a>(_f: Format) -> Option<Box<dyn Exporter<Self> + 'a>>
    where
        Self: 'a,
    {
        None
    }
}

/// A format the document does not have.
#[derive(Debug, thiserror::Error)]
#[error("this command writes {}; there is no '--format {}' for it", .have.join(" or "), .asked.name())]
pub struct Unsupported {
    pub asked: Format,
    pub have: Vec<&'static str>,
}

/// Whether `D` can be written as `f`: checked before a command starts, so a format it lacks costs
/// no run.
pub fn supported<D: Document>(f: Format) -> Result<(), Unsupported> {
    let has = |f: Format| matches!(f, Format::Text | Format::Json) || D::exporter(f).is_some();
    if has(f) {
        return Ok(());
    }
    let have = [Format::Text, Format::Json, Format::Csv, Format::Svg]
        .into_iter()
        .filter(|g| has(*g))
        .map(Format::name)
        .collect();
    Err(Unsupported { asked: f, have })
}

/// Writes the document in format `f` into `out`, as it is.
pub fn write<D: Document>(doc: &D, f: Format, out: &mut dyn Write) -> io::Result<()> {
    match f {
        Format::Text => doc.text(out),
        Format::Json => super::json::write(doc, out),
        other => match D::exporter(other) {
            Some(e) => e.export(doc, out),
            None => Err(io::Error::other(supported::<D>(other).unwrap_err())),
        },
    }
}

/// Prints the document on stdout in format `f`: text wrapped to the terminal (each line whole in
/// a pipe), anything else as it is. While `tcplab run` watches a command that writes JSON, the text
/// goes to the student's terminal (stderr) as well.
pub fn print<D: Document>(doc: &D, f: Format) -> io::Result<()> {
    let text = || super::captured(|o| doc.text(o));
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if f == Format::Text {
        write!(out, "{}", wrap::for_stdout(&text()))?;
    } else {
        if f == Format::Json && progress::watched_by_runner() {
            write!(
                io::stderr().lock(),
                "{}",
                wrap::wrap(&text(), wrap::stderr_width(), "    ")
            )?;
        }
        write(doc, f, &mut out)?;
    }
    out.flush()
}

/// A stream of items (events, updates) on stdout as they come: one JSON object per line for
/// scripts, or the item's line of text for a person.
pub struct Stream<T: ?Sized> {
    format: Format,
    text: fn(&T) -> String,
}

impl<T: Serialize + ?Sized> Stream<T> {
    /// Items worded by `text` for a person; JSON Lines otherwise.
    pub fn new(format: Format, text: fn(&T) -> String) -> Stream<T> {
        Stream { format, text }
    }

    /// Writes one item and flushes.
    pub fn item(&self, item: &T) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match self.format {
            Format::Json => super::json::write_line(item, &mut out),
            _ => {
                writeln!(out, "{}", (self.text)(item))?;
                out.flush()
            }
        }
    }
}
