//! `tcplab sixteen`: tcp_sixteen.py. The client sends the 16 octets `Hi there, server`, the server
//! answers `Farewell, client`, and each side reads exactly 16 bytes with the recv_all loop
//! (`wire::recv_exact`), printing its socket name and peer the way the classic program does.
//! `demo` runs both sides in one process, or (`--no-server`) shows a refused connect().

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::thread;

use anyhow::Context;
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{DEMO_WAIT, Outcome, PEER_IDLE, Patient, PeerReset, accept, py_repr, step_failed};
use crate::sock::{self, Peer, local};
use crate::wire::{self, WireError};

/// What the client says, exactly 16 octets.
pub const CLIENT_MESSAGE: &[u8; 16] = b"Hi there, server";
/// What the server answers, exactly 16 octets.
pub const SERVER_MESSAGE: &[u8; 16] = b"Farewell, client";

/// The server's side of one connection from `from` (the address accept() gave: a client that has
/// already reset has no peer address left to ask for); every line goes to `say`. Returns the
/// message read.
fn serve_one(
    conn: &Socket,
    from: SocketAddr,
    say: &mut dyn FnMut(String),
) -> anyhow::Result<[u8; 16]> {
    let reset = |during| PeerReset {
        peer: "client",
        during,
    };
    say(format!("Socket connects {} and {from}", local(conn)?));
    let mut message = [0u8; 16];
    wire::recv_exact(&mut Patient::new(conn, PEER_IDLE)?, &mut message).map_err(|e| {
        step_failed(
            e,
            reset("before it had sent its sixteen octets"),
            "reading the client's sixteen octets",
        )
    })?;
    say(format!(
        "The incoming sixteen-octet message says {}",
        py_repr(&message, false)
    ));
    wire::send_all(&mut &*conn, SERVER_MESSAGE).map_err(|e| {
        step_failed(
            e,
            reset("before the reply could be sent"),
            "sending the reply",
        )
    })?;
    Ok(message)
}

/// The client's side once connected.
fn client_exchange(sock: &Socket, say: &mut dyn FnMut(String)) -> anyhow::Result<[u8; 16]> {
    let reset = |during| PeerReset {
        peer: "server",
        during,
    };
    say(format!(
        "Client has been assigned socket name {}",
        local(sock)?
    ));
    wire::send_all(&mut &*sock, CLIENT_MESSAGE).map_err(|e| {
        step_failed(
            e,
            reset("before it took the sixteen octets"),
            "sending the sixteen octets",
        )
    })?;
    let mut reply = [0u8; 16];
    wire::recv_exact(&mut Patient::new(sock, PEER_IDLE)?, &mut reply).map_err(|e| match e {
        WireError::Closed { .. } => anyhow::Error::new(e).context(
            "reading the server's reply; is the other side running 'tcplab sixteen server'?",
        ),
        e => step_failed(e, reset("before it replied"), "reading the server's reply"),
    })?;
    say(format!("The server said {}", py_repr(&reply, false)));
    Ok(reply)
}

/// What the sixteen server tells its caller: a transcript line, or a connection that failed while
/// the server goes on.
pub enum Said {
    Line(String),
    Failed {
        from: SocketAddr,
        error: anyhow::Error,
    },
}

/// How a role ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleEnd {
    Done,
    /// Ctrl-C or SIGTERM stopped it while it waited.
    Interrupted,
}

/// `tcplab sixteen server`: one connection after another until Ctrl-C (or one with `once`).
pub fn server(addr: SocketAddr, once: bool, say: &mut dyn FnMut(Said)) -> anyhow::Result<RoleEnd> {
    let listener = sock::listen(addr, None, 1)?;
    let bound = local(&listener)?;
    loop {
        say(Said::Line(format!("Listening at {bound}")));
        let Some((conn, from)) = accept(&listener)? else {
            return Ok(RoleEnd::Interrupted);
        };
        say(Said::Line(format!(
            "We have accepted a connection from {from}"
        )));
        let result = serve_one(&conn, from, &mut |l| say(Said::Line(l)));
        drop(conn);
        match result {
            Ok(_) => say(Said::Line("Reply sent, socket closed".into())),
            Err(e) if super::was_stopped(e.as_ref()) => return Ok(RoleEnd::Interrupted),
            Err(e) if once => return Err(e.context(format!("connection from {from}"))),
            Err(error) => say(Said::Failed { from, error }),
        }
        if once {
            return Ok(RoleEnd::Done);
        }
    }
}

