//! Stage 1: text normalization.
//!
//! [`Normalizer`] turns raw comment text, HTML and all, into one canonical lower-case string in
//! which links, e-mail addresses, @mentions and numbers are replaced by placeholder words. The
//! [`Tokenizer`](crate::Tokenizer) then splits that string into words.

use crate::evasion::ChunkScan;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// Placeholder word for a link. The link's host follows as [`HOST_PREFIX`]`host_name`.
pub const URL_TOKEN: &str = "_url_";
/// Prefix of the word that names a link's host: `example.com` becomes `_host_example_com`.
pub const HOST_PREFIX: &str = "_host_";
/// Placeholder word for an e-mail address.
pub const EMAIL_TOKEN: &str = "_email_";
/// Placeholder word for an @mention.
pub const MENTION_TOKEN: &str = "_mention_";
/// Placeholder word for a number.
pub const NUMBER_TOKEN: &str = "_num_";

/// What the normalizer does. Stored in the model file, so a model always normalizes the way it
/// was trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizerConfig {
    /// Strip HTML tags and decode character references (`&amp;`, `&#233;`).
    pub strip_html: bool,
    /// Replace links, e-mail addresses, @mentions and numbers by placeholder words.
    pub placeholders: bool,
    /// Squash a run of three or more of the same letter to two (`sooooo` → `soo`).
    pub squash_repeats: bool,
    /// Fold spellings that hide abusive words (`f4ck`, `f*ck`, `f u c k`, look-alike letters;
    /// see [`fold_evasions`](crate::fold_evasions)). Not part of the version-1 model body:
    /// model files store it from format version 4 on, and older files load with it off.
    #[serde(skip)]
    pub fold_evasions: bool,
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        NormalizerConfig {
            strip_html: true,
            placeholders: true,
            squash_repeats: true,
            fold_evasions: true,
        }
    }
}

/// Normalizes comment text.
///
/// In order, it:
/// 1. strips HTML tags and decodes character references;
/// 2. drops zero-width and other format characters (U+200B, U+FEFF, soft hyphens, bidi marks);
/// 3. applies Unicode NFKC and case folding (`ﬁ` → `fi`, `Ｆｕｌｌ` → `full`, `ß` → `ss`);
/// 4. replaces links by `_url_ _host_<host>`, e-mail addresses by `_email_`, @mentions by
///    `_mention_` and numbers by `_num_`;
/// 5. squashes letter runs (`sooooo` → `soo`);
/// 6. folds spellings that hide abusive words (`f4ck` → `fuck`, see
///    [`fold_evasions`](crate::fold_evasions)).
///
/// Plain ASCII text skips the Unicode work.
///
/// ```
/// use comment_sieve::Normalizer;
/// let n = Normalizer::default();
/// assert_eq!(
///     n.normalize("<p>Sooooo GOOD &amp; cheap: https://www.Example.com/x?y=1 </p>"),
///     "soo good & cheap: _url_ _host_example_com"
/// );
/// assert_eq!(n.normalize("Call 555-1234 or mail bob@example.org, @alice"), "call _num_-_num_ or mail _email_ _mention_");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Normalizer {
    config: NormalizerConfig,
}

impl Normalizer {
    /// A normalizer with the given configuration.
    pub fn new(config: NormalizerConfig) -> Self {
        Normalizer { config }
    }

    /// The configuration.
    pub fn config(&self) -> NormalizerConfig {
        self.config
    }

