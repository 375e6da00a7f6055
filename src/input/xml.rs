//! What the XML export readers (WXR, Disqus, Blogger) share: the byte stream under quick-xml
//! that keeps parsing alive through bytes that are not UTF-8, quick-xml's configuration, the
//! loop that turns parser events into records, and small text helpers.
//!
//! The readers differ in what their stream does besides replacing bad bytes (skipping byte order
//! marks, remembering where bad bytes were, bounding token sizes): each says so
//! through a [`StreamOptions`] type.

use super::{ByteStream, Position, RecordResult};
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::BytesRef;
use quick_xml::events::attributes::Attribute;
use quick_xml::reader::{BinaryStream, Config};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::iter::FusedIterator;
use std::marker::PhantomData;
use std::sync::Arc;

/// ASCII SUB: a replacement byte that is not XML markup and is kept in text.
pub(super) const SUB: u8 = 0x1A;
/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// The size of a [`Utf8Stream`]'s buffer.
const BUFFER: usize = 64 << 10;

// ---------------------------------------------------------------------------------------------
// The UTF-8 stream

/// How a reader's [`Utf8Stream`] treats its input.
pub(super) trait StreamOptions {
    /// The byte put in place of each byte that is not UTF-8 (one for one, so offsets stay true).
    const REPLACEMENT: u8;
    /// Whether leading UTF-8 byte order marks are skipped: counted in [`Utf8Stream::offset`],
    /// never handed to the parser.
    const SKIP_BOM: bool = false;
    /// Whether the offsets of replaced bytes are kept, for [`Utf8Stream::take_invalid_before`].
    const RECORD_INVALID: bool = false;
    /// When set, more than this many bytes consumed without a `<` or `>` make the stream fail
    /// (and set [`Utf8Stream::overlong`]): this bounds the size of any one XML token.
    const MAX_TOKEN: Option<u64> = None;

    /// `text` with each [`Self::REPLACEMENT`] byte turned into U+FFFD, reusing it when it has
    /// none.
    fn lossy(text: String) -> String {
        let mark = char::from(Self::REPLACEMENT);
        if text.contains(mark) {
            text.replace(mark, "\u{FFFD}")
        } else {
            text
        }
    }
}

/// A `BufRead` adapter between the raw stream and quick-xml, which stops at the first byte that
/// is not UTF-8: each such byte is replaced by `O::REPLACEMENT`, one for one, so offsets stay
/// true. It counts the bytes and lines consumed, for positions, and does what `O` asks besides.
pub(super) struct Utf8Stream<O> {
    inner: ByteStream,
    buf: Box<[u8]>,
    /// Next byte to hand out.
    pos: usize,
    /// End of the checked bytes; `end..filled` is an incomplete UTF-8 sequence.
    end: usize,
    /// End of the bytes read.
    filled: usize,
    /// Input offset of `buf[pos]`: the bytes consumed plus the byte order marks skipped.
    pub(super) offset: u64,
    /// Bytes handed out and consumed (what the parser counts).
    pub(super) consumed: u64,
    /// Newlines handed out and consumed.
    pub(super) newlines: u64,
    /// Bytes consumed since the last `<` or `>` (counted only with `O::MAX_TOKEN`).
    pub(super) run: u64,
    /// Whether the stream failed because a token was longer than `O::MAX_TOKEN`.
    pub(super) overlong: bool,
    /// Input offsets of replaced bytes not yet claimed by [`Utf8Stream::take_invalid_before`]
    /// (only with `O::RECORD_INVALID`), ascending.
    pub(super) invalid: VecDeque<u64>,
    /// Whether leading byte order marks have been dealt with (only with `O::SKIP_BOM`).
    started: bool,
    eof: bool,
    options: PhantomData<fn() -> O>,
}

impl<O: StreamOptions> Utf8Stream<O> {
    /// Wraps a raw stream.
    pub(super) fn new(inner: ByteStream) -> Self {
        Utf8Stream {
            inner,
            buf: vec![0; BUFFER].into_boxed_slice(),
            pos: 0,
            end: 0,
            filled: 0,
            offset: 0,
            consumed: 0,
            newlines: 0,
            run: 0,
            overlong: false,
            invalid: VecDeque::new(),
            started: false,
            eof: false,
            options: PhantomData,
        }
    }

