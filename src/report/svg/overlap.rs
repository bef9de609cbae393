//! Lines that lie on each other: a later line drawn over an earlier one of the same width hides
//! it (in the naive run, "server sent" covers "server processed", which differ by one read at
//! most; with a reader thread, the four queues sit at zero together). Two lines within a few
//! pixels of each other for half the run or more are one group, and so is any chain of such
//! pairs; a group is drawn wide to narrow, each line 3 px narrower than the one under it, so every
//! colour shows as a band, and the legend names the lines each one is drawn inside.

use super::style::LINE;

/// How one line is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stroke {
    /// Its width (pixels).
    pub width: u32,
    /// The earlier lines it is drawn inside (indexes into the lines given), widest first.
    pub lies_on: Vec<usize>,
}

/// Two lines lie on each other when they are this close at half the samples or more.
const SHARE: (usize, usize) = (1, 2);

/// The stroke of each line, for lines of values sampled at the same times. `tolerance` is how far
/// apart two values may be and still look like one line (in the values' unit: a few pixels' worth).
pub fn strokes(lines: &[Vec<u64>], tolerance: u64) -> Vec<Stroke> {
    // Each line starts as its own group; a pair that lies together joins their groups.
    let mut group: Vec<usize> = (0..lines.len()).collect();
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            if coincide(&lines[i], &lines[j], tolerance) {
                let (from, to) = (group[j], group[i]);
                group
                    .iter_mut()
                    .filter(|g| **g == from)
                    .for_each(|g| *g = to);
            }
        }
    }
    let groups: Vec<Vec<usize>> = (0..lines.len())
        .map(|g| {
            (0..lines.len())
                .filter(|&i| group[i] == g)
                .collect::<Vec<_>>()
        })
        .filter(|members| !members.is_empty())
        .collect();
    let mut out = vec![
        Stroke {
            width: LINE,
            lies_on: Vec::new(),
        };
        lines.len()
    ];
    for g in &groups {
        for (pos, &i) in g.iter().enumerate() {
            out[i] = Stroke {
                width: LINE * (g.len() - pos) as u32,
                lies_on: g[..pos].to_vec(),
            };
        }
    }
    out
}

fn coincide(a: &[u64], b: &[u64], tolerance: u64) -> bool {
    let n = a.len().min(b.len());
    let close = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.abs_diff(**y) <= tolerance)
        .count();
    n > 0 && close * SHARE.1 >= n * SHARE.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_on_another_is_drawn_inside_it_and_names_it() {
        let processed = vec![0, 1024, 4096, 8192, 8192];
        let sent = vec![0, 0, 3072, 8192, 8192];
        let apart = vec![0, 50_000, 90_000, 120_000, 120_000];
        let s = strokes(&[apart.clone(), processed, sent], 1024);
        assert_eq!(
            s[0],
            Stroke {
                width: 3,
                lies_on: vec![]
            }
        );
        assert_eq!(
            s[1],
            Stroke {
                width: 6,
                lies_on: vec![]
            }
        );
        assert_eq!(
            s[2],
            Stroke {
                width: 3,
                lies_on: vec![1]
            }
        );
    }

    #[test]
    fn four_lines_on_one_another_make_a_band_of_four_widths() {
        let flat = vec![0u64; 20];
        let s = strokes(&[flat.clone(), flat.clone(), flat.clone(), flat], 10);
        let widths: Vec<u32> = s.iter().map(|s| s.width).collect();
        assert_eq!(widths, [12, 9, 6, 3]);
        assert_eq!(s[3].lies_on, [0, 1, 2]);
    }

    #[test]
    fn lines_that_each_lie_on_a_third_join_its_group() {
        // The queues of a fix: each at zero most of the time, each with bursts of its own.
        let burst = |at: usize| -> Vec<u64> {
            (0..20)
                .map(|i| if i % 4 == at { 40_000 } else { 0 })
                .collect()
        };
        let s = strokes(&[burst(0), vec![0; 20], burst(1), burst(2)], 1000);
        let widths: Vec<u32> = s.iter().map(|s| s.width).collect();
        assert_eq!(widths, [12, 9, 6, 3]);
    }

    #[test]
    fn lines_that_meet_only_briefly_keep_their_own_width() {
        let a: Vec<u64> = (0..20).map(|i| i * 1000).collect();
        let b: Vec<u64> = (0..20).map(|i| if i < 5 { i * 1000 } else { 0 }).collect();
        let s = strokes(&[a, b], 100);
        assert!(
            s.iter().all(|s| s.width == 3 && s.lies_on.is_empty()),
            "{s:?}"
        );
    }
}
