//! The document of a lab run (`deadlock`, `client`): the text summary, and the JSON with the
//! failure in words beside the typed one, for scripts that only want the sentence.

use std::io::{self, Write};

use serde::Serialize;

use super::export::Document;
use super::text;
use crate::result::RunResult;

#[derive(Serialize)]
pub struct RunDoc<'a> {
    #[serde(flatten)]
    pub result: &'a RunResult,
    /// The failure in one line, as the text view says it.
    pub error: Option<String>,
    /// Whether the live view told the events already (the text then leaves them out).
    #[serde(skip)]
    pub events_told: bool,
}

impl<'a> RunDoc<'a> {
    pub fn new(result: &'a RunResult, events_told: bool) -> RunDoc<'a> {
        RunDoc {
            result,
            error: result.failure.as_ref().map(text::failure_text),
            events_told,
        }
    }
}

impl Document for RunDoc<'_> {
    /// The story first, then the summary, so the summary's last line (what the exit code means)
    /// is the last line printed.
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut out = out;
        if !self.events_told {
            text::write_events(self.result, &mut out)?;
            writeln!(out)?;
        }
        text::write_run(self.result, &mut out)
    }
}