    /// The 1-based line of the next byte.
    pub(super) fn line(&self) -> u64 {
        self.newlines + 1
    }

    /// Bytes of leading byte order marks skipped: input offsets minus the parser's positions.
    pub(super) fn skipped(&self) -> u64 {
        self.offset - self.consumed
    }

    /// Whether the whole input has been consumed.
    pub(super) fn at_end(&self) -> bool {
        self.eof && self.pos == self.filled
    }

    /// The first replaced byte consumed since the last call.
    pub(super) fn take_invalid(&mut self) -> Option<u64> {
        self.take_invalid_before(self.offset)
    }

    /// The first replaced byte before `offset` (not before the bytes consumed), forgetting all
    /// of them.
    pub(super) fn take_invalid_before(&mut self, offset: u64) -> Option<u64> {
        let first = self.invalid.front().copied().filter(|&at| at < offset);
        while self.invalid.front().is_some_and(|&at| at < offset) {
            self.invalid.pop_front();
        }
        first
    }

    /// At least `n` bytes (up to the buffer's size), unless the input ends first.
    pub(super) fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        self.fill_buf()?;
        while self.end - self.pos < n && !self.eof && self.refill()? {}
        Ok(&self.buf[self.pos..self.end])
    }

    /// Reads more input after the bytes not yet handed out, and checks it; `false` when the
    /// buffer is full.
    fn refill(&mut self) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.end -= self.pos;
            self.filled -= self.pos;
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            return Ok(false);
        }
        let n = loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.eof = n == 0;
        self.filled += n;
        self.check();
        Ok(true)
    }

    /// Checks `end..filled`, replacing invalid bytes; an incomplete sequence at the end waits
    /// for more input, unless the input has ended.
    fn check(&mut self) {
        let base = self.offset - self.pos as u64;
        let mut i = self.end;
        while i < self.filled {
            match std::str::from_utf8(&self.buf[i..self.filled]) {
                Ok(_) => i = self.filled,
                Err(e) => {
                    let bad = i + e.valid_up_to();
                    let len = match e.error_len() {
                        Some(len) => len,
                        None if self.eof => self.filled - bad,
                        None => {
                            i = bad;
                            break;
                        }
                    };
                    self.buf[bad..bad + len].fill(O::REPLACEMENT);
                    if O::RECORD_INVALID {
                        self.invalid
                            .extend((bad..bad + len).map(|k| base + k as u64));
                    }
                    i = bad + len;
                }
            }
        }
        self.end = i;
    }

    /// Skips every leading byte order mark, so that quick-xml (which would skip one without
    /// counting it in its positions) sees none.
    fn skip_boms(&mut self) -> io::Result<()> {
        while !self.started {
            while self.filled - self.pos < BOM.len() && !self.eof && self.refill()? {}
            if self.buf[self.pos..self.end].starts_with(BOM) {
                self.pos += BOM.len();
                self.offset += BOM.len() as u64;
            } else {
                self.started = true;
            }
        }
        Ok(())
    }

    /// Forgets the replaced bytes consumed after the first one when there are many: only the
    /// first is ever reported, and this keeps their count bounded by the buffer's size.
    fn prune_invalid(&mut self) {
        if self.invalid.len() > BUFFER {
            let consumed = self.invalid.partition_point(|&at| at < self.offset);
            if consumed > 1 {
                self.invalid.drain(1..consumed);
            }
        }
    }
}

