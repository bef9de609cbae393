//! The same probes as `linux.rs` for systems where tcplab does not read kernel queues: each one
//! answers "not available on this OS", and the lab falls back to its own counters and silence.

use std::io;

use crate::sample::{Call, KernelQueues};

pub fn queues(_sock: &socket2::Socket) -> io::Result<KernelQueues> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "kernel queue probes are not available on this OS",
    ))
}

pub fn current_tid() -> i32 {
    0
}

pub fn thread_call(_tid: i32) -> Option<Call> {
    None
}

pub const AVAILABLE: bool = false;
