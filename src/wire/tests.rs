//! Property tests of the classic wire: blocks survive any pattern of short reads and short
//! writes, every truncation is reported (never a panic), and no length prefix makes the decoder
//! allocate past its limit.

use std::io::{self, Read, Write};

use proptest::prelude::*;

use super::*;

/// Hands out at most `steps[i]` bytes per read (cycling), with an EINTR now and then, like a
/// socket whose data arrives in small pieces.
struct ChoppyReader<'a> {
    data: &'a [u8],
    steps: &'a [usize],
    i: usize,
}

impl Read for ChoppyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let step = self.steps[self.i % self.steps.len()];
        self.i += 1;
        if step == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Accepts at most `steps[i]` bytes per write (cycling), with an EINTR now and then.
struct ChoppyWriter<'a> {
    out: Vec<u8>,
    steps: &'a [usize],
    i: usize,
}

impl Write for ChoppyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let step = self.steps[self.i % self.steps.len()];
        self.i += 1;
        if step == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = step.min(buf.len());
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Serves exactly one header and fails the test if anyone reads further.
struct HeaderOnly {
    header: [u8; 4],
    pos: usize,
}

impl Read for HeaderOnly {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        assert!(
            self.pos < 4,
            "the decoder read past the header of an oversized block"
        );
        let n = (4 - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.header[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn encode(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in blocks {
        write_frame(&mut out, b).unwrap();
    }
    write_frame(&mut out, b"").unwrap();
    out
}

fn blocks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 0..12)
}

fn steps() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..40, 1..20)
        .prop_filter("some step moves bytes", |s| s.iter().any(|&n| n > 0))
}

#[test]
fn a_short_stream_names_both_numbers() {
    let mut r: &[u8] = b"Hi th";
    let mut buf = [0u8; 16];
    let e = recv_exact(&mut r, &mut buf).unwrap_err();
    assert_eq!(e.to_string(), "socket closed after 5 of 16 bytes");
}

#[test]
fn an_oversized_prefix_names_the_length_the_limit_and_the_flag() {
    let mut r = HeaderOnly {
        header: 2_000_000u32.to_be_bytes(),
        pos: 0,
    };
    let e = read_frame(&mut r, 1 << 20, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2000000") && e.contains("1048576") && e.contains("--max-frame"),
        "{e}"
    );
}

#[test]
fn a_cut_body_says_how_many_bytes_are_missing() {
    let mut data = 30u32.to_be_bytes().to_vec();
    data.extend_from_slice(&[b'x'; 12]);
    let e = read_frame(&mut &data[..], 100, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("12 of 30 body bytes (18 missing)"), "{e}");
}

/// A peer that announces `len` bytes and sends only `body` of them, then EOF, in reads of at most
/// 4 KiB.
struct Announced {
    header: [u8; 4],
    body: usize,
    pos: usize,
}

fn announced(len: u32, body: usize) -> Announced {
    Announced {
        header: len.to_be_bytes(),
        body,
        pos: 0,
    }
}

