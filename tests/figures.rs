//! One figure per fact (issue 19): every measured figure the docs and the experiments' pages quote
//! is kept once, in docs/figures.md, with the command that measures it, and quoted as a link to
//! its entry. Every such quote must say what docs/figures.md says, the pages `tcplab show` prints
//! must carry the same figure, and the figures the issue found quoted three ways each must not
//! come back as bare text. `scripts/figures.sh` measures them all again and rewrites the quotes.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::tcplab;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The figures of docs/figures.md: each `## ID` heading and the first `**FIGURE**` after it.
fn figures() -> BTreeMap<String, String> {
    let text = fs::read_to_string(root().join("docs/figures.md")).expect("docs/figures.md");
    let mut out = BTreeMap::new();
    let mut id: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            id = Some(h.trim().to_owned());
        } else if let (Some(i), Some(rest)) = (id.as_ref(), line.strip_prefix("**")) {
            let figure = rest.split("**").next().expect("a closing **");
            out.insert(i.clone(), figure.to_owned());
            id = None;
        }
    }
    out
}

/// Every Markdown file that may quote a figure.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    for dir in ["docs", "experiments"] {
        for e in fs::read_dir(root().join(dir)).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "md") {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The quotes of figures in `text`: (quoted text, figure id), from `[TEXT](…figures.md#ID)`.
fn quotes(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("figures.md#") {
        let before = &text[..i];
        let Some(open) = before.rfind("](") else {
            continue;
        };
        let Some(start) = before[..open].rfind('[') else {
            continue;
        };
        let id: String = text[i + "figures.md#".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        out.push((before[start + 1..open].to_owned(), id));
    }
    out
}

fn name(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn every_quote_of_a_figure_says_what_docs_figures_md_says() {
    let figures = figures();
    assert!(figures.len() >= 10, "docs/figures.md holds {figures:?}");
    let mut wrong = Vec::new();
    let mut quoted = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for (shown, id) in quotes(&text) {
            quoted += 1;
            match figures.get(&id) {
                None => wrong.push(format!("{}: '{id}' is not in docs/figures.md", name(&page))),
                Some(f) if *f != shown && !page.ends_with("docs/figures.md") => {
                    wrong.push(format!(
                        "{}: quotes {id} as '{shown}', docs/figures.md says '{f}'",
                        name(&page)
                    ))
                }
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(quoted >= 20, "only {quoted} quotes of figures were found");
}

/// The figures the issue found quoted in several ways, each of which is now one figure: none of
/// the old versions may come back.
#[test]
fn no_page_quotes_an_old_version_of_a_figure() {
    let old = [
        "91–113 KiB",
        "95–110 KiB",
        "94–109 KiB",
        "8.7–11.1 MB",
        "8.0–9.2 MiB",
        "8–9 MiB",
        "8.1 and 8.4 MiB",
        "8.0–8.6 MiB",
    ];
    let mut found = Vec::new();
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for o in old {
            if text.contains(o) {
                found.push(format!("{}: '{o}'", name(&page)));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// What a student reads (`tcplab show 5 --answers`, `show 6 --answers`) quotes the same figure as
/// docs/figures.md, and says where it is kept.
#[test]
fn the_pages_tcplab_shows_carry_the_kept_figure() {
    let figures = figures();
    for (n, ids) in [
        (5, ["stall-16k", "verdict-16k"]),
        (6, ["stall-16k", "stall-64k"]),
    ] {
        let out = tcplab(&["show", &n.to_string(), "--answers"]).run();
        out.assert_code(0);
        // The page wraps at its own width: compare words, not lines.
        let words = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        for id in ids {
            let quote = format!("{} (docs/figures.md#{id})", figures[id]);
            assert!(
                words.contains(&quote),
                "show {n}: no '{quote}'\n{}",
                out.dump()
            );
        }
    }
}
