//! JSON: one array of comment objects, `[{…}, {…}]`, the way API responses, scrapers and
//! `jq -s` save them. Elements are read one at a time, so memory holds one element and not the
//! file, and each element is read like a JSONL line: the same field names and aliases (see
//! [`super::FieldMap`]). Positions give the element's index (`[0]` is the first), and
//! the line and byte offset where it starts; a comment without an id is named `item-N` by its
//! index.
//!
//! An array whose first object is a Pushshift comment or submission (`jq -s` over a Reddit
//! dump) is read the way [the Reddit reader](super::reddit) reads its lines: kind prefixes
//! removed, `[deleted]` and `[removed]` skipped, submissions giving their comments a title and
//! no record of their own.
//!
//! # Bad input
//!
//! - An element that is not a JSON object, or not valid JSON, is one error record; reading goes
//!   on with the next element.
//! - An element longer than 64 MiB is one error record, skipped without being held in memory.
//! - An input that ends inside an element (a truncated file) gives one error record for that
//!   element; one that ends before the closing `]` after a complete element gives none, as no
//!   comment is lost.
//! - A missing `,` between two elements and a `,` before the `]` are read past. Arrays one after
//!   another (`[…][…]`, pages of an API appended to one file) are read as one. Anything else
//!   where an element should start, and anything but another array after the closing `]`, is
//!   one error record, and reading stops there.

use super::jsonl::{JsonlFields, parse_object};
use super::lines::MAX_LINE;
use super::{ByteStream, FieldMap, Position, Record, RecordError, RecordResult, reddit};
use std::io::BufRead;
use std::sync::Arc;

/// Reads the elements of a JSON array as records.
pub(crate) struct JsonArrayReader {
    stream: ByteStream,
    source: Arc<str>,
    fields: JsonlFields,
    /// The bytes of the element being read (at most [`MAX_LINE`] of them).
    element: Vec<u8>,
    /// The byte offset and the 1-based line of the next byte of the stream.
    byte: u64,
    line: u64,
    /// The index of the next element.
    index: u64,
    state: State,
    /// How elements are read, decided by the first object.
    flavour: Flavour,
}

/// How the elements of an array are read.
enum Flavour {
    /// Not decided yet: no object has been read.
    Undecided,
    /// Like JSONL lines, with the configured field names.
    Plain,
    /// Like the lines of a Pushshift dump, remembering the submissions read.
    Reddit(Box<reddit::Submissions>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// Where an element (or the closing `]`) may come.
    Items,
    /// After the closing `]`.
    End,
    Done,
}

/// How an element ended.
enum Scanned {
    /// At its last byte, or before a `,` or `]` that follows it.
    Complete,
    /// The input ended (or failed to read) first.
    Truncated(String),
}

impl JsonArrayReader {
    pub(crate) fn new(stream: ByteStream, source: Arc<str>, fields: FieldMap) -> Self {
        JsonArrayReader {
            stream,
            source,
            fields: JsonlFields::new(fields),
            element: Vec::new(),
            byte: 0,
            line: 1,
            index: 0,
            state: State::Start,
            flavour: Flavour::Undecided,
        }
    }

    /// A position in this input, of an element if `index` is given.
    fn at(&self, line: u64, byte: u64, index: Option<u64>) -> Position {
        Position {
            source: self.source.clone(),
            line: Some(line),
            byte: Some(byte),
            element: index.map(|i| format!("[{i}]")),
        }
    }

    /// Consumes `n` bytes of the buffered stream, counting lines and bytes.
    fn consume(&mut self, n: usize) {
        if let Ok(buffer) = self.stream.fill_buf() {
            let n = n.min(buffer.len());
            self.line += memchr::memchr_iter(b'\n', &buffer[..n]).count() as u64;
            self.byte += n as u64;
            self.stream.consume(n);
        }
    }

    /// Skips a UTF-8 byte-order mark at the start of the input, byte by byte (a buffer may
    /// hold only part of it).
    fn skip_byte_order_mark(&mut self) {
        for expected in [0xEF, 0xBB, 0xBF] {
            match self.stream.fill_buf() {
                Ok([b, ..]) if *b == expected => self.consume(1),
                _ => return,
            }
        }
    }

