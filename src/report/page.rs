//! An experiment page for the terminal (`tcplab show N`): which parts of the page the student
//! sees. The answer sections are held back until the student asks for them (`--answers`), so that
//! they think about the questions first; the page file keeps the answers, only the view leaves them
//! out. Drawing the Markdown (styles, lists, filling lines to the width) is `page/markdown.rs`'s
//! job; choosing the width (`wrap::terminal_width`) and whether to use color (a terminal,
//! `NO_COLOR`) is the caller's.

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

mod markdown;

/// The `## ` headings whose sections give the answers, compared ignoring case. In every page
/// this is the last section; "What to watch" and "Questions" come before it.
pub const ANSWER_HEADINGS: &[&str] = &["What happens and why"];

/// How to render a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageOptions {
    /// Show the answer sections (`--answers`). Without it they are left out and one line in their
    /// place tells the student how to see them.
    pub answers: bool,
    /// Style with ANSI escape codes (for a terminal). Without it the output is plain text with no
    /// escape codes at all (for pipes and tests).
    pub color: bool,
    /// The experiment's number, for the line that points to `tcplab show N --answers`.
    pub number: u32,
}

/// Renders a Markdown page for the terminal: headings, bold, inline code, lists, code blocks and
/// tables, wrapped at spaces. No line is wider than `width` display columns, unless a single word
/// is (the longest in the shipped pages is 30 columns). With `opts.color` off the text has no
/// escape codes. The result ends with one newline.
pub fn render(page: &str, width: usize, opts: PageOptions) -> String {
    markdown::to_terminal(&select_sections(page, opts), width, opts.color)
}

/// The line that replaces the answer sections when they are hidden.
fn answers_hint(number: u32) -> String {
    format!("Think about the questions first; `tcplab show {number} --answers` shows the answers.")
}

/// The page's Markdown without the answer sections (unless `opts.answers`), and with the hint in
/// place of the first one left out.
fn select_sections(page: &str, opts: PageOptions) -> String {
    let mut out = String::with_capacity(page.len());
    let mut hinted = false;
    for (heading, range) in sections(page) {
        let is_answer = heading.as_deref().is_some_and(|h| {
            ANSWER_HEADINGS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(h.trim()))
        });
        if opts.answers || !is_answer {
            out.push_str(&page[range]);
        } else if !hinted {
            hinted = true;
            // The hint is a paragraph of its own, set off by blank lines.
            while !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            out.push_str(&answers_hint(opts.number));
            out.push_str("\n\n");
        }
    }
    out
}

/// Splits a page at its `## ` headings: the text before the first one (the title and the command
/// line), then each heading's text with the byte range of its section, heading included.
fn sections(page: &str) -> Vec<(Option<String>, Range<usize>)> {
    let mut starts: Vec<(Option<String>, usize)> = vec![(None, 0)];
    let mut in_heading = false;
    for (event, range) in Parser::new_ext(page, markdown::options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => {
                starts.push((Some(String::new()), range.start));
                in_heading = true;
            }
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => in_heading = false,
            Event::Text(t) | Event::Code(t) if in_heading => {
                if let Some((Some(h), _)) = starts.last_mut() {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    let ends: Vec<usize> = starts
        .iter()
        .skip(1)
        .map(|s| s.1)
        .chain([page.len()])
        .collect();
    starts
        .into_iter()
        .zip(ends)
        .map(|((heading, start), end)| (heading, start..end))
        .filter(|(heading, range)| heading.is_some() || !range.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
