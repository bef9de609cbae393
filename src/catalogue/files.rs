//! The programs the experiments run that are not tcplab itself (the Python port of the classic
//! pair, the starting client and two fixes), carried in the binary as the pages are (`src/build.rs`),
//! so that an installed tcplab runs every experiment from any folder. A command names one as
//! `{lab}/NAME`. `tcplab run` writes them all into a private temporary folder (`LabDir`), fills in
//! its path, and removes the folder when the run ends; `tcplab files DIR` writes them where a
//! student can read, edit and check them (`write_into`).
//!
//! Before a run, `prepare` also checks that each program a command starts (the word after `--`,
//! such as `python3`) can be found, so a missing interpreter is a typed failure (`Unready`) rather
//! than a failed experiment. Wording any of this for a person is left to `report`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Experiment;

/// One program as `src/build.rs` embedded it.
#[derive(Debug)]
pub struct LabFile {
    /// Its file name in the lab folder, e.g. `naive_client.py`.
    pub name: &'static str,
    pub text: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/lab_files.rs"));

/// The placeholder a command uses for the folder that holds the programs: `{lab}/naive_client.py`.
pub const LAB: &str = "{lab}";

/// The embedded program called `name`.
pub fn lookup(name: &str) -> Option<&'static LabFile> {
    LAB_FILES.iter().find(|f| f.name == name)
}

/// Whether any of the commands names a program of the lab folder.
pub fn uses_lab(commands: &[Vec<String>]) -> bool {
    commands.iter().flatten().any(|a| a.contains(LAB))
}

/// Every `{lab}/NAME` in the commands must name an embedded program, and `{lab}` may stand only
/// as a folder (`{lab}/NAME`). The error is the catalogue problem, naming the command.
pub fn check_references(commands: &[Vec<String>]) -> Result<(), String> {
    let carried = || {
        LAB_FILES
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, arg) in commands
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.iter().map(move |a| (i + 1, a)))
    {
        let mut rest = arg.as_str();
        while let Some(at) = rest.find(LAB) {
            rest = &rest[at + LAB.len()..];
            let Some(after) = rest.strip_prefix('/') else {
                return Err(format!(
                    "command {i}: '{arg}' uses {LAB} other than as a folder; write {LAB}/NAME"
                ));
            };
            let name = after.split(['/', ' ', ',', '=']).next().unwrap_or("");
            if lookup(name).is_none() {
                return Err(format!(
                    "command {i}: '{arg}' names {LAB}/{name}, but tcplab carries no such program \
                     (it carries {})",
                    carried()
                ));
            }
        }
    }
    Ok(())
}

/// Why an experiment cannot be run on this machine; `report::errors` words it.
#[derive(Debug, thiserror::Error)]
pub enum Unready {
    /// A command starts a program (its word after `--`) that is not on PATH, or a path that is
    /// not an executable file.
    #[error("experiment {experiment} runs '{program}', which is not on PATH")]
    MissingProgram {
        experiment: u32,
        program: String,
        /// The first command that runs a program `tcplab files` writes, placeholders and all, if
        /// any does: what a student could run by hand with another interpreter.
        lab_command: Option<Vec<String>>,
    },
    /// The private folder for the programs could not be created or written.
    #[error(
        "cannot write experiment {experiment}'s programs into a new folder under {}: {cause}",
        under.display()
    )]
    LabDir {
        experiment: u32,
        /// The temporary directory the folder was to be made in (TMPDIR, else /tmp).
        under: PathBuf,
        cause: io::Error,
    },
}

/// Checks that every program the experiment's commands start can be found, then writes the lab
/// folder if the commands use one (removed when it is dropped).
pub fn prepare(exp: &Experiment) -> Result<Option<LabDir>, Unready> {
    let lab_command = exp
        .commands
        .iter()
        .find(|c| c.iter().any(|a| a.contains(LAB)))
        .cloned();
    for command in &exp.commands {
        let Some(program) = started_program(command) else {
            continue;
        };
        if !runnable(program) {
            return Err(Unready::MissingProgram {
                experiment: exp.number,
                program: program.to_owned(),
                lab_command,
            });
        }
    }
    lab_command
        .is_some()
        .then(LabDir::create)
        .transpose()
        .map_err(|cause| Unready::LabDir {
            experiment: exp.number,
            under: std::env::temp_dir(),
            cause,
        })
}

/// The program a command starts: the first word after `--` (`check client -- python3 …`).
fn started_program(command: &[String]) -> Option<&str> {
    let at = command.iter().position(|a| a == "--")?;
    command.get(at + 1).map(String::as_str)
}

