//! The watchdog's two targets, measured with both cores kept busy by spinning threads:
//! - no false DEADLOCK in N runs of each fix (reader-thread, poll) across buffer sizes;
//! - the verdict at 64 KiB comes within 1 s of the last byte moved, and nothing moves after it
//!   (each naive run is kept open for 2 s after its verdict with the hidden --verify-stall).
//!
//! ```text
//! cargo bench --bench watchdog                  # 100 runs of each
//! cargo bench --bench watchdog -- --runs 20
//! ```

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;

use tcplab::result::{Outcome, RunResult, StallBasis};

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

fn run(args: &[&str]) -> RunResult {
    let out = Command::new(TCPLAB)
        .args(["deadlock", "--json", "--quiet", "--timeout", "120s"])
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot start tcplab");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON from {args:?}: {e}"))
}

/// Spins one thread per core until dropped, so every run competes for the CPU.
struct Burners(Arc<AtomicBool>, Vec<thread::JoinHandle<()>>);

impl Burners {
    fn start(n: usize) -> Burners {
        let stop = Arc::new(AtomicBool::new(false));
        let hs = (0..n)
            .map(|_| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Burners(stop, hs)
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.0.store(true, Relaxed);
        for h in self.1.drain(..) {
            let _ = h.join();
        }
    }
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
        .unwrap_or(100);
    let cores = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let _burn = Burners::start(cores);
    println!("{cores} spinning threads keep every core busy; {runs} runs of each");

    // (buffer size, bytes): each well past what naive can hold at that size.
    let grid = [
        ("4K", "256KiB"),
        ("16K", "1MiB"),
        ("64K", "2MiB"),
        ("auto", "32MiB"),
    ];
    for strategy in ["reader-thread", "poll"] {
        let (mut false_verdicts, mut failed, mut slowest) = (0, 0, 0u64);
        for i in 0..runs {
            let (size, bytes) = grid[i % grid.len()];
            let r = run(&[
                "--strategy",
                strategy,
                "--sndbuf",
                size,
                "--rcvbuf",
                size,
                "--bytes",
                bytes,
            ]);
            match r.outcome {
                Outcome::Completed if r.verification.is_some_and(|v| v.matched) => {}
                Outcome::Deadlock => {
                    false_verdicts += 1;
                    println!(
                        "  FALSE DEADLOCK: {strategy} {size} {bytes}: {:?}",
                        r.stall.map(|s| s.basis)
                    );
                }
                o => {
                    failed += 1;
                    println!("  {strategy} {size} {bytes}: {o:?} {:?}", r.failure);
                }
            }
            slowest = slowest.max(r.timings.elapsed_ms);
        }
        println!(
            "{strategy}: {runs} runs over {{4K,16K,64K,auto}}: {false_verdicts} false DEADLOCK, {failed} other failures, slowest run {slowest} ms"
        );
    }

    let mut lat = Vec::new();
    let (mut moved, mut silence, mut other) = (0, 0, 0);
    for _ in 0..runs {
        let r = run(&["--sndbuf", "64K", "--rcvbuf", "64K", "--verify-stall", "2s"]);
        let Some(st) = r.stall.filter(|_| r.outcome == Outcome::Deadlock) else {
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
