//! `tcplab check`: a student's client and server graded against tcplab's half of the lab. The
//! classic naive Python client deadlocks (blocked in sendto, at a byte count); the threaded and
//! selectors fixes pass at 8 MiB; the classic Python server passes and each broken one fails,
//! naming the first wrong byte or the missing bytes; every bad input is one line with its exit
//! code, and no program is left running afterwards.

mod common;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Bound on one check of a Python program that moves megabytes in 16-byte writes.
const HEAVY_DEADLINE: Duration = Duration::from_secs(120);
/// Bound on a check that ends within a second or two.
const QUICK_DEADLINE: Duration = Duration::from_secs(30);

/// The checks that keep a Python process busy sending megabytes run one at a time, so that on a
/// busy 2-core machine they do not slow each other down.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn solution(name: &str) -> String {
    require_python();
    format!(
        "{}/experiments/solutions/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn fixture(name: &str) -> String {
    require_python();
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `tcplab check client --json ARGS -- python3 SCRIPT {host} {port} {bytes}`.
fn check_client(args: &[&str], script: &str) -> Output {
    tcplab(&["check", "client", "--json"])
        .args(args)
        .args(["--", "python3", script, "{host}", "{port}", "{bytes}"])
        .deadline(HEAVY_DEADLINE)
        .run()
}

/// `tcplab check server --json -- python3 SCRIPT [server] {host} -p {port}`.
fn check_server(script: &str, role: Option<&str>) -> Output {
    tcplab(&["check", "server", "--json", "--", "python3", script])
        .args(role)
        .args(["{host}", "-p", "{port}"])
        .deadline(HEAVY_DEADLINE)
        .run()
}

fn only_run(doc: &Value) -> &Value {
    let runs = doc["runs"].as_array().expect("runs");
    runs.last().expect("at least one run")
}

/// Whether a process with this id still exists (a zombie counts: it has not been reaped).
fn exists(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Python processes whose command line contains `marker` (tcplab's own command line, which holds
/// the checked command, is not one of them).
fn running_with(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                // The first word may be a full path (a pyenv shim execs one).
                let program = c.split('\0').next().unwrap_or("");
                let name = program.rsplit('/').next().unwrap_or("");
                name.starts_with("python") && c.contains(marker)
            })
        })
        .collect()
}

