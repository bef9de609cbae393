//! Views of a `RunResult`: each one a function from results to bytes.

pub mod csv;
pub mod json;
pub mod page;
pub mod svg;
pub mod text;
pub mod wrap;

/// Opens an output file for writing, or stdout for `-`: the one place the views' files are opened.
pub fn create(path: &std::path::Path) -> anyhow::Result<Box<dyn std::io::Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdout()));
    }
    let f = std::fs::File::create(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot create '{}': {e}; check that its folder exists and is writable",
            path.display()
        )
    })?;
    Ok(Box::new(std::io::BufWriter::new(f)))
}
