//! The one line a failed command prints: the cause from the error chain, then what to try next.
//! The engine's typed errors carry the facts (which address, which call, which kind of server was
//! expected); the advice is worded here, where the view knows what a person can do about it.

use std::io;

use crate::catalogue::files::{Unready, WriteError};
use crate::check::{CheckError, StartError};
use crate::classic::halfclose::HalfcloseError;
use crate::run::SetupError;
use crate::sock::{NetError, Peer};
use crate::timeline::NotATimeline;
use crate::watch::WatchError;

/// Arguments that parsed but cannot work together or here (two outputs to one file, an address
/// off this machine, a format the command does not write). `main` prints the line and exits 2,
/// as for clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Whether the error means the command line was wrong (exit 2) rather than a run that failed.
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Usage>()
            || c.is::<crate::catalogue::NotFound>()
            || c.is::<super::export::Unsupported>()
            || matches!(c.downcast_ref(), Some(NetError::NotLoopback { .. }))
            || matches!(c.downcast_ref(), Some(CheckError::Start(_)))
            || matches!(c.downcast_ref(), Some(WriteError::Exists { .. }))
    })
}

/// The whole error chain in one line, with the advice that fits its cause. What came from outside
/// (a program's stderr, a file's name) is shown, never obeyed by the terminal.
pub fn line(e: &anyhow::Error) -> String {
    super::outside::text(&worded(e)).into_owned()
}

fn worded(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(u) = e.chain().find_map(|c| c.downcast_ref::<Unready>()) {
        return super::files::unready(u);
    }
    if let Some(w) = e.chain().find_map(|c| c.downcast_ref::<WriteError>()) {
        return super::files::write_error(w);
    }
    if e.chain().any(|c| c.is::<NotATimeline>()) {
        return format!("{text}; record one with 'tcplab deadlock --timeline FILE.csv'");
    }
    if let Some(c) = e.chain().find_map(|c| c.downcast_ref::<CheckError>()) {
        return format!("{text}{}", check_advice(c));
    }
    if let Some(WatchError::OtherNetns { pid, name, .. }) = e.chain().find_map(|c| c.downcast_ref())
    {
        return format!("{text}; {}", inside_netns(*pid, name.as_deref()));
    }
    match net_error(e).map(advice) {
        Some(a) if !a.is_empty() => format!("{text}{a}"),
        _ => text,
    }
}

fn net_error(e: &anyhow::Error) -> Option<&NetError> {
    e.chain().find_map(
        |c| match (c.downcast_ref(), c.downcast_ref(), c.downcast_ref()) {
            (Some(CheckError::Net(n)), _, _) | (_, Some(SetupError::Net(n)), _) => Some(n),
            (_, _, Some(HalfcloseError::Net(n))) => Some(n),
            _ => c.downcast_ref::<NetError>(),
        },
    )
}

/// How to run the command that was typed inside another process's network namespace.
fn inside_netns(pid: u32, name: Option<&str>) -> String {
    let typed: Vec<String> = std::env::args().skip(1).collect();
    let command = if typed.is_empty() {
        format!("tcplab watch --pid {pid}")
    } else {
        format!("tcplab {}", typed.join(" "))
    };
    match name {
        Some(n) => format!("run tcplab inside it: 'ip netns exec {n} {command}'"),
        None => format!("run tcplab inside it: 'nsenter --target {pid} --net {command}'"),
    }
}

