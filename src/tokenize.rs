//! Stage 2: splitting normalized text into words.

/// Splits normalized text into words.
///
/// A word is a run of letters, digits and `_` (so placeholders such as `_url_` stay whole), with
/// inner apostrophes and censoring stars kept (`don't`, `f*ck`). Each CJK ideograph, kana and each emoji or other symbol is a
/// word of its own. Punctuation separates words and is dropped.
///
/// ```
/// use comment_sieve::Tokenizer;
/// let words: Vec<&str> = Tokenizer.tokenize("don't _url_ (yes!) 日本語 👍").collect();
/// assert_eq!(words, ["don't", "_url_", "yes", "日", "本", "語", "👍"]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokenizer;

impl Tokenizer {
    /// The words of `normalized`, as slices of it, in order.
    pub fn tokenize<'t>(&self, normalized: &'t str) -> Tokens<'t> {
        Tokens {
            text: normalized,
            pos: 0,
        }
    }
}

/// Iterator over the words of a string; see [`Tokenizer`].
#[derive(Debug, Clone)]
pub struct Tokens<'t> {
    text: &'t str,
    pos: usize,
}

#[derive(PartialEq, Eq)]
enum CharClass {
    Word,
    Single,
    Separator,
}

fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        return if c.is_ascii_alphanumeric() || c == '_' {
            CharClass::Word
        } else {
            CharClass::Separator
        };
    }
    if is_standalone(c) {
        return CharClass::Single;
    }
    if c.is_alphanumeric() || is_combining_mark(c) {
        return CharClass::Word;
    }
    if is_symbol(c) {
        CharClass::Single
    } else {
        CharClass::Separator
    }
}

/// Scripts written without spaces: one character, one word.
fn is_standalone(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Combining marks keep a word together (Devanagari vowel signs, for instance).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{0483}'..='\u{0489}' | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}' | '\u{0951}'..='\u{0957}' | '\u{0962}'..='\u{0963}'
        | '\u{0981}'..='\u{0983}' | '\u{09BC}'..='\u{09D7}' | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}'
        | '\u{0E47}'..='\u{0E4E}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Emoji and other pictographic symbols, which carry tone in comments.
fn is_symbol(c: char) -> bool {
    matches!(c,
        '\u{2100}'..='\u{2BFF}' | '\u{1F000}'..='\u{1FAFF}')
        && !matches!(c, '\u{1F3FB}'..='\u{1F3FF}')
}

/// `true` for the ASCII bytes that are word characters: letters, digits and `_`.
const ASCII_WORD: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b == b'_' as usize;
        b += 1;
    }
    table
};

/// The character starting at byte `i` of `text` (a char boundary) and its length in bytes.
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((char::from(b), 1));
    }
    text[i..].chars().next().map(|c| (c, c.len_utf8()))
}

/// Whether the byte at `i` starts a word character.
#[inline]
fn is_word_at(text: &str, i: usize) -> bool {
    match text.as_bytes().get(i) {
        Some(&b) if b < 0x80 => ASCII_WORD[usize::from(b)],
        Some(_) => char_at(text, i).is_some_and(|(c, _)| classify(c) == CharClass::Word),
        None => false,
    }
}

/// Byte classes for the tokenizer's inner loops: ASCII word bytes, ASCII separators (the
/// joiners `'` and `*` among them), and bytes of non-ASCII characters.
const WORD: u8 = 0;
const SEPARATOR: u8 = 1;
const NON_ASCII: u8 = 2;
const BYTE_CLASS: [u8; 256] = {
    let mut table = [NON_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = if ASCII_WORD[b] { WORD } else { SEPARATOR };
        b += 1;
    }
    table
};

impl<'t> Iterator for Tokens<'t> {
    type Item = &'t str;

