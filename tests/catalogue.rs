//! The experiment catalogue: every entry is well formed, `tcplab list` is stable, every experiment
//! does what its page says when run through `tcplab run N --quiet --json` from an empty folder,
//! and an unknown number or name gets its one-line error and exit code 2.

mod common;

use std::time::Duration;

use common::{path_arg, scratch, tcplab};
use serde_json::Value;
use tcplab::catalogue;

/// Bound on one `tcplab run N` (its own children are bounded by their --timeout, at most 30 s).
const RUN_DEADLINE: Duration = Duration::from_secs(180);
/// Bound on the quick commands (list, show, errors).
const QUICK_DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn every_experiment_parses_with_watch_text_a_hint_an_expectation_and_a_page() {
    let list = catalogue::load().unwrap_or_else(|e| panic!("the catalogue is malformed: {e}"));
    assert!(
        list.len() >= 10,
        "expected at least 10 experiments, found {}",
        list.len()
    );
    for (i, e) in list.iter().enumerate() {
        assert_eq!(
            e.number as usize,
            i + 1,
            "{}: numbering must run 1..N",
            e.file
        );
        assert!(!e.watch.trim().is_empty(), "{}: no watch text", e.file);
        assert!(!e.hints.is_empty(), "{}: no hint", e.file);
        assert_eq!(e.expect.outcomes.len(), e.commands.len(), "{}", e.file);
        assert!(
            e.page.trim().len() > 200,
            "{}: the page is too short",
            e.file
        );
        assert!(
            e.page.contains("## Questions"),
            "{}: the page has no questions",
            e.file
        );
    }
}

#[test]
fn every_experiment_file_on_disk_is_built_into_the_binary() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments");
    let on_disk = std::fs::read_dir(dir)
        .expect("experiments/ exists")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".toml"))
        .count();
    assert_eq!(
        on_disk,
        catalogue::FILES.len(),
        "build.rs embeds every experiments/*.toml"
    );
}

#[test]
fn list_prints_number_name_and_title_one_line_each() {
    let out = tcplab(&["list"]).deadline(QUICK_DEADLINE).run();
    out.assert_code(0);
    let stdout = &out.stdout;
    let list = catalogue::load().expect("the catalogue loads");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), list.len() + 2, "{stdout}");
    for (e, line) in list.iter().zip(&lines) {
        let want = format!("{:>2}  {}", e.number, e.slug);
        assert!(
            line.starts_with(&want),
            "line {line:?} should start with {want:?}"
        );
        assert!(
            line.ends_with(&e.title),
            "line {line:?} should end with the title"
        );
    }
    assert_eq!(
        lines[list.len()],
        "",
        "a blank line follows the list:\n{stdout}"
    );
    assert!(lines[list.len() + 1].contains("tcplab run N"), "{stdout}");
}

#[test]
fn show_by_number_and_by_name_prints_the_same_page() {
    let by_number = tcplab(&["show", "5"]).deadline(QUICK_DEADLINE).run();
    let by_name = tcplab(&["show", "deadlock"]).deadline(QUICK_DEADLINE).run();
    by_number.assert_code(0);
    assert_eq!(by_number.stdout, by_name.stdout, "{}", by_name.dump());
    let page = &by_number.stdout;
    assert!(page.starts_with("5. The deadlock\n"), "{page}");
    assert!(page.contains("tcplab deadlock --sndbuf 16K"), "{page}");
    // The answers wait for --answers.
    assert!(!page.contains("What happens and why"), "{page}");
    assert!(page.contains("'tcplab show 5 --answers'"), "{page}");
    let answers = tcplab(&["show", "5", "--answers"])
        .deadline(QUICK_DEADLINE)
        .run();
    assert!(
        answers.stdout.contains("What happens and why"),
        "{}",
        answers.dump()
    );
}

#[test]
fn an_unknown_number_or_name_gets_one_line_and_exit_code_2() {
    let numbered = "tcplab: no experiment numbered 42; 'tcplab list' shows the available ones\n";
    let cases = [
        (vec!["run", "42"], numbered.to_owned()),
        (vec!["show", "42"], numbered.to_owned()),
        (
            vec!["run", "no-such-thing"],
            "tcplab: no experiment named 'no-such-thing'; 'tcplab list' shows the available ones\n"
                .to_owned(),
        ),
    ];
    for (args, want) in cases {
        let out = tcplab(&args).deadline(QUICK_DEADLINE).run();
        out.assert_code(2);
        assert_eq!(out.stderr, want, "{}", out.dump());
        assert!(out.stdout.is_empty(), "nothing on stdout\n{}", out.dump());
    }
}

/// Run from an empty folder, as an installed tcplab is: every file an experiment runs comes out of
/// the binary, into a temporary folder (under TMPDIR, here a scratch folder of the test's) that is
/// gone when the run ends.
#[test]
fn every_experiment_does_what_its_page_says_from_an_empty_folder() {
    let list = catalogue::load().expect("the catalogue loads");
    let cwd = scratch("catalogue-cwd");
    let tmp = scratch("catalogue-tmp");
    let mut failures = Vec::new();
    for e in &list {
        let n = e.number.to_string();
        let out = tcplab(&["run", &n, "--quiet", "--json"])
            .current_dir(&cwd)
            .env("TMPDIR", path_arg(&tmp))
            .deadline(RUN_DEADLINE)
            .run();
        let left: Vec<_> = std::fs::read_dir(&*tmp)
            .expect("the scratch folder")
            .chain(std::fs::read_dir(&*cwd).expect("the scratch folder"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        assert!(
            left.is_empty(),
            "run {n} left {left:?} behind\n{}",
            out.dump()
        );
        let doc: Value = match serde_json::from_str(&out.stdout) {
            Ok(d) => d,
            Err(err) => {
                failures.push(format!("run {n}: no JSON ({err})\n{}", out.dump()));
                continue;
            }
        };
        assert_eq!(doc["experiment"], e.number, "{}", out.dump());
        if doc["passed"] == true {
            assert_eq!(out.code(), 0, "run {n} passed, so exit 0\n{}", out.dump());
            continue;
        }
        assert_eq!(
            out.code(),
            1,
            "a failed expectation exits 1\n{}",
            out.dump()
        );
        failures.push(format!("run {n} failed\n{}", out.dump()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
