//! Telling the character encoding of an input from its first bytes, and decoding input that is
//! not UTF-8 into UTF-8 before any reader sees it.
//!
//! - A UTF-16 byte order mark (either order), in any format, means UTF-16.
//! - An XML document without one that starts `<?xml` in UTF-16 (`3C 00 3F 00` or
//!   `00 3C 00 3F`) is UTF-16 of that order.
//! - Otherwise the `encoding` of an XML declaration decides: any label the WHATWG Encoding
//!   Standard knows (`ISO-8859-1`, `windows-1252`, `Shift_JIS`, `KOI8-R`, …) is decoded with
//!   `encoding_rs`; a label it does not know is an [`EncodingError`].
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
            if self.pos < self.len {
                let n = (self.len - self.pos).min(buf.len());
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.done || buf.is_empty() {
                return Ok(0);
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
