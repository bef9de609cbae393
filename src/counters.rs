//! The shared state between the I/O threads and the watcher: four relaxed byte counters, and for
//! each thread the phase it is in and its kernel thread id. The I/O loops touch this with one
//! relaxed atomic add per call; the watcher reads it on its own clock.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU64, Ordering::Relaxed};

use crate::result::Counts;
use crate::sock;

/// What a thread is doing, recorded at phase changes (not per call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    NotStarted = 0,
    Sending = 1,
    Receiving = 2,
    Polling = 3,
    Done = 4,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::NotStarted => "not started",
            Phase::Sending => "sending",
            Phase::Receiving => "receiving",
            Phase::Polling => "polling",
            Phase::Done => "done",
        }
    }
}

/// One I/O thread as the watcher sees it.
#[derive(Debug, Default)]
pub struct ThreadSlot {
    phase: AtomicU8,
    tid: AtomicI32,
    used: AtomicBool,
}

impl ThreadSlot {
    /// Called first thing on the thread that owns this slot.
    pub fn enter(&self) {
        self.tid.store(sock::current_tid(), Relaxed);
        self.used.store(true, Relaxed);
    }

    pub fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Relaxed);
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Relaxed) {
            1 => Phase::Sending,
            2 => Phase::Receiving,
            3 => Phase::Polling,
            4 => Phase::Done,
            _ => Phase::NotStarted,
        }
    }

    pub fn used(&self) -> bool {
        self.used.load(Relaxed)
    }

    /// The system call the kernel says this thread is in, when known.
    pub fn kernel_call(&self) -> Option<&'static str> {
        if !self.used() || self.phase() == Phase::Done {
            return None;
        }
        sock::thread_syscall(self.tid.load(Relaxed))
    }
}

/// Everything the I/O threads share with the watcher.
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
}
