//! The plots read back from their SVG as a student would read them: every tick label a whole
//! binary size (powers of two on the sweep's log axes), every line of the timeline there and
//! visible (a line that lies on another is drawn inside it, and the legend says so), each queue's
//! capacity dashed at its value, and each narrated event marked and listed in the terminal's words.
//! The real binary on 127.0.0.1 with small buffers, every run bounded.

mod common;

use std::fs;
use std::time::Duration;

use common::{path_arg, scratch, tcplab};
use roxmltree::{Document, Node};
use tcplab::report::narration::event_text;
use tcplab::timeline::TimelineRow;

const DEADLINE: Duration = Duration::from_secs(120);

/// A polyline as drawn: its colour, width (pixels) and vertices.
#[derive(Debug, Clone, PartialEq)]
struct Poly {
    color: String,
    width: u32,
    points: Vec<(f64, f64)>,
}

fn poly(n: Node) -> Option<Poly> {
    if !n.has_tag_name("polyline") {
        return None;
    }
    let points = n
        .attribute("points")?
        .split_whitespace()
        .map(|p| {
            let (x, y) = p.split_once(',').expect("x,y");
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    Some(Poly {
        color: n.attribute("stroke")?.to_string(),
        width: n.attribute("stroke-width")?.parse().ok()?,
        points,
    })
}

fn polys(doc: &Document) -> Vec<Poly> {
    doc.descendants().filter_map(poly).collect()
}

fn text_of(n: Node) -> String {
    n.text().unwrap_or("").trim().to_string()
}

fn texts(doc: &Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(text_of)
        .collect()
}

/// A tick label read back as bytes: a whole number of B, KiB, MiB or GiB (`64 KiB`, `1 MiB`),
/// never a rounded one such as `97.66 KiB`. `None` for text that is not a size at all.
fn size_label(label: &str) -> Option<Result<u64, String>> {
    let (n, unit) = label.split_once(' ')?;
    let unit = match unit {
        "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.chars().next()?.is_ascii_digit().then(|| {
        n.parse::<u64>()
            .map(|n| n * unit)
            .map_err(|_| format!("'{label}' is not a whole number of its unit"))
    })
}

/// The y-axis tick labels as (bytes, pixel y): the right-aligned text at the axis (where "0 B"
/// stands, on a linear axis; the list under the timeline right-aligns its times elsewhere). On a
/// timeline the list has a run of ticks per panel, each starting again at 0.
fn y_ticks(doc: &Document) -> Vec<(u64, f64)> {
    let right: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
        .collect();
    let axis_x = right
        .iter()
        .find(|n| text_of(**n) == "0 B")
        .and_then(|n| n.attribute("x"));
    right
        .iter()
        .filter(|n| axis_x.is_none() || n.attribute("x") == axis_x)
        .map(|n| {
            let label = text_of(*n);
            let bytes = size_label(&label)
                .unwrap_or_else(|| panic!("y tick label '{label}' is not a size"))
                .unwrap_or_else(|e| panic!("{e}"));
            (bytes, n.attribute("y").unwrap().parse().unwrap())
        })
        .collect()
}

fn panels(ticks: &[(u64, f64)]) -> Vec<Vec<(u64, f64)>> {
    let mut out: Vec<Vec<(u64, f64)>> = Vec::new();
    for t in ticks {
        match out.last_mut() {
            Some(p) if t.0 != 0 => p.push(*t),
            _ => out.push(vec![*t]),
        }
    }
    for p in &mut out {
        p.sort_by_key(|t| t.0);
    }
    out
}

/// Linear ticks start at 0 and step by one power of two of at least 1 KiB.
fn assert_binary_steps(ticks: &[(u64, f64)]) {
    let v: Vec<u64> = ticks.iter().map(|t| t.0).collect();
    assert!(v.len() >= 2 && v[0] == 0, "{v:?}");
    let step = v[1];
    assert!(
        step >= 1024 && step.is_power_of_two(),
        "step {step} B: {v:?}"
    );
    for (i, t) in v.iter().enumerate() {
        assert_eq!(*t, i as u64 * step, "uneven ticks: {v:?}");
    }
}

/// The pixel row of `bytes` on a panel, from its tick labels.
fn pixel_y(ticks: &[(u64, f64)], bytes: u64) -> f64 {
    let (lo, hi) = (ticks[0], ticks[ticks.len() - 1]);
    lo.1 + (bytes as f64 - lo.0 as f64) / (hi.0 - lo.0) as f64 * (hi.1 - lo.1)
}

/// The legend's entries of the timeline: each swatch with the words written just right of it
/// (the lines of one entry joined).
fn legend(doc: &Document) -> Vec<(Poly, String)> {
    let mut out: Vec<(Poly, String)> = Vec::new();
    for n in doc.root_element().children().filter(|n| n.is_element()) {
        if let Some(p) = poly(n).filter(|p| p.points.len() == 2) {
            out.push((p, String::new()));
            continue;
        }
        let Some((swatch, words)) = out.last_mut() else {
            continue;
        };
        let x: f64 = n
            .attribute("x")
            .and_then(|x| x.parse().ok())
            .unwrap_or(-1.0);
        let right_of = x - swatch.points[1].0;
        if n.has_tag_name("text") && (0.0..=20.0).contains(&right_of) {
            *words = format!("{words} {}", text_of(n)).trim().to_string();
        }
    }
    out.retain(|(_, w)| !w.is_empty());
    out
}

fn entry<'a>(legend: &'a [(Poly, String)], name: &str) -> &'a (Poly, String) {
    legend
        .iter()
        .find(|(_, w)| w == name || w.starts_with(&format!("{name} (")))
        .unwrap_or_else(|| panic!("no legend entry for {name}: {legend:?}"))
}

