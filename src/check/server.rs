//! `check server`: the student's server as a child process on a port tcplab chose, waited for
//! until the kernel shows it listening (sock_diag, so no connection is spent on finding out), then
//! driven by tcplab's own clients — the naive one at a small size, then the reader-thread fix at
//! growing sizes — whose echo verification names the first wrong byte. The caller runs the steps
//! (`step`), so it can say how each one went as it goes; `Started` stops and reaps the server when
//! it is dropped.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::command::{PORT, Template};
use super::results::{Problem, ServerStep};
use super::student::{ProcessEnd, Student};
use super::{CheckError, Outcome, shell_words};
use crate::client::StrategyName;
use crate::diag::{Filter, TcpState};
use crate::interrupt;
use crate::observe::Observer;
use crate::observe::diag::DiagSource;
use crate::result::{Failure, RunResult, StallBasis};
use crate::run::{self, ClientConfig, Traffic};
use crate::sock::{self, BufReq, NetError};
use crate::units::BufSize;

/// How often the kernel is asked whether the server listens yet.
const LISTEN_POLL: Duration = Duration::from_millis(20);
/// How long a server that listens on the port, but on an address that cannot take the check's
/// connection, may take to open a listener that can (a server may open one per family).
const OTHER_ADDRESS_GRACE: Duration = Duration::from_secs(1);
/// The classic client's write size.
pub const CHUNK: u64 = 16;

/// What the server check needs.
#[derive(Debug, Clone)]
pub struct ServerCheck {
    pub template: Template,
    /// Where the server is to listen; port 0: a free one tcplab picks.
    pub addr: SocketAddr,
    /// How long the server may take to listen.
    pub listen_timeout: Duration,
    /// Bound on each client run.
    pub timeout: Duration,
    /// A run in which nothing moves this long has stalled.
    pub stall_after: Duration,
}

/// A student's server that listens.
pub struct Started {
    student: Student,
    pub addr: SocketAddr,
    /// The command as run.
    pub command: Vec<String>,
    /// From its start until it listened (milliseconds).
    pub listening_after_ms: u64,
}

/// A free loopback port: bound, read, closed.
fn free_port(addr: SocketAddr) -> Result<u16, NetError> {
    let s = sock::listen(addr, None, 1)?;
    let port = sock::local(&s)
        .map_err(|cause| NetError::Listen { addr, cause })?
        .port();
    Ok(port)
}

/// How long a server whose client run failed may take to be seen exiting, when it crashed.
const CRASH_WAIT: Duration = Duration::from_secs(1);

/// Picks the port (or checks that the one asked for is free), starts the server and waits until
/// it listens.
pub fn start(cfg: &ServerCheck) -> Result<Started, CheckError> {
    // A port asked for is tried first, so a port in use is named as such rather than as a server
    // that never listened.
    let port = free_port(cfg.addr)?;
    let addr = SocketAddr::new(cfg.addr.ip(), port);
    let command = cfg.template.fill(&addr.ip().to_string(), port, None);
    let mut source = DiagSource::new().map_err(CheckError::Diag)?;
    let mut student = Student::spawn(&command)?;
    let started = Instant::now();
    let mut elsewhere_since: Option<Instant> = None;
    loop {
        let sockets = source.dump(&Filter::port(port)).map_err(CheckError::Diag)?;
        let listeners: Vec<SocketAddr> = sockets
            .iter()
            .filter(|s| s.state == TcpState::Listen && s.local.port() == port)
            .map(|s| s.local)
            .collect();
        // Issue 19 (faults): a listener on another address (0.0.0.0 for --host ::1) would refuse
        // the check's connection: said as such, not as a server that is not running.
        if !listeners.is_empty() && !listeners.iter().any(|l| takes(*l, addr)) {
            let since = *elsewhere_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= OTHER_ADDRESS_GRACE {
                student.stop();
                return Err(CheckError::ListensElsewhere {
                    command: shell_words(&command),
                    addr,
                    listening: listeners,
                });
            }
        } else if !listeners.is_empty() {
            return Ok(Started {
                student,
                addr,
                command,
                listening_after_ms: started.elapsed().as_millis() as u64,
            });
        }
        if student.exited() {
            let p = student.stop();
            return Err(CheckError::ExitedEarly {
                command: shell_words(&command),
                exit_code: p.exit_code,
                signal: p.signal,
                what: "listened on",
                addr,
                said: p.stderr_tail.last().cloned(),
                port_given: cfg.template.has(PORT),
            });
        }
        if interrupt::requested() {
            student.stop();
            return Err(CheckError::Interrupted(interrupt::signal_name()));
        }
        if started.elapsed() >= cfg.listen_timeout {
            let listens_on = listening_ports(&mut source, student.pid());
            student.stop();
            return Err(CheckError::NeverListened {
                addr,
                bound: cfg.listen_timeout,
                listens_on,
                port_given: cfg.template.has(PORT),
            });
        }
        // The polling interval of a bounded wait for the server to listen.
        std::thread::sleep(LISTEN_POLL);
    }
}

