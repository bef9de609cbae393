//! What the client sends and how the echo is checked: the message `capitalize this!` repeated to
//! fill a chunk, and a streaming verifier that compares every byte that comes back with the
//! uppercased input without storing the stream.

/// The classic client's 16-byte message.
pub const MESSAGE: &[u8; 16] = b"capitalize this!";

/// One chunk of the client's stream: `MESSAGE` repeated to `len` bytes.
pub fn chunk(len: usize) -> Vec<u8> {
    MESSAGE.iter().copied().cycle().take(len).collect()
}

/// Rounds `bytes` up to whole chunks.
pub fn rounded_total(bytes: u64, chunk: u64) -> u64 {
    bytes.div_ceil(chunk) * chunk
}

/// The server's transformation: ASCII letters uppercased, every other byte unchanged.
pub fn uppercase_in_place(buf: &mut [u8]) {
    buf.make_ascii_uppercase();
}

/// How the sent stream was cut: normally whole chunks; the send-once strategy records runs of
/// equal accepted lengths (each a prefix of the chunk) because its stream has gaps.
#[derive(Debug, Clone)]
pub enum Layout {
    /// `total` bytes of back-to-back chunks.
    Whole { total: u64 },
    /// Runs of `(accepted_len, count)`: `count` sends that each accepted the first
    /// `accepted_len` bytes of the chunk.
    Runs(Vec<(u32, u64)>),
}

/// Bytes kept from the start of the echo, to quote a peer that answered with text instead (a busy
/// classroom server's refusal, or a server of another protocol).
const HEAD: usize = 120;

/// `MESSAGE` uppercased: every chunk is `MESSAGE` repeated, so byte `i` of any chunk comes back
/// as `UPPER[i % 16]`, and the verifier needs no copy of the chunk (which may be 1 GiB).
const UPPER: [u8; 16] = *b"CAPITALIZE THIS!";

/// Checks the echo against the expected uppercased stream, a slice at a time. Building one costs
/// nothing whatever the chunk size, so a reader thread is reading as soon as it starts.
pub struct Verifier {
    head: [u8; HEAD],
    head_len: usize,
    runs: Vec<(u32, u64)>,
    run: usize,
    run_done: u64,
    pos: usize,
    expected: u64,
    received: u64,
    mismatch: Option<u64>,
}

impl Verifier {
    /// `chunk_len` is the size of one chunk (each one `MESSAGE` repeated).
    pub fn new(chunk_len: usize, layout: Layout) -> Verifier {
        let len = chunk_len as u64;
        let runs = match layout {
            Layout::Whole { total } => vec![(len as u32, total / len), ((total % len) as u32, 1)],
            Layout::Runs(r) => r,
        };
        let runs: Vec<(u32, u64)> = runs.into_iter().filter(|&(l, c)| l > 0 && c > 0).collect();
        let expected = runs.iter().map(|&(l, c)| u64::from(l) * c).sum();
        Verifier {
            head: [0; HEAD],
            head_len: 0,
            runs,
            run: 0,
            run_done: 0,
            pos: 0,
            expected,
            received: 0,
            mismatch: None,
        }
    }

    /// Feeds bytes as they arrive.
    pub fn feed(&mut self, mut data: &[u8]) {
        if self.head_len < HEAD {
            let n = (HEAD - self.head_len).min(data.len());
            self.head[self.head_len..self.head_len + n].copy_from_slice(&data[..n]);
            self.head_len += n;
        }
        while !data.is_empty() {
            let Some(&(len, count)) = self.runs.get(self.run) else {
                // More came back than was sent.
                self.mismatch.get_or_insert(self.received);
                self.received += data.len() as u64;
                return;
            };
            let len = len as usize;
            let take = (len - self.pos).min(data.len());
            if self.mismatch.is_none()
                && let Some(off) = first_difference(&data[..take], self.pos)
            {
                self.mismatch = Some(self.received + off as u64);
            }
            self.received += take as u64;
            data = &data[take..];
            self.pos += take;
            if self.pos == len {
                self.pos = 0;
                self.run_done += 1;
                if self.run_done == count {
                    self.run += 1;
                    self.run_done = 0;
                }
            }
        }
    }

    pub fn finish(&self) -> crate::result::Verification {
        let short = (self.received < self.expected).then_some(self.received);
        let first_mismatch_at = self.mismatch.or(short);
        crate::result::Verification {
            expected_bytes: self.expected,
            received_bytes: self.received,
            first_mismatch_at,
            matched: first_mismatch_at.is_none(),
            peer_said: (self.mismatch == Some(0))
                .then(|| self.head_as_text())
                .flatten(),
        }
    }

