//! One handler per subcommand: it turns the parsed arguments into the engine's configuration,
//! runs the engine, hands the result to a view (`report::export::print`, or a sink for a stream),
//! and returns the exit code. No handler imports another: what two commands share lives in the
//! engine, in `cli` (arguments to configuration) or in `report` (views).

pub mod check;
pub mod classic;
pub mod client;
pub mod deadlock;
pub mod files;
pub mod list;
pub mod load;
pub mod replay;
pub mod run;
pub mod server;
pub mod show;
pub mod sweep;
pub mod watch;
