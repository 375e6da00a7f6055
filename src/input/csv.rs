//! CSV (or TSV) with a header row; columns are found by the names in [`FieldMap`].
//!
//! The delimiter is `,` unless the header line has tabs or semicolons and no commas, or the
//! file starts with Excel's `sep=;` line (any one-character separator), which then names it.
//! A UTF-8 byte-order mark is skipped. Header names match the configured names (and their
//! aliases) ignoring case and treating spaces, `-` and `_` alike: `Comment ID` is `comment_id`.
//! Quoted fields may span lines. Rows may be shorter than the header (missing cells are empty),
//! but not shorter than their text column: such a row is an error record.
//! Blank lines are skipped; `\n`, `\r\n` and a lone `\r` (old Mac spreadsheets) end a row,
//! and positions are lines of the file either way.
//!
//! # Bad input
//!
//! - A quote inside an unquoted field is text, and so is text after the closing quote of a
//!   field on the same line (`"a" b` reads `a b`), as the `csv` crate reads them.
//! - A quoted field that runs past its line and then never closes (the file ends first), or
//!   closes with text after its closing quote, makes one error record for the row's first
//!   line; the lines after it are read again as rows, so an open quote never swallows rows.
//! - A row with more fields than the header has is one error record: an unquoted delimiter in
//!   a cell has shifted its fields, and reading it would put text in the wrong columns. Two
//!   layouts told from the first two data rows are read as they are meant: rows one field wider
//!   with an empty last field (every row ends with a delimiter), and rows one field wider
//!   with a row name first (R's `write.table`, whose header leaves that column out).
//! - A header with no `,`, tab or `;` is a file of one column (tab-separated when the file is
//!   named `.tsv`): its rows are not split.
//! - A quote that closes on a later line makes a field that spans lines, as RFC 4180 reads it,
//!   even when it was meant as an inch mark: `"` alone can't tell the two apart.
//! - A line longer than 64 MiB (or a row over several lines longer than that) is one error
//!   record, skipped without being held in memory; a line of only NUL bytes is one error
//!   record; a read error (a truncated gzip or zstd file) ends the stream with one.

use super::lines::{MAX_LINE, read_line_capped, unusable};
use super::{ByteStream, ExportFields, FieldMap, Position, Record, RecordError, RecordResult};
use crate::comment::{Comment, Post};
use crate::label::Label;
use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::Arc;

/// Column positions of the mapped fields.
struct Columns {
    /// The error when no text column is there, naming what was looked for.
    text_names: String,
    id: Option<usize>,
    text: Option<usize>,
    post_id: Option<usize>,
    post_title: Option<usize>,
    post_body: Option<usize>,
    parent_id: Option<usize>,
    author: Option<usize>,
    label: Option<usize>,
    split: Option<usize>,
    author_url: Option<usize>,
}

/// Skips a UTF-8 byte-order mark at the start of `stream`; returns how many bytes it skipped.
fn skip_byte_order_mark(stream: &mut ByteStream) -> u64 {
    const MARK: &[u8] = b"\xEF\xBB\xBF";
    match stream.fill_buf() {
        Ok(head) if head.starts_with(MARK) => {
            stream.consume(MARK.len());
            MARK.len() as u64
        }
        _ => 0,
    }
}

/// The delimiter, told from the first line (ended by `\n` or a lone `\r`), and whether that
/// line is Excel's `sep=X` line, which names it and is no header.
fn delimiter(stream: &mut ByteStream, source: &str) -> (u8, bool) {
    let head = stream.fill_buf().unwrap_or(&[]);
    let first = head
        .split(|&b| b == b'\n' || b == b'\r')
        .next()
        .unwrap_or(head);
    if let [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d] = first
        && !d.is_ascii_alphanumeric()
        && !matches!(d, b'"' | b' ')
    {
        return (*d, true);
    }
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    let tsv_name = {
        let lower = source.to_ascii_lowercase();
        let lower = lower
            .strip_suffix(".gz")
            .or_else(|| lower.strip_suffix(".zst"))
            .unwrap_or(&lower);
        lower.ends_with(".tsv") || lower.ends_with(".tab")
    };
    let delimiter = if count(b',') == 0 && count(b'\t') > 0 {
        b'\t'
    } else if count(b',') == 0 && count(b';') > 0 {
        b';'
    } else if count(b',') > 0 {
        b','
    } else if tsv_name {
        b'\t'
    } else {
        // A header of one column: rows are not split (a comma in a text is text).
        NO_DELIMITER
    };
    (delimiter, false)
}

