//! Ctrl-C: a flag the handler sets and every wait loop checks, so a run can stop its sockets,
//! join its threads and print what had moved instead of dying mid-line.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler once; a failure (a handler already set) leaves the default behaviour.
pub fn install() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Relaxed));
}

pub fn requested() -> bool {
    INTERRUPTED.load(Relaxed)
}