impl<O: StreamOptions> BufRead for Utf8Stream<O> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(max) = O::MAX_TOKEN
            && self.run > max
        {
            self.overlong = true;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "XML token too long",
            ));
        }
        if O::SKIP_BOM {
            self.skip_boms()?;
        }
        while self.pos == self.end && !self.eof && self.refill()? {}
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.pos);
        let taken = &self.buf[self.pos..self.pos + amt];
        self.newlines += taken.iter().filter(|&&b| b == b'\n').count() as u64;
        if O::MAX_TOKEN.is_some() {
            match taken.iter().rposition(|&b| b == b'<' || b == b'>') {
                Some(i) => self.run = (amt - 1 - i) as u64,
                None => self.run += amt as u64,
            }
        }
        self.pos += amt;
        self.offset += amt as u64;
        self.consumed += amt as u64;
        if O::RECORD_INVALID {
            self.prune_invalid();
        }
    }
}

impl<O: StreamOptions> Read for Utf8Stream<O> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// Sets what every reader wants of quick-xml: text untrimmed (so that each event starts where
/// the previous one ended, which positions rely on; values are trimmed field by field), empty
/// elements as such, and a lone `&` kept as text rather than failing the whole document. With
/// `strict_ends` false, end tags are left to the reader to match (with recovery for unescaped
/// HTML) and a stray one is not an error.
pub(super) fn configure(config: &mut Config, strict_ends: bool) {
    config.trim_text(false);
    config.expand_empty_elements = false;
    config.allow_dangling_amp = true;
    config.check_end_names = strict_ends;
    config.allow_unmatched_ends = !strict_ends;
    config.check_comments = false;
}

/// A position in an export: a byte offset, and a line and an element path when known.
pub(super) fn position(
    source: &Arc<str>,
    byte: u64,
    line: Option<u64>,
    element: Option<String>,
) -> Position {
    Position {
        source: source.clone(),
        line,
        byte: Some(byte),
        element,
    }
}

/// The event buffer to keep for the next event: released when an event made it bigger than
/// 1 MiB.
pub(super) fn recycled(buf: Vec<u8>) -> Vec<u8> {
    if buf.capacity() > 1 << 20 {
        Vec::new()
    } else {
        buf
    }
}

/// A reader that turns parser events into items, one event at a time.
pub(super) trait EventReader {
    /// Whether the stream is over.
    fn is_done(&self) -> bool;
    /// Reads and handles one event; returns an item when one is complete.
    fn next_item(&mut self) -> Option<RecordResult>;
}

/// The items of an [`EventReader`], read until it is done.
pub(super) struct Records<R>(pub(super) R);

impl<R: EventReader> Iterator for Records<R> {
    type Item = RecordResult;

    fn next(&mut self) -> Option<RecordResult> {
        while !self.0.is_done() {
            if let Some(item) = self.0.next_item() {
                return Some(item);
            }
        }
        None
    }
}

impl<R: EventReader> FusedIterator for Records<R> {}

/// The next item of a reader whose events may complete several items at once: those waiting
/// in `queue` first, then `step`'s, in order (`step` reads one event, queueing the items it
/// completes before its own).
pub(super) fn next_in_order<R>(
    reader: &mut R,
    queue: impl Fn(&mut R) -> &mut VecDeque<RecordResult>,
    step: impl FnOnce(&mut R) -> Option<RecordResult>,
) -> Option<RecordResult> {
    if let Some(item) = queue(reader).pop_front() {
        return Some(item);
    }
    let item = step(reader);
    let waiting = queue(reader);
    match waiting.pop_front() {
        Some(first) => {
            waiting.extend(item);
            Some(first)
        }
        None => item,
    }
}

/// The names of the open elements, outermost first, in one buffer (no allocation per
/// element): what a reader that matches end tags itself keeps.
#[derive(Debug, Default)]
pub(super) struct OpenNames {
    names: String,
    starts: Vec<usize>,
}

impl OpenNames {
    pub(super) fn push(&mut self, name: &str) {
        self.starts.push(self.names.len());
        self.names.push_str(name);
    }

    /// Forgets the innermost name.
    pub(super) fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.names.truncate(start);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The `i`-th name, outermost first.
    pub(super) fn get(&self, i: usize) -> &str {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.names.len());
        self.starts
            .get(i)
            .map_or("", |&start| &self.names[start..end])
    }

    /// Where the innermost element named `name` is.
    pub(super) fn rposition(&self, name: &str) -> Option<usize> {
        (0..self.len()).rev().find(|&i| self.get(i) == name)
    }
}