/// `tcplab sixteen client`; a signal while it waits for the reply ends it as `Interrupted`.
pub fn client(addr: SocketAddr, say: &mut dyn FnMut(String)) -> anyhow::Result<RoleEnd> {
    let sock = sock::connect(addr, None, DEMO_WAIT, Peer::Sixteen)?;
    match client_exchange(&sock, say) {
        Ok(_) => Ok(RoleEnd::Done),
        Err(e) if super::was_stopped(e.as_ref()) => Ok(RoleEnd::Interrupted),
        Err(e) => Err(e),
    }
}

/// What `sixteen demo` showed.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub outcome: Outcome,
    /// Where the server listened (or, with --no-server, the port nobody listened on).
    pub server_addr: String,
    /// The client's own address, once connected.
    pub client_addr: Option<String>,
    /// The 16 octets the server read, as Python's repr.
    pub server_received: Option<String>,
    /// The 16 octets the client read back, as Python's repr.
    pub client_received: Option<String>,
    /// Both sides' lines, in the order they happened, prefixed with the side.
    pub transcript: Vec<String>,
    /// The error the demo is about (the refused connect), as the user would read it.
    pub error: Option<String>,
    /// What the outcome teaches.
    pub explanation: String,
}

pub fn demo(no_server: bool) -> anyhow::Result<DemoReport> {
    if no_server {
        return refused_demo();
    }
    let (client_sock, conn, from) = super::own_connection()?;
    client_sock.set_write_timeout(Some(DEMO_WAIT))?;
    let server_addr = local(&conn)?;
    let lines = Mutex::new(vec![format!("server: Listening at {server_addr}")]);
    let side = |who: &'static str| {
        let lines = &lines;
        move |l: String| {
            lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("{who}: {l}"))
        }
    };
    side("server")(format!("We have accepted a connection from {from}"));
    let (served, reply) = thread::scope(|s| {
        let server = thread::Builder::new()
            .name("tcplab-server".into())
            .spawn_scoped(s, || {
                let mut say = side("server");
                let r = serve_one(&conn, from, &mut say);
                drop(conn);
                if r.is_ok() {
                    say("Reply sent, socket closed".into());
                }
                r
            })
            .context("cannot start the server thread")?;
        let reply = client_exchange(&client_sock, &mut side("client"));
        let served = server
            .join()
            .map_err(|_| anyhow::anyhow!("the server thread failed"))?;
        Ok::<_, anyhow::Error>((served, reply))
    })?;
    let message = served?;
    let reply = reply?;
    let transcript = lines.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(DemoReport {
        outcome: Outcome::Completed,
        server_addr: server_addr.to_string(),
        client_addr: Some(local(&client_sock)?.to_string()),
        server_received: Some(py_repr(&message, false)),
        client_received: Some(py_repr(&reply, false)),
        transcript,
        error: None,
        explanation: "each side asked recv() for 16 bytes and looped until it had all 16: TCP \
            delivers a stream of bytes, not messages, so a single recv() may return fewer"
            .into(),
    })
}

/// Connects to a port that is bound but not listening: the kernel answers the SYN with a RST.
fn refused_demo() -> anyhow::Result<DemoReport> {
    // Keeping the port bound (without listen) means no other program can start listening on it
    // while the demo runs, so the refusal is certain.
    let holder = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
        .context("cannot create the socket that reserves a port")?;
    holder
        .bind(&SockAddr::from(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))))
        .context("cannot reserve a loopback port")?;
    let target = local(&holder)?;
    let mut transcript = vec![
        format!(
            "setup: a socket holds {target} (bound, never listen()ed), so no server runs there"
        ),
        format!("client: connect({target}) sends a SYN and waits for the handshake"),
    ];
    match sock::connect(target, None, DEMO_WAIT, Peer::Own) {
        Ok(sock) => anyhow::bail!(
            "connect to {target} succeeded from {} although nothing listens there; is a firewall or proxy intercepting loopback?",
            local(&sock).map(|a| a.to_string()).unwrap_or_default()
        ),
        Err(e) => {
            let text = e.to_string();
            transcript.push(format!("client: {text}"));
            Ok(DemoReport {
                outcome: Outcome::Refused,
                server_addr: target.to_string(),
                client_addr: None,
                server_received: None,
                client_received: None,
                transcript,
                error: Some(text),
                explanation: "connect() on a TCP socket is a real network operation: it sends a \
                    SYN and waits for the three-way handshake. No socket listens on that port, so \
                    the kernel answered the SYN with a RST (reset) and connect() failed with \
                    ECONNREFUSED, 'connection refused'. A UDP connect() only records an address \
                    and cannot fail this way."
                    .into(),
            })
        }
    }
}