#[test]
fn the_sweep_plot_ticks_powers_of_two_and_draws_each_series_measured_and_predicted() {
    let dir = scratch("plot-sweep");
    let svg = dir.join("p.svg");
    let o = tcplab(&[
        "sweep",
        "--sndbuf",
        "8K..32K:x2",
        "--rcvbuf",
        "8K,32K",
        "-q",
    ])
    .args(["-o", path_arg(&dir.join("p.csv")), "--plot", path_arg(&svg)])
    .deadline(DEADLINE)
    .run();
    o.assert_code(0);
    let text = fs::read_to_string(&svg).unwrap();
    let doc = Document::parse(&text).expect("the plot is not well-formed XML");
    let lines: Vec<Poly> = polys(&doc)
        .into_iter()
        .filter(|p| p.points.len() == 3 && p.width >= 3)
        .filter(|p| p.points[2].0 - p.points[0].0 > 100.0)
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "one measured line of 3 points per rcvbuf value"
    );
    assert_ne!(lines[0].color, lines[1].color, "two series, one colour");
    let t = texts(&doc);
    for name in [
        "SO_RCVBUF (both peers) 8 KiB",
        "SO_RCVBUF (both peers) 32 KiB",
    ] {
        for kind in ["measured", "predicted"] {
            assert!(
                t.iter().any(|s| s.starts_with(&format!("{name} ({kind}"))),
                "no {kind} legend for {name}: {t:?}"
            );
        }
    }
    let y: Vec<u64> = y_ticks(&doc).iter().map(|t| t.0).collect();
    let x: Vec<u64> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("middle"))
        .filter_map(|n| size_label(&text_of(n)))
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    for (axis, ticks) in [("x", &x), ("y", &y)] {
        assert!(ticks.len() >= 2, "{axis}: {ticks:?}");
        assert!(
            ticks.iter().all(|t| t.is_power_of_two()),
            "{axis} ticks not at powers of two: {ticks:?}"
        );
    }
    assert_eq!(x, [8192, 16384, 32768], "a tick at each swept size");
}

