//! `tcplab server`: the uppercase-echo server as its own process, until Ctrl-C or SIGTERM (or
//! `--connections N`). Concurrent by default; `--sequential` serves one connection at a time with
//! the same connection code (`classroom`). Its events go to a text or JSON sink (`report::server`).

use std::process::ExitCode;
use std::time::Duration;

use crate::classroom::{self, ServerEvent};
use crate::cli::lab::ServerArgs;
use crate::interrupt;
use crate::report;
use crate::report::errors::Usage;
use crate::report::export::Format;
use crate::report::progress::Live;
use crate::sock::{self, BufReq};

/// The idle limit of the concurrent server when none is given.
const DEFAULT_IDLE: Duration = Duration::from_secs(30);

pub fn main(a: &ServerArgs) -> anyhow::Result<ExitCode> {
    if let Some(parent) = a.managed_by {
        interrupt::managed_by(parent)?;
    }
    let addr = sock::resolve(&a.host, a.port)?;
    let req = BufReq {
        snd: a.buffers.sndbuf,
        rcv: a.buffers.rcvbuf,
    };
    let max_conns = if a.sequential {
        1
    } else {
        a.max_conns as usize
    };
    // A class connects at once: the backlog must hold them until the supervisor accepts (or
    // refuses) each, or their SYNs are dropped and retried a second later.
    let backlog = max_conns.max(128) as i32;
    let listener = sock::listen(addr, Some(&req), backlog)?;
    let local = sock::local(&listener)?;
    let format = a.format.get();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(Usage(format!(
            "the server writes its log as text or json; there is no '--format {}' for it",
            format.name()
        ))
        .into());
    }
    let mut sink = report::server::sink(format, a.log, Live::decide(a.quiet, false))?;
    sink.event(&ServerEvent::Listening {
        addr: local.to_string(),
        reachable_from_network: classroom::reachable_from_network(local),
    });
    let idle = a.idle_timeout.map(|m| m.0);
    let cfg = classroom::Config {
        read: a.read.bytes() as usize,
        max_conns,
        idle_timeout: if a.sequential {
            idle
        } else {
            Some(idle.unwrap_or(DEFAULT_IDLE))
        },
        sequential: a.sequential,
        connections: a.connections,
    };
    let stopped = classroom::run(&listener, &cfg, sink.as_mut())?;
    sink.event(&ServerEvent::Stopped {
        totals: stopped.totals,
        interrupted: stopped.interrupted,
    });
    Ok(ExitCode::from(if stopped.interrupted {
        interrupt::exit_code()
    } else {
        0
    }))
}
