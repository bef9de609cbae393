//! Terminal width and word wrapping: the one place where tcplab's human text views learn how wide
//! a line may be and where it may break. Lines break only at spaces, never inside a word, so a
//! command such as `--strategy reader-thread` or a size such as `16-byte` always stays whole and can
//! be copied. The wrapping itself is textwrap's; this file only chooses its options. Rendering a
//! Markdown page is `page.rs`'s job, and deciding what a line says is each view's.

use std::io::IsTerminal;

use textwrap::core::Word;
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
    width_of(std::io::stdout())
}

/// `COLUMNS`, else the width of `stream` when it is a terminal, as [`choose_width`] decides.
fn width_of(stream: impl IsTerminal + std::os::fd::AsFd) -> usize {
    let tty = stream
        .is_terminal()
        .then(|| terminal_size::terminal_size_of(&stream));
    let tty = tty.flatten().map(|(w, _)| usize::from(w.0));
    choose_width(std::env::var("COLUMNS").ok().as_deref(), tty)
}

/// A text view as stdout should get it: wrapped at word boundaries to the terminal's width when
/// stdout is a terminal or `COLUMNS` is set (continuation lines indented by four spaces under
/// their line's own indentation), and unchanged into a pipe or a file, where a line is a record.
pub fn for_stdout(text: &str) -> String {
    match stdout_width() {
        Some(width) => wrap(text, width, "    "),
        None => text.to_string(),
    }
}

/// The width stdout's human text is laid out for, or `None` when it goes to a pipe or a file
/// without `COLUMNS`: then each line is a record and nothing is wrapped. The same rule as
/// [`for_stdout`], for views that choose a layout (a table's columns) rather than only wrap.
pub fn stdout_width() -> Option<usize> {
    (columns_asked() || std::io::stdout().is_terminal()).then(terminal_width)
}

/// A line (or lines) for stderr, by the same rule as [`for_stdout`]: wrapped to stderr's width,
/// continuations indented by four spaces, when stderr is a terminal or `COLUMNS` is set; as it is
/// otherwise, so that a log or a test reading stderr still gets one error per line.
pub fn for_stderr(text: &str) -> String {
    if columns_asked() || std::io::stderr().is_terminal() {
        wrap(text, stderr_width(), "    ")
    } else {
        text.to_string()
    }
}

/// Prints a line (or lines) on stderr, wrapped by [`for_stderr`]'s rule.
pub fn eprint(text: &str) {
    eprintln!("{}", for_stderr(text));
}

/// Whether `COLUMNS` holds a positive number of columns.
fn columns_asked() -> bool {
    std::env::var("COLUMNS").is_ok_and(|c| c.trim().parse::<usize>().is_ok_and(|c| c > 0))
}

/// The width of stderr, where the live views draw: `COLUMNS` first, then the terminal's width,
/// clamped like [`terminal_width`]; [`DEFAULT_WIDTH`] when stderr is not a terminal.
pub fn stderr_width() -> usize {
    width_of(std::io::stderr())
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
/// than being cut, and a number stays on the line of its unit (`128 KiB`, `250 ms`). Widths are display columns (`é` and `→` count one, `日` two), and ANSI escape
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
            .word_separator(WordSeparator::Custom(numbers_keep_their_units))
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

/// The units a number may be followed by in tcplab's text: humansize's binary sizes, rates and
/// durations. `1 KiB` broken across two lines reads as a 1 and a stray unit.
const UNITS: [&str; 14] = [
    "B", "KiB", "MiB", "GiB", "TiB", "B/s", "KiB/s", "MiB/s", "GiB/s", "ms", "s", "µs", "byte",
    "bytes",
];

/// textwrap's words, split at ASCII spaces as `WordSeparator::AsciiSpace` does, except that a
/// word ending in a digit and the unit after it (`(128`, `KiB),`) make one word.
fn numbers_keep_their_units(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    // Byte offsets of each word's start, with its trailing spaces running to the next start.
    let mut starts = Vec::new();
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c != ' ' && prev_space {
            starts.push(i);
        }
        prev_space = c == ' ';
    }
    let piece = |k: usize| {
        let end = starts.get(k + 1).copied().unwrap_or(line.len());
        &line[starts[k]..end]
    };
    let is_unit = |w: &str| {
        let bare = w
            .trim_end()
            .trim_end_matches([',', '.', ';', ':', ')', ']']);
        UNITS.contains(&bare)
    };
    let mut words = Vec::with_capacity(starts.len());
    let mut k = 0;
    while k < starts.len() {
        let this = piece(k).trim_end();
        let glued = k + 1 < starts.len()
            && this.ends_with(|c: char| c.is_ascii_digit())
            && is_unit(piece(k + 1));
        let last = if glued { k + 1 } else { k };
        let end = starts.get(last + 1).copied().unwrap_or(line.len());
        // A line may start with spaces (textwrap passes the body only, but be safe).
        let start = if k == 0 { 0 } else { starts[k] };
        words.push(Word::from(&line[start..end]));
        k = last + 1;
    }
    Box::new(words.into_iter())
}

/// Test support for the views: asserts that `wrapped` is `original` wrapped to `width`: no line
/// wider than `width` (except a single word that is wider on its own), and every word of the
/// original whole and in order.
#[cfg(test)]
pub fn assert_wrapped(original: &str, wrapped: &str, width: usize) {
    use textwrap::core::display_width;
    for line in wrapped.lines() {
        assert!(
            display_width(line) <= width || line.split_whitespace().count() == 1,
            "a line is wider than {width} columns:\n{line}\n\nin:\n{wrapped}"
        );
    }
    assert_eq!(
        wrapped.split_whitespace().collect::<Vec<_>>(),
        original.split_whitespace().collect::<Vec<_>>(),
        "a word was split or lost at {width} columns:\n{wrapped}"
    );
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
    fn a_number_stays_on_the_line_of_its_unit() {
        let text = "reads of up to 1 KiB · server 127.0.0.1:4000";
        assert_eq!(
            wrap(text, 17, ""),
            "reads of up to\n1 KiB · server\n127.0.0.1:4000"
        );
        assert_eq!(
            wrap("queue 87.63 KiB of 128 KiB), 250 ms later", 24, ""),
            "queue 87.63 KiB of\n128 KiB), 250 ms later"
        );
        // A word that is not a unit, and a unit after a word that is no number, may break.
        assert_eq!(wrap("sent 16 writes", 7, ""), "sent 16\nwrites");
        assert_eq!(wrap("in KiB here", 6, ""), "in KiB\nhere");
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
