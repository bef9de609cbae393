//! The catalogue's subcommands: `list`, `show N`, `run N`.

use clap::Args;

use super::common::FormatArgs;

/// List the numbered experiments: number and title, one line each.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Example: tcplab list")]
pub struct ListArgs {}

/// Print an experiment's page for the terminal: how to run it, what to watch, the questions; the
/// answers ("What happens and why") only with --answers, so you can think first.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Example: tcplab show 5")]
pub struct ShowArgs {
    /// The experiment's number (5) or name (deadlock), as 'tcplab list' shows them.
    pub experiment: String,
    /// Also print the answers: what happens and why.
    #[arg(long)]
    pub answers: bool,
}

/// Run an experiment: say what to watch, run its commands (each one as 'tcplab ... --json' in a
/// child process, its live view shown), and check that it did what its page describes. Exits 0
/// when it did, 1 when it did not.
#[derive(Debug, Clone, Args)]
#[command(after_help = concat!(
    "Exit codes:
  0    the experiment did what its page describes
  1    it did not, or it cannot run here (a program it needs, such as python3, is not on PATH)
  2    no such experiment
", signal_codes!(), "
       the running command is stopped the same way

Example: tcplab run 5"))]
pub struct RunArgs {
    /// The experiment's number (5) or name (deadlock), as 'tcplab list' shows them.
    pub experiment: String,
    /// With json: one JSON document on stdout: the experiment, each command's outcome, and
    /// whether it passed (hides the live views).
    #[command(flatten)]
    pub format: FormatArgs,
    /// No live view and no per-command reports; only one line per command and the verdict.
    #[arg(long, short)]
    pub quiet: bool,
}
