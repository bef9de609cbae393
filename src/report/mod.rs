//! The views: every function that turns tcplab's data into something a person or a script reads
//! — text, JSON, CSV, SVG, the live view and the server's log — lives under this module, for
//! every command. Views read the engine's results and write bytes; the engine never calls back
//! into them.
//!
//! `progress` decides, in one place, when anything live is drawn; `human` formats every byte
//! count a person reads; `errors` words the engine's typed failures with what to try next;
//! `outside` makes text from outside tcplab (files, programs, peers) safe to print.

pub mod catalogue;
pub mod check;
pub mod classic;
pub mod csv;
pub mod errors;
pub mod export;
pub mod files;
pub mod human;
pub mod json;
pub mod ledger;
pub mod live;
pub mod load;
pub mod narration;
pub mod output;
pub mod outside;
pub mod page;
pub mod progress;
pub mod run;
pub mod server;
pub mod svg;
pub mod sweep_plot;
pub mod sweep_progress;
pub mod sweep_row;
pub mod sweep_table;
pub mod text;
pub mod timeline;
pub mod watch;
pub mod web;
pub mod wrap;

pub use human::{human, human_rate, human_signed};

/// What a view writes, as a string (a frame's text, a block's lines): writing to memory never fails.
pub(crate) fn captured(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    let _ = write(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;
