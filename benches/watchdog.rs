//! The watchdog's two targets, measured with both cores kept busy by spinning threads:
//! - no false DEADLOCK in N runs of each fix (reader-thread, poll) per chunk size: the default
//!   16-byte chunk and 64 KiB across buffer sizes, and 1 GiB chunks (the chunk that once made the
//!   reader look absent while it built its verifier);
//! - the verdict at 64 KiB comes within 1 s of the last byte moved, and nothing moves after it
//!   (each naive run is kept open for 2 s after its verdict with the hidden --verify-stall).
//!
//! A run counts as passed only when it completed, its echo verified, and tcplab exited 0. A
//! DEADLOCK verdict is a false verdict; anything else (a timeout, a reset, a wrong exit code, no
//! JSON) is another failure. Each one is printed, and its JSON is kept under the target directory.
//!
//! ```text
//! cargo bench --bench watchdog                                # 100 runs of each part
//! cargo bench --bench watchdog -- --runs 20
//! cargo bench --bench watchdog -- --chunks 1G --no-naive      # one part alone
//! cargo bench --bench watchdog -- --chunks none               # the naive latency alone
//! ```
//!
//! A 1 GiB run takes 10-15 s on a lightly loaded 2-core machine and over a minute under heavy
//! load, so the 1G part alone usually gets fewer runs. Each run's outcome goes to stderr as it
//! ends, so a bench stopped early still shows how many runs it made.

mod common;
use common::Burners;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

use tcplab::result::{Outcome, RunResult, StallBasis};

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

/// One chunk size for the fixes: its `--chunk` value and the (buffer size, bytes) pairs the runs
/// cycle through, each pair well past what the naive client can hold at that size.
struct Part {
    chunk: &'static str,
    grid: &'static [(&'static str, &'static str)],
}

const GRID: &[(&str, &str)] = &[
    ("4K", "256KiB"),
    ("16K", "1MiB"),
    ("64K", "2MiB"),
    ("auto", "32MiB"),
];

const PARTS: &[Part] = &[
    Part {
        chunk: "16",
        grid: GRID,
    },
    Part {
        chunk: "64K",
        grid: GRID,
    },
    // Bytes round up to whole chunks, so every run moves 1 GiB; at 1 GiB a run takes seconds, so
    // only the default 64 KiB buffers (the command of issue 9).
    Part {
        chunk: "1G",
        grid: &[("64K", "1GiB")],
    },
];

/// What one tcplab process gave back: its result, or why there is none.
struct Ran {
    exit: Option<i32>,
    json: Vec<u8>,
    result: Result<RunResult, String>,
}

fn run(args: &[&str]) -> Ran {
    let out = Command::new(TCPLAB)
        .args(["deadlock", "--json", "--quiet", "--timeout", "120s"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot start tcplab");
    let result = serde_json::from_slice(&out.stdout).map_err(|e| format!("no JSON result: {e}"));
    Ran {
        exit: out.status.code(),
        json: out.stdout,
        result,
    }
}

/// Keeps a failing run's JSON for a look afterwards, and says where.
fn keep(ran: &Ran, name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("watchdog-{name}.json"));
    match std::fs::write(&path, &ran.json) {
        Ok(()) => format!("JSON in {}", path.display()),
        Err(e) => format!("JSON not kept: {e}"),
    }
}

fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let runs: usize = value(&args, "--runs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let chunks: Vec<&str> = match value(&args, "--chunks") {
        None => PARTS.iter().map(|p| p.chunk).collect(),
        Some("none") => Vec::new(),
        Some(list) => list.split(',').collect(),
    };
    if let Some(bad) = chunks
        .iter()
        .find(|c| !PARTS.iter().any(|p| p.chunk == **c))
    {
        eprintln!("watchdog bench: no part for chunk '{bad}'; --chunks takes 16, 64K, 1G or none");
        std::process::exit(2);
    }
    let naive = !args.iter().any(|a| a == "--no-naive");
    let cores = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let _burn = Burners::start(cores);
    println!("{cores} spinning threads keep every core busy; {runs} runs of each");

    for part in PARTS.iter().filter(|p| chunks.contains(&p.chunk)) {
        for strategy in ["reader-thread", "poll"] {
            fixes(strategy, part, runs);
        }
    }
    if naive {
        naive_latency(runs);
    }
}

