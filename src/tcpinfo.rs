//! tcplab's own reader of the kernel's `struct tcp_info` (linux/tcp.h): the bytes that
//! `getsockopt(TCP_INFO)` and the sock_diag `INET_DIAG_INFO` attribute carry, turned into named
//! numbers by a pure function.
//!
//! The struct only ever grows at its tail, so every field is read at a fixed offset (the
//! constants in [`field`]). A kernel older than the field sends fewer bytes: the field then reads
//! as zero, and [`TcpInfo::has`] tells "the kernel said zero" from "the kernel did not send it".
//! Fields and the kernel that added them: `notsent_bytes` 4.6, `busy_time`/`rwnd_limited`/
//! `sndbuf_limited` 4.10, `bytes_sent`/`bytes_retrans` 4.19, `snd_wnd` 5.4, `rcv_wnd` and
//! `total_rto*` 6.2 (newer tail fields are left unread).
//!
//! Where the bytes come from (a socket of ours, another process's socket through sock_diag) is
//! left to `sock` and `diag`; what the numbers mean for a deadlock is left to the rules above.

use crate::sample::TcpInfoView;

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
    pub const CA_STATE: Field = Field::new(1, 1);
    pub const RETRANSMITS: Field = Field::new(2, 1);
    pub const PROBES: Field = Field::new(3, 1);
    pub const BACKOFF: Field = Field::new(4, 1);
    pub const OPTIONS: Field = Field::new(5, 1);
    /// `snd_wscale : 4, rcv_wscale : 4`: two bitfields in one byte.
    pub const WSCALE: Field = Field::new(6, 1);
    /// `delivery_rate_app_limited : 1, fastopen_client_fail : 2`.
    pub const APP_LIMITED: Field = Field::new(7, 1);
    pub const RTO: Field = Field::new(8, 4);
    pub const ATO: Field = Field::new(12, 4);
    pub const SND_MSS: Field = Field::new(16, 4);
    pub const RCV_MSS: Field = Field::new(20, 4);
    pub const UNACKED: Field = Field::new(24, 4);
    pub const SACKED: Field = Field::new(28, 4);
    pub const LOST: Field = Field::new(32, 4);
    pub const RETRANS: Field = Field::new(36, 4);
    pub const LAST_DATA_SENT: Field = Field::new(44, 4);
    pub const LAST_DATA_RECV: Field = Field::new(52, 4);
    pub const LAST_ACK_RECV: Field = Field::new(56, 4);
    pub const PMTU: Field = Field::new(60, 4);
    pub const RCV_SSTHRESH: Field = Field::new(64, 4);
    pub const RTT: Field = Field::new(68, 4);
    pub const RTTVAR: Field = Field::new(72, 4);
    pub const SND_SSTHRESH: Field = Field::new(76, 4);
    pub const SND_CWND: Field = Field::new(80, 4);
    pub const ADVMSS: Field = Field::new(84, 4);
    pub const RCV_SPACE: Field = Field::new(96, 4);
    pub const TOTAL_RETRANS: Field = Field::new(100, 4);
    pub const PACING_RATE: Field = Field::new(104, 8);
    pub const BYTES_ACKED: Field = Field::new(120, 8);
    pub const BYTES_RECEIVED: Field = Field::new(128, 8);
    pub const SEGS_OUT: Field = Field::new(136, 4);
    pub const SEGS_IN: Field = Field::new(140, 4);
    pub const NOTSENT_BYTES: Field = Field::new(144, 4);
    pub const MIN_RTT: Field = Field::new(148, 4);
    pub const DATA_SEGS_IN: Field = Field::new(152, 4);
    pub const DATA_SEGS_OUT: Field = Field::new(156, 4);
    pub const DELIVERY_RATE: Field = Field::new(160, 8);
    pub const BUSY_TIME: Field = Field::new(168, 8);
    pub const RWND_LIMITED: Field = Field::new(176, 8);
    pub const SNDBUF_LIMITED: Field = Field::new(184, 8);
    pub const DELIVERED: Field = Field::new(192, 4);
    pub const BYTES_SENT: Field = Field::new(200, 8);
    pub const BYTES_RETRANS: Field = Field::new(208, 8);
    pub const SND_WND: Field = Field::new(228, 4);
    pub const RCV_WND: Field = Field::new(232, 4);
    pub const REHASH: Field = Field::new(236, 4);
    pub const TOTAL_RTO: Field = Field::new(240, 2);
    pub const TOTAL_RTO_RECOVERIES: Field = Field::new(242, 2);
    pub const TOTAL_RTO_TIME: Field = Field::new(244, 4);
}