    /// Skips whitespace, then returns the next byte without consuming it; `Ok(None)` at the
    /// end of the input.
    fn peek_past_space(&mut self) -> Result<Option<u8>, String> {
        loop {
            let buffer = match self.stream.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read error: {e}")),
            };
            match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let next = buffer[i];
                    self.consume(i);
                    return Ok(Some(next));
                }
                None if buffer.is_empty() => return Ok(None),
                None => {
                    let n = buffer.len();
                    self.consume(n);
                }
            }
        }
    }

    /// Reads one element into `self.element` (its first [`MAX_LINE`] bytes), returning how it
    /// ended and its full length. The element starts at the next byte, which is not
    /// whitespace, `,` or `]`.
    fn scan_element(&mut self) -> (Scanned, u64) {
        self.element.clear();
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        let mut length = 0u64;
        loop {
            let buffer = match self.stream.fill_buf() {
                Ok(buffer) => buffer,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return (Scanned::Truncated(format!("read error: {e}")), length),
            };
            if buffer.is_empty() {
                let reason = "the input ends inside this element (a truncated file?)";
                return (Scanned::Truncated(reason.into()), length);
            }
            // How many bytes of the buffer belong to the element, and whether it ends there.
            let mut take = 0;
            let mut complete = false;
            while take < buffer.len() {
                let b = buffer[take];
                if in_string {
                    if escaped {
                        escaped = false;
                        take += 1;
                        continue;
                    }
                    // Most of an element is string bytes: jump to the next quote or backslash.
                    match memchr::memchr2(b'"', b'\\', &buffer[take..]) {
                        Some(i) => {
                            take += i + 1;
                            if buffer[take - 1] == b'"' {
                                in_string = false;
                            } else {
                                escaped = true;
                            }
                        }
                        None => take = buffer.len(),
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => {
                        depth -= 1;
                        if depth == 0 {
                            take += 1;
                            complete = true;
                            break;
                        }
                    }
                    // A scalar element ends before the `,` or `]` that follows it.
                    b',' | b']' | b'}' if depth == 0 => {
                        complete = true;
                        break;
                    }
                    _ => {}
                }
                take += 1;
            }
            let room = MAX_LINE.saturating_sub(self.element.len());
            self.element.extend_from_slice(&buffer[..take.min(room)]);
            length += take as u64;
            self.consume(take);
            if complete {
                return (Scanned::Complete, length);
            }
        }
    }

    /// Reads the next element as a record; `None` for a Reddit submission, which gives none.
    fn next_element(&mut self) -> Option<RecordResult> {
        let (line, byte, index) = (self.line, self.byte, self.index);
        self.index += 1;
        let position = self.at(line, byte, Some(index));
        let (scanned, length) = self.scan_element();
        if let Scanned::Truncated(reason) = scanned {
            self.state = State::Done;
            return Some(Err(RecordError {
                position,
                id: None,
                reason,
            }));
        }
        if length > MAX_LINE as u64 {
            return Some(Err(RecordError {
                position,
                id: None,
                reason: format!(
                    "the element is {length} bytes long, more than the limit of {} MiB for one record; skipped",
                    MAX_LINE >> 20
                ),
            }));
        }
        if matches!(self.flavour, Flavour::Undecided) && self.element.first() == Some(&b'{') {
            self.flavour = if super::detect::is_reddit_object(&self.element) {
                Flavour::Reddit(Box::default())
            } else {
                Flavour::Plain
            };
        }
        let parsed = match &mut self.flavour {
            Flavour::Reddit(submissions) => reddit::parse(&self.element, submissions)?,
            Flavour::Undecided | Flavour::Plain => {
                parse_object(&self.element, &self.fields, || format!("item-{index}"))
                    .map(|(comment, export)| (comment, export, None))
            }
        };
        Some(match parsed {
            Ok((comment, export, skip)) => Ok(Record {
                comment,
                position,
                export,
                skip,
            }),
            Err((id, reason)) => Err(RecordError {
                position,
                id,
                reason,
            }),
        })
    }

    /// One error record at the current position, after which reading stops.
    fn stop(&mut self, reason: String) -> Option<RecordResult> {
        self.state = State::Done;
        let position = self.at(self.line, self.byte, None);
        Some(Err(RecordError {
            position,
            id: None,
            reason,
        }))
    }
}

impl Iterator for JsonArrayReader {
    type Item = RecordResult;

