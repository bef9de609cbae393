//! Arguments that cannot work are refused before anything runs, in one line that says what was
//! wrong and what to type instead, with exit code 2 (issue 9, items 7 to 10).

mod common;

use std::time::Duration;

use common::*;

/// Runs `tcplab ARGS` and returns its one error line, after checking exit code 2.
fn refused(args: &[&str]) -> String {
    let out = tcplab(args).deadline(Duration::from_secs(20)).run();
    out.assert_code(2);
    out.one_error_line().to_owned()
}

#[test]
fn a_wrong_duration_says_what_was_wrong_with_it() {
    let cases: &[(&str, &str)] = &[
        ("0s", "must be more than zero"),
        ("1h", "unknown unit 'h': use ms, s or m"),
        ("1us", "unknown unit 'us': use ms, s or m"),
        ("1000000s", "at most 24 hours"),
        ("5", "needs a unit"),
    ];
    for (value, says) in cases {
        let line = refused(&["deadlock", "--timeout", value]);
        assert!(
            line.contains(&format!("'{value}'")) && line.contains(says),
            "--timeout {value}: {line}"
        );
        assert!(
            !line.contains("expected a duration with a unit"),
            "--timeout {value} got the old catch-all: {line}"
        );
    }
}

#[test]
fn a_negative_port_is_answered_with_the_range_not_with_a_double_dash() {
    for args in [
        &["server", "-p", "-1"][..],
        &["client", "-p", "-1"],
        &["sixteen", "server", "-p", "-1"],
        &["blocks", "client", "--port", "-1"],
    ] {
        let line = refused(args);
        assert!(
            line.contains("'-1'") && line.contains("a number from 0 to 65535"),
            "{args:?}: {line}"
        );
        assert!(!line.contains("-- -1"), "{args:?}: {line}");
    }
}

#[test]
fn other_negative_values_are_named_with_their_option() {
    for (args, option) in [
        (&["deadlock", "--bytes", "-4K"][..], "--bytes"),
        (&["server", "--connections", "-3"], "--connections"),
        (&["server", "--max-conns", "-1"], "--max-conns"),
    ] {
        let line = refused(args);
        assert!(line.contains(option), "{args:?}: {line}");
        assert!(!line.contains("use '--"), "{args:?}: {line}");
    }
}

#[test]
fn the_one_process_runs_and_the_load_test_refuse_addresses_off_loopback() {
    for (args, command) in [
        (&["deadlock", "--host", "0.0.0.0"][..], "tcplab deadlock"),
        (
            &["sweep", "--host", "::", "--buffers", "64K"],
            "tcplab sweep",
        ),
        (&["load", "0.0.0.0", "--clients", "2"], "tcplab load"),
    ] {
        let line = refused(args);
        assert!(
            line.contains(command)
                && line.contains("loopback only")
                && line.contains("127.0.0.1 or ::1")
                && line.contains("'tcplab server'"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn loopback_by_name_or_as_ipv6_is_accepted() {
    for host in ["localhost", "::1"] {
        let out = tcplab(&["deadlock", "--host", host, "--json", "--bytes", "64K"])
            .args(["--strategy", "poll"])
            .run();
        out.assert_code(0);
    }
}

#[test]
fn a_classic_server_on_every_interface_says_it_is_reachable_from_the_network() {
    for program in ["sixteen", "blocks"] {
        let mut server = tcplab(&[program, "server", "0.0.0.0", "-p", "0"]).spawn();
        let line = server.next_line(Duration::from_secs(20));
        assert_eq!(
            line,
            "note: 0.0.0.0 is reachable from the network, not only from this machine",
            "{}",
            server.dump()
        );
        server.wait_line(
            |l| l.starts_with("Listening at 0.0.0.0:"),
            Duration::from_secs(20),
        );
        server.interrupt(Duration::from_secs(20)).assert_code(130);
    }
}

#[test]
fn a_client_port_is_the_servers_port_and_never_0() {
    for program in [
        &["client"][..],
        &["sixteen", "client"],
        &["blocks", "client"],
    ] {
        let line = refused(&[program, &["-p", "0"]].concat());
        assert!(
            line.contains("port 0 is not a server's port; give the port the server announced"),
            "{program:?}: {line}"
        );
        assert!(
            !line.contains("-p 0'"),
            "{program:?} suggests port 0: {line}"
        );
        let help = tcplab(&[program, &["--help"]].concat()).run();
        help.assert_code(0);
        // The option's text, which may wrap onto the next lines.
        let at = help.stdout.find("--port").expect("a --port option");
        let port_help: String = help.stdout[at..].chars().take(160).collect();
        assert!(
            port_help.contains("Server port") && !port_help.contains("free one"),
            "{program:?}: {port_help}"
        );
    }
}

#[test]
fn an_error_wraps_at_word_boundaries_for_a_terminal_and_stays_one_line_in_a_pipe() {
    let port = refusing_port();
    let p = port.port.to_string();
    let cases: [(&[&str], i32); 2] = [
        (&["blocks", "demo", "--cut"], 2),
        (&["client", "--port", &p, "--bytes", "64K"], 1),
    ];
    for (args, code) in cases {
        let piped = tcplab(args).deadline(Duration::from_secs(20)).run();
        piped.assert_code(code);
        let line = piped.one_error_line();
        assert!(line.len() > 80, "{line}");
        for width in [80, 120] {
            let shown = tcplab(args)
                .env("COLUMNS", &width.to_string())
                .deadline(Duration::from_secs(20))
                .run();
            shown.assert_code(code);
            assert_wrapped(line, &shown.stderr, width);
            for more in shown.stderr.lines().skip(1) {
                assert!(
                    more.starts_with("    "),
                    "continuations are indented\n{}",
                    shown.dump()
                );
            }
        }
    }
}
