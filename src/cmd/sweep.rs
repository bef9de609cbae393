//! `tcplab sweep`: builds the plan from the flags, opens every output, runs the points with a
//! progress bar on stderr, writes each row to every output as soon as its point finishes, and
//! draws the plot at the end (also after Ctrl-C, from the points that finished).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::outputs::{self, Wanted};
use crate::cli::sweep::{SweepArgs, SweepFormat};
use crate::interrupt;
use crate::report::sweep_plot::{self as plot, knob_label};
use crate::report::{self, csv::CsvSink, progress::Live, svg, sweep_table as table, wrap};
use crate::result::Outcome;
use crate::sweep::grid::MAX_POINTS;
use crate::sweep::{End, Knob, Plan, Point, SweepRow};
use crate::units::{BufSize, ByteSize};

/// The grid when no buffer flag is given: the four buffers together, 4 KiB to 256 KiB.
fn default_axis() -> (Knob, Vec<BufSize>) {
    let v = [4u64, 16, 64, 256].map(|k| BufSize::Bytes(ByteSize(k * 1024)));
    (Knob::Buffers, v.to_vec())
}

pub fn plan(a: &SweepArgs) -> Plan {
    let given = [
        (Knob::Buffers, &a.buffers),
        (Knob::Sndbuf, &a.sndbuf),
        (Knob::Rcvbuf, &a.rcvbuf),
        (Knob::ClientSndbuf, &a.client_sndbuf),
        (Knob::ClientRcvbuf, &a.client_rcvbuf),
        (Knob::ServerSndbuf, &a.server_sndbuf),
        (Knob::ServerRcvbuf, &a.server_rcvbuf),
    ];
    let mut axes: Vec<(Knob, Vec<BufSize>)> = given
        .into_iter()
        .filter_map(|(k, g)| g.as_ref().map(|g| (k, g.0.clone())))
        .collect();
    if axes.is_empty() {
        axes.push(default_axis());
    }
    let mut strategies = a.strategy.clone();
    strategies.dedup();
    Plan {
        axes,
        strategies,
        repeat: a.repeat,
        chunk: a.chunk.bytes(),
        read: a.read.bytes(),
        bytes: a.bytes.map(ByteSize::bytes),
        nodelay: a.nodelay,
        buffers_after_connect: a.buffers_after_connect,
        stall_after: a.stall_after.0,
        timeout: a.timeout.0,
        host: a.host.clone(),
    }
}

/// One destination of the rows.
enum Sink {
    /// The table, laid out for the terminal's width when it goes to one (`None`: a pipe, a file).
    Text(Box<dyn Write>, Option<usize>),
    Csv(Box<CsvSink<Box<dyn Write>>>),
    Json(Box<dyn Write>),
}

impl Sink {
    /// Rows into `out`, in the form the file name's extension asks for (else `fallback`).
    fn new(path: &Path, out: Box<dyn Write>, fallback: SweepFormat) -> anyhow::Result<Sink> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let format = match ext.to_ascii_lowercase().as_str() {
            "csv" => SweepFormat::Csv,
            "json" | "jsonl" | "ndjson" => SweepFormat::Json,
            "txt" => SweepFormat::Text,
            _ => fallback,
        };
        Ok(match format {
            SweepFormat::Text => {
                let mut out = out;
                let width = if path.as_os_str() == "-" {
                    wrap::stdout_width()
                } else {
                    None
                };
                table::write_header(&mut out, width)?;
                Sink::Text(out, width)
            }
            SweepFormat::Csv => Sink::Csv(Box::new(CsvSink::new(out))),
            SweepFormat::Json => Sink::Json(out),
        })
    }

    fn write(&mut self, row: &SweepRow) -> std::io::Result<()> {
        match self {
            Sink::Text(out, width) => table::write_row(row, out, *width),
            Sink::Csv(csv) => csv.write(row),
            Sink::Json(out) => {
                serde_json::to_writer(&mut *out, row)?;
                writeln!(out)?;
                out.flush()
            }
        }
    }
}

