//! `tcplab client`: the client role against a server in another process (tcplab's or the classic
//! Python one), watching its own side for a stall.

use std::process::ExitCode;

use crate::cli::lab::ClientArgs;
use crate::observe::{NoObserver, Observer};
use crate::report::export;
use crate::report::live::{self, LiveView};
use crate::report::progress::Live;
use crate::report::run::RunDoc;
use crate::run;

pub fn main(a: &ClientArgs) -> anyhow::Result<ExitCode> {
    let format = a.output.format.get();
    export::supported::<RunDoc>(format)?;
    let cfg = a.config()?;
    let live = Live::decide(a.output.quiet, a.output.format.machine());
    let mut view = live
        .shown()
        .then(|| LiveView::new(live, &live::title("client", &cfg.traffic)));
    let obs: &mut dyn Observer = match view.as_mut() {
        Some(v) => v,
        None => &mut NoObserver,
    };
    let result = run::run_client(&cfg, obs)?;
    export::print(&RunDoc::new(&result, live.shown()), format)?;
    Ok(ExitCode::from(result.outcome.exit_code()))
}
