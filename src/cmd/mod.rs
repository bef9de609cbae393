//! One handler per subcommand: turns parsed arguments into a configuration, runs it through the
//! engine, hands the result to a view in `report`, and says how the process should exit.

#[cfg(target_os = "linux")]
pub mod check;
pub mod classic;
pub mod client;
pub mod deadlock;
pub mod list;
pub mod load;
pub mod outputs;
pub mod replay;
pub mod run;
pub mod server;
pub mod show;
pub mod sweep;
#[cfg(target_os = "linux")]
pub mod watch;
pub mod web;

use std::io::{self, Write};

use crate::report::{self, progress};
use crate::result::RunResult;
use crate::sock;

/// Arguments that parsed but cannot work together or here (two outputs to one file, an address
/// off this machine). `main` prints the line and exits 2, as for clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The one-process runs (`deadlock`, `sweep`) and the load test keep both ends on this machine:
/// refuse an address other than loopback (`what` is how the user gave it, e.g. `--host`).
pub fn loopback_only(host: &str, what: &str, command: &str) -> anyhow::Result<()> {
    let addr = sock::resolve(host, 0)?;
    if addr.ip().is_loopback() {
        return Ok(());
    }
    let given = if what.is_empty() {
        format!("'{host}'")
    } else {
        format!("{what} '{host}'")
    };
    Err(Usage(format!(
        "cannot run on {given}: '{command}' runs on loopback only, and {} is not a loopback \
         address; use 127.0.0.1 or ::1 (across two hosts, run 'tcplab server' on one and \
         'tcplab client' on the other)",
        addr.ip()
    ))
    .into())
}

/// Loads the catalogue and picks the experiment a student named (number or slug). A miss prints
/// the one-line error and yields `None`, which `show` and `run` turn into exit code 2.
pub fn experiment(query: &str) -> anyhow::Result<Option<crate::catalogue::Experiment>> {
    let mut list = crate::catalogue::load()?;
    let found = crate::catalogue::find(&list, query).map(|e| e.number);
    match found {
        Ok(n) => Ok(list
            .iter()
            .position(|e| e.number == n)
            .map(|i| list.swap_remove(i))),
        Err(not_found) => {
            eprintln!(
                "{}",
                report::wrap::for_stderr(&format!("tcplab: {not_found}"))
            );
            Ok(None)
        }
    }
}

/// Writes a run result as JSON or text to stdout (and, for a run `tcplab run` watches, the text
/// on stderr as well). The events are listed first unless the live view told them already.
pub fn print_run(result: &RunResult, json: bool, shown_live: bool) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let text = || -> io::Result<String> {
        let mut t = Vec::new();
        // The story first, then the summary, so the summary's last line (what the exit code
        // means) is the last line printed.
        if !shown_live {
            report::text::write_events(result, &mut t)?;
            writeln!(t)?;
        }
        report::text::write_run(result, &mut t)?;
        Ok(String::from_utf8_lossy(&t).into_owned())
    };
    if json {
        if progress::watched_by_runner() {
            write!(
                io::stderr().lock(),
                "{}",
                report::wrap::wrap(&text()?, report::wrap::stderr_width(), "    ")
            )?;
        }
        report::json::write_run(result, &mut out)?;
    } else {
        write!(out, "{}", report::wrap::for_stdout(&text()?))?;
    }
    out.flush()
}