    /// Whether a difference was already found (a reader can stop at once).
    pub fn mismatched(&self) -> bool {
        self.mismatch.is_some()
    }

    /// The first line of what came back, when it reads as text.
    fn head_as_text(&self) -> Option<String> {
        let head = &self.head[..self.head_len];
        let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        let text = |b: &u8| *b == b'\r' || *b == b'\t' || (0x20..0x7f).contains(b);
        (!line.is_empty() && line.iter().all(text))
            .then(|| String::from_utf8_lossy(line).trim().to_string())
    }
}

/// The offset in `data` of the first byte that differs from the uppercased message, for data that
/// starts at offset `pos` of a chunk.
fn first_difference(data: &[u8], pos: usize) -> Option<usize> {
    let start = pos % UPPER.len();
    data.iter()
        .zip(UPPER.iter().cycle().skip(start))
        .position(|(a, b)| a != b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(stream: &[u8]) -> Vec<u8> {
        let mut v = stream.to_vec();
        uppercase_in_place(&mut v);
        v
    }

    #[test]
    fn whole_chunks_verify_in_any_cut() {
        let c = chunk(16);
        let stream: Vec<u8> = c.iter().copied().cycle().take(16 * 100).collect();
        let back = echo(&stream);
        for cut in [1, 7, 16, 33, 1024] {
            let mut v = Verifier::new(c.len(), Layout::Whole { total: 1600 });
            back.chunks(cut).for_each(|p| v.feed(p));
            let r = v.finish();
            assert!(r.matched, "cut {cut}: {r:?}");
            assert_eq!(r.received_bytes, 1600);
        }
    }

    #[test]
    fn a_changed_byte_is_found_at_its_offset() {
        let c = chunk(16);
        let mut back = echo(&c.repeat(4));
        back[37] = b'x';
        let mut v = Verifier::new(c.len(), Layout::Whole { total: 64 });
        v.feed(&back);
        assert_eq!(v.finish().first_mismatch_at, Some(37));
    }

    #[test]
    fn a_short_echo_is_not_a_match() {
        let c = chunk(16);
        let mut v = Verifier::new(c.len(), Layout::Whole { total: 64 });
        v.feed(&echo(&c.repeat(3)));
        let r = v.finish();
        assert!(!r.matched);
        assert_eq!(r.first_mismatch_at, Some(48));
    }

    #[test]
    fn lowercase_input_is_not_an_echo() {
        let c = chunk(16);
        let mut v = Verifier::new(c.len(), Layout::Whole { total: 16 });
        v.feed(&c);
        assert_eq!(v.finish().first_mismatch_at, Some(0));
    }

    #[test]
    fn runs_of_prefixes_verify() {
        let c = chunk(16);
        let mut stream = c.repeat(2);
        stream.extend_from_slice(&c[..5]);
        stream.extend_from_slice(&c);
        let mut v = Verifier::new(c.len(), Layout::Runs(vec![(16, 2), (5, 1), (16, 1)]));
        v.feed(&echo(&stream));
        let r = v.finish();
        assert!(r.matched, "{r:?}");
        assert_eq!(r.expected_bytes, 53);
    }

    #[test]
    fn text_instead_of_an_echo_is_quoted() {
        let c = chunk(16);
        let mut v = Verifier::new(c.len(), Layout::Whole { total: 64 });
        v.feed(b"tcplab server busy: 2 connections already open\n");
        let r = v.finish();
        assert!(!r.matched);
        assert_eq!(
            r.peer_said.as_deref(),
            Some("tcplab server busy: 2 connections already open")
        );
        let mut v = Verifier::new(c.len(), Layout::Whole { total: 64 });
        v.feed(&echo(&c));
        assert_eq!(
            v.finish().peer_said,
            None,
            "a short but correct echo is not peer text"
        );
    }

    #[test]
    fn the_uppercased_message_is_the_uppercased_chunk() {
        let mut m = *MESSAGE;
        uppercase_in_place(&mut m);
        assert_eq!(m, UPPER);
    }

    #[test]
    fn a_huge_chunk_costs_the_verifier_nothing() {
        let mut v = Verifier::new(1 << 30, Layout::Whole { total: 1 << 30 });
        v.feed(&echo(&chunk(4096)));
        assert!(!v.mismatched());
        assert_eq!(v.finish().received_bytes, 4096);
    }

    #[test]
    fn non_ascii_bytes_pass_through_unchanged() {
        let mut b = vec![0xff, b'a', 0xc3, 0xa9, b'z', 0];
        uppercase_in_place(&mut b);
        assert_eq!(b, vec![0xff, b'A', 0xc3, 0xa9, b'Z', 0]);
    }
}