    /// Normalizes `text` into a new string.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::new();
        self.normalize_into(text, &mut Scratch::default(), &mut out);
        out
    }

    /// Normalizes `text` into `out` (cleared first), reusing `scratch` buffers between calls.
    pub fn normalize_into(&self, text: &str, scratch: &mut Scratch, out: &mut String) {
        self.normalize_plain(text, scratch, out);
        if self.config.fold_evasions {
            crate::evasion::fold_evasions_into(out, &mut scratch.evasions);
            std::mem::swap(out, &mut scratch.evasions);
        }
    }

    /// Calls `f(piece, is_word)` with consecutive pieces of the normalized text: joined with
    /// single spaces, they are what [`Normalizer::normalize_into`] writes. The words of the
    /// text (see [`Tokenizer`](crate::Tokenizer)) are the words of the pieces, as no word spans
    /// a space; `is_word` says that a piece is one word of lower-case ASCII letters. The
    /// scoring path reads a text this way without building the normalized string.
    pub(crate) fn for_each_piece_of(
        &self,
        text: &str,
        scratch: &mut Scratch,
        mut f: impl FnMut(&str, bool),
    ) {
        let Scratch { chunks, folder, .. } = scratch;
        if self.config.fold_evasions {
            folder.clear();
            self.for_each_chunk(text, chunks, &mut |chunk, scan| match scan {
                Some(scan) => folder.push_scanned(chunk, scan, &mut f),
                None => folder.push(chunk, &mut f),
            });
            folder.finish(&mut f);
        } else {
            self.for_each_chunk(text, chunks, &mut |chunk, _| f(chunk, false));
        }
    }

    /// Steps 1 to 5 of [`Normalizer::normalize_into`].
    fn normalize_plain(&self, text: &str, scratch: &mut Scratch, out: &mut String) {
        out.clear();
        self.for_each_chunk(text, &mut scratch.chunks, &mut |chunk, _| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(chunk);
        });
    }

    /// Calls `f` with the normalized form (steps 1 to 5) of each whitespace-free chunk of
    /// `text`, in order: joined with single spaces they are the text with steps 1 to 5
    /// applied. None holds a space, and none is empty: a link gives two (`_url_`,
    /// `_host_…`).
    fn for_each_chunk(
        &self,
        text: &str,
        scratch: &mut ChunkScratch,
        f: &mut impl FnMut(&str, Option<ChunkScan>),
    ) {
        let ChunkScratch {
            html,
            folded,
            piece,
        } = scratch;
        let mut text = text;
        if self.config.strip_html && memchr::memchr2(b'<', b'&', text.as_bytes()).is_some() {
            html.clear();
            strip_html(text, html);
            text = html;
        }
        folded.clear();
        if text.is_ascii() {
            folded.push_str(text);
            folded.make_ascii_lowercase();
            for_each_ascii_chunk(folded, |chunk, shape| {
                self.ascii_chunk(chunk, shape, piece, f)
            });
        } else {
            // Mostly ASCII text with some other characters (a no-break space, a curly quote):
            // only the pieces between ASCII whitespace that hold a non-ASCII character go
            // through Unicode folding. ASCII whitespace neither composes nor reorders under
            // NFKC, so folding piece by piece equals folding the whole text. The stretches of
            // ASCII pieces between them are read like ASCII text, many pieces at a time (its
            // chunks are the pieces: both end at ASCII whitespace).
            for_each_stretch(text, |part, ascii| {
                folded.clear();
                if ascii {
                    folded.push_str(part);
                    folded.make_ascii_lowercase();
                    for_each_ascii_chunk(folded, |chunk, shape| {
                        self.ascii_chunk(chunk, shape, piece, f)
                    });
                } else {
                    fold_unicode(part, folded);
                    folded
                        .split(char::is_whitespace)
                        .for_each(|chunk| self.emit(chunk, piece, f));
                }
            });
        }
    }

    /// Passes the normalized form of one whitespace-free chunk of folded ASCII text, of shape
    /// `shape`, to `f`, as [`Normalizer::emit`] does, with the scan of the chunk when it stays
    /// as it is.
    #[inline(always)]
    fn ascii_chunk(
        &self,
        chunk: &str,
        shape: ChunkShape,
        piece: &mut String,
        f: &mut impl FnMut(&str, Option<ChunkScan>),
    ) {
        if chunk.is_empty() {
            return;
        }
        if self.config.placeholders && shape.maybe_special {
            piece.clear();
            if replace_special(chunk, piece) {
                return piece.split(' ').for_each(|part| f(part, None));
            }
        }
        if shape.plain {
            f(chunk, Some(shape.scan));
        } else {
            piece.clear();
            copy_word(chunk, self.config, piece);
            f(piece, None);
        }
    }

    /// Passes the normalized form of one whitespace-free chunk of folded text to `f`: its
    /// placeholder if it is a link, e-mail address or mention, else the chunk with numbers
    /// replaced and letter runs squashed. Nothing for an empty chunk.
    fn emit(&self, chunk: &str, piece: &mut String, f: &mut impl FnMut(&str, Option<ChunkScan>)) {
        if chunk.is_empty() {
            return;
        }
        let maybe_special = chunk
            .bytes()
            .any(|b| matches!(b, b'.' | b'@' | b':' | b'/'));
        piece.clear();
        if self.config.placeholders && maybe_special && replace_special(chunk, piece) {
            piece.split(' ').for_each(|part| f(part, None));
        } else {
            copy_word(chunk, self.config, piece);
            f(piece, None);
        }
    }
}

