//! The state the I/O threads share with the watcher: four relaxed byte counters and, for each
//! thread, the phase it says it is in and its kernel thread id. An I/O loop touches this with one
//! relaxed atomic add per call and a relaxed store when its phase changes (a thread that alternates
//! between recv() and send() stores twice per round); the watcher reads it on its own clock
//! (`observe::own`).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU64, Ordering::Relaxed};

use crate::sample::{Call, Counts, Phase};
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
        Phase::from_u8(self.phase.load(Relaxed))
    }

    pub fn used(&self) -> bool {
        self.used.load(Relaxed)
    }

    /// The system call the kernel says this thread is in, when known.
    pub fn kernel_call(&self) -> Option<Call> {
        let tid = self.tid.load(Relaxed);
        if !self.used() || tid == 0 || self.phase() == Phase::Done {
            return None;
        }
        sock::thread_call(tid)
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