#[test]
fn the_naive_python_client_deadlocks_blocked_in_sendto_with_a_report_and_nothing_left_running() {
    let _one = heavy();
    let dir = std::env::temp_dir().join(format!("tcplab-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let md = dir.join("naive.md");
    let out = check_client(
        &["--bytes", "64MiB", "--report", md.to_str().unwrap()],
        &solution("naive_client.py"),
    );
    out.assert_code(3);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "deadlocked", "{}", out.dump());
    let run = only_run(&doc);
    assert_eq!(run["verdict"]["kind"], "deadlock", "{run}");
    // At a byte count: more than fits in a few buffers, far less than asked for.
    let sent = run["counts"]["client_sent_bytes"].as_u64().unwrap();
    assert!((1 << 20..64 << 20).contains(&sent), "sent {sent}\n{run}");
    assert_eq!(run["counts"]["client_received_bytes"], 0, "{run}");
    let evidence = run["verdict"]["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["fact"] == "client_blocked_in_send"),
        "{run}"
    );
    let threads = run["threads"].as_array().unwrap();
    let client = threads
        .iter()
        .find(|t| t["side"] == "client")
        .unwrap_or_else(|| panic!("no client thread: {run}"));
    assert_eq!(client["syscall"], "sendto", "{client}");
    assert_eq!(client["on_socket"], true, "{client}");
    let server = threads.iter().find(|t| t["side"] == "server").unwrap();
    assert_eq!(server["name"], "tcplab-server", "{server}");
    assert_eq!(run["ledger"]["forward"]["holds"], true, "{run}");
    // Ended by tcplab, and reaped: its process id is gone.
    assert!(!run["process"]["stopped_with"].is_null(), "{run}");
    assert!(!exists(client["pid"].as_u64().unwrap()), "{run}");
    // The lab report, and the timeline beside it.
    let report = std::fs::read_to_string(&md).expect("the report was written");
    for want in [
        "**deadlocked**",
        "sendto",
        "```text",
        "![timeline](naive.svg)",
    ] {
        assert!(
            report.contains(want),
            "no {want:?} in the report:\n{report}"
        );
    }
    let svg = std::fs::read_to_string(dir.join("naive.svg")).expect("the timeline was written");
    roxmltree::Document::parse(&svg).expect("the timeline is well-formed SVG");
    for written in [md.clone(), dir.join("naive.svg")] {
        let line = format!("wrote {}", written.display());
        assert!(
            out.stderr.lines().any(|l| l == line),
            "no '{line}' on stderr\n{}",
            out.dump()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_threaded_python_client_passes_at_8_mib() {
    let _one = heavy();
    let out = check_client(&["--bytes", "8MiB"], &solution("threaded_client.py"));
    out.assert_code(0);
    let doc: Value = out.json();
    let run = only_run(&doc);
    assert_eq!(run["outcome"], "passed", "{run}");
    assert_eq!(run["server_received_bytes"], 8 << 20, "{run}");
    assert_eq!(run["server_echoed_bytes"], 8 << 20, "{run}");
    assert_eq!(run["process"]["exit_code"], 0, "{run}");
}

#[test]
fn the_selectors_python_client_passes_at_8_mib() {
    let _one = heavy();
    let out = check_client(&["--bytes", "8MiB"], &solution("selectors_client.py"));
    out.assert_code(0);
    let doc: Value = out.json();
    let run = only_run(&doc);
    assert_eq!(run["server_echoed_bytes"], 8 << 20, "{run}");
    assert_eq!(run["process"]["exit_code"], 0, "{run}");
}

#[test]
fn the_ladder_names_the_first_size_at_which_the_naive_client_deadlocks() {
    let _one = heavy();
    let out = check_client(
        &["--ladder", "--max-bytes", "32MiB"],
        &solution("naive_client.py"),
    );
    out.assert_code(3);
    let doc: Value = out.json();
    let runs = doc["runs"].as_array().unwrap();
    let (last, passed) = runs.split_last().unwrap();
    assert!(passed.iter().all(|r| r["outcome"] == "passed"), "{doc}");
    assert_eq!(last["outcome"], "deadlocked", "{doc}");
    // 16 KiB, 64 KiB, 256 KiB, 1 MiB and 4 MiB fit in Linux's default buffers.
    let first = doc["first_failure_bytes"].as_u64().unwrap();
    assert!(first >= 16 << 20, "{doc}");
    assert_eq!(last["bytes"], first);
}

#[test]
fn a_client_that_forgets_shutdown_hangs_with_both_sides_waiting_in_recv() {
    let out = check_client(&["--bytes", "64KiB"], &fixture("no_shutdown_client.py"));
    out.assert_code(1);
    let doc: Value = out.json();
    let run = only_run(&doc);
    assert_eq!(run["outcome"], "hung", "{run}");
    assert_eq!(run["hang"]["kind"], "both_wait_in_recv", "{run}");
    assert_eq!(run["server_echoed_bytes"], 64 << 10, "{run}");
    let waiting = run["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["call"] == "recv")
        .count();
    assert!(waiting >= 2, "both ends wait in recv(): {run}");
}

#[test]
fn a_client_that_crashes_is_reported_with_its_exit_code_and_last_stderr_line() {
    require_python();
    let program = "import socket, sys\n\
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
        s.sendall(b'capitalize this!')\n\
        raise SystemExit('the client gave up on purpose')";
    let out = tcplab(&["check", "client", "--json", "--", "python3", "-c", program])
        .args(["{host}", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let doc: Value = out.json();
    let run = only_run(&doc);
    assert_eq!(run["outcome"], "crashed", "{run}");
    assert_eq!(run["process"]["exit_code"], 1, "{run}");
    let tail = run["process"]["stderr_tail"].to_string();
    assert!(tail.contains("gave up on purpose"), "{run}");
}

#[test]
fn a_client_that_closes_with_echo_unread_fails_with_what_it_read_and_left() {
    require_python();
    // Sends and shuts down correctly, reads the first 2 KiB of the echo, waits until the rest of
    // it has arrived (FIONREAD), and closes without reading it.
    let program = "import fcntl, socket, struct, sys, termios, time\n\
        n = int(sys.argv[3])\n\
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
        s.sendall(b'x' * n)\n\
        s.shutdown(socket.SHUT_WR)\n\
        got = b''\n\
        while len(got) < 2048:\n    \
            got += s.recv(2048 - len(got))\n\
        unread = lambda: struct.unpack('i', fcntl.ioctl(s, termios.FIONREAD, b'0000'))[0]\n\
        while unread() < n - 2048:\n    \
            time.sleep(0.01)\n\
        s.close()";
    let out = tcplab(&["check", "client", "--json", "--bytes", "64KiB", "--"])
        .args(["python3", "-c", program, "{host}", "{port}", "{bytes}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let doc: Value = out.json();
    let run = only_run(&doc);
    assert_eq!(run["outcome"], "failed", "{run}");
    // Every byte reached tcplab's server and was echoed: only the client's socket, as the kernel
    // reported it destroyed, shows the echo it left.
    assert_eq!(run["server_echoed_bytes"], 65536, "{run}");
    let f = &run["shortfall"];
    assert_eq!(f["kind"], "echo_unread", "{run}");
    assert_eq!(f["read_bytes"], 2048, "{run}");
    assert_eq!(f["unread_bytes"], 65536 - 2048, "{run}");
}

#[test]
fn a_server_that_crashes_on_the_first_message_is_called_crashed_with_its_error() {
    require_python();
    let program = "import socket, sys\n\
        l = socket.socket()\n\
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        l.bind((sys.argv[1], int(sys.argv[2])))\n\
        l.listen()\n\
        c, _ = l.accept()\n\
        c.sendall(c.recv(1024).uper())";
    let out = tcplab(&["check", "server", "--json", "--", "python3", "-c", program])
        .args(["{host}", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "crashed", "{}", out.dump());
    assert_eq!(doc["server_process"]["exit_code"], 1, "{doc}");
    assert!(doc.to_string().contains("no attribute 'uper'"), "{doc}");
}

#[test]
fn the_classic_python_server_passes_every_size() {
    let _one = heavy();
    let out = check_server(&fixture("tcp_deadlock.py"), Some("server"));
    out.assert_code(0);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "passed", "{}", out.dump());
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps[0]["strategy"], "naive");
    assert!(steps.len() >= 2, "{doc}");
    for s in steps {
        assert_eq!(s["result"]["verification"]["matched"], true, "{s}");
    }
    assert!(!doc["server_process"]["stopped_with"].is_null(), "{doc}");
}

#[test]
fn a_server_that_drops_the_last_block_fails_naming_the_missing_bytes() {
    let out = check_server(&fixture("broken_server_drops.py"), None);
    out.assert_code(1);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "failed", "{}", out.dump());
    let step = doc["steps"].as_array().unwrap().last().unwrap();
    let p = &step["problem"];
    assert_eq!(p["kind"], "missing", "{step}");
    let (got, want) = (
        p["received_bytes"].as_u64().unwrap(),
        p["expected_bytes"].as_u64().unwrap(),
    );
    assert!(got < want && want - got <= 1024, "one block missing: {p}");
}

#[test]
fn a_server_that_lowercases_fails_at_the_first_byte() {
    let out = check_server(&fixture("broken_server_lowercase.py"), None);
    out.assert_code(1);
    let doc: Value = out.json();
    let step = doc["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(step["problem"]["kind"], "wrong_byte", "{step}");
    assert_eq!(step["problem"]["at_byte"], 0, "{step}");
    let text = tcplab(&["check", "server", "--", "python3"])
        .arg(fixture("broken_server_lowercase.py"))
        .args(["{host}", "-p", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    text.assert_code(1);
    assert!(
        text.stdout
            .contains("at byte 0 (the first wrong byte; 'C' was expected there)"),
        "{}",
        text.dump()
    );
}

#[test]
fn a_server_that_never_closes_hangs_once_the_whole_echo_is_back() {
    require_python();
    // Echoes correctly, but keeps every connection open after the client's end of stream.
    let program = "import socket, sys\n\
        l = socket.socket()\n\
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        l.bind((sys.argv[1], int(sys.argv[2])))\n\
        l.listen()\n\
        kept = []\n\
        while True:\n    \
            c, _ = l.accept()\n    \
            kept.append(c)\n    \
            while True:\n        \
                m = c.recv(1024)\n        \
                if not m:\n            \
                    break\n        \
                c.sendall(m.upper())\n";
    let out = tcplab(&["check", "server", "--json", "--stall-after", "1s", "--"])
        .args(["python3", "-c", program, "{host}", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "hung", "{}", out.dump());
    let step = doc["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(step["problem"]["kind"], "never_closes", "{step}");
}

#[test]
fn a_program_that_cannot_be_found_is_one_line_and_exit_2() {
    let out = tcplab(&["check", "client", "--", "no-such-program-tcplab", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(2);
    let line = out.one_error_line();
    assert!(
        line.contains("cannot start 'no-such-program-tcplab'"),
        "{line}"
    );
}

#[test]
fn a_client_that_exits_at_once_is_one_line_with_its_own_error() {
    require_python();
    let out = tcplab(&["check", "client", "--", "python3", "no-such-script.py"])
        .args(["{host}", "{port}", "{bytes}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(line.contains("before it connected to 127.0.0.1:"), "{line}");
    assert!(line.contains("no-such-script.py"), "{line}");
}

#[test]
fn a_port_in_use_is_one_line_for_both_checks() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().unwrap().port().to_string();
    for what in ["client", "server"] {
        let out = tcplab(&["check", what, "--port", &port, "--", "true", "{port}"])
            .deadline(QUICK_DEADLINE)
            .run();
        out.assert_code(1);
        let line = out.one_error_line();
        assert!(line.contains("address already in use"), "{line}");
        assert!(line.contains("try '--port 0'"), "{line}");
    }
}

#[test]
fn a_server_that_never_listens_is_one_line_within_the_bound_and_is_stopped() {
    require_python();
    let marker = format!("tcplab-never-listens-{}", std::process::id());
    let program = "import sys, time; time.sleep(60)";
    let out = tcplab(&["check", "server", "--listen-timeout", "1s", "--"])
        .args(["python3", "-c", program, "{port}", &marker])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(line.contains("never listened on 127.0.0.1:"), "{line}");
    assert!(line.contains("within 1 s"), "{line}");
    assert_eq!(running_with(&marker), Vec::<u32>::new(), "left running");
}

#[test]
fn a_command_without_a_port_or_a_ladder_without_bytes_is_a_usage_error() {
    for args in [
        vec!["check", "server", "--", "python3", "server.py"],
        vec![
            "check", "client", "--ladder", "--", "python3", "c.py", "{port}",
        ],
    ] {
        let out = tcplab(&args).deadline(QUICK_DEADLINE).run();
        out.assert_code(2);
        out.one_error_line();
    }
}

#[test]
fn a_report_in_a_missing_folder_is_refused_before_anything_runs() {
    let out = tcplab(&[
        "check",
        "client",
        "--report",
        "/no/such/folder/lab.md",
        "--",
        "true",
        "{port}",
    ])
    .deadline(QUICK_DEADLINE)
    .run();
    out.assert_code(1);
    assert!(
        out.one_error_line()
            .contains("cannot write '/no/such/folder/lab.md'")
    );
}

#[test]
fn ctrl_c_stops_and_reaps_the_client_and_says_so() {
    require_python();
    let marker = format!("tcplab-interrupted-{}", std::process::id());
    let program = "import socket, sys, time\n\
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
        time.sleep(60)";
    let mut check = tcplab(&["check", "client", "--json", "--stall-after", "60s", "--"])
        .args(["python3", "-c", program, "{host}", "{port}", &marker])
        .deadline(QUICK_DEADLINE)
        .spawn();
    // The client is running and connected: it holds a socket.
    check.wait_for(Duration::from_secs(20), "the client connected", |_| {
        running_with(&marker).iter().any(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                })
        })
    });
    let out = check.interrupt(QUICK_DEADLINE);
    out.assert_code(130);
    let doc: Value = out.json();
    assert_eq!(doc["outcome"], "interrupted", "{}", out.dump());
    assert_eq!(running_with(&marker), Vec::<u32>::new(), "left running");
}

/// What a program prints may hold terminal escape codes (colour, clear screen, a window title):
/// the check shows them as text, in the error line of a program that never connected and in the
/// report of one that crashed, and the terminal obeys none of them.
#[test]
fn a_programs_escape_codes_are_shown_not_obeyed() {
    const SAY: &str = "sys.stderr.write('boom \\x1b[2J\\x1b]0;pwned\\x07 tail\\n')\n";
    const SHOWN: &str = r"boom \x1b[2J\x1b]0;pwned\x07 tail";
    let early = format!("import sys\n{SAY}raise SystemExit(2)");
    let out = tcplab(&["check", "client", "--", "python3", "-c", &early, "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    let line = out.one_error_line();
    assert!(line.contains(SHOWN), "{}", out.dump());
    let crash = format!(
        "import socket, sys\n\
         s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
         s.sendall(b'capitalize this!')\n{SAY}raise SystemExit(3)"
    );
    let out = tcplab(&["check", "client", "--", "python3", "-c", &crash])
        .args(["{host}", "{port}"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(1);
    assert!(out.stdout.contains(SHOWN), "{}", out.dump());
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains('\x1b') && !text.contains('\x07'),
            "{}",
            out.dump()
        );
    }
}

/// A server that listens on one family while the check connects over the other (0.0.0.0 with
/// `--host ::1`, ::1 only with the default 127.0.0.1): the line says which address it took and
/// what to try, and does not advise starting a server; the program is stopped.
#[test]
fn a_server_on_the_other_address_family_is_told_what_fits() {
    require_python();
    let cases = [
        (
            "::1",
            "socket.socket()",
            "'0.0.0.0'",
            "it takes IPv4 only: try '--host 127.0.0.1', or make it listen on '::'",
        ),
        (
            "127.0.0.1",
            "socket.socket(socket.AF_INET6); l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)",
            "'::1'",
            "it takes IPv6 only: try '--host ::1', or make it listen on '0.0.0.0'",
        ),
    ];
    for (host, make, bind, advice) in cases {
        let marker = format!("tcplab-other-family-{}", std::process::id());
        let program = format!(
            "import socket, sys, time\nl = {make}\nl.bind(({bind}, int(sys.argv[1])))\n\
             l.listen()\ntime.sleep(60)"
        );
        let out = tcplab(&["check", "server", "--host", host, "--"])
            .args(["python3", "-c", &program, "{port}", &marker])
            .deadline(QUICK_DEADLINE)
            .run();
        out.assert_code(1);
        let line = out.one_error_line();
        assert!(
            line.contains("which does not take connections to"),
            "{line}"
        );
        assert!(line.contains(advice), "{line}");
        assert!(!line.contains("tcplab server"), "{line}");
        assert_eq!(running_with(&marker), Vec::<u32>::new(), "left running");
    }
}

/// On a terminal, a check of a slow client shows what has moved while it runs (a status line
/// through the progress factory), not only its header. The terminal is a pseudo-terminal made by
/// `script` (util-linux); without it the test says why it skips.
#[test]
fn a_slow_client_shows_its_progress_on_a_terminal() {
    require_python();
    if !on_path("script") {
        eprintln!("skipped: 'script' (util-linux) is not on PATH to make a terminal");
        return;
    }
    let slow = "import socket, sys, time, threading\n\
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))\n\
        t = threading.Thread(target=lambda: [None for _ in iter(lambda: s.recv(65536), b'')])\n\
        t.start()\n\
        for _ in range(8):\n    s.sendall(b'x' * 8192); time.sleep(0.25)\n\
        s.shutdown(socket.SHUT_WR); t.join()\n";
    let dir = scratch("check-progress");
    let program = dir.join("slow.py");
    std::fs::write(&program, slow).unwrap();
    let command = format!(
        "stty cols 100; {BIN} check client --bytes 64K -- python3 {} {{host}} {{port}} {{bytes}}",
        program.display()
    );
    let out = Cmd::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .deadline(QUICK_DEADLINE)
        .run();
    out.assert_code(0);
    assert!(out.stdout.contains("PASSED"), "{}", out.dump());
    assert!(
        out.stdout.contains("client sent ") && out.stdout.contains(" back"),
        "no progress was shown\n{}",
        out.dump()
    );
}