/// Whether `program` would start: a path to an executable file, or a name found on PATH. The
/// `{lab}` programs are not checked here: the run writes them itself.
pub fn runnable(program: &str) -> bool {
    if program.contains(LAB) {
        return true;
    }
    if program.contains('/') {
        return is_executable(Path::new(program));
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A private temporary folder (mode 0700, a fresh random name under TMPDIR) holding every
/// embedded program, removed when dropped. `tcplab run` drops it on every way out: the end of the
/// run, an error, and Ctrl-C or SIGTERM, which only set a flag (`interrupt`) that the run obeys by
/// returning. Only SIGKILL leaves it behind.
#[derive(Debug)]
pub struct LabDir {
    dir: tempfile::TempDir,
}

impl LabDir {
    /// Creates the folder and writes every program into it.
    pub fn create() -> io::Result<LabDir> {
        let dir = tempfile::Builder::new().prefix("tcplab-lab-").tempdir()?;
        for f in LAB_FILES {
            write_file(&dir.path().join(f.name), f.text, false)?;
        }
        Ok(LabDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The arguments with `{lab}` replaced by this folder's path.
    pub fn fill(&self, args: &[String]) -> Vec<String> {
        let path = self.path().to_string_lossy();
        args.iter().map(|a| a.replace(LAB, &path)).collect()
    }
}

/// A program `write_into` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The embedded program's file name.
    pub name: &'static str,
    /// Where it was written (the folder as given, joined with the name).
    pub path: PathBuf,
    /// Whether a file of that name was there before (overwritten, with `force`).
    pub replaced: bool,
}

/// Why `write_into` wrote nothing, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A program's file exists already, and overwriting was not asked for. Nothing was written.
    #[error("{} already exists", path.display())]
    Exists { path: PathBuf },
    /// The folder could not be created, or a file not written.
    #[error("cannot write {}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
}

/// Writes every embedded program into `dir` (created if missing). Without `force`, an existing
/// file of the same name stops it before anything is written; with it, such files are replaced.
pub fn write_into(dir: &Path, force: bool) -> Result<Vec<Written>, WriteError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |cause| WriteError::Io { path, cause }
    };
    let mut plan = Vec::new();
    for f in LAB_FILES {
        let path = dir.join(f.name);
        // symlink_metadata: a dangling link is a file that exists too.
        let replaced = path.symlink_metadata().is_ok();
        if replaced && !force {
            return Err(WriteError::Exists { path });
        }
        plan.push(Written {
            name: f.name,
            path,
            replaced,
        });
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    for (w, f) in plan.iter().zip(LAB_FILES) {
        write_file(&w.path, f.text, force).map_err(io_err(&w.path))?;
    }
    Ok(plan)
}

/// Writes one program: a new file unless `replace` (so a file that appeared meanwhile is not
/// overwritten), executable when it starts with `#!`, so `./naive_client.py` runs too.
fn write_file(path: &Path, text: &str, replace: bool) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mode = if text.starts_with("#!") { 0o755 } else { 0o644 };
    let mut opts = OpenOptions::new();
    opts.write(true).mode(mode);
    if replace {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut file = opts.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_classic_pair_and_the_starting_clients_are_carried() {
        for name in [
            "tcp_deadlock.py",
            "naive_client.py",
            "threaded_client.py",
            "selectors_client.py",
        ] {
            let f = lookup(name).unwrap_or_else(|| panic!("{name} is not embedded"));
            assert!(f.text.starts_with("#!/usr/bin/env python3\n"), "{name}");
        }
    }

    #[test]
    fn a_command_may_name_only_a_carried_program_and_only_as_a_folder() {
        let ok = [words(
            "check client -- python3 {lab}/naive_client.py {port}",
        )];
        assert_eq!(check_references(&ok), Ok(()));
        let missing = [
            words("deadlock"),
            words("check client -- python3 {lab}/nope.py"),
        ];
        let why = check_references(&missing).unwrap_err();
        assert!(
            why.starts_with("command 2: '{lab}/nope.py' names {lab}/nope.py, but tcplab carries"),
            "{why}"
        );
        let bare = [words("check client -- python3 {lab}")];
        assert!(check_references(&bare).unwrap_err().contains("as a folder"));
    }

    #[test]
    fn the_started_program_is_the_word_after_the_double_dash() {
        assert_eq!(
            started_program(&words("check server -- python3 x.py -p {port}")),
            Some("python3")
        );
        assert_eq!(started_program(&words("deadlock --bytes 1M")), None);
        assert!(runnable("sh"), "sh is on PATH on any Linux");
        assert!(!runnable("tcplab-no-such-interpreter"));
        assert!(!runnable("/no/such/dir/python3"));
    }

    #[test]
    fn a_lab_dir_holds_every_program_and_is_gone_when_dropped() {
        let lab = LabDir::create().expect("a temporary folder");
        let path = lab.path().to_path_buf();
        for f in LAB_FILES {
            let text = fs::read_to_string(path.join(f.name)).expect("written");
            assert_eq!(text, f.text, "{}", f.name);
        }
        assert_eq!(
            lab.fill(&words("-- python3 {lab}/naive_client.py {host}")),
            [
                "--".to_owned(),
                "python3".to_owned(),
                format!("{}/naive_client.py", path.display()),
                "{host}".to_owned(),
            ]
        );
        drop(lab);
        assert!(!path.exists(), "{} was left behind", path.display());
    }

    #[test]
    fn writing_into_a_folder_refuses_to_overwrite_unless_forced() {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let dir = tmp.path().join("lab");
        let first = write_into(&dir, false).expect("a new folder is written");
        assert_eq!(first.len(), LAB_FILES.len());
        assert!(first.iter().all(|w| !w.replaced));
        let mine = dir.join("naive_client.py");
        fs::write(&mine, "my edits").unwrap();
        match write_into(&dir, false) {
            Err(WriteError::Exists { path }) => assert_eq!(path, dir.join(LAB_FILES[0].name)),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(fs::read_to_string(&mine).unwrap(), "my edits", "untouched");
        let again = write_into(&dir, true).expect("forced");
        assert!(again.iter().all(|w| w.replaced));
        assert_eq!(
            fs::read_to_string(&mine).unwrap(),
            lookup("naive_client.py").unwrap().text
        );
    }
}
