//! tcplab's own reader of the kernel's `struct tcp_info` (linux/tcp.h): the bytes that
//! `getsockopt(TCP_INFO)` and the sock_diag `INET_DIAG_INFO` attribute carry, turned into named
//! numbers by a pure function.
//!
//! The struct only ever grows at its tail, so every field is read at a fixed offset (the
//! constants in [`field`]). A kernel older than the field sends fewer bytes: the field then reads
//! as zero, and [`TcpInfo::has`] tells "the kernel said zero" from "the kernel did not send it".
//! Only the fields tcplab uses are read. The tail ones and the kernel that added them:
//! `notsent_bytes` 4.6, `bytes_sent`/`bytes_retrans` 4.19, `snd_wnd` 5.4, `rcv_wnd` 6.2.
//!
//! Where the bytes come from (a socket of ours, another process's socket through sock_diag) is
//! left to `sock` and `diag`; what the numbers mean for a deadlock is left to the rules above.

use crate::sample::TcpInfoView;

/// TCP state as numbered in the kernel's `include/net/tcp_states.h`, named as there
/// (`ESTABLISHED`, `FIN_WAIT1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    /// A request socket (half-open connection waiting for the final ACK), Linux 4.4 on.
    NewSynRecv,
    /// A number this version of tcplab does not know.
    #[strum(serialize = "UNKNOWN")]
    Other(u8),
}

impl TcpState {
    /// The state for the kernel's number (`idiag_state`, `tcpi_state`).
    pub fn from_kernel(n: u8) -> Self {
        match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            12 => TcpState::NewSynRecv,
            n => TcpState::Other(n),
        }
    }
}

/// Where one field of `struct tcp_info` lies: byte offset from the start and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Byte offset from the start of the struct.
    pub offset: usize,
    /// Size in bytes (1, 2, 4 or 8).
    pub size: usize,
}

impl Field {
    const fn new(offset: usize, size: usize) -> Self {
        Field { offset, size }
    }

    /// The first byte after the field: a struct of at least this length contains it.
    pub const fn end(self) -> usize {
        self.offset + self.size
    }
}

/// Offsets of `struct tcp_info` in linux/tcp.h (checked against `libc::tcp_info` in the tests).
pub mod field {
    use super::Field;

    pub const STATE: Field = Field::new(0, 1);
    pub const PROBES: Field = Field::new(3, 1);
    pub const BACKOFF: Field = Field::new(4, 1);
    /// `snd_wscale : 4, rcv_wscale : 4`: two bitfields in one byte.
    pub const WSCALE: Field = Field::new(6, 1);
    pub const UNACKED: Field = Field::new(24, 4);
    pub const TOTAL_RETRANS: Field = Field::new(100, 4);
    pub const BYTES_ACKED: Field = Field::new(120, 8);
    pub const BYTES_RECEIVED: Field = Field::new(128, 8);
    pub const NOTSENT_BYTES: Field = Field::new(144, 4);
    pub const BYTES_SENT: Field = Field::new(200, 8);
    pub const BYTES_RETRANS: Field = Field::new(208, 8);
    pub const SND_WND: Field = Field::new(228, 4);
    pub const RCV_WND: Field = Field::new(232, 4);
}

/// One `struct tcp_info` as the kernel sent it. Every field the kernel did not send (its end lies
/// past [`len`](Self::len)) is zero; ask [`has`](Self::has) before trusting a zero in a tail field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// Bytes of the struct the kernel sent (280 on Linux 6.18, 104 on 3.x).
    pub len: usize,
    /// TCP state as numbered in `include/net/tcp_states.h` (1 = ESTABLISHED, 10 = LISTEN).
    pub state: u8,
    /// Unanswered zero-window or keepalive probes; count. Resets on every incoming ACK, so it
    /// stays near 0 on loopback.
    pub probes: u8,
    /// Exponential back-off of the retransmission or probe timer; doublings.
    pub backoff: u8,
    /// Window scale the peer announced (our sends are scaled by it); shift count, 0–14.
    pub snd_wscale: u8,
    /// Window scale we announced; shift count, 0–14.
    pub rcv_wscale: u8,
    /// Segments sent and not yet acknowledged; count.
    pub unacked: u32,
    /// Retransmitted segments over the connection's life; count.
    pub total_retrans: u32,
    /// Sequence space acknowledged by the peer; bytes. On the active opener this includes the
    /// SYN (+1), and a FIN once acknowledged (+1).
    pub bytes_acked: u64,
    /// Sequence space received in order; bytes (a received FIN adds 1).
    pub bytes_received: u64,
    /// Bytes in the send queue not sent even once (= `SIOCOUTQNSD`); bytes. Since 4.6.
    pub notsent_bytes: u32,
    /// Payload sent, retransmissions included; bytes. Since 4.19.
    pub bytes_sent: u64,
    /// Payload retransmitted; bytes. Since 4.19.
    pub bytes_retrans: u64,
    /// The peer's advertised receive window, scaled; bytes. 0 is a zero window. Since 5.4.
    pub snd_wnd: u32,
    /// The receive window we last advertised, scaled; bytes. 0 is a zero window. Since 6.2.
    pub rcv_wnd: u32,
}

