//! Throughput and memory of `tcplab deadlock --strategy reader-thread` against a bare std::net
//! program doing the same system calls: the same 16-byte writes, the same 1024-byte reads, an
//! uppercase-echo server thread and a reader thread, with no counters, no watcher, no probes.
//!
//! ```text
//! cargo bench --bench throughput                 # 64 MiB, 5 runs each, plus memory at 64 MiB..1 GiB
//! cargo bench --bench throughput -- --runs 3 --bytes 32MiB --memory-up-to 256MiB
//! ```
//!
//! Prints the median throughput of each, the ratio, and each tcplab run's peak RSS (from wait4).
#![allow(unsafe_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TCPLAB: &str = env!("CARGO_BIN_EXE_tcplab");
const MESSAGE: &[u8; 16] = b"capitalize this!";

/// The bare program: one process, three threads, plain std::net, same syscall sizes.
fn bare(total: u64) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            buf[..n].make_ascii_uppercase();
            s.write_all(&buf[..n]).unwrap();
        }
        s.shutdown(Shutdown::Write).unwrap();
    });
    let client = TcpStream::connect(addr).unwrap();
    let mut reader = client.try_clone().unwrap();
    let rd = thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut got = 0u64;
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break got;
            }
            got += n as u64;
        }
    });
    let mut w = &client;
    for _ in 0..total / 16 {
        w.write_all(MESSAGE).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();
    assert_eq!(rd.join().unwrap(), total);
    server.join().unwrap();
    started.elapsed()
}

/// One tcplab run as a child process: wall time and peak RSS (KiB) from wait4.
/// The child is reaped by wait4 (which gives its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn tcplab(total: u64) -> (Duration, u64) {
    let started = Instant::now();
    let child = Command::new(TCPLAB)
        .args([
            "deadlock",
            "--strategy",
            "reader-thread",
            "--sndbuf",
            "auto",
            "--rcvbuf",
            "auto",
            "--quiet",
        ])
        .args(["--bytes", &total.to_string(), "--timeout", "600s"])
        .stdout(Stdio::null())
        .spawn()
        .expect("cannot start tcplab");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of that plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; status and usage point at live locals.
    let rc = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(rc, child.id() as i32, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "tcplab did not complete: {status}"
    );
    (elapsed, usage.ru_maxrss as u64)
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / (1 << 20) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn size_arg(args: &[String], flag: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(|s| tcplab::units::ByteSize::parse(s).expect("a size").bytes())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return; // cargo bench --list
    }
    let runs = size_arg(&args, "--runs", 5) as usize;
    let total = size_arg(&args, "--bytes", 64 << 20);
    let mem_max = size_arg(&args, "--memory-up-to", 1 << 30);
    println!(
        "throughput: {} MiB, 16-byte writes, 1024-byte reads, {runs} runs each (alternating)",
        total >> 20
    );
    let (mut b, mut t) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let bd = bare(total);
        let (td, rss) = tcplab(total);
        b.push(mib_per_s(total, bd));
        t.push(mib_per_s(total, td));
        println!(
            "  run {}: bare {:.2} MiB/s ({:.2} s), tcplab {:.2} MiB/s ({:.2} s, peak RSS {} KiB)",
            i + 1,
            b[i],
            bd.as_secs_f64(),
            t[i],
            td.as_secs_f64(),
            rss
        );
    }
    let (mb, mt) = (median(b), median(t));
    println!(
        "median: bare {mb:.2} MiB/s, tcplab {mt:.2} MiB/s, ratio {:.3}",
        mt / mb
    );
    println!("peak memory of tcplab (wait4 ru_maxrss) by --bytes:");
    let mut size = 64u64 << 20;
    while size <= mem_max {
        let (d, rss) = tcplab(size);
        println!(
            "  {:>5} MiB: {:>6} KiB peak RSS ({:.1} s)",
            size >> 20,
            rss,
            d.as_secs_f64()
        );
        size *= 4;
    }
}
