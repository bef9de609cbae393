//! The HTTP side: a small synchronous server on `std::net` (a thread per connection, no async
//! runtime) that answers GET only: `/` is the page, `/events` the Server-Sent Events stream of the
//! hub's frames. Nothing it serves can change the run. Every answer closes its connection.
//!
//! Why not an HTTP crate: tiny_http 0.12, tried first, pins a thread of its pool to each open
//! connection and queues new ones behind busy threads when they arrive together, so a class
//! opening the page at once starved (28 of 64 viewers that connected together got no answer).
//! The server here needs one request line and a few headers; it reads at most `HEAD_LIMIT` bytes
//! of them, within `READ_TIMEOUT`.
//!
//! Each viewer of `/events` is written by its own connection's thread, straight to its socket
//! (unbuffered, so each frame leaves at once). A viewer that stops reading blocks only that thread: its queue fills, the hub drops its
//! frames, and the socket's send timeout ends it after `STALLED_FOR`, which frees its place. Over
//! the viewer bound the answer is 503 with one line of text.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::hub::{Hub, Refused, Viewer};
use super::page::PAGE;

/// A viewer whose socket takes nothing for this long is gone.
pub const STALLED_FOR: Duration = Duration::from_secs(10);
/// A request must arrive within this long.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes of a request's head that are read.
const HEAD_LIMIT: u64 = 8 * 1024;
/// Connections served at once besides the viewers (page loads, answers being written).
const SPARE_CONNECTIONS: usize = 32;
/// A comment line this often keeps proxies and browsers from closing an idle stream, and finds
/// viewers that left.
const KEEPALIVE: Duration = Duration::from_secs(5);
/// How often a quiet stream looks whether its viewer has gone, to free its place soon.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// At the close, how long the viewers get to be sent what is left in their queues.
const DRAIN_BOUND: Duration = Duration::from_secs(2);
/// How long the browser waits before it reconnects (milliseconds).
const RETRY_MS: u64 = 1000;

/// The live view's server, running.
pub struct Server {
    hub: Arc<Hub>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

/// What the accepting thread and the connections' threads share.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Connection threads running.
    running: AtomicUsize,
    /// The open connections, to shut them down at the close.
    open: Mutex<Vec<(u64, TcpStream)>>,
    next: AtomicUsize,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot serve the live view on {addr}: {}",
    crate::sock::listen_reason(source)
)]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: io::Error,
}

impl Server {
    /// Binds `addr` and serves the hub's frames until `close`.
    pub fn start(addr: SocketAddr, hub: Arc<Hub>) -> Result<Server, BindError> {
        let err = |source| BindError { addr, source };
        let listener = listen(addr).map_err(err)?;
        let bound = listener.local_addr().map_err(err)?;
        let shared = Arc::new(Shared::default());
        let accept = {
            let (hub, shared) = (Arc::clone(&hub), Arc::clone(&shared));
            thread::Builder::new()
                .name("tcplab-web".into())
                .spawn(move || accept_loop(&listener, &hub, &shared))
                .map_err(err)?
        };
        Ok(Server {
            hub,
            addr: bound,
            accept: Some(accept),
            shared,
        })
    }

