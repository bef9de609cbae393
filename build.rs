//! Embeds the experiment catalogue in the binary: lists `experiments/NN-slug.toml` (and the page
//! `NN-slug.md` beside each) and writes an `include_str!` table into OUT_DIR, so a binary installed
//! with `cargo install` carries its experiments wherever it runs. A missing page becomes `None`,
//! which the catalogue check reports by file name instead of failing the build with a bare
//! include error.

use std::fmt::Write as _;
use std::path::Path;
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
    let out =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalogue_files.rs");
    fs::write(out, table).expect("OUT_DIR is writable");
}
