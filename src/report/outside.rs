//! Text that came from outside tcplab — a replayed CSV's fields, a checked program's output lines,
//! a process's name, what a peer sent — made safe to print on a terminal. Such text may hold
//! escape sequences that recolour the terminal, move the cursor, clear the screen or set the
//! window title, or bidirectional controls that reorder what is shown. `text` shows every such
//! character visibly instead (`\x1b`, `\u{202e}`), so a student sees what the program printed
//! and the terminal stays as it was. A tab is left as it is. JSON views need none of this: serde
//! escapes control characters in strings.
//!
//! Every view that prints outside text passes it through `text`: the one error line
//! (`errors::line`), narrated events (`narration::event_text`), the check's program lines and
//! process names (`check`), a watched program's thread names (`watch::thread_line`), a peer's
//! text (`text`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` would act on a terminal rather than be shown: C0 and C1 controls and DEL (a tab
/// excepted), and the bidirectional marks, embeddings, overrides and isolates.
fn acts(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character that would act on a terminal written out: `\n`, `\r`, `\x1b`,
/// `\x7f`, `\u{9b}`, `\u{202e}`. Borrowed when there is none (the usual case).
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if acts(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if acts(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_unicode_are_left_alone() {
        for s in [
            "",
            "tcp_deadlock.py",
            "client → server: 31.19 KiB",
            "a\tb",
            "Grüße, 世界",
        ] {
            assert!(matches!(text(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn escape_sequences_and_controls_are_shown_not_obeyed() {
        assert_eq!(
            text("boom \x1b[31mRED\x1b]0;pwned\x07 \x1b[2J"),
            "boom \\x1b[31mRED\\x1b]0;pwned\\x07 \\x1b[2J"
        );
        assert_eq!(text("a\r\nb\x00c\x7f"), "a\\r\\nb\\x00c\\x7f");
        // C1 controls (CSI as one character) and a right-to-left override.
        assert_eq!(text("x\u{9b}2Jy"), "x\\u{9b}2Jy");
        assert_eq!(text("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
    }

    #[test]
    fn what_comes_out_acts_on_no_terminal() {
        let hostile: String = (0u32..0x300)
            .chain(0x2000..0x2070)
            .filter_map(char::from_u32)
            .collect();
        let shown = text(&hostile);
        assert!(!shown.chars().any(acts), "{shown:?}");
    }

    /// Each view that prints outside text shows it: a replayed verdict, a program's thread name,
    /// a peer's words, an error line quoting a program's stderr.
    #[test]
    fn every_view_of_outside_text_shows_it_and_does_not_obey_it() {
        use crate::result::{EventKind, Failure};
        use crate::sample::{Call, Phase, Role, Side, test_thread};
        const CLEAR: &str = "\x1b[2J\x1b]0;pwned\x07";
        let verdict = EventKind::Verdict {
            kind: CLEAR.into(),
            client_call: None,
            server_call: None,
        };
        let mut t = test_thread(Side::Client, Role::Sender, Phase::Sending, Some(Call::Send));
        t.name = CLEAR.to_string().into();
        t.pid = Some(7);
        t.tid = Some(7);
        let peer = Failure::PeerText { text: CLEAR.into() };
        let error = anyhow::anyhow!("its last line on stderr: '{CLEAR}'");
        for shown in [
            super::super::narration::event_text(&verdict),
            super::super::watch::thread_line(&t),
            super::super::text::failure_text(&peer),
            super::super::errors::line(&error),
        ] {
            assert!(
                !shown.contains('\x1b') && !shown.contains('\x07'),
                "{shown:?}"
            );
            assert!(shown.contains("\\x1b[2J\\x1b]0;pwned\\x07"), "{shown:?}");
        }
    }
}
