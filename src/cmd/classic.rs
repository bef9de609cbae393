//! Handlers of the classic programs: pick the role, run it, print its transcript or the demo's
//! report as JSON or text (`report::classic`), and say how the process exits (a demo whose lesson
//! is an error still exits 0; a stalled half-close exits 3; a signal, 130 or 143).

use std::io::{self, Write};
use std::process::ExitCode;

use serde::Serialize;

use crate::classic::blocks::{self, DemoConfig};
use crate::classic::dribble::{self, DribbleConfig};
use crate::classic::halfclose::{self, HalfcloseConfig};
use crate::classic::sixteen::{self, RoleEnd, Said};
use crate::cli::classic::{
    BlocksArgs, BlocksRole, DemoOutput, DribbleArgs, HalfcloseArgs, SixteenArgs, SixteenRole,
};
use crate::interrupt;
use crate::report::classic::{Demo, TextView};
use crate::report::{self, export, wrap};
use crate::sock;

/// The demo's report in the format asked for.
fn emit<R: Serialize>(report: &R, o: &DemoOutput, text: TextView<R>) -> anyhow::Result<()> {
    export::print(&Demo::new(report, o.quiet, text), o.format.get())?;
    Ok(())
}

/// A transcript line on stdout, flushed at once (the roles print as they go, like the scripts),
/// wrapped at word boundaries for a terminal.
fn line(l: String) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{}", wrap::for_stdout(&l));
    let _ = out.flush();
}

fn role_end(end: RoleEnd) -> ExitCode {
    match end {
        RoleEnd::Done => ExitCode::SUCCESS,
        RoleEnd::Interrupted => ExitCode::from(interrupt::exit_code()),
    }
}

pub fn sixteen(a: &SixteenArgs) -> anyhow::Result<ExitCode> {
    match &a.role {
        SixteenRole::Server(s) => {
            let addr = sock::resolve(&s.at.host, s.at.port)?;
            note_if_reachable(addr);
            let end = sixteen::server(addr, s.once, &mut |said| match said {
                Said::Line(l) => line(l),
                Said::Failed { from, error } => eprintln!(
                    "{}",
                    wrap::for_stderr(&format!(
                        "tcplab: connection from {from}: {}; still listening",
                        report::errors::line(&error)
                    ))
                ),
            })?;
            Ok(role_end(end))
        }
        SixteenRole::Client(c) => {
            let addr = sock::resolve(&c.at.host, c.at.port)?;
            let end = sixteen::client(addr, &mut line)?;
            Ok(role_end(end))
        }
        SixteenRole::Demo(d) => {
            let r = sixteen::demo(d.no_server)?;
            emit(&r, &d.output, report::classic::sixteen)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn blocks(a: &BlocksArgs) -> anyhow::Result<ExitCode> {
    match &a.role {
        BlocksRole::Server(s) => {
            let addr = sock::resolve(&s.at.host, s.at.port)?;
            note_if_reachable(addr);
            let end = blocks::server(addr, s.limit.max_frame.bytes(), &mut line)?;
            Ok(role_end(end))
        }
        BlocksRole::Client(c) => {
            let addr = sock::resolve(&c.at.host, c.at.port)?;
            blocks::client(addr, c.limit.max_frame.bytes(), &mut line)?;
            Ok(ExitCode::SUCCESS)
        }
        BlocksRole::Demo(d) => {
            let cfg = DemoConfig {
                oversized: d.oversized,
                cut: d.cut,
                max_frame: d.limit.max_frame.bytes(),
            };
            let r = blocks::demo(&cfg)?;
            emit(&r, &d.output, report::classic::blocks)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A server bound to an address other programs can reach says so, as `tcplab server` does.
fn note_if_reachable(addr: std::net::SocketAddr) {
    if !addr.ip().is_loopback() {
        line(format!(
            "note: {} is reachable from the network, not only from this machine",
            addr.ip()
        ));
    }
}

pub fn dribble(a: &DribbleArgs) -> anyhow::Result<ExitCode> {
    let cfg = DribbleConfig {
        pieces: a.pieces.clone(),
        close_after: a.close_after,
    };
    if let Err(e) = cfg.check() {
        eprintln!("{}", wrap::for_stderr(&format!("tcplab: {e}")));
        return Ok(ExitCode::from(2));
    }
    let r = dribble::run(&cfg)?;
    emit(&r, &a.output, report::classic::dribble)?;
    Ok(ExitCode::SUCCESS)
}

pub fn halfclose(a: &HalfcloseArgs) -> anyhow::Result<ExitCode> {
    let cfg = HalfcloseConfig {
        bytes: a.bytes.bytes(),
        no_shutdown: a.no_shutdown,
    };
    let r = match halfclose::run(&cfg) {
        Err(halfclose::HalfcloseError::Interrupted) => {
            return Ok(ExitCode::from(interrupt::exit_code()));
        }
        r => r?,
    };
    emit(&r, &a.output, report::classic::halfclose)?;
    Ok(ExitCode::from(r.outcome.exit_code()))
}
