//! The programs tcplab carries: `tcplab files DIR` writes them byte for byte as they are in the
//! repository, refuses to overwrite one unless asked, and the programs it wrote run under
//! `tcplab check`; `tcplab run` writes them into a temporary folder of its own that is gone after
//! SIGTERM too; and a missing interpreter is named in one line instead of failing the experiment.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;
use tcplab::catalogue::files::LAB_FILES;

/// Bound on the quick commands.
const QUICK: Duration = Duration::from_secs(30);
/// Bound on a check of a Python client at a small size, or a run stopped early.
const CHECK: Duration = Duration::from_secs(90);

/// Where each carried program lives in the repository.
fn source_of(name: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    match name {
        "tcp_deadlock.py" => format!("{root}/tests/fixtures/{name}"),
        _ => format!("{root}/experiments/solutions/{name}"),
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn files_writes_every_program_as_in_the_repository_and_names_the_next_command() {
    let tmp = scratch("files-write");
    let dir = tmp.join("lab");
    let out = tcplab(&["files", path_arg(&dir)]).deadline(QUICK).run();
    out.assert_code(0);
    let mut want: Vec<String> = LAB_FILES.iter().map(|f| f.name.to_owned()).collect();
    want.sort();
    assert_eq!(files_in(&dir), want, "{}", out.dump());
    for name in &want {
        let wrote = fs::read_to_string(dir.join(name)).expect("written");
        let source = fs::read_to_string(source_of(name)).expect("the repository's copy");
        assert_eq!(wrote, source, "{name} differs from {}", source_of(name));
        assert!(
            out.stdout
                .contains(&format!("{}", dir.join(name).display()))
        );
    }
    let next = format!(
        "tcplab check client -- python3 {}/naive_client.py {{host}} {{port}} {{bytes}}",
        dir.display()
    );
    assert_eq!(
        out.stdout.lines().last(),
        Some(&*format!("  {next}")),
        "{}",
        out.dump()
    );
}

#[test]
fn files_refuses_to_overwrite_a_program_unless_forced() {
    let tmp = scratch("files-refuse");
    let dir = tmp.join("lab");
    tcplab(&["files", path_arg(&dir)])
        .deadline(QUICK)
        .run()
        .assert_code(0);
    let mine = dir.join("naive_client.py");
    fs::write(&mine, "# my fix\n").unwrap();
    let refused = tcplab(&["files", path_arg(&dir)]).deadline(QUICK).run();
    refused.assert_code(2);
    assert_eq!(
        refused.one_error_line(),
        format!(
            "tcplab: {} already exists; pass --force to overwrite it (and the other programs), \
             or choose another folder",
            mine.display()
        )
    );
    assert!(refused.stdout.is_empty(), "{}", refused.dump());
    assert_eq!(
        fs::read_to_string(&mine).unwrap(),
        "# my fix\n",
        "left alone"
    );
    let forced = tcplab(&["files", "--force", path_arg(&dir)])
        .deadline(QUICK)
        .run();
    forced.assert_code(0);
    let replaced = format!("{} of them replaced", LAB_FILES.len());
    assert!(forced.stdout.contains(&replaced), "{}", forced.dump());
    assert_eq!(
        fs::read_to_string(&mine).unwrap(),
        fs::read_to_string(source_of("naive_client.py")).unwrap()
    );
}

#[test]
fn a_program_files_wrote_passes_its_check_from_that_folder() {
    require_python();
    let tmp = scratch("files-check");
    tcplab(&["files", "lab"])
        .current_dir(&tmp)
        .deadline(QUICK)
        .run()
        .assert_code(0);
    let out = tcplab(&["check", "client", "--json", "--bytes", "256KiB", "--"])
        .args([
            "python3",
            "lab/threaded_client.py",
            "{host}",
            "{port}",
            "{bytes}",
        ])
        .current_dir(&tmp)
        .deadline(CHECK)
        .run();
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "passed", "{}", out.dump());
    assert_eq!(
        doc["runs"][0]["server_echoed_bytes"],
        256 * 1024,
        "{}",
        out.dump()
    );
}

#[test]
fn a_missing_interpreter_is_named_in_one_line_not_blamed_on_the_machine() {
    let tmp = scratch("files-no-python");
    let empty = tmp.join("bin");
    fs::create_dir(&empty).unwrap();
    for args in [vec!["run", "14"], vec!["run", "15", "--json"]] {
        let out = tcplab(&args)
            .env("PATH", path_arg(&empty))
            .env("TMPDIR", path_arg(&tmp))
            .deadline(QUICK)
            .run();
        out.assert_code(1);
        let n = args[1];
        let line = out.one_error_line();
        assert!(
            line.starts_with(&format!(
                "tcplab: experiment {n} needs 'python3', which is not on PATH: install Python 3"
            )),
            "{}",
            out.dump()
        );
        assert!(line.contains("'tcplab files DIR'"), "{}", out.dump());
        assert!(!out.stdout.contains("behave differently"), "{}", out.dump());
        assert_eq!(files_in(&tmp), ["bin"], "no folder written\n{}", out.dump());
    }
}

#[test]
fn sigterm_during_a_run_removes_the_folder_it_wrote_the_programs_into() {
    require_python();
    let tmp = scratch("files-sigterm");
    let mut run = tcplab(&["run", "15", "--quiet"])
        .env("TMPDIR", path_arg(&tmp))
        .deadline(CHECK)
        .spawn();
    // The folder exists, with its programs, once the first command is announced.
    run.wait_line(|l| l.starts_with("[1/3] tcplab check client"), CHECK);
    let lab = files_in(&tmp);
    assert!(
        lab.len() == 1 && lab[0].starts_with("tcplab-lab-"),
        "expected one lab folder in {}, found {lab:?}",
        tmp.display()
    );
    assert_eq!(files_in(&tmp.join(&lab[0])).len(), LAB_FILES.len());
    run.signal(SIGTERM);
    let out = run.finish(CHECK);
    out.assert_code(143);
    assert_eq!(files_in(&tmp), Vec::<String>::new(), "{}", out.dump());
}
