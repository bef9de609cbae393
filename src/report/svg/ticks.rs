//! Where the byte axes put their ticks, so that `report::human` never has to round a label (no
//! `97.66 KiB`): a linear axis steps from 0 by a power of two of at least 1 KiB, in whole MiB once
//! it passes 1 MiB (whole GiB past 1 GiB); a log axis ticks at powers of two. The plots hand these
//! to plotters as the axes' key points; time axes keep plotters' own ticks.

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// At most this many steps on a linear axis: enough to read a value off, few enough to read.
const MAX_STEPS: u64 = 6;
/// At most this many ticks on a log axis before it labels only every second (fourth, …) power.
const MAX_LOG_TICKS: i32 = 9;
/// Room a log axis leaves around the data, as a factor.
const LOG_ROOM: f64 = 1.25;

/// A linear byte axis: it runs from 0 to `top`, with a tick at each of `ticks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linear {
    pub top: u64,
    pub ticks: Vec<u64>,
}

/// The axis for values from 0 to `max`: the smallest power-of-two step (at least 1 KiB) that
/// reaches `max` in at most six steps without a label such as `1.25 MiB`.
pub fn linear(max: u64) -> Linear {
    let max = max.max(1);
    let mut step = KIB;
    loop {
        let n = max.div_ceil(step);
        let top = n * step;
        // Past a unit, a step smaller than that unit would give fractional labels.
        let fractional = [MIB, GIB].iter().any(|&u| top > u && step < u);
        if n <= MAX_STEPS && !fractional {
            return Linear {
                top,
                ticks: (0..=n).map(|i| i * step).collect(),
            };
        }
        step *= 2;
    }
}

/// A log2 byte axis: its ends and the powers of two it ticks at.
#[derive(Debug, Clone, PartialEq)]
pub struct Log2 {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

/// The axis for values from `lo` to `hi` (bytes, > 0), with a little room at each end; when that
/// holds fewer than two powers of two, it widens to the powers of two around the data.
pub fn log2(lo: f64, hi: f64) -> Log2 {
    let (mut lo, mut hi) = (lo.max(1.0) / LOG_ROOM, hi.max(1.0) * LOG_ROOM);
    let mut first = lo.log2().ceil() as i32;
    let mut last = hi.log2().floor() as i32;
    if last <= first {
        first = lo.log2().floor() as i32;
        last = (hi.log2().ceil() as i32).max(first + 1);
        lo = 2f64.powi(first);
        hi = 2f64.powi(last);
    }
    let mut stride = 1;
    while (last - first) / stride + 1 > MAX_LOG_TICKS {
        stride *= 2;
    }
    let ticks = (first..=last)
        .filter(|e| (e - first) % stride == 0)
        .map(|e| 2f64.powi(e))
        .collect();
    Log2 { lo, hi, ticks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::human;

    fn labels(ticks: &[u64]) -> Vec<String> {
        ticks.iter().map(|t| human(*t)).collect()
    }

    #[test]
    fn a_byte_axis_steps_by_a_power_of_two() {
        let a = linear(460_720);
        assert_eq!(
            labels(&a.ticks),
            ["0 B", "128 KiB", "256 KiB", "384 KiB", "512 KiB"]
        );
        assert_eq!(a.top, 512 * KIB);
        assert_eq!(
            labels(&linear(150_000).ticks),
            ["0 B", "32 KiB", "64 KiB", "96 KiB", "128 KiB", "160 KiB"]
        );
        assert_eq!(labels(&linear(0).ticks), ["0 B", "1 KiB"]);
    }

    #[test]
    fn past_one_mib_a_byte_axis_steps_in_whole_mib_and_no_label_is_rounded() {
        assert_eq!(labels(&linear(1_100_000).ticks), ["0 B", "1 MiB", "2 MiB"]);
        assert_eq!(
            labels(&linear(2 * MIB + 100).ticks),
            ["0 B", "1 MiB", "2 MiB", "3 MiB"]
        );
        for max in (1..2000u64).map(|i| i * i * 7_919) {
            let a = linear(max);
            assert!(a.top >= max && a.ticks.len() <= 7, "{max}: {a:?}");
            for l in labels(&a.ticks) {
                assert!(!l.contains('.'), "{max}: {l}");
            }
        }
    }

    #[test]
    fn a_log_axis_ticks_powers_of_two_and_at_least_two_of_them() {
        let f = |a: Log2| labels(&a.ticks.iter().map(|t| *t as u64).collect::<Vec<_>>());
        assert_eq!(f(log2(8192.0, 32768.0)), ["8 KiB", "16 KiB", "32 KiB"]);
        // Data within one power of two: the axis widens to the powers around it.
        assert_eq!(f(log2(40_000.0, 50_000.0)), ["16 KiB", "32 KiB", "64 KiB"]);
        assert_eq!(
            f(log2(1024.0, (64 * MIB) as f64)),
            [
                "1 KiB", "4 KiB", "16 KiB", "64 KiB", "256 KiB", "1 MiB", "4 MiB", "16 MiB",
                "64 MiB"
            ]
        );
        let a = log2(40_000.0, 50_000.0);
        assert!(a.lo <= 16384.0 && a.hi >= 65536.0, "{a:?}");
    }
}