/// The ASCII characters that [`char::is_whitespace`] calls whitespace: tab, line feed, vertical
/// tab, form feed, carriage return and space.
const fn is_ascii_space(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// Cuts `text` into stretches at ASCII whitespace, and calls `f(stretch, is_ascii)` with each:
/// a piece (a run of bytes between ASCII whitespace) that holds a non-ASCII character, or the
/// ASCII text between two such pieces (whitespace and all). Reading the pieces of each ASCII
/// stretch, in order, gives the ASCII pieces of `for_each_piece` (a test helper).
fn for_each_stretch(text: &str, mut f: impl FnMut(&str, bool)) {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let Some(high) = bytes[start..].iter().position(|&b| b >= 0x80) else {
            return f(&text[start..], true);
        };
        let high = start + high;
        // The piece around the non-ASCII byte. ASCII whitespace bytes never occur inside a
        // multi-byte character, so its ends are character boundaries.
        let piece_start = bytes[start..high]
            .iter()
            .rposition(|&b| is_ascii_space(b))
            .map_or(start, |i| start + i + 1);
        let piece_end = bytes[high..]
            .iter()
            .position(|&b| is_ascii_space(b))
            .map_or(bytes.len(), |i| high + i);
        if piece_start > start {
            f(&text[start..piece_start], true);
        }
        f(&text[piece_start..piece_end], false);
        start = piece_end;
    }
}

/// Calls `f(piece, is_ascii)` with each run of bytes of `text` between ASCII whitespace.
#[cfg(test)]
fn for_each_piece(text: &str, mut f: impl FnMut(&str, bool)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if is_ascii_space(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut high = 0u8;
        while let Some(&b) = bytes.get(i) {
            if is_ascii_space(b) {
                break;
            }
            high |= b;
            i += 1;
        }
        // ASCII whitespace bytes never occur inside a multi-byte character, so `start..i`
        // are character boundaries.
        f(&text[start..i], high < 0x80);
    }
}

/// What one pass over an ASCII chunk tells about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ChunkShape {
    /// It may be a link, e-mail address or mention: it has `@` or `/`, or a `.` before its
    /// last letter or digit. Chunks without these are never one (see [`replace_special`]).
    maybe_special: bool,
    /// No digit and no letter repeated three times: [`copy_word`] would copy it unchanged.
    plain: bool,
    /// What evasion folding needs to know of the chunk (valid for the chunk as it is, so for
    /// the normalized chunk when it is `plain` and not special).
    scan: ChunkScan,
}

/// Calls `f` with each run of non-whitespace bytes of ASCII `text` and its [`ChunkShape`],
/// found in one pass (this is the hot loop of normalization).
fn for_each_ascii_chunk(text: &str, mut f: impl FnMut(&str, ChunkShape)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if ASCII_CLASS[usize::from(bytes[i])] & SPACE as u16 != 0 {
            i += 1;
            continue;
        }
        let start = i;
        if let Some(len) = plain_letters(&bytes[start..]) {
            // The usual word: the shape the loop below would find for it, without the loop.
            i = start + len;
            f(
                &text[start..i],
                ChunkShape {
                    maybe_special: false,
                    plain: true,
                    scan: ChunkScan::new(LETTERS_SCAN, false),
                },
            );
            continue;
        }
        // The union of the chunk's byte classes: the normalizer's in the low byte, evasion
        // folding's in the high byte.
        let mut seen = 0u16;
        while let Some(&b) = bytes.get(i) {
            let class = ASCII_CLASS[usize::from(b)];
            if class & SPACE as u16 != 0 {
                break;
            }
            seen |= class;
            i += 1;
        }
        let chunk = &text[start..i];
        let chunk_bytes = chunk.as_bytes();
        // Most chunks have no byte twice in a row; the others get a closer look.
        let (mut doubled, mut tripled) = (false, false);
        if chunk_bytes.windows(2).any(|w| w[0] == w[1]) {
            for (k, &b) in chunk_bytes.iter().enumerate().skip(1) {
                if b == chunk_bytes[k - 1] && b.is_ascii_alphabetic() {
                    doubled = true;
                    tripled |= k >= 2 && chunk_bytes[k - 2] == b;
                }
            }
        }
        let low = seen as u8;
        // A `.` before the last letter or digit: `e.g`, `example.com`, but not `end.`.
        let inner_dot = low & DOT != 0 && low & CORE != 0 && {
            let first_dot = chunk_bytes.iter().position(|&b| b == b'.');
            let last_core = chunk_bytes.iter().rposition(u8::is_ascii_alphanumeric);
            matches!((first_dot, last_core), (Some(d), Some(c)) if d < c)
        };
        f(
            chunk,
            ChunkShape {
                maybe_special: low & AT_OR_SLASH != 0 || inner_dot,
                plain: low & DIGIT == 0 && !tripled,
                scan: ChunkScan::new((seen >> 8) as u8, doubled),
            },
        );
    }
}

