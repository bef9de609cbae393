//! Snapshots of what students read: the views of real results, recorded once from the binary
//! (`testdata/`), so that any change to the wording, the layout or the numbers' form shows up in
//! review as a changed `.snap` file.

use serde_json::Value;

use crate::catalogue::child::ChildRun;
use crate::catalogue::verdict;
use crate::classroom::load::LoadRun;
use crate::report::sweep_row::SweepRow;
use crate::report::wrap::{assert_wrapped, wrap};
use crate::result::RunResult;

fn run(json: &str) -> RunResult {
    serde_json::from_str(json).expect("a RunResult recorded from the binary")
}

fn text(r: &RunResult) -> String {
    let mut out = Vec::new();
    super::text::write_run(r, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn the_deadlock_summary_and_ledger() {
    insta::assert_snapshot!(text(&run(include_str!("testdata/deadlock.json"))));
}

#[test]
fn a_fix_summary() {
    insta::assert_snapshot!(text(&run(include_str!("testdata/reader-thread.json"))));
}

#[test]
fn the_send_once_summary_counts_the_lost_bytes() {
    insta::assert_snapshot!(text(&run(include_str!("testdata/send-once.json"))));
}

#[test]
fn autotuned_buffers_that_moved_take_one_line_each() {
    insta::assert_snapshot!(text(&run(include_str!("testdata/auto.json"))));
}

/// The rows of the summary's tables: the buffers (`  client  SO_SNDBUF …`) and the ledger's stages
/// (`  ↓ client send queue .....`).
fn table_rows(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| {
            l.starts_with("  client  ") || l.starts_with("  server  ") || l.contains(" ... ")
        })
        .collect()
}

#[test]
fn the_summaries_wrap_at_80_and_120_columns_and_their_tables_fit_whole() {
    let runs = [
        include_str!("testdata/deadlock.json"),
        include_str!("testdata/deadlock-16k.json"),
        include_str!("testdata/reader-thread.json"),
        include_str!("testdata/send-once.json"),
        include_str!("testdata/auto.json"),
    ];
    for json in runs {
        let r = run(json);
        let mut t = Vec::new();
        super::text::write_run(&r, &mut t).unwrap();
        super::text::write_events(&r, &mut t).unwrap();
        let t = String::from_utf8(t).unwrap();
        assert!(table_rows(&t).len() >= 2, "{t}");
        for width in [80, 120] {
            let wrapped = wrap(&t, width, "    ");
            assert_wrapped(&t, &wrapped, width);
            for row in table_rows(&t) {
                assert!(
                    wrapped.lines().any(|l| l == row),
                    "a table row was wrapped at {width} columns:\n{row}\n--- in\n{wrapped}"
                );
            }
        }
    }
}

/// The recorded sweep as a table; `failed` gives point 2 an error line, as a failed point has.
fn sweep_table(width: Option<usize>, failed: bool) -> String {
    let mut out = Vec::new();
    super::sweep_table::write_header(&mut out, width).unwrap();
    for line in include_str!("testdata/sweep.jsonl").lines() {
        let mut row: SweepRow = serde_json::from_str(line).expect("a sweep row");
        if failed && row.point == 2 {
            row.error = Some(
                "the peer reset the connection after 4096 of 2097152 bytes were sent and 0 came \
                 back; is the server full (its --max-conns) or not an echo server?"
                    .into(),
            );
        }
        super::sweep_table::write_row(&row, &mut out, width).unwrap();
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn the_sweep_table() {
    insta::assert_snapshot!(sweep_table(None, false));
}

#[test]
fn the_sweep_table_on_an_80_column_terminal() {
    insta::assert_snapshot!(sweep_table(Some(80), true));
}

#[test]
fn the_sweep_table_fits_80_and_120_columns_with_every_word_whole() {
    let piped = sweep_table(None, true);
    assert!(piped.lines().any(|l| l.len() > 120), "{piped}");
    for width in [80, 120] {
        let shown = sweep_table(Some(width), true);
        // The same words; only the layout (rows on two lines, paragraphs wrapped) differs.
        let mut words: Vec<&str> = shown.split_whitespace().collect();
        let mut want: Vec<&str> = piped.split_whitespace().collect();
        words.sort_unstable();
        want.sort_unstable();
        assert_eq!(words, want, "{shown}");
        for line in shown.lines() {
            assert!(
                textwrap::core::display_width(line) <= width,
                "wider than {width}: {line}\n{shown}"
            );
        }
    }
}

#[test]
fn the_load_report() {
    let run: LoadRun = serde_json::from_str(include_str!("testdata/load.json")).unwrap();
    let mut out = Vec::new();
    super::load::write_run(&run, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    for width in [80, 120] {
        let wrapped = wrap(&text, width, "    ");
        assert_wrapped(&text, &wrapped, width);
        // Each client's row stays whole up to its detail (`; freed … after its last byte`).
        for row in text.lines().filter(|l| l.starts_with("client ")) {
            let table = row.split(';').next().unwrap();
            assert!(
                wrapped.lines().any(|l| l.starts_with(table)),
                "a client's row was wrapped at {width} columns:\n{row}\n--- in\n{wrapped}"
            );
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn the_pass_block_of_run_5() {
    let list = crate::catalogue::load().expect("the catalogue");
    let exp = list.iter().find(|e| e.number == 5).expect("experiment 5");
    let doc: Value = serde_json::from_str(include_str!("testdata/deadlock-16k.json")).unwrap();
    let ran = ChildRun {
        exit_code: Some(3),
        stdout: String::new(),
        killed_after: None,
    };
    let rep = verdict::judge_command(exp, 0, Some(&doc), &ran);
    let comparisons = verdict::compare(exp, &[Some(doc.clone())]);
    let mut out = Vec::new();
    super::catalogue::write_command(&rep, Some(&doc), false, &mut out).unwrap();
    let passed = rep.held;
    super::catalogue::write_verdict(exp, &[rep], &comparisons, passed, false, false, &mut out)
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn the_list_wraps_its_titles_under_themselves_at_80_and_120_columns() {
    let list = crate::catalogue::load().expect("the catalogue");
    let text = |width| {
        let mut out = Vec::new();
        super::catalogue::write_list(&list, width, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let piped = text(None);
    for width in [80, 120] {
        let shown = text(Some(width));
        assert_wrapped(&piped, &shown, width);
        for line in shown
            .lines()
            .filter(|l| l.starts_with(' ') && l.trim_start().len() < l.len() - 2)
        {
            assert!(
                line.starts_with(&" ".repeat(31)),
                "a title hangs under itself:\n{shown}"
            );
        }
    }
}

/// A fix's steady line speaks of the peak so far, never promises a bound ("under 0 B"), and names
/// no reader thread (the poll client has none).
#[test]
fn the_steady_line_says_what_was_seen_so_far() {
    use crate::narrate::EventKind;
    use crate::report::narration::event_text;
    let empty = event_text(&EventKind::SteadyState {
        client_recv_queue_peak_bytes: 0,
    });
    assert!(empty.contains("stayed empty"), "{empty}");
    let some = event_text(&EventKind::SteadyState {
        client_recv_queue_peak_bytes: 6564,
    });
    assert!(some.contains("at most 6.41 KiB so far"), "{some}");
    for t in [empty, some] {
        assert!(!t.contains("under") && !t.contains("reader"), "{t}");
    }
}

/// What to watch is printed one paragraph per line, so the terminal's width (not the catalogue
/// file's line breaks) decides where lines break.
#[test]
fn what_to_watch_is_reflowed_to_the_width() {
    let exp = crate::catalogue::load()
        .expect("the catalogue")
        .into_iter()
        .find(|e| e.number == 5)
        .expect("experiment 5");
    let mut out = Vec::new();
    super::catalogue::write_intro(&exp, false, &mut out).expect("written");
    let text = String::from_utf8(out).expect("utf-8");
    let watch = text.split("What to watch:\n").nth(1).expect("a watch part");
    let first = watch.lines().next().expect("a line");
    assert!(first.len() > 200, "one paragraph, one line: {first}");
    assert_wrapped(&text, &wrap(&text, 80, "    "), 80);
}
