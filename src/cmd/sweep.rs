//! `tcplab sweep`: builds the plan from the flags, checks and opens every output, runs the points
//! (several at once) with a progress bar on stderr, writes each row to every output in point order
//! as soon as the points before it are done, draws the plot at the end (also after Ctrl-C, from
//! the points that finished), and shows the table on a terminal when the rows went only to files.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::sweep::SweepArgs;
use crate::interrupt;
use crate::report::errors::Usage;
use crate::report::export::Format;
use crate::report::output::{self, Wanted};
use crate::report::progress::Live;
use crate::report::sweep_plot::write_plot;
use crate::report::sweep_progress;
use crate::report::sweep_row::SweepRow;
use crate::report::sweep_table::{RowSink, show_on_terminal};
use crate::result::Outcome;
use crate::sock;
use crate::sweep::End;
use crate::sweep::grid::MAX_POINTS;

pub fn main(a: &SweepArgs) -> anyhow::Result<ExitCode> {
    sock::loopback_only(&a.host, "--host ", "tcplab sweep")?;
    let plan = a.plan();
    if plan.len() > MAX_POINTS {
        let flags: Vec<&str> = plan.axes.iter().map(|(k, _)| k.flag()).collect();
        return Err(Usage(format!(
            "the sweep over {} has {} points (repeats included), more than the {MAX_POINTS} allowed; use coarser steps (e.g. x4) or fewer values",
            flags.join(", "),
            plan.len()
        ))
        .into());
    }
    let format = a.format.get();
    // `--format svg` puts the plot on stdout, as `--plot -` would.
    let plot_path = match (format, a.plot.clone()) {
        (Format::Svg, None) => Some(PathBuf::from("-")),
        (_, p) => p,
    };
    if plot_path.is_some() && plan.x_knob().is_none() {
        return Err(Usage(
            "cannot draw --plot: no swept flag takes a byte size (only 'auto'); give sizes such as --sndbuf 4K..64K:x2".into(),
        )
        .into());
    }
    let (outputs, stdout_carries) = match (a.output.is_empty(), format) {
        (true, Format::Svg) => (Vec::new(), None),
        (true, _) => (vec![PathBuf::from("-")], Some("the sweep's rows")),
        (false, _) => (a.output.clone(), None),
    };
    // Check and open every output (the plot too) before spending the sweep's time.
    let mut wanted: Vec<Wanted> = Vec::new();
    if stdout_carries.is_none() {
        wanted.extend(outputs.iter().map(|path| Wanted { flag: "-o", path }));
    }
    if let Some(path) = plot_path.as_deref() {
        wanted.push(Wanted {
            flag: "--plot",
            path,
        });
    }
    let mut opened = output::open(&wanted, stdout_carries)?.into_iter();
    let mut sinks = Vec::new();
    for path in &outputs {
        let out = match stdout_carries {
            Some(_) => output::create(path)?,
            None => opened.next().expect("one writer per output"),
        };
        sinks.push(RowSink::new(path, out, format)?);
    }
    let plot_out = opened.next();

    let live = Live::decide(a.quiet, format == Format::Json);
    let bar = sweep_progress::bar(live, plan.len());
    let mut done = Vec::with_capacity(plan.len());
    let end = plan.run(
        |p, result| {
            bar.inc(1);
            bar.set_message(sweep_progress::brief(&SweepRow::from_result(p, result)));
        },
        |p, result| {
            let row = SweepRow::from_result(p, result);
            bar.suspend(|| sinks.iter_mut().try_for_each(|s| s.write(&row)))?;
            done.push((p.clone(), row));
            Ok(())
        },
    );
    bar.finish_and_clear();
    // The plot is drawn from whatever finished, even when a point failed or Ctrl-C came.
    if let Some(out) = plot_out {
        write_plot(&plan, &done, out)?;
    }
    // Rows that went only to files are shown on a terminal too, once, as `--format text` has them.
    let stdout_free = !outputs
        .iter()
        .chain(&plot_path)
        .any(|p| p.as_os_str() == "-");
    if stdout_free && !done.is_empty() {
        show_on_terminal(done.iter().map(|(_, r)| r))?;
    }
    let end = end?;
    if stdout_carries.is_none() {
        let rows = crate::report::human::count(done.len() as u64, "row");
        outputs
            .iter()
            .for_each(|p| output::tell_written(p, Some(&rows)));
    }
    if let Some(path) = plot_path.as_deref() {
        output::tell_written(path, None);
    }
    match end {
        End::Interrupted => Ok(ExitCode::from(interrupt::exit_code())),
        End::AllDone if done.iter().any(|(_, r)| r.outcome == Outcome::Failed) => {
            Ok(ExitCode::from(1))
        }
        End::AllDone => Ok(ExitCode::SUCCESS),
    }
}
