//! One expectation on a command's JSON, written as a person reads it: `/short_sends/lost_bytes > 0`,
//! `/verification/matched == true`, or, to apply to one command only, `2: /counts/client_sent_bytes
//! >= 1048576`. The left side is a JSON pointer (RFC 6901), the right side a JSON value or another
//! pointer into the same document (`/runs/0/server_echoed_bytes == /sizes_bytes/0`).

use std::fmt;

use serde_json::Value;

/// A comparison, written as its symbol. The two-character ones come first, so that parsing
/// (which tries them in this order) does not read '>=' as '>' followed by '=…'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr)]
pub enum Op {
    #[strum(serialize = ">=")]
    Ge,
    #[strum(serialize = "<=")]
    Le,
    #[strum(serialize = "==")]
    Eq,
    #[strum(serialize = "!=")]
    Ne,
    #[strum(serialize = ">")]
    Gt,
    #[strum(serialize = "<")]
    Lt,
}

impl Op {
    fn symbol(self) -> &'static str {
        self.into()
    }
}

/// A parsed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The command it applies to (1-based); `None` for every command.
    pub command: Option<usize>,
    pub pointer: String,
    pub op: Op,
    pub value: Value,
    /// The right side is this pointer's value in the same document, rather than `value`.
    pub other: Option<String>,
    /// The sentence a student reads (from the entry's `means`); empty until the entry sets it.
    pub means: String,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.command {
            write!(f, "{n}: ")?;
        }
        match &self.other {
            Some(p) => write!(f, "{} {} {p}", self.pointer, self.op.symbol()),
            None => write!(f, "{} {} {}", self.pointer, self.op.symbol(), self.value),
        }
    }
}

impl Check {
    /// Parses `[N:] /pointer OP value`.
    pub fn parse(text: &str) -> Result<Check, String> {
        let mut rest = text.trim();
        let mut command = None;
        if let Some((n, tail)) = rest.split_once(':') {
            if let Ok(n) = n.trim().parse::<usize>() {
                command = Some(n);
                rest = tail.trim_start();
            }
        }
        if !rest.starts_with('/') {
            return Err(format!(
                "'{text}' must start with a JSON pointer such as '/counts/client_sent_bytes'"
            ));
        }
        let (pointer, tail) = rest.split_once(char::is_whitespace).ok_or_else(|| {
            format!("'{text}' needs a comparison, e.g. '/short_sends/lost_bytes > 0'")
        })?;
        let tail = tail.trim_start();
        let (op, value_text) = <Op as strum::IntoEnumIterator>::iter()
            .find_map(|op| tail.strip_prefix(op.symbol()).map(|v| (op, v.trim())))
            .ok_or_else(|| {
                format!("'{text}': expected one of > >= < <= == != after the pointer")
            })?;
        let (value, other) = if value_text.starts_with('/') {
            (Value::Null, Some(value_text.to_owned()))
        } else {
            let value: Value = serde_json::from_str(value_text).map_err(|_| {
                format!("'{text}': '{value_text}' is not a number, true, false, a \"quoted string\" or a /pointer")
            })?;
            if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) && !value.is_number() {
                return Err(format!("'{text}': {} compares numbers only", op.symbol()));
            }
            (value, None)
        };
        Ok(Check {
            command,
            pointer: pointer.to_owned(),
            op,
            value,
            other,
            means: String::new(),
        })
    }

    /// Whether the check applies to command `index` (0-based).
    pub fn applies_to(&self, index: usize) -> bool {
        self.command.is_none_or(|n| n == index + 1)
    }

    /// Evaluates the check on one JSON document: whether it held, and the value found.
    pub fn eval(&self, doc: &Value) -> (bool, Option<Value>) {
        let Some(actual) = doc.pointer(&self.pointer) else {
            return (false, None);
        };
        let expected = match &self.other {
            Some(p) => match doc.pointer(p) {
                Some(v) => v,
                None => return (false, Some(actual.clone())),
            },
            None => &self.value,
        };
        let held = match (actual.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) => match self.op {
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Eq => a == b,
                Op::Ne => a != b,
            },
            _ => match self.op {
                Op::Eq => actual == expected,
                Op::Ne => actual != expected,
                _ => false,
            },
        };
        (held, Some(actual.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_check_parses_and_applies_to_every_command() {
        let c = Check::parse("/short_sends/lost_bytes > 0").unwrap();
        assert_eq!(c.command, None);
        assert_eq!(c.op, Op::Gt);
        assert!(c.applies_to(0) && c.applies_to(3));
        assert_eq!(c.to_string(), "/short_sends/lost_bytes > 0");
    }

    #[test]
    fn a_numbered_check_applies_to_its_command_only() {
        let c = Check::parse("2: /counts/client_sent_bytes >= 1048576").unwrap();
        assert_eq!(c.command, Some(2));
        assert_eq!(c.op, Op::Ge);
        assert!(!c.applies_to(0) && c.applies_to(1));
    }

    #[test]
    fn checks_compare_numbers_booleans_and_strings() {
        let doc = json!({"a": {"n": 5, "ok": true, "s": "CLOSE"}});
        let t = |s: &str| Check::parse(s).unwrap().eval(&doc).0;
        assert!(t("/a/n > 4") && !t("/a/n > 5") && t("/a/n <= 5") && t("/a/n == 5.0"));
        assert!(t("/a/ok == true") && !t("/a/ok != true"));
        assert!(t("/a/s == \"CLOSE\"") && t("/a/s != \"OPEN\""));
    }

    #[test]
    fn the_right_side_may_be_another_pointer_into_the_document() {
        let doc = json!({"sent": 5, "sizes": [5, 7]});
        let t = |s: &str| Check::parse(s).unwrap().eval(&doc).0;
        assert!(t("/sent == /sizes/0") && t("/sent < /sizes/1") && !t("/sent > /sizes/0"));
        assert!(!t("/sent == /nope"));
        assert_eq!(
            Check::parse("2: /sent == /sizes/0").unwrap().to_string(),
            "2: /sent == /sizes/0"
        );
    }

    #[test]
    fn a_missing_pointer_fails_the_check() {
        let (held, actual) = Check::parse("/nope > 0").unwrap().eval(&json!({}));
        assert!(!held);
        assert_eq!(actual, None);
    }

    #[test]
    fn malformed_checks_are_refused_with_a_reason() {
        for bad in ["lost > 0", "/a", "/a ~ 3", "/a > many", "/a > \"x\""] {
            assert!(Check::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