impl TcpInfo {
    /// Whether the kernel sent `f` at all (a shorter struct from an older kernel does not).
    pub fn has(&self, f: Field) -> bool {
        f.end() <= self.len
    }

    /// The fields the observation model keeps, each `None` when the kernel did not send it.
    pub fn view(&self) -> TcpInfoView {
        let opt32 = |f: Field, v: u32| self.has(f).then_some(v);
        let opt64 = |f: Field, v: u64| self.has(f).then_some(v);
        TcpInfoView {
            state: self
                .has(field::STATE)
                .then(|| <&str>::from(TcpState::from_kernel(self.state)).to_string()),
            zero_window_probes: opt32(field::PROBES, u32::from(self.probes)),
            snd_wscale: opt32(field::WSCALE, u32::from(self.snd_wscale)),
            rcv_wscale: opt32(field::WSCALE, u32::from(self.rcv_wscale)),
            total_retrans: opt32(field::TOTAL_RETRANS, self.total_retrans),
            notsent_bytes: opt64(field::NOTSENT_BYTES, u64::from(self.notsent_bytes)),
            snd_wnd_bytes: opt64(field::SND_WND, u64::from(self.snd_wnd)),
            rcv_wnd_bytes: opt64(field::RCV_WND, u64::from(self.rcv_wnd)),
            bytes_acked: opt64(field::BYTES_ACKED, self.bytes_acked),
            bytes_received: opt64(field::BYTES_RECEIVED, self.bytes_received),
            backoff: opt32(field::BACKOFF, u32::from(self.backoff)),
        }
    }

    /// Whether the zero-window probe (persist) timer must be armed: the kernel arms it when the
    /// peer's window is zero, data waits to be sent and nothing is in flight
    /// (tcp_check_probe_timer, net/ipv4/tcp_output.c). `None` when a field is missing.
    pub fn must_probe(&self) -> Option<bool> {
        let known = [field::SND_WND, field::NOTSENT_BYTES, field::UNACKED];
        known
            .iter()
            .all(|f| self.has(*f))
            .then_some(self.snd_wnd == 0 && self.notsent_bytes > 0 && self.unacked == 0)
    }
}

/// Reads the bytes of a `struct tcp_info` in the host's byte order, as the kernel writes them.
/// Any length is accepted: missing tail fields read as zero, extra tail bytes are ignored.
pub fn parse(bytes: &[u8]) -> TcpInfo {
    let r = Reader(bytes);
    let wscale = r.u8(field::WSCALE);
    let (snd_wscale, rcv_wscale) = split_wscale(wscale);
    TcpInfo {
        len: bytes.len(),
        state: r.u8(field::STATE),
        probes: r.u8(field::PROBES),
        backoff: r.u8(field::BACKOFF),
        snd_wscale,
        rcv_wscale,
        unacked: r.u32(field::UNACKED),
        total_retrans: r.u32(field::TOTAL_RETRANS),
        bytes_acked: r.u64(field::BYTES_ACKED),
        bytes_received: r.u64(field::BYTES_RECEIVED),
        notsent_bytes: r.u32(field::NOTSENT_BYTES),
        bytes_sent: r.u64(field::BYTES_SENT),
        bytes_retrans: r.u64(field::BYTES_RETRANS),
        snd_wnd: r.u32(field::SND_WND),
        rcv_wnd: r.u32(field::RCV_WND),
    }
}

// C bitfields are allocated from the least significant bit on little-endian ABIs and from the
// most significant bit on big-endian ones, so the first-declared field moves with the byte order.
#[cfg(target_endian = "little")]
fn split_wscale(b: u8) -> (u8, u8) {
    (b & 0x0f, b >> 4)
}

