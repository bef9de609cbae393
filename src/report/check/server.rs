//! The wording of `check server`: the table of tcplab's client runs against a student's server,
//! and what went wrong in the first one that failed (the first wrong byte, the missing bytes, a
//! server that never closes).

use std::io::{self, Write};

use super::{
    Block, how_it_ended, markdown_title, output_blocks, secs, size, write_blocks, write_settings,
    write_svg_link,
};
use crate::check::{Outcome, Problem, ServerDoc, ServerStep, shell_words};
use crate::payload::MESSAGE;
use crate::report::human;

/// A line for stderr as each step of a server check ends.
pub fn server_step_line(s: &ServerStep) -> String {
    format!(
        "  {:<13} {:>9}  {:<10}  {}",
        s.strategy.as_str(),
        human(s.bytes),
        s.outcome.name(),
        secs(s.result.timings.elapsed_ms)
    )
}

fn server_blocks(doc: &ServerDoc) -> Vec<Block> {
    let mut b = vec![Block::Table(
        vec![
            "tcplab's client".into(),
            "bytes".into(),
            "verdict".into(),
            "time".into(),
        ],
        doc.steps
            .iter()
            .map(|s| {
                vec![
                    s.strategy.as_str().to_string(),
                    human(s.bytes),
                    s.outcome.name().to_string(),
                    secs(s.result.timings.elapsed_ms),
                ]
            })
            .collect(),
    )];
    let last = doc.steps.last();
    match (doc.outcome, last) {
        (Outcome::Passed, _) => b.push(Block::Para(format!(
            "PASSED: every echo came back uppercased, byte for byte, up to {}, and the server closed each connection after its echo.",
            size(last.map_or(0, |s| s.bytes))
        ))),
        (_, Some(s)) => {
            b.push(Block::Para(step_verdict(doc, s)));
            if doc.outcome == Outcome::Crashed {
                b.extend(output_blocks(&doc.server_process, false));
            }
        }
        (o, None) => b.push(Block::Para(format!("{}.", o.name().to_uppercase()))),
    }
    let end = match &doc.server_process.stopped_with {
        Some(sig) => format!("tcplab stopped the server with {sig} at the end"),
        None => format!("the server {} by itself", how_it_ended(&doc.server_process)),
    };
    b.push(Block::Para(format!(
        "{end}; {}.",
        super::left_running(
            &doc.server_process,
            doc.port_still_listening.then_some(doc.addr.as_str())
        )
    )));
    b
}

fn step_verdict(doc: &ServerDoc, s: &ServerStep) -> String {
    let with = format!(
        "with tcplab's {} client at {}",
        s.strategy.as_str(),
        human(s.bytes)
    );
    let word = doc.outcome.name().to_uppercase();
    if doc.outcome == Outcome::Crashed {
        return format!(
            "CRASHED {with}: the server {} during the run.",
            how_it_ended(&doc.server_process)
        );
    }
    let what = match &s.problem {
        Some(Problem::WrongByte { at_byte, said }) => {
            let want = MESSAGE[(*at_byte % MESSAGE.len() as u64) as usize].to_ascii_uppercase();
            let quote = said
                .as_ref()
                .map(|t| {
                    format!(
                        " The echo began '{}'.",
                        super::outside(&t.chars().take(48).collect::<String>())
                    )
                })
                .unwrap_or_default();
            format!(
                "the echo differs from the uppercased input at byte {at_byte} (the first wrong byte; '{}' was expected there).{quote} Every ASCII letter must come back uppercased, every other byte unchanged.",
                want as char
            )
        }
        Some(Problem::TooLong {
            received_bytes,
            expected_bytes,
        }) => format!(
            "more came back than was sent: {} of echo for {} sent. Send back exactly the bytes you read, once.",
            size(*received_bytes),
            size(*expected_bytes)
        ),
        Some(Problem::Missing {
            received_bytes,
            expected_bytes,
        }) => format!(
            "the echo ended after {received_bytes} of {expected_bytes} bytes: the last {} never came back before the server closed. Send every block back before you close.",
            size(expected_bytes.saturating_sub(*received_bytes))
        ),
        Some(Problem::NeverCloses { ms }) => format!(
            "every byte came back, but the server never closed the connection: tcplab's client still waited for end of stream {ms} ms later. Close the connection (or shutdown(SHUT_WR)) once recv() returns 0."
        ),
        Some(Problem::Stalled {
            ms,
            received_bytes,
            expected_bytes,
        }) => format!(
            "nothing moved for {ms} ms with {} of {} echoed back. Does the server stop reading while it writes, or wait for more than it was sent?",
            human(*received_bytes),
            human(*expected_bytes)
        ),
        Some(Problem::Connection { failure }) => connection_text(failure),
        Some(Problem::TimedOut { ms }) => {
            format!("the run was still going after {ms} ms (--timeout).")
        }
        None => String::new(),
    };
    let smaller = doc.steps.len() > 1;
    let note = if smaller {
        " It passed every smaller run before this one."
    } else {
        ""
    };
    format!("{word} {with}: {what}{note}")
}

