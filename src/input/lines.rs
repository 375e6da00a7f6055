//! Line-by-line reading for the NDJSON formats, with line numbers and byte offsets.

use super::{ByteStream, ExportFields, Position, Record, RecordError, RecordResult, Skip};
use crate::comment::Comment;
use std::io::BufRead;
use std::sync::Arc;

/// Where one non-blank line starts; its bytes are in [`Lines`]' buffer.
struct Line {
    number: u64,
    byte: u64,
}

/// Yields the non-blank lines of a stream; a read error ends the stream after one `Err`.
pub(crate) struct Lines {
    stream: ByteStream,
    source: Arc<str>,
    number: u64,
    byte: u64,
    done: bool,
    /// The last line read, without its line end (reused from line to line).
    buffer: Vec<u8>,
    /// Where the line starts in `buffer` (3 after a byte-order mark).
    start: usize,
}

impl Lines {
    pub fn new(stream: ByteStream, source: Arc<str>) -> Self {
        Lines {
            stream,
            source,
            number: 0,
            byte: 0,
            done: false,
            buffer: Vec::new(),
            start: 0,
        }
    }

    /// The position of a line, for records and errors.
    fn position_of(&self, line: &Line) -> Position {
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
        mut parse: impl FnMut(&[u8], u64) -> Parsed,
    ) -> Option<RecordResult> {
        self.next_record_among(|bytes, number| Some(parse(bytes, number)))
    }

    /// Like [`Lines::next_record`], for streams that hold lines other than comments: `parse`
    /// returns `None` for a line that is not a comment (it may keep what it needs of it), and
    /// reading goes on with the next line.
    pub fn next_record_among(
        &mut self,
        mut parse: impl FnMut(&[u8], u64) -> Option<Parsed>,
    ) -> Option<RecordResult> {
        loop {
            let line = match self.next_line()? {
                Ok(line) => line,
                Err((position, reason)) => {
                    return Some(Err(RecordError {
                        position,
                        id: None,
                        reason,
                    }));
                }
            };
            let Some(parsed) = parse(&self.buffer[self.start..], line.number) else {
                continue;
            };
            let position = self.position_of(&line);
            return Some(match parsed {
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
            });
        }
    }
}

/// The longest line read, in bytes: a longer line is skipped (without being held in memory)
/// and reported as an error for its line.
pub(crate) const MAX_LINE: usize = 64 << 20;

/// The largest line buffer [`Lines`] keeps from one line to the next.
const KEPT_BUFFER: usize = 1 << 20;

/// Reads one line (up to and including `\n`, or to the end of the input) into `out`, keeping
/// at most `limit` bytes of it. Returns the line's full length in bytes (0 at the end of the
/// input) and whether it was longer than `limit`.
pub(crate) fn read_line_capped(
    stream: &mut dyn BufRead,
    out: &mut Vec<u8>,
    limit: usize,
    cr_ends_lines: bool,
) -> std::io::Result<(u64, bool)> {
    let mut total = 0u64;
    let mut over = false;
    loop {
        let chunk = match stream.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((total, over));
        }
        let found = if cr_ends_lines {
            memchr::memchr2(b'\n', b'\r', chunk)
        } else {
            memchr::memchr(b'\n', chunk)
        };
        // (bytes to take, whether they end the line, whether a `\n` may still follow a `\r`)
        let (take, done, cr_at_end) = match found {
            Some(i) if chunk[i] == b'\n' => (i + 1, true, false),
            Some(i) => match chunk.get(i + 1) {
                Some(b'\n') => (i + 2, true, false),
                Some(_) => (i + 1, true, false),
                None => (i + 1, true, true),
            },
            None => (chunk.len(), false, false),
        };
        let room = limit.saturating_sub(out.len());
        if take > room {
            over = true;
        }
        if !over {
            out.extend_from_slice(&chunk[..take]);
        }
        stream.consume(take);
        total += take as u64;
        if cr_at_end {
            // The `\r` was the last byte buffered: a `\r\n` line end may straddle the buffer.
            let next = loop {
                match stream.fill_buf() {
                    Ok(chunk) => break chunk.first().copied(),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if next == Some(b'\n') {
                if !over && out.len() < limit {
                    out.push(b'\n');
                }
                stream.consume(1);
                total += 1;
            }
        }
        if done {
            return Ok((total, over));
        }
    }
}

/// Why a line that is not blank holds no record, if it is one of the lines no reader can
/// use: only NUL bytes (padding left by an interrupted write or a preallocated file).
pub(crate) fn unusable(bytes: &[u8]) -> Option<String> {
    (bytes.contains(&0) && bytes.iter().all(|&b| b == 0 || b.is_ascii_whitespace()))
        .then(|| "the line holds only NUL bytes (padding, not a comment)".to_owned())
}

impl Lines {
    /// Reads the next non-blank line into `buffer[start..]`, or says why it is unusable.
    fn next_line(&mut self) -> Option<Result<Line, (Position, String)>> {
        while !self.done {
            // A rare long line should not hold its memory for the rest of the input.
            if self.buffer.capacity() > KEPT_BUFFER {
                self.buffer = Vec::new();
            }
            let bytes = &mut self.buffer;
            bytes.clear();
            self.start = 0;
            let start = self.byte;
            match read_line_capped(&mut self.stream, bytes, MAX_LINE, false) {
                Ok((0, _)) => self.done = true,
                Ok((n, over)) => {
                    self.number += 1;
                    self.byte += n;
                    let position = Position {
                        source: self.source.clone(),
                        line: Some(self.number),
                        byte: Some(start),
                        element: None,
                    };
                    if over {
                        let reason = format!(
                            "the line is {n} bytes long, more than the limit of {} MiB for one record; skipped",
                            MAX_LINE >> 20
                        );
                        return Some(Err((position, reason)));
                    }
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    if self.number == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                        self.start = 3;
                    }
                    let line = &bytes[self.start..];
                    if let Some(reason) = unusable(line) {
                        return Some(Err((position, reason)));
                    }
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(Ok(Line {
                        number: self.number,
                        byte: start,
                    }));
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    /// Lines of `data` read through a buffer of `capacity` bytes.
    fn split(data: &[u8], capacity: usize, cr_ends_lines: bool) -> Vec<Vec<u8>> {
        let mut stream = BufReader::with_capacity(capacity, data);
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            let (len, over) = read_line_capped(&mut stream, &mut line, 1 << 20, cr_ends_lines)
                .expect("reads from memory");
            if len == 0 {
                return lines;
            }
            assert!(!over);
            assert_eq!(len as usize, line.len());
            lines.push(line);
        }
    }

    #[test]
    fn line_ends_are_found_whatever_the_buffer_size() {
        let data = b"a\r\nbb\rccc\n\r\nd";
        for capacity in 1..=data.len() + 1 {
            assert_eq!(
                split(data, capacity, true),
                [&b"a\r\n"[..], b"bb\r", b"ccc\n", b"\r\n", b"d"],
                "capacity {capacity}"
            );
            assert_eq!(
                split(data, capacity, false),
                [&b"a\r\n"[..], b"bb\rccc\n", b"\r\n", b"d"],
                "capacity {capacity}"
            );
        }
    }
}
