//! The classic wire: plain bytes, exact reads, and blocks framed by a 4-byte big-endian length
//! prefix (Python's `struct.Struct('!I')`). A length of zero is the end block.
//!
//! TCP is a byte stream: `recv()` returns whatever has arrived, so a reader that needs N bytes
//! loops until it has them (`recv_exact`, the classic `recv_all`), and a frame reader refuses a
//! length above its limit *before* allocating and, below it, grows its buffer only with the bytes
//! that arrive, so a hostile or broken peer cannot make it reserve 4 GiB with four bytes. Sockets, threads and printing are left to `classic/`.

use std::io::{self, IoSlice, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Bytes of a frame header: one `u32`, network byte order.
pub const HEADER_BYTES: usize = 4;

/// Everything that can go wrong on the classic wire. Code branches on the variant (a demo reports
/// `truncated` or `frame_refused`), hence a typed error.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// EOF before `want` bytes of a plain exact read.
    #[error("socket closed after {got} of {want} bytes")]
    Closed { got: usize, want: usize },
    /// EOF inside a frame header.
    #[error(
        "stream cut inside a block header: socket closed after {got} of 4 header bytes; the peer stopped without sending the zero-length end block"
    )]
    CutHeader { got: usize },
    /// EOF inside a frame body.
    #[error(
        "stream cut inside a block body: socket closed after {got} of {want} body bytes ({} missing)",
        want - got
    )]
    CutBody { got: usize, want: usize },
    /// A length prefix above the limit; nothing was allocated for it.
    #[error(
        "peer announced a block of {len} bytes, above the limit of {max} bytes set by --max-frame; refused before allocating; raise --max-frame if the peer is trusted"
    )]
    TooLarge { len: u64, max: u64 },
    /// A block too long for a 4-byte prefix.
    #[error("a block of {len} bytes does not fit a 4-byte length prefix (at most 4294967295)")]
    Unframeable { len: usize },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Fills `buf` completely (the classic `recv_all` loop), calling `seen(n)` after every read that
/// returned `n > 0` bytes. EOF first gives `Closed { got, want }`.
pub fn recv_exact_observed<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    mut seen: impl FnMut(usize),
) -> Result<(), WireError> {
    let want = buf.len();
    let mut got = 0;
    while got < want {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(WireError::Closed { got, want }),
            Ok(n) => {
                got += n;
                seen(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Fills `buf` completely or says how far it got.
pub fn recv_exact<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<(), WireError> {
    recv_exact_observed(r, buf, |_| {})
}

/// Writes all of `data`, looping over short writes (Python's `sendall`).
pub fn send_all<W: Write + ?Sized>(w: &mut W, data: &[u8]) -> Result<(), WireError> {
    Ok(write_all_vectored(w, &mut [IoSlice::new(data)], |_| {})?)
}

/// The same loop, adding each write's return value to `counter` as it comes (one relaxed add per
/// call: the watcher reads the counter on its own clock).
pub fn send_all_counted<W: Write + ?Sized>(
    w: &mut W,
    data: &[u8],
    counter: &AtomicU64,
) -> io::Result<()> {
    write_all_vectored(w, &mut [IoSlice::new(data)], |n| {
        counter.fetch_add(n as u64, Relaxed);
    })
}

/// The one write-all loop: retries short writes and EINTR, reports each write's count.
fn write_all_vectored<W: Write + ?Sized>(
    w: &mut W,
    mut bufs: &mut [IoSlice<'_>],
    mut wrote: impl FnMut(usize),
) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        // One buffer: a plain write() (send), the call the classic programs make.
        let r = match bufs {
            [one] => w.write(one),
            _ => w.write_vectored(bufs),
        };
        match r {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => {
                wrote(n);
                IoSlice::advance_slices(&mut bufs, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends one block: its length as 4 big-endian bytes, then the body. Header and body go in one
/// vectored write where possible, so Nagle's algorithm never holds a lone 4-byte header back.
pub fn write_frame<W: Write + ?Sized>(w: &mut W, body: &[u8]) -> Result<(), WireError> {
    let len = u32::try_from(body.len()).map_err(|_| WireError::Unframeable { len: body.len() })?;
    let header = len.to_be_bytes();
    Ok(write_all_vectored(
        w,
        &mut [IoSlice::new(&header), IoSlice::new(body)],
        |_| {},
    )?)
}

/// The most a frame reader reads (and zero-fills ahead) in one step: its memory follows the bytes
/// that arrive, at most one step ahead of them.
pub const READ_STEP: usize = 64 * 1024;

/// Reads one block into `buf` (cleared first): `Ok(Some(len))` for a block, `Ok(None)` for the
/// zero-length end block. A length above `max_frame` is refused before `buf` grows. Below it, the
/// announced length is only a promise: `buf` grows with the bytes that actually arrive, in reads
/// of at most `READ_STEP`, its capacity doubling as they come and never passing the announced
/// length (so never `max_frame`). A peer that announces 1 GiB and sends 14 bytes costs 64 KiB.
pub fn read_frame<R: Read + ?Sized>(
    r: &mut R,
    max_frame: u64,
    buf: &mut Vec<u8>,
) -> Result<Option<usize>, WireError> {
    let mut header = [0u8; HEADER_BYTES];
    recv_exact(r, &mut header).map_err(|e| match e {
        WireError::Closed { got, .. } => WireError::CutHeader { got },
        e => e,
    })?;
    let len = u32::from_be_bytes(header) as u64;
    if len > max_frame {
        return Err(WireError::TooLarge {
            len,
            max: max_frame,
        });
    }
    buf.clear();
    if len == 0 {
        return Ok(None);
    }
    let len = len as usize;
    while buf.len() < len {
        let got = buf.len();
        if got == buf.capacity() {
            // reserve_exact, not reserve: the amortised growth of `reserve` may pass the
            // announced length, and with it the limit the caller asked for.
            let target = (buf.capacity() * 2).clamp(READ_STEP.min(len), len);
            buf.reserve_exact(target - got);
        }
        let end = (got + READ_STEP).min(len).min(buf.capacity());
        buf.resize(end, 0);
        let read = r.read(&mut buf[got..end]);
        buf.truncate(got + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Err(WireError::CutBody { got, want: len }),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(len))
}

#[cfg(test)]
mod tests;
