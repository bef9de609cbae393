//! The hub: the run publishes frames into it, and it hands each one to every viewer without ever
//! waiting for one. Each viewer has a bounded queue; when it is full, that viewer's frames are
//! dropped (never the run's) and it is sent a fresh snapshot once it reads again. A viewer that
//! connects or reconnects first gets the snapshot: the title, the latest sample, every event so
//! far, the verdicts, the dashboard and the end.
//!
//! A frame is serialized once, outside the lock; under the lock the hub only swaps a few strings
//! and calls `try_send` on each queue, so publishing costs the run microseconds whatever the
//! viewers do. Writing to the viewers' sockets is `server`'s job, on their own threads.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};

use super::frame::Frame;

/// Viewers served at once unless told otherwise.
pub const MAX_VIEWERS: usize = 64;
/// Frames a viewer may fall behind before its frames are dropped (a few seconds of samples).
pub const QUEUE: usize = 256;
/// Events kept for the snapshot: a class watched for an hour tells many; the oldest go first.
const KEEP_EVENTS: usize = 1000;
/// Verdicts kept for the snapshot (one per deadlocked connection).
const KEEP_VERDICTS: usize = 500;

/// One frame as the stream carries it, with its place in the order of publication.
#[derive(Debug)]
pub struct Message {
    pub seq: u64,
    /// `data: {…}\n\n`.
    pub text: String,
}

/// What a snapshot is made of, each part already serialized.
#[derive(Default)]
struct State {
    seq: u64,
    title: Option<String>,
    sample: Option<String>,
    events: VecDeque<String>,
    verdicts: VecDeque<String>,
    dashboard: Option<String>,
    end: Option<String>,
    viewers: Vec<Slot>,
    next_id: u64,
    closed: bool,
}

struct Slot {
    id: u64,
    tx: SyncSender<Arc<Message>>,
    resync: Arc<AtomicBool>,
}

/// Where the frames of one run go.
pub struct Hub {
    state: Mutex<State>,
    max_viewers: usize,
    queue: usize,
    dropped: AtomicU64,
}

/// Why a viewer was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The one over the bound.
    Full { max: usize },
    /// The run is over and the server is closing.
    Closed,
}

/// A viewer's end of the hub: its queue, and whether it must be sent a snapshot first.
pub struct Viewer {
    pub id: u64,
    pub rx: Receiver<Arc<Message>>,
    pub resync: Arc<AtomicBool>,
}

impl Hub {
    pub fn new(max_viewers: usize) -> Arc<Hub> {
        Hub::with_queue(max_viewers, QUEUE)
    }

    /// A hub whose viewers may fall `queue` frames behind.
    pub fn with_queue(max_viewers: usize, queue: usize) -> Arc<Hub> {
        Arc::new(Hub {
            state: Mutex::new(State::default()),
            max_viewers,
            queue: queue.max(1),
            dropped: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A viewer thread that panicked leaves the state as consistent as before it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a frame to every viewer and keeps what a later viewer's snapshot needs. Never waits
    /// for a viewer.
    pub fn publish(&self, frame: &Frame) {
        let json = serde_json::to_string(frame).expect("a frame serializes");
        let mut st = self.lock();
        if st.closed {
            return;
        }
        st.seq += 1;
        let seq = st.seq;
        match frame {
            Frame::Title(_) => st.title = Some(json.clone()),
            Frame::Sample(_) => st.sample = Some(json.clone()),
            Frame::Event(_) => keep(&mut st.events, KEEP_EVENTS, &json),
            Frame::Verdict(_) => keep(&mut st.verdicts, KEEP_VERDICTS, &json),
            Frame::Dashboard(_) => st.dashboard = Some(json.clone()),
            Frame::End(_) => st.end = Some(json.clone()),
        }
        if st.viewers.is_empty() {
            return;
        }
        let msg = Arc::new(Message {
            seq,
            text: format!("data: {json}\n\n"),
        });
        st.viewers
            .retain(|v| match v.tx.try_send(Arc::clone(&msg)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    v.resync.store(true, Ordering::Release);
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            });
    }

    /// Everything so far as one frame, and the number of the last frame it includes.
    pub fn snapshot(&self) -> (String, u64) {
        let st = self.lock();
        let list = |items: &VecDeque<String>| {
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            format!("[{}]", items.join(","))
        };
        let or_null = |o: &Option<String>| o.clone().unwrap_or_else(|| "null".into());
        let json = format!(
            r#"{{"type":"snapshot","title":{},"sample":{},"events":{},"verdicts":{},"dashboard":{},"end":{}}}"#,
            or_null(&st.title),
            or_null(&st.sample),
            list(&st.events),
            list(&st.verdicts),
            or_null(&st.dashboard),
            or_null(&st.end),
        );
        (format!("data: {json}\n\n"), st.seq)
    }

    /// A new viewer, or why not (the bound is reached, or the hub closed). Its first frame is the snapshot.
    pub fn join(&self) -> Result<Viewer, Refused> {
        let mut st = self.lock();
        if st.closed {
            return Err(Refused::Closed);
        }
        if st.viewers.len() >= self.max_viewers {
            return Err(Refused::Full {
                max: self.max_viewers,
            });
        }
        let (tx, rx) = sync_channel(self.queue);
        st.next_id += 1;
        let id = st.next_id;
        let resync = Arc::new(AtomicBool::new(true));
        st.viewers.push(Slot {
            id,
            tx,
            resync: Arc::clone(&resync),
        });
        Ok(Viewer { id, rx, resync })
    }

    /// A viewer went away: its place is free at once.
    pub fn leave(&self, id: u64) {
        self.lock().viewers.retain(|v| v.id != id);
    }

    /// Viewers connected now.
    pub fn viewers(&self) -> usize {
        self.lock().viewers.len()
    }

    pub fn max_viewers(&self) -> usize {
        self.max_viewers
    }

    /// Frames dropped for viewers that had fallen behind, in all.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// No more frames and no more viewers: each viewer's queue ends once it has been sent.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        st.viewers.clear();
    }
}

/// Keeps `json` as the newest of at most `most` frames, the oldest going first.
fn keep(list: &mut VecDeque<String>, most: usize, json: &str) {
    if list.len() == most {
        list.pop_front();
    }
    list.push_back(json.to_string());
}
