//! `tcplab watch`: follows the connections the flags name (`watch::follow`) through the view
//! (`report::watch::WatchView`), and exits 3 at a deadlock, 0 once every connection closed
//! cleanly (with --until-verdict), 1 on --timeout, or 130/143 on a signal.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::watch::WatchArgs;
use crate::interrupt;
use crate::report;
use crate::report::errors::Usage;
use crate::report::export::Format;
use crate::report::progress::Live;
use crate::report::watch::WatchView;
use crate::report::web::WatchPage;
use crate::watch::{self, Target, View, WatchEnd, Watcher};
use crate::watchdog::DEFAULT_CONFIRM;

pub fn main(a: &WatchArgs) -> anyhow::Result<ExitCode> {
    let format = a.format.get();
    if !matches!(format, Format::Text | Format::Json) {
        return Err(Usage(format!(
            "watch writes text or json; there is no '--format {}' for it",
            format.name()
        ))
        .into());
    }
    if a.table && format == Format::Json {
        return Err(Usage(
            "--table is a view for a person; with --format json every row is in the JSON lines already: drop one of the two".into(),
        )
        .into());
    }
    let mut w = Watcher::new(Target {
        port: a.port,
        pid: a.pid,
        host: a.host,
        confirm: DEFAULT_CONFIRM,
        threads_every: Duration::ZERO,
    })?;
    // --web: the page sees what the terminal sees, and stays for the linger.
    let web = report::web::start(a.web.web, a.web.web_linger.0)?;
    let mut page = web.as_ref().map(|s| {
        let port = a.port.map(|p| format!(" · port {p}")).unwrap_or_default();
        WatchPage::new(s.hub(), &format!("tcplab watch{port}"))
    });
    if let (Some(why), Format::Text) = (w.destroyed_unavailable(), format) {
        eprintln!(
            "{}",
            report::wrap::for_stderr(&report::watch::destroyed_unavailable_line(why))
        );
    }
    let mut view = WatchView::new(format, Live::decide(a.quiet, a.format.machine()), a.table);
    let mut views: Vec<&mut dyn View> = vec![&mut view];
    if let Some(p) = page.as_mut() {
        views.push(p);
    }
    let end = watch::follow(&mut w, a.until_verdict, a.timeout.map(|t| t.0), &mut views);
    match (web, &end) {
        (Some(s), Ok(_)) => report::web::end(s, None),
        (Some(s), Err(_)) => s.close(),
        (None, _) => {}
    }
    let end = end?;
    Ok(ExitCode::from(match end {
        WatchEnd::Verdict => 3,
        WatchEnd::AllClosed { clean } => u8::from(!clean),
        WatchEnd::Interrupted => interrupt::exit_code(),
        WatchEnd::ProcessGone { pid } => {
            anyhow::bail!("{}", report::watch::process_gone_line(pid))
        }
        WatchEnd::TimedOut => anyhow::bail!(
            "{}",
            report::watch::timed_out_line(
                &w,
                a.until_verdict,
                &a.timeout.map(|t| t.to_arg()).unwrap_or_default()
            )
        ),
    }))
}
