//! Unit tests of entry parsing: a malformed entry names its file and field.

use super::*;

const GOOD: &str = r#"
format_version = 1
title = "The deadlock"
summary = "Four buffers fill."
watch = "Watch the bars."
commands = [["deadlock", "--timeout", "20s"], ["deadlock", "--strategy", "poll"]]
hints = ["Why? Because."]

[expect]
outcome = ["deadlock", "completed"]
checks = [{ check = "1: /counts/client_sent_bytes > 0", means = "the client sent something" }]
increasing = { pointer = "/counts/client_sent_bytes", means = "more went out each time" }
"#;

fn err(stem: &str, text: &str, page: Option<&'static str>) -> String {
    parse_entry(stem, text, page).unwrap_err().to_string()
}

#[test]
fn a_good_entry_parses_with_number_slug_and_one_outcome_per_command() {
    let e = parse_entry("05-deadlock", GOOD, Some("# page")).unwrap();
    assert_eq!((e.number, e.slug.as_str()), (5, "deadlock"));
    assert_eq!(e.expect.outcomes, ["deadlock", "completed"]);
    assert_eq!(e.expect.checks.len(), 1);
}

#[test]
fn a_missing_field_is_named_with_the_file() {
    let text = GOOD.replace("[expect]", "[other]");
    let text = &text[..text.find("[other]").unwrap()];
    assert_eq!(
        err("05-deadlock", text, Some("")),
        "experiments/05-deadlock.toml: missing field 'expect'"
    );
}

#[test]
fn a_wrong_type_names_the_field_and_line() {
    let text = GOOD.replace("title = \"The deadlock\"", "title = 3");
    let e = err("05-deadlock", &text, Some(""));
    assert!(
        e.starts_with("experiments/05-deadlock.toml: field 'title' (line 3)"),
        "{e}"
    );
}

#[test]
fn an_unknown_outcome_a_bad_check_and_a_missing_page_are_refused() {
    let e = err(
        "05-deadlock",
        &GOOD.replace("\"completed\"]", "\"complete\"]"),
        Some(""),
    );
    assert!(e.contains("unknown outcome 'complete'"), "{e}");
    let e = err("05-deadlock", &GOOD.replace("> 0", "~ 0"), Some(""));
    assert!(e.contains("'expect.checks' item 1"), "{e}");
    let e = err("05-deadlock", GOOD, None);
    assert!(e.contains("experiments/05-deadlock.md is missing"), "{e}");
}

#[test]
fn outcomes_must_match_the_number_of_commands() {
    let text = GOOD.replace("[\"deadlock\", \"completed\"]", "[\"deadlock\"]");
    assert!(err("05-deadlock", &text, Some("")).contains("1 outcomes for 2 commands"));
}

#[test]
fn a_file_name_without_a_number_is_refused() {
    assert!(err("deadlock", GOOD, Some("")).contains("NN-slug.toml"));
}