/// The delimiter of a file of one column: a byte no usable line holds (a line with NUL bytes
/// is an error record), so no row is ever split.
const NO_DELIMITER: u8 = 0;

/// How many rows are read ahead, at most, to find the two data rows that tell the [`Layout`]
/// (rows that are errors come before them in a badly broken file).
const LAYOUT_LOOKAHEAD: usize = 64;

/// How data rows relate to the header, told from the first two data rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// As wide as the header.
    Plain,
    /// One field wider, the last one empty: every row ends with a delimiter.
    TrailingDelimiter,
    /// One field wider, the first one a row name (R's `write.table`, whose header leaves the
    /// row names' column out; pandas reads the first column as the index).
    RowNames,
}

impl Layout {
    /// The layout one data row suggests.
    fn of(row: &[Vec<u8>], width: usize) -> Self {
        match row {
            [.., last] if row.len() == width + 1 && last.is_empty() => Layout::TrailingDelimiter,
            _ if row.len() == width + 1 => Layout::RowNames,
            _ => Layout::Plain,
        }
    }

    /// `fields` as wide as the header, where this layout explains the difference.
    fn fit(self, fields: &mut Vec<Vec<u8>>, width: usize) {
        if fields.len() != width + 1 {
            return;
        }
        match self {
            Layout::TrailingDelimiter if fields.last().is_some_and(Vec::is_empty) => {
                fields.pop();
            }
            Layout::RowNames => {
                fields.remove(0);
            }
            _ => {}
        }
    }
}

/// A header or field name as it is matched: trimmed, lower-case, with spaces and `-` read as
/// `_` (`Comment ID`, `comment-id` and `comment_id` are one name).
fn match_key(name: &[u8]) -> Vec<u8> {
    name.trim_ascii()
        .iter()
        .map(|&b| match b {
            b' ' | b'-' => b'_',
            b => b.to_ascii_lowercase(),
        })
        .collect()
}

/// One physical line of the input.
struct RawLine {
    number: u64,
    byte: u64,
    /// The line with its terminator.
    bytes: Vec<u8>,
    /// Its length in bytes, when longer than [`MAX_LINE`] (then `bytes` is empty).
    too_long: Option<u64>,
}

/// One row, or why the lines starting at `number` hold no row.
enum Row {
    Fields(Vec<Vec<u8>>),
    Error(String),
}

/// Splits the input into rows, line by line, so that positions are the lines of the file and
/// a quote left open can't swallow the rows after it: when a quoted field runs past its line
/// and never closes properly (the file ends first, or its closing quote is followed by text),
/// the row is an error for its first line and the later lines are read again as rows.
struct Rows {
    stream: ByteStream,
    source: Arc<str>,
    delimiter: u8,
    /// Lines given back to be read again, in order.
    pending: VecDeque<RawLine>,
    number: u64,
    byte: u64,
    /// The read error that ends the input, once met and until reported.
    failed: Option<(u64, u64, String)>,
    /// Whether a read error ended the input.
    broken: bool,
}

impl Rows {
    fn line(&mut self) -> Option<RawLine> {
        if let Some(line) = self.pending.pop_front() {
            return Some(line);
        }
        if self.broken {
            return None;
        }
        let mut bytes = Vec::new();
        match read_line_capped(&mut self.stream, &mut bytes, MAX_LINE, true) {
            Ok((0, _)) => None,
            Ok((n, over)) => {
                self.number += 1;
                let line = RawLine {
                    number: self.number,
                    byte: self.byte,
                    bytes: if over { Vec::new() } else { bytes },
                    too_long: over.then_some(n),
                };
                self.byte += n;
                Some(line)
            }
            Err(e) => {
                self.broken = true;
                self.failed = Some((self.number + 1, self.byte, format!("cannot read CSV: {e}")));
                None
            }
        }
    }

