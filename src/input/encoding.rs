//! Telling the character encoding of an input from its first bytes, and decoding input that is
//! not UTF-8 into UTF-8 before any reader sees it.
//!
//! - A UTF-16 byte order mark (either order), in any format, means UTF-16.
//! - An XML document without one that starts `<?xml` in UTF-16 (`3C 00 3F 00` or
//!   `00 3C 00 3F`) is UTF-16 of that order.
//! - Otherwise the `encoding` of an XML declaration decides: any label the WHATWG Encoding
//!   Standard knows (`ISO-8859-1`, `windows-1252`, `Shift_JIS`, `KOI8-R`, …) is decoded with
//!   `encoding_rs`; a label it does not know is an [`EncodingError`]. For a single-byte
//!   encoding, runs of bytes that are valid UTF-8 stay UTF-8 (see [`Utf8OrSingleByte`]).
//! - Everything else (including a UTF-8 byte order mark) is read as UTF-8.
//!
//! Decoded input is handed on as UTF-8 (malformed sequences become U+FFFD), so byte offsets in
//! positions count bytes of the decoded UTF-8 text; lines are unaffected.

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE};
use std::io::{self, BufRead, Read};

/// What the first bytes of an input say about its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Sniffed {
    /// UTF-8 (or ASCII): read as is.
    Utf8,
    /// Decode from this encoding.
    Decode(&'static Encoding),
    /// An XML declaration names an encoding that is not known.
    Unknown(String),
}

/// Why an input's declared encoding can't be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the XML declaration names encoding {0:?}, which is not a known encoding: convert the file to UTF-8"
)]
pub(super) struct EncodingError(pub String);

/// The encoding of an input starting with `head`.
pub(super) fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return Sniffed::Utf8;
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0x3C, 0x00, 0x3F, 0x00]) {
        return Sniffed::Decode(UTF_16LE);
    }
    if head.starts_with(&[0xFE, 0xFF]) || head.starts_with(&[0x00, 0x3C, 0x00, 0x3F]) {
        return Sniffed::Decode(UTF_16BE);
    }
    let Some(label) = declared_encoding(head) else {
        return Sniffed::Utf8;
    };
    match Encoding::for_label(label) {
        // The declaration was read as 8-bit text, so a UTF-16 label is wrong: UTF-8 it is.
        Some(e) if e == UTF_8 || e == UTF_16LE || e == UTF_16BE => Sniffed::Utf8,
        // Labels the standard maps to "replacement" (ISO-2022-KR, HZ, …) can't be decoded.
        Some(e) if e != encoding_rs::REPLACEMENT => Sniffed::Decode(e),
        _ => Sniffed::Unknown(String::from_utf8_lossy(label).into_owned()),
    }
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of `head` (after white
/// space), when there is one.
fn declared_encoding(head: &[u8]) -> Option<&[u8]> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let decl = head[start..].strip_prefix(b"<?xml")?;
    if !decl.first().is_some_and(u8::is_ascii_whitespace) {
        return None;
    }
    let end = decl.windows(2).position(|w| w == b"?>")?;
    let decl = &decl[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let rest = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
    let rest = rest.trim_ascii_start();
    let quote = *rest.first().filter(|q| **q == b'"' || **q == b'\'')?;
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(value[..close].trim_ascii())
}

/// A reader of `inner` in `encoding`, as UTF-8: [`Utf8OrSingleByte`] for a single-byte
/// encoding (`ISO-8859-1`, `windows-1252`, …), else a [`Transcoder`].
pub(super) fn decoder<R: BufRead + Send + 'static>(
    inner: R,
    encoding: &'static Encoding,
) -> Box<dyn Read + Send> {
    if encoding.is_single_byte() {
        Box::new(Utf8OrSingleByte::new(inner, encoding))
    } else {
        Box::new(Transcoder::new(inner, encoding))
    }
}

/// A reader that keeps the bytes of `inner` that are valid UTF-8 and decodes every other byte
/// in a single-byte `fallback` encoding.
///
/// An XML declaration of `ISO-8859-1` or `windows-1252` is often wrong about part of the file:
/// WordPress writes comment text as UTF-8 whatever charset its declaration names
/// (`wxr_cdata()`), while titles stay in the blog's charset. Multi-byte UTF-8 sequences are
/// vanishingly rare in real Latin-1 text (`Ã©` would have to be meant), so reading each byte
/// run as UTF-8 when it is valid UTF-8 gets both right.
pub(super) struct Utf8OrSingleByte<R> {
    inner: R,
    /// The character of each byte from 0x80 up, in the fallback encoding.
    high: [char; 128],
    out: Vec<u8>,
    pos: usize,
    /// Bytes read but not decoded yet: between reads, the start of a UTF-8 sequence the next
    /// read may complete (the buffer is kept, so a read allocates nothing).
    pending: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Utf8OrSingleByte<R> {
    pub(super) fn new(inner: R, fallback: &'static Encoding) -> Self {
        let high = std::array::from_fn(|i| {
            let byte = [0x80 + i as u8];
            let (text, _) = fallback.decode_without_bom_handling(&byte);
            text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER)
        });
        Utf8OrSingleByte {
            inner,
            high,
            out: Vec::with_capacity(64 << 10),
            pos: 0,
            pending: Vec::new(),
            done: false,
        }
    }
}