    fn next(&mut self) -> Option<RecordResult> {
        loop {
            if self.state == State::Start && self.byte == 0 {
                self.skip_byte_order_mark();
            }
            let next = match self.state {
                State::Done => return None,
                _ => match self.peek_past_space() {
                    Ok(next) => next,
                    Err(reason) => return self.stop(reason),
                },
            };
            match (self.state, next) {
                (State::Done, _) => return None,
                // An input of only whitespace holds no comments.
                (State::Start, None) | (State::End, None) => {
                    self.state = State::Done;
                    return None;
                }
                (State::Start | State::End, Some(b'[')) => {
                    self.consume(1);
                    self.state = State::Items;
                }
                (State::Start, Some(_)) => {
                    return self.stop("expected a JSON array (`[`) of comment objects".into());
                }
                (State::End, Some(_)) => {
                    return self.stop("unexpected text after the closing `]` of the array".into());
                }
                // The input ended after a complete element: no comment is lost.
                (State::Items, None) => {
                    self.state = State::Done;
                    return None;
                }
                (State::Items, Some(b']')) => {
                    self.consume(1);
                    self.state = State::End;
                }
                (State::Items, Some(b',')) => self.consume(1),
                (
                    State::Items,
                    Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'),
                ) => {
                    if let Some(record) = self.next_element() {
                        return Some(record);
                    }
                }
                (State::Items, Some(b)) => {
                    return self.stop(format!(
                        "expected an element of the array, found {:?}",
                        char::from(b)
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `data`, read through a buffer of `capacity` bytes.
    fn read(data: &[u8], capacity: usize) -> Vec<RecordResult> {
        let stream: ByteStream = Box::new(std::io::BufReader::with_capacity(
            capacity,
            std::io::Cursor::new(data.to_vec()),
        ));
        JsonArrayReader::new(stream, "t.json".into(), FieldMap::default()).collect()
    }

    fn summary(records: &[RecordResult]) -> Vec<String> {
        records
            .iter()
            .map(|r| match r {
                Ok(r) => format!(
                    "{} {:?} {} {} {}",
                    r.comment.id,
                    r.comment.text,
                    r.position.line.unwrap_or(0),
                    r.position.byte.unwrap_or(0),
                    r.position.element.as_deref().unwrap_or("")
                ),
                Err(e) => format!("error {e}"),
            })
            .collect()
    }

    #[test]
    fn reads_elements_with_positions_whatever_the_buffer_size() {
        let data = "\u{feff}[\n  {\"id\": 7, \"text\": \"a [b] {c}, \\\"d\\\"\"},\n  {\"body\": \"no id ]\"}\n]\n";
        let expected = [
            r#"7 "a [b] {c}, \"d\"" 2 7 [0]"#,
            r#"item-1 "no id ]" 3 48 [1]"#,
        ];
        for capacity in 1..=data.len() {
            assert_eq!(
                summary(&read(data.as_bytes(), capacity)),
                expected,
                "{capacity}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn reads_back_any_array_serde_json_writes(
            texts in proptest::collection::vec("[a-z \\[\\]{},:\"\\\\\n\t/é日]{0,12}", 0..6),
            pretty in proptest::bool::ANY,
            capacity in 1usize..40,
        ) {
            let items: Vec<serde_json::Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| serde_json::json!({"id": format!("c{i}"), "text": t, "n": [i, {"x": t}]}))
                .collect();
            let data = if pretty {
                serde_json::to_vec_pretty(&items)
            } else {
                serde_json::to_vec(&items)
            }
            .expect("serializes");
            let got: Vec<String> = read(&data, capacity)
                .into_iter()
                .map(|r| r.map(|r| r.comment.text.to_string()).unwrap_or_else(|e| format!("error {e}")))
                .collect();
            proptest::prop_assert_eq!(got, texts);
        }

        #[test]
        fn never_panics_on_any_bytes(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let mut with_bracket = b"[".to_vec();
            with_bracket.extend_from_slice(&data);
            let _ = read(&data, 7);
            let _ = read(&with_bracket, 3);
        }
    }

    #[test]
    fn bad_elements_are_one_record_each_and_nothing_is_lost() {
        let r = read(
            br#"[{"text": "ok"}, 5, {"text": 1}, {"text": "also ok"}]"#,
            64,
        );
        let s = summary(&r);
        assert_eq!(s.len(), 4, "{s:?}");
        assert!(s[0].starts_with("item-0 \"ok\""), "{s:?}");
        assert!(
            s[1].starts_with("error t.json: line 1, byte 17, [1]: invalid JSON"),
            "{s:?}"
        );
        assert!(s[2].contains("[2]: field `text` must be a string"), "{s:?}");
        assert!(s[3].starts_with("item-3 \"also ok\""), "{s:?}");
        // Missing and trailing commas, pages appended: read past.
        let r = read(br#"[{"text": "a"} {"text": "b"},] [{"text": "c"}]"#, 8);
        let texts: Vec<_> = r
            .iter()
            .map(|r| r.as_ref().map(|r| r.comment.text.to_string()))
            .collect();
        assert_eq!(texts, [Ok("a".into()), Ok("b".into()), Ok("c".into())]);
        // A truncated file: the open element is one error; nothing after it.
        let r = read(br#"[{"text": "a"}, {"text": "b"#, 8);
        assert_eq!(r.len(), 2);
        assert!(summary(&r)[1].contains("[1]: the input ends inside this element"));
        // Not an array, junk after it, empty input.
        assert!(summary(&read(b"{\"text\": \"a\"}", 8))[0].contains("expected a JSON array"));
        let r = read(b"[{\"text\": \"a\"}] trailing", 8);
        assert_eq!(r.len(), 2);
        assert!(summary(&r)[1].contains("unexpected text after the closing"));
        assert!(read(b"  \n", 8).is_empty());
        assert!(read(b"[]", 8).is_empty());
    }
}
