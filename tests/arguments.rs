//! Arguments that cannot work are refused before anything runs, in one line that says what was
//! wrong and what to type instead, with exit code 2 (issue 9, items 7 to 10).

mod common;

use std::time::Duration;

use common::*;

/// Runs `tcplab ARGS` and returns its one error line, after checking exit code 2.
fn refused(args: &[&str]) -> String {
    let out = tcplab(args).deadline(Duration::from_secs(20)).run();
    out.assert_code(2);
    out.one_error_line().to_owned()
}

#[test]
fn a_wrong_duration_says_what_was_wrong_with_it() {
    let cases: &[(&str, &str)] = &[
        ("0s", "must be more than zero"),
        ("1h", "unknown unit 'h': use ms, s or m"),
        ("1us", "unknown unit 'us': use ms, s or m"),
        ("1000000s", "at most 24 hours"),
        ("5", "needs a unit"),
    ];
    for (value, says) in cases {
        let line = refused(&["deadlock", "--timeout", value]);
        assert!(
            line.contains(&format!("'{value}'")) && line.contains(says),
            "--timeout {value}: {line}"
        );
        assert!(
            !line.contains("expected a duration with a unit"),
            "--timeout {value} got the old catch-all: {line}"
        );
    }
}
