//! tcplab: a teaching lab for TCP socket-buffer behaviour. An uppercase-echo server, a client that
//! sends 16-byte chunks without reading, the deadlock their full buffers produce, and the fixes.
//!
//! The binary (`main.rs`) parses arguments and dispatches to `cmd`; everything here is reusable by
//! the tests and the benchmarks. The layers point one way: the engine (sockets, strategies,
//! sampler, watchdog, ledger, sweep, classroom) never imports `cli`, `cmd` or `report`; `report`
//! (the views) reads the engine's results; `cmd` ties arguments, engine and views together.
//! `tests/layers.rs` checks it.
#![deny(unsafe_code)]

#[cfg(not(target_os = "linux"))]
compile_error!(
    "tcplab reads Linux kernel state (socket queues, sock_diag, /proc) and builds for Linux only; \
     on Windows use WSL2, on macOS a Linux VM or container"
);

pub mod catalogue;
pub mod check;
pub mod classic;
pub mod classroom;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod counters;
pub mod diag;
pub mod follow;
pub mod format;
pub mod interrupt;
pub mod ledger;
pub mod model;
pub mod narrate;
pub mod observe;
pub mod outcome;
pub mod payload;
pub mod rate;
pub mod report;
pub mod result;
pub mod run;
pub mod sample;
pub mod server;
pub mod sock;
pub mod sweep;
pub mod sys;
pub mod tcpinfo;
pub mod timeline;
pub mod units;
pub mod watch;
pub mod watchdog;
pub mod web;
pub mod wire;
