//! Sizes and durations as a person types and reads them.
//!
//! `ByteSize` parses `4096`, `4K`, `4KiB`, `1M`, `1MiB` (K and KiB both mean 1024). `BufSize` adds
//! the word `auto` (leave the socket to the kernel's autotuning). `Millis` parses `500ms`, `2s`,
//! `1.5s`. Each also writes itself back as an argument (`to_arg`), exactly, for a child process.
//! Formatting sizes for people (humansize, binary units) is `report::human`'s.

use std::time::Duration;

/// The largest size any flag accepts: 64 GiB. Larger requests are almost certainly typos, and a
/// socket buffer cannot be larger than `int` anyway.
pub const MAX_SIZE: u64 = 64 << 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    #[error(
        "expected a number with an optional K, M, G, KiB, MiB or GiB suffix (e.g. 64K; K and KiB both mean 1024)"
    )]
    Malformed,
    #[error("sizes above 64 GiB are not accepted")]
    TooLarge,
    #[error("the size must be at least 1 byte")]
    Zero,
}

/// A byte count typed by a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// Parses a size; zero is accepted here and refused by `parse_nonzero`.
    pub fn parse(text: &str) -> Result<ByteSize, SizeError> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, suffix) = t.split_at(split);
        if digits.is_empty() {
            return Err(SizeError::Malformed);
        }
        let shift = match suffix.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(SizeError::Malformed),
        };
        let n: u64 = digits.parse().map_err(|_| SizeError::TooLarge)?;
        let v = n.checked_mul(1u64 << shift).ok_or(SizeError::TooLarge)?;
        if v > MAX_SIZE {
            return Err(SizeError::TooLarge);
        }
        Ok(ByteSize(v))
    }

    pub fn parse_nonzero(text: &str) -> Result<ByteSize, SizeError> {
        match ByteSize::parse(text)? {
            ByteSize(0) => Err(SizeError::Zero),
            s => Ok(s),
        }
    }

    /// The size as a command-line argument, exactly (a raw byte count).
    pub fn to_arg(self) -> String {
        self.0.to_string()
    }
}

/// A socket buffer request: a size, or `auto` for the kernel's autotuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufSize {
    Auto,
    Bytes(ByteSize),
}

impl BufSize {
    pub fn parse(text: &str) -> Result<BufSize, SizeError> {
        if text.trim().eq_ignore_ascii_case("auto") {
            Ok(BufSize::Auto)
        } else {
            ByteSize::parse_nonzero(text).map(BufSize::Bytes)
        }
    }

    /// The requested byte count, or `None` for `auto`.
    pub fn requested(self) -> Option<u64> {
        match self {
            BufSize::Auto => None,
            BufSize::Bytes(b) => Some(b.0),
        }
    }

    /// The request as a command-line argument, exactly: a raw byte count, or `auto`.
    pub fn to_arg(self) -> String {
        match self {
            BufSize::Auto => "auto".into(),
            BufSize::Bytes(b) => b.to_arg(),
        }
    }
}

/// A duration typed by a person: `500ms`, `2s`, `1.5s`, `2m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub Duration);

/// The longest duration any flag accepts: 24 hours. A longer wait is almost certainly a typo.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// What is wrong with a typed duration; each variant says it in words a student can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("expected a number and a unit, such as 500ms, 2s or 1m")]
    Malformed,
    #[error("a duration needs a unit: ms, s or m (e.g. 500ms, 2s or 1m)")]
    NoUnit,
    #[error("unknown unit '{0}': use ms, s or m")]
    UnknownUnit(String),
    #[error("a duration must be more than zero")]
    NotPositive,
    #[error("a duration must be at least 1 microsecond (0.001ms)")]
    TooShort,
    #[error("a duration must be at most 24 hours (1440m)")]
    TooLong,
}

