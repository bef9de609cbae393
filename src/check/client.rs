//! One run of `check client`: tcplab's reference server listens, the student's client runs with
//! the placeholders filled in, and the connection between them is sampled from the kernel ten
//! times a second — both ends read the same way (`observe::diag`), tcplab's own end included —
//! and handed to the one watchdog with the deadlock and half-close rules. The run ends when the
//! client exits (then its byte counts and exit status are judged), at a verdict (the server's side
//! is shut down, the client stopped), when nothing moves for `stall_after`, at `timeout`, or on
//! Ctrl-C / SIGTERM. Every end stops and reaps the client and joins the echo thread.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::command::Template;
use super::refserver::{EchoEnd, RefServer, Served};
use super::results::{ClientRun, Hang, Shortfall};
use super::student::{ProcessEnd, Student};
use super::{CheckError, Outcome, VerdictReport, shell_words};
use crate::diag::{Destroyed, DiagSocket, Filter, TcpState};
use crate::follow::{Followed, Follower};
use crate::interrupt;
use crate::ledger;
use crate::narrate::Narrator;
use crate::observe::diag::{ConnKey, DiagSource, pair};
use crate::observe::{Observer, Sampler};
use crate::result::Counts;
use crate::watchdog::{Hold, Kind, Rule, Watchdog};

/// How often the connection is sampled.
const STEP: Duration = Duration::from_millis(100);
/// How long the echo thread may take to finish once the client has exited.
const ECHO_AFTER_EXIT: Duration = Duration::from_secs(2);
/// How long the kernel may take to report the client's socket destroyed once its program exited.
const FINAL_REPORT_WAIT: Duration = Duration::from_millis(500);
/// How long both sides must wait in recv() with nothing in flight before that is a verdict: long
/// enough that a client pausing between two sends is not taken for one that forgot to shut down.
pub const HALFCLOSE_CONFIRM: Duration = Duration::from_secs(1);

/// What one run needs.
#[derive(Debug, Clone)]
pub struct ClientCheck {
    pub template: Template,
    /// Where the reference server listens (port 0: a free one).
    pub addr: SocketAddr,
    /// Give up on a run after this long in all.
    pub timeout: Duration,
    /// Nothing moving for this long (or no connection for this long) is a hang.
    pub stall_after: Duration,
    /// Counters and queues standing still this long confirm a deadlock.
    pub confirm: Duration,
}

/// What the loop saw end the run.
enum End {
    Exited,
    Verdict,
    Hung(Hang),
    Interrupted,
}

