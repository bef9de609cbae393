//! The half-close rule: both ends wait in recv() for each other. The server reads until EOF,
//! which only the client's FIN brings; the client waits for a reply that only comes after it.
//! Both receive queues are empty and nothing is in flight, so nothing can ever arrive.

use super::Evidence;
use crate::sample::{Sample, Side};

/// `Some(evidence)` when both ends wait in recv() with nothing on its way to either.
pub fn both_wait_in_recv(s: &Sample) -> Option<Vec<Evidence>> {
    let mut ev = Vec::new();
    for side in [Side::Server, Side::Client] {
        let waiting = s.threads_of(side).find(|t| t.waiting_in_recv())?;
        if s.threads_of(side)
            .any(|t| !t.waiting_in_recv() && t.may_read())
        {
            return None;
        }
        ev.push(Evidence::WaitingInRecv {
            side,
            kernel_call: waiting.call.map(|c| c.name().to_string()),
        });
    }
    let empty = |side| s.socket(side).is_none_or(|q| q.inq_bytes == 0);
    let in_flight = s.client.as_ref().is_some_and(|q| q.outq_bytes > 0)
        || s.server.as_ref().is_some_and(|q| q.outq_bytes > 0);
    if !empty(Side::Server) || !empty(Side::Client) || in_flight {
        return None;
    }
    ev.push(Evidence::NothingInFlight);
    Some(ev)
}
