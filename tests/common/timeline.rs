//! Timelines made up for a test: the CSV `--timeline` writes, with the times a test wants to
//! feed `replay` (its own text for each `time_ms`, hostile ones included).

use tcplab::timeline::TimelineRow;

/// A timeline CSV with one row per entry of `times` (the CSV's own text for `time_ms`), each an
/// empty sample; `event` (a JSON array of events) is recorded at the first row.
pub fn timeline_csv(times: &[&str], event: Option<&str>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, _) in times.iter().enumerate() {
        let row = TimelineRow {
            client_sent_bytes: i as u64 * 16,
            events: event.filter(|_| i == 0).map(str::to_owned),
            ..TimelineRow::default()
        };
        w.serialize(row).expect("a row serialises");
    }
    let text = String::from_utf8(w.into_inner().expect("a whole CSV")).expect("UTF-8");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("a header"));
    for (line, t) in lines.zip(times) {
        let rest = line.split_once(',').expect("more than one column").1;
        out.push_str(&format!("{t},{rest}\n"));
    }
    out
}