/// Runs the client once; `bytes` fills `{bytes}`. Samples go to `obs` (the timeline recorder).
pub fn run(
    cfg: &ClientCheck,
    bytes: Option<u64>,
    obs: &mut dyn Observer,
) -> Result<ClientRun, CheckError> {
    let server = RefServer::listen(cfg.addr)?;
    let host = server.addr.ip().to_string();
    let command = cfg.template.fill(&host, server.addr.port(), bytes);
    let mut source = DiagSource::new().map_err(CheckError::Diag)?;
    // The kernel's report of the client's socket as it is destroyed tells what the client left
    // unread; subscribing needs CAP_NET_ADMIN, and without it the check does without.
    let destroyed = Destroyed::listen().ok();
    let mut student = Student::spawn(&command)?;
    let started = Instant::now();
    let mut served: Option<Served> = None;
    let mut connected_after = None;
    let mut key: Option<ConnKey> = None;
    let watchdog = Watchdog::new(&[
        Rule::Deadlock {
            confirm: cfg.confirm,
        },
        Rule::HalfClose {
            confirm: HALFCLOSE_CONFIRM.min(cfg.stall_after),
        },
    ]);
    let mut follower = Follower::new(watchdog, Some(Narrator::new(None)));
    let mut conn_over_at: Option<Instant> = None;
    let mut gone = false;
    let mut stopped_at: Option<Instant> = None;
    let mut last_cpu = None;
    let end = loop {
        if interrupt::requested() {
            break End::Interrupted;
        }
        if served.is_none() {
            match server.try_accept() {
                Ok(Some(s)) => {
                    connected_after = Some(started.elapsed());
                    served = Some(s);
                }
                Ok(None) => {}
                Err(e) => return Err(CheckError::Accept(e)),
            }
        }
        if let Some(s) = served.as_mut() {
            let since = started.elapsed() - connected_after.unwrap_or_default();
            if key.is_none() {
                key = find(&mut source, server.addr, s.peer);
            }
            if let Some(k) = key.filter(|_| !gone) {
                // Of tcplab's own threads only the echo thread is part of the connection; the
                // others (this one, sampling, and the output readers) would only confuse the rules.
                let echo = s.tid.load(std::sync::atomic::Ordering::Relaxed) as u32;
                let mut sampler = source.sampler(k).keep_own_thread(echo);
                let sample = sampler.sample(since);
                // Both ends closed (FIN both ways): the client may still be reading echo from a
                // socket the kernel no longer lists (it left FIN_WAIT2 for TIME_WAIT when the
                // server's FIN came), so the connection is no longer followed.
                gone = sampler.ends().iter().all(|e| {
                    e.as_ref()
                        .is_none_or(|e| matches!(e.state, TcpState::TimeWait | TcpState::Close))
                });
                if !gone {
                    if follower.step(sample, obs).verdict {
                        break End::Verdict;
                    }
                    let last = follower.last().expect("just sampled");
                    let h = follower.history();
                    if matches!(h.held, Some(Hold::Stopped { .. })) {
                        let since = *stopped_at.get_or_insert_with(Instant::now);
                        if since.elapsed() >= cfg.stall_after {
                            break End::Hung(Hang::Stopped {
                                ms: since.elapsed().as_millis() as u64,
                            });
                        }
                    } else {
                        stopped_at = None;
                    }
                    // Nothing moved and nothing could move it by itself (a sleeping reader, a
                    // thread waiting for a CPU), for longer than any pause it moved again after.
                    let still = h.stuck_for(last);
                    if still >= h.confirm(cfg.stall_after) && !student.exited() {
                        break End::Hung(Hang::Silent {
                            ms: still.as_millis() as u64,
                        });
                    }
                }
            }
            // Over once the echo loop has returned and every byte of echo reached the client's
            // socket; then a client that uses no CPU for --stall-after kept running for nothing
            // (a slow reader still draining its socket wakes now and then).
            let delivered = gone
                || follower.last().is_none_or(|l| {
                    l.server.as_ref().is_none_or(|q| q.outq_bytes == 0)
                        && l.client.as_ref().is_none_or(|q| q.inq_bytes == 0)
                });
            let cpu = student.cpu_ns();
            if !delivered || cpu != last_cpu {
                conn_over_at = None;
                last_cpu = cpu;
            }
            if s.finished(Duration::ZERO) && delivered && !student.exited() {
                let at = *conn_over_at.get_or_insert_with(Instant::now);
                if at.elapsed() >= cfg.stall_after {
                    break End::Hung(Hang::KeptRunning {
                        ms: at.elapsed().as_millis() as u64,
                    });
                }
            }
        }
        if student.exited() {
            if served.is_none() {
                // A connection may still be waiting in the backlog of a client that exited at once.
                if let Ok(Some(s)) = server.try_accept() {
                    connected_after = Some(started.elapsed());
                    served = Some(s);
                } else {
                    let p = student.stop();
                    return Err(CheckError::ExitedEarly {
                        command: shell_words(&command),
                        exit_code: p.exit_code,
                        signal: p.signal,
                        what: "connected to",
                        addr: server.addr,
                        said: p.stderr_tail.last().cloned(),
                        port_given: cfg.template.has(super::command::PORT),
                    });
                }
            }
            break End::Exited;
        }
        if served.is_none() && started.elapsed() >= cfg.stall_after {
            break End::Hung(Hang::NeverConnected {
                ms: started.elapsed().as_millis() as u64,
            });
        }
        if started.elapsed() >= cfg.timeout {
            break End::Hung(Hang::TimedOut {
                ms: started.elapsed().as_millis() as u64,
            });
        }
        // The sampling clock of the watcher, not a synchronisation.
        std::thread::sleep(STEP);
    };
    finish(
        command,
        bytes,
        end,
        student,
        (served, destroyed),
        follower.into_followed(),
        started,
        connected_after,
    )
}

