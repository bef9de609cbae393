//! Snapshots of two pages at the widths students use, and checks over every page.

use std::path::Path;

use textwrap::core::display_width;

use super::*;

/// The experiment pages, `experiments/NN-slug.md`, with their numbers, in order.
fn pages() -> Vec<(u32, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut pages: Vec<(u32, String)> = std::fs::read_dir(&dir)
        .expect("experiments/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_owned();
            let number = stem.split('-').next()?.parse().ok()?;
            Some((
                number,
                std::fs::read_to_string(&p).expect("a page is readable"),
            ))
        })
        .collect();
    pages.sort_by_key(|p| p.0);
    pages
}

fn page(number: u32) -> String {
    let all = pages();
    all.into_iter()
        .find(|p| p.0 == number)
        .expect("the page exists")
        .1
}

fn plain(number: u32, answers: bool) -> PageOptions {
    PageOptions {
        answers,
        color: false,
        number,
    }
}

/// The words a reader sees in some Markdown or in a rendering of it: what is left without heading
/// marks, `*` and backticks, and without the lines of `=` and `-` that underline a heading.
fn words(text: &str) -> Vec<String> {
    links_as_shown(text)
        .lines()
        .flat_map(|l| l.trim_start_matches('#').split_whitespace())
        .map(|w| unquoted(&w.replace(['*', '`'], "")))
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c == '=' || c == '-'))
        .collect()
}

/// `[text](dest)` as the terminal shows a link: `text (dest)`, a destination that leaves the
/// experiments' folder (`../docs/x.md`) named from the repository's top (`docs/x.md`).
fn links_as_shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some((label, after)) = rest[open + 1..].split_once("](") else {
            break;
        };
        let Some((dest, tail)) = after.split_once(')') else {
            break;
        };
        out.push_str(&rest[..open]);
        let dest = dest.strip_prefix("../").unwrap_or(dest);
        out.push_str(&format!("{label} ({dest})"));
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A word without quotes: code spans are rendered in quotes, and an apostrophe next to one
/// (`tcp_rmem`'s) cannot be told from them.
fn unquoted(w: &str) -> String {
    w.replace('\'', "")
}

/// The text with all ANSI escape sequences (`ESC [ ... final byte`) removed.
fn strip_ansi(styled: &str) -> String {
    console::strip_ansi_codes(styled).into_owned()
}

macro_rules! snapshot {
    ($name:ident, $number:expr, $width:expr, $answers:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render(&page($number), $width, plain($number, $answers)));
        }
    };
}

snapshot!(page_5_at_80_columns_hides_the_answers, 5, 80, false);
snapshot!(page_5_at_80_columns_with_answers, 5, 80, true);
snapshot!(page_5_at_120_columns_hides_the_answers, 5, 120, false);
snapshot!(page_5_at_120_columns_with_answers, 5, 120, true);
snapshot!(page_11_at_80_columns_hides_the_answers, 11, 80, false);
snapshot!(page_11_at_80_columns_with_answers, 11, 80, true);
snapshot!(page_11_at_120_columns_hides_the_answers, 11, 120, false);
snapshot!(page_11_at_120_columns_with_answers, 11, 120, true);

#[test]
fn every_page_has_one_answer_section() {
    let all = pages();
    // A guard against checking nothing: the catalogue's own test checks the numbering.
    assert!(all.len() >= 13, "found only {} pages", all.len());
    for (n, text) in &all {
        let answer_sections = sections(text)
            .into_iter()
            .filter(|(h, _)| h.as_deref().is_some_and(|h| ANSWER_HEADINGS.contains(&h)))
            .count();
        assert_eq!(answer_sections, 1, "page {n}");
    }
}

