//! The values one sweep flag takes, as a person types them: a list (`4K,16K,64K`), a geometric
//! range (`4K..1M:x2` = 4K, 8K, … 1M), an arithmetic range (`4K..16K:+4K`), or a mix of them
//! (`4K..64K:x4,1M`). `auto` (the kernel's autotuning) may stand in a list. Every size goes through
//! `units::ByteSize`, so `K` and `KiB` both mean 1024 here as everywhere.
//!
//! This file only parses; the cartesian product of the flags and the runs live in `sweep/mod.rs`.

use crate::units::{BufSize, ByteSize};

/// At most this many points in one sweep (all flags multiplied, repeats included): a bigger grid
/// is almost certainly a typo (`x1.001`), and 1000 points already take several minutes.
pub const MAX_POINTS: usize = 1000;

/// The parsed values of one grid flag, in the order typed (duplicates dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid(pub Vec<BufSize>);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("the spec is empty; give sizes such as 4K,16K or a range such as 4K..1M:x2")]
    Empty,
    #[error(
        "'{0}' is not a size: expected a number with an optional K, M, G, KiB, MiB or GiB suffix (e.g. 64K), 'auto', or a range such as 4K..1M:x2"
    )]
    NotASize(String),
    #[error("the range '{0}' has no end; write it as START..END:xFACTOR (e.g. 4K..1M:x2)")]
    NoEnd(String),
    #[error("the range '{0}' has no step; add :xFACTOR (e.g. :x2) or :+STEP (e.g. :+4K)")]
    NoStep(String),
    #[error("the range '{0}' runs downwards; put the smaller size first (e.g. 4K..1M:x2)")]
    Descending(String),
    #[error(
        "the step in '{0}' must be x followed by a factor above 1 (e.g. x2) or + followed by a size (e.g. +4K)"
    )]
    BadStep(String),
    #[error("'auto' cannot bound a range; list it on its own (e.g. auto,4K..64K:x2)")]
    AutoInRange,
    #[error(
        "the spec gives more than {max} values; use a coarser step (e.g. x2) or a shorter range"
    )]
    TooMany { max: usize },
}

impl Grid {
    pub fn parse(spec: &str) -> Result<Grid, GridError> {
        if spec.trim().is_empty() {
            return Err(GridError::Empty);
        }
        let mut values: Vec<BufSize> = Vec::new();
        for item in spec.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(GridError::Empty);
            }
            let new = if item.contains("..") {
                range(item)?.into_iter().map(BufSize::Bytes).collect()
            } else {
                vec![BufSize::parse(item).map_err(|_| GridError::NotASize(item.to_string()))?]
            };
            for v in new {
                if !values.contains(&v) {
                    values.push(v);
                }
                if values.len() > MAX_POINTS {
                    return Err(GridError::TooMany { max: MAX_POINTS });
                }
            }
        }
        Ok(Grid(values))
    }
}

/// `START..END:xF` or `START..END:+STEP`, both ends included when the steps land on them.
fn range(item: &str) -> Result<Vec<ByteSize>, GridError> {
    let (start, rest) = item.split_once("..").expect("caller checked for '..'");
    let (end, step) = match rest.split_once(':') {
        Some((e, s)) => (e.trim(), Some(s.trim())),
        None => (rest.trim(), None),
    };
    if end.is_empty() {
        return Err(GridError::NoEnd(item.to_string()));
    }
    let size = |t: &str| {
        let t = t.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Err(GridError::AutoInRange);
        }
        ByteSize::parse_nonzero(t).map_err(|_| GridError::NotASize(t.to_string()))
    };
    let (lo, hi) = (size(start)?.0, size(end)?.0);
    let step = step.ok_or_else(|| GridError::NoStep(item.to_string()))?;
    if lo > hi {
        return Err(GridError::Descending(item.to_string()));
    }
    let bad_step = || GridError::BadStep(item.to_string());
    let mut out = Vec::new();
    if let Some(f) = step.strip_prefix(['x', 'X', '*']) {
        let f: f64 = f.trim().parse().map_err(|_| bad_step())?;
        if !f.is_finite() || f <= 1.0 {
            return Err(bad_step());
        }
        // A factor just above 1 repeats rounded values; bound the steps, not only the values.
        let mut v = lo as f64;
        for _ in 0..=MAX_POINTS * 64 {
            if v.round() as u64 > hi {
                return Ok(out);
            }
            push(&mut out, v.round() as u64)?;
            v *= f;
        }
        return Err(GridError::TooMany { max: MAX_POINTS });
    } else if let Some(s) = step.strip_prefix('+') {
        let s = ByteSize::parse_nonzero(s).map_err(|_| bad_step())?.0;
        let mut v = lo;
        while v <= hi {
            push(&mut out, v)?;
            v += s;
        }
    } else {
        return Err(bad_step());
    }
    Ok(out)
}