    fn position(&self, line: u64, byte: u64) -> Position {
        Position {
            source: self.source.clone(),
            line: Some(line),
            byte: Some(byte),
            element: None,
        }
    }

    /// The next row and the position of its first line; `None` at the end of the input.
    fn next_row(&mut self) -> Option<(Row, Position)> {
        let first = loop {
            let line = self.line()?;
            let body = line.bytes.strip_suffix(b"\n").unwrap_or(&line.bytes);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            if line.too_long.is_some() || !body.iter().all(u8::is_ascii_whitespace) {
                break line;
            }
        };
        let position = self.position(first.number, first.byte);
        if let Some(n) = first.too_long {
            let reason = format!(
                "the line is {n} bytes long, more than the limit of {} MiB for one record; skipped",
                MAX_LINE >> 20
            );
            return Some((Row::Error(reason), position));
        }
        if let Some(reason) = unusable(&first.bytes) {
            return Some((Row::Error(reason), position));
        }
        let mut parser = RowParser::new(self.delimiter);
        let mut more: Vec<RawLine> = Vec::new();
        let mut size = first.bytes.len();
        let mut outcome = parser.feed(&first.bytes);
        while outcome == Fed::InQuotes {
            match self.line() {
                Some(line) if line.too_long.is_none() && size + line.bytes.len() <= MAX_LINE => {
                    size += line.bytes.len();
                    outcome = parser.feed(&line.bytes);
                    more.push(line);
                }
                Some(line) => {
                    more.push(line);
                    outcome = Fed::Malformed;
                }
                None => {
                    outcome = Fed::Unclosed;
                }
            }
        }
        let reason = match outcome {
            Fed::Done => return Some((Row::Fields(parser.finish()), position)),
            Fed::Unclosed if self.broken => {
                // The input broke off inside the row: the read error stands for it.
                return None;
            }
            Fed::Unclosed => {
                "unclosed quote: the quoted field that starts on this line is never closed; \
                 the lines after it are read as rows of their own"
                    .to_owned()
            }
            _ => format!(
                "unclosed quote: the quoted field that starts on this line runs on to line {} \
                 and does not end there; the lines after this one are read as rows of their own",
                more.last().map_or(first.number, |l| l.number)
            ),
        };
        for line in more.into_iter().rev() {
            self.pending.push_front(line);
        }
        Some((Row::Error(reason), position))
    }
}

/// What a [`RowParser`] made of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fed {
    /// The row ended with the line.
    Done,
    /// The line ended inside a quoted field.
    InQuotes,
    /// A quoted field that spans lines closed with text after its closing quote.
    Malformed,
    /// The input ended inside a quoted field.
    Unclosed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote met inside a quoted field: an escaped quote or the end of the field.
    QuoteInQuoted,
}

/// Splits one row into fields, a line at a time. Quotes follow RFC 4180, leniently where it
/// harms nothing: a quote inside an unquoted field is kept as text, and text after the closing
/// quote of a field on the same line continues the field (as the `csv` crate reads them).
struct RowParser {
    delimiter: u8,
    state: State,
    fields: Vec<Vec<u8>>,
    field: Vec<u8>,
    /// Whether the current quoted field has crossed a line end.
    spans_lines: bool,
}

impl RowParser {
    fn new(delimiter: u8) -> Self {
        RowParser {
            delimiter,
            state: State::FieldStart,
            fields: Vec::new(),
            field: Vec::new(),
            spans_lines: false,
        }
    }

