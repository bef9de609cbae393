//! Ctrl-C and SIGTERM: a flag the handler sets and every wait loop checks, so a run can stop its
//! sockets, join its threads, write complete files and print what had moved instead of dying
//! mid-line. `timeout`, `kill` and service managers send SIGTERM, so it is treated like Ctrl-C;
//! each keeps its own exit code (128 + the signal number: 130 and 143).
//!
//! signal-hook sets the flag from the handler with one atomic store, which is all a signal handler
//! may safely do. A program that runs children of its own passes the stop on to them (`forward`).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static SIGNAL: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

const SIGINT: usize = 2;
const SIGTERM: usize = 15;

fn flag() -> &'static Arc<AtomicUsize> {
    SIGNAL.get_or_init(|| Arc::new(AtomicUsize::new(0)))
}

/// Installs the handlers once; a failure leaves the default behaviour (the process ends).
pub fn install() {
    let f = flag();
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register_usize(sig, Arc::clone(f), sig as usize);
    }
}

/// Whether Ctrl-C or SIGTERM asked the program to stop.
pub fn requested() -> bool {
    flag().load(Relaxed) != 0
}

/// The exit code of a run a signal stopped: 130 for Ctrl-C (SIGINT), 143 for SIGTERM.
pub fn exit_code() -> u8 {
    match flag().load(Relaxed) {
        SIGTERM => 143,
        _ => 130,
    }
}

/// Passes the signal that stopped this program (SIGINT if none did) on to a child that has not
/// exited, so the child stops the way it would have at the terminal. Sent with kill(1): the crate
/// keeps `unsafe` to the socket probes. Returns whether the signal was sent; a child that has
/// already exited is left to be reaped (its pid must not be signalled any more).
pub fn forward(child: &mut Child) -> bool {
    let sig = match flag().load(Relaxed) {
        SIGTERM => "TERM",
        _ => "INT",
    };
    send(child, sig)
}

/// Sends SIGINT (`"INT"`) or SIGTERM (`"TERM"`) to a child that has not exited.
pub fn send(child: &mut Child, sig: &str) -> bool {
    if !matches!(child.try_wait(), Ok(None)) {
        return false;
    }
    Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What stopped the program, as a person names it.
pub fn signal_name() -> &'static str {
    match flag().load(Relaxed) {
        SIGTERM => "SIGTERM",
        SIGINT => "Ctrl-C",
        _ => "Ctrl-C",
    }
}

/// Asks the kernel to send this process SIGTERM when `parent` (the process that started it) ends,
/// so a server started by the load test never outlives it. Fails when `parent` has already ended,
/// since no signal would come any more.
pub fn managed_by(parent: u32) -> std::io::Result<()> {
    use rustix::process::{Signal, getppid, set_parent_process_death_signal};
    set_parent_process_death_signal(Some(Signal::TERM))?;
    // Checked after the request, so a parent that ended before it is not missed.
    if getppid().map(|p| p.as_raw_nonzero().get() as u32) != Some(parent) {
        return Err(std::io::Error::other(format!(
            "process {parent}, which started this server, has already ended"
        )));
    }
    Ok(())
}
