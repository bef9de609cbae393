//! The state the I/O threads share with the watcher: four relaxed byte counters and, for each
//! thread, the phase it says it is in and its kernel thread id. An I/O loop touches this with one
//! relaxed atomic add per call and a relaxed store when its phase changes (a thread that alternates
//! between recv() and send() stores twice per round); the watcher reads it on its own clock
//! (`observe::own`).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use crate::sample::{Counts, Phase};
use crate::sock;

/// One I/O thread as the watcher sees it.
#[derive(Debug, Default)]
pub struct ThreadSlot {
    phase: AtomicU8,
    tid: AtomicI32,
    used: AtomicBool,
}

impl ThreadSlot {
    /// Claims the slot for a thread about to be spawned, with its first phase: from this moment
    /// the watcher counts it (a reader is a reader before it is scheduled for the first time).
    pub fn claim(&self, phase: Phase) {
        self.phase.store(phase as u8, Relaxed);
        self.used.store(true, Relaxed);
    }

    /// Called first thing on the thread that owns this slot: records its kernel thread id.
    pub fn enter(&self) {
        self.tid.store(sock::current_tid(), Relaxed);
        self.used.store(true, Relaxed);
    }

    pub fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Relaxed);
    }

    pub fn phase(&self) -> Phase {
        Phase::from_repr(self.phase.load(Relaxed)).unwrap_or(Phase::NotStarted)
    }

    pub fn used(&self) -> bool {
        self.used.load(Relaxed)
    }

    /// The thread as the kernel shows it (its call, state and time on a CPU), when known.
    pub fn kernel_view(&self) -> Option<crate::sys::proc::ThreadState> {
        let tid = self.tid.load(Relaxed);
        if !self.used() || tid == 0 || self.phase() == Phase::Done {
            return None;
        }
        crate::sys::own_thread(tid)
    }
}

/// Everything the I/O threads of one connection share with the watcher.
#[derive(Debug, Default)]
pub struct Shared {
    pub client_sent: AtomicU64,
    pub server_received: AtomicU64,
    pub server_sent: AtomicU64,
    pub client_received: AtomicU64,
    pub client: ThreadSlot,
    pub reader: ThreadSlot,
    pub server: ThreadSlot,
    /// Set by the watcher before it shuts the sockets down, so the I/O threads read the errors
    /// that follow as "stopped", not as failures.
    pub stopping: AtomicBool,
    /// Holds the client's threads until their socket is connected (open from the start when it
    /// already is).
    pub start: StartGate,
}

/// Holds a client's I/O threads back until their socket is connected, so every thread the client
/// needs exists before the server's clock starts. Starting a thread in a process with hundreds of
/// them, on two busy cores, was measured to take up to 3 s: longer than a classroom server's idle
/// limit for a connection that has sent nothing (docs/classroom.md).
#[derive(Debug)]
pub struct StartGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy)]
struct GateState {
    /// Threads waiting at the gate.
    arrived: u32,
    /// `Some(true)`: connected, go; `Some(false)`: never connected, return at once.
    open: Option<bool>,
}

impl Default for StartGate {
    fn default() -> StartGate {
        StartGate::with(Some(true))
    }
}

impl StartGate {
    /// A gate the threads wait at until `release`.
    pub fn closed() -> StartGate {
        StartGate::with(None)
    }

    fn with(open: Option<bool>) -> StartGate {
        StartGate {
            state: Mutex::new(GateState { arrived: 0, open }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Called by a thread before it touches the socket: counts it as ready and waits for the
    /// connect. False when there will be no connection: the thread returns without I/O.
    pub fn pass(&self) -> bool {
        let mut st = self.lock();
        st.arrived += 1;
        self.changed.notify_all();
        let st = self
            .changed
            .wait_while(st, |s| s.open.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        st.open == Some(true)
    }

    /// Counts a thread that will never come (it could not be started).
    pub fn skip(&self) {
        self.lock().arrived += 1;
        self.changed.notify_all();
    }

    /// Waits until `threads` threads have arrived, at most `bound`. False when they did not.
    pub fn wait_arrived(&self, threads: u32, bound: Duration) -> bool {
        let (_st, waited) = self
            .changed
            .wait_timeout_while(self.lock(), bound, |s| s.arrived < threads)
            .unwrap_or_else(PoisonError::into_inner);
        !waited.timed_out()
    }

    /// Lets the waiting threads go: to their I/O when `connected`, home otherwise.
    pub fn release(&self, connected: bool) {
        self.lock().open = Some(connected);
        self.changed.notify_all();
    }
}

impl Shared {
    pub fn counts(&self) -> Counts {
        Counts {
            client_sent_bytes: self.client_sent.load(Relaxed),
            server_received_bytes: self.server_received.load(Relaxed),
            server_sent_bytes: self.server_sent.load(Relaxed),
            client_received_bytes: self.client_received.load(Relaxed),
        }
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Relaxed)
    }

    pub fn stop(&self) {
        self.stopping.store(true, Relaxed);
    }
}
