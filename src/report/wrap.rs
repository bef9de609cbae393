//! Terminal width and word wrapping: the one place where tcplab's human text views learn how wide
//! a line may be and where it may break. Lines break only at spaces, never inside a word, so a
//! command such as `--strategy reader-thread` or a size such as `16-byte` always stays whole and can
//! be copied. The wrapping itself is textwrap's; this file only chooses its options. Rendering a
//! Markdown page is `page.rs`'s job, and deciding what a line says is each view's.

use std::io::IsTerminal;

use textwrap::{Options, WordSeparator, WordSplitter, WrapAlgorithm};

/// The width used when stdout is not a terminal (a pipe, a file) and `COLUMNS` is unset.
pub const DEFAULT_WIDTH: usize = 100;
/// The narrowest width tcplab wraps to: below it a paragraph is mostly line breaks.
pub const MIN_WIDTH: usize = 40;
/// The widest: longer lines are hard to follow back to their start, even in a wide terminal.
pub const MAX_WIDTH: usize = 120;

/// The width, in columns, that the human text views wrap to.
///
/// `COLUMNS`, when set to a positive number, comes first, so that `COLUMNS=80 tcplab show 5` gives
/// the same page in any terminal and in a pipe. Otherwise it is the width of stdout when that is a
/// terminal, and [`DEFAULT_WIDTH`] when it is not. The result is clamped to
/// [`MIN_WIDTH`]..=[`MAX_WIDTH`].
pub fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS").ok();
    let stdout = std::io::stdout();
    let tty = if stdout.is_terminal() {
        terminal_size::terminal_size_of(&stdout).map(|(w, _)| usize::from(w.0))
    } else {
        None
    };
    choose_width(columns.as_deref(), tty)
}

/// A text view as stdout should get it: wrapped at word boundaries to the terminal's width when
/// stdout is a terminal or `COLUMNS` is set (continuation lines indented by four spaces under
/// their line's own indentation), and unchanged into a pipe or a file, where a line is a record.
pub fn for_stdout(text: &str) -> String {
    let asked =
        std::env::var("COLUMNS").is_ok_and(|c| c.trim().parse::<usize>().is_ok_and(|c| c > 0));
    if asked || std::io::stdout().is_terminal() {
        wrap(text, terminal_width(), "    ")
    } else {
        text.to_string()
    }
}

/// The width of stderr, where the live views draw: `COLUMNS` first, then the terminal's width,
/// clamped like [`terminal_width`]; [`DEFAULT_WIDTH`] when stderr is not a terminal.
pub fn stderr_width() -> usize {
    let columns = std::env::var("COLUMNS").ok();
    let stderr = std::io::stderr();
    let tty = if stderr.is_terminal() {
        terminal_size::terminal_size_of(&stderr).map(|(w, _)| usize::from(w.0))
    } else {
        None
    };
    choose_width(columns.as_deref(), tty)
}

