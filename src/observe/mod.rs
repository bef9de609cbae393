//! Where samples come from. A `Sampler` turns one source of facts about a connection into the one
//! observation model (`crate::sample::Sample`); the follow step (`follow`), the watchdog, the
//! narrated events, the live view and the timeline read samples, not sources. What differs
//! between sources is said in the sample itself: a part a source cannot see is `None` (the other
//! process's socket, a thread's call it did not read this time), a thread's `phase` exists only
//! where the program keeps one (tcplab's own), and a thread's `pid`, `tid` and `syscall` only
//! where the source reads them from outside.
//!
//! - `own`: tcplab's own sockets and threads (ioctl, getsockopt, /proc/self/task), plus the app
//!   counters its I/O loops keep. It reads its threads' calls only when no counter moved or every
//!   100 ms, so a sample between two reads lacks them.
//! - `diag`: other programs' sockets, from the kernel's socket diagnostics and /proc; a program's
//!   counters are derived from the kernel's.

pub mod diag;
pub mod own;

use std::time::Duration;

use crate::result::Event;
use crate::sample::Sample;

/// One source of samples of one connection.
pub trait Sampler {
    /// Looks at the connection now; `at` is the time since the traffic started.
    fn sample(&mut self, at: Duration) -> Sample;
}

/// Receives every sample the watcher takes and every event the narrator tells (the live view, the
/// timeline recorder).
pub trait Observer {
    fn sample(&mut self, s: &Sample);
    /// Something happened; it is also in the run's result.
    fn event(&mut self, _e: &Event) {}
    /// The run is over; clear anything drawn.
    fn finish(&mut self) {}
}

/// An observer that does nothing.
pub struct NoObserver;

impl Observer for NoObserver {
    fn sample(&mut self, _: &Sample) {}
}

/// Hands every sample to each observer in turn.
pub struct FanOut<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for FanOut<'_> {
    fn sample(&mut self, s: &Sample) {
        for o in self.0.iter_mut() {
            o.sample(s);
        }
    }

    fn event(&mut self, e: &Event) {
        for o in self.0.iter_mut() {
            o.event(e);
        }
    }

    fn finish(&mut self) {
        for o in self.0.iter_mut() {
            o.finish();
        }
    }
}
