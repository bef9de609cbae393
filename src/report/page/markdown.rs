//! Markdown to terminal text: headings, paragraphs, bold, italics, inline code, lists, code
//! blocks, block quotes and tables, filled to a width and, if asked, styled with ANSI codes.
//!
//! pulldown-cmark (the CommonMark parser behind rustdoc and mdBook) reads the Markdown, so a
//! paragraph wrapped in the source flows again and a `##` inside a code block stays code. Lines
//! are filled by `wrap::wrap`, which breaks only at spaces. Styles are anstyle's, applied to each
//! word on its own, so a line break never falls between a style and its reset and the plain text
//! is the styled text without its escape codes. Which parts of a page to show is `page.rs`'s job.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use pulldown_cmark::{Alignment, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use textwrap::core::display_width;

use crate::report::wrap::wrap;

/// The Markdown extensions the pages may use, for every parse of a page.
pub(super) fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Renders Markdown to lines no wider than `width` (unless one word is), ending in one newline.
pub(super) fn to_terminal(markdown: &str, width: usize, color: bool) -> String {
    let mut r = Renderer {
        width,
        color,
        ..Renderer::default()
    };
    for event in Parser::new_ext(markdown, options()) {
        r.event(event);
    }
    let end = r.out.trim_end().len();
    r.out.truncate(end);
    r.out.push('\n');
    r.out
}

#[derive(Default)]
struct Renderer {
    width: usize,
    color: bool,
    out: String,
    /// The text of the block being read, already styled; `\n` marks a hard break.
    inline: String,
    bold: u32,
    italic: u32,
    strike: u32,
    heading: Option<HeadingLevel>,
    /// The destinations of the links being read, to show after their text (empty: nothing to show).
    links: Vec<String>,
    /// For each open list, the number of its next item (`None` for a bulleted list).
    lists: Vec<Option<u64>>,
    /// Where the text of the current container (list item, quote) starts.
    indent: String,
    outer_indents: Vec<String>,
    /// A list item's marker (`1. `, `• `) with the indent it goes after, waiting for a first line.
    marker: Option<(String, String)>,
    /// The next block follows a section heading or opens a list item: no blank line before it.
    tight: bool,
    code_block: Option<String>,
    /// The table being read: its columns' alignments and its rows of cells.
    table: Option<(Vec<Alignment>, Vec<Vec<String>>)>,
}