/// How many bytes at the end of `data` start a UTF-8 sequence that is cut off there.
fn cut_sequence(data: &[u8]) -> usize {
    for back in 1..=data.len().min(3) {
        let b = data[data.len() - back];
        let needed = match b {
            0x80..=0xBF => continue,
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return 0,
        };
        return if needed > back { back } else { 0 };
    }
    0
}

impl<R: BufRead> Read for Utf8OrSingleByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(n) = copy_out(&self.out, &mut self.pos, buf, self.done) {
                return Ok(n);
            }
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            self.pending.extend_from_slice(input);
            let read = input.len();
            self.inner.consume(read);
            let keep = if last { 0 } else { cut_sequence(&self.pending) };
            let body = self.pending.len() - keep;
            self.out.clear();
            self.pos = 0;
            for chunk in self.pending[..body].utf8_chunks() {
                self.out.extend_from_slice(chunk.valid().as_bytes());
                for &b in chunk.invalid() {
                    // Invalid bytes are never ASCII.
                    let c = self.high[usize::from(b.wrapping_sub(0x80) & 0x7F)];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            self.pending.drain(..body);
            self.done = last;
        }
    }
}

/// Hands on decoded bytes: copies what is left of `out` past `pos` into `buf`. `Some(n)` when
/// the read is answered (`Some(0)` at the end: `done` and nothing left, or an empty `buf`);
/// `None` when more input must be decoded first.
fn copy_out(out: &[u8], pos: &mut usize, buf: &mut [u8], done: bool) -> Option<usize> {
    if *pos < out.len() {
        let n = (out.len() - *pos).min(buf.len());
        buf[..n].copy_from_slice(&out[*pos..*pos + n]);
        *pos += n;
        return Some(n);
    }
    (done || buf.is_empty()).then_some(0)
}

/// A reader that decodes a byte stream in some encoding into UTF-8 (dropping a leading byte
/// order mark of that encoding).
pub(super) struct Transcoder<R> {
    inner: R,
    decoder: Decoder,
    out: Box<[u8]>,
    pos: usize,
    len: usize,
    done: bool,
}

impl<R: BufRead> Transcoder<R> {
    pub(super) fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            decoder: encoding.new_decoder_with_bom_removal(),
            out: vec![0; 64 << 10].into_boxed_slice(),
            pos: 0,
            len: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(n) = copy_out(&self.out[..self.len], &mut self.pos, buf, self.done) {
                return Ok(n);
            }
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            let (result, read, written, _) =
                self.decoder.decode_to_utf8(input, &mut self.out, last);
            self.inner.consume(read);
            self.pos = 0;
            self.len = written;
            if last && result == CoderResult::InputEmpty {
                self.done = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_boms_and_declarations() {
        assert_eq!(sniff(b"\xFF\xFE<\x00"), Sniffed::Decode(UTF_16LE));
        assert_eq!(sniff(b"\x00<\x00?"), Sniffed::Decode(UTF_16BE));
        assert_eq!(sniff(b"{\"id\":1}"), Sniffed::Utf8);
        let latin = b"<?xml version='1.0' encoding = 'ISO-8859-1' ?><rss/>";
        assert_eq!(sniff(latin), Sniffed::Decode(encoding_rs::WINDOWS_1252));
        assert_eq!(
            sniff(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?>"),
            Sniffed::Utf8
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\" encoding=\"bogus\"?>"),
            Sniffed::Unknown("bogus".into())
        );
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>"), Sniffed::Utf8);
    }

    #[test]
    fn declared_latin1_keeps_the_utf8_that_wordpress_writes() {
        // `Très` in UTF-8 (as WordPress writes comment text) and `café` in Latin-1 (a title
        // in the blog's charset), in one file.
        let mut bytes =
            b"<title>caf\xE9</title><c>Tr\xC3\xA8s \xE2\x82\xAC \xF0\x9F\x98\x80</c>".to_vec();
        bytes.extend_from_slice(b" \x80 \xC3");
        let want = "<title>café</title><c>Très € 😀</c> € Ã";
        // Every buffer size, so that sequences are cut at every place.
        for capacity in 1..=12 {
            let mut out = String::new();
            Utf8OrSingleByte::new(
                io::BufReader::with_capacity(capacity, &bytes[..]),
                encoding_rs::WINDOWS_1252,
            )
            .read_to_string(&mut out)
            .unwrap();
            assert_eq!(out, want, "buffer of {capacity}");
        }
    }

    #[test]
    fn transcodes_across_buffer_boundaries() {
        let text: String = "é€😀".repeat(50_000);
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut out = String::new();
        Transcoder::new(io::BufReader::with_capacity(7, &bytes[..]), UTF_16LE)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }
}