#[test]
fn no_line_is_wider_than_the_width_at_40_80_or_120_columns() {
    for (n, text) in pages() {
        for width in [40, 80, 120] {
            for answers in [false, true] {
                for color in [false, true] {
                    let out = render(
                        &text,
                        width,
                        PageOptions {
                            answers,
                            color,
                            number: n,
                        },
                    );
                    for line in out.lines() {
                        assert!(
                            display_width(line) <= width,
                            "page {n} at {width} columns (answers {answers}, color {color}) has a \
                             line of {} columns:\n{line}",
                            display_width(line)
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn plain_text_has_no_escape_codes_and_no_markdown_marks() {
    for (n, text) in pages() {
        for width in [80, 120] {
            let out = render(&text, width, plain(n, true));
            assert!(
                !out.contains('\u{1b}'),
                "page {n} at {width}: an escape code"
            );
            assert!(
                !out.contains("**"),
                "page {n} at {width}: '**' left:\n{out}"
            );
            assert!(
                !out.contains('`'),
                "page {n} at {width}: a backtick left:\n{out}"
            );
            assert!(
                !out.lines().any(|l| l.starts_with('#')),
                "page {n} at {width}: a '#' heading mark"
            );
        }
    }
}

#[test]
fn color_adds_only_styles_to_the_plain_text() {
    for (n, text) in pages() {
        let styled = render(
            &text,
            80,
            PageOptions {
                answers: true,
                color: true,
                number: n,
            },
        );
        assert!(styled.contains('\u{1b}'), "page {n}: no style at all");
        let unstyled: Vec<String> = strip_ansi(&styled)
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect();
        let plain: Vec<String> = render(&text, 80, plain(n, true))
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(unstyled, plain, "page {n}");
    }
}

#[test]
fn with_answers_every_word_of_the_page_is_shown_in_order() {
    for (n, text) in pages() {
        for width in [80, 120] {
            assert_eq!(
                words(&render(&text, width, plain(n, true))),
                words(&text),
                "page {n} at {width}"
            );
        }
    }
}

#[test]
fn without_answers_the_questions_stay_and_the_answers_give_way_to_the_hint() {
    for (n, text) in pages() {
        let out = render(&text, 80, plain(n, false));
        let flat = words(&out).join(" ");
        let mut expected = Vec::new();
        for (heading, range) in sections(&text) {
            let section = &text[range];
            if heading.as_deref() == Some("What happens and why") {
                // Every paragraph of the answer is gone; checked on its first eight words.
                for paragraph in section.split("\n\n").skip(1) {
                    let opening = words(paragraph)
                        .into_iter()
                        .take(8)
                        .collect::<Vec<_>>()
                        .join(" ");
                    assert!(
                        !flat.contains(&opening),
                        "page {n} shows the answer '{opening}'"
                    );
                }
                assert!(!flat.contains("What happens and why"), "page {n}");
                expected.extend(words(&answers_hint(n)));
            } else {
                if heading.as_deref() == Some("Questions") {
                    // Every question is there; checked on its first six words.
                    let items = section.lines().filter(|l| l.starts_with(char::is_numeric));
                    for item in items {
                        let opening = words(item)
                            .into_iter()
                            .take(6)
                            .collect::<Vec<_>>()
                            .join(" ");
                        assert!(flat.contains(&opening), "page {n} lost '{opening}':\n{out}");
                    }
                }
                expected.extend(words(section));
            }
        }
        assert_eq!(words(&out), expected, "page {n}");
        assert!(
            flat.contains(&format!("tcplab show {n} --answers")),
            "page {n} does not say how to see the answers:\n{out}"
        );
    }
}

#[test]
fn the_hint_replaces_the_answers_where_they_stood() {
    let page = "# 1. T\n\n## Questions\n1. Why?\n\n## What happens and why\nBecause.\n\n## Try next\nMore.\n";
    assert_eq!(
        render(page, 80, plain(1, false)),
        "1. T\n====\n\nQuestions\n---------\n1. Why?\n\n\
         Think about the questions first; 'tcplab show 1 --answers' shows the answers.\n\n\
         Try next\n--------\nMore.\n"
    );
    assert!(render(page, 80, plain(1, true)).contains("Because."));
}

#[test]
fn a_page_without_answers_gets_no_hint() {
    let page = "# 1. T\n\n## Questions\n1. Why?\n";
    assert_eq!(
        render(page, 80, plain(1, false)),
        "1. T\n====\n\nQuestions\n---------\n1. Why?\n"
    );
}

#[test]
fn a_heading_inside_a_code_block_does_not_start_a_section() {
    let page = "# 1. T\n\n```\n## What happens and why\n```\n\n## Questions\n1. Why?\n";
    let out = render(page, 80, plain(1, false));
    assert!(out.contains("## What happens and why"), "{out}");
    assert!(!out.contains("--answers"), "{out}");
}

#[test]
fn source_line_breaks_inside_paragraphs_list_items_and_code_spans_reflow() {
    let page = "A paragraph wrapped\nin the source.\n\n1. A question that\n   goes on. `a code\nspan` ends.\n";
    assert_eq!(
        render(page, 80, plain(1, true)),
        "A paragraph wrapped in the source.\n\n1. A question that goes on. 'a code span' ends.\n"
    );
}

// The renderer on the constructs the pages do not use yet.

fn terminal(markdown: &str, width: usize) -> String {
    super::markdown::to_terminal(markdown, width, false)
}

#[test]
fn bullets_and_nested_lists_hang_under_their_text() {
    let md = "- a bullet that is long enough to wrap at forty columns\n- two\n  \
              1. a nested item that wraps at forty columns too\n  2. second\n";
    assert_eq!(
        terminal(md, 40),
        "• a bullet that is long enough to wrap\n  at forty columns\n• two\n  \
         1. a nested item that wraps at forty\n     columns too\n  2. second\n"
    );
}

#[test]
fn hard_breaks_quotes_links_and_rules_keep_their_shape() {
    let md = "line one  \nline two\n\n> a quoted remark\n\n***\n\n\
              See [the docs](docs/fixes.md) or <https://example.org>.\n";
    assert_eq!(
        terminal(md, 40),
        "line one\nline two\n\n  a quoted remark\n\n* * *\n\nSee the docs (docs/fixes.md) or\nhttps://example.org.\n"
    );
}

#[test]
fn a_table_lines_up_its_columns_when_they_fit() {
    let md = "| asked | kept |\n|---|--:|\n| 4 KiB | 8 KiB |\n| 64 KiB | 128 KiB |\n";
    assert_eq!(
        terminal(md, 40),
        "asked      kept\n------  -------\n4 KiB     8 KiB\n64 KiB  128 KiB\n"
    );
    // Too narrow for columns: one row per line, cells separated by bars.
    assert_eq!(
        terminal(md, 14),
        "asked | kept\n4 KiB | 8 KiB\n64 KiB |\n  128 KiB\n"
    );
}

#[test]
fn a_long_code_line_wraps_at_spaces_and_hangs_deeper() {
    let md = "```\nwatcher: for 308 ms the server thread was in recv\n```\n";
    assert_eq!(
        terminal(md, 30),
        "  watcher: for 308 ms the\n    server thread was in recv\n"
    );
}
