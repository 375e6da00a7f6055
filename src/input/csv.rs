//! CSV (or TSV) with a header row; columns are found by the names in [`FieldMap`].
//!
//! The delimiter is `,` unless the header line has tabs or semicolons and no commas. Quoted
//! fields may span lines. Rows may be shorter than the header (missing cells are empty).

use super::{ByteStream, ExportFields, FieldMap, Position, Record, RecordError, RecordResult};
use crate::comment::{Comment, Post};
use crate::label::Label;
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Column positions of the mapped fields.
struct Columns {
    id: Option<usize>,
    text: Option<usize>,
    post_id: Option<usize>,
    post_title: Option<usize>,
    post_body: Option<usize>,
    parent_id: Option<usize>,
    author: Option<usize>,
    label: Option<usize>,
    split: Option<usize>,
}

fn delimiter(stream: &mut ByteStream) -> u8 {
    let head = stream.fill_buf().unwrap_or(&[]);
    let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    if count(b',') == 0 && count(b'\t') > 0 {
        b'\t'
    } else if count(b',') == 0 && count(b';') > 0 {
        b';'
    } else {
        b','
    }
}

/// Reads CSV records.
pub(crate) fn read(
    mut stream: ByteStream,
    source: Arc<str>,
    names: FieldMap,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    let delimiter = delimiter(&mut stream);
    let quotes = Arc::new(AtomicU64::new(0));
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(QuoteCounter {
            inner: stream,
            quotes: quotes.clone(),
        });
    let position = move |p: Option<&::csv::Position>| Position {
        source: source.clone(),
        line: p.map(|p| p.line()),
        byte: p.map(|p| p.byte()),
        element: None,
    };
    let header = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let error = RecordError {
                position: position(e.position()),
                id: None,
                reason: format!("cannot read the header row: {e}"),
            };
            return Box::new(std::iter::once(Err(error)));
        }
    };
    let find = |name: &str| {
        let name = name.as_bytes();
        header.iter().position(|h| h == name).or_else(|| {
            header
                .iter()
                .position(|h| h.trim_ascii().eq_ignore_ascii_case(name))
        })
    };
    let columns = Columns {
        id: find(&names.id),
        text: find(&names.text),
        post_id: find(&names.post_id),
        post_title: find(&names.post_title),
        post_body: find(&names.post_body),
        parent_id: find(&names.parent_id),
        author: find(&names.author),
        label: find(&names.label),
        split: find(&names.split),
    };
    let header_names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let make = move |row: &::csv::ByteRecord, pos: Position| -> RecordResult {
        let line = pos.line.unwrap_or(0);
        parse_row(row, &columns, &names, &header_names, line)
            .map(|(comment, export)| Record {
                comment,
                position: pos.clone(),
                export,
                skip: None,
            })
            .map_err(|(id, reason)| RecordError {
                position: pos,
                id,
                reason,
            })
    };
    // Each row is held back until the next one is read: if the file ends inside a quoted
    // field (an odd number of quotes in all), the last row swallowed the rest of the file, and
    // is split back into its lines instead.
    let mut row = ::csv::ByteRecord::new();
    let mut held: Option<(::csv::ByteRecord, Position)> = None;
    let mut queue: std::collections::VecDeque<RecordResult> = Default::default();
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        loop {
            if let Some(item) = queue.pop_front() {
                return Some(item);
            }
            if done {
                return None;
            }
            match reader.read_byte_record(&mut row) {
                Ok(true) => {
                    let pos = position(row.position());
                    if let Some((prev, prev_pos)) = held.replace((row.clone(), pos)) {
                        return Some(make(&prev, prev_pos));
                    }
                }
                Ok(false) => {
                    done = true;
                    if let Some((last, pos)) = held.take() {
                        if quotes.load(Ordering::Relaxed) % 2 == 1 {
                            queue.extend(split_unclosed(&last, pos, delimiter, &make));
                        } else {
                            queue.push_back(make(&last, pos));
                        }
                    }
                }
                Err(e) => {
                    // A read error (I/O, bad gzip) ends the stream after one error item.
                    done = true;
                    if let Some((last, pos)) = held.take() {
                        queue.push_back(make(&last, pos));
                    }
                    queue.push_back(Err(RecordError {
                        position: position(e.position()),
                        id: None,
                        reason: format!("cannot read CSV: {e}"),
                    }));
                }
            }
        }
    }))
}

/// Counts the `"` bytes read through it, to tell at the end whether a quote was left open.
struct QuoteCounter {
    inner: ByteStream,
    quotes: Arc<AtomicU64>,
}

impl std::io::Read for QuoteCounter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        self.quotes.fetch_add(q, Ordering::Relaxed);
        Ok(n)
    }
}

