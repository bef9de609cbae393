//! Output files: the one place a command's files are opened (`-` means stdout). All of a command's
//! outputs are checked together before anything runs (`open`): no two name the same file (the
//! second would silently overwrite the first), stdout takes at most one and only when it does not
//! already carry the command's own document, and every file is opened and probed with an empty
//! write, so a path that cannot take writes (`/proc/…`, `/dev/full`, a missing folder) costs no
//! run. Nothing is truncated then: a file keeps its old contents until the command first writes
//! to it, and a file the command created but never wrote is removed again, so a command that fails
//! at start-up (a bad plot path, a missing program) leaves every file as it was. A refusal is a
//! `Usage` error (exit 2); a file that cannot be opened, a runtime failure (exit 1). Once a file is
//! whole, `tell_written` names it in one line on stderr.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::errors::Usage;

/// A writer that says which file it writes when a write fails: `cannot write 'x.svg': …; …`.
pub struct Named<W: Write> {
    name: String,
    inner: W,
}

impl<W: Write> Named<W> {
    pub fn new(name: impl Into<String>, inner: W) -> Named<W> {
        Named {
            name: name.into(),
            inner,
        }
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| named(&self.name, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| named(&self.name, e))
    }
}

/// How a person names an output: `'x.csv'`, or `stdout` for `-`.
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdout".into()
    } else {
        format!("'{}'", path.display())
    }
}

/// The error with the file's name, its cause in words and what to try. The kind is kept, so a
/// broken pipe on stdout still ends the program quietly.
fn named(name: &str, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return e;
    }
    let text = e.to_string();
    let cause = text.split(" (os error").next().unwrap_or(&text);
    let mut words = cause.chars();
    let cause = match words.next() {
        Some(first) => first.to_lowercase().chain(words).collect::<String>(),
        None => String::new(),
    };
    let advice = match e.kind() {
        io::ErrorKind::NotFound => "create its folder first or choose another path",
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            "choose a path you can write to"
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            "free some space or write elsewhere"
        }
        io::ErrorKind::IsADirectory => "give a file name, not a folder",
        io::ErrorKind::FileTooLarge => "check the file-size limit ('ulimit -f') or write elsewhere",
        _ => "choose another path (a file in a folder you can write to)",
    };
    io::Error::new(e.kind(), format!("cannot write {name}: {cause}; {advice}"))
}

/// Opens an output for writing, or stdout for `-`. A file is opened (created if missing, not
/// truncated) and given an empty write, which files that take no writes (procfs, `/dev/full`)
/// already refuse; it is truncated at the first write or flush.
pub fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    let name = display_name(path);
    if path.as_os_str() == "-" {
        return Ok(Box::new(Named::new(name, io::stdout())));
    }
    let existed = fs::symlink_metadata(path).is_ok();
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| named(&name, e))?;
    // write(2) of zero bytes still reaches the file's own write handler.
    f.write(&[]).map_err(|e| named(&name, e))?;
    let pending = Pending {
        file: f,
        path: path.to_path_buf(),
        started: false,
        created: !existed,
    };
    Ok(Box::new(Named::new(name, BufWriter::new(pending))))
}

/// A file that is truncated only once something is written to it (or it is flushed), and removed
/// again if this command created it and never wrote it.
struct Pending {
    file: File,
    path: PathBuf,
    started: bool,
    created: bool,
}

impl Pending {
    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            let regular = self.file.metadata().is_ok_and(|m| m.is_file());
            if regular {
                self.file.set_len(0)?;
                self.file.rewind()?;
            }
            self.started = true;
        }
        Ok(())
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.start()?;
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.start()?;
        self.file.flush()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.started && self.created {
            let _ = fs::remove_file(&self.path);
        }
    }
}

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
    wanted.iter().map(|w| create(w.path)).collect()
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
    if let Some(line) = wrote(path, detail) {
        super::wrap::eprint(&line);
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

/// The line that names a file once it is written: `wrote t.csv (412 rows)`, `wrote t.svg`.
/// `None` for stdout (`-`): what went there is on the screen or in the pipe already.
pub fn wrote(path: &Path, detail: Option<&str>) -> Option<String> {
    if path.as_os_str() == "-" {
        return None;
    }
    Some(match detail {
        Some(d) => format!("wrote {} ({d})", path.display()),
        None => format!("wrote {}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_is_named_with_what_it_holds_and_stdout_is_not() {
        let t = Path::new("out/t.csv");
        assert_eq!(
            wrote(t, Some(&crate::report::human::count(412, "row"))).as_deref(),
            Some("wrote out/t.csv (412 rows)")
        );
        assert_eq!(
            wrote(t, Some(&crate::report::human::count(1, "row"))).unwrap(),
            "wrote out/t.csv (1 row)"
        );
        assert_eq!(wrote(Path::new("t.svg"), None).unwrap(), "wrote t.svg");
        assert_eq!(wrote(Path::new("-"), None), None);
    }

    #[test]
    fn a_write_error_names_the_file_and_keeps_its_kind() {
        let e = named("'x.csv'", io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            e.to_string(),
            "cannot write 'x.csv': no space left on device; free some space or write elsewhere"
        );
        let pipe = named("stdout", io::ErrorKind::BrokenPipe.into());
        assert_eq!(pipe.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn files_that_take_no_writes_are_refused_when_opened() {
        for path in ["/dev/full", "/proc/version"] {
            let Err(e) = create(Path::new(path)) else {
                panic!("{path} was accepted");
            };
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("cannot write '{path}': ")),
                "{text}"
            );
        }
        assert!(create(Path::new("/dev/null")).is_ok());
    }

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
