//! A command's output files, checked together before anything runs: no two outputs name the same
//! file (the second would silently overwrite the first), stdout (`-`) takes at most one of them and
//! only when it does not already carry the command's own text or JSON, and every file is created
//! now (`report::create`), so a path that cannot be written costs no run. A refusal is a `Usage`
//! error (exit 2); a file that cannot be created is a runtime failure (exit 1). Once written, each
//! file is named in one line on stderr (`tell_written`).

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::Usage;
use crate::report;

/// One output a command was asked for: the flag as the user typed it and the path.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub flag: &'static str,
    pub path: &'a Path,
}

/// Checks the outputs together and opens each, in the order given. `stdout_carries` names what
/// the command itself prints on stdout (`"the JSON document"`), or `None` when stdout is free.
pub fn open(
    wanted: &[Wanted<'_>],
    stdout_carries: Option<&str>,
) -> anyhow::Result<Vec<Box<dyn Write>>> {
    check(wanted, stdout_carries)?;
    wanted.iter().map(|w| report::create(w.path)).collect()
}

/// The refusals of `open`, without touching any file.
pub fn check(wanted: &[Wanted<'_>], stdout_carries: Option<&str>) -> Result<(), Usage> {
    let to_stdout: Vec<&Wanted> = wanted.iter().filter(|w| is_stdout(w.path)).collect();
    if let (Some(w), Some(what)) = (to_stdout.first(), stdout_carries) {
        return Err(Usage(format!(
            "cannot write {} to stdout ('-'): stdout already carries {what}; give {} a file name",
            w.flag, w.flag
        )));
    }
    if let [first, second, ..] = to_stdout[..] {
        return Err(Usage(format!(
            "{} and {} both name stdout ('-'); give one of them a file name",
            first.flag, second.flag
        )));
    }
    let files: Vec<(&Wanted, Identity)> = wanted
        .iter()
        .filter(|w| !is_stdout(w.path))
        .filter_map(|w| identity(w.path).map(|id| (w, id)))
        .collect();
    for (i, (a, id_a)) in files.iter().enumerate() {
        if let Some((b, _)) = files[i + 1..].iter().find(|(_, id_b)| id_b == id_a) {
            let flags = if a.flag == b.flag {
                format!("{} is given twice with", a.flag)
            } else {
                format!("{} and {} both name", a.flag, b.flag)
            };
            return Err(Usage(format!(
                "{flags} '{}' (the same file; the second would overwrite the first); give each \
                 output its own file",
                b.path.display()
            )));
        }
    }
    Ok(())
}

/// Names a file that is now written, in one line on stderr: stdout keeps the command's own text or
/// JSON, and a machine document there stays whole. Nothing for `-`.
pub fn tell_written(path: &Path, detail: Option<&str>) {
    if let Some(line) = report::output::wrote(path, detail) {
        eprintln!("{}", report::wrap::for_stderr(&line));
    }
}

fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// What makes two paths the same file: the same inode, or (for a file not created yet) the same
/// canonical folder and name.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    Path(PathBuf),
}

/// `None` for a device or anything else that is not a plain file: writing two outputs to
/// `/dev/null` is a way to discard both.
fn identity(path: &Path) -> Option<Identity> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Some(Identity::Inode(m.dev(), m.ino())),
        Ok(_) => None,
        Err(_) => {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let folder = fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
            Some(Identity::Path(folder.join(path.file_name()?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w<'a>(flag: &'static str, path: &'a str) -> Wanted<'a> {
        Wanted {
            flag,
            path: Path::new(path),
        }
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused_before_it_is_created() {
        let dir = std::env::temp_dir().join(format!("tcplab-outputs-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let x = dir.join("x.csv");
        let via_dot = dir.join(".").join("x.csv");
        let (x, via_dot) = (x.to_str().unwrap(), via_dot.to_str().unwrap());
        let e = check(&[w("-o", x), w("--plot", via_dot)], None).unwrap_err();
        assert!(e.0.contains("-o and --plot both name"), "{e}");
        assert!(!Path::new(x).exists(), "the check created the file");
        fs::write(x, "kept").unwrap();
        let e = check(&[w("-o", x), w("-o", via_dot)], None).unwrap_err();
        assert!(e.0.contains("-o is given twice"), "{e}");
        assert_eq!(fs::read_to_string(x).unwrap(), "kept");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stdout_takes_one_output_and_only_when_it_is_free() {
        assert!(check(&[w("-o", "-"), w("--plot", "p.svg")], None).is_ok());
        let e = check(&[w("-o", "-"), w("--plot", "-")], None).unwrap_err();
        assert!(e.0.contains("-o and --plot both name stdout"), "{e}");
        let e = check(&[w("--timeline", "-")], Some("the JSON document")).unwrap_err();
        assert_eq!(
            e.0,
            "cannot write --timeline to stdout ('-'): stdout already carries the JSON document; \
             give --timeline a file name"
        );
    }

    #[test]
    fn devices_may_take_several_outputs() {
        assert!(check(&[w("-o", "/dev/null"), w("--plot", "/dev/null")], None).is_ok());
    }
}