/// Whether a listener bound to `listener` takes connections to `to`: the same address, the
/// unspecified address of its family, or `::` for IPv4 as well (a dual-stack socket, Linux's
/// default unless IPV6_V6ONLY is set).
fn takes(listener: SocketAddr, to: SocketAddr) -> bool {
    let (l, t) = (listener.ip().to_canonical(), to.ip().to_canonical());
    l == t
        || (l.is_unspecified() && l.is_ipv4() == t.is_ipv4())
        || (listener.ip().is_unspecified() && listener.is_ipv6())
}

/// The ports a process listens on (empty when it cannot be read).
fn listening_ports(source: &mut DiagSource, pid: u32) -> Vec<u16> {
    let inodes = crate::sys::proc::socket_inodes(pid);
    let mut ports: Vec<u16> = source
        .dump(&Filter::default())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.state == TcpState::Listen && inodes.contains(&s.inode))
        .map(|s| s.local.port())
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

impl Started {
    /// Runs tcplab's `strategy` client once with `bytes`, and judges the echo.
    pub fn step(
        &mut self,
        cfg: &ServerCheck,
        strategy: StrategyName,
        bytes: u64,
        obs: &mut dyn Observer,
    ) -> Result<ServerStep, CheckError> {
        let client = ClientConfig {
            traffic: Traffic {
                stall_after: cfg.stall_after,
                timeout: cfg.timeout,
                ..Traffic::new(strategy, bytes, CHUNK)
            },
            addr: self.addr,
            buffers: BufReq {
                snd: BufSize::Auto,
                rcv: BufSize::Auto,
            },
            connect_timeout: Duration::from_secs(5),
        };
        let result = run::run_client(&client, obs).map_err(|e| match e {
            run::SetupError::Net(n) => CheckError::Net(n),
            run::SetupError::Socket { source, .. } => CheckError::Accept(source),
        })?;
        let (mut outcome, problem) = judge(&result);
        // A server that crashed reset the connection as its process died: the reset may come a
        // moment before the process is seen gone. A wrong echo is the server's fault whatever
        // follows: tcplab's client stops reading at the first wrong byte, and a server that then
        // dies of the broken pipe did not crash first.
        let echo_wrong = matches!(
            problem,
            Some(Problem::WrongByte { .. } | Problem::TooLong { .. })
        );
        if outcome != Outcome::Passed
            && outcome != Outcome::Interrupted
            && !echo_wrong
            && self.student.exits_within(CRASH_WAIT)
        {
            outcome = Outcome::Crashed;
        }
        Ok(ServerStep {
            strategy,
            bytes: result.settings.bytes_total,
            outcome,
            problem,
            result,
        })
    }

    /// Stops it and everything it started, then looks whether anything still listens on its
    /// port (a process out of tcplab's reach).
    pub fn stop(mut self) -> (ProcessEnd, bool) {
        let end = self.student.stop();
        let port = self.addr.port();
        let listening = DiagSource::new()
            .and_then(|mut d| d.dump(&Filter::port(port)))
            .is_ok_and(|socks| {
                socks
                    .iter()
                    .any(|s| s.state == TcpState::Listen && s.local.port() == port)
            });
        (end, listening)
    }
}

