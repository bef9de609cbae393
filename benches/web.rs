//! What the live page costs the lab: the same `tcplab deadlock` runs with no page at all and with
//! the page's hub and server attached and 10 viewers reading its stream, alternated run by run;
//! then the peak memory of the tcplab binary serving 64 viewers against none.
//!
//! ```text
//! cargo bench --bench web                       # 10 runs of each kind, then the memory
//! cargo bench --bench web -- --runs 20
//! ```
//!
//! The runs go through the library (`cmd::deadlock::config` from the same arguments, then
//! `run::run_pair`), because the viewers must be reading before the traffic starts: the binary
//! starts its run as soon as it has printed its URL. The viewers are plain HTTP clients in this
//! process that read the stream as a browser does and keep nothing; a browser's drawing happens
//! on the viewer's machine, not in tcplab.
//!
//! Prints, per kind (ABBA order), the median (and range) of the time to the verdict of the default naive run
//! and of the throughput of `--strategy reader-thread --bytes 32MiB`, and the ratios.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use tcplab::cli::{Cli, Command as Sub};
use tcplab::observe::NoObserver;
use tcplab::report::web::{WebView, run_frame};
use tcplab::result::RunResult;
use tcplab::run::{self, PairConfig};
use tcplab::web::{Hub, Publish, Server, hub::MAX_VIEWERS};

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");

fn config(args: &[&str]) -> PairConfig {
    let cli = Cli::try_parse_from(std::iter::once("tcplab").chain(args.iter().copied()))
        .expect("valid arguments");
    match cli.command {
        Sub::Deadlock(a) => a.config(),
        _ => unreachable!("a deadlock command"),
    }
}

/// A viewer that reads the stream to its end, as a browser's EventSource does.
fn viewer(addr: SocketAddr) -> thread::JoinHandle<u64> {
    let mut s = TcpStream::connect(addr).expect("connect a viewer");
    write!(s, "GET /events HTTP/1.1\r\nHost: bench\r\n\r\n").unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 64 * 1024];
        let mut got = 0u64;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got += n as u64;
        }
        got
    })
}

/// One run, with `viewers` reading the page's stream (0: no page at all, as without --web).
fn one(cfg: &PairConfig, viewers: usize) -> RunResult {
    if viewers == 0 {
        return run::run_pair(cfg, &mut NoObserver).expect("the run starts");
    }
    let hub = Hub::new(MAX_VIEWERS);
    let server = Server::start("127.0.0.1:0".parse().unwrap(), Arc::clone(&hub)).unwrap();
    let readers: Vec<_> = (0..viewers).map(|_| viewer(server.addr())).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while hub.viewers() < viewers {
        assert!(Instant::now() < deadline, "the viewers never all joined");
        thread::sleep(Duration::from_millis(2));
    }
    let mut view = WebView::new(Arc::clone(&hub) as Arc<dyn Publish>, "deadlock", "bench");
    let r = run::run_pair(cfg, &mut view).expect("the run starts");
    hub.publish(&run_frame(&r));
    server.close();
    let read: u64 = readers.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(read > 0, "the viewers were sent nothing");
    r
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn compare(name: &str, cfg: &PairConfig, runs: usize, measure: impl Fn(&RunResult) -> f64) {
    let (mut none, mut ten) = (Vec::new(), Vec::new());
    for i in 0..runs * 2 {
        // Alternated as ABBA, so that a change in the machine's load, and whatever the run before
        // left behind, falls on both kinds alike.
        let viewers = if matches!(i % 4, 0 | 3) { 0 } else { 10 };
        let r = one(cfg, viewers);
        let m = measure(&r);
        if viewers == 0 { &mut none } else { &mut ten }.push(m);
    }
    let (a, a0, a1) = median(none);
    let (b, b0, b1) = median(ten);
    println!(
        "{name}: no page {a:.1} ({a0:.1}–{a1:.1}), 10 viewers {b:.1} ({b0:.1}–{b1:.1}); ratio {:.3}",
        b / a
    );
}

/// The binary's peak RSS (VmHWM, KiB) over a slow run and its linger, with `viewers` attached.
fn peak_rss(viewers: usize) -> u64 {
    let mut child = Command::new(TCPLAB)
        .args([
            "deadlock",
            "--web",
            "0",
            "--web-linger",
            "2s",
            "--sndbuf",
            "16K",
            "--rcvbuf",
            "16K",
            "--pace",
            "48KiB/s",
            "--json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcplab");
    let pid = child.id();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("the announced address");
    let readers: Vec<_> = (0..viewers).map(|_| viewer(addr)).collect();
    // The linger line comes after the run: every viewer has had the whole run and its end.
    let mut hwm = 0;
    loop {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.contains("stays at") {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
        }
    }
    assert_eq!(child.wait().unwrap().code(), Some(3));
    let read: Vec<u64> = readers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(read.iter().all(|&n| n > 0), "a viewer was sent nothing");
    hwm
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    println!("{runs} runs of each kind, alternated");
    compare(
        "time to the verdict, default naive run (ms)",
        &config(&["deadlock"]),
        runs,
        |r| r.stall.as_ref().expect("a deadlock").verdict_ms as f64,
    );
    compare(
        "throughput, --strategy reader-thread --bytes 32MiB (MiB/s)",
        &config(&[
            "deadlock",
            "--strategy",
            "reader-thread",
            "--bytes",
            "32MiB",
        ]),
        runs,
        |r| {
            assert_eq!(r.outcome, tcplab::result::Outcome::Completed);
            r.settings.bytes_total as f64 / (1 << 20) as f64 / (r.timings.elapsed_ms as f64 / 1e3)
        },
    );
    for v in [0, 64] {
        let kib = peak_rss(v);
        println!(
            "peak RSS of tcplab deadlock --web with {v} viewers: {kib} KiB ({:.1} MiB)",
            kib as f64 / 1024.0
        );
    }
}
