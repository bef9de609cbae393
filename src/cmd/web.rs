//! `--web`: the glue between a command and the live page. Starts the server and says where it
//! is (the first stderr line, `tcplab: live view at http://127.0.0.1:PORT/`), hands the command
//! its observer, and at the end publishes the end, keeps serving for `--web-linger` (Ctrl-C stops
//! sooner) and closes, so that every connected viewer is sent the final picture first.
//!
//! Why a linger: a page that is open keeps the last picture when the server goes, but a student
//! who joins late or reloads needs the server; an instructor wants both. A test passes
//! `--web-linger 0`.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::web::WebArgs;
use crate::interrupt;
use crate::report::web::{WebView, end_frame};
use crate::web::{Hub, Publish, Server, hub::MAX_VIEWERS};

/// How often a wait looks for Ctrl-C.
const NAP: Duration = Duration::from_millis(50);

/// The running live page of one command.
pub struct Web {
    server: Server,
    linger: Duration,
}

/// Starts the page when `--web` was given.
pub fn start(a: &WebArgs) -> anyhow::Result<Option<Web>> {
    let Some(addr) = a.web else {
        return Ok(None);
    };
    let server = Server::start(addr, Hub::new(MAX_VIEWERS))
        .map_err(|e| anyhow::anyhow!("{e}; try another port, or '--web 0' for any free one"))?;
    eprintln!("tcplab: live view at {}", server.url());
    if !server.addr().ip().is_loopback() {
        eprintln!(
            "note: {} is reachable from the network, not only from this machine",
            server.addr().ip()
        );
    }
    Ok(Some(Web {
        server,
        linger: a.web_linger.0,
    }))
}

impl Web {
    pub fn hub(&self) -> Arc<dyn Publish> {
        Arc::clone(self.server.hub()) as Arc<dyn Publish>
    }

    /// An observer for a run or a replay (`mode`: deadlock, replay).
    pub fn view(&self, mode: &str, title: &str) -> WebView {
        WebView::new(self.hub(), mode, title)
    }

    /// Waits until someone watches, at most `bound` (or Ctrl-C): a replay on a projector should
    /// not start before the page is open.
    pub fn wait_for_viewer(&self, bound: Duration) {
        let deadline = Instant::now() + bound;
        if self.server.hub().viewers() == 0 {
            eprintln!(
                "tcplab: waiting for a viewer at {} (at most {} s)",
                self.server.url(),
                bound.as_secs()
            );
        }
        while self.server.hub().viewers() == 0
            && Instant::now() < deadline
            && !interrupt::requested()
        {
            std::thread::sleep(NAP); // bounded; a viewer is seen within one nap
        }
    }

    /// Stops serving at once (the command failed: nothing to linger for).
    pub fn close(self) {
        self.server.close();
    }

    /// The end: publishes it, keeps serving for the linger (not after Ctrl-C), then closes.
    pub fn end(self, exit_code: Option<u8>) {
        let linger = if interrupt::requested() {
            Duration::ZERO
        } else {
            self.linger
        };
        self.server.hub().publish(&end_frame(exit_code, linger));
        if !linger.is_zero() {
            eprintln!(
                "tcplab: the live view stays at {} for {} s more (Ctrl-C to stop)",
                self.server.url(),
                linger.as_secs_f64()
            );
            let until = Instant::now() + linger;
            while Instant::now() < until && !interrupt::requested() {
                std::thread::sleep(NAP); // the linger itself, not a synchronisation
            }
        }
        self.server.close();
    }
}

/// How long `replay --web` waits for its first viewer before it plays anyway.
pub const WAIT_FOR_VIEWER: Duration = Duration::from_secs(60);

/// `replay FILE --html OUT`: the page with the recording inside it, played through the same
/// view as a live replay, so the file shows what `--web` would have.
pub fn write_html(
    rows: &[crate::timeline::TimelineRow],
    file: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<std::process::ExitCode> {
    use crate::observe::Observer;
    let rec = Arc::new(crate::web::Recording::default());
    {
        let title = format!("replay of {}", file.display());
        let mut v = WebView::new(Arc::clone(&rec) as Arc<dyn Publish>, "replay", &title);
        for row in rows {
            v.sample(&row.to_sample());
            for e in row.events() {
                v.event(&e);
            }
        }
        v.finish();
    }
    rec.publish(&end_frame(Some(0), Duration::ZERO));
    let frames = Arc::try_unwrap(rec)
        .map_err(|_| anyhow::anyhow!("the recording is still in use"))?
        .into_frames();
    let mut w = crate::report::create(out)?;
    crate::report::web::write_page(&frames, &mut w)?;
    w.flush()?;
    crate::cmd::outputs::tell_written(out, Some(&format!("{} frames", frames.len())));
    Ok(std::process::ExitCode::SUCCESS)
}