#[cfg(target_endian = "big")]
fn split_wscale(b: u8) -> (u8, u8) {
    (b >> 4, b & 0x0f)
}

/// Fixed-size reads that yield zero for a field not wholly inside the buffer.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&self, f: Field) -> [u8; N] {
        debug_assert_eq!(f.size, N);
        self.0
            .get(f.offset..f.offset + N)
            .and_then(|s| <[u8; N]>::try_from(s).ok())
            .unwrap_or([0; N])
    }

    fn u8(&self, f: Field) -> u8 {
        u8::from_ne_bytes(self.bytes(f))
    }

    fn u32(&self, f: Field) -> u32 {
        u32::from_ne_bytes(self.bytes(f))
    }

    fn u64(&self, f: Field) -> u64 {
        u64::from_ne_bytes(self.bytes(f))
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The value `v` as the type of `libc::tcp_info`'s field that `pick` selects: the tests write
    /// fields with libc's types and offsets without building a whole struct (libc adds fields as
    /// kernels do, which would break a struct literal).
    fn typed<T: Copy>(_pick: impl Fn(&libc::tcp_info) -> &T, v: T) -> T {
        v
    }

    /// Writes `value` into `buf` where `libc`'s copy of linux/tcp.h puts the field `name`, so the
    /// buffer is laid out independently of [`field`].
    macro_rules! put {
        ($buf:expr, $name:ident = $value:expr) => {{
            let bytes = typed(|i| &i.$name, $value).to_ne_bytes();
            let at = offset_of!(libc::tcp_info, $name);
            $buf[at..at + bytes.len()].copy_from_slice(&bytes);
        }};
    }

    /// A `struct tcp_info` with a distinct number in every field, and a
    /// value above 2^32 in every 64-bit one.
    fn known_bytes() -> Vec<u8> {
        let mut b = vec![0u8; size_of::<libc::tcp_info>()];
        put!(b, tcpi_state = 1);
        put!(b, tcpi_ca_state = 4);
        put!(b, tcpi_retransmits = 3);
        put!(b, tcpi_probes = 5);
        put!(b, tcpi_backoff = 6);
        put!(b, tcpi_options = 7);
        put!(b, tcpi_snd_rcv_wscale = 0xa7); // snd 7, rcv 10
        put!(b, tcpi_rto = 204_000);
        put!(b, tcpi_ato = 40_000);
        put!(b, tcpi_snd_mss = 32_768);
        put!(b, tcpi_rcv_mss = 536);
        put!(b, tcpi_unacked = 11);
        put!(b, tcpi_sacked = 12);
        put!(b, tcpi_lost = 13);
        put!(b, tcpi_retrans = 14);
        put!(b, tcpi_fackets = 15);
        put!(b, tcpi_last_data_sent = 16);
        put!(b, tcpi_last_ack_sent = 17);
        put!(b, tcpi_last_data_recv = 18);
        put!(b, tcpi_last_ack_recv = 19);
        put!(b, tcpi_pmtu = 65_535);
        put!(b, tcpi_rcv_ssthresh = 21);
        put!(b, tcpi_rtt = 22);
        put!(b, tcpi_rttvar = 23);
        put!(b, tcpi_snd_ssthresh = 24);
        put!(b, tcpi_snd_cwnd = 25);
        put!(b, tcpi_advmss = 26);
        put!(b, tcpi_reordering = 27);
        put!(b, tcpi_rcv_rtt = 28);
        put!(b, tcpi_rcv_space = 29);
        put!(b, tcpi_total_retrans = 30);
        put!(b, tcpi_pacing_rate = 31 << 33);
        put!(b, tcpi_max_pacing_rate = 32);
        put!(b, tcpi_bytes_acked = 5_559_569 + (1 << 40));
        put!(b, tcpi_bytes_received = 864_256 + (1 << 41));
        put!(b, tcpi_segs_out = 35);
        put!(b, tcpi_segs_in = 36);
        put!(b, tcpi_notsent_bytes = 3_453_408);
        put!(b, tcpi_min_rtt = 38);
        put!(b, tcpi_data_segs_in = 39);
        put!(b, tcpi_data_segs_out = 40);
        put!(b, tcpi_delivery_rate = 41 << 34);
        put!(b, tcpi_busy_time = 42 << 35);
        put!(b, tcpi_rwnd_limited = 43 << 36);
        put!(b, tcpi_sndbuf_limited = 44 << 37);
        put!(b, tcpi_delivered = 45);
        put!(b, tcpi_delivered_ce = 46);
        put!(b, tcpi_bytes_sent = 47 << 38);
        put!(b, tcpi_bytes_retrans = 48 << 39);
        put!(b, tcpi_dsack_dups = 49);
        put!(b, tcpi_reord_seen = 50);
        put!(b, tcpi_rcv_ooopack = 51);
        put!(b, tcpi_snd_wnd = 52);
        put!(b, tcpi_rcv_wnd = 53);
        put!(b, tcpi_rehash = 54);
        put!(b, tcpi_total_rto = 55);
        put!(b, tcpi_total_rto_recoveries = 56);
        put!(b, tcpi_total_rto_time = 57);
        b
    }

    #[test]
    fn every_offset_matches_the_libc_layout_of_linux_tcp_h() {
        macro_rules! same {
            ($f:expr, $name:ident) => {{
                let size = size_of_val(&typed(|i| &i.$name, Default::default()));
                assert_eq!(
                    ($f.offset, $f.size),
                    (offset_of!(libc::tcp_info, $name), size),
                    "{}",
                    stringify!($name)
                );
            }};
        }
        same!(field::STATE, tcpi_state);
        same!(field::PROBES, tcpi_probes);
        same!(field::BACKOFF, tcpi_backoff);
        same!(field::WSCALE, tcpi_snd_rcv_wscale);
        same!(field::UNACKED, tcpi_unacked);
        same!(field::TOTAL_RETRANS, tcpi_total_retrans);
        same!(field::BYTES_ACKED, tcpi_bytes_acked);
        same!(field::BYTES_RECEIVED, tcpi_bytes_received);
        same!(field::NOTSENT_BYTES, tcpi_notsent_bytes);
        same!(field::BYTES_SENT, tcpi_bytes_sent);
        same!(field::BYTES_RETRANS, tcpi_bytes_retrans);
        same!(field::SND_WND, tcpi_snd_wnd);
        same!(field::RCV_WND, tcpi_rcv_wnd);
    }

    #[test]
    fn a_full_struct_parses_back_to_the_values_written() {
        let got = parse(&known_bytes());
        assert_eq!(got.len, size_of::<libc::tcp_info>());
        assert_eq!((got.state, got.probes, got.backoff), (1, 5, 6));
        assert_eq!((got.snd_wscale, got.rcv_wscale), (7, 10));
        assert_eq!((got.unacked, got.total_retrans), (11, 30));
        assert_eq!(got.bytes_acked, 5_559_569 + (1 << 40));
        assert_eq!(got.bytes_received, 864_256 + (1 << 41));
        assert_eq!(got.notsent_bytes, 3_453_408);
        assert_eq!(got.bytes_sent, 47 << 38);
        assert_eq!(got.bytes_retrans, 48 << 39);
        assert_eq!((got.snd_wnd, got.rcv_wnd), (52, 53));
        assert!(got.has(field::RCV_WND));
    }

    /// What a 4.9 kernel sends: the struct ends after `delivery_rate`, before `busy_time`.
    const LEN_LINUX_4_9: usize = 168;

    #[test]
    fn a_struct_from_an_older_kernel_zero_fills_the_tail_and_says_so() {
        let bytes = known_bytes();
        let got = parse(&bytes[..LEN_LINUX_4_9]);
        assert_eq!(got.len, LEN_LINUX_4_9);
        assert_eq!(got.notsent_bytes, 3_453_408);
        assert!(got.has(field::NOTSENT_BYTES));
        assert_eq!((got.bytes_sent, got.snd_wnd, got.rcv_wnd), (0, 0, 0));
        assert!(!got.has(field::BYTES_SENT));
        assert!(!got.has(field::SND_WND));
        assert!(!got.has(field::RCV_WND));
    }

    #[test]
    fn a_field_cut_in_half_reads_as_zero_not_as_a_fragment() {
        let bytes = known_bytes();
        let got = parse(&bytes[..field::RCV_WND.offset + 2]);
        assert_eq!(got.snd_wnd, 52);
        assert_eq!(got.rcv_wnd, 0);
        assert!(!got.has(field::RCV_WND));
    }

    #[test]
    fn an_empty_buffer_is_all_zero() {
        assert_eq!(parse(&[]), TcpInfo::default());
    }
}