    #[inline]
    fn next(&mut self) -> Option<&'t str> {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut i = self.pos;
        // Skip separators up to a word, or return a standalone character.
        loop {
            while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == SEPARATOR {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else {
                self.pos = bytes.len();
                return None;
            };
            if BYTE_CLASS[usize::from(b)] == WORD {
                break;
            }
            let Some((c, len)) = char_at(text, i) else {
                self.pos = bytes.len();
                return None;
            };
            match classify(c) {
                CharClass::Separator => i += len,
                CharClass::Single => {
                    self.pos = i + len;
                    return Some(&text[i..i + len]);
                }
                CharClass::Word => break,
            }
        }
        let start = i;
        // Scan the word: ASCII word bytes in a tight loop, the rest one character at a time.
        loop {
            while i < bytes.len() && BYTE_CLASS[usize::from(bytes[i])] == WORD {
                i += 1;
            }
            let Some(&b) = bytes.get(i) else { break };
            if b < 0x80 {
                // An apostrophe, or a run of censoring stars, between two word characters
                // stays inside the word: `don't`, `f*ck`, `f**k`.
                let joiner_len = match b {
                    b'\'' => 1,
                    b'*' => bytes[i..].iter().take_while(|&&b| b == b'*').count(),
                    _ => 0,
                };
                if joiner_len > 0 && is_word_at(text, i + joiner_len) {
                    i += joiner_len;
                    continue;
                }
                break;
            }
            match char_at(text, i) {
                Some((c, len)) if classify(c) == CharClass::Word => i += len,
                _ => break,
            }
        }
        self.pos = i;
        Some(&text[start..i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokenizer as first written (one character at a time), kept to check that the
    /// byte-run version splits every text the same way.
    struct Reference<'t> {
        text: &'t str,
        pos: usize,
    }

    impl<'t> Iterator for Reference<'t> {
        type Item = &'t str;

        fn next(&mut self) -> Option<&'t str> {
            let rest = &self.text[self.pos..];
            let bytes = rest.as_bytes();
            let mut start = None;
            let mut i = 0;
            while i < bytes.len() {
                // ASCII bytes are their own chars; decode only the rest.
                let (c, len) = if bytes[i] < 0x80 {
                    (char::from(bytes[i]), 1)
                } else {
                    match rest[i..].chars().next() {
                        Some(c) => (c, c.len_utf8()),
                        None => break,
                    }
                };
                match (start, classify(c)) {
                    (None, CharClass::Separator) => {}
                    (None, CharClass::Single) => {
                        self.pos += i + len;
                        return Some(&rest[i..i + len]);
                    }
                    (None, CharClass::Word) => start = Some(i),
                    (Some(_), CharClass::Word) => {}
                    (Some(s), _) => {
                        // An apostrophe, or a run of censoring stars, between two word characters
                        // stays inside the word: `don't`, `f*ck`, `f**k`.
                        if c == '\'' || c == '*' {
                            let joiner_len = if c == '*' {
                                bytes[i..].iter().take_while(|&&b| b == b'*').count()
                            } else {
                                1
                            };
                            if rest[i + joiner_len..]
                                .chars()
                                .next()
                                .is_some_and(|n| classify(n) == CharClass::Word)
                            {
                                i += joiner_len;
                                continue;
                            }
                        }
                        self.pos += i;
                        return Some(&rest[s..i]);
                    }
                }
                i += len;
            }
            self.pos = self.text.len();
            start.map(|s| &rest[s..])
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_runs_split_like_the_reference(
            text in "[a-z0-9_' *.,!éß東👍🏽\u{0301}\u{200B}\u{2019}\t\n-]{0,40}"
        ) {
            let fast: Vec<&str> = Tokenizer.tokenize(&text).collect();
            let reference: Vec<&str> = Reference { text: &text, pos: 0 }.collect();
            proptest::prop_assert_eq!(fast, reference);
        }
    }

    fn words(s: &str) -> Vec<&str> {
        Tokenizer.tokenize(s).collect()
    }

    #[test]
    fn splits_on_punctuation_and_space() {
        assert_eq!(
            words("hello, world!! it's 'quoted'"),
            ["hello", "world", "it's", "quoted"]
        );
        assert_eq!(words("_num_-_num_ a_b"), ["_num_", "_num_", "a_b"]);
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words("  ...  "), Vec::<&str>::new());
        assert_eq!(words("end'"), ["end"]);
        assert_eq!(
            words("f*ck *star* f**k sh**"),
            ["f*ck", "star", "f**k", "sh"]
        );
    }

    #[test]
    fn handles_non_latin_scripts() {
        assert_eq!(words("привет мир"), ["привет", "мир"]);
        assert_eq!(words("नमस्ते दुनिया"), ["नमस्ते", "दुनिया"]);
        assert_eq!(words("東京タワー"), ["東", "京", "タ", "ワ", "ー"]);
        assert_eq!(words("ok👍🏽!"), ["ok", "👍"]);
        assert_eq!(words("café—naïve"), ["café", "naïve"]);
    }
}
