//! The 24-point sweep of docs/sweep.md, run several times one point at a time (`--jobs 1`) and
//! several points at once, in turns: its wall time for each `--jobs`, and whether running points
//! together moves what each point measures (the bytes the client sent before the stall and
//! `measured_over_predicted`) beyond the spread the same point shows from run to run.
//!
//! ```text
//! cargo bench --bench sweep                                   # 5 rounds of --jobs 1 and the default
//! cargo bench --bench sweep -- --rounds 10 --jobs 1,2,default
//! cargo bench --bench sweep -- --rounds 8 --jobs 1,2,4
//! cargo bench --bench sweep -- --rounds 4 --jobs 1,default --busy    # every core kept busy
//! ```
//!
//! A round runs the sweep once for each `--jobs` value, in an order that turns by one each round,
//! so a change in the machine's load falls on every value alike. Each sweep's CSV is kept under
//! the target directory (`tmp/sweep-bench/`).
//!
//! Two kinds of stall come out of the same point (docs/kernel-facts.md): the usual one, and now and
//! then at the 1 MiB points the "ACK-starved" one, which holds about half as many bytes. Each is
//! compared apart. For the usual stalls, a run's bytes are taken relative to the median of that
//! point over every run of every `--jobs` value, so points of different sizes can be pooled, and
//! the two-sided Mann-Whitney test asks whether a `--jobs` value gives the same distribution as
//! `--jobs 1`; for the ACK-starved ones, Fisher's exact test asks whether they come as often.

mod common;
use common::Burners;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tcplab::report::sweep_row::SweepRow;
use tcplab::result::Outcome;
use wait_timeout::ChildExt;

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

/// The sweep of issue 19 and docs/sweep.md: 6 send-buffer sizes × 4 receive-buffer sizes.
const GRID: [&str; 4] = [
    "--sndbuf",
    "8K,16K,32K,64K,128K,256K",
    "--rcvbuf",
    "16K,64K,256K,1M",
];

/// One sweep may take this long before it is killed and the bench fails (it takes 5–25 s).
const SWEEP_BOUND: Duration = Duration::from_secs(300);
/// At most this many rounds: a bench that runs for hours is a typo.
const MAX_ROUNDS: usize = 50;
/// Below this share of the prediction a stall is the ACK-starved one (`starved`).
const HALF: f64 = 0.6;

fn value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = value(&args, "--rounds")
        .map(|s| s.parse().expect("--rounds takes a number"))
        .unwrap_or(5);
    assert!(
        (1..=MAX_ROUNDS).contains(&rounds),
        "--rounds takes 1 to {MAX_ROUNDS}"
    );
    let jobs: Vec<Jobs> = value(&args, "--jobs")
        .unwrap_or("1,default")
        .split(',')
        .map(|j| match j {
            "default" => Jobs::Default,
            n => Jobs::N(n.parse().expect("--jobs takes numbers and 'default'")),
        })
        .collect();
    assert!(
        jobs.first() == Some(&Jobs::N(1)),
        "--jobs must start with 1, the reference"
    );
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let _burn = args
        .iter()
        .any(|a| a == "--busy")
        .then(|| Burners::start(cores));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sweep-bench");
    std::fs::create_dir_all(&dir).expect("create the bench's folder");
    println!(
        "{cores} cores{}; {rounds} rounds of: tcplab sweep {} -q [--jobs N] -o FILE",
        if _burn.is_some() {
            ", each kept busy by a spinning thread"
        } else {
            ""
        },
        GRID.join(" ")
    );

    let mut runs: BTreeMap<Jobs, Vec<Run>> = BTreeMap::new();
    for round in 0..rounds {
        for k in 0..jobs.len() {
            let j = jobs[(round + k) % jobs.len()];
            let csv = dir.join(format!("round{round}-jobs-{}.csv", j.label()));
            let run = sweep(j, &csv);
            eprintln!(
                "round {round}, --jobs {}: {:.2} s, {}",
                j.label(),
                run.wall.as_secs_f64(),
                csv.display()
            );
            runs.entry(j).or_default().push(run);
        }
    }
    report(&runs);
}

/// A `--jobs` value: a number, or none given (`sweep::default_jobs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Jobs {
    N(usize),
    Default,
}

impl Jobs {
    fn label(self) -> String {
        match self {
            Jobs::N(n) => n.to_string(),
            Jobs::Default => format!("default ({})", tcplab::sweep::default_jobs()),
        }
        .replace(' ', "-")
    }
}

/// One sweep: its wall time, its CPU time and its rows, in point order.
struct Run {
    wall: Duration,
    cpu: Duration,
    rows: Vec<SweepRow>,
}

