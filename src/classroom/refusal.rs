//! What a client beyond `--max-conns` gets: the connection is accepted, one line of text explains
//! the refusal, and the server closes its side at once. A client that reads first (nc, the load
//! test's clients) sees the line and then EOF; a client that is already sending when the close
//! happens sees a reset instead, because Linux answers a close() with unread data by RST (tcp(7)).
//! Either way it is told at once, never left hanging in the backlog.

use std::io::{self, Write};
use std::net::Shutdown;

use socket2::Socket;

/// The start of the refusal line, for clients that want to recognise it.
pub const PREFIX: &str = "tcplab server busy:";

/// The whole refusal line.
pub fn line(max_conns: usize) -> String {
    let conns = if max_conns == 1 {
        "connection"
    } else {
        "connections"
    };
    format!(
        "{PREFIX} {max_conns} {conns} already open (--max-conns {max_conns}); try again when one ends\n"
    )
}

/// Whether bytes read from a server are its refusal.
pub fn is_refusal(bytes: &[u8]) -> bool {
    bytes.starts_with(PREFIX.as_bytes())
}

/// Sends the line without ever blocking the accept loop, then closes the write half; dropping the
/// socket closes it.
pub fn refuse(sock: &Socket, max_conns: usize) -> io::Result<()> {
    sock.set_nonblocking(true)?;
    // A fresh socket's send buffer takes a line of text whole; a short or failed write is not
    // worth waiting for.
    let _ = (&*sock).write(line(max_conns).as_bytes());
    sock.shutdown(Shutdown::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_line_is_one_line_that_names_the_flag() {
        let l = line(30);
        assert!(is_refusal(l.as_bytes()));
        assert_eq!(l.lines().count(), 1);
        assert!(l.contains("--max-conns 30"));
        assert!(!is_refusal(b"CAPITALIZE THIS!"));
        assert!(l.contains(" 30 connections already open"), "{l}");
        assert!(
            line(1).contains(" 1 connection already open"),
            "{}",
            line(1)
        );
    }
}
