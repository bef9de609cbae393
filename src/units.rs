//! Sizes and durations as a person types and reads them.
//!
//! `ByteSize` parses `4096`, `4K`, `4KiB`, `1M`, `1MiB` (K and KiB both mean 1024) and displays through
//! humansize in binary units. `BufSize` adds the word `auto` (leave the socket to the kernel's autotuning).
//! `Millis` parses `500ms`, `2s`, `1.5s`. Formatting for people lives here; the data types elsewhere keep
//! raw numbers.

use std::fmt;
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
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human(self.0))
    }
}

/// Formats a byte count for people: `8 KiB`, `1.50 MiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY)
}

/// Formats a signed byte count (ledger residuals).
pub fn human_signed(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", human(bytes.unsigned_abs()))
    } else {
        human(bytes as u64)
    }
}

/// Formats a rate for people: `4.20 MiB/s`.
pub fn human_rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_string();
    }
    format!("{}/s", human((bytes as f64 / secs) as u64))
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
}

impl fmt::Display for BufSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BufSize::Auto => f.write_str("auto"),
            BufSize::Bytes(b) => b.fmt(f),
        }
    }
}

/// A duration typed by a person: `500ms`, `2s`, `1.5s`, `2m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub Duration);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a duration with a unit, such as 500ms, 2s or 1m")]
pub struct DurationError;

impl Millis {
    pub fn parse(text: &str) -> Result<Millis, DurationError> {
        let t = text.trim().to_ascii_lowercase();
        let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = t.strip_suffix('s') {
            (n, 1000.0)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, 60_000.0)
        } else {
            return Err(DurationError);
        };
        let v: f64 = num.trim().parse().map_err(|_| DurationError)?;
        if !v.is_finite() || v <= 0.0 || v * scale > 86_400_000.0 {
            return Err(DurationError);
        }
        let micros = (v * scale * 1000.0) as u64;
        if micros == 0 {
            // A positive value below a microsecond (e.g. 1e-9ms) would become a zero wait.
            return Err(DurationError);
        }
        Ok(Millis(Duration::from_micros(micros)))
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// clap value parsers; the error text becomes the one-line message after clap's own prefix.
pub fn size_arg(text: &str) -> Result<ByteSize, String> {
    ByteSize::parse_nonzero(text).map_err(|e| e.to_string())
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
    fn sizes_display_in_binary_units() {
        assert_eq!(ByteSize(8192).to_string(), "8 KiB");
        assert_eq!(ByteSize(1536 * 1024).to_string(), "1.50 MiB");
        assert_eq!(human_signed(-15), "-15 B");
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
        assert!(Millis::parse("2").is_err());
        assert!(Millis::parse("0s").is_err());
        assert!(Millis::parse("-1s").is_err());
    }
}
