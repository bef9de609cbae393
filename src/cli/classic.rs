//! Command-line types of the classic programs (`sixteen`, `blocks`, `dribble`, `halfclose`): the
//! Python scripts tcplab mirrors, their roles, and one-process demos of what each teaches.

use clap::{Args, Subcommand};

use super::common::{FormatArgs, port_arg, server_port_arg};
pub use crate::classic::blocks::CutAt;
use crate::units::{ByteSize, size_arg};

macro_rules! sixteen_codes {
    () => {
        concat!(
            "Exit codes:
  0    the exchange completed; in 'demo', also the refused connection that --no-server demonstrates
  1    it ran and failed (refused connection, a peer that closed early, port in use)
  2    it could not start (bad arguments)
",
            signal_codes!()
        )
    };
}

pub const SIXTEEN_HELP: &str = concat!(
    sixteen_codes!(),
    "\n\nExample: tcplab sixteen demo --no-server"
);

macro_rules! blocks_codes {
    () => {
        concat!(
            "Exit codes:
  0    every block arrived up to the end block; in 'demo', also the refused or cut stream it demonstrates
  1    it ran and failed (refused connection, a block above --max-frame, a stream cut short)
  2    it could not start (bad arguments, such as a malformed --max-frame)
",
            signal_codes!()
        )
    };
}

pub const BLOCKS_HELP: &str = concat!(
    blocks_codes!(),
    "\n\nExample: tcplab blocks demo --cut body"
);

macro_rules! dribble_codes {
    () => {
        "Exit codes:
  0    the demonstration ran (16 bytes assembled, or the early close that --close-after asks for)
  1    it ran and failed (a socket error)
  2    it could not start (bad arguments, such as pieces that do not add up to 16)"
    };
}

pub const DRIBBLE_HELP: &str = concat!(
    dribble_codes!(),
    "\n\nExample: tcplab dribble --pieces 1,7,8 --close-after 5"
);

macro_rules! halfclose_codes {
    () => {
        concat!(
            "Exit codes:
  0    the client's EOF reached the server and the reply came back
  1    it ran and failed (a socket error, or no verdict within the time limit)
  2    it could not start (bad arguments)
  3    both sides waited in recv() for each other (--no-shutdown): a deadlock of its own kind
",
            signal_codes!()
        )
    };
}

pub const HALFCLOSE_HELP: &str = concat!(
    halfclose_codes!(),
    "\n\nExample: tcplab halfclose --no-shutdown"
);

/// Where a classic server listens.
#[derive(Debug, Clone, Args)]
pub struct ListenAt {
    /// IP address or host name to listen on (loopback by default).
    #[arg(default_value = "127.0.0.1")]
    pub host: String,
    /// TCP port; 0 asks the kernel for a free one (the server's first stdout line announces it).
    #[arg(short, long, default_value_t = 1060, value_parser = port_arg, allow_negative_numbers = true)]
    pub port: u16,
}

/// Where a classic client connects.
#[derive(Debug, Clone, Args)]
pub struct ConnectTo {
    /// Server address: IP address or host name (loopback by default).
    #[arg(default_value = "127.0.0.1")]
    pub host: String,
    /// Server port: the one the server announced ('Listening at HOST:PORT').
    #[arg(short, long, default_value_t = 1060, value_parser = server_port_arg, allow_negative_numbers = true)]
    pub port: u16,
}