/// The connection between the reference server's listening address and the client at `peer`.
fn find(source: &mut DiagSource, server: SocketAddr, peer: SocketAddr) -> Option<ConnKey> {
    let sockets = source.dump(&Filter::port(server.port())).ok()?;
    let canon = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    pair(&sockets, |s| s.local.port() == server.port())
        .into_iter()
        .find(|k| k.server.is_some_and(|e| e.remote == canon(peer)))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    command: Vec<String>,
    bytes: Option<u64>,
    end: End,
    mut student: Student,
    (mut served, destroyed): (Option<Served>, Option<Destroyed>),
    followed: Followed,
    started: Instant,
    connected_after: Option<Duration>,
) -> Result<ClientRun, CheckError> {
    let mut run = ClientRun {
        command,
        bytes,
        outcome: Outcome::Passed,
        hang: None,
        shortfall: None,
        verdict: None,
        threads: Vec::new(),
        ledger: None,
        server_received_bytes: 0,
        server_echoed_bytes: 0,
        counts: Counts::default(),
        echo_end: None,
        process: ProcessEnd::default(),
        connected_after_ms: connected_after.map(|d| d.as_millis() as u64),
        elapsed_ms: 0,
        events: followed.events,
        peaks: followed.peaks,
    };
    if let Some(s) = &followed.last {
        run.threads = s.threads.clone();
        run.counts = s.counts;
    }
    if !matches!(end, End::Exited) {
        // End a deadlock or a hang from tcplab's side first, so the client's blocked call returns.
        if let Some(sv) = &served {
            sv.shut_down();
        }
        run.process = student.stop();
    }
    match end {
        End::Exited => {
            if let Some(s) = served.as_mut() {
                // The client's socket closed with it: the echo loop sees end of stream or a reset.
                s.finished(ECHO_AFTER_EXIT);
            }
            run.process = student.stop();
            let close = served
                .as_ref()
                .map(|s| client_close(s, destroyed))
                .unwrap_or_default();
            judge_exit(&mut run, served.as_ref(), close);
        }
        End::Verdict => {
            let (v, s) = followed.verdict.expect("a verdict ended the run");
            run.outcome = match v.kind {
                Kind::HalfClose => {
                    run.hang = Some(Hang::BothWaitInRecv);
                    Outcome::Hung
                }
                _ => Outcome::Deadlocked,
            };
            if let (Some(c), Some(sv)) = (&s.client, &s.server) {
                run.ledger = Some(ledger::build(
                    &s.counts,
                    c,
                    sv,
                    1,
                    super::refserver::READ as u64,
                ));
            }
            run.verdict = Some(VerdictReport {
                kind: v.kind.name().to_string(),
                evidence: v.evidence,
                verdict_ms: v.at.as_millis() as u64,
                last_progress_ms: v.last_progress.as_millis() as u64,
            });
            run.threads = s.threads.clone();
            run.counts = s.counts;
        }
        End::Hung(h) => {
            run.outcome = Outcome::Hung;
            run.hang = Some(h);
        }
        End::Interrupted => run.outcome = Outcome::Interrupted,
    }
    if let Some(mut s) = served {
        s.finished(ECHO_AFTER_EXIT);
        (run.server_received_bytes, run.server_echoed_bytes) = s.counts();
        run.echo_end = run.echo_end.or(s.end());
        s.close(ECHO_AFTER_EXIT);
    }
    run.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(run)
}

