//! CSV (or TSV) with a header row; columns are found by the names in [`FieldMap`].
//!
//! The delimiter is `,` unless the header line has tabs or semicolons and no commas. Quoted
//! fields may span lines. Rows may be shorter than the header (missing cells are empty).

use super::{ByteStream, ExportFields, FieldMap, Position, Record, RecordError, RecordResult};
use crate::comment::{Comment, Post};
use crate::label::Label;
use std::io::BufRead;
use std::sync::Arc;

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
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(stream);
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
    let mut row = ::csv::ByteRecord::new();
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        match reader.read_byte_record(&mut row) {
            Ok(false) => {
                done = true;
                None
            }
            Ok(true) => {
                let pos = position(row.position());
                let line = pos.line.unwrap_or(0);
                Some(
                    parse_row(&row, &columns, &names, &header_names, line)
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
                        }),
                )
            }
            Err(e) => {
                // A read error (I/O, bad gzip) ends the stream after one error item.
                done = true;
                Some(Err(RecordError {
                    position: position(e.position()),
                    id: None,
                    reason: format!("cannot read CSV: {e}"),
                }))
            }
        }
    }))
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