fn sweep(jobs: Jobs, csv: &Path) -> Run {
    let mut cmd = Command::new(TCPLAB);
    cmd.arg("sweep").args(GRID).args(["-q", "-o"]).arg(csv);
    if let Jobs::N(n) = jobs {
        cmd.args(["--jobs", &n.to_string()]);
    }
    // Its stderr ("wrote FILE") is kept beside the CSV and shown only when something went wrong.
    let log = csv.with_extension("stderr");
    let stderr = std::fs::File::create(&log).expect("create the sweep's stderr file");
    let cpu_before = children_cpu();
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("cannot start tcplab");
    let status = match child.wait_timeout(SWEEP_BOUND).expect("wait for tcplab") {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the sweep took longer than {SWEEP_BOUND:?}: {cmd:?}");
        }
    };
    let wall = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    assert!(
        status.success(),
        "{cmd:?} ended with {status}: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let rows: Vec<SweepRow> = csv::Reader::from_path(csv)
        .expect("open the sweep's CSV")
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("the sweep's CSV parses");
    assert_eq!(rows.len(), 24, "{cmd:?} wrote {} rows", rows.len());
    assert!(
        rows.iter()
            .enumerate()
            .all(|(i, r)| r.point as usize == i + 1),
        "{cmd:?}: rows out of point order"
    );
    Run { wall, cpu, rows }
}

/// User and system time of every child this bench has reaped so far (getrusage(2)).
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes one `rusage` into the zeroed value it is given and reads nothing.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Whether a run ended in the "ACK-starved" stall (docs/kernel-facts.md): the server has read
/// almost everything the client sent, its receive queue stays empty, and the four buffers hold
/// about half the prediction. On this grid it is the only stall below `HALF` of the prediction
/// (0.44–0.49); the usual stall never went below 0.66.
fn starved(r: &SweepRow) -> bool {
    r.measured_over_predicted.is_some_and(|m| m < HALF)
}