// ---------------------------------------------------------------------------------------------
// Text

/// The text of an entity or character reference: predefined entities and character references
/// are decoded, anything else (entities a DTD would define, HTML entities) is kept as written,
/// never expanded.
pub(super) fn resolve_reference<'a>(reference: &'a BytesRef<'_>) -> Cow<'a, str> {
    let name: &str = reference;
    if let Some(text) = resolve_xml_entity(name) {
        return Cow::Borrowed(text);
    }
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Cow::Owned(c.to_string()),
        _ => Cow::Owned(format!("&{name};")),
    }
}

/// An attribute's value, normalized with predefined entities and character references decoded;
/// as written when it holds another reference.
pub(super) fn attribute_value<'a>(attribute: &Attribute<'a>) -> Cow<'a, str> {
    attribute
        .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_xml_entity)
        .unwrap_or_else(|_| attribute.value.clone())
}

/// The largest character boundary of `s` at or before `at`.
pub(super) fn floor_char_boundary(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Appends as much of `text` as fits in `limit` bytes, at a character boundary; `false` when
/// some of it was cut.
pub(super) fn push_cut(field: &mut String, text: &str, limit: usize) -> bool {
    let room = limit.saturating_sub(field.len());
    let cut = floor_char_boundary(text, room);
    field.push_str(&text[..cut]);
    cut == text.len()
}

/// `Some` when not empty.
pub(super) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

// ---------------------------------------------------------------------------------------------
// Skipping elements nested too deep

/// A stream markup can be skipped on: a [`Utf8Stream`], or quick-xml's view of one.
pub(super) trait Skippable: BufRead {
    /// At least `n` bytes ahead, unless the input ends first.
    fn peek_bytes(&mut self, n: usize) -> io::Result<&[u8]>;
}

impl<O: StreamOptions> Skippable for Utf8Stream<O> {
    fn peek_bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        self.peek(n)
    }
}

impl<O: StreamOptions> Skippable for BinaryStream<'_, Utf8Stream<O>> {
    fn peek_bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        self.get_mut().peek(n)
    }
}

/// Skips the content of an element (whose start tag was just read) up to its end tag, which
/// is left for quick-xml (it keeps the names of open elements, so nesting it parsed would cost
/// memory). `Ok(false)` when the input ends first.
pub(super) fn skip_content(stream: &mut impl Skippable) -> io::Result<bool> {
    let mut depth: u64 = 0;
    loop {
        let chunk = stream.fill_buf()?;
        if chunk.is_empty() {
            return Ok(false);
        }
        match chunk.iter().position(|&b| b == b'<') {
            Some(i) => stream.consume(i),
            None => {
                let n = chunk.len();
                stream.consume(n);
                continue;
            }
        }
        let (opener, needle): (usize, &[u8]) = match markup(stream.peek_bytes(9)?) {
            Markup::Truncated => {
                stream.consume(1);
                return Ok(false);
            }
            Markup::End if depth == 0 => return Ok(true),
            Markup::End => {
                depth -= 1;
                (2, b">")
            }
            Markup::Other(opener, needle) => (opener, needle),
            Markup::Start => {
                match skip_tag(stream)? {
                    None => return Ok(false),
                    Some(true) => {}
                    Some(false) => depth += 1,
                }
                continue;
            }
        };
        stream.consume(opener);
        if !skip_past(stream, needle)? {
            return Ok(false);
        }
    }
}

