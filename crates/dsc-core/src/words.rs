//! The words of UTF-8 text as `str::split_whitespace` sees them, and whitespace collapsing,
//! both driven by bit masks of the whitespace bytes of each 64-byte block: the masks are built
//! with vectorised byte comparisons, and the work per word is a few bit operations.

/// Byte ranges `(start, end)` of the words of UTF-8 `text`, separated by Unicode whitespace
/// (as `str::split_whitespace`).
pub fn word_spans(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::with_capacity(text.len() / 8);
    let mut edges = WordEdges::default();
    for (index, space) in WhitespaceMasks::new(text).enumerate() {
        edges.add_block(&mut spans, space, index * 64, 0);
    }
    edges.finish(&mut spans, text.len());
    spans
}

/// UTF-8 `text` with each whitespace run replaced by one space and both ends trimmed (the
/// words joined by single spaces), and the byte ranges of the words in it, in one pass that
/// copies the text byte by byte rather than word by word.
pub fn collapse_whitespace(text: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = vec![0u8; text.len()];
    let mut spans = Vec::with_capacity(text.len() / 8);
    let mut edges = WordEdges::default();
    let mut len = 0;
    for (chunk, space) in text.chunks(64).zip(WhitespaceMasks::new(text)) {
        // Whitespace right after whitespace, or at the start of the text, is not copied.
        let dropped = space & edges.space_before(space);
        edges.add_block(&mut spans, space, len, dropped);
        for (i, &b) in chunk.iter().enumerate() {
            // Branch-free: every byte is written, as itself or (whitespace) as ' ', and `len`
            // advances past those not dropped, so it never passes the byte's own position.
            let space_bits = 0u8.wrapping_sub(((space >> i) & 1) as u8);
            out[len] = b ^ ((b ^ b' ') & space_bits);
            len += usize::from((dropped >> i) & 1 == 0);
        }
    }
    edges.finish(&mut spans, len);
    if len > 0 && out[len - 1] == b' ' {
        len -= 1;
    }
    out.truncate(len);
    (out, spans)
}

/// Where words start and end, one 64-byte block after another: an edge is a byte whose class
/// (whitespace or not) differs from the byte before it.
#[derive(Debug, Default)]
struct WordEdges {
    start: usize,
    in_word: bool,
}

impl WordEdges {
    /// Bit `i` is set when the byte before byte `i` of the block is whitespace, or the text
    /// starts there.
    fn space_before(&self, space: u64) -> u64 {
        (space << 1) | u64::from(!self.in_word)
    }

    /// Adds the words the block ends. An edge at bit `i` lies at `offset + i` less the
    /// `dropped` bytes below `i` (bytes the caller leaves out of its output).
    fn add_block(
        &mut self,
        spans: &mut Vec<(usize, usize)>,
        space: u64,
        offset: usize,
        dropped: u64,
    ) {
        for bit in set_bits(space ^ self.space_before(space)) {
            let at = offset + bit - (dropped & ((1u64 << bit) - 1)).count_ones() as usize;
            if self.in_word {
                spans.push((self.start, at));
            } else {
                self.start = at;
            }
            self.in_word = !self.in_word;
        }
    }

    /// Ends a word that runs to the end of the text, at `end`.
    fn finish(self, spans: &mut Vec<(usize, usize)>, end: usize) {
        if self.in_word {
            spans.push((self.start, end));
        }
    }
}

/// The whitespace mask of each 64-byte block of UTF-8 text: bit `i` is set when byte `i` of
/// the block belongs to a whitespace character. Bytes past the end of the text count as
/// whitespace.
struct WhitespaceMasks<'a> {
    text: &'a [u8],
    index: usize,
    /// Bytes of a multi-byte whitespace character that runs past the end of the last block.
    spill: u64,
}

impl<'a> WhitespaceMasks<'a> {
    fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            index: 0,
            spill: 0,
        }
    }
}

impl Iterator for WhitespaceMasks<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let base = self.index * 64;
        let chunk = self
            .text
            .get(base..base + 64)
            .or_else(|| self.text.get(base..))?;
        if chunk.is_empty() {
            return None;
        }
        let (ascii_space, leads) = match <&[u8; 64]>::try_from(chunk) {
            Ok(block) => byte_masks(block),
            Err(_) => {
                let mut block = [b' '; 64];
                block[..chunk.len()].copy_from_slice(chunk);
                byte_masks(&block)
            }
        };
        let mut space = ascii_space | self.spill;
        self.spill = 0;
        for bit in set_bits(leads) {
            if let Some(c) = char_at(self.text, base + bit) {
                if c.is_whitespace() {
                    let run = ((1u128 << c.len_utf8()) - 1) << bit;
                    space |= run as u64;
                    self.spill |= (run >> 64) as u64;
                }
            }
        }
        self.index += 1;
        Some(space)
    }
}

