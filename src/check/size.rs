//! How many bytes a client check sends by default: more than the buffers of this machine hold, so
//! that a client that sends everything before it reads deadlocks here, as it would anywhere its
//! data outgrows the buffers. The figure comes from the machine at hand, as the stall prediction
//! of a sweep does: tcplab's own naive client is run once against its reference echo loop on
//! loopback with the kernel's default (autotuned) buffers, as a student's client and tcplab's
//! server use them, and the check sends twice what got through before that stall.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::StrategyName;
use crate::observe::NoObserver;
use crate::result::Outcome;
use crate::run::{self, PairConfig, SetupError, Traffic};
use crate::sock::BufReq;
use crate::units::BufSize;

/// The calibration run's traffic: far more than any buffers hold.
const PROBE_BYTES: u64 = 512 << 20;
/// Bytes of each of its writes: the size a Python `sendall` of a big buffer leaves in the kernel
/// at a time matters little; 64 KiB keeps the run short.
const PROBE_CHUNK: u64 = 64 << 10;
/// The check sends this many times what got through before the calibration's stall.
const MARGIN: u64 = 2;
/// Never less than this (bytes).
const FLOOR: u64 = 4 << 20;

/// What the default size rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    /// The size the check sends (bytes): `MARGIN` × the stall, rounded up to a whole MiB.
    pub bytes: u64,
    /// What tcplab's naive client got through before it deadlocked here (bytes).
    pub stall_bytes: u64,
}

/// Runs the calibration: a deadlock with the default buffers, measured.
pub fn for_this_machine(host: &str) -> Result<Derived, SetupError> {
    let auto = BufReq {
        snd: BufSize::Auto,
        rcv: BufSize::Auto,
    };
    let cfg = PairConfig {
        traffic: Traffic {
            timeout: Duration::from_secs(30),
            ..Traffic::new(StrategyName::Naive, PROBE_BYTES, PROBE_CHUNK)
        },
        host: host.to_string(),
        client: auto,
        server: auto,
        buffers_after_connect: false,
    };
    let r = run::run_pair(&cfg, &mut NoObserver)?;
    // A run that did not stall (more buffer than the probe) still bounds what the buffers hold.
    let stall = match r.outcome {
        Outcome::Deadlock => r.counts.client_sent_bytes,
        _ => PROBE_BYTES,
    };
    let mib = 1 << 20;
    Ok(Derived {
        bytes: (stall * MARGIN).max(FLOOR).div_ceil(mib) * mib,
        stall_bytes: stall,
    })
}