impl Millis {
    pub fn parse(text: &str) -> Result<Millis, DurationError> {
        let t = text.trim().to_ascii_lowercase();
        // The unit is the run of letters at the end; the number is everything before it.
        let split = t
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphabetic())
            .last()
            .map_or(t.len(), |(i, _)| i);
        let (num, unit) = t.split_at(split);
        let num = num.trim();
        if num.is_empty() {
            return Err(DurationError::Malformed);
        }
        let v: f64 = num.parse().map_err(|_| DurationError::Malformed)?;
        let scale = match unit {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "" => return Err(DurationError::NoUnit),
            other => return Err(DurationError::UnknownUnit(other.to_string())),
        };
        if !v.is_finite() {
            return Err(DurationError::Malformed);
        }
        if v <= 0.0 {
            return Err(DurationError::NotPositive);
        }
        if v * scale > MAX_DURATION.as_millis() as f64 {
            return Err(DurationError::TooLong);
        }
        let micros = (v * scale * 1000.0) as u64;
        if micros == 0 {
            // A positive value below a microsecond (e.g. 1e-9ms) would become a zero wait.
            return Err(DurationError::TooShort);
        }
        Ok(Millis(Duration::from_micros(micros)))
    }

    /// The duration as a command-line argument, exactly (whole milliseconds).
    pub fn to_arg(self) -> String {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            format!("{}s", ms / 1000)
        } else {
            format!("{ms}ms")
        }
    }
}

/// clap value parsers; the error text becomes the one-line message after clap's own prefix.
pub fn size_arg(text: &str) -> Result<ByteSize, String> {
    ByteSize::parse_nonzero(text).map_err(|e| e.to_string())
}

/// The largest chunk (one write()) or read (one recv()) any flag accepts: 1 GiB.
pub const MAX_CHUNK: u64 = 1 << 30;

/// A size flag with an upper bound: at least 1 byte, at most `max`, else `too_big`.
pub fn size_at_most(
    text: &str,
    max: u64,
    too_big: impl FnOnce() -> String,
) -> Result<ByteSize, String> {
    let s = size_arg(text)?;
    if s.0 > max {
        return Err(too_big());
    }
    Ok(s)
}

/// A chunk or read size: at least 1 byte, at most `MAX_CHUNK`.
pub fn chunk_arg(text: &str) -> Result<ByteSize, String> {
    size_at_most(text, MAX_CHUNK, || {
        "one write() or recv() of more than 1 GiB is not accepted; try 1G or less".into()
    })
}

/// A rate typed by a person: `32KiB/s`, `32K/s` or `32K` (bytes per second; K and KiB both mean
/// 1024), at least 1 byte per second.
pub fn rate_arg(text: &str) -> Result<ByteSize, String> {
    let t = text.trim();
    let t = t.strip_suffix("/s").unwrap_or(t);
    ByteSize::parse_nonzero(t).map_err(|e| format!("{e}, per second (e.g. 32KiB/s)"))
}

pub fn buf_arg(text: &str) -> Result<BufSize, String> {
    BufSize::parse(text).map_err(|e| format!("{e}, or 'auto'"))
}

