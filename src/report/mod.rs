//! Views of a `RunResult`: each one a function from results to bytes.

pub mod json;
pub mod text;