/// The decision behind [`terminal_width`], apart from the environment so that it can be tested.
fn choose_width(columns: Option<&str>, tty: Option<usize>) -> usize {
    let asked = columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    asked
        .or(tty.filter(|&c| c > 0))
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Wraps each line of `text` to `width` columns, breaking only at spaces.
///
/// Existing line breaks (and blank lines) stay. A line's leading spaces stay on its first piece,
/// and its continuation pieces get the same leading spaces followed by `indent`, so a list item can
/// hang under its text. A single word wider than the line stays whole on a line of its own rather
/// than being cut. Widths are display columns (`é` and `→` count one, `日` two), and ANSI escape
/// sequences count zero, so styled text wraps like plain text. Trailing spaces are dropped.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out =
        String::with_capacity(text.len() + text.len() / width.max(1) * (indent.len() + 1));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start_matches([' ', '\t']).trim_end();
        if body.is_empty() {
            continue;
        }
        let lead = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        let continuation = format!("{lead}{indent}");
        let options = Options::new(width)
            .initial_indent(lead)
            .subsequent_indent(&continuation)
            .break_words(false)
            .word_separator(WordSeparator::AsciiSpace)
            // textwrap would otherwise also break after a hyphen inside a word.
            .word_splitter(WordSplitter::NoHyphenation)
            .wrap_algorithm(WrapAlgorithm::FirstFit);
        for (j, piece) in textwrap::wrap(body, options).iter().enumerate() {
            if j > 0 {
                out.push('\n');
            }
            out.push_str(piece.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use textwrap::core::display_width;

    fn widest(text: &str) -> usize {
        text.lines().map(display_width).max().unwrap_or(0)
    }

    #[test]
    fn a_short_line_comes_back_unchanged() {
        assert_eq!(
            wrap("asked 4 KiB, kernel kept 8 KiB", 80, ""),
            "asked 4 KiB, kernel kept 8 KiB"
        );
    }

    #[test]
    fn long_lines_break_at_spaces_within_the_width() {
        let text = "The naive client does not read until it has finished sending, so the echo piles up: \
                    first in the client's receive buffer, then in the server's send buffer.";
        let wrapped = wrap(text, 40, "");
        assert!(widest(&wrapped) <= 40, "{wrapped}");
        assert_eq!(
            wrapped.split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
        assert_eq!(
            wrapped,
            "The naive client does not read until it\n\
             has finished sending, so the echo piles\n\
             up: first in the client's receive\n\
             buffer, then in the server's send\n\
             buffer."
        );
    }

    #[test]
    fn a_word_wider_than_the_line_stays_whole_on_its_own_line() {
        let wrapped = wrap("see net.core.wmem_max_and_rmem_max_together here", 12, "");
        assert_eq!(
            wrapped,
            "see\nnet.core.wmem_max_and_rmem_max_together\nhere"
        );
    }

    #[test]
    fn hyphens_in_flags_and_sizes_are_not_break_points() {
        let wrapped = wrap("try --strategy reader-thread with 16-byte writes", 20, "");
        assert_eq!(
            wrapped,
            "try --strategy\nreader-thread with\n16-byte writes"
        );
        // There is room for "reader-" on the first line, but the flag stays whole.
        assert_eq!(
            wrap("the --strategy reader-thread", 22, ""),
            "the --strategy\nreader-thread"
        );
    }

    #[test]
    fn existing_line_breaks_and_blank_lines_stay() {
        assert_eq!(wrap("one\n\ntwo three\n", 80, "  "), "one\n\ntwo three\n");
    }

    #[test]
    fn leading_indentation_stays_and_continuations_add_the_indent() {
        let wrapped = wrap(
            "  - the server's receive buffer fills, then the client's send buffer",
            30,
            "  ",
        );
        assert_eq!(
            wrapped,
            "  - the server's receive\n    buffer fills, then the\n    client's send buffer"
        );
    }

    #[test]
    fn width_is_counted_in_display_columns_not_bytes() {
        // Each "né→" is 3 columns but 6 bytes; "日本" is 4 columns.
        let wrapped = wrap("né→ né→ né→ né→ 日本 日本", 11, "");
        assert_eq!(wrapped, "né→ né→ né→\nné→ 日本\n日本");
    }

    #[test]
    fn ansi_styles_take_no_columns() {
        let styled = "\u{1b}[1mblocked\u{1b}[0m in send()";
        assert_eq!(wrap(styled, 17, ""), styled);
        assert_eq!(wrap(styled, 16, ""), "\u{1b}[1mblocked\u{1b}[0m in\nsend()");
    }

    #[test]
    fn trailing_spaces_are_dropped() {
        assert_eq!(wrap("a b   \n   ", 80, ""), "a b\n");
    }

    #[test]
    fn columns_comes_first_when_set() {
        assert_eq!(choose_width(Some("80"), Some(200)), 80);
        assert_eq!(choose_width(Some(" 90 "), None), 90);
    }

    #[test]
    fn a_terminal_gives_its_width_and_a_pipe_the_default() {
        assert_eq!(choose_width(None, Some(95)), 95);
        assert_eq!(choose_width(None, None), DEFAULT_WIDTH);
        assert_eq!(choose_width(Some("wide"), None), DEFAULT_WIDTH);
        assert_eq!(choose_width(Some("0"), Some(0)), DEFAULT_WIDTH);
    }

    #[test]
    fn the_width_is_clamped_to_40_through_120() {
        assert_eq!(choose_width(Some("20"), None), MIN_WIDTH);
        assert_eq!(choose_width(None, Some(300)), MAX_WIDTH);
    }
}
