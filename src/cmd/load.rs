//! `tcplab load`: the classroom load test (`classroom::load::test`), against the server given with
//! --port or one it starts and stops itself, then the report (`report::load`) in the format asked
//! for. Ctrl-C or SIGTERM stops it: no client or round starts after it, the clients already running
//! end, the server is stopped, and the report of what finished is printed before exiting 130 or
//! 143.

use std::process::ExitCode;
use std::time::Duration;

use crate::classroom::load::{self, LoadConfig, LoadTest};
use crate::classroom::managed::ServerSpec;
use crate::cli::load::LoadArgs;
use crate::interrupt;
use crate::report;
use crate::report::export;
use crate::report::load::LoadDoc;
use crate::sock::{self, BufReq};

pub fn main(a: &LoadArgs) -> anyhow::Result<ExitCode> {
    let format = a.format.get();
    export::supported::<LoadDoc>(format)?;
    let local = sock::loopback_only(&a.host, "", "tcplab load")?;
    let buffers = BufReq {
        snd: a.sndbuf,
        rcv: a.rcvbuf,
    };
    let addr = match a.port {
        Some(p) => sock::resolve(&a.host, p)?,
        None => local,
    };
    let t = LoadTest {
        round: LoadConfig {
            addr,
            server_pid: a.server_pid,
            clients: a.clients,
            deadlocking: a.deadlocking,
            bytes: a.bytes.bytes(),
            hold_bytes: a.hold_bytes.bytes(),
            chunk: a.chunk.bytes() as usize,
            buffers,
            idle_timeout: a.idle_timeout.0,
            rss_tolerance: a.rss_tolerance.bytes(),
            timeout: a.timeout.0,
        },
        rounds: a.rounds,
        start: a.port.is_none().then(|| ServerSpec {
            host: a.host.clone(),
            buffers,
            idle_timeout: a.idle_timeout.0.max(Duration::from_millis(1)),
            max_conns: a.clients + 8,
        }),
    };
    if t.start.is_none()
        && let Err(n) = load::preflight(addr, a.server_pid)
    {
        anyhow::bail!("{}", report::load::not_ready_line(&n));
    }
    let mut progress = report::load::Progress::new(!a.format.machine(), a.clients, a.deadlocking);
    let run = load::test(&t, &mut progress)?;
    progress.finish();
    export::print(&LoadDoc(&run), format)?;
    Ok(ExitCode::from(match (run.interrupted, run.ok) {
        (true, _) => interrupt::exit_code(),
        (false, true) => 0,
        (false, false) => 1,
    }))
}