    /// The address it listens on (the port the kernel chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Stops serving: every viewer is sent what is left in its queue (bounded), then every
    /// connection and the listener close.
    pub fn close(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.hub.close();
        let deadline = Instant::now() + DRAIN_BOUND;
        while self.shared.running.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10)); // bounded wait for the viewers' threads
        }
        self.shared.stop.store(true, Ordering::Release);
        for (_, s) in lock(&self.shared.open).iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // The accepting thread waits in accept(): a connection of our own wakes it.
        let wake = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, a.port()))
            }
            a => a,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.accept.is_some() {
            self.shut();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A listener whose accepted sockets give up a write after `STALLED_FOR` (Linux copies
/// SO_SNDTIMEO from the listener to each socket accept() returns).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    s.set_write_timeout(Some(STALLED_FOR))?;
    s.bind(&addr.into())?;
    s.listen(128)?;
    Ok(s.into())
}

fn accept_loop(listener: &TcpListener, hub: &Arc<Hub>, shared: &Arc<Shared>) {
    let most = hub.max_viewers() + SPARE_CONNECTIONS;
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let Ok(mut conn) = conn else { continue };
        // Not inherited on every kernel: set both on the socket itself as well.
        let _ = conn.set_write_timeout(Some(STALLED_FOR));
        let _ = conn.set_read_timeout(Some(READ_TIMEOUT));
        if shared.running.load(Ordering::Acquire) >= most {
            let _ = respond_text(&mut conn, 503, &busy(hub.max_viewers()), &[]);
            continue;
        }
        let id = shared.next.fetch_add(1, Ordering::AcqRel) as u64;
        if let Ok(copy) = conn.try_clone() {
            lock(&shared.open).push((id, copy));
        }
        shared.running.fetch_add(1, Ordering::AcqRel);
        let (hub, sh) = (Arc::clone(hub), Arc::clone(shared));
        let spawned = thread::Builder::new()
            .name("tcplab-web-conn".into())
            .spawn(move || {
                let _ = answer(&mut conn, &hub);
                let _ = conn.shutdown(Shutdown::Both);
                lock(&sh.open).retain(|(i, _)| *i != id);
                sh.running.fetch_sub(1, Ordering::AcqRel);
            });
        if spawned.is_err() {
            lock(&shared.open).retain(|(i, _)| *i != id);
            shared.running.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

fn busy(max: usize) -> String {
    format!(
        "tcplab: {max} viewers are already watching, the most this live view serves; close a \
         tab that shows it, then reload"
    )
}

/// The request line's method and path; the headers are read and not needed.
fn read_request(conn: &TcpStream) -> io::Result<(String, String)> {
    let mut r = BufReader::new(conn.take(HEAD_LIMIT));
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    // The rest of the head, up to its empty line, so that the peer is not reset by a close
    // with unread bytes before it reads the answer.
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    Ok((method, path))
}

/// What the page may do: nothing from outside, and connect back to this server only.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                      img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                      frame-ancestors 'none'";

fn respond(
    conn: &mut TcpStream,
    status: u16,
    kind: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes())?;
    conn.write_all(body)
}

fn respond_text(
    conn: &mut TcpStream,
    status: u16,
    line: &str,
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let body = format!("{line}\n");
    respond(
        conn,
        status,
        "text/plain; charset=utf-8",
        body.as_bytes(),
        extra,
    )
}

fn answer(conn: &mut TcpStream, hub: &Hub) -> io::Result<()> {
    let (method, target) = read_request(conn)?;
    if method != "GET" {
        return respond_text(
            conn,
            405,
            "tcplab: the live view is read-only; only GET is answered",
            &[("Allow", "GET")],
        );
    }
    let path = target.split('?').next().unwrap_or("");
    match path {
        "/" | "/index.html" => respond(
            conn,
            200,
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
            &[("Content-Security-Policy", POLICY)],
        ),
        "/events" => match hub.join() {
            Ok(viewer) => {
                let r = write_stream(conn, &viewer, hub);
                hub.leave(viewer.id);
                r
            }
            Err(Refused::Full { max }) => {
                respond_text(conn, 503, &busy(max), &[("Retry-After", "5")])
            }
            Err(Refused::Closed) => respond_text(
                conn,
                503,
                "tcplab: the run has ended and this live view is closing",
                &[],
            ),
        },
        _ => respond_text(
            conn,
            404,
            "tcplab: nothing here; the live view is at / and its stream at /events",
            &[],
        ),
    }
}

fn write_stream(out: &mut TcpStream, v: &Viewer, hub: &Hub) -> io::Result<()> {
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n\
         retry: {RETRY_MS}\n\n"
    )?;
    // From now on a read only asks whether the viewer has gone (it sends nothing after the request).
    out.set_read_timeout(Some(Duration::from_millis(1)))?;
    let mut last = 0;
    let mut quiet_since = Instant::now();
    loop {
        if v.resync.swap(false, Ordering::AcqRel) {
            let (snap, seq) = hub.snapshot();
            out.write_all(snap.as_bytes())?;
            last = seq;
        }
        match v.rx.recv_timeout(LOOK_EVERY) {
            Ok(m) if m.seq > last => {
                out.write_all(m.text.as_bytes())?;
                last = m.seq;
                quiet_since = Instant::now();
            }
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                if gone(out) {
                    return Ok(());
                }
                if quiet_since.elapsed() >= KEEPALIVE {
                    out.write_all(b": keep-alive\n\n")?;
                    quiet_since = Instant::now();
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                // Closed: what this viewer missed while it was behind, once more, then the end.
                if v.resync.swap(false, Ordering::AcqRel) {
                    out.write_all(hub.snapshot().0.as_bytes())?;
                }
                return Ok(());
            }
        }
    }
}

/// Whether the viewer closed its end (a read sees the end of its stream).
fn gone(conn: &TcpStream) -> bool {
    let mut b = [0u8; 1];
    match conn.peek(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
    }
}
