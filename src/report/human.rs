//! Byte counts, rates and durations for people: humansize in binary units (`8 KiB`, `1.50 MiB`),
//! the only place the views get them from. The data types keep raw numbers.

use std::time::Duration;

/// Formats a byte count for people: `8 KiB`, `1.50 MiB`, `512 B`.
pub fn human(bytes: u64) -> String {
    humansize::format_size(bytes, humansize::BINARY)
}

/// A byte count in at most 10 columns, for tables: one decimal (`15.6 KiB`, `1.2 MiB`, `0 B`).
pub fn human_short(bytes: u64) -> String {
    if bytes < 1024 {
        return human(bytes);
    }
    let opts = humansize::FormatSizeOptions::from(humansize::BINARY)
        .decimal_places(1)
        .decimal_zeroes(1);
    humansize::format_size(bytes, opts)
}

/// Formats a signed byte count (ledger residuals).
pub fn human_signed(bytes: i64) -> String {
    if bytes < 0 {
        format!("-{}", human(bytes.unsigned_abs()))
    } else {
        human(bytes as u64)
    }
}

/// Milliseconds as seconds for people: `1.5 s`.
pub fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// A count with its noun, singular for one: `1 connection`, `3 connections`, `0 connections`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Formats a rate for people: `4.20 MiB/s`.
pub fn human_rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return "-".to_string();
    }
    let rate = bytes as f64 / secs;
    // Under 10 B/s a whole number misleads (32 B in 32.01 s is not "0 B/s").
    if rate < 10.0 {
        return format!("{:.1} B/s", rate);
    }
    format!("{}/s", human(rate.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_a_thing_is_singular() {
        assert_eq!(count(1, "connection"), "1 connection");
        assert_eq!(count(0, "connection"), "0 connections");
        assert_eq!(count(40, "time"), "40 times");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human(8192), "8 KiB");
        assert_eq!(human(1536 * 1024), "1.50 MiB");
        assert_eq!(human_signed(-15), "-15 B");
        assert_eq!(human_rate(2048, Duration::from_secs(2)), "1 KiB/s");
    }
}
