//! The student's command line as typed after `--`, with placeholders tcplab fills in for each run:
//! `{host}` (the loopback address, without brackets), `{port}` and `{bytes}` (a plain byte count).
//! A placeholder may stand anywhere inside an argument (`--port={port}`, `{host}:{port}`); any
//! other text in braces is left alone (a Python one-liner may contain some).

/// The command with its placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    argv: Vec<String>,
}

pub const HOST: &str = "{host}";
pub const PORT: &str = "{port}";
pub const BYTES: &str = "{bytes}";

impl Template {
    /// `argv` is the program and its arguments; clap guarantees at least the program.
    pub fn new(argv: Vec<String>) -> Template {
        Template { argv }
    }

    /// Whether `placeholder` (e.g. `{bytes}`) appears in any argument.
    pub fn has(&self, placeholder: &str) -> bool {
        self.argv.iter().any(|a| a.contains(placeholder))
    }

    /// The command as typed, placeholders and all.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The command to run: every placeholder replaced.
    pub fn fill(&self, host: &str, port: u16, bytes: Option<u64>) -> Vec<String> {
        let port = port.to_string();
        let bytes = bytes.map(|b| b.to_string());
        self.argv
            .iter()
            .map(|a| {
                let mut a = a.replace(HOST, host).replace(PORT, &port);
                if let Some(b) = &bytes {
                    a = a.replace(BYTES, b);
                }
                a
            })
            .collect()
    }
}

/// The sizes of a ladder: `start`, then ×`factor` each step, up to and including `max` (the last
/// step is `max` itself when the factor jumps past it).
pub fn ladder(start: u64, factor: u64, max: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut n = start.max(1);
    while n < max {
        out.push(n);
        n = n.saturating_mul(factor.max(2));
    }
    out.push(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Template {
        Template::new(s.split_whitespace().map(str::to_owned).collect())
    }

    #[test]
    fn placeholders_are_filled_anywhere_in_an_argument() {
        let cmd = t("python3 c.py {host} --port={port} {bytes} {host}:{port}");
        assert_eq!(
            cmd.fill("127.0.0.1", 4000, Some(1024)),
            [
                "python3",
                "c.py",
                "127.0.0.1",
                "--port=4000",
                "1024",
                "127.0.0.1:4000"
            ]
        );
        assert!(cmd.has(BYTES) && cmd.has(PORT) && cmd.has(HOST));
    }

    #[test]
    fn other_braces_are_left_alone_and_bytes_needs_a_value() {
        let cmd = t("python3 -c print({x}) {bytes}");
        assert_eq!(
            cmd.fill("::1", 1, None),
            ["python3", "-c", "print({x})", "{bytes}"]
        );
        assert!(!cmd.has(PORT));
    }

    #[test]
    fn a_ladder_grows_by_its_factor_and_ends_at_the_maximum() {
        assert_eq!(
            ladder(16 << 10, 4, 16 << 20),
            [16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20]
        );
        assert_eq!(
            ladder(16 << 10, 4, 100 << 10),
            [16 << 10, 64 << 10, 100 << 10]
        );
        assert_eq!(ladder(16 << 10, 4, 8 << 10), [8 << 10]);
    }
}