impl Read for Announced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < 4 {
            let n = (4 - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.header[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        let n = (4 + self.body - self.pos).min(buf.len()).min(4096);
        buf[..n].fill(b'x');
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_block_announced_at_1_gib_costs_only_what_arrived() {
    let mut buf = Vec::new();
    let e = read_frame(&mut announced(1 << 30, 14), u32::MAX as u64, &mut buf).unwrap_err();
    assert!(
        matches!(e, WireError::CutBody { got: 14, want } if want == 1 << 30),
        "{e}"
    );
    assert_eq!(buf.capacity(), READ_STEP);
    let e = read_frame(&mut announced(1 << 30, 100_000), u32::MAX as u64, &mut buf).unwrap_err();
    assert!(matches!(e, WireError::CutBody { got: 100_000, .. }), "{e}");
    assert!(buf.capacity() <= 4 * READ_STEP, "{}", buf.capacity());
}

proptest! {
    /// The incremental growth: whatever length is announced, the buffer stays within one read
    /// step or twice the bytes that arrived, and never passes the announced length.
    #[test]
    fn the_buffer_grows_with_the_bytes_that_arrive_not_with_the_announced_length(
        len in 1u32..=u32::MAX, body in 0usize..300_000
    ) {
        let body = body.min(len as usize);
        let mut buf = Vec::new();
        let res = read_frame(&mut announced(len, body), u32::MAX as u64, &mut buf);
        let bound = READ_STEP.max(2 * body).min(len as usize);
        prop_assert!(buf.capacity() <= bound, "capacity {} above {}", buf.capacity(), bound);
        if body < len as usize {
            let cut = matches!(res, Err(WireError::CutBody { got, want })
                if got == body && want == len as usize);
            prop_assert!(cut, "{:?}", res.map_err(|e| e.to_string()));
        } else {
            prop_assert_eq!(res.ok().flatten(), Some(body));
            prop_assert_eq!(buf.len(), body);
        }
    }

    #[test]
    fn blocks_round_trip_through_short_reads_and_writes(
        blocks in blocks(), wsteps in steps(), rsteps in steps()
    ) {
        let mut w = ChoppyWriter { out: Vec::new(), steps: &wsteps, i: 0 };
        for b in &blocks {
            write_frame(&mut w, b).unwrap();
        }
        write_frame(&mut w, b"").unwrap();
        prop_assert_eq!(&w.out, &encode(&blocks));
        let mut r = ChoppyReader { data: &w.out, steps: &rsteps, i: 0 };
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(n) = read_frame(&mut r, 300, &mut buf).unwrap() {
            got.push(buf[..n].to_vec());
        }
        prop_assert_eq!(got, blocks);
        prop_assert!(r.data.is_empty());
    }

    #[test]
    fn every_truncation_is_reported_with_its_position(
        blocks in blocks(), rsteps in steps(), cut in any::<prop::sample::Index>()
    ) {
        let full = encode(&blocks);
        let cut = cut.index(full.len()); // strictly before the end: the end block is incomplete
        let mut r = ChoppyReader { data: &full[..cut], steps: &rsteps, i: 0 };
        let mut buf = Vec::new();
        // Where the cut falls: walk the frames of the full stream.
        let mut at = 0;
        let expected = loop {
            let body = if at + 4 <= full.len() {
                u32::from_be_bytes(full[at..at + 4].try_into().unwrap()) as usize
            } else { 0 };
            if cut < at + 4 {
                break format!("after {} of 4 header bytes", cut - at);
            }
            if cut < at + 4 + body {
                break format!("after {} of {} body bytes", cut - at - 4, body);
            }
            at += 4 + body;
        };
        let err = loop {
            match read_frame(&mut r, 300, &mut buf) {
                Ok(Some(_)) => {}
                Ok(None) => panic!("an end block was read from a cut stream"),
                Err(e) => break e,
            }
        };
        let cut = matches!(
            err,
            WireError::Closed { .. } | WireError::CutHeader { .. } | WireError::CutBody { .. }
        );
        prop_assert!(cut, "{err:?}");
        prop_assert!(err.to_string().contains(&expected), "{} lacks {}", err, expected);
    }

    #[test]
    fn an_oversized_prefix_is_refused_without_allocating(
        max in 0u64..1_000_000, over in 1u64..1_000_000
    ) {
        let len = (max + over).min(u32::MAX as u64);
        prop_assume!(len > max);
        let mut r = HeaderOnly { header: (len as u32).to_be_bytes(), pos: 0 };
        let mut buf = Vec::with_capacity(16);
        let e = read_frame(&mut r, max, &mut buf).unwrap_err();
        let refused = matches!(e, WireError::TooLarge { len: l, max: m } if l == len && m == max);
        prop_assert!(refused, "wrong error: {}", e);
        prop_assert_eq!(buf.capacity(), 16);
    }

    /// The fuzz requirement: arbitrary bytes never panic the decoder, and the buffer never grows
    /// past the limit.
    #[test]
    fn arbitrary_bytes_never_panic_or_grow_the_buffer_past_the_limit(
        data in prop::collection::vec(any::<u8>(), 0..2000), max in 0u64..600, rsteps in steps()
    ) {
        let mut r = ChoppyReader { data: &data, steps: &rsteps, i: 0 };
        let mut buf = Vec::new();
        for _ in 0..data.len() + 1 {
            let res = read_frame(&mut r, max, &mut buf);
            prop_assert!(buf.capacity() as u64 <= max, "capacity {} above {}", buf.capacity(), max);
            match res {
                Ok(Some(n)) => prop_assert!(n as u64 <= max && n > 0),
                Ok(None) | Err(_) => break,
            }
        }
    }
}
