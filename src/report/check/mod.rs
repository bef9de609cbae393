//! What `tcplab check` says: the verdict on a student's client or server with its evidence — who
//! waits in which call, the kernel's facts, the ledger, the last lines a crashed program wrote —
//! and the fix to try. One wording, built as blocks (`client.rs`, `server.rs`), drawn two ways
//! here: text for the terminal and a Markdown lab report (`--report FILE.md`, with the timeline SVG
//! beside it).

mod client;
pub mod progress;
mod server;

use std::io::{self, Write};

use super::human;
pub(super) use super::human::secs;
use super::outside::text as outside;
use crate::check::{Outcome, ProcessEnd};
use crate::timeline::TimelineRow;

pub use client::{
    client_intro, client_run_line, deriving_line, write_client, write_client_markdown,
};
pub use server::{server_listening_line, server_step_line, write_server, write_server_markdown};

/// The plot's title: the program (its script, for an interpreter) and the verdict.
fn timeline_title(command: &[String], outcome: Outcome) -> String {
    let program = command
        .iter()
        .take(2)
        .rfind(|a| a.contains('.') || a.contains('/'))
        .or(command.first())
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or("the program");
    format!("tcplab check: {} {}", outside(program), outcome.name())
}

/// The timeline beside the lab report: the last run's samples under the program's name and verdict.
pub fn write_timeline(
    rows: &[TimelineRow],
    command: &[String],
    outcome: Outcome,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let title = timeline_title(command, outcome);
    let svg = super::svg::timeline(rows, &title).map_err(anyhow::Error::msg)?;
    out.write_all(svg.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The lab report's title: the side checked and the program (its script, for an interpreter).
pub(super) fn markdown_title(
    side: &str,
    command: &[String],
    out: &mut impl Write,
) -> io::Result<()> {
    let program = command
        .get(1)
        .or(command.first())
        .map_or("", String::as_str);
    writeln!(out, "# tcplab check {side}: {program}\n")
}

/// A piece of the report.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    Heading(String),
    Para(String),
    List(Vec<String>),
    /// Preformatted lines (ledger, program output).
    Pre(Vec<String>),
    /// A table: header, then rows.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// A size with its exact byte count: `1 MiB (1048576 bytes)`, or `176 bytes`.
pub(super) fn size(b: u64) -> String {
    if b < 1024 {
        format!("{b} bytes")
    } else {
        format!("{} ({b} bytes)", human(b))
    }
}

/// Whether anything the program started outlived the check, in words: `nothing is left running`
/// only when nothing is; else who is (and a port something still listens on).
pub(super) fn left_running(p: &ProcessEnd, listening_on: Option<&str>) -> String {
    let mut parts: Vec<String> = p
        .survivors
        .iter()
        .map(|s| match &s.comm {
            Some(c) => format!("{} (pid {})", outside(c), s.pid),
            None => format!("pid {}", s.pid),
        })
        .collect();
    if let Some(addr) = listening_on {
        parts.push(format!("something still listens on {addr}"));
    }
    if parts.is_empty() {
        "nothing is left running".into()
    } else {
        format!(
            "but these outlived it: {} (stop them with kill)",
            parts.join(", ")
        )
    }
}

/// How a program that ended by itself ended, in a few words: `exited with code 2`.
pub(super) fn how_it_ended(p: &ProcessEnd) -> String {
    match (p.exit_code, p.signal) {
        (Some(c), _) => format!("exited with code {c}"),
        (None, Some(s)) => format!("was ended by signal {s}"),
        (None, None) => "ended".into(),
    }
}

/// The program's last lines (stderr always, stdout when asked).
pub(super) fn output_blocks(p: &ProcessEnd, stdout: bool) -> Vec<Block> {
    let mut b = Vec::new();
    let shown = |lines: &[String]| lines.iter().map(|l| outside(l).into_owned()).collect();
    if !p.stderr_tail.is_empty() {
        b.push(Block::Heading("Its last lines on stderr".into()));
        b.push(Block::Pre(shown(&p.stderr_tail)));
    }
    if stdout && !p.stdout_tail.is_empty() {
        b.push(Block::Heading("Its last lines on stdout".into()));
        b.push(Block::Pre(shown(&p.stdout_tail)));
    }
    b
}

/// The blocks as text for the terminal, or as Markdown for the lab report.
pub(super) fn write_blocks(blocks: &[Block], md: bool, out: &mut impl Write) -> io::Result<()> {
    for b in blocks {
        match b {
            Block::Heading(h) if md => writeln!(out, "### {h}\n")?,
            Block::Heading(h) => writeln!(out, "{h}:")?,
            Block::Para(p) => writeln!(out, "{p}\n")?,
            Block::List(items) => {
                for i in items {
                    writeln!(out, "{}- {i}", if md { "" } else { "  " })?;
                }
                writeln!(out)?;
            }
            Block::Pre(lines) if md => writeln!(out, "```text\n{}\n```\n", lines.join("\n"))?,
            Block::Pre(lines) => {
                for l in lines {
                    writeln!(out, "  | {l}")?;
                }
                writeln!(out)?;
            }
            Block::Table(head, rows) if md => {
                writeln!(out, "| {} |", head.join(" | "))?;
                writeln!(out, "|{}", "---|".repeat(head.len()))?;
                for r in rows {
                    writeln!(out, "| {} |", r.join(" | "))?;
                }
                writeln!(out)?;
            }
            Block::Table(head, rows) => {
                let widths: Vec<usize> = (0..head.len())
                    .map(|i| {
                        rows.iter()
                            .map(|r| r[i].chars().count())
                            .chain([head[i].chars().count()])
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                for row in std::iter::once(head).chain(rows) {
                    let cells: Vec<String> = row
                        .iter()
                        .zip(&widths)
                        .map(|(c, w)| format!("{c:<w$}"))
                        .collect();
                    writeln!(out, "  {}", cells.join("  ").trim_end())?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

pub(super) fn write_settings(rows: &[(String, String)], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "| setting | value |\n|---|---|")?;
    for (k, v) in rows {
        writeln!(
            out,
            "| {} | {} |",
            k.replace('|', "\\|"),
            v.replace('|', "\\|")
        )?;
    }
    writeln!(out)
}

pub(super) fn write_svg_link(svg: Option<&str>, out: &mut impl Write) -> io::Result<()> {
    if let Some(name) = svg {
        writeln!(
            out,
            "## Timeline\n\nThe four queues and the programs' counters over time, sampled from the kernel.\n\n![timeline]({name})"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