/// Output of the one-process demos.
#[derive(Debug, Clone, Args)]
pub struct DemoOutput {
    /// With json: one JSON document on stdout; its "outcome" field names what happened.
    #[command(flatten)]
    pub format: FormatArgs,
    /// Only the one-line verdict, not the transcript.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The classic sixteen-octet exchange (tcp_sixteen.py).
///
/// The client sends 'Hi there, server', the server answers 'Farewell, client', and each side reads exactly 16 bytes with a recv_all loop.
#[derive(Debug, Clone, Args)]
#[command(after_help = SIXTEEN_HELP)]
pub struct SixteenArgs {
    #[command(subcommand)]
    pub role: SixteenRole,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SixteenRole {
    /// Listen, and for each connection read 16 bytes and send 16 back, until Ctrl-C.
    #[command(after_help = concat!(sixteen_codes!(), "\n\nExample: tcplab sixteen server 127.0.0.1 -p 1060"))]
    Server(SixteenServerArgs),
    /// Connect, send 16 bytes, read 16 bytes.
    #[command(after_help = concat!(sixteen_codes!(), "\n\nExample: tcplab sixteen client 127.0.0.1 -p 1060"))]
    Client(SixteenClientArgs),
    /// Both sides in one process on an ephemeral loopback port; --no-server shows that connect()
    /// is a real network operation that can fail.
    #[command(after_help = concat!(sixteen_codes!(), "\n\nExample: tcplab sixteen demo --no-server --json"))]
    Demo(SixteenDemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SixteenServerArgs {
    #[command(flatten)]
    pub at: ListenAt,
    /// Exit after one connection (its exit code says whether the exchange completed).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SixteenClientArgs {
    #[command(flatten)]
    pub at: ConnectTo,
}

#[derive(Debug, Clone, Args)]
pub struct SixteenDemoArgs {
    /// Connect to a port where nothing listens: the SYN is answered with a RST.
    #[arg(long)]
    pub no_server: bool,
    #[command(flatten)]
    pub output: DemoOutput,
}

/// The classic length-prefixed blocks (blocks.py).
///
/// Each block is a 4-byte big-endian length (struct '!I') and that many bytes; a zero-length block ends the stream. The server shuts its
/// write half at once and only reads; the client shuts its read half and only writes.
#[derive(Debug, Clone, Args)]
#[command(after_help = BLOCKS_HELP)]
pub struct BlocksArgs {
    #[command(subcommand)]
    pub role: BlocksRole,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BlocksRole {
    /// Accept one connection and print every block until the zero-length block.
    #[command(after_help = concat!(blocks_codes!(), "\n\nExample: tcplab blocks server 127.0.0.1 -p 1060 --max-frame 64K"))]
    Server(BlocksServerArgs),
    /// Connect and send three lines of the Zen of Python, then the zero-length block.
    #[command(after_help = concat!(blocks_codes!(), "\n\nExample: tcplab blocks client 127.0.0.1 -p 1060"))]
    Client(BlocksClientArgs),
    /// Both sides in one process: a normal run, an oversized block (--oversized) or a stream cut
    /// inside a header or a body (--cut).
    #[command(after_help = concat!(blocks_codes!(), "\n\nExample: tcplab blocks demo --oversized --max-frame 64K --json"))]
    Demo(BlocksDemoArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BlocksServerArgs {
    #[command(flatten)]
    pub at: ListenAt,
    #[command(flatten)]
    pub limit: FrameLimit,
}

#[derive(Debug, Clone, Args)]
pub struct BlocksClientArgs {
    #[command(flatten)]
    pub at: ConnectTo,
    #[command(flatten)]
    pub limit: FrameLimit,
}

/// The largest block a reader accepts.
#[derive(Debug, Clone, Args)]
pub struct FrameLimit {
    /// Largest block accepted (e.g. 64K, 1MiB; K and KiB both mean 1024), at most 4294967295
    /// (what a 4-byte prefix can announce). A reader refuses a longer length prefix before
    /// allocating anything for it, and below it grows its buffer only with the bytes that
    /// arrive; the client refuses to send one.
    #[arg(long, value_parser = frame_arg, default_value = "1MiB", value_name = "SIZE")]
    pub max_frame: ByteSize,
}

/// A `--max-frame`: at least 1 byte, at most what a 4-byte length prefix can announce.
pub fn frame_arg(text: &str) -> Result<ByteSize, String> {
    crate::units::size_at_most(text, u64::from(u32::MAX), || {
        format!(
            "a block's 4-byte length prefix announces at most {} bytes (4 GiB - 1), so a larger \
             limit means nothing; try 1G",
            u32::MAX
        )
    })
}

#[derive(Debug, Clone, Args)]
pub struct BlocksDemoArgs {
    /// The client announces a block one byte longer than --max-frame.
    #[arg(long, conflicts_with = "cut")]
    pub oversized: bool,
    /// The client closes in the middle of a block's header or body.
    #[arg(long, value_enum, value_name = "WHERE")]
    pub cut: Option<CutAt>,
    #[command(flatten)]
    pub limit: FrameLimit,
    #[command(flatten)]
    pub output: DemoOutput,
}

/// Experiment: recv() returns what has arrived, not what you asked for.
///
/// A sender writes a 16-byte message in
/// pieces (TCP_NODELAY, each piece after the receiver's previous recv() returned), and the
/// receiver shows each recv() size and the recv_all loop assembling exactly 16.
#[derive(Debug, Clone, Args)]
#[command(after_help = DRIBBLE_HELP)]
pub struct DribbleArgs {
    /// Sizes of the pieces, adding up to 16.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "5,3,8",
        value_name = "N,N,.."
    )]
    pub pieces: Vec<usize>,
    /// The sender closes after this many bytes (0 to 15): the recv_all loop reports how far it got.
    #[arg(long, value_name = "N")]
    pub close_after: Option<usize>,
    #[command(flatten)]
    pub output: DemoOutput,
}

/// Experiment: half-close, the streamer (shutdown(SHUT_WR) and EOF).
///
/// The client sends --bytes, then shutdown(SHUT_WR) so the server's
/// recv() sees EOF; the server replies with what it counted and closes. With --no-shutdown the
/// client forgets the shutdown: both sides wait in recv() for each other, which tcplab detects,
/// explains and ends.
#[derive(Debug, Clone, Args)]
#[command(after_help = HALFCLOSE_HELP)]
pub struct HalfcloseArgs {
    /// The client forgets shutdown(SHUT_WR).
    #[arg(long)]
    pub no_shutdown: bool,
    /// Bytes the client sends.
    #[arg(long, value_parser = size_arg, default_value = "64KiB", value_name = "SIZE")]
    pub bytes: ByteSize,
    #[command(flatten)]
    pub output: DemoOutput,
}