pub fn main(a: &SweepArgs) -> anyhow::Result<ExitCode> {
    super::loopback_only(&a.host, "--host", "tcplab sweep")?;
    let plan = plan(a);
    if plan.len() > MAX_POINTS {
        let flags: Vec<&str> = plan.axes.iter().map(|(k, _)| k.flag()).collect();
        eprintln!(
            "{}",
            wrap::for_stderr(&format!(
                "tcplab: the sweep over {} has {} points (repeats included), more than the {MAX_POINTS} allowed; use coarser steps (e.g. x4) or fewer values",
                flags.join(", "),
                plan.len()
            ))
        );
        return Ok(ExitCode::from(2));
    }
    if a.plot.is_some() && plan.x_knob().is_none() {
        eprintln!(
            "{}",
            wrap::for_stderr(
                "tcplab: cannot draw --plot: no swept flag takes a byte size (only 'auto'); give sizes such as --sndbuf 4K..64K:x2"
            )
        );
        return Ok(ExitCode::from(2));
    }
    let format = if a.json { SweepFormat::Json } else { a.format };
    let (outputs, stdout_carries) = if a.output.is_empty() {
        (vec![PathBuf::from("-")], Some("the sweep's rows"))
    } else {
        (a.output.clone(), None)
    };
    // Check and open every output (the plot too) before spending the sweep's time.
    let mut wanted: Vec<Wanted> = Vec::new();
    if stdout_carries.is_none() {
        wanted.extend(outputs.iter().map(|path| Wanted { flag: "-o", path }));
    }
    if let Some(path) = a.plot.as_deref() {
        wanted.push(Wanted {
            flag: "--plot",
            path,
        });
    }
    let mut opened = outputs::open(&wanted, stdout_carries)?.into_iter();
    let mut sinks = Vec::new();
    for path in &outputs {
        let out = match stdout_carries {
            Some(_) => report::create(path)?,
            None => opened.next().expect("one writer per output"),
        };
        sinks.push(Sink::new(path, out, format)?);
    }
    let plot_out = opened.next();

    let live = Live::decide(a.quiet, format == SweepFormat::Json);
    let bar = live.bar(
        plan.len() as u64,
        "sweep [{bar:24.cyan/blue}] {pos}/{len} points, ETA {eta}  {wide_msg}",
    );
    let mut done: Vec<(Point, SweepRow)> = Vec::with_capacity(plan.len());
    let end = plan.run(&report::text::failure_text, |p, row| {
        bar.suspend(|| sinks.iter_mut().try_for_each(|s| s.write(row)))?;
        bar.inc(1);
        bar.set_message(format!("last: {}", row_brief(row)));
        done.push((p.clone(), row.clone()));
        Ok(())
    });
    bar.finish_and_clear();
    // The plot is drawn from whatever finished, even when a point failed or Ctrl-C came.
    if let Some(out) = plot_out {
        write_plot(&plan, &done, out)?;
    }
    let end = end?;
    if stdout_carries.is_none() {
        let rows = report::output::rows(done.len());
        outputs
            .iter()
            .for_each(|p| outputs::tell_written(p, Some(&rows)));
    }
    if let Some(path) = a.plot.as_deref() {
        outputs::tell_written(path, None);
    }
    match end {
        End::Interrupted => Ok(ExitCode::from(interrupt::exit_code())),
        End::AllDone if done.iter().any(|(_, r)| r.outcome == Outcome::Failed) => {
            Ok(ExitCode::from(1))
        }
        End::AllDone => Ok(ExitCode::SUCCESS),
    }
}

fn row_brief(r: &SweepRow) -> String {
    match r.stalled_at() {
        Some(b) => format!("deadlock after {}", report::human(b)),
        None => match r.outcome {
            Outcome::Completed => "completed".into(),
            Outcome::TimedOut => "timed out".into(),
            Outcome::Deadlock | Outcome::Interrupted => "stopped".into(),
            _ => "failed".into(),
        },
    }
}

fn write_plot(
    plan: &Plan,
    done: &[(Point, SweepRow)],
    mut out: Box<dyn Write>,
) -> anyhow::Result<()> {
    let Some((x, series)) = plot::series(plan, done) else {
        anyhow::bail!("cannot draw --plot: no swept flag takes a byte size");
    };
    let title = format!(
        "Bytes sent before the deadlock ({}, {} B writes); dashed: the sum of the four buffers",
        plan.strategies
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        plan.chunk
    );
    let svg = svg::sweep(&series, &format!("{} (requested)", knob_label(x)), &title)
        .map_err(anyhow::Error::msg)?;
    out.write_all(svg.as_bytes())?;
    out.flush()?;
    Ok(())
}
