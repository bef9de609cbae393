//! `tcplab watch`'s targets, measured:
//! - cost: with 200 connections open to one classroom server, how long one refresh of every
//!   connection takes and how much CPU the watching thread uses, refreshing 5 times a second;
//! - no false verdict in N healthy transfers (a reader-thread client at 64 KiB and at autotuned
//!   buffers), watched to their end with both cores kept busy by spinning threads;
//! - the verdict comes within 1 s of the last byte moved at 64 KiB buffers (a client that never
//!   reads, one of the load test's deadlocking clients, against a 64 KiB server).
//!
//! ```text
//! cargo bench --bench watch                      # 200 connections, 100 healthy, 20 deadlocks
//! cargo bench --bench watch -- --conns 50 --healthy 10 --deadlocks 5
//! ```

#![allow(unsafe_code)]

mod common;
use common::Burners;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tcplab::classroom::crowd::{self, Class};
use tcplab::sock::BufReq;
use tcplab::units::{BufSize, ByteSize};
use tcplab::watch::{Status, Target, Update, Watcher};
use tcplab::watchdog::DEFAULT_CONFIRM;

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");
const STEP: Duration = Duration::from_millis(100);

/// A `tcplab server` child, killed on drop.
struct Server(Child, SocketAddr);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(args: &[&str]) -> Server {
    let mut child = Command::new(TCPLAB)
        .args([
            "server",
            "127.0.0.1",
            "-p",
            "0",
            "--quiet",
            "--max-conns",
            "4096",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start tcplab server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    Server(child, addr)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: a zeroed timespec is a valid value, and clock_gettime writes one through the pointer.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: CLOCK_THREAD_CPUTIME_ID is valid for the calling thread; ts is a live local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn arg(args: &[String], flag: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn target(port: u16) -> Target {
    Target {
        port: Some(port),
        pid: None,
        host: None,
        confirm: DEFAULT_CONFIRM,
        threads_every: Duration::ZERO,
    }
}

/// `n` clients that send without reading and hold their sockets (the load test's class).
fn holders(addr: SocketAddr, n: u32, kib: u64, deadline: Duration) -> Class {
    let b = BufSize::Bytes(ByteSize(kib * 1024));
    Class {
        addr,
        clients: n,
        deadlocking: |_, _| true,
        fraction: 1.0,
        bytes: 0,
        hold_bytes: 1 << 30,
        chunk: 16,
        buffers: BufReq { snd: b, rcv: b },
        timeout: deadline,
        free_within: deadline,
    }
}

/// Many connections: refresh cost and CPU of the watching thread.
fn cost(conns: usize) {
    let srv = server(&[
        "--idle-timeout",
        "120s",
        "--sndbuf",
        "16K",
        "--rcvbuf",
        "16K",
    ]);
    let addr = srv.1;
    let class = holders(addr, conns as u32, 16, Duration::from_secs(40));
    let holders = thread::spawn(move || crowd::run(&class, &mut |_| {}));
    let mut w = Watcher::new(target(addr.port())).expect("sock_diag");
    w.set_threads_every(Duration::from_secs(1));
    let until = Instant::now() + Duration::from_secs(20);
    while w.conns().len() < conns && Instant::now() < until {
        w.step();
        thread::sleep(STEP);
    }
    let seen = w.conns().len();
    let (steps, period) = (50u32, Duration::from_millis(200));
    let cpu0 = thread_cpu();
    let wall0 = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..steps {
        let t = Instant::now();
        w.step();
        slowest = slowest.max(t.elapsed());
        thread::sleep(period.saturating_sub(t.elapsed()));
    }
    let wall = wall0.elapsed();
    let cpu = thread_cpu() - cpu0;
    let deadlocked = w
        .conns()
        .iter()
        .filter(|c| c.status == Status::Deadlocked)
        .count();
    println!(
        "cost: {seen} connections watched ({deadlocked} deadlocked), {steps} refreshes in {:.1} s = {:.1} per second; \
         slowest refresh {:.1} ms; watching thread CPU {:.1} ms = {:.1} % of a core",
        wall.as_secs_f64(),
        f64::from(steps) / wall.as_secs_f64(),
        slowest.as_secs_f64() * 1000.0,
        cpu.as_secs_f64() * 1000.0,
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    drop(srv);
    let _ = holders.join();
}

/// Healthy transfers, each watched to its end: any verdict is a false one.
fn healthy(runs: usize) {
    let _burn = Burners::start(thread::available_parallelism().map_or(2, |n| n.get()));
    let mut false_verdicts = 0;
    let mut watched = 0;
    for i in 0..runs {
        let size = if i % 2 == 0 { "64K" } else { "auto" };
        let srv = server(&["--sndbuf", size, "--rcvbuf", size]);
        let port = srv.1.port();
        let mut w = Watcher::new(target(port)).expect("sock_diag");
        let mut client = Command::new(TCPLAB)
            .args([
                "client",
                "-p",
                &port.to_string(),
                "--strategy",
                "reader-thread",
            ])
            .args([
                "--bytes", "8MiB", "--sndbuf", size, "--rcvbuf", size, "--json",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            for u in w.step() {
                if let Update::Verdict { conn } = u {
                    false_verdicts += 1;
                    println!("  FALSE VERDICT on run {i} ({size}), connection {conn}");
                }
            }
            let done = client.try_wait().unwrap().is_some();
            if done && w.conns().iter().all(|c| c.closed_cleanly.is_some())
                || Instant::now() > until
            {
                break;
            }
            thread::sleep(STEP);
        }
        let _ = client.wait();
        watched += w.conns().len();
    }
    println!(
        "healthy: {runs} reader-thread transfers of 8 MiB (64 KiB and autotuned buffers alternating), both cores busy: \
         {watched} connections watched, {false_verdicts} false verdicts"
    );
}

/// Deadlocks at 64 KiB: the verdict's distance from the last byte moved.
fn latency(runs: usize) {
    let mut lat = Vec::new();
    for _ in 0..runs {
        let srv = server(&[
            "--idle-timeout",
            "60s",
            "--sndbuf",
            "64K",
            "--rcvbuf",
            "64K",
        ]);
        let mut w = Watcher::new(target(srv.1.port())).expect("sock_diag");
        let class = holders(srv.1, 1, 64, Duration::from_secs(20));
        let h = thread::spawn(move || crowd::run(&class, &mut |_| {}));
        let until = Instant::now() + Duration::from_secs(20);
        'watch: while Instant::now() < until {
            for u in w.step() {
                if let Update::Verdict { conn } = u {
                    let c = &w.conns()[conn as usize - 1];
                    let (v, _) = c.verdict().unwrap();
                    lat.push(v.at.saturating_sub(v.last_progress).as_millis() as u64);
                    break 'watch;
                }
            }
            thread::sleep(STEP);
        }
        drop(srv);
        let _ = h.join();
    }
    lat.sort_unstable();
    let pct = |p: usize| {
        lat.get((lat.len() * p / 100).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "latency: {} of {runs} deadlocks at 64 KiB named; verdict after the last byte moved: median {} ms, p95 {} ms, max {} ms",
        lat.len(),
        pct(50),
        pct(95),
        lat.last().copied().unwrap_or(0)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }
    cost(arg(&args, "--conns", 200));
    healthy(arg(&args, "--healthy", 100));
    latency(arg(&args, "--deadlocks", 20));
}