    fn feed(&mut self, line: &[u8]) -> Fed {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        // The line end (`\n` or `\r\n`) ends the row, or is text when a quoted field goes on.
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        for &b in body {
            match self.state {
                State::FieldStart if b == b'"' => self.state = State::Quoted,
                State::FieldStart | State::Unquoted if b == self.delimiter => self.end_field(),
                State::FieldStart | State::Unquoted => {
                    self.field.push(b);
                    self.state = State::Unquoted;
                }
                State::Quoted if b == b'"' => self.state = State::QuoteInQuoted,
                State::Quoted => self.field.push(b),
                State::QuoteInQuoted if b == b'"' => {
                    self.field.push(b'"');
                    self.state = State::Quoted;
                }
                State::QuoteInQuoted if b == self.delimiter => self.end_field(),
                State::QuoteInQuoted if self.spans_lines => return Fed::Malformed,
                State::QuoteInQuoted => {
                    self.field.push(b);
                    self.state = State::Unquoted;
                }
            }
        }
        if self.state == State::Quoted {
            // The line end belongs to the field (as written: `\n` or `\r\n`).
            self.field.extend_from_slice(&line[body.len()..]);
            self.spans_lines = true;
            return Fed::InQuotes;
        }
        Fed::Done
    }

    fn end_field(&mut self) {
        self.fields.push(std::mem::take(&mut self.field));
        self.state = State::FieldStart;
        self.spans_lines = false;
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        self.fields.push(std::mem::take(&mut self.field));
        self.fields
    }
}