/// The character that starts at byte `at` of UTF-8 `bytes`, if one does.
fn char_at(bytes: &[u8], at: usize) -> Option<char> {
    // A character has at most four bytes; a cut-off tail is simply not looked at.
    let window = bytes.get(at..bytes.len().min(at + 4))?;
    let valid = match std::str::from_utf8(window) {
        Ok(valid) => valid,
        Err(e) => std::str::from_utf8(&window[..e.valid_up_to()]).ok()?,
    };
    valid.chars().next()
}

/// Bit masks of one block: ASCII whitespace bytes (`char::is_whitespace` on ASCII: tab, line
/// feed, vertical tab, form feed, carriage return, space), and the lead bytes 0xC2, 0xE1, 0xE2
/// and 0xE3, the only ones that can start a non-ASCII whitespace character.
#[inline(always)]
fn byte_masks(block: &[u8; 64]) -> (u64, u64) {
    // Byte flags first (a loop the compiler vectorises: `|`, not `||`, so no branch), then
    // packed eight at a time.
    let (mut space, mut leads) = ([0u8; 64], [0u8; 64]);
    for ((s, l), &b) in space.iter_mut().zip(&mut leads).zip(block) {
        *s = u8::from((b == b' ') | (b.wrapping_sub(b'\t') < 5)) << 7;
        *l = u8::from((b == 0xC2) | (b.wrapping_sub(0xE1) < 3)) << 7;
    }
    (high_bits(&space), high_bits(&leads))
}

/// Bit `i` of the result is the high bit of `bytes[i]`.
#[inline(always)]
fn high_bits(bytes: &[u8; 64]) -> u64 {
    let mut mask = 0;
    for (j, eight) in bytes.chunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(eight);
        // The multiply gathers the eight high bits into the top byte, first byte lowest.
        let gathered = (u64::from_le_bytes(word) & 0x8080_8080_8080_8080)
            .wrapping_mul(0x0002_0408_1020_4081)
            >> 56;
        mask |= gathered << (8 * j);
    }
    mask
}

/// The positions of the set bits of `mask`, lowest first.
fn set_bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let bit = mask.trailing_zeros() as usize;
        mask &= mask.wrapping_sub(1);
        (bit < 64).then_some(bit)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ASCII and Unicode whitespace (U+0085, U+00A0, U+1680, U+2000, U+2028, U+202F, U+3000),
    // characters that look like whitespace but are not (U+001C, U+200B), and multi-byte
    // characters sharing the whitespace lead bytes (U+00E9, U+2019).
    const TEXT: &str = "[ a-z\t\n\x0b\x0c\r\x1c.é\u{85}\u{a0}\u{1680}\u{2000}\u{200b}\u{2019}\u{2028}\u{202f}\u{3000}]{0,200}";

    #[test]
    fn block_edges_and_empty_text() {
        assert!(word_spans(b"").is_empty());
        assert_eq!(collapse_whitespace(b" \n\t"), (vec![], vec![]));
        let long = format!("{}x\u{3000}y", "a".repeat(62)); // U+3000 spans bytes 63..66
        assert_eq!(word_spans(long.as_bytes()), vec![(0, 63), (66, 67)]);
        let (collapsed, words) = collapse_whitespace(long.as_bytes());
        assert_eq!(collapsed, format!("{}x y", "a".repeat(62)).into_bytes());
        assert_eq!(words, vec![(0, 63), (64, 65)]);
    }

    proptest! {
        #[test]
        fn words_are_split_as_split_whitespace(text in TEXT) {
            let words: Vec<&str> = word_spans(text.as_bytes())
                .into_iter()
                .map(|(s, e)| &text[s..e])
                .collect();
            prop_assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        }

        #[test]
        fn collapsing_joins_the_words_with_spaces(text in TEXT) {
            let words: Vec<&str> = text.split_whitespace().collect();
            let (collapsed, spans) = collapse_whitespace(text.as_bytes());
            prop_assert_eq!(&collapsed, &words.join(" ").into_bytes());
            let found: Vec<&[u8]> = spans.iter().map(|&(s, e)| &collapsed[s..e]).collect();
            prop_assert_eq!(found, words.iter().map(|w| w.as_bytes()).collect::<Vec<_>>());
        }
    }
}
