//! What the benches share: a load that keeps every core busy, so that a measurement can be taken
//! on a machine whose CPUs are contended, as a classroom machine's are.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::thread;

/// Spins `n` threads until dropped, so every run competes for the CPU.
pub struct Burners(Arc<AtomicBool>, Vec<thread::JoinHandle<()>>);

impl Burners {
    pub fn start(n: usize) -> Burners {
        let stop = Arc::new(AtomicBool::new(false));
        let hs = (0..n)
            .map(|_| {
                let stop = stop.clone();
                thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Burners(stop, hs)
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.0.store(true, Relaxed);
        for h in self.1.drain(..) {
            let _ = h.join();
        }
    }
}