/// The last row of a file that ends inside a quoted field: the row holds its own first line
/// and then every later line of the file. Gives an error for the row with the unclosed quote,
/// then the later lines as rows of their own (read without quoting, one row per line).
fn split_unclosed(
    row: &::csv::ByteRecord,
    pos: Position,
    delimiter: u8,
    make: &impl Fn(&::csv::ByteRecord, Position) -> RecordResult,
) -> Vec<RecordResult> {
    let line = pos.line.unwrap_or(0);
    let swallowed = row.iter().next_back().unwrap_or(&[]);
    let rest = match swallowed.iter().position(|&b| b == b'\n') {
        Some(i) => &swallowed[i + 1..],
        None => &[][..],
    };
    let mut out = vec![Err(RecordError {
        position: pos.clone(),
        id: None,
        reason: "unclosed quote: the quoted field runs to the end of the file; the lines after this one are read as rows of their own".into(),
    })];
    let mut rest_reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .quoting(false)
        .from_reader(rest);
    let mut rest_row = ::csv::ByteRecord::new();
    let mut k = 0;
    while let Ok(true) = rest_reader.read_byte_record(&mut rest_row) {
        k += 1;
        let at = Position {
            source: pos.source.clone(),
            line: Some(line + k),
            byte: None,
            element: None,
        };
        out.push(make(&rest_row, at));
    }
    out
}

fn parse_row(
    row: &::csv::ByteRecord,
    columns: &Columns,
    names: &FieldMap,
    header: &[String],
    line: u64,
) -> Result<(Comment<'static>, ExportFields), (Option<String>, String)> {
    let cell = |column: Option<usize>, name: &str| -> Result<Option<String>, String> {
        match column.and_then(|c| row.get(c)) {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes.to_vec()).map(Some).map_err(|e| {
                format!(
                    "column `{name}`: invalid UTF-8 at byte {}",
                    e.utf8_error().valid_up_to()
                )
            }),
        }
    };
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let id = non_empty(cell(columns.id, &names.id).map_err(|e| (None, e))?);
    let err = |reason: String| (id.clone(), reason);
    if columns.text.is_none() {
        return Err(err(format!(
            "no column named `{}` in the header (columns: {})",
            names.text,
            header.join(", ")
        )));
    }
    let text = cell(columns.text, &names.text)
        .map_err(err)?
        .unwrap_or_default();
    let label = non_empty(cell(columns.label, &names.label).map_err(err)?)
        .map(|l| {
            l.parse::<Label>()
                .map_err(|e| err(format!("column `{}`: {e}", names.label)))
        })
        .transpose()?;
    let split = non_empty(cell(columns.split, &names.split).map_err(err)?);
    let post_id = non_empty(cell(columns.post_id, &names.post_id).map_err(err)?);
    let post_title = non_empty(cell(columns.post_title, &names.post_title).map_err(err)?);
    let post_body = non_empty(cell(columns.post_body, &names.post_body).map_err(err)?);
    let parent_id = non_empty(cell(columns.parent_id, &names.parent_id).map_err(err)?);
    let author = non_empty(cell(columns.author, &names.author).map_err(err)?);
    let post = (post_id.is_some() || post_title.is_some() || post_body.is_some()).then(|| {
        Arc::new(Post {
            id: post_id.map(Into::into),
            title: post_title.map(Into::into),
            body: post_body.map(Into::into),
        })
    });
    Ok((
        Comment {
            id: id.unwrap_or_else(|| format!("line-{line}")).into(),
            text: text.into(),
            post,
            parent_id: parent_id.map(Into::into),
            author: author.map(Into::into),
        },
        ExportFields {
            label,
            split,
            ..ExportFields::default()
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(data: &str) -> Vec<RecordResult> {
        let stream: ByteStream = Box::new(std::io::Cursor::new(data.as_bytes().to_vec()));
        read(stream, "t.csv".into(), FieldMap::default()).collect()
    }

    #[test]
    fn reads_quoted_multiline_and_short_rows() {
        let r = records(
            "id,text,post_id,label\n1,\"Hello, \"\"world\"\"\nsecond line\",p1,substantive\n2,short\n",
        );
        assert_eq!(r.len(), 2);
        let first = r[0].as_ref().unwrap();
        assert_eq!(first.comment.text, "Hello, \"world\"\nsecond line");
        assert_eq!(first.comment.post_id(), Some("p1"));
        assert_eq!(first.export.label, Some(Label::Substantive));
        assert_eq!(first.position.line, Some(2));
        let second = r[1].as_ref().unwrap();
        assert_eq!(second.comment.text, "short");
        assert_eq!(second.position.line, Some(4));
    }

    #[test]
    fn tab_and_semicolon_delimiters() {
        let r = records("id\ttext\n7\tx, y\n");
        assert_eq!(r[0].as_ref().unwrap().comment.text, "x, y");
        let r = records("id;text\n7;a\n");
        assert_eq!(r[0].as_ref().unwrap().comment.id, "7");
    }

    #[test]
    fn bad_rows_become_errors_with_positions() {
        let r = records("id,comment\n1,a\n2,b\n");
        assert_eq!(r.len(), 2);
        let e = r[1].as_ref().unwrap_err();
        assert!(e.reason.contains("no column named `text`"), "{e}");
        assert_eq!(e.id.as_deref(), Some("2"));
        let mut bad = b"id,text\n1,ok\n2,bad \xff byte\n".to_vec();
        bad.extend_from_slice(b"3,fine\n");
        let stream: ByteStream = Box::new(std::io::Cursor::new(bad));
        let r: Vec<_> = read(stream, "t.csv".into(), FieldMap::default()).collect();
        assert_eq!(r.len(), 3);
        assert!(r[1].as_ref().unwrap_err().reason.contains("invalid UTF-8"));
        assert!(r[2].is_ok());
        assert!(records("").is_empty());
    }
}
