//! Output files: the one place the views' files are opened (`-` means stdout). A file is created
//! and probed with an empty write before the run, so a path that cannot take writes (`/proc/…`,
//! `/dev/full`, a missing folder) fails before any time is spent; every later write error names
//! the file too. Which outputs may go together is the commands' business (`cmd::outputs`). Once
//! a file is whole, `wrote` gives the one line that tells the user it is there.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

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

/// Opens an output for writing, or stdout for `-`. A file is created (truncated) now and given
/// an empty write, which files that take no writes (procfs, `/dev/full`) already refuse.
pub fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    let name = display_name(path);
    if path.as_os_str() == "-" {
        return Ok(Box::new(Named::new(name, io::stdout())));
    }
    let mut f = File::create(path).map_err(|e| named(&name, e))?;
    // write(2) of zero bytes still reaches the file's own write handler.
    f.write(&[]).map_err(|e| named(&name, e))?;
    Ok(Box::new(Named::new(name, BufWriter::new(f))))
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

/// `1 row`, `412 rows`.
pub fn rows(n: usize) -> String {
    match n {
        1 => "1 row".into(),
        n => format!("{n} rows"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_is_named_with_what_it_holds_and_stdout_is_not() {
        let t = Path::new("out/t.csv");
        assert_eq!(
            wrote(t, Some(&rows(412))).as_deref(),
            Some("wrote out/t.csv (412 rows)")
        );
        assert_eq!(wrote(t, Some(&rows(1))).unwrap(), "wrote out/t.csv (1 row)");
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
}