/// The server listens, for stderr.
pub fn server_listening_line(s: &crate::check::server::Started) -> String {
    format!(
        "tcplab check server: {} listens on {} (after {} ms)",
        shell_words(&s.command),
        s.addr,
        s.listening_after_ms
    )
}

impl crate::report::export::Document for ServerDoc {
    fn text(&self, out: &mut dyn Write) -> io::Result<()> {
        write_server(self, &mut &mut *out)
    }
}

/// The text report of a server check.
pub fn write_server(doc: &ServerDoc, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "tcplab check server: {}", shell_words(&doc.command))?;
    writeln!(
        out,
        "  ran: {}\n  it listened on {} after {} ms\n",
        shell_words(&doc.command_run),
        doc.addr,
        doc.listening_after_ms
    )?;
    write_blocks(&server_blocks(doc), false, out)
}

/// The Markdown lab report of a server check.
pub fn write_server_markdown(
    doc: &ServerDoc,
    svg: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    markdown_title("server", &doc.command, out)?;
    let settings = vec![
        ("command".to_string(), format!("`{}`", shell_words(&doc.command))),
        ("run as".into(), format!("`{}`", shell_words(&doc.command_run))),
        (
            "listened".into(),
            format!("on {} after {} ms", doc.addr, doc.listening_after_ms),
        ),
        (
            "clients".into(),
            "tcplab's naive client, then its reader-thread client at growing sizes; 16-byte writes of 'capitalize this!'".into(),
        ),
        ("verdict".into(), format!("**{}**", doc.outcome.name())),
    ];
    write_settings(&settings, out)?;
    writeln!(out, "## Verdict\n")?;
    write_blocks(&server_blocks(doc), true, out)?;
    write_svg_link(svg, out)
}

/// A connection that failed, said of a student's server (not of tcplab's, whose flags would be
/// no help here).
fn connection_text(f: &crate::result::Failure) -> String {
    use crate::result::{Failure, IoFailure};
    match f {
        Failure::Connection {
            error,
            sent_bytes,
            total_bytes,
            received_bytes,
        } => {
            let what = match error {
                IoFailure::Reset => "the server reset the connection".to_string(),
                IoFailure::BrokenPipe => {
                    "the server closed the connection while tcplab's client was still sending"
                        .to_string()
                }
                IoFailure::ClosedEarly => "the server closed the connection early".to_string(),
                IoFailure::Other { message } => format!("the connection failed: {message}"),
            };
            format!(
                "{what} after {sent_bytes} of {total_bytes} bytes were sent and {received_bytes} came back. Does it close (or crash) before it has read and echoed everything? A server that closes with bytes unread sends a reset."
            )
        }
        other => crate::report::text::failure_text(other),
    }
}