/// How the client's socket ended, once its program exited.
#[derive(Debug, Default, Clone, Copy)]
struct ClientClose {
    /// Its kernel reset the connection instead of acknowledging the server's FIN (`None`: tcplab
    /// could not tell).
    reset: Option<bool>,
    /// Echo its program read, and echo it left unread in its socket, from the kernel's final
    /// report of that socket.
    read_unread: Option<(u64, u64)>,
}

/// How the client's socket ended: from tcplab's server's own socket, and from the kernel's
/// report of the client's socket as it destroyed it (`destroyed`, where it could be subscribed).
fn client_close(s: &Served, destroyed: Option<Destroyed>) -> ClientClose {
    let reset = s.reset_at_close(ECHO_AFTER_EXIT);
    let server_port = s
        .sock
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port());
    let report = destroyed
        .zip(server_port)
        .and_then(|(d, port)| final_report(d, port, s.peer));
    let (_, echoed) = s.counts();
    ClientClose {
        reset,
        read_unread: report.and_then(|r| read_and_unread(&r, echoed)),
    }
}

/// The kernel's report of the client's socket at `peer` (connected to `port`) as it destroyed it,
/// waiting at most `FINAL_REPORT_WAIT` for it.
fn final_report(mut d: Destroyed, port: u16, peer: SocketAddr) -> Option<DiagSocket> {
    let canon = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    let until = Instant::now() + FINAL_REPORT_WAIT;
    loop {
        let found = d
            .drain(&Filter::port(port))
            .ok()?
            .into_iter()
            .find(|r| canon(r.local) == canon(peer) && r.remote.port() == port);
        if found.is_some() || Instant::now() >= until {
            return found;
        }
        // The polling interval of a bounded wait for the kernel's report.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Echo the client's program read and echo it left unread, from its socket's final report and
/// the echo tcplab's server wrote (`echoed`). The report counts the server's FIN, when it
/// arrived, in `bytes_received` and, while unread, in `recv_q`, after any unread echo.
fn read_and_unread(r: &DiagSocket, echoed: u64) -> Option<(u64, u64)> {
    let received = r.tcp_info.as_ref()?.bytes_received;
    let fin = received > echoed;
    let unread = u64::from(r.recv_q).saturating_sub(u64::from(fin && r.recv_q > 0));
    let read = received
        .saturating_sub(u64::from(fin))
        .saturating_sub(unread);
    Some((read, unread))
}

/// Judges a client that exited by itself: its exit status, then what reached the server, then
/// whether it read the echo (`close`).
fn judge_exit(run: &mut ClientRun, served: Option<&Served>, close: ClientClose) {
    let Some(s) = served else {
        run.outcome = Outcome::Crashed;
        return;
    };
    let (received, echoed) = s.counts();
    run.echo_end = s.end();
    if !run.process.succeeded() {
        run.outcome = Outcome::Crashed;
        return;
    }
    let expected = run.bytes.unwrap_or(received);
    // A reset met by the server's recv() or send() (EPIPE once the reset was taken in).
    let reset = matches!(run.echo_end, Some(EchoEnd::Reset | EchoEnd::BrokenPipe));
    // Echo the client left unread in its socket, and whether its kernel reset the connection.
    let unread = close.read_unread.filter(|&(_, unread)| unread > 0);
    let reset_at_close = close.reset == Some(true);
    run.shortfall = if received == 0 && expected > 0 {
        Some(Shortfall::NothingSent {
            expected_bytes: expected,
        })
    } else if received < expected && reset {
        Some(Shortfall::ResetUnread {
            received_bytes: received,
            expected_bytes: expected,
        })
    } else if received != expected {
        Some(Shortfall::WrongCount {
            received_bytes: received,
            expected_bytes: expected,
        })
    } else if reset || echoed < received {
        Some(Shortfall::ClosedEarly {
            echoed_bytes: echoed,
        })
    } else if unread.is_some() || reset_at_close {
        Some(Shortfall::EchoUnread {
            read_bytes: unread.map(|(read, _)| read),
            unread_bytes: unread.map(|(_, unread)| unread),
            reset: reset_at_close,
        })
    } else {
        None
    };
    run.outcome = if run.shortfall.is_some() {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
}
