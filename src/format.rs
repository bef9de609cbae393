//! What a command writes on stdout: the one vocabulary of output formats, declared here so that
//! the arguments (`cli`) and the views (`report::export`) share it without importing each other.

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    /// Sentences and tables for a person.
    #[default]
    Text,
    /// One JSON document (JSON Lines for a stream), raw numbers with the unit in each name.
    Json,
    /// Comma-separated rows with a header (a sweep's points).
    Csv,
    /// A drawing (a sweep's plot).
    Svg,
}

impl Format {
    pub fn name(self) -> &'static str {
        self.into()
    }
}
