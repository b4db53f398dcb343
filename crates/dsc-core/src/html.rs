//! Visible text of an HTML file: what a reader sees once markup is gone.
//!
//! Skipped: comments (`<!-- ... -->`), tags (`<` followed by a letter, `/`, `!` or `?`, up to
//! the next `>`), and the contents of `<script>` and `<style>` elements (up to their closing
//! tag, case-insensitive). A `<` that does not open markup is text. Each run of whitespace in
//! the remaining text counts as one character, since indentation is not visible text.
//! Unterminated markup runs to the end of the file.

/// Number of visible characters of `html` (see the module docs for the exact rules).
pub fn visible_text_chars(html: &str) -> u64 {
    let b = html.as_bytes();
    let (mut i, mut visible, mut in_space) = (0, 0u64, false);
    while i < b.len() {
        if b[i] == b'<' {
            if let Some(next) = skip_markup(b, i) {
                i = next;
                in_space = false;
                continue;
            }
        }
        if is_space(b[i]) {
            if !in_space {
                visible += 1;
                in_space = true;
            }
        } else {
            // Count characters, not bytes: skip UTF-8 continuation bytes.
            if b[i] & 0xC0 != 0x80 {
                visible += 1;
            }
            in_space = false;
        }
        i += 1;
    }
    visible
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// If `b[start]` (a `<`) opens markup, the index just past it; `None` if it is plain text.
fn skip_markup(b: &[u8], start: usize) -> Option<usize> {
    if b[start..].starts_with(b"<!--") {
        return Some(find(b, start + 4, b"-->").map_or(b.len(), |j| j + 3));
    }
    let first = *b.get(start + 1)?;
    if !(first.is_ascii_alphabetic() || matches!(first, b'/' | b'!' | b'?')) {
        return None;
    }
    let tag_end = find(b, start + 1, b">").map_or(b.len(), |j| j + 1);
    let name_end = (start + 1..b.len())
        .find(|&k| !b[k].is_ascii_alphanumeric())
        .unwrap_or(b.len());
    let name = &b[start + 1..name_end];
    for raw_element in [&b"script"[..], b"style"] {
        if name.eq_ignore_ascii_case(raw_element) {
            return Some(skip_raw_element(b, tag_end, raw_element));
        }
    }
    Some(tag_end)
}

/// Skip a script/style body: past the `>` of its closing tag, or to the end.
fn skip_raw_element(b: &[u8], body_start: usize, name: &[u8]) -> usize {
    let mut closing = b"</".to_vec();
    closing.extend_from_slice(name);
    match find_ignore_case(b, body_start, &closing) {
        Some(k) => find(b, k, b">").map_or(b.len(), |j| j + 1),
        None => b.len(),
    }
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_ignore_case(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::visible_text_chars as v;

    #[test]
    fn tags_and_whitespace_runs() {
        // "a", one space run, tag skipped, "b".
        assert_eq!(v("a   <b>b</b>"), 3);
    }

    #[test]
    fn script_style_and_comments_are_invisible() {
        let html = "<html><SCRIPT type=x>var a = '<p>';</script><style>p{}</Style><!-- hi -->ok";
        assert_eq!(v(html), 2);
    }

    #[test]
    fn bare_less_than_is_text() {
        assert_eq!(v("1 < 2"), 5);
    }

    #[test]
    fn unterminated_markup_runs_to_end() {
        assert_eq!(v("x<!-- never closed"), 1);
        assert_eq!(v("x<script>alert(1)"), 1);
        assert_eq!(v("x<div class="), 1);
    }

    #[test]
    fn similar_tag_names_are_not_script() {
        assert_eq!(v("<scripts>ab</scripts>"), 2);
    }
}