fn report(runs: &BTreeMap<Jobs, Vec<Run>>) {
    let label = |j: &Jobs| j.label().replace('-', " ");
    println!("\nWall time and CPU time (user + system) of the whole sweep (s):");
    for (j, rs) in runs {
        let mut w: Vec<f64> = rs.iter().map(|r| r.wall.as_secs_f64()).collect();
        let each: Vec<String> = w.iter().map(|s| format!("{s:.2}")).collect();
        w.sort_by(f64::total_cmp);
        let mut cpu: Vec<f64> = rs.iter().map(|r| r.cpu.as_secs_f64()).collect();
        cpu.sort_by(f64::total_cmp);
        println!(
            "  --jobs {:<11} wall median {:>5.2}  min {:>5.2}  max {:>5.2}; CPU median {:.2}   runs: {}",
            label(j),
            quantile(&w, 0.5),
            w[0],
            w[w.len() - 1],
            quantile(&cpu, 0.5),
            each.join(" ")
        );
    }

    let rows = |j: &Jobs| -> Vec<&SweepRow> {
        runs[j]
            .iter()
            .flat_map(|r| r.rows.iter())
            .filter(|r| r.outcome == Outcome::Deadlock)
            .collect()
    };
    // Each point's median bytes over the usual stalls of every run of every --jobs value.
    let mut medians: BTreeMap<u32, f64> = BTreeMap::new();
    for p in 1..=24u32 {
        let mut all: Vec<f64> = runs
            .keys()
            .flat_map(&rows)
            .filter(|r| r.point == p && !starved(r))
            .map(|r| r.client_sent_bytes as f64)
            .collect();
        all.sort_by(f64::total_cmp);
        medians.insert(p, quantile(&all, 0.5));
    }
    let relative = |j: &Jobs| -> Vec<f64> {
        let mut v: Vec<f64> = rows(j)
            .into_iter()
            .filter(|r| !starved(r))
            .map(|r| r.client_sent_bytes as f64 / medians[&r.point])
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };

    println!(
        "\nPer point, the usual stalls: client_sent_bytes (KiB) median [min–max] over the rounds and"
    );
    println!("measured_over_predicted min–max; '+k' = k more runs ended in the ACK-starved stall:");
    let header: Vec<String> = runs
        .keys()
        .map(|j| format!("{:<40}", format!("--jobs {}", label(j))))
        .collect();
    println!("  point  snd/rcv      {}", header.join(""));
    for p in 1..=24usize {
        let first = &runs.values().next().unwrap()[0].rows[p - 1];
        let kib = |b: Option<u64>| b.map_or("auto".into(), |b| format!("{}K", b / 1024));
        let mut line = format!(
            "  {p:>5}  {:>4}/{:<5}  ",
            kib(first.client_sndbuf_requested_bytes),
            kib(first.client_rcvbuf_requested_bytes)
        );
        for rs in runs.values() {
            let at: Vec<&SweepRow> = rs.iter().map(|r| &r.rows[p - 1]).collect();
            let usual: Vec<&&SweepRow> = at
                .iter()
                .filter(|r| r.outcome == Outcome::Deadlock && !starved(r))
                .collect();
            let mut sent: Vec<f64> = usual.iter().map(|r| r.client_sent_bytes as f64).collect();
            sent.sort_by(f64::total_cmp);
            let mut ratio: Vec<f64> = usual
                .iter()
                .filter_map(|r| r.measured_over_predicted)
                .collect();
            ratio.sort_by(f64::total_cmp);
            let half = at.iter().filter(|r| starved(r)).count();
            let other = at.len() - usual.len() - half;
            let cell = if sent.is_empty() {
                "-".to_string()
            } else {
                format!(
                    "{:>5.0} [{:.0}–{:.0}] {:.2}–{:.2}",
                    quantile(&sent, 0.5) / 1024.0,
                    sent[0] / 1024.0,
                    sent[sent.len() - 1] / 1024.0,
                    ratio[0],
                    ratio[ratio.len() - 1],
                )
            };
            let half = if half > 0 {
                format!(" +{half}")
            } else {
                String::new()
            };
            let other = if other > 0 {
                format!(" ({other} no stall)")
            } else {
                String::new()
            };
            line.push_str(&format!("{:<40}", format!("{cell}{half}{other}")));
        }
        println!("{line}");
    }

    println!("\nPooled over the points (relative = a run's bytes over its point's median):");
    let reference = Jobs::N(1);
    for j in runs.keys() {
        let all = rows(j);
        let half = all.iter().filter(|r| starved(r)).count();
        let v = relative(j);
        let mut ratios: Vec<f64> = all
            .iter()
            .filter(|r| !starved(r))
            .filter_map(|r| r.measured_over_predicted)
            .collect();
        ratios.sort_by(f64::total_cmp);
        let mut stall_ms: Vec<f64> = all
            .iter()
            .filter_map(|r| r.stall_ms)
            .map(|m| m as f64)
            .collect();
        stall_ms.sort_by(f64::total_cmp);
        println!(
            "  --jobs {:<11} {} stalls, {half} ACK-starved; usual stalls relative p5 {:.3}, p25 {:.3}, \
             median {:.3}, p75 {:.3}, p95 {:.3}; measured/predicted median {:.3} [{:.3}–{:.3}]; \
             verdict after median {:.0} ms",
            label(j),
            all.len(),
            quantile(&v, 0.05),
            quantile(&v, 0.25),
            quantile(&v, 0.5),
            quantile(&v, 0.75),
            quantile(&v, 0.95),
            quantile(&ratios, 0.5),
            ratios.first().copied().unwrap_or(f64::NAN),
            ratios.last().copied().unwrap_or(f64::NAN),
            quantile(&stall_ms, 0.5),
        );
        if *j != reference {
            let r = rows(&reference);
            let r_half = r.iter().filter(|x| starved(x)).count();
            println!(
                "  {:18} vs --jobs 1: usual stalls Mann-Whitney p = {:.2}; ACK-starved {half}/{} vs {r_half}/{}, Fisher p = {:.2}",
                "",
                mann_whitney(&relative(&reference), &v),
                all.len(),
                r.len(),
                fisher(half, all.len() - half, r_half, r.len() - r_half),
            );
        }
    }
}

/// The two-sided p-value of Fisher's exact test on the table [[a, b], [c, d]].
fn fisher(a: usize, b: usize, c: usize, d: usize) -> f64 {
    let ln_fact = |n: usize| (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let n = row1 + row2;
    let p = |x: usize| -> f64 {
        (ln_fact(row1) + ln_fact(row2) + ln_fact(col1) + ln_fact(n - col1)
            - ln_fact(n)
            - ln_fact(x)
            - ln_fact(row1 - x)
            - ln_fact(col1 - x)
            - ln_fact(row2 + x - col1))
        .exp()
    };
    let observed = p(a);
    let lo = col1.saturating_sub(row2);
    let hi = row1.min(col1);
    (lo..=hi)
        .map(p)
        .filter(|q| *q <= observed * (1.0 + 1e-7))
        .sum::<f64>()
        .min(1.0)
}

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// The two-sided p-value of the Mann-Whitney U test (normal approximation with the tie
/// correction; fine from about 20 values a side).
fn mann_whitney(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    if a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|x| (*x, true))
        .chain(b.iter().map(|x| (*x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut k = i;
        while k + 1 < all.len() && all[k + 1].0 == all[i].0 {
            k += 1;
        }
        let rank = (i + k) as f64 / 2.0 + 1.0;
        let t = (k - i + 1) as f64;
        ties += t * t * t - t;
        rank_a += all[i..=k].iter().filter(|x| x.1).count() as f64 * rank;
        i = k + 1;
    }
    let u = rank_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let sd = (n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    if sd == 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / sd;
    erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' erfcc, relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851547 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}
