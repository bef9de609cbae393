//! One handler per subcommand: turns parsed arguments into a configuration, runs it, prints a view
//! of the result, and says how the process should exit.

pub mod client;
pub mod deadlock;
pub mod load;
pub mod server;

use std::io::{self, Write};

use crate::report;
use crate::result::RunResult;

/// Writes a run result as JSON or text to stdout.
pub fn print_run(result: &RunResult, json: bool) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if json {
        report::json::write_run(result, &mut out)?;
    } else {
        report::text::write_run(result, &mut out)?;
    }
    out.flush()
}