/// One `struct tcp_info` as the kernel sent it. Every field the kernel did not send (its end lies
/// past [`len`](Self::len)) is zero; ask [`has`](Self::has) before trusting a zero in a tail field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// Bytes of the struct the kernel sent (280 on Linux 6.18, 104 on 3.x).
    pub len: usize,
    /// TCP state as numbered in `include/net/tcp_states.h` (1 = ESTABLISHED, 10 = LISTEN).
    pub state: u8,
    /// Congestion-avoidance state: 0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss.
    pub ca_state: u8,
    /// Retransmissions of the current head segment (resets when it is acknowledged); count.
    pub retransmits: u8,
    /// Unanswered zero-window or keepalive probes; count. Resets on every incoming ACK, so it
    /// stays near 0 on loopback.
    pub probes: u8,
    /// Exponential back-off of the retransmission or probe timer; doublings.
    pub backoff: u8,
    /// Negotiated options, bits: 1 timestamps, 2 SACK, 4 window scaling, 8 ECN.
    pub options: u8,
    /// Window scale the peer announced (our sends are scaled by it); shift count, 0–14.
    pub snd_wscale: u8,
    /// Window scale we announced; shift count, 0–14.
    pub rcv_wscale: u8,
    /// The last delivery-rate sample was limited by the application, not the network.
    pub delivery_rate_app_limited: bool,
    /// Retransmission timeout; microseconds.
    pub rto: u32,
    /// Delayed-ACK timeout; microseconds.
    pub ato: u32,
    /// Sender maximum segment size; bytes.
    pub snd_mss: u32,
    /// Receiver's estimate of the peer's segment size; bytes.
    pub rcv_mss: u32,
    /// Segments sent and not yet acknowledged; count.
    pub unacked: u32,
    /// Segments selectively acknowledged; count.
    pub sacked: u32,
    /// Segments considered lost; count.
    pub lost: u32,
    /// Segments retransmitted and not yet acknowledged; count.
    pub retrans: u32,
    /// Time since the last data segment was sent; milliseconds.
    pub last_data_sent: u32,
    /// Time since the last data segment was received; milliseconds.
    pub last_data_recv: u32,
    /// Time since the last ACK was received; milliseconds.
    pub last_ack_recv: u32,
    /// Path MTU; bytes.
    pub pmtu: u32,
    /// Current receive slow-start threshold (the window we are willing to grow to); bytes.
    pub rcv_ssthresh: u32,
    /// Smoothed round-trip time; microseconds.
    pub rtt: u32,
    /// Round-trip time variation; microseconds.
    pub rttvar: u32,
    /// Slow-start threshold; segments (a huge value means "still in initial slow start").
    pub snd_ssthresh: u32,
    /// Congestion window; segments.
    pub snd_cwnd: u32,
    /// Advertised MSS; bytes.
    pub advmss: u32,
    /// Receive-buffer autotuning target; bytes.
    pub rcv_space: u32,
    /// Retransmitted segments over the connection's life; count.
    pub total_retrans: u32,
    /// Pacing rate; bytes per second.
    pub pacing_rate: u64,
    /// Sequence space acknowledged by the peer; bytes. On the active opener this includes the
    /// SYN (+1), and a FIN once acknowledged (+1).
    pub bytes_acked: u64,
    /// Sequence space received in order; bytes (a received FIN adds 1).
    pub bytes_received: u64,
    /// Segments sent, retransmissions and pure ACKs included; count.
    pub segs_out: u32,
    /// Segments received; count.
    pub segs_in: u32,
    /// Bytes in the send queue not sent even once (= `SIOCOUTQNSD`); bytes. Since 4.6.
    pub notsent_bytes: u32,
    /// Minimum RTT seen in the recent window; microseconds.
    pub min_rtt: u32,
    /// Segments received that carried data; count.
    pub data_segs_in: u32,
    /// Segments sent that carried data; count.
    pub data_segs_out: u32,
    /// Latest delivery-rate estimate; bytes per second.
    pub delivery_rate: u64,
    /// Time with data in flight; microseconds. Since 4.10.
    pub busy_time: u64,
    /// Part of `busy_time` limited by the peer's receive window; microseconds. Since 4.10.
    pub rwnd_limited: u64,
    /// Part of `busy_time` limited by our send buffer; microseconds. Since 4.10.
    pub sndbuf_limited: u64,
    /// Segments delivered (acknowledged, SACKed included); count.
    pub delivered: u32,
    /// Payload sent, retransmissions included; bytes. Since 4.19.
    pub bytes_sent: u64,
    /// Payload retransmitted; bytes. Since 4.19.
    pub bytes_retrans: u64,
    /// The peer's advertised receive window, scaled; bytes. 0 is a zero window. Since 5.4.
    pub snd_wnd: u32,
    /// The receive window we last advertised, scaled; bytes. 0 is a zero window. Since 6.2.
    pub rcv_wnd: u32,
    /// Times the flow label was changed after a timeout (PLB / rehash); count. Since 6.2.
    pub rehash: u32,
    /// Retransmission-timeout events; count. Since 6.7.
    pub total_rto: u16,
    /// Recoveries that started with a timeout; count. Since 6.7.
    pub total_rto_recoveries: u16,
    /// Time spent in timeout recoveries; milliseconds. Since 6.7.
    pub total_rto_time: u32,
}

