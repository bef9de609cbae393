//! Parses the arguments, runs the subcommand, turns its outcome into an exit code, and prints any
//! error as one line: `tcplab: what failed: why; what to try`.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use tcplab::cli::{Cli, Command};
use tcplab::{cmd, interrupt, report};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    interrupt::install();
    let result = match &cli.command {
        Command::Deadlock(a) => cmd::deadlock::main(a),
        Command::Server(a) => cmd::server::main(a),
        Command::Client(a) => cmd::client::main(a),
        Command::Sixteen(a) => cmd::classic::sixteen(a),
        Command::Blocks(a) => cmd::classic::blocks(a),
        Command::Dribble(a) => cmd::classic::dribble(a),
        Command::Halfclose(a) => cmd::classic::halfclose(a),
        Command::List(a) => cmd::list::main(a),
        Command::Show(a) => cmd::show::main(a),
        Command::Run(a) => cmd::run::main(a),
        Command::Files(a) => cmd::files::main(a),
        Command::Sweep(a) => cmd::sweep::main(a),
        Command::Load(a) => cmd::load::main(a),
        Command::Replay(a) => cmd::replay::main(a),
        Command::Watch(a) => cmd::watch::main(a),
        Command::Check(a) => cmd::check::main(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            say(format!("tcplab: {}", report::errors::line(&e)));
            ExitCode::from(if report::errors::is_usage(&e) { 2 } else { 1 })
        }
    }
}

/// clap's errors span several lines (usage, tips); a student gets one: the cause, then the hint.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind::*;
    if matches!(
        e.kind(),
        DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    if let Some(line) = negative_value(&e) {
        say(format!("tcplab: {line}; see 'tcplab --help'"));
        return ExitCode::from(2);
    }
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    say(format!("tcplab: {}; see 'tcplab --help'", parts.join("; ")));
    ExitCode::from(2)
}

/// clap reads `--bytes -4K` as an unknown flag `-4` and suggests `-- -4K`, which does not work
/// for an option's value. Say instead that the value may not be negative, naming the option.
fn negative_value(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let rest = arg.strip_prefix('-')?;
    if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    // clap names only the first "flag" of `-4K` ('-4'); quote the whole word as it was typed.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let at = args.iter().position(|a| a.starts_with(arg.as_str()));
    let typed = at.map_or(arg.as_str(), |i| args[i].as_str());
    let option = at
        .and_then(|i| i.checked_sub(1))
        .map(|i| args[i].as_str())
        .filter(|prev| prev.starts_with('-'));
    Some(match option {
        Some(opt) => {
            format!("invalid value '{typed}' for '{opt}': negative values are not accepted")
        }
        None => format!("unexpected argument '{typed}': negative values are not accepted"),
    })
}

/// The one error line on stderr: one line into a pipe or a log, wrapped at word boundaries (never
/// inside a word) when a person reads it on a terminal.
fn say(line: String) {
    eprintln!("{}", report::wrap::for_stderr(&line));
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
