//! Snapshots of what a student reads from `tcplab check`: the text report and the Markdown lab
//! report of real checks, recorded once from the binary (`../testdata/check-*.json`).

use crate::check::{ClientDoc, ServerDoc};

fn client(json: &str) -> ClientDoc {
    serde_json::from_str(json).expect("a check client document recorded from the binary")
}

fn server(json: &str) -> ServerDoc {
    serde_json::from_str(json).expect("a check server document recorded from the binary")
}

fn text(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn the_ladder_of_the_naive_client_up_to_its_deadlock() {
    let doc = client(include_str!("../testdata/check-client-ladder.json"));
    insta::assert_snapshot!(text(|o| super::write_client(&doc, o)));
}

#[test]
fn a_client_that_forgot_shutdown() {
    let doc = client(include_str!("../testdata/check-client-halfclose.json"));
    insta::assert_snapshot!(text(|o| super::write_client(&doc, o)));
}

#[test]
fn a_server_that_lowercases() {
    let doc = server(include_str!("../testdata/check-server-lowercase.json"));
    insta::assert_snapshot!(text(|o| super::write_server(&doc, o)));
}

#[test]
fn a_server_that_passes() {
    let doc = server(include_str!("../testdata/check-server-passed.json"));
    insta::assert_snapshot!(text(|o| super::write_server(&doc, o)));
}

#[test]
fn the_markdown_lab_report_of_a_deadlock() {
    let doc = client(include_str!("../testdata/check-client-ladder.json"));
    insta::assert_snapshot!(text(|o| super::write_client_markdown(
        &doc,
        Some("lab.svg"),
        o
    )));
}

#[test]
fn a_run_line_says_size_verdict_and_time() {
    let doc = client(include_str!("../testdata/check-client-ladder.json"));
    let last = doc.runs.last().expect("a run");
    let line = super::client_run_line(last);
    assert!(
        line.contains("16 MiB") && line.contains("deadlocked"),
        "{line}"
    );
}
