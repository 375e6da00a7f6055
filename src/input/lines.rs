//! Line-by-line reading for the NDJSON formats, with line numbers and byte offsets.

use super::{ByteStream, ExportFields, Position, Record, RecordError, RecordResult, Skip};
use crate::comment::Comment;
use std::io::BufRead;
use std::sync::Arc;

/// One non-blank line and where it starts.
pub(crate) struct Line {
    pub number: u64,
    pub byte: u64,
    pub bytes: Vec<u8>,
}

/// Yields the non-blank lines of a stream; a read error ends the stream after one `Err`.
pub(crate) struct Lines {
    stream: ByteStream,
    source: Arc<str>,
    number: u64,
    byte: u64,
    done: bool,
}

impl Lines {
    pub fn new(stream: ByteStream, source: Arc<str>) -> Self {
        Lines {
            stream,
            source,
            number: 0,
            byte: 0,
            done: false,
        }
    }

    /// The position of a line, for records and errors.
    pub fn position_of(&self, line: &Line) -> Position {
        Position {
            source: self.source.clone(),
            line: Some(line.number),
            byte: Some(line.byte),
            element: None,
        }
    }
}

/// What a line parser gives: the comment, its export fields and its skip reason, or the id (if
/// it could be read) and the reason the line is unusable.
pub(crate) type Parsed =
    Result<(Comment<'static>, ExportFields, Option<Skip>), (Option<String>, String)>;

impl Lines {
    /// Reads the next non-blank line and turns it into a record with `parse` (given the line's
    /// bytes and number), attaching the line's position to the record or the error.
    pub fn next_record(
        &mut self,
        parse: impl FnOnce(&[u8], u64) -> Parsed,
    ) -> Option<RecordResult> {
        let line = match self.next()? {
            Ok(line) => line,
            Err((position, reason)) => {
                return Some(Err(RecordError {
                    position,
                    id: None,
                    reason,
                }));
            }
        };
        let position = self.position_of(&line);
        Some(match parse(&line.bytes, line.number) {
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
}

impl Iterator for Lines {
    type Item = Result<Line, (Position, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let mut bytes = Vec::new();
            let start = self.byte;
            match self.stream.read_until(b'\n', &mut bytes) {
                Ok(0) => self.done = true,
                Ok(n) => {
                    self.number += 1;
                    self.byte += n as u64;
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    if self.number == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                        bytes.drain(..3);
                    }
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(Ok(Line {
                        number: self.number,
                        byte: start,
                        bytes,
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    let position = Position {
                        source: self.source.clone(),
                        line: Some(self.number + 1),
                        byte: Some(start),
                        element: None,
                    };
                    return Some(Err((position, format!("read error: {e}"))));
                }
            }
        }
        None
    }
}