/// Reads CSV records.
pub(crate) fn read(
    mut stream: ByteStream,
    source: Arc<str>,
    names: FieldMap,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    let mark = skip_byte_order_mark(&mut stream);
    let (delimiter, sep_line) = delimiter(&mut stream, &source);
    let mut rows = Rows {
        stream,
        source,
        delimiter,
        pending: VecDeque::new(),
        number: 0,
        byte: mark,
        failed: None,
        broken: false,
    };
    if sep_line {
        // Excel's `sep=;` line: not a row. (`line` gives `None` only at the end of input.)
        let _ = rows.line();
    }
    let header =
        match rows.next_row() {
            None => {
                return Box::new(rows.failed.take().into_iter().map(
                    move |(line, byte, reason)| {
                        Err(RecordError {
                            position: Position {
                                source: rows.source.clone(),
                                line: Some(line),
                                byte: Some(byte),
                                element: None,
                            },
                            id: None,
                            reason,
                        })
                    },
                ));
            }
            Some((Row::Fields(fields), _)) => {
                let mut header = ::csv::ByteRecord::new();
                for f in &fields {
                    header.push_field(f);
                }
                header
            }
            Some((Row::Error(reason), position)) => {
                let error = RecordError {
                    position,
                    id: None,
                    reason: format!("cannot read the header row: {reason}"),
                };
                return Box::new(std::iter::once(Err(error)));
            }
        };
    let keys: Vec<Vec<u8>> = header.iter().map(match_key).collect();
    let find = |name: &str| {
        let exact = name.as_bytes();
        let key = match_key(exact);
        header
            .iter()
            .position(|h| h == exact)
            .or_else(|| keys.iter().position(|k| *k == key))
    };
    // Each field's column: the first of its names (see `FieldMap::candidates`) in the header.
    // `names` becomes the header's own spelling of each name found, for error messages.
    let candidates = names.candidates();
    let found = candidates
        .each_ref()
        .map(|names| names.iter().find_map(|name| find(name)));
    let [
        id,
        text,
        post_id,
        post_title,
        post_body,
        parent_id,
        author,
        label,
        split,
        _,
        author_url,
    ] = found;
    let columns = Columns {
        text_names: match candidates[1].as_slice() {
            [name] => format!("no column named `{name}` in the header"),
            names => format!(
                "no text column in the header (looked for {})",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        id,
        text,
        post_id,
        post_title,
        post_body,
        parent_id,
        author,
        label,
        split,
        author_url,
    };
    let spelled = |column: Option<usize>, configured: &String| match column {
        Some(c) => String::from_utf8_lossy(header[c].trim_ascii()).into_owned(),
        None => configured.clone(),
    };
    let names = FieldMap {
        id: spelled(id, &names.id),
        text: spelled(text, &names.text),
        post_id: spelled(post_id, &names.post_id),
        post_title: spelled(post_title, &names.post_title),
        post_body: spelled(post_body, &names.post_body),
        parent_id: spelled(parent_id, &names.parent_id),
        author: spelled(author, &names.author),
        label: spelled(label, &names.label),
        split: spelled(split, &names.split),
        source: names.source,
        author_url: spelled(author_url, &names.author_url),
    };
    let header_names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let width = header.len();
    let id_column = id;
    let has_text = text.is_some();
    let mut layout: Option<Layout> = None;
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
    let mut record = ::csv::ByteRecord::new();
    // Rows read ahead to tell the layout, in order.
    let mut ahead: VecDeque<(Row, Position)> = VecDeque::new();
    Box::new(std::iter::from_fn(move || {
        if layout.is_none() {
            // The first two data rows tell the layout (one row alone can't tell a shifted row
            // from a layout).
            // Error rows before them are kept too, up to a bound.
            let mut data_rows = 0;
            while data_rows < 2 && ahead.len() < LAYOUT_LOOKAHEAD {
                let Some(row) = rows.next_row() else { break };
                data_rows += usize::from(matches!(row.0, Row::Fields(_)));
                ahead.push_back(row);
            }
            let mut data = ahead.iter().filter_map(|(r, _)| match r {
                Row::Fields(f) => Some(f.as_slice()),
                Row::Error(_) => None,
            });
            layout = Some(match (data.next(), data.next()) {
                (Some(a), Some(b)) if Layout::of(a, width) == Layout::of(b, width) => {
                    Layout::of(a, width)
                }
                _ => Layout::Plain,
            });
        }
        let next = match ahead.pop_front() {
            Some(row) => Some(row),
            None => rows.next_row(),
        };
        match next {
            Some((Row::Fields(mut fields), position)) => {
                if let Some(layout) = layout {
                    layout.fit(&mut fields, width);
                }
                // (Without a text column every row is that error, which says more.)
                if let Some(reason) = extra_fields(&fields, width, delimiter).filter(|_| has_text) {
                    // The id, when its column comes before the shift, names the row.
                    let id = id_column
                        .and_then(|c| fields.get(c))
                        .and_then(|f| std::str::from_utf8(f).ok())
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned);
                    return Some(Err(RecordError {
                        position,
                        id,
                        reason,
                    }));
                }
                record.clear();
                for f in &fields {
                    record.push_field(f);
                }
                Some(make(&record, position))
            }
            Some((Row::Error(reason), position)) => Some(Err(RecordError {
                position,
                id: None,
                reason,
            })),
            // A read error (I/O, bad gzip) ends the stream after one error item.
            None => rows.failed.take().map(|(line, byte, reason)| {
                Err(RecordError {
                    position: rows.position(line, byte),
                    id: None,
                    reason,
                })
            }),
        }
    }))
}

/// Why a row of `fields` can't be read against a header of `width` columns: it has more
/// fields than that, and the file's layout (see [`Layout`]) does not explain them.
fn extra_fields(fields: &[Vec<u8>], width: usize, delimiter: u8) -> Option<String> {
    let used = fields.len();
    (used > width).then(|| {
        format!(
            "the row has {used} fields but the header has {width}: a {} inside an unquoted \
             field (quote fields that hold one) would put text in the wrong columns",
            match delimiter {
                b'\t' => "tab".to_owned(),
                d => format!("`{}`", char::from(d)),
            }
        )
    })
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
            "{} (columns: {})",
            columns.text_names,
            header.join(", ")
        )));
    }
    let Some(text) = cell(columns.text, &names.text).map_err(err)? else {
        // A row that ends before its text cell: a line cut off, or the tail of a row that a
        // broken quote split. An empty cell is a comment; a missing one is not.
        return Err(err(format!(
            "the row has {} field{} and ends before column `{}` (field {}), the text",
            row.len(),
            if row.len() == 1 { "" } else { "s" },
            names.text,
            columns.text.map_or(0, |c| c + 1)
        )));
    };
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
    // `0` is how WordPress (and many databases) say "no parent", as in JSON input.
    let parent_id = non_empty(cell(columns.parent_id, &names.parent_id).map_err(err)?)
        .filter(|p| p.trim() != "0");
    let author = non_empty(cell(columns.author, &names.author).map_err(err)?);
    // A header with the column says whether each row gave a website, even an empty cell.
    let author_url = match columns.author_url {
        Some(_) => cell(columns.author_url, &names.author_url)
            .map_err(err)?
            .map(|u| u.trim().to_owned()),
        None => None,
    };
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
            author_url: author_url.map(Into::into),
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
    fn an_author_url_column_gives_every_row_a_value() {
        let r = records("id,text,author_url\n1,hi,http://a.example\n2,hello,\n");
        let url = |i: usize| r[i].as_ref().unwrap().comment.author_url.clone();
        assert_eq!(url(0).as_deref(), Some("http://a.example"));
        assert_eq!(url(1).as_deref(), Some(""));
        let r = records("id,text\n1,hi\n");
        assert_eq!(r[0].as_ref().unwrap().comment.author_url, None);
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
    fn spreadsheet_habits_are_read() {
        // pandas `to_csv(encoding="utf-8-sig", quoting=QUOTE_ALL)`: a byte-order mark before a
        // quoted header.
        let r = records("\u{feff}\"text\",\"id\"\n\"Nice one\",\"1\"\n");
        let c = &r[0].as_ref().unwrap().comment;
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("1", "Nice one"));
        assert_eq!(r[0].as_ref().unwrap().position.byte, Some(15));
        // Excel's `sep=;` line names the delimiter and is no header.
        let r = records("sep=;\nid;text\n1;Well, yes\n");
        assert_eq!(r.len(), 1);
        let c = &r[0].as_ref().unwrap().comment;
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("1", "Well, yes"));
        assert_eq!(r[0].as_ref().unwrap().position.line, Some(3));
        // Old Mac line ends: the delimiter is told from the first line all the same.
        let r = records("id;text\r1;Well, yes\r2;No\r");
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].as_ref().unwrap().comment.text, "Well, yes");
        // Header names in other spellings.
        let r = records("Comment ID,Comment Text,Post-ID\n9,Hello,p\n");
        let c = &r[0].as_ref().unwrap().comment;
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("9", "Hello"));
        assert_eq!(c.post_id(), Some("p"));
    }

    #[test]
    fn layouts_told_from_the_first_two_rows() {
        let texts = |data: &str| -> Vec<Result<(String, String), String>> {
            records(data)
                .into_iter()
                .map(|r| {
                    r.map(|r| (r.comment.id.to_string(), r.comment.text.to_string()))
                        .map_err(|e| e.reason)
                })
                .collect()
        };
        let ok = |id: &str, text: &str| Ok((id.to_owned(), text.to_owned()));
        // Every row ends with a delimiter.
        assert_eq!(
            texts("id,text\nc1,Thanks,\nc2,Great point,\n"),
            [ok("c1", "Thanks"), ok("c2", "Great point")]
        );
        // R's write.table: row names first, left out of the header.
        assert_eq!(
            texts("\"id\",\"text\"\n\"1\",\"c1\",\"Thanks\"\n\"2\",\"c2\",\"Great\"\n"),
            [ok("c1", "Thanks"), ok("c2", "Great")]
        );
        // One shifted row is not a layout: it is an error, whatever row it is.
        let got = texts("id,text,post_id\n1,Hello, world,p1\n2,Fine,p1\n");
        assert!(
            got[0]
                .as_ref()
                .is_err_and(|e| e.starts_with("the row has 4 fields"))
        );
        assert_eq!(got[1], ok("2", "Fine"));
        // A header of one column: rows are not split at commas.
        assert_eq!(
            texts("text\nThanks, this helps\n"),
            [ok("line-2", "Thanks, this helps")]
        );
        // Excel's `sep=` line with a BOM before it.
        assert_eq!(texts("\u{feff}sep=|\nid|text\n7|a, b\n"), [ok("7", "a, b")]);
    }

    #[test]
    fn a_row_that_ends_before_its_text_is_an_error() {
        let r = records("id,post_id,text\n1,p1,Hello\n2,p1\n3,p1,\n");
        assert_eq!(r.len(), 3);
        let e = r[1].as_ref().unwrap_err();
        assert_eq!(e.id.as_deref(), Some("2"));
        assert_eq!(
            e.reason,
            "the row has 2 fields and ends before column `text` (field 3), the text"
        );
        // An empty cell is an empty comment.
        assert_eq!(r[2].as_ref().unwrap().comment.text, "");
    }

    #[test]
    fn a_row_with_more_fields_than_the_header_is_an_error() {
        let r = records("id,text,post_id\n1,Hello, world,p1\n2,Fine,p1\n3,ok,p1,\n");
        assert_eq!(r.len(), 3);
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(e.id.as_deref(), Some("1"));
        assert_eq!(e.position.line, Some(2));
        assert!(
            e.reason
                .starts_with("the row has 4 fields but the header has 3"),
            "{e}"
        );
        assert_eq!(r[1].as_ref().unwrap().comment.text, "Fine");
        assert!(r[2].is_err(), "a trailing delimiter is a fourth field");
    }

    #[test]
    fn bad_rows_become_errors_with_positions() {
        // (`comment` would be taken as the text column: see the test of aliases below.)
        let r = records("id,note\n1,a\n2,b\n");
        assert_eq!(r.len(), 2);
        let e = r[1].as_ref().unwrap_err();
        assert!(
            e.reason
                .starts_with("no text column in the header (looked for `text`, `body`, "),
            "{e}"
        );
        assert!(e.reason.ends_with("(columns: id, note)"), "{e}");
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

    #[test]
    fn default_fields_answer_to_the_names_other_exports_use() {
        // Reddit's own data export (comments.csv): the text is `body`, the post is `link`.
        let r = records(
            "id,permalink,date,ip,subreddit,gildings,link,parent,body,media\n\
             k1,/r/x/comments/p1/t/k1/,2023-01-02 10:00:00 UTC,,x,0,https://www.reddit.com/r/x/comments/p1/t/,,Nice write-up,\n",
        );
        let c = &r[0].as_ref().unwrap().comment;
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("k1", "Nice write-up"));
        assert_eq!(
            c.post_id(),
            Some("https://www.reddit.com/r/x/comments/p1/t/")
        );
        // The UCI YouTube spam set: upper-case names; `CONTENT` is the text.
        let r =
            records("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nz1,Ann,2015-05-28,Check my channel,1\n");
        let c = &r[0].as_ref().unwrap().comment;
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("z1", "Check my channel"));
        assert_eq!(c.author.as_deref(), Some("Ann"));
        // A WordPress `wp_comments` table: ids, post, parent (`0` for none) and author columns
        // in WordPress's own spelling.
        let r = records(
            "comment_ID,comment_post_ID,comment_author,comment_author_url,comment_content,comment_parent\n\
             7,42,Ann,https://ann.example,First!,0\n\
             8,42,Bob,,Welcome,7\n",
        );
        let [first, reply] = [0, 1].map(|i| &r[i].as_ref().unwrap().comment);
        assert_eq!((first.id.as_ref(), first.post_id()), ("7", Some("42")));
        assert_eq!(first.author.as_deref(), Some("Ann"));
        assert_eq!(first.author_url.as_deref(), Some("https://ann.example"));
        assert_eq!(first.parent_id, None);
        assert_eq!(
            (reply.text.as_ref(), reply.parent_id.as_deref()),
            ("Welcome", Some("7"))
        );
        // The default name wins over an alias, whatever the column order.
        let r = records("body,text,id\nnot this,this,1\n");
        assert_eq!(r[0].as_ref().unwrap().comment.text, "this");
        // A name given explicitly is the only one tried.
        let fields = FieldMap {
            text: "txt".into(),
            ..FieldMap::default()
        };
        let stream: ByteStream = Box::new(std::io::Cursor::new(b"id,body\n1,a\n".to_vec()));
        let r: Vec<_> = read(stream, "t.csv".into(), fields).collect();
        let e = r[0].as_ref().unwrap_err();
        assert_eq!(
            e.reason,
            "no column named `txt` in the header (columns: id, body)"
        );
    }
}