/// What one client run says about the server.
pub fn judge(r: &RunResult) -> (Outcome, Option<Problem>) {
    let expected = r.settings.bytes_total;
    let received = r.counts.client_received_bytes;
    let echoed = r.verification.as_ref().map_or(0, |v| v.received_bytes);
    match r.outcome {
        Outcome::Completed => (Outcome::Passed, None),
        Outcome::Interrupted => (Outcome::Interrupted, None),
        Outcome::TimedOut => (
            Outcome::Hung,
            Some(Problem::TimedOut {
                ms: r.timings.elapsed_ms,
            }),
        ),
        Outcome::Deadlock => {
            let stall = r.stall.as_ref();
            let ms = stall.map_or(0, |s| s.verdict_ms.saturating_sub(s.last_progress_ms));
            let silent = stall.is_some_and(|s| s.basis == StallBasis::Silence);
            let problem = if silent && received >= expected {
                Problem::NeverCloses { ms }
            } else {
                Problem::Stalled {
                    ms,
                    received_bytes: received,
                    expected_bytes: expected,
                }
            };
            let outcome = if silent {
                Outcome::Hung
            } else {
                Outcome::Deadlocked
            };
            (outcome, Some(problem))
        }
        _ if echoed > expected => (
            Outcome::Failed,
            Some(Problem::TooLong {
                received_bytes: echoed,
                expected_bytes: expected,
            }),
        ),
        _ => {
            let v = r.verification.as_ref();
            let wrong = v.and_then(|v| v.first_mismatch_at.filter(|at| *at < v.received_bytes));
            let problem = match (&r.failure, wrong) {
                (_, Some(at)) => Problem::WrongByte {
                    at_byte: at,
                    said: v.and_then(|v| v.peer_said.clone()),
                },
                (Some(Failure::EchoShort { .. }), None) | (None, None) => Problem::Missing {
                    received_bytes: received,
                    expected_bytes: expected,
                },
                (Some(f), None) => Problem::Connection { failure: f.clone() },
            };
            (Outcome::Failed, Some(problem))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::{Outcome as RunOutcome, StallReport, Verification};

    /// A completed 2 MiB reader-thread run, recorded from the binary.
    fn completed() -> RunResult {
        serde_json::from_str(include_str!("../report/testdata/reader-thread.json"))
            .expect("a recorded RunResult")
    }

    fn failed(received: u64, mismatch: Option<u64>, failure: Failure) -> RunResult {
        let mut r = completed();
        let total = r.settings.bytes_total;
        r.outcome = RunOutcome::Failed;
        r.counts.client_received_bytes = received;
        r.verification = Some(Verification {
            expected_bytes: total,
            received_bytes: received,
            first_mismatch_at: mismatch,
            matched: false,
            peer_said: None,
        });
        r.failure = Some(failure);
        r
    }

    #[test]
    fn a_completed_run_passes() {
        assert_eq!(judge(&completed()), (Outcome::Passed, None));
    }

    #[test]
    fn a_wrong_byte_is_named_by_its_offset() {
        let r = failed(4096, Some(37), Failure::EchoDiffers { at_byte: 37 });
        assert_eq!(
            judge(&r),
            (
                Outcome::Failed,
                Some(Problem::WrongByte {
                    at_byte: 37,
                    said: None
                })
            )
        );
    }

    #[test]
    fn a_short_echo_names_the_missing_bytes() {
        let total = completed().settings.bytes_total;
        let r = failed(
            total - 1024,
            Some(total - 1024),
            Failure::EchoShort {
                received_bytes: total - 1024,
                expected_bytes: total,
            },
        );
        assert_eq!(
            judge(&r),
            (
                Outcome::Failed,
                Some(Problem::Missing {
                    received_bytes: total - 1024,
                    expected_bytes: total
                })
            )
        );
    }

    #[test]
    fn silence_after_the_whole_echo_is_a_server_that_never_closes() {
        let mut r = completed();
        r.outcome = RunOutcome::Deadlock;
        r.stall = Some(StallReport {
            basis: StallBasis::Silence,
            last_progress_ms: 1000,
            verdict_ms: 6000,
            evidence: Vec::new(),
            threads: Vec::new(),
            moved_after_verdict_bytes: None,
        });
        assert_eq!(
            judge(&r),
            (Outcome::Hung, Some(Problem::NeverCloses { ms: 5000 }))
        );
        r.counts.client_received_bytes = 10;
        assert!(matches!(
            judge(&r),
            (Outcome::Hung, Some(Problem::Stalled { .. }))
        ));
    }
}
