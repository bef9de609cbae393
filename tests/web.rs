//! The live view in a real browser: runs the Node test in `tests/web/` (node:test, headless
//! Chromium from the npm package `@sparticuz/chromium`, driven by `puppeteer-core`, both pinned in
//! its package-lock.json) against this build's tcplab binary, then checks each byte count the page
//! showed against humansize itself.
//!
//! It installs the two packages with `npm ci` when `tests/web/node_modules` is missing. Where Node,
//! npm or the browser cannot be had, it fails and says so: a browser test that cannot run has not
//! passed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// The whole Node run: two tcplab runs, a class of four clients, a browser; about 15 s when warm.
const NODE_BOUND: Duration = Duration::from_secs(300);
const NPM_BOUND: Duration = Duration::from_secs(600);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("web")
}

/// Runs `cmd` with a bound; its output goes to files, so that a chatty child cannot fill a pipe.
fn run(mut cmd: Command, bound: Duration, what: &str, out: &Path) -> (bool, String) {
    let log = std::fs::File::create(out).expect("create a log file");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("clone the log"))
        .stderr(log)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!(
            "{what} could not be started: {e}. The browser test needs Node.js 18 or later with \
             npm on the PATH (apt-get install nodejs npm); it does not pass without them."
        ),
    };
    let status = match child.wait_timeout(bound).expect("wait for the child") {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let text = std::fs::read_to_string(out).unwrap_or_default();
            panic!("{what} did not end within {bound:?}; its output:\n{text}");
        }
    };
    (
        status.success(),
        std::fs::read_to_string(out).unwrap_or_default(),
    )
}

#[test]
fn the_live_view_in_a_real_browser_shows_the_runs_own_numbers() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web");
    std::fs::create_dir_all(&out).expect("create the output folder");
    if !dir().join("node_modules").join("puppeteer-core").exists() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir());
        let (ok, text) = run(npm, NPM_BOUND, "npm ci", &out.join("npm.log"));
        assert!(
            ok,
            "npm ci in tests/web failed, so the browser test cannot run (it needs the npm \
             registry once, to install @sparticuz/chromium and puppeteer-core):\n{text}"
        );
    }
    let mut node = Command::new("node");
    node.args(["--test", "--test-reporter=spec"])
        .current_dir(dir())
        .env("TCPLAB_BIN", env!("CARGO_BIN_EXE_tcplab"))
        .env("TCPLAB_WEB_OUT", &out);
    let (ok, text) = run(node, NODE_BOUND, "node --test", &out.join("node.log"));
    assert!(ok, "the browser test failed:\n{text}");
    println!("{text}");

    // The page formats sizes in JavaScript: each one must read as humansize prints it.
    let shown = std::fs::read_to_string(out.join("deadlock-texts.json"))
        .expect("the browser test writes the texts it read");
    let shown: Vec<(u64, String)> = serde_json::from_str(&shown).expect("pairs of bytes and text");
    assert!(
        shown.len() >= 25,
        "four gauges, eight ledger rows, thirteen edge values"
    );
    for (bytes, text) in shown {
        assert_eq!(text, tcplab::report::human(bytes), "{bytes} bytes");
    }
    for size in ["1280x720", "1920x1080"] {
        for view in ["deadlock", "dashboard"] {
            let shot = out.join(format!("{view}-{size}.png"));
            let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
            assert!(len > 10_000, "{} is missing or empty", shot.display());
        }
    }
}

/// A viewer that asks for the stream and never reads it, with a tiny receive buffer.
fn stalled_viewer(url: &str) -> std::net::TcpStream {
    use std::io::Write;
    let addr: std::net::SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("the announced address");
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(2048).unwrap();
    s.connect(&addr.into()).expect("connect to the live view");
    let mut s: std::net::TcpStream = s.into();
    write!(s, "GET /events HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    s
}

#[test]
fn a_stalled_viewer_leaves_the_run_its_verdict_and_its_exit_code() {
    use std::io::{BufRead, BufReader, Read};
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcplab"))
        .args([
            "deadlock",
            "--web",
            "0",
            "--web-linger",
            "0",
            "--sndbuf",
            "16K",
            "--rcvbuf",
            "16K",
            "--pace",
            "64KiB/s",
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tcplab");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).expect("a first stderr line");
    let url = first
        .trim()
        .strip_prefix("tcplab: live view at ")
        .unwrap_or_else(|| panic!("the first stderr line gives the URL: {first:?}"))
        .to_string();
    let stalled: Vec<_> = (0..3).map(|_| stalled_viewer(&url)).collect();
    let status = match child.wait_timeout(Duration::from_secs(60)).unwrap() {
        Some(s) => s,
        None => {
            let _ = child.kill();
            panic!("the run did not end within 60 s with stalled viewers attached");
        }
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut rest = String::new();
    let _ = err.read_to_string(&mut rest);
    assert_eq!(
        status.code(),
        Some(3),
        "stdout:\n{out}\nstderr:\n{first}{rest}"
    );
    let result: serde_json::Value = serde_json::from_str(&out).expect("the run's JSON");
    assert_eq!(result["outcome"], "deadlock");
    assert!(result["ledger"]["forward"]["holds"].as_bool().unwrap());
    drop(stalled);
}

#[test]
fn a_web_address_that_is_not_one_is_a_one_line_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_tcplab"))
        .args(["deadlock", "--web", "http://localhost:8080"])
        .output()
        .expect("run tcplab");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("is not a port or an address with a port"),
        "{err}"
    );
}