/// What evasion folding's scan finds in a chunk of lower-case letters.
const LETTERS_SCAN: u8 = crate::evasion::chunk_class(b'a');

/// The length of the chunk that starts `bytes` (ASCII, lower-cased), if it is lower-case letters
/// with no letter twice in a row, ending at ASCII whitespace: the usual word. Read eight bytes
/// at a time; `None` for any other chunk, and near the end of `bytes` (the caller then reads the
/// chunk byte by byte).
#[inline(always)]
fn plain_letters(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let load = |at: usize| -> Option<u64> {
        Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
    };
    let mut n = 0;
    loop {
        let (block, next) = (load(n)?, load(n + 1)?);
        // The high bit of each byte: set for `a`..=`z`. Bytes are ASCII (below 0x80), so no
        // sum carries into the next byte.
        let letters = (block + 0x1f * ONES) & !(block + 0x05 * ONES) & HIGH;
        // Byte k of `same` is 0 where bytes k and k + 1 are equal; its high bit is set for
        // the bytes that are not 0 (exactly: no borrow or carry crosses bytes).
        let pairs = block ^ next;
        let same = !(((pairs & !HIGH) + !HIGH) | pairs) & HIGH;
        let others = !letters & HIGH;
        if others == 0 {
            if same != 0 {
                return None;
            }
            n += 8;
            continue;
        }
        // The first byte that is not a letter ends the run; a letter never equals it, so the
        // pairs up to it are those of the run.
        let end = others.trailing_zeros() / 8;
        let before_end = (1u64 << (8 * end)).wrapping_sub(1);
        if same & before_end != 0 {
            return None;
        }
        let len = n + end as usize;
        return (len > 0 && is_ascii_space(bytes[len])).then_some(len);
    }
}

/// Byte classes for [`for_each_ascii_chunk`] (non-ASCII bytes never reach it).
const SPACE: u8 = 1;
const AT_OR_SLASH: u8 = 2;
const DOT: u8 = 4;
const DIGIT: u8 = 8;
/// A letter or digit: what `replace_special` keeps when it trims a chunk's edges.
const CORE: u8 = 16;
const ASCII_CLASS: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let own = if is_ascii_space(c) {
            SPACE
        } else if c == b'@' || c == b'/' {
            AT_OR_SLASH
        } else if c == b'.' {
            DOT
        } else if c.is_ascii_digit() {
            DIGIT | CORE
        } else if c.is_ascii_alphabetic() {
            CORE
        } else {
            0
        };
        table[b] = own as u16 | (crate::evasion::chunk_class(c) as u16) << 8;
        b += 1;
    }
    table
};

/// Reusable buffers for [`Normalizer::normalize_into`].
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    chunks: ChunkScratch,
    evasions: String,
    folder: crate::evasion::ChunkFolder,
}

/// Buffers for [`Normalizer::for_each_chunk`].
#[derive(Debug, Default, Clone)]
struct ChunkScratch {
    html: String,
    folded: String,
    piece: String,
}

