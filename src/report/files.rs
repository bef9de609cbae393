//! The words around the programs tcplab carries (`catalogue::files`): what `tcplab files DIR`
//! wrote and the command to try next, why it refused to write, and why an experiment could not be
//! run here (a missing interpreter, an unwritable temporary folder). The engine decides; this file
//! only says it.

use std::io::{self, Write};
use std::path::Path;

use crate::catalogue::files::{LAB, LabFile, Unready, WriteError, Written};

/// The program the next-step line runs: the starting point of experiment 15.
const FIRST_TO_CHECK: &str = "naive_client.py";

/// What each carried program is, in a line. A program without a line here is listed by name only
/// (a unit test keeps the two in step).
pub fn describe(f: &LabFile) -> Option<&'static str> {
    Some(match f.name {
        "naive_client.py" => {
            "the starting point: the classic client, which sends everything before it reads (experiment 15)"
        }
        "threaded_client.py" => "a fix: a second thread reads the echo while the first sends",
        "selectors_client.py" => {
            "a fix with one thread: a selectors loop that sends and reads as the socket allows"
        }
        "tcp_deadlock.py" => "the classic pair, server and client, in Python (experiment 14)",
        _ => return None,
    })
}

/// The list of what `tcplab files` wrote, then the command to try next.
pub fn write_written(
    dir: &Path,
    written: &[Written],
    files: &[LabFile],
    out: &mut dyn Write,
) -> io::Result<()> {
    let replaced = written.iter().filter(|w| w.replaced).count();
    let also = match replaced {
        0 => String::new(),
        n => format!(" ({n} of them replaced files that were there)"),
    };
    writeln!(
        out,
        "Wrote {} programs into {}{also}:",
        written.len(),
        dir.display()
    )?;
    let width = written
        .iter()
        .map(|w| w.path.display().to_string().chars().count())
        .max()
        .unwrap_or(0);
    for w in written {
        let what = files
            .iter()
            .find(|f| f.name == w.name)
            .and_then(describe)
            .unwrap_or("");
        let path = w.path.display().to_string();
        writeln!(out, "  {path:<width$}  {what}")?;
    }
    if let Some(first) = written.iter().find(|w| w.name == FIRST_TO_CHECK) {
        writeln!(
            out,
            "\nNext, check the starting client (it deadlocks), then a fix of yours in a copy of it:\n  \
             tcplab check client -- python3 {} {{host}} {{port}} {{bytes}}",
            shell_word(&first.path.display().to_string())
        )?;
    }
    Ok(())
}

/// The one line for a refusal or a failure to write.
pub fn write_error(e: &WriteError) -> String {
    match e {
        WriteError::Exists { path } => format!(
            "{} already exists; pass --force to overwrite it (and the other programs), or choose \
             another folder",
            path.display()
        ),
        WriteError::Io { path, cause } => format!(
            "cannot write {}: {}; choose a folder you can write to",
            path.display(),
            io_cause(cause)
        ),
    }
}

/// Why an experiment could not be run on this machine, and what to do.
pub fn unready(u: &Unready) -> String {
    match u {
        Unready::MissingProgram {
            experiment,
            program,
            lab_command,
        } => {
            let install = if program.starts_with("python") {
                "install Python 3 (on Debian or Ubuntu: 'sudo apt install python3')".to_owned()
            } else {
                "install it".to_owned()
            };
            let or_files = match lab_command {
                Some(c) => format!(
                    ", or write its programs out with 'tcplab files DIR' and run them with the \
                     interpreter you have in place of '{program}': 'tcplab {}'",
                    c.join(" ").replace(LAB, "DIR")
                ),
                None => String::new(),
            };
            format!(
                "experiment {experiment} needs '{program}', which is not on PATH: {install} and run \
                 'tcplab run {experiment}' again{or_files}"
            )
        }
        Unready::LabDir {
            experiment,
            under,
            cause,
        } => format!(
            "experiment {experiment} cannot write its programs into a temporary folder under {}: \
             {}; set TMPDIR to a folder you can write to",
            under.display(),
            io_cause(cause)
        ),
    }
}

/// An I/O error's cause in lower-case words, without the OS error number.
fn io_cause(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::NotFound => "no such folder".into(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => {
            "a file, not a folder, is in the way".into()
        }
        io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".into(),
        io::ErrorKind::StorageFull => "the disk is full".into(),
        _ => e.to_string(),
    }
}

/// A path as one word a shell reads back unchanged: quoted only when it needs to be.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%,".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::files::LAB_FILES;
    use std::path::PathBuf;

    #[test]
    fn every_carried_program_is_described() {
        for f in LAB_FILES {
            assert!(
                describe(f).is_some(),
                "{} has no line in describe()",
                f.name
            );
        }
        assert!(LAB_FILES.iter().any(|f| f.name == FIRST_TO_CHECK));
    }

    #[test]
    fn the_list_ends_with_the_command_to_try_quoted_for_a_shell() {
        let dir = Path::new("my lab");
        let written: Vec<Written> = LAB_FILES
            .iter()
            .map(|f| Written {
                name: f.name,
                path: dir.join(f.name),
                replaced: false,
            })
            .collect();
        let mut out = Vec::new();
        write_written(dir, &written, LAB_FILES, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(&format!(
                "Wrote {} programs into my lab:\n",
                LAB_FILES.len()
            )),
            "{text}"
        );
        assert!(
            text.ends_with(
                "  tcplab check client -- python3 'my lab/naive_client.py' {host} {port} {bytes}\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_refusal_names_the_file_and_the_flag() {
        let e = WriteError::Exists {
            path: PathBuf::from("lab/naive_client.py"),
        };
        assert_eq!(
            write_error(&e),
            "lab/naive_client.py already exists; pass --force to overwrite it (and the other \
             programs), or choose another folder"
        );
    }

    #[test]
    fn a_missing_interpreter_is_named_with_what_to_do() {
        let u = Unready::MissingProgram {
            experiment: 15,
            program: "python3".into(),
            lab_command: Some(
                [
                    "check",
                    "client",
                    "--",
                    "python3",
                    "{lab}/naive_client.py",
                    "{port}",
                ]
                .map(String::from)
                .to_vec(),
            ),
        };
        let line = unready(&u);
        assert!(
            line.starts_with(
                "experiment 15 needs 'python3', which is not on PATH: install Python 3"
            ),
            "{line}"
        );
        assert!(
            line.ends_with(
                "'tcplab files DIR' and run them with the interpreter you have in place of \
                 'python3': 'tcplab check client -- python3 DIR/naive_client.py {port}'"
            ),
            "{line}"
        );
        assert!(!line.contains("behave differently"), "{line}");
    }
}
