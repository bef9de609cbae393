//! Command-line types (clap derive) and nothing else: no I/O happens here.
//!
//! Each family of subcommands has its own file; the options several commands share
//! (buffer knobs, traffic shape, output) live in `common.rs`.

/// The two exit codes of a stop by signal, shared by every command's exit-code list.
macro_rules! signal_codes {
    () => {
        "  130  stopped by Ctrl-C (SIGINT)
  143  stopped by SIGTERM (kill, timeout), the same clean stop"
    };
}

pub mod catalogue;
pub mod check;
pub mod classic;
pub mod common;
pub mod files;
pub mod lab;
pub mod load;
pub mod sweep;
pub mod watch;
pub mod web;

use clap::{Parser, Subcommand};

pub const EXIT_CODES: &str = concat!(
    "Exit codes:
  0    done as intended (a run that completed; a 'run N' whose expectation held)
  1    it ran and failed (refused connection, port in use, peer reset, timeout, an expectation that did not hold)
  2    it could not start (bad arguments)
  3    a deadlock was detected (deadlock, client, halfclose --no-shutdown, check)
",
    signal_codes!(),
    "\n       sockets are shut down, threads and child processes end, and what had moved is printed"
);

/// A teaching lab for TCP socket buffers: an uppercase-echo server, a client that sends 16-byte
/// chunks without reading, and the deadlock their full buffers produce — shown live, detected,
/// explained from the kernel's own queues, and fixed.
#[derive(Debug, Parser)]
#[command(name = "tcplab", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Deadlock(lab::DeadlockArgs),
    Server(lab::ServerArgs),
    Client(lab::ClientArgs),
    Sixteen(classic::SixteenArgs),
    Blocks(classic::BlocksArgs),
    Dribble(classic::DribbleArgs),
    Halfclose(classic::HalfcloseArgs),
    List(catalogue::ListArgs),
    Show(catalogue::ShowArgs),
    Run(catalogue::RunArgs),
    Files(files::FilesArgs),
    Sweep(sweep::SweepArgs),
    Load(load::LoadArgs),
    Replay(lab::ReplayArgs),
    Watch(watch::WatchArgs),
    Check(check::CheckArgs),
}

#[cfg(test)]
mod format_tests {
    use clap::Parser;

    use super::{Cli, Command, check::CheckWhat};
    use crate::format::Format;

    /// The format each command that prints a document was asked for.
    fn format_of(args: &[&str]) -> Format {
        let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        match cli.command {
            Command::Deadlock(a) => a.output.format.get(),
            Command::Watch(a) => a.format.get(),
            Command::Check(a) => match a.what {
                CheckWhat::Client(c) => c.common.format.get(),
                CheckWhat::Server(s) => s.common.format.get(),
            },
            Command::Sweep(a) => a.format.get(),
            Command::Load(a) => a.format.get(),
            _ => unreachable!("not one of the five"),
        }
    }

    /// `--json` is kept for scripts: it is the same parsed value as `--format json`, so every
    /// command gives the same document for both (each reads its format through
    /// `FormatArgs::get` only).
    #[test]
    fn json_is_format_json_for_deadlock_watch_check_sweep_and_load() {
        let commands: [&[&str]; 6] = [
            &["tcplab", "deadlock"],
            &["tcplab", "watch", "--port", "1060"],
            &["tcplab", "check", "client", "--", "true"],
            &["tcplab", "check", "server", "--", "true"],
            &["tcplab", "sweep", "--buffers", "4K"],
            &["tcplab", "load"],
        ];
        for cmd in commands {
            let (head, tail) = match cmd.iter().position(|a| *a == "--") {
                Some(i) => cmd.split_at(i),
                None => (cmd, &[][..]),
            };
            let with = |flags: &[&str]| {
                let mut v: Vec<&str> = head.to_vec();
                v.extend_from_slice(flags);
                v.extend_from_slice(tail);
                format_of(&v)
            };
            assert_eq!(with(&["--json"]), Format::Json, "{cmd:?}");
            assert_eq!(with(&["--format", "json"]), Format::Json, "{cmd:?}");
            assert_eq!(with(&[]), Format::Text, "{cmd:?}");
        }
        assert!(
            Cli::try_parse_from(["tcplab", "deadlock", "--json", "--format", "text"]).is_err(),
            "--json and --format together are refused"
        );
    }
}