impl Renderer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => match self.code_block.as_mut() {
                Some(code) => code.push_str(&t),
                None => self.push_text(&t, self.style()),
            },
            Event::Code(t) => {
                // Quoted as tcplab's own messages quote commands, so that a status line such as
                // 'client: sending   server: receiving' stands apart from the sentence around it.
                let style = self.style().fg_color(Some(AnsiColor::Cyan.into()));
                self.push_text(&format!("'{t}'"), style);
            }
            Event::InlineHtml(t) => self.push_text(&t, self.style()),
            Event::SoftBreak => self.inline.push(' '),
            Event::HardBreak => self.inline.push('\n'),
            Event::Html(t) => {
                self.flush();
                self.gap();
                for line in t.lines() {
                    self.push_line(&format!("{}{line}", self.indent), "");
                }
            }
            Event::Rule => {
                self.flush();
                self.gap();
                self.out.push_str(&format!("{}* * *\n", self.indent));
            }
            // Math, footnotes and task lists are extensions the pages do not turn on.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.gap(),
            Tag::Heading { level, .. } => {
                self.flush();
                // A heading always stands apart, even right under another one.
                self.tight = false;
                self.gap();
                self.heading = Some(level);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.gap();
                self.outer_indents.push(self.indent.clone());
                self.indent.push_str("  ");
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.gap();
                self.code_block = Some(String::new());
            }
            Tag::List(first) => {
                self.flush();
                self.gap();
                self.lists.push(first);
            }
            Tag::Item => {
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_owned(),
                };
                let outer = self.indent.clone();
                self.indent = format!("{outer}{}", " ".repeat(display_width(&marker)));
                self.outer_indents.push(outer.clone());
                self.marker = Some((outer, marker));
                self.tight = true;
            }
            Tag::Table(alignments) => {
                self.flush();
                self.gap();
                self.table = Some((alignments, Vec::new()));
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some((_, rows)) = self.table.as_mut() {
                    rows.push(Vec::new());
                }
                // The head row is bold, like a heading.
                self.bold += u32::from(matches!(tag, Tag::TableHead));
            }
            Tag::Emphasis => self.italic += 1,
            Tag::Strong => self.bold += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => {
                // An autolink (`<https://…>`) shows its address already.
                let shown = matches!(link_type, LinkType::Autolink | LinkType::Email);
                // A page lives in experiments/: a link to `../docs/x.md` names `docs/x.md`, the
                // path from the repository's top, as the pages' text does.
                self.links.push(if shown {
                    String::new()
                } else {
                    let dest = dest_url.into_string();
                    dest.strip_prefix("../").map_or(dest.clone(), str::to_owned)
                });
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.flush(),
            TagEnd::Heading(level) => {
                let text = std::mem::take(&mut self.inline);
                let lines = wrap(&format!("{}{}", self.indent, text.trim()), self.width, "");
                let widest = lines.lines().map(display_width).max().unwrap_or(0);
                self.out.push_str(&lines);
                self.out.push('\n');
                let rule = match level {
                    HeadingLevel::H1 => "=",
                    HeadingLevel::H2 => "-",
                    _ => "",
                };
                if !rule.is_empty() {
                    let indent = display_width(&self.indent);
                    let _ = writeln!(self.out, "{}{}", self.indent, rule.repeat(widest - indent));
                }
                self.heading = None;
                // A section's text follows its heading directly; the title stands alone.
                self.tight = level != HeadingLevel::H1;
            }
            TagEnd::BlockQuote(_) | TagEnd::Item => {
                self.flush();
                self.indent = self.outer_indents.pop().unwrap_or_default();
                self.tight = false;
            }
            TagEnd::CodeBlock => {
                let code = self.code_block.take().unwrap_or_default();
                let style = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
                for line in code.trim_end_matches('\n').split('\n') {
                    let styled = self.styled(line.trim_end(), style);
                    self.push_line(&format!("{}  {styled}", self.indent), "  ");
                }
            }
            TagEnd::List(_) => {
                self.lists.pop();
            }
            TagEnd::Table => self.end_table(),
            TagEnd::TableHead => self.bold -= 1,
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some(row) = self.table.as_mut().and_then(|(_, rows)| rows.last_mut()) {
                    row.push(cell.trim().to_owned());
                }
            }
            TagEnd::Emphasis => self.italic -= 1,
            TagEnd::Strong => self.bold -= 1,
            TagEnd::Strikethrough => self.strike -= 1,
            TagEnd::Link => {
                let dest = self.links.pop().unwrap_or_default();
                if !dest.is_empty() {
                    self.push_text(&format!(" ({dest})"), Style::new());
                }
            }
            _ => {}
        }
    }

    /// The style of ordinary text at this point: bold in headings and `**`, and so on.
    fn style(&self) -> Style {
        let mut style = Style::new();
        if self.bold > 0 || self.heading.is_some() {
            style = style.bold();
        }
        if self.italic > 0 {
            style = style.italic();
        }
        if self.strike > 0 {
            style = style.strikethrough();
        }
        style
    }

    /// `text` with each word styled on its own; spaces stay unstyled, so lines can break there.
    fn styled(&self, text: &str, style: Style) -> String {
        if !self.color || style == Style::new() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 16);
        for (i, word) in text.split(' ').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if !word.is_empty() {
                let _ = write!(out, "{style}{word}{style:#}");
            }
        }
        out
    }

    fn push_text(&mut self, text: &str, style: Style) {
        let styled = self.styled(text, style);
        self.inline.push_str(&styled);
    }

    /// Writes one source line, filled to the width; its pieces after the first get `hang` more
    /// indent than the line's own.
    fn push_line(&mut self, line: &str, hang: &str) {
        self.out.push_str(&wrap(line, self.width, hang));
        self.out.push('\n');
    }

    /// Writes the text read so far as a paragraph, behind a list item's marker if one is waiting.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.inline);
        let marker = self.marker.take();
        if text.trim().is_empty() {
            if let Some((outer, marker)) = marker {
                self.push_line(&format!("{outer}{marker}"), "");
            }
            return;
        }
        for (i, line) in text.split('\n').enumerate() {
            match (&marker, i) {
                (Some((outer, marker)), 0) => {
                    let hang = " ".repeat(display_width(marker));
                    self.push_line(&format!("{outer}{marker}{}", line.trim_start()), &hang);
                }
                _ => self.push_line(&format!("{}{}", self.indent, line.trim_start()), ""),
            }
        }
    }

    /// Separates a new block from the one before by a blank line, unless it follows a section
    /// heading or opens a list item.
    fn gap(&mut self) {
        if std::mem::take(&mut self.tight) || self.out.is_empty() {
            return;
        }
        while !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Writes a table in aligned columns if they fit the width, else one row per line.
    fn end_table(&mut self) {
        let (alignments, rows) = self.table.take().unwrap_or_default();
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                rows.iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| display_width(s))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total = display_width(&self.indent)
            + widths.iter().sum::<usize>()
            + 2 * columns.saturating_sub(1);
        for (i, row) in rows.iter().enumerate() {
            if total > self.width {
                self.push_line(&format!("{}{}", self.indent, row.join(" | ")), "  ");
                continue;
            }
            let cells: Vec<String> = (0..columns)
                .map(|c| {
                    let cell = row.get(c).map_or("", String::as_str);
                    let room = widths[c] - display_width(cell);
                    let before = match alignments.get(c) {
                        Some(Alignment::Right) => room,
                        Some(Alignment::Center) => room / 2,
                        _ => 0,
                    };
                    format!("{}{cell}{}", " ".repeat(before), " ".repeat(room - before))
                })
                .collect();
            self.push_line(&format!("{}{}", self.indent, cells.join("  ")), "");
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                self.push_line(&format!("{}{}", self.indent, rule.join("  ")), "");
            }
        }
    }
}