/// Removes tags and comments, decodes character references. Tags become spaces so that
/// `a<br>b` stays two words.
fn strip_html(text: &str, out: &mut String) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    // The next `>` and `-->` at or after `i`, found lazily; `i` only grows, so the whole pass
    // stays linear even for text full of unclosed `<`.
    let mut next_gt = NextMatch::default();
    let mut next_comment_end = NextMatch::default();
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                if next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?' {
                    let end = if text[i..].starts_with("<!--") {
                        next_comment_end.find(text, i + 4, "-->").map(|e| e + 3)
                    } else {
                        next_gt
                            .find(text, i, ">")
                            .filter(|&e| e - i <= MAX_TAG_LEN)
                            .map(|e| e + 1)
                    };
                    if let Some(end) = end {
                        out.push_str(&text[copied..i]);
                        out.push(' ');
                        i = end;
                        copied = end;
                        continue;
                    }
                }
                i += 1;
            }
            b'&' => {
                if let Some((decoded, len)) = decode_reference(&text[i..]) {
                    out.push_str(&text[copied..i]);
                    out.push_str(decoded.as_str());
                    i += len;
                    copied = i;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
}

/// A `<` whose `>` is further than this is text, not a tag.
pub(crate) const MAX_TAG_LEN: usize = 2048;

/// Caches the position of the next occurrence of a pattern for a left-to-right scan.
#[derive(Default)]
struct NextMatch {
    /// `None`: not searched yet; `Some(Some(p))`: a match at `p`; `Some(None)`: no match after
    /// the last search start, hence none after any later one.
    found: Option<Option<usize>>,
}

impl NextMatch {
    /// The first match of `pattern` in `text` at or after `from`; `from` must not decrease
    /// between calls.
    fn find(&mut self, text: &str, from: usize, pattern: &str) -> Option<usize> {
        match self.found {
            Some(None) => return None,
            Some(Some(p)) if p >= from => return Some(p),
            _ => {}
        }
        let p = text
            .get(from..)
            .and_then(|rest| rest.find(pattern))
            .map(|e| from + e);
        self.found = Some(p);
        p
    }
}

/// A decoded character reference: either one char or a named entity's text.
enum Decoded {
    Char(char, [u8; 4]),
    Named(&'static str),
}

impl Decoded {
    fn as_str(&self) -> &str {
        match self {
            Decoded::Char(c, buf) => std::str::from_utf8(&buf[..c.len_utf8()]).unwrap_or(""),
            Decoded::Named(s) => s,
        }
    }
}

/// Decodes `&name;`, `&#NNN;` or `&#xHHH;` at the start of `s`; returns it and its length.
fn decode_reference(s: &str) -> Option<(Decoded, usize)> {
    let end = s.as_bytes().iter().take(40).position(|&b| b == b';')?;
    let body = &s[1..end];
    let decoded = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        let c = char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}');
        let mut buf = [0u8; 4];
        c.encode_utf8(&mut buf);
        Decoded::Char(c, buf)
    } else {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        Decoded::Named(quick_xml::escape::resolve_html5_entity(body)?)
    };
    Some((decoded, end + 1))
}

/// Whether `c` is a format or zero-width character that carries no meaning here (Unicode
/// general category Cf, plus the variation selectors).
fn is_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FFF9}'..='\u{FFFB}' | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}'
        | '\u{110BD}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// NFKC plus case folding, dropping ignorable characters. Text that is already in NFKC (most
/// text: curly quotes and accented letters in composed form are) skips the normalization.
fn fold_unicode(text: &str, out: &mut String) {
    out.reserve(text.len());
    let kept = text.chars().filter(|&c| !is_ignorable(c));
    if unicode_normalization::is_nfkc_quick(kept.clone())
        == unicode_normalization::IsNormalized::Yes
    {
        kept.for_each(|c| push_folded(c, out));
    } else {
        kept.nfkc().for_each(|c| push_folded(c, out));
    }
}

/// Appends the case-folded form of one character.
fn push_folded(c: char, out: &mut String) {
    match c {
        'ß' | 'ẞ' => out.push_str("ss"),
        'ς' => out.push('σ'),
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' => out.push('\''),
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => out.extend(c.to_lowercase()),
    }
}

const BARE_DOMAIN_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "ly", "co", "me", "tv", "ru", "uk", "de", "us", "ca",
    "cc", "xyz", "online", "site", "club",
];

/// If `chunk` (one whitespace-free piece of folded text) is a link, e-mail address or mention,
/// writes its placeholder and returns true.
fn replace_special(chunk: &str, out: &mut String) -> bool {
    let trimmed = chunk.trim_matches(|c: char| !c.is_alphanumeric() && c != '@' && c != '/');
    if trimmed.is_empty() {
        return false;
    }
    if let Some(host) = link_host(trimmed) {
        out.push_str(URL_TOKEN);
        if !host.is_empty() {
            out.push(' ');
            out.push_str(HOST_PREFIX);
            out.extend(host.chars().map(|c| if c == '.' { '_' } else { c }));
        }
        return true;
    }
    if let Some(at) = trimmed.find('@') {
        let (user, domain) = (&trimmed[..at], &trimmed[at + 1..]);
        if at == 0 {
            if domain.chars().next().is_some_and(is_word_char) {
                out.push_str(MENTION_TOKEN);
                return true;
            }
        } else if !user.is_empty() && domain.contains('.') && !domain.starts_with('.') {
            out.push_str(EMAIL_TOKEN);
            return true;
        }
    }
    false
}

