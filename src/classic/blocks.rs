//! `tcplab blocks`: blocks.py. Each block is a 4-byte big-endian length and that many bytes; a
//! zero-length block ends the stream. The server shuts its write half at once and only reads; the
//! client shuts its read half and only writes. `demo` runs both sides in one process and shows
//! what a careful reader does with a peer that announces too much or stops half way.

use std::net::{Shutdown, SocketAddr};
use std::thread;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use socket2::Socket;

use super::sixteen::RoleEnd;
use super::{DEMO_WAIT, Outcome, PEER_IDLE, Patient, PeerReset, accept, py_repr, step_failed};
use crate::sock::{self, Peer, local};
use crate::wire::{self, WireError};

/// Where `demo --cut` ends the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CutAt {
    /// Two bytes into a block's 4-byte length prefix.
    Header,
    /// Part way through a block's body.
    Body,
}

/// What `blocks demo` does.
#[derive(Debug, Clone, Copy)]
pub struct DemoConfig {
    /// The client announces a block one byte longer than `max_frame`.
    pub oversized: bool,
    /// The client closes in the middle of a block's header or body.
    pub cut: Option<CutAt>,
    /// The largest block the reader accepts (bytes).
    pub max_frame: u64,
}

/// The client's three blocks, as in blocks.py.
pub const ZEN: [&[u8]; 3] = [
    b"Beautiful is better than ugly.",
    b"Explicit is better than implicit.",
    b"Simple is better than complex.",
];

/// Bytes of a body the `--cut body` client sends before it closes.
const CUT_BODY_AFTER: usize = 12;
/// Bytes of a header the `--cut header` client sends before it closes.
const CUT_HEADER_AFTER: usize = 2;

/// Reads blocks until the end block, calling `seen` with each body. Returns the block count.
fn read_blocks(
    r: &mut dyn std::io::Read,
    max_frame: u64,
    buf: &mut Vec<u8>,
    seen: &mut dyn FnMut(&[u8]),
) -> Result<usize, WireError> {
    let mut n = 0;
    while let Some(len) = wire::read_frame(r, max_frame, buf)? {
        seen(&buf[..len]);
        n += 1;
    }
    Ok(n)
}