/// What to try when `tcplab check` could not check a program.
fn check_advice(e: &CheckError) -> String {
    let use_port = "; does it take the port from the command line? put {port} where it does";
    match e {
        CheckError::Start(StartError::NotFound { .. }) => {
            "; check the spelling, or give the program's path".into()
        }
        CheckError::Start(StartError::NotExecutable { .. }) => {
            "; run it through its interpreter (python3 FILE.py) or make it executable".into()
        }
        CheckError::Start(StartError::Other { .. }) => String::new(),
        CheckError::Net(n) => advice(n),
        CheckError::Diag(_) => "; tcplab check reads both ends from the kernel and needs Linux's sock_diag (as 'ss' does)".into(),
        CheckError::Accept(_) | CheckError::Interrupted(_) => String::new(),
        CheckError::ExitedEarly {
            said, port_given, ..
        } => match said {
            Some(s) => format!(": its last line on stderr: '{s}'; run the command by hand to see all of it"),
            None if !port_given => use_port.into(),
            None => "; it printed nothing on stderr: run the command by hand to see what it does".into(),
        },
        CheckError::ListensElsewhere {
            addr, listening, ..
        } => {
            let v4 = |a: &std::net::SocketAddr| a.ip().to_canonical().is_ipv4();
            let other_family = listening.iter().all(|l| v4(l) != v4(addr));
            match (other_family, v4(addr)) {
                (true, false) => "; it takes IPv4 only: try '--host 127.0.0.1', or make it listen on '::' \
                     (IPv6 and IPv4) or on {host}"
                    .into(),
                (true, true) => "; it takes IPv6 only: try '--host ::1', or make it listen on '0.0.0.0' \
                     or on {host}"
                    .into(),
                (false, _) => format!(
                    "; make it listen on {} (put {{host}} where it takes its address)",
                    addr.ip()
                ),
            }
        }
        CheckError::NeverListened {
            listens_on,
            port_given,
            bound,
            ..
        } => match (listens_on.as_slice(), port_given) {
            ([], false) => use_port.into(),
            ([], true) => format!(
                "; is it slow to start? try '--listen-timeout {}s'",
                bound.as_secs() * 3
            ),
            (ports, _) => {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                format!(
                    "; it listens on port {} instead{}",
                    list.join(", "),
                    if *port_given { "" } else { use_port }
                )
            }
        },
    }
}

/// What to try, appended to the error's own words.
pub fn advice(e: &NetError) -> String {
    match e {
        NetError::Resolve { .. } => "; try 127.0.0.1 or ::1".into(),
        NetError::NotLoopback { .. } => String::new(),
        NetError::Listen { addr, cause } => match cause.kind() {
            io::ErrorKind::AddrInUse => format!(
                " (another server holds port {}); try '--port 0' or stop the other server",
                addr.port()
            ),
            io::ErrorKind::AddrNotAvailable => "; try 127.0.0.1 or ::1".into(),
            io::ErrorKind::PermissionDenied => "; try '--port 0'".into(),
            _ => String::new(),
        },
        NetError::Connect {
            addr,
            cause,
            expected,
            ..
        } => match cause.kind() {
            io::ErrorKind::ConnectionRefused => {
                let start = match expected {
                    Peer::Echo => "tcplab server",
                    Peer::Sixteen => "tcplab sixteen server",
                    Peer::Blocks => "tcplab blocks server",
                    Peer::Own => return String::new(),
                };
                format!(
                    "; start one with '{start} {} -p {}'",
                    addr.ip(),
                    addr.port()
                )
            }
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                "; check the address and that the server's host is reachable".into()
            }
            io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                "; check the address".into()
            }
            _ => String::new(),
        },
        NetError::Create { .. } | NetError::Option { .. } => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::time::Duration;

    #[test]
    fn a_refused_connection_names_the_server_to_start() {
        let addr: SocketAddr = "127.0.0.1:1060".parse().unwrap();
        let e = anyhow::Error::new(NetError::Connect {
            addr,
            cause: io::ErrorKind::ConnectionRefused.into(),
            timeout: Duration::from_secs(5),
            expected: Peer::Sixteen,
        });
        assert_eq!(
            line(&e),
            "cannot connect to 127.0.0.1:1060: connection refused (no server is listening there); \
             start one with 'tcplab sixteen server 127.0.0.1 -p 1060'"
        );
    }

    #[test]
    fn a_port_in_use_suggests_port_0_even_inside_a_setup_error() {
        let addr: SocketAddr = "127.0.0.1:1060".parse().unwrap();
        let e = anyhow::Error::new(SetupError::Net(NetError::Listen {
            addr,
            cause: io::ErrorKind::AddrInUse.into(),
        }));
        assert_eq!(
            line(&e),
            "cannot listen on 127.0.0.1:1060: address already in use (another server holds port \
             1060); try '--port 0' or stop the other server"
        );
    }
}
