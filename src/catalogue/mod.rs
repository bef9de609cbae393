//! The numbered experiments: `experiments/NN-slug.toml` (the data: what to watch, the commands,
//! the expected outcome, hints) and `experiments/NN-slug.md` (the page). Both are embedded at build
//! time (see `src/build.rs`), parsed with serde from TOML, and checked here: a malformed entry is
//! reported by file and field. Running an experiment lives in `child.rs` (one command as a child
//! process) and `verdict.rs` (did it behave as expected); the programs a command runs that are not
//! tcplab (`{lab}/NAME`) in `files.rs`; printing is `cmd::{list,show,run}`.

pub mod check;
pub mod child;
pub mod files;
pub mod runner;
pub mod verdict;

use serde::Deserialize;

use check::Check;

/// One experiment's files as `src/build.rs` embedded them.
pub struct EmbeddedFile {
    /// File name without extension, e.g. `05-deadlock`.
    pub stem: &'static str,
    pub toml: &'static str,
    pub page: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/catalogue_files.rs"));

/// The catalogue format this binary reads; an entry with another `format_version` is refused.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    format_version: u32,
    title: String,
    summary: String,
    watch: String,
    commands: Vec<Vec<String>>,
    expect: RawExpect,
    hints: Vec<String>,
    #[serde(default)]
    slow_when_live: bool,
    #[serde(default)]
    attempts: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    outcome: OneOrMany,
    #[serde(default)]
    checks: Vec<RawCheck>,
    increasing: Option<Trend>,
    decreasing: Option<Trend>,
}

/// `{ check = "2: /verification/matched == true", means = "the fix's echo is …" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    check: String,
    means: String,
}

/// A value that must grow (or shrink) from each command to the next, and what that means.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trend {
    /// A JSON pointer into each command's document.
    pub pointer: String,
    /// The sentence a student reads.
    pub means: String,
}

/// `outcome = "deadlock"` (every command) or `outcome = ["completed", "closed_early"]` (one each).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// What an experiment must show for `tcplab run` to pass.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The expected `outcome` of each command, one per command.
    pub outcomes: Vec<String>,
    /// Comparisons on each command's JSON (or one command's, with an `N:` prefix).
    pub checks: Vec<Check>,
    /// A value that must grow strictly from each command to the next.
    pub increasing: Option<Trend>,
    /// A value that must shrink strictly from each command to the next.
    pub decreasing: Option<Trend>,
}

impl Experiment {
    /// Command `i` as the runner runs it: in slow motion when shown live, if the entry asks.
    pub fn command(&self, i: usize, live: bool) -> Vec<String> {
        let mut args = self.commands[i].clone();
        let slowable = matches!(
            args.first().map(String::as_str),
            Some("deadlock" | "client")
        );
        if live && self.slow_when_live && slowable && !args.iter().any(|a| a == "--pace") {
            args.push("--slow".into());
        }
        args
    }
}

/// One numbered experiment, checked.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub number: u32,
    /// The name after the number, e.g. `deadlock` for `05-deadlock.toml`.
    pub slug: String,
    /// `experiments/05-deadlock.toml`, for messages.
    pub file: String,
    pub title: String,
    pub summary: String,
    pub watch: String,
    /// tcplab argument lists, without the program name.
    pub commands: Vec<Vec<String>>,
    pub expect: Expect,
    pub hints: Vec<String>,
    /// Shown live, the runs go in slow motion (`--slow` added to each `deadlock` and `client`).
    pub slow_when_live: bool,
    /// How many times `tcplab run` may try the whole experiment before it says FAIL: more than
    /// one only for a behaviour that, by the kernel's nature, does not show in every run (the
    /// page says how often).
    pub attempts: u32,
    /// The Markdown page (`tcplab show N`).
    pub page: &'static str,
}

/// A malformed catalogue entry: the file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {problem}")]
pub struct CatalogueError {
    pub file: String,
    pub problem: String,
}

/// No experiment matched what the user typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotFound {
    #[error("no experiment numbered {0}; 'tcplab list' shows the available ones")]
    Number(String),
    #[error("no experiment named '{0}'; 'tcplab list' shows the available ones")]
    Name(String),
}

/// Parses and checks every embedded experiment, in number order.
pub fn load() -> Result<Vec<Experiment>, CatalogueError> {
    let mut list = FILES
        .iter()
        .map(|f| parse_entry(f.stem, f.toml, f.page))
        .collect::<Result<Vec<_>, _>>()?;
    list.sort_by_key(|e| e.number);
    for (i, e) in list.iter().enumerate() {
        let want = i as u32 + 1;
        if e.number != want {
            return Err(CatalogueError {
                file: e.file.clone(),
                problem: format!(
                    "numbering must run 1..N without gaps or repeats, but number {want} is followed by {}",
                    e.number
                ),
            });
        }
    }
    Ok(list)
}

/// Loads the catalogue and takes out the experiment a student named (number or slug).
pub fn pick(query: &str) -> anyhow::Result<Experiment> {
    let mut list = load()?;
    let n = find(&list, query)?.number;
    let at = list.iter().position(|e| e.number == n).expect("just found");
    Ok(list.swap_remove(at))
}

/// Finds an experiment by number (`5`, `05`) or slug (`deadlock`, `05-deadlock`).
pub fn find<'a>(list: &'a [Experiment], query: &str) -> Result<&'a Experiment, NotFound> {
    let q = query.trim();
    if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) {
        let n: Option<u32> = q.parse().ok();
        return list
            .iter()
            .find(|e| Some(e.number) == n)
            .ok_or_else(|| NotFound::Number(q.to_owned()));
    }
    let q = q.to_ascii_lowercase();
    list.iter()
        .find(|e| e.slug == q || format!("{:02}-{}", e.number, e.slug) == q)
        .ok_or(NotFound::Name(query.to_owned()))
}

