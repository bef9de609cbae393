//! Slow motion, measured: pacing must not move the stall point, and the narrated events should
//! come in the same order run after run.
//!
//! - bytes sent before the stall over the sum of the four effective sizes, paced (`--slow`,
//!   32 KiB/s) against unpaced, at the default 64 KiB buffers;
//! - the order of the narrated events over N slow runs, with the time of each.
//!
//! ```text
//! cargo bench --bench slow_motion                 # 20 slow runs, 20 unpaced
//! cargo bench --bench slow_motion -- --runs 5
//! ```

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use tcplab::result::{Outcome, RunResult};

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

fn run(args: &[&str]) -> RunResult {
    let out = Command::new(TCPLAB)
        .args(["deadlock", "--json", "--quiet"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot start tcplab");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}"))
}

/// Bytes before the stall over the sum of the four effective sizes.
fn ratio(r: &RunResult) -> f64 {
    let sum4: u64 = r
        .buffers
        .iter()
        .map(|b| b.sndbuf.effective_bytes + b.rcvbuf.effective_bytes)
        .sum();
    r.counts.client_sent_bytes as f64 / sum4 as f64
}

fn event_name(e: &tcplab::result::Event) -> String {
    serde_json::to_value(e).unwrap()["event"]
        .as_str()
        .unwrap()
        .to_string()
}

fn range(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    format!("{lo:.2}–{hi:.2}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut unpaced = Vec::new();
    for _ in 0..runs {
        let r = run(&[]);
        assert_eq!(r.outcome, Outcome::Deadlock);
        unpaced.push(ratio(&r));
    }
    let mut paced = Vec::new();
    let mut orders: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut stall_s = Vec::new();
    for _ in 0..runs {
        let r = run(&["--slow"]);
        assert_eq!(r.outcome, Outcome::Deadlock);
        paced.push(ratio(&r));
        stall_s.push(r.timings.elapsed_ms as f64 / 1000.0);
        let names: Vec<String> = r.events.iter().map(event_name).collect();
        for (n, e) in names.iter().zip(&r.events) {
            times
                .entry(n.clone())
                .or_default()
                .push(e.at_ms as f64 / 1000.0);
        }
        *orders.entry(names).or_default() += 1;
    }
    println!(
        "stall / sum of the four effective sizes at 64 KiB: unpaced {} ({runs} runs), paced 32 KiB/s {} ({runs} runs)",
        range(&unpaced),
        range(&paced)
    );
    println!("slow runs reached the verdict after {} s", range(&stall_s));
    println!("order of the narrated events over {runs} slow runs:");
    for (order, n) in &orders {
        println!("  {n:>2}×  {}", order.join(" → "));
    }
    println!("time of each event (s, min–max):");
    for (name, t) in &times {
        println!("  {name:<24} {}", range(t));
    }
}