impl TcpInfo {
    /// Whether the kernel sent `f` at all (a shorter struct from an older kernel does not).
    pub fn has(&self, f: Field) -> bool {
        f.end() <= self.len
    }
}

impl TcpInfo {
    /// The fields the observation model keeps, each `None` when the kernel did not send it.
    pub fn view(&self) -> TcpInfoView {
        let opt32 = |f: Field, v: u32| self.has(f).then_some(v);
        let opt64 = |f: Field, v: u64| self.has(f).then_some(v);
        TcpInfoView {
            state: self
                .has(field::STATE)
                .then(|| state_name(self.state).to_string()),
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

/// The name of a TCP state number (include/net/tcp_states.h).
pub fn state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        _ => "UNKNOWN",
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
        ca_state: r.u8(field::CA_STATE),
        retransmits: r.u8(field::RETRANSMITS),
        probes: r.u8(field::PROBES),
        backoff: r.u8(field::BACKOFF),
        options: r.u8(field::OPTIONS),
        snd_wscale,
        rcv_wscale,
        delivery_rate_app_limited: app_limited_bit(r.u8(field::APP_LIMITED)),
        rto: r.u32(field::RTO),
        ato: r.u32(field::ATO),
        snd_mss: r.u32(field::SND_MSS),
        rcv_mss: r.u32(field::RCV_MSS),
        unacked: r.u32(field::UNACKED),
        sacked: r.u32(field::SACKED),
        lost: r.u32(field::LOST),
        retrans: r.u32(field::RETRANS),
        last_data_sent: r.u32(field::LAST_DATA_SENT),
        last_data_recv: r.u32(field::LAST_DATA_RECV),
        last_ack_recv: r.u32(field::LAST_ACK_RECV),
        pmtu: r.u32(field::PMTU),
        rcv_ssthresh: r.u32(field::RCV_SSTHRESH),
        rtt: r.u32(field::RTT),
        rttvar: r.u32(field::RTTVAR),
        snd_ssthresh: r.u32(field::SND_SSTHRESH),
        snd_cwnd: r.u32(field::SND_CWND),
        advmss: r.u32(field::ADVMSS),
        rcv_space: r.u32(field::RCV_SPACE),
        total_retrans: r.u32(field::TOTAL_RETRANS),
        pacing_rate: r.u64(field::PACING_RATE),
        bytes_acked: r.u64(field::BYTES_ACKED),
        bytes_received: r.u64(field::BYTES_RECEIVED),
        segs_out: r.u32(field::SEGS_OUT),
        segs_in: r.u32(field::SEGS_IN),
        notsent_bytes: r.u32(field::NOTSENT_BYTES),
        min_rtt: r.u32(field::MIN_RTT),
        data_segs_in: r.u32(field::DATA_SEGS_IN),
        data_segs_out: r.u32(field::DATA_SEGS_OUT),
        delivery_rate: r.u64(field::DELIVERY_RATE),
        busy_time: r.u64(field::BUSY_TIME),
        rwnd_limited: r.u64(field::RWND_LIMITED),
        sndbuf_limited: r.u64(field::SNDBUF_LIMITED),
        delivered: r.u32(field::DELIVERED),
        bytes_sent: r.u64(field::BYTES_SENT),
        bytes_retrans: r.u64(field::BYTES_RETRANS),
        snd_wnd: r.u32(field::SND_WND),
        rcv_wnd: r.u32(field::RCV_WND),
        rehash: r.u32(field::REHASH),
        total_rto: r.u16(field::TOTAL_RTO),
        total_rto_recoveries: r.u16(field::TOTAL_RTO_RECOVERIES),
        total_rto_time: r.u32(field::TOTAL_RTO_TIME),
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

#[cfg(target_endian = "little")]
fn app_limited_bit(b: u8) -> bool {
    b & 0x01 != 0
}

#[cfg(target_endian = "big")]
fn app_limited_bit(b: u8) -> bool {
    b & 0x80 != 0
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

    fn u16(&self, f: Field) -> u16 {
        u16::from_ne_bytes(self.bytes(f))
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

    /// A `struct tcp_info` with a distinct number in every field this module reads, and a
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
        // glibc's copy of the struct (and so libc's gnu one) leaves byte 7, the
        // `delivery_rate_app_limited : 1, fastopen_client_fail : 2` bitfields, as padding.
        b[field::APP_LIMITED.offset] = 1;
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
        same!(field::CA_STATE, tcpi_ca_state);
        same!(field::RETRANSMITS, tcpi_retransmits);
        same!(field::PROBES, tcpi_probes);
        same!(field::BACKOFF, tcpi_backoff);
        same!(field::OPTIONS, tcpi_options);
        same!(field::WSCALE, tcpi_snd_rcv_wscale);
        assert_eq!(
            field::APP_LIMITED.end(),
            offset_of!(libc::tcp_info, tcpi_rto)
        );
        same!(field::RTO, tcpi_rto);
        same!(field::ATO, tcpi_ato);
        same!(field::SND_MSS, tcpi_snd_mss);
        same!(field::RCV_MSS, tcpi_rcv_mss);
        same!(field::UNACKED, tcpi_unacked);
        same!(field::SACKED, tcpi_sacked);
        same!(field::LOST, tcpi_lost);
        same!(field::RETRANS, tcpi_retrans);
        same!(field::LAST_DATA_SENT, tcpi_last_data_sent);
        same!(field::LAST_DATA_RECV, tcpi_last_data_recv);
        same!(field::LAST_ACK_RECV, tcpi_last_ack_recv);
        same!(field::PMTU, tcpi_pmtu);
        same!(field::RCV_SSTHRESH, tcpi_rcv_ssthresh);
        same!(field::RTT, tcpi_rtt);
        same!(field::RTTVAR, tcpi_rttvar);
        same!(field::SND_SSTHRESH, tcpi_snd_ssthresh);
        same!(field::SND_CWND, tcpi_snd_cwnd);
        same!(field::ADVMSS, tcpi_advmss);
        same!(field::RCV_SPACE, tcpi_rcv_space);
        same!(field::TOTAL_RETRANS, tcpi_total_retrans);
        same!(field::PACING_RATE, tcpi_pacing_rate);
        same!(field::BYTES_ACKED, tcpi_bytes_acked);
        same!(field::BYTES_RECEIVED, tcpi_bytes_received);
        same!(field::SEGS_OUT, tcpi_segs_out);
        same!(field::SEGS_IN, tcpi_segs_in);
        same!(field::NOTSENT_BYTES, tcpi_notsent_bytes);
        same!(field::MIN_RTT, tcpi_min_rtt);
        same!(field::DATA_SEGS_IN, tcpi_data_segs_in);
        same!(field::DATA_SEGS_OUT, tcpi_data_segs_out);
        same!(field::DELIVERY_RATE, tcpi_delivery_rate);
        same!(field::BUSY_TIME, tcpi_busy_time);
        same!(field::RWND_LIMITED, tcpi_rwnd_limited);
        same!(field::SNDBUF_LIMITED, tcpi_sndbuf_limited);
        same!(field::DELIVERED, tcpi_delivered);
        same!(field::BYTES_SENT, tcpi_bytes_sent);
        same!(field::BYTES_RETRANS, tcpi_bytes_retrans);
        same!(field::SND_WND, tcpi_snd_wnd);
        same!(field::RCV_WND, tcpi_rcv_wnd);
        same!(field::REHASH, tcpi_rehash);
        same!(field::TOTAL_RTO, tcpi_total_rto);
        same!(field::TOTAL_RTO_RECOVERIES, tcpi_total_rto_recoveries);
        same!(field::TOTAL_RTO_TIME, tcpi_total_rto_time);
    }

    #[test]
    fn a_full_struct_parses_back_to_the_values_written() {
        let got = parse(&known_bytes());
        assert_eq!(got.len, size_of::<libc::tcp_info>());
        assert_eq!(
            (got.state, got.ca_state, got.retransmits, got.probes),
            (1, 4, 3, 5)
        );
        assert_eq!((got.backoff, got.options), (6, 7));
        assert_eq!((got.snd_wscale, got.rcv_wscale), (7, 10));
        assert!(got.delivery_rate_app_limited);
        assert_eq!(
            (got.rto, got.ato, got.snd_mss, got.rcv_mss),
            (204_000, 40_000, 32_768, 536)
        );
        assert_eq!(
            (got.unacked, got.sacked, got.lost, got.retrans),
            (11, 12, 13, 14)
        );
        assert_eq!(
            (got.last_data_sent, got.last_data_recv, got.last_ack_recv),
            (16, 18, 19)
        );
        assert_eq!(
            (got.pmtu, got.rcv_ssthresh, got.rtt, got.rttvar),
            (65_535, 21, 22, 23)
        );
        assert_eq!((got.snd_ssthresh, got.snd_cwnd, got.advmss), (24, 25, 26));
        assert_eq!((got.rcv_space, got.total_retrans), (29, 30));
        assert_eq!(got.pacing_rate, 31 << 33);
        assert_eq!(got.bytes_acked, 5_559_569 + (1 << 40));
        assert_eq!(got.bytes_received, 864_256 + (1 << 41));
        assert_eq!((got.segs_out, got.segs_in), (35, 36));
        assert_eq!((got.notsent_bytes, got.min_rtt), (3_453_408, 38));
        assert_eq!((got.data_segs_in, got.data_segs_out), (39, 40));
        assert_eq!(got.delivery_rate, 41 << 34);
        assert_eq!(got.busy_time, 42 << 35);
        assert_eq!(got.rwnd_limited, 43 << 36);
        assert_eq!(got.sndbuf_limited, 44 << 37);
        assert_eq!(got.delivered, 45);
        assert_eq!(got.bytes_sent, 47 << 38);
        assert_eq!(got.bytes_retrans, 48 << 39);
        assert_eq!((got.snd_wnd, got.rcv_wnd, got.rehash), (52, 53, 54));
        assert_eq!(
            (got.total_rto, got.total_rto_recoveries, got.total_rto_time),
            (55, 56, 57)
        );
        assert!(got.has(field::TOTAL_RTO_TIME));
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
        assert!(got.has(field::DELIVERY_RATE));
        assert_eq!(
            (got.busy_time, got.bytes_sent, got.snd_wnd, got.rcv_wnd),
            (0, 0, 0, 0)
        );
        assert!(!got.has(field::BUSY_TIME));
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