pub fn duration_arg(text: &str) -> Result<Millis, String> {
    Millis::parse(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_and_kib_both_mean_1024() {
        assert_eq!(ByteSize::parse("4K"), Ok(ByteSize(4096)));
        assert_eq!(ByteSize::parse("4KiB"), Ok(ByteSize(4096)));
        assert_eq!(ByteSize::parse("4kb"), Ok(ByteSize(4096)));
        assert_eq!(ByteSize::parse("4096"), Ok(ByteSize(4096)));
        assert_eq!(ByteSize::parse("1M"), Ok(ByteSize(1 << 20)));
        assert_eq!(ByteSize::parse("1MiB"), Ok(ByteSize(1 << 20)));
        assert_eq!(ByteSize::parse("2G"), Ok(ByteSize(2 << 30)));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for bad in ["", "K", "12Q", "1.5M", "-4K", "4 K B", "0x10"] {
            assert!(ByteSize::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn absurd_and_zero_sizes_are_refused() {
        assert_eq!(ByteSize::parse("65G"), Err(SizeError::TooLarge));
        assert_eq!(
            ByteSize::parse("99999999999999999999999"),
            Err(SizeError::TooLarge)
        );
        assert_eq!(
            ByteSize::parse("18446744073709551615G"),
            Err(SizeError::TooLarge)
        );
        assert_eq!(ByteSize::parse_nonzero("0"), Err(SizeError::Zero));
        assert_eq!(ByteSize::parse("0"), Ok(ByteSize(0)));
    }

    #[test]
    fn auto_leaves_the_buffer_to_the_kernel() {
        assert_eq!(BufSize::parse("auto"), Ok(BufSize::Auto));
        assert_eq!(BufSize::parse("64K"), Ok(BufSize::Bytes(ByteSize(65536))));
        assert_eq!(BufSize::parse("0"), Err(SizeError::Zero));
    }

    #[test]
    fn sizes_and_durations_go_back_to_arguments_exactly() {
        // A child process gets what the user asked for, not a rounded display form.
        assert_eq!(ByteSize(1536 * 1024).to_arg(), "1572864");
        assert_eq!(BufSize::parse(&BufSize::Auto.to_arg()), Ok(BufSize::Auto));
        let b = BufSize::Bytes(ByteSize(1536 * 1024));
        assert_eq!(BufSize::parse(&b.to_arg()), Ok(b));
        assert_eq!(Millis(Duration::from_millis(2500)).to_arg(), "2500ms");
        assert_eq!(Millis(Duration::from_secs(2)).to_arg(), "2s");
    }

    #[test]
    fn durations_need_a_unit() {
        assert_eq!(
            Millis::parse("500ms"),
            Ok(Millis(Duration::from_millis(500)))
        );
        assert_eq!(Millis::parse("2s"), Ok(Millis(Duration::from_secs(2))));
        assert_eq!(
            Millis::parse("1.5s"),
            Ok(Millis(Duration::from_millis(1500)))
        );
        assert_eq!(Millis::parse("2"), Err(DurationError::NoUnit));
        assert_eq!(Millis::parse("0s"), Err(DurationError::NotPositive));
        assert_eq!(Millis::parse("-1s"), Err(DurationError::NotPositive));
    }

    #[test]
    fn a_wrong_duration_says_what_was_wrong() {
        let says = |text: &str| Millis::parse(text).unwrap_err().to_string();
        assert_eq!(says("0s"), "a duration must be more than zero");
        assert_eq!(says("0ms"), "a duration must be more than zero");
        assert_eq!(says("1h"), "unknown unit 'h': use ms, s or m");
        assert_eq!(says("1us"), "unknown unit 'us': use ms, s or m");
        assert_eq!(
            says("1000000s"),
            "a duration must be at most 24 hours (1440m)"
        );
        assert_eq!(says("1441m"), "a duration must be at most 24 hours (1440m)");
        assert_eq!(
            says("inf s"),
            "expected a number and a unit, such as 500ms, 2s or 1m"
        );
        assert_eq!(
            says("1e-9ms"),
            "a duration must be at least 1 microsecond (0.001ms)"
        );
        for malformed in ["", "s", "ms", "abc", "1.2.3s", "NaNs", "- s"] {
            assert_eq!(
                Millis::parse(malformed),
                Err(DurationError::Malformed),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn the_limits_themselves_are_accepted() {
        assert_eq!(Millis::parse("1440m"), Ok(Millis(MAX_DURATION)));
        assert_eq!(Millis::parse("86400s"), Ok(Millis(MAX_DURATION)));
        assert_eq!(
            Millis::parse("0.001ms"),
            Ok(Millis(Duration::from_micros(1)))
        );
        assert_eq!(Millis::parse(" 2 S "), Ok(Millis(Duration::from_secs(2))));
    }
}