/// `runs` runs of one fix at one chunk size: counts false verdicts and other failures.
fn fixes(strategy: &str, part: &Part, runs: usize) {
    let (mut false_verdicts, mut failed, mut slowest) = (0, 0, 0u64);
    let started = Instant::now();
    for i in 0..runs {
        let (size, bytes) = part.grid[i % part.grid.len()];
        let ran = run(&[
            "--strategy",
            strategy,
            "--chunk",
            part.chunk,
            "--sndbuf",
            size,
            "--rcvbuf",
            size,
            "--bytes",
            bytes,
        ]);
        let what = format!("{strategy} --chunk {} {size} {bytes} (run {i})", part.chunk);
        let name = format!("{strategy}-{}-{i}", part.chunk);
        let r = match &ran.result {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                println!("  {what}: exit {:?}, {e}; {}", ran.exit, keep(&ran, &name));
                continue;
            }
        };
        slowest = slowest.max(r.timings.elapsed_ms);
        eprintln!("{what}: {:?} in {} ms", r.outcome, r.timings.elapsed_ms);
        match r.outcome {
            Outcome::Completed
                if r.verification.as_ref().is_some_and(|v| v.matched) && ran.exit == Some(0) => {}
            Outcome::Deadlock => {
                false_verdicts += 1;
                println!(
                    "  FALSE DEADLOCK: {what}: basis {:?}, evidence {:?}; {}",
                    r.stall.as_ref().map(|s| s.basis),
                    r.stall.as_ref().map(|s| &s.evidence),
                    keep(&ran, &name)
                );
            }
            o => {
                failed += 1;
                println!(
                    "  {what}: {o:?}, exit {:?}, verification {:?}, failure {:?}; {}",
                    ran.exit,
                    r.verification,
                    r.failure,
                    keep(&ran, &name)
                );
            }
        }
    }
    let sizes: Vec<&str> = part.grid.iter().map(|(s, _)| *s).collect();
    println!(
        "{strategy} --chunk {}: {runs} runs over {{{}}}: {false_verdicts} false DEADLOCK, {failed} other failures, slowest run {slowest} ms ({} s in all)",
        part.chunk,
        sizes.join(","),
        started.elapsed().as_secs()
    );
}

/// `runs` naive runs at 64 KiB: how long after the last byte moved the verdict comes.
fn naive_latency(runs: usize) {
    let mut lat = Vec::new();
    let (mut moved, mut silence, mut other) = (0, 0, 0);
    for _ in 0..runs {
        let ran = run(&["--sndbuf", "64K", "--rcvbuf", "64K", "--verify-stall", "2s"]);
        let Some(st) = ran
            .result
            .ok()
            .filter(|r| r.outcome == Outcome::Deadlock)
            .and_then(|r| r.stall)
        else {
            other += 1;
            continue;
        };
        lat.push(st.verdict_ms - st.last_progress_ms);
        silence += usize::from(st.basis == StallBasis::Silence);
        moved += usize::from(st.moved_after_verdict_bytes.unwrap_or(0) > 0);
    }
    lat.sort_unstable();
    let pct = |p: usize| {
        lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "naive at 64 KiB: {} deadlocks ({silence} by silence), {other} not deadlocked; verdict after the last byte moved: median {} ms, p95 {} ms, max {} ms; runs where a byte moved in the 2 s after the verdict: {moved}",
        lat.len(),
        pct(50),
        pct(95),
        lat.last().copied().unwrap_or(0)
    );
}
