//! `tcplab client`: the client role against a server in another process (tcplab's or the classic
//! Python one), watching its own side for a stall.

use std::process::ExitCode;

use crate::cli::lab::ClientArgs;
use crate::cmd::{self, deadlock::traffic};
use crate::observe::{NoObserver, Observer};
use crate::report::live::{self, LiveView};
use crate::report::progress::Live;
use crate::run::{self, ClientConfig};
use crate::sock::{self, BufReq};

pub fn main(a: &ClientArgs) -> anyhow::Result<ExitCode> {
    let buffers = BufReq {
        snd: a.buffers.sndbuf,
        rcv: a.buffers.rcvbuf,
    };
    let cfg = ClientConfig {
        traffic: traffic(&a.traffic, a.bytes, &a.wait, [buffers, buffers]),
        addr: sock::resolve(&a.host, a.port)?,
        buffers,
        connect_timeout: a.connect_timeout.0,
    };
    let live = Live::decide(a.output.quiet, a.output.json);
    let mut view = live
        .shown()
        .then(|| LiveView::new(live, &live::title("client", &cfg.traffic)));
    let obs: &mut dyn Observer = match view.as_mut() {
        Some(v) => v,
        None => &mut NoObserver,
    };
    let result = run::run_client(&cfg, obs)?;
    cmd::print_run(&result, a.output.json, live.shown())?;
    Ok(ExitCode::from(result.outcome.exit_code()))
}
