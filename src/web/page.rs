//! The one page: HTML, CSS, JavaScript and inline SVG in a single file (`page.html`), compiled
//! into the binary, with no outside asset, so it works offline on a classroom network. Served as
//! is by the live server; for `replay --html` the same page with the recording inside it, as JSON
//! in a `<script type="application/json">` block.
//!
//! Inside that block the browser ends the script at the first `</script`, whatever the JSON says;
//! so every `<`, `>` and `&` of the JSON is written as a `\u003c`-style escape, which JSON reads
//! back as the same character and HTML never sees.

use super::frame::Frame;

/// The page, as served.
pub const PAGE: &str = include_str!("page.html");

/// Where the recording goes in the page (an empty block in the served page).
const SLOT: &str = r#"<script type="application/json" id="recording"></script>"#;

/// The page with `frames` inside it, to be played back in the browser without a server.
pub fn standalone(frames: &[Frame]) -> String {
    let json = serde_json::to_string(frames).expect("frames serialize");
    let block = format!(
        r#"<script type="application/json" id="recording">{}</script>"#,
        script_safe(&json)
    );
    PAGE.replacen(SLOT, &block, 1)
}

/// JSON that can stand inside a `<script>` element: no `<`, `>` or `&` left, and the two line
/// separators JavaScript once refused in strings escaped too.
pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}
