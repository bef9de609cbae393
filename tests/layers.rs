//! The layers point one way, checked on the source itself so that a future import in the wrong
//! direction fails the build:
//!
//! - the engine (every top-level module except `cli`, `cmd`, `report` and `main`) never imports
//!   `cli`, `cmd` or `report`;
//! - `report` (the views) never imports `cli` or `cmd`;
//! - `cli` (argument types) never imports `cmd` or `report`;
//! - no two top-level modules import each other, directly or round a longer circle.
//!
//! It reads every `crate::NAME` path in `src/` (in `use` lines and inline, grouped imports
//! included), with comments and string literals removed first.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const UPPER: [&str; 3] = ["cli", "cmd", "report"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).expect("read src/") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to: `src/run/drive.rs` → `run`, `src/units.rs` → `units`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src/");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// The text with comments, string and char literals blanked out.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b[i..].starts_with(b"r#\"") || b[i..].starts_with(b"r\"")) {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            i += 2 + hashes;
            while i < b.len() && !b[i..].starts_with(&close) {
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('a', '\n'); lifetimes ('a) have no closing quote here.
            let end = b[i + 1..]
                .iter()
                .position(|&c| c == b'\'')
                .map_or(b.len(), |p| i + 2 + p);
            i = end;
            out.push_str("' '");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// Every top-level module named after `crate::`, grouped forms (`crate::{a::b, c}`) included.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(p) = rest.find("crate::") {
        let before_ok = p == 0 || {
            let c = rest.as_bytes()[p - 1];
            !(c.is_ascii_alphanumeric() || c == b'_')
        };
        rest = &rest[p + "crate::".len()..];
        if !before_ok {
            continue;
        }
        let tail = rest.trim_start();
        if let Some(group) = tail.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && depth == 1 && (c.is_ascii_alphabetic() || c == '_') => {
                        found.insert(ident_at(&group[i..]).to_string());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(tail);
            if !name.is_empty() {
                found.insert(name.to_string());
            }
        }
    }
    found.remove("self");
    found
}

fn graph() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for f in files {
        let from = module_of(&src, &f);
        let text = fs::read_to_string(&f).expect("read a source file");
        let shown = f.strip_prefix(&src).unwrap().display().to_string();
        let edges = g.entry(from.clone()).or_default();
        for to in imports(&code_only(&text)) {
            if to != from {
                edges.entry(to).or_default().push(format!("src/{shown}"));
            }
        }
    }
    g
}

#[test]
fn the_engine_never_imports_the_commands_the_arguments_or_the_views() {
    let mut wrong = Vec::new();
    for (from, edges) in graph() {
        let forbidden: &[&str] = match from.as_str() {
            "main" | "cmd" | "lib" => &[],
            "cli" => &["cmd", "report"],
            "report" => &["cli", "cmd"],
            _ => &UPPER,
        };
        for (to, files) in edges {
            if forbidden.contains(&to.as_str()) {
                wrong.push(format!("{from} imports {to} (in {})", files.join(", ")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point upwards:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn no_two_top_level_modules_import_each_other_round_a_circle() {
    let g = graph();
    let names: Vec<&String> = g.keys().filter(|k| *k != "lib" && *k != "main").collect();
    // A circle exists when some module reaches itself; report each one found with its path.
    let mut circles = BTreeSet::new();
    for start in &names {
        let mut stack = vec![(start.to_string(), vec![start.to_string()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in g.get(&at).map(|e| e.keys()).into_iter().flatten() {
                if next == *start {
                    let mut c = path.clone();
                    let min = c.iter().min().unwrap().clone();
                    let pos = c.iter().position(|x| *x == min).unwrap();
                    c.rotate_left(pos);
                    circles.insert(c.join(" → "));
                } else if g.contains_key(next) && seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules that import each other in a circle:\n  {}",
        circles.into_iter().collect::<Vec<_>>().join("\n  ")
    );
}

#[test]
fn the_import_reader_sees_grouped_and_inline_paths_and_skips_comments() {
    let code = code_only(
        "use crate::{cli::common::X, report, sock::{a, b}};\n\
         // use crate::cmd::nothing;\n\
         let s = \"crate::watchdog\"; let y = crate::units::human(3);\n",
    );
    let got: Vec<String> = imports(&code).into_iter().collect();
    assert_eq!(got, ["cli", "report", "sock", "units"]);
}