fn push(out: &mut Vec<ByteSize>, v: u64) -> Result<(), GridError> {
    if out.last() != Some(&ByteSize(v)) {
        out.push(ByteSize(v));
    }
    if out.len() > MAX_POINTS {
        return Err(GridError::TooMany { max: MAX_POINTS });
    }
    Ok(())
}

/// clap value parser: the message follows clap's "invalid value 'SPEC' for '--FLAG <SPEC>'".
pub fn grid_arg(spec: &str) -> Result<Grid, String> {
    Grid::parse(spec).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(spec: &str) -> Vec<u64> {
        Grid::parse(spec)
            .unwrap()
            .0
            .iter()
            .map(|b| b.requested().unwrap())
            .collect()
    }

    #[test]
    fn lists_keep_the_order_typed_and_drop_duplicates() {
        assert_eq!(sizes("64K,4K,16K,4KiB"), [65536, 4096, 16384]);
    }

    #[test]
    fn geometric_ranges_include_both_ends_when_the_steps_land_on_them() {
        assert_eq!(sizes("4K..32K:x2"), [4096, 8192, 16384, 32768]);
        assert_eq!(sizes("4K..100K:x4"), [4096, 16384, 65536]);
        assert_eq!(sizes("4K..4K:x2"), [4096]);
    }

    #[test]
    fn arithmetic_ranges_step_by_a_size() {
        assert_eq!(sizes("4K..16K:+4K"), [4096, 8192, 12288, 16384]);
    }

    #[test]
    fn lists_mix_ranges_sizes_and_auto() {
        let g = Grid::parse("auto,4K..16K:x4,1M").unwrap();
        assert_eq!(g.0[0], BufSize::Auto);
        assert_eq!(g.0.len(), 4);
    }

    #[test]
    fn malformed_specs_get_a_reason() {
        type Case = (&'static str, fn(&GridError) -> bool);
        let cases: [Case; 10] = [
            ("4K..", |e| matches!(e, GridError::NoEnd(_))),
            ("x2", |e| matches!(e, GridError::NotASize(_))),
            ("1M..4K:x2", |e| matches!(e, GridError::Descending(_))),
            ("4K..1M:x1", |e| matches!(e, GridError::BadStep(_))),
            ("4K..1M", |e| matches!(e, GridError::NoStep(_))),
            ("4K..1M:y2", |e| matches!(e, GridError::BadStep(_))),
            ("4K..1M:x1.0000000001", |e| {
                matches!(e, GridError::TooMany { .. })
            }),
            ("1..1G:+1", |e| matches!(e, GridError::TooMany { .. })),
            ("auto..1M:x2", |e| matches!(e, GridError::AutoInRange)),
            ("4K,,8K", |e| matches!(e, GridError::Empty)),
        ];
        for (spec, ok) in cases {
            let e = Grid::parse(spec).expect_err(spec);
            assert!(ok(&e), "{spec}: unexpected error {e}");
            assert!(!e.to_string().contains('\n'), "{spec}: message spans lines");
        }
    }
}
