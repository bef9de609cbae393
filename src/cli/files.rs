//! `tcplab files DIR`: the command-line type; no I/O happens here.

use std::path::PathBuf;

use clap::Args;

/// Write the Python programs of experiments 14 and 15 into a folder, to read, edit and check
///
/// The classic pair (tcp_deadlock.py, experiment 14), the starting client naive_client.py and two
/// fixes, threaded_client.py and selectors_client.py (experiment 15). tcplab carries them, so this
/// works wherever tcplab is installed. Files that exist already are left alone unless --force is
/// given.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Exit codes:
  0    the programs were written
  1    a file could not be written (a folder you cannot write to)
  2    a program's file exists already (pass --force to overwrite it)

Example: tcplab files lab && tcplab check client -- python3 lab/naive_client.py {host} {port} {bytes}")]
pub struct FilesArgs {
    /// The folder to write into; it is created if missing.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Overwrite the programs' files if they exist already (your edits to them are lost).
    #[arg(long)]
    pub force: bool,
}