#[test]
fn the_timeline_shows_every_line_the_capacities_and_the_events() {
    let dir = scratch("plot-timeline");
    let (csv, svg) = (dir.join("t.csv"), dir.join("t.svg"));
    let o = tcplab(&["deadlock", "--sndbuf", "16K", "--rcvbuf", "16K", "-q"])
        .args([
            "--timeline",
            path_arg(&csv),
            "--plot-timeline",
            path_arg(&svg),
        ])
        .deadline(DEADLINE)
        .run();
    o.assert_code(3);
    let rows: Vec<TimelineRow> = csv::Reader::from_path(&csv)
        .unwrap()
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap();
    let text = fs::read_to_string(&svg).unwrap();
    let doc = Document::parse(&text).expect("the timeline plot is not XML");

    // Axes: each panel's byte ticks are 0, s, 2s, … for a power of two s.
    let panels = panels(&y_ticks(&doc));
    assert_eq!(panels.len(), 2, "counters and queues: {panels:?}");
    panels.iter().for_each(|p| assert_binary_steps(p));

    // Lines: one per row of the timeline, eight of them, each at least 3 px wide and in the
    // colour and width its legend entry shows.
    let data: Vec<Poly> = polys(&doc)
        .into_iter()
        .filter(|p| p.points.len() == rows.len())
        .collect();
    assert_eq!(data.len(), 8, "four counters and four queues");
    let legend = legend(&doc);
    let names = [
        "client sent",
        "server processed",
        "server sent",
        "client received",
        "client send queue",
        "server receive queue",
        "server send queue",
        "client receive queue",
    ];
    for name in names {
        let (swatch, _) = entry(&legend, name);
        assert!(
            swatch.width >= 3,
            "{name} is drawn {} px wide",
            swatch.width
        );
        assert!(
            data.iter()
                .any(|d| d.color == swatch.color && d.width == swatch.width),
            "no line for {name} ({} {} px) in {data:?}",
            swatch.color,
            swatch.width
        );
    }
    // A line drawn over an earlier one along its whole length is narrower, so the earlier shows.
    for (i, a) in data.iter().enumerate() {
        for b in &data[i + 1..] {
            let on_it = a
                .points
                .iter()
                .zip(&b.points)
                .all(|(p, q)| (p.1 - q.1).abs() <= 1.0);
            assert!(!on_it || b.width < a.width, "{b:?} hides {a:?}");
        }
    }
    // The server writes back each read before the next one: "server sent" lies on "server
    // processed", one read (1 KiB) away at most, and is drawn inside it.
    let (processed, _) = entry(&legend, "server processed");
    let (sent, words) = entry(&legend, "server sent");
    assert!(sent.width < processed.width, "{legend:?}");
    assert!(words.contains("drawn inside server processed"), "{words}");

    // Capacities: a dashed line at each queue's SO_SNDBUF or SO_RCVBUF, in the queue panel.
    let last = rows.last().unwrap();
    let caps = [
        last.client_sndbuf_bytes,
        last.server_rcvbuf_bytes,
        last.server_sndbuf_bytes,
        last.client_rcvbuf_bytes,
    ];
    let dashes: Vec<Poly> = polys(&doc)
        .into_iter()
        .filter(|p| p.points.len() == 2 && p.points[0].1 == p.points[1].1)
        .filter(|p| (p.points[1].0 - p.points[0].0).abs() <= 14.0)
        .collect();
    for cap in caps {
        let cap = cap.expect("the row records each buffer");
        let y = pixel_y(&panels[1], cap);
        let at = dashes
            .iter()
            .filter(|d| (d.points[0].1 - y).abs() <= 1.5)
            .count();
        assert!(
            at >= 10,
            "{at} dashes at {cap} B (y {y:.0}); dashes: {dashes:?}"
        );
    }
    assert!(
        legend.iter().any(|(_, w)| w.starts_with("capacity")),
        "the capacity lines are not named: {legend:?}"
    );

    // Events: each one numbered on the plot and listed in the words the terminal prints.
    let events: Vec<_> = rows.iter().flat_map(|r| r.events()).collect();
    assert!(events.len() >= 3, "{events:?}");
    let t = texts(&doc);
    let all = t.join(" ");
    for (n, e) in events.iter().enumerate() {
        let words = event_text(&e.kind);
        assert!(all.contains(&words), "event {} not listed: {words}", n + 1);
    }
    let marked = rows.iter().filter(|r| !r.events().is_empty()).count();
    let uprights = polys(&doc)
        .into_iter()
        .filter(|p| p.points.len() == 2 && p.points[0].0 == p.points[1].0)
        .filter(|p| (p.points[0].1 - p.points[1].1).abs() > 100.0)
        .count();
    assert!(
        uprights >= 2 * marked,
        "{uprights} vertical marks for {marked} moments with events, on two panels"
    );
    assert!(
        t.iter().any(|s| s == "1"),
        "event 1 is not numbered on the plot"
    );

    // Late steps: the note is there exactly when a queue moved after the counters stopped.
    let counters = |r: &TimelineRow| {
        [
            r.client_sent_bytes,
            r.server_processed_bytes,
            r.server_sent_bytes,
            r.client_received_bytes,
        ]
    };
    let queues = |r: &TimelineRow| {
        [
            r.client_send_queue_bytes,
            r.server_recv_queue_bytes,
            r.server_send_queue_bytes,
            r.client_recv_queue_bytes,
        ]
    };
    let still = rows
        .windows(2)
        .rposition(|w| counters(&w[0]) != counters(&w[1]))
        .map_or(0, |i| i + 1);
    let stepped = rows[still..]
        .windows(2)
        .any(|w| queues(&w[0]) != queues(&w[1]));
    assert_eq!(
        all.contains("neither program moves a byte, yet the queues still step"),
        stepped,
        "the late-step note disagrees with the rows"
    );
}