/// Markup met while skipping.
enum Markup {
    /// `<` at the end of the input.
    Truncated,
    /// An end tag.
    End,
    /// A start or empty-element tag.
    Start,
    /// Markup of this many opening bytes, ending with this.
    Other(usize, &'static [u8]),
}

/// What the markup starting `head` (at a `<`) is.
fn markup(head: &[u8]) -> Markup {
    match head {
        [] | [_] => Markup::Truncated,
        [_, b'/', ..] => Markup::End,
        [_, b'?', ..] => Markup::Other(2, b"?>"),
        _ if head.starts_with(b"<!--") => Markup::Other(4, b"-->"),
        _ if head.starts_with(b"<![CDATA[") => Markup::Other(9, b"]]>"),
        [_, b'!', ..] => Markup::Other(2, b">"),
        _ => Markup::Start,
    }
}

/// Skips up to and including `needle`; `Ok(false)` when the input ends first.
fn skip_past(stream: &mut impl Skippable, needle: &[u8]) -> io::Result<bool> {
    let mut matched = 0;
    loop {
        let chunk = stream.fill_buf()?;
        if chunk.is_empty() {
            return Ok(false);
        }
        let mut used = chunk.len();
        for (k, &b) in chunk.iter().enumerate() {
            matched = advance(needle, matched, b);
            if matched == needle.len() {
                used = k + 1;
                break;
            }
        }
        stream.consume(used);
        if matched == needle.len() {
            return Ok(true);
        }
    }
}

/// How much of `needle` ends the input after `b` follows `matched` matched bytes.
fn advance(needle: &[u8], matched: usize, b: u8) -> usize {
    (1..=matched + 1)
        .rev()
        .find(|&k| needle[k - 1] == b && needle[..k - 1] == needle[matched + 1 - k..matched])
        .unwrap_or(0)
}

/// Skips a start or empty tag (at its `<`), minding quoted `>`: `Some(true)` for an empty
/// tag, `None` when the input ends first.
fn skip_tag(stream: &mut impl Skippable) -> io::Result<Option<bool>> {
    let mut quote = None;
    let mut prev = 0;
    loop {
        let chunk = stream.fill_buf()?;
        if chunk.is_empty() {
            return Ok(None);
        }
        let mut used = chunk.len();
        let mut empty = None;
        for (k, &b) in chunk.iter().enumerate() {
            match (quote, b) {
                (Some(q), _) if b == q => quote = None,
                (Some(_), _) => {}
                (None, b'"' | b'\'') => quote = Some(b),
                (None, b'>') => {
                    empty = Some(prev == b'/');
                    used = k + 1;
                    break;
                }
                (None, _) => {}
            }
            prev = b;
        }
        stream.consume(used);
        if empty.is_some() {
            return Ok(empty);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replaces with `#`, skips byte order marks and remembers where bad bytes were.
    struct Marked;

    impl StreamOptions for Marked {
        const REPLACEMENT: u8 = b'#';
        const SKIP_BOM: bool = true;
        const RECORD_INVALID: bool = true;
    }

    #[test]
    fn replaces_skips_and_counts() {
        let input: &[u8] = b"\xEF\xBB\xBFa\n\xFF<b>\xE2\x82";
        let mut stream = Utf8Stream::<Marked>::new(Box::new(input));
        let mut out = Vec::new();
        stream.read_to_end(&mut out).ok();
        assert_eq!(out, b"a\n#<b>##");
        assert_eq!(
            (stream.offset, stream.consumed, stream.skipped()),
            (11, 8, 3)
        );
        assert_eq!(stream.line(), 2);
        assert!(stream.at_end());
        assert_eq!(stream.take_invalid(), Some(5));
        assert_eq!(stream.take_invalid(), None);
    }

    #[test]
    fn pushes_at_char_boundaries() {
        let mut field = String::from("ab");
        assert!(!push_cut(&mut field, "cé", 4));
        assert_eq!(field, "abc");
        assert!(push_cut(&mut field, "d", 4));
        assert_eq!(floor_char_boundary("é", 9), 2);
    }

    #[test]
    fn advance_finds_needles_that_overlap_themselves() {
        let find = |needle: &[u8], hay: &[u8]| {
            let mut m = 0;
            hay.iter().position(|&b| {
                m = advance(needle, m, b);
                m == needle.len()
            })
        };
        assert_eq!(find(b"-->", b"a --->"), Some(5));
        assert_eq!(find(b"]]>", b"]]]]>x"), Some(4));
        assert_eq!(find(b"?>", b"??>"), Some(2));
        assert_eq!(find(b"-->", b"- -> ->"), None);
    }
}
