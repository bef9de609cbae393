//! The one vocabulary of how a command ended: the `"outcome"` field of every JSON document, the
//! word an experiment's `expect.outcome` names, and the exit code. Each command uses the part that
//! fits it; the names are an interface (scripts and the experiments runner read them), derived
//! from the variants once, here, for serde and for people alike.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    // A lab run (`deadlock`, `client`, a sweep's point).
    /// Every byte was sent and the echo came back in full.
    Completed,
    /// Nothing could move any more; both sides waited on each other (or, for `client` alone, its
    /// own side was stuck with the peer not reading).
    Deadlock,
    /// `--timeout` expired before the run ended on its own.
    TimedOut,
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// A runtime error (peer reset, refused connection, …), or a checked program that finished
    /// without doing what was asked (wrong byte count, wrong echo, bytes missing).
    Failed,

    // The classic programs (`sixteen`, `blocks`, `dribble`, `halfclose`).
    /// connect() was answered with a RST.
    Refused,
    /// The peer closed before the expected bytes arrived.
    ClosedEarly,
    /// Both sides waited for each other and nothing moved.
    Stalled,
    /// A length prefix above --max-frame was refused.
    FrameRefused,
    /// The stream ended inside a block header or body.
    Truncated,

    // A check of a student's program (`check`).
    /// The program did everything right at every size tried.
    Passed,
    /// The two ends waited on each other for ever (kernel evidence).
    Deadlocked,
    /// The program exited with an error (or a signal) while it was being checked.
    Crashed,
    /// It stopped making progress without a deadlock, or never finished.
    Hung,
}

impl Outcome {
    /// The name scripts read: `completed`, `timed_out`, `deadlocked`.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The exit code documented in `--help` and docs/exit-codes.md: 0 done as intended, 3 a
    /// deadlock (or a stalled half-close), 1 any other failure, 130/143 a signal. A classic demo
    /// whose lesson is an error (refused, closed early, truncated) did what it shows: 0.
    pub fn exit_code(self) -> u8 {
        use Outcome::*;
        match self {
            Completed | Passed | Refused | ClosedEarly | FrameRefused | Truncated => 0,
            Deadlock | Deadlocked | Stalled => 3,
            TimedOut | Failed | Crashed | Hung => 1,
            Interrupted => crate::interrupt::exit_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;
    use strum::VariantNames;

    #[test]
    fn the_names_people_and_scripts_read_are_the_json_names() {
        for name in Outcome::VARIANTS {
            let o = Outcome::from_str(name).expect("a name parses back");
            assert_eq!(serde_json::to_value(o).unwrap(), *name);
            assert_eq!(o.name(), *name);
        }
        assert_eq!(Outcome::TimedOut.name(), "timed_out");
        assert!(Outcome::from_str("deadlocks").is_err());
    }
}