/// Parses one entry; `stem` is its file name without `.toml`.
pub fn parse_entry(
    stem: &str,
    text: &str,
    page: Option<&'static str>,
) -> Result<Experiment, CatalogueError> {
    let file = format!("experiments/{stem}.toml");
    let bad = |problem: String| CatalogueError {
        file: file.clone(),
        problem,
    };
    let (number, slug) = split_stem(stem).ok_or_else(|| {
        bad("the file name must be NN-slug.toml (a number, a hyphen, lower-case words)".into())
    })?;
    let raw: RawEntry = toml::from_str(text).map_err(|e| bad(describe_toml_error(text, &e)))?;
    if raw.format_version != FORMAT_VERSION {
        return Err(bad(format!(
            "field 'format_version' is {}, but this tcplab reads version {FORMAT_VERSION}",
            raw.format_version
        )));
    }
    for (name, value) in [
        ("title", &raw.title),
        ("summary", &raw.summary),
        ("watch", &raw.watch),
    ] {
        if value.trim().is_empty() {
            return Err(bad(format!("field '{name}' is empty")));
        }
    }
    if raw.summary.contains('\n') {
        return Err(bad("field 'summary' must be one line".into()));
    }
    if raw.commands.is_empty() || raw.commands.iter().any(Vec::is_empty) {
        return Err(bad(
            "field 'commands' needs at least one non-empty argument list".into(),
        ));
    }
    files::check_references(&raw.commands)
        .map_err(|why| bad(format!("field 'commands': {why}")))?;
    if raw.hints.is_empty() || raw.hints.iter().any(|h| h.trim().is_empty()) {
        return Err(bad("field 'hints' needs at least one non-empty hint".into()));
    }
    let outcomes = match raw.expect.outcome {
        OneOrMany::One(o) => vec![o; raw.commands.len()],
        OneOrMany::Many(v) => v,
    };
    if outcomes.len() != raw.commands.len() {
        return Err(bad(format!(
            "field 'expect.outcome' lists {} outcomes for {} commands; give one outcome, or one per command",
            outcomes.len(),
            raw.commands.len()
        )));
    }
    if let Some(o) = outcomes
        .iter()
        .find(|o| o.parse::<crate::outcome::Outcome>().is_err())
    {
        return Err(bad(format!(
            "field 'expect.outcome': unknown outcome '{o}'; known: {}",
            <crate::outcome::Outcome as strum::VariantNames>::VARIANTS.join(", ")
        )));
    }
    let mut checks = Vec::new();
    for (i, raw_check) in raw.expect.checks.iter().enumerate() {
        let mut c = Check::parse(&raw_check.check)
            .map_err(|why| bad(format!("field 'expect.checks' item {}: {why}", i + 1)))?;
        if raw_check.means.trim().is_empty() {
            return Err(bad(format!(
                "field 'expect.checks' item {}: 'means' is empty; say in a sentence what the check shows",
                i + 1
            )));
        }
        c.means = raw_check.means.trim().to_owned();
        if c.command.is_some_and(|n| n == 0 || n > raw.commands.len()) {
            return Err(bad(format!(
                "field 'expect.checks' item {}: there is no command {} (the entry has {})",
                i + 1,
                c.command.unwrap_or(0),
                raw.commands.len()
            )));
        }
        checks.push(c);
    }
    for (name, p) in [
        ("increasing", &raw.expect.increasing),
        ("decreasing", &raw.expect.decreasing),
    ] {
        if p.as_ref().is_some_and(|p| !p.pointer.starts_with('/')) {
            return Err(bad(format!(
                "field 'expect.{name}' must be a JSON pointer such as '/counts/client_sent_bytes'"
            )));
        }
        if p.as_ref().is_some_and(|p| p.means.trim().is_empty()) {
            return Err(bad(format!(
                "field 'expect.{name}': 'means' is empty; say in a sentence what the trend shows"
            )));
        }
        if p.is_some() && raw.commands.len() < 2 {
            return Err(bad(format!(
                "field 'expect.{name}' compares commands, but the entry has only one"
            )));
        }
    }
    let page = page.ok_or_else(|| {
        bad(format!(
            "the page experiments/{stem}.md is missing; every experiment needs one"
        ))
    })?;
    Ok(Experiment {
        number,
        slug: slug.to_owned(),
        file,
        title: raw.title.trim().to_owned(),
        summary: raw.summary.trim().to_owned(),
        watch: raw.watch.trim().to_owned(),
        commands: raw.commands,
        expect: Expect {
            outcomes,
            checks,
            increasing: raw.expect.increasing,
            decreasing: raw.expect.decreasing,
        },
        hints: raw.hints.iter().map(|h| h.trim().to_owned()).collect(),
        slow_when_live: raw.slow_when_live,
        attempts: raw.attempts.unwrap_or(1).clamp(1, 5),
        page,
    })
}

fn split_stem(stem: &str) -> Option<(u32, &str)> {
    let (num, slug) = stem.split_once('-')?;
    let ok_slug = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) || !ok_slug {
        return None;
    }
    Some((num.parse().ok()?, slug))
}

/// toml's message names the field for a missing or unknown one; for a wrong value it gives a
/// byte span, which becomes a line number and the key written on that line.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('`', "'");
    let Some(span) = e.span() else {
        return message;
    };
    if message.starts_with("missing field") {
        return message;
    }
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("");
    match line.split_once('=') {
        Some((key, _)) => format!("field '{}' (line {line_no}): {message}", key.trim()),
        None => format!("line {line_no}: {message}"),
    }
}

#[cfg(test)]
mod tests;
