//! Embeds the experiment catalogue in the binary: lists `experiments/NN-slug.toml` (and the page
//! `NN-slug.md` beside each) and writes an `include_str!` table into OUT_DIR, so a binary installed
//! with `cargo install` (or from a wheel) carries its experiments wherever it runs. A missing page
//! becomes `None`, which the catalogue check reports by file name instead of failing the build
//! with a bare include error.
//!
//! The programs the experiments run that are not tcplab (`{lab}/NAME` in a command) are embedded
//! the same way, into a second table: the starting client and the fixes in `experiments/solutions/`
//! and the Python port of the classic pair, `tests/fixtures/tcp_deadlock.py` (the tests run it
//! too, so it stays where they find it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("experiments");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut stems: Vec<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|name| name.strip_suffix(".toml").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    stems.sort();
    let mut table = String::from("pub static FILES: &[EmbeddedFile] = &[\n");
    for stem in &stems {
        let toml = dir.join(format!("{stem}.toml"));
        let page = dir.join(format!("{stem}.md"));
        println!("cargo:rerun-if-changed={}", toml.display());
        println!("cargo:rerun-if-changed={}", page.display());
        let page_expr = if page.exists() {
            format!("Some(include_str!({:?}))", page.display().to_string())
        } else {
            "None".to_owned()
        };
        let _ = writeln!(
            table,
            "    EmbeddedFile {{ stem: {stem:?}, toml: include_str!({:?}), page: {page_expr} }},",
            toml.display().to_string()
        );
    }
    table.push_str("];\n");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("catalogue_files.rs"), table).expect("OUT_DIR is writable");
    let programs = lab_programs(Path::new(&root));
    fs::write(Path::new(&out_dir).join("lab_files.rs"), programs).expect("OUT_DIR is writable");
}

/// The `LAB_FILES` table: each program's file name (its name in the lab folder) and its text.
fn lab_programs(root: &Path) -> String {
    let solutions = root.join("experiments").join("solutions");
    println!("cargo:rerun-if-changed={}", solutions.display());
    let mut paths: Vec<PathBuf> = fs::read_dir(&solutions)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "py"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.push(root.join("tests").join("fixtures").join("tcp_deadlock.py"));
    let mut names = Vec::new();
    let mut table = String::from("pub static LAB_FILES: &[LabFile] = &[\n");
    for path in &paths {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a program's file name is UTF-8")
            .to_owned();
        // One flat folder holds them all, so two programs may not share a name.
        assert!(
            !names.contains(&name),
            "two lab programs are named {name}; rename one"
        );
        let _ = writeln!(
            table,
            "    LabFile {{ name: {name:?}, text: include_str!({:?}) }},",
            path.display().to_string()
        );
        names.push(name);
    }
    table.push_str("];\n");
    table
}
