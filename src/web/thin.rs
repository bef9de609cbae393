//! A recording for a page file (`replay --html`) whose size does not follow the recording's
//! length: at most `SAMPLES` sample frames and `EVENTS` event frames are kept. When a kind goes
//! over, every second frame of it is dropped and from then on only every second one that comes is
//! taken, as often as needed; the frames kept keep their recorded times, so the page still plays
//! the whole recording at its pace, with fewer pictures a second. A 2-hour recording made 150 000
//! sample frames (a 135 MB page, 570 MB while it was built); a hostile file may hold millions.

use std::sync::Mutex;

use super::{Frame, Publish};

/// Sample frames kept: about 17 minutes at the live view's 20 a second.
pub const SAMPLES: usize = 20_000;
/// Event frames kept: a run tells about ten.
pub const EVENTS: usize = 2_000;

#[derive(Debug, Default)]
struct Kept {
    frames: Vec<Frame>,
    /// Per kind (samples, events): one frame in `stride` is taken, `seen` came so far, `kept` are
    /// in `frames`.
    stride: [u64; 2],
    seen: [u64; 2],
    kept: [usize; 2],
}

/// The thinning recording; `into_frames` gives the page's frames in order.
#[derive(Debug, Default)]
pub struct ThinRecording(Mutex<Kept>);

fn kind(f: &Frame) -> Option<usize> {
    match f {
        Frame::Sample(_) => Some(0),
        Frame::Event(_) => Some(1),
        _ => None,
    }
}

impl ThinRecording {
    pub fn into_frames(self) -> Vec<Frame> {
        self.0
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .frames
    }
}

impl Publish for ThinRecording {
    fn publish(&self, frame: &Frame) {
        let mut k = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(i) = kind(frame) else {
            k.frames.push(frame.clone());
            return;
        };
        let stride = k.stride[i].max(1);
        let seen = k.seen[i];
        k.seen[i] += 1;
        if seen % stride != 0 {
            return;
        }
        k.frames.push(frame.clone());
        k.kept[i] += 1;
        if k.kept[i] > [SAMPLES, EVENTS][i] {
            let mut n = 0usize;
            k.frames.retain(|f| {
                if kind(f) != Some(i) {
                    return true;
                }
                n += 1;
                n % 2 == 1
            });
            k.kept[i] = n.div_ceil(2);
            k.stride[i] = stride * 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::TimelineRow;
    use crate::web::frame::SampleFrame;

    fn sample(ms: f64) -> Frame {
        Frame::Sample(SampleFrame {
            conn: None,
            row: TimelineRow {
                time_ms: ms,
                ..TimelineRow::default()
            },
            windows: Vec::new(),
            threads: Vec::new(),
            app: Vec::new(),
        })
    }

    #[test]
    fn a_long_recording_keeps_a_bounded_number_of_evenly_spread_samples() {
        let rec = ThinRecording::default();
        let n = 10 * SAMPLES as u64 + 7;
        for i in 0..n {
            rec.publish(&sample(i as f64 * 50.0));
        }
        let frames = rec.into_frames();
        assert!(frames.len() <= SAMPLES, "{} kept", frames.len());
        assert!(frames.len() > SAMPLES / 2, "{} kept", frames.len());
        let times: Vec<f64> = frames
            .iter()
            .map(|f| match f {
                Frame::Sample(s) => s.row.time_ms,
                _ => unreachable!(),
            })
            .collect();
        // In order, from the start to near the end, evenly spaced.
        assert_eq!(times[0], 0.0);
        assert!(times.windows(2).all(|w| w[1] > w[0]));
        let gap = times[1] - times[0];
        assert!(times.windows(2).all(|w| w[1] - w[0] == gap), "uneven");
        assert!(*times.last().unwrap() >= (n as f64 - 1.0) * 50.0 - gap);
    }

    #[test]
    fn a_short_recording_keeps_every_frame() {
        let rec = ThinRecording::default();
        for i in 0..100 {
            rec.publish(&sample(i as f64));
        }
        assert_eq!(rec.into_frames().len(), 100);
    }
}