/// The host of a link, without `www.`; `Some("")` for a link whose host can't be read.
fn link_host(s: &str) -> Option<&str> {
    let rest = if let Some(p) = s.find("://") {
        let scheme = &s[..p];
        if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        &s[p + 3..]
    } else if s.starts_with("www.") {
        s
    } else {
        // A bare domain such as `cheap-pills.com` or `bit.ly/xyz`.
        let host = s.split(['/', '?', '#']).next().unwrap_or("");
        let tld = host.rsplit('.').next().unwrap_or("");
        let is_domain = host.contains('.')
            && BARE_DOMAIN_TLDS.contains(&tld)
            && host.split('.').all(|part| {
                !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !is_domain {
            return None;
        }
        s
    };
    let host_end = rest
        .find(['/', '?', '#', ':', '\'', '"'])
        .unwrap_or(rest.len());
    let host = rest[..host_end].trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    if host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Some(host)
    } else {
        Some("")
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Copies a plain chunk: numbers that stand alone become `_num_`, letter runs are squashed.
/// ASCII with no digit and no letter repeated three times: nothing for `copy_word` to change.
fn is_plain_ascii_word(chunk: &str) -> bool {
    let bytes = chunk.as_bytes();
    bytes.iter().all(|&b| b.is_ascii() && !b.is_ascii_digit())
        && !bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2])
}

fn copy_word(chunk: &str, config: NormalizerConfig, out: &mut String) {
    if is_plain_ascii_word(chunk) {
        out.push_str(chunk);
        return;
    }
    let mut chars = chunk.char_indices().peekable();
    let mut prev: Option<char> = None;
    let mut run = 0usize;
    while let Some((i, c)) = chars.next() {
        if config.placeholders && c.is_ascii_digit() && !prev.is_some_and(char::is_alphanumeric) {
            // Take the whole number: digits with inner `.` or `,`.
            let mut end = i + 1;
            let bytes = chunk.as_bytes();
            while end < bytes.len() {
                let b = bytes[end];
                if b.is_ascii_digit()
                    || ((b == b'.' || b == b',')
                        && bytes.get(end + 1).is_some_and(u8::is_ascii_digit))
                {
                    end += 1;
                } else {
                    break;
                }
            }
            let next = chunk[end..].chars().next();
            if !next.is_some_and(char::is_alphabetic) {
                out.push_str(NUMBER_TOKEN);
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
                prev = Some('0');
                run = 0;
                continue;
            }
        }
        if prev == Some(c) && c.is_alphabetic() {
            run += 1;
        } else {
            run = 1;
        }
        prev = Some(c);
        if config.squash_repeats && run > 2 {
            continue;
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normalization of ASCII text as first written: split on whitespace, then test each
    /// chunk for the special characters; the one-pass [`for_each_ascii_chunk`] must agree.
    fn reference_ascii(text: &str, config: NormalizerConfig) -> String {
        let folded = text.to_ascii_lowercase();
        let mut out = String::new();
        for chunk in folded.split_ascii_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            let maybe_special = chunk
                .bytes()
                .any(|b| matches!(b, b'.' | b'@' | b':' | b'/'));
            if config.placeholders && maybe_special && replace_special(chunk, &mut out) {
                continue;
            }
            copy_word(chunk, config, &mut out);
        }
        out
    }

    /// Normalization of non-ASCII text as first written: fold the whole text, then split it on
    /// whitespace; the piece-by-piece folding must agree.
    fn reference_unicode(text: &str, config: NormalizerConfig) -> String {
        let n = Normalizer::new(config);
        let mut folded = String::new();
        fold_unicode(text, &mut folded);
        let (mut out, mut piece) = (String::new(), String::new());
        folded.split(char::is_whitespace).for_each(|c| {
            n.emit(c, &mut piece, &mut |p, _| {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(p);
            })
        });
        out
    }

    /// The pieces [`Normalizer::for_each_piece_of`] passes on, joined with single spaces,
    /// after checking each `is_word` claim.
    fn joined_pieces(n: &Normalizer, text: &str) -> String {
        let mut joined = String::new();
        n.for_each_piece_of(text, &mut Scratch::default(), |piece, is_word| {
            if is_word {
                assert!(
                    !piece.is_empty() && piece.bytes().all(|b| b.is_ascii_lowercase()),
                    "{piece:?} is not one word of letters"
                );
            }
            if !joined.is_empty() {
                joined.push(' ');
            }
            joined.push_str(piece);
        });
        joined
    }

    #[test]
    fn pieces_join_to_the_normalized_text() {
        let n = Normalizer::default();
        for text in [
            "",
            "   ",
            "You are a f u c k i n g idiot, a b",
            "See https://www.Example.com/x and mail bob@example.org @alice!",
            "<p>Sooooo GOOD &amp; 100% sh1t... f.u.c.k. i d i o t</p>",
            "x y z e.g. U.S. 3.5 well-known rock'n'roll f**k b!tch",
            "Ｆｕｌｌ café іdіot привет a b c d",
        ] {
            assert_eq!(joined_pieces(&n, text), n.normalize(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn pieces_join_to_the_normalized_text_for_any_text(
            text in "([a-zA-Z]{1,6}|[a-z0-9*$@!'.,:/_\\-]{1,6}|[a-z]|https?://[a-z]{1,4}\\.com/[a-z]{0,3}|&amp;|<b>|іdіot|café|Ｆｕｌｌ|sooo+|f u c k)([ \t\n]{1,2}([a-zA-Z]{1,6}|[a-z0-9*$@!'.,:/_\\-]{1,6}|[a-z]|[A-Z]|www\\.[a-z]{1,4}\\.org|@[a-z]{1,4}|fuuck|i d i o t)){0,12}",
            fold in proptest::bool::ANY,
        ) {
            let n = Normalizer::new(NormalizerConfig { fold_evasions: fold, ..NormalizerConfig::default() });
            proptest::prop_assert_eq!(joined_pieces(&n, &text), n.normalize(&text));
        }

        #[test]
        fn piecewise_folding_matches_whole_text_folding(
            text in "([a-zA-Z0-9.@/_'é’ＦﬁßΣς\u{301}\u{327}\u{200b}\u{a0}\u{3000}\u{feff}ㅎㅏ가日\u{1f44d}]{0,8}[ \t\r\n\u{b}]{0,2}){0,8}"
        ) {
            let config = NormalizerConfig { strip_html: false, fold_evasions: false, ..NormalizerConfig::default() };
            let fast = Normalizer::new(config).normalize(&text);
            proptest::prop_assert_eq!(fast, reference_unicode(&text, config));
        }

        #[test]
        fn stretches_hold_the_pieces_in_order(
            text in "([a-z.'’é\u{a0}\u{301}日]{0,5}[ \t\r\n\u{b}\u{c}]{0,2}){0,10}"
        ) {
            let mut pieces = Vec::new();
            for_each_piece(&text, |piece, ascii| pieces.push((piece.to_string(), ascii)));
            let mut from_stretches = Vec::new();
            let mut all_ascii = true;
            for_each_stretch(&text, |stretch, ascii| {
                if ascii {
                    all_ascii &= stretch.is_ascii();
                    let words = stretch
                        .split(|c: char| is_ascii_space(c as u8))
                        .filter(|p| !p.is_empty());
                    from_stretches.extend(words.map(|p| (p.to_string(), true)));
                } else {
                    from_stretches.push((stretch.to_string(), false));
                }
            });
            proptest::prop_assert!(all_ascii);
            proptest::prop_assert_eq!(from_stretches, pieces);
        }

        #[test]
        fn plain_letters_finds_exactly_the_usual_words(
            text in "[a-z]{0,12}([ \t\n.,'A0_~]|aa|zz|[a-z]{1,3})?[a-z ]{0,12}"
        ) {
            let bytes = text.as_bytes();
            let end = bytes.iter().position(|&b| is_ascii_space(b)).unwrap_or(bytes.len());
            let chunk = &bytes[..end];
            let usual = !chunk.is_empty()
                && end < bytes.len()
                && chunk.iter().all(u8::is_ascii_lowercase)
                && !chunk.windows(2).any(|w| w[0] == w[1]);
            match plain_letters(bytes) {
                Some(len) => proptest::prop_assert!(usual && len == end, "{text:?}: {len}"),
                // Near the end of the text the caller reads byte by byte.
                None => proptest::prop_assert!(!usual || bytes.len() < end + 9, "{text:?}"),
            }
        }

        #[test]
        fn one_pass_chunks_match_the_reference(
            text in "([a-zA-Z0-9.@:/_'!,\\-]{0,12}[ \t\r\n]{0,2}){0,8}"
        ) {
            let config = NormalizerConfig { strip_html: false, fold_evasions: false, ..NormalizerConfig::default() };
            let fast = Normalizer::new(config).normalize(&text);
            proptest::prop_assert_eq!(fast, reference_ascii(&text, config));
        }

        #[test]
        fn one_pass_chunks_match_on_links(
            text in "(www|http|https|ftp|x)?(://|\\.)?[a-z]{0,4}(\\.|@)?(com|ly|xyz|c0m)?(/[a-z0-9]{0,3})?[.,!)]{0,2}"
        ) {
            let config = NormalizerConfig { strip_html: false, fold_evasions: false, ..NormalizerConfig::default() };
            let fast = Normalizer::new(config).normalize(&text);
            proptest::prop_assert_eq!(fast, reference_ascii(&text, config));
        }
    }

    /// Steps 1 to 5 (evasion folding has its own tests in `evasion.rs`).
    fn norm(s: &str) -> String {
        Normalizer::new(NormalizerConfig {
            fold_evasions: false,
            ..NormalizerConfig::default()
        })
        .normalize(s)
    }

    #[test]
    fn the_default_folds_evasions_last() {
        assert_eq!(
            Normalizer::default().normalize("F4CK <b>you</b> f.u.c.k.e.r, 1d10t"),
            "fuck you fucker idiot"
        );
    }

    #[test]
    fn strips_tags_and_decodes_entities() {
        assert_eq!(norm("a<br/>b"), "a b");
        assert_eq!(norm("<a href=\"http://x.com\">link</a>"), "link");
        assert_eq!(
            norm("caf&eacute; &#233;t&#xE9; &lt;3 &bogus; & more"),
            "café été <_num_ &bogus; & more"
        );
        assert_eq!(norm("x <!-- hidden --> y"), "x y");
        assert_eq!(norm("1 < 2 and a<b"), "_num_ < _num_ and a<b");
        assert_eq!(norm("unclosed <b tag"), "unclosed <b tag");
        assert_eq!(norm("<a <b> <!-- x <!-- y --> z"), "z");
        assert_eq!(norm("<!-- open <b>bold</b>"), "<!-- open bold");
    }

    #[test]
    fn folds_unicode() {
        assert_eq!(
            norm("ＦＵＬＬ ﬁne STRASSE Straße ΟΔΟΣ"),
            "full fine strasse strasse οδοσ"
        );
        assert_eq!(
            norm("zero\u{200B}width\u{FEFF} soft\u{00AD}hyphen"),
            "zerowidth softhyphen"
        );
        assert_eq!(norm("don\u{2019}t"), "don't");
        assert_eq!(norm("Ｈｅｌｌｏ　world"), "hello world");
    }

    #[test]
    fn replaces_links_mails_mentions_numbers() {
        assert_eq!(
            norm("see (https://www.YouTube.com/watch?v=1)."),
            "see _url_ _host_youtube_com"
        );
        assert_eq!(
            norm("visit cheap-pills.net/buy now"),
            "visit _url_ _host_cheap-pills_net now"
        );
        assert_eq!(norm("www.site.org"), "_url_ _host_site_org");
        assert_eq!(norm("mail me: me@mail.example.com!"), "mail me: _email_");
        assert_eq!(norm("@bob you're wrong"), "_mention_ you're wrong");
        assert_eq!(
            norm("3.5 million, 1,000 people in 2024"),
            "_num_ million, _num_ people in _num_"
        );
        assert_eq!(
            norm("f4ck mp3 2nd covid19 win10 h264"),
            "f4ck mp3 2nd covid19 win10 h264"
        );
        assert_eq!(norm("version 1.2.3"), "version _num_");
        assert_eq!(norm("e.g. i.e. file.txt"), "e.g. i.e. file.txt");
    }

    #[test]
    fn squashes_runs_of_letters() {
        assert_eq!(norm("Sooooo goood!!!! aaa"), "soo good!!!! aa");
        assert_eq!(norm("book"), "book");
    }

    #[test]
    fn config_switches_work() {
        let plain = Normalizer::new(NormalizerConfig {
            strip_html: false,
            placeholders: false,
            squash_repeats: false,
            fold_evasions: false,
        });
        assert_eq!(plain.normalize("<b>Sooo</b> 42"), "<b>sooo</b> 42");
    }

    #[test]
    fn empty_and_whitespace() {
        assert_eq!(norm(""), "");
        assert_eq!(norm(" \n\t "), "");
    }
}