/// `tcplab blocks server`: one connection, like blocks.py.
pub fn server(
    addr: SocketAddr,
    max_frame: u64,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<RoleEnd> {
    let listener = sock::listen(addr, None, 1)?;
    let bound = local(&listener)?;
    say(format!("Listening at {bound}"));
    say(format!(
        "Run 'tcplab blocks client {} -p {}' in another window to connect",
        bound.ip(),
        bound.port()
    ));
    let Some((conn, from)) = accept(&listener)? else {
        return Ok(RoleEnd::Interrupted);
    };
    say(format!("Accepted connection from {from}"));
    // This side only reads: its FIN goes out now, and the client may not write back anyway.
    conn.shutdown(Shutdown::Write)
        .context("cannot shut down the write half")?;
    let mut buf = Vec::new();
    let mut count = 0;
    let read = read_blocks(
        &mut Patient::new(&conn, PEER_IDLE)?,
        max_frame,
        &mut buf,
        &mut |b| {
            count += 1;
            say(format!("Block says: {}", py_repr(b, true)));
        },
    );
    match read {
        Ok(_) => Ok(RoleEnd::Done),
        Err(e) if super::was_stopped(&e) => Ok(RoleEnd::Interrupted),
        Err(WireError::Io(io)) if super::is_reset(&io) => Err(anyhow::Error::new(PeerReset {
            peer: "client",
            during: "before its end block",
        })
        .context(format!("block {} from {from}", count + 1))),
        Err(e) => Err(anyhow::Error::new(e).context(format!("block {} from {from}", count + 1))),
    }
}

/// `tcplab blocks client`: the three Zen lines and the end block.
pub fn client(addr: SocketAddr, max: u64, say: &mut dyn FnMut(String)) -> anyhow::Result<()> {
    if let Some(long) = ZEN.iter().find(|b| b.len() as u64 > max) {
        bail!(
            "a block of {} bytes is above --max-frame ({max} bytes), so the server would refuse it; raise --max-frame",
            long.len()
        );
    }
    let sock = sock::connect(addr, None, DEMO_WAIT, Peer::Blocks)?;
    // This side only writes; anything the server sent now would be refused with a RST.
    sock.shutdown(Shutdown::Read)
        .context("cannot shut down the read half")?;
    let reset = PeerReset {
        peer: "server",
        during: "before it had all the blocks",
    };
    for line in ZEN {
        wire::write_frame(&mut &sock, line)
            .map_err(|e| step_failed(e, reset, "sending a block"))?;
    }
    wire::write_frame(&mut &sock, b"")
        .map_err(|e| step_failed(e, reset, "sending the end block"))?;
    say(format!(
        "Sent {} blocks and the zero-length end block to {addr}",
        ZEN.len()
    ));
    Ok(())
}

/// What `blocks demo` showed.
#[derive(Debug, Serialize)]
pub struct BlocksReport {
    pub outcome: Outcome,
    /// The reader's limit (bytes).
    pub max_frame_bytes: u64,
    /// Every block the server read, as Python's repr.
    pub blocks: Vec<String>,
    /// Their sizes (bytes).
    pub block_sizes_bytes: Vec<usize>,
    /// The length the --oversized client announced (bytes).
    pub announced_bytes: Option<u64>,
    /// Bytes the cut stream still owed the reader (header or body).
    pub missing_bytes: Option<usize>,
    /// The reader's buffer capacity at the end (bytes): proof that a refused block was never
    /// allocated.
    pub buffer_capacity_bytes: usize,
    /// The error the reader reported, as the user would read it.
    pub error: Option<String>,
}

/// The client of the demo: normal, oversized, or cut.
fn demo_client(sock: Socket, a: &DemoConfig) -> anyhow::Result<Option<u64>> {
    sock.shutdown(Shutdown::Read)?;
    let mut w = &sock;
    wire::write_frame(&mut w, ZEN[0])?;
    let mut announced = None;
    if a.oversized {
        let len = a.max_frame + 1;
        let len32 = u32::try_from(len).map_err(|_| {
            anyhow!(
                "--oversized needs --max-frame below 4 GiB: a 4-byte prefix cannot announce more"
            )
        })?;
        wire::send_all(&mut w, &len32.to_be_bytes())?;
        announced = Some(len);
    } else if let Some(cut) = a.cut {
        let header = (ZEN[1].len() as u32).to_be_bytes();
        match cut {
            CutAt::Header => wire::send_all(&mut w, &header[..CUT_HEADER_AFTER])?,
            CutAt::Body => {
                wire::send_all(&mut w, &header)?;
                wire::send_all(&mut w, &ZEN[1][..CUT_BODY_AFTER])?;
            }
        }
    } else {
        for line in &ZEN[1..] {
            wire::write_frame(&mut w, line)?;
        }
        wire::write_frame(&mut w, b"")?;
    }
    // close(): a FIN after the last byte; a cut stream ends here.
    drop(sock);
    Ok(announced)
}

pub fn demo(a: &DemoConfig) -> anyhow::Result<BlocksReport> {
    let max = a.max_frame;
    if a.oversized && max >= u32::MAX as u64 {
        bail!("--oversized needs --max-frame below 4 GiB: a 4-byte prefix cannot announce more");
    }
    let (client, conn, _) = super::own_connection()?;
    client.set_write_timeout(Some(DEMO_WAIT))?;
    conn.shutdown(Shutdown::Write)?;
    conn.set_read_timeout(Some(DEMO_WAIT))?;
    let mut buf = Vec::new();
    let mut blocks = Vec::new();
    let mut sizes = Vec::new();
    let (read, announced) = thread::scope(|s| {
        let reader = thread::Builder::new()
            .name("tcplab-server".into())
            .spawn_scoped(s, || {
                let r = read_blocks(&mut &conn, max, &mut buf, &mut |b| {
                    blocks.push(py_repr(b, true));
                    sizes.push(b.len());
                });
                drop(conn);
                r
            })
            .context("cannot start the server thread")?;
        let sent = demo_client(client, a);
        let read = reader
            .join()
            .map_err(|_| anyhow!("the server thread failed"))?;
        Ok::<_, anyhow::Error>((read, sent?))
    })?;
    let (outcome, missing, error) = match read {
        Ok(_) => (Outcome::Completed, None, None),
        Err(e) => {
            let (outcome, missing) = match &e {
                WireError::TooLarge { .. } => (Outcome::FrameRefused, None),
                WireError::CutHeader { got } => (Outcome::Truncated, Some(4 - got)),
                WireError::CutBody { got, want } => (Outcome::Truncated, Some(want - got)),
                _ => return Err(anyhow::Error::new(e).context("reading the blocks")),
            };
            (outcome, missing, Some(e.to_string()))
        }
    };
    Ok(BlocksReport {
        outcome,
        max_frame_bytes: max,
        blocks,
        block_sizes_bytes: sizes,
        announced_bytes: announced,
        missing_bytes: missing,
        buffer_capacity_bytes: buf.capacity(),
        error,
    })
}
