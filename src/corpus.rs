//! Reading comments from JSONL: one JSON object per line, as in the labeled corpus.
//!
//! Recognized fields: `id`, `text`, `label`, `split`, `source`, `post_id`, `post_title`,
//! `post_body`, `parent_id`, `author`. Only `text` is required; ids may be strings or numbers.
//! A missing `id` becomes `line-N`.

use crate::comment::{Comment, Post};
use crate::label::Label;
use serde::Deserialize;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One JSONL row: a comment, with its label and split when the row has them.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The comment.
    pub comment: Comment<'static>,
    /// The human label, if any.
    pub label: Option<Label>,
    /// The split (`train`, `test`, …), if any.
    pub split: Option<String>,
    /// The source of the row, if any.
    pub source: Option<String>,
}

/// A line that can't be read as a comment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    /// 1-based line number.
    pub line: u64,
    /// The row's id, when it could be read.
    pub id: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// Why a labeled file can't be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file can't be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("{path}: {error}")]
    Row {
        /// The file.
        path: PathBuf,
        /// The row's error.
        error: RowError,
    },
    /// A row has no label where one is needed.
    #[error("{path}: line {line}: field `label` is missing")]
    MissingLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
}

#[derive(Deserialize)]
struct RawRow {
    id: Option<serde_json::Value>,
    text: Option<serde_json::Value>,
    label: Option<String>,
    split: Option<String>,
    source: Option<String>,
    post_id: Option<serde_json::Value>,
    post_title: Option<String>,
    post_body: Option<String>,
    parent_id: Option<serde_json::Value>,
    author: Option<String>,
}

fn scalar_to_string(field: &str, v: serde_json::Value) -> Result<Option<String>, String> {
    match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        _ => Err(format!("field `{field}` must be a string or a number")),
    }
}

/// Parses one JSONL line (1-based number `line`) into a [`Row`].
///
/// ```
/// use comment_sieve::corpus::parse_row;
/// let row = parse_row(r#"{"id": 7, "text": "hi", "label": "substantive", "post_title": "News"}"#, 1).unwrap();
/// assert_eq!(row.comment.id, "7");
/// assert!(parse_row(r#"{"id": "x"}"#, 2).unwrap_err().to_string().contains("line 2"));
/// ```
pub fn parse_row(line: &str, line_no: u64) -> Result<Row, RowError> {
    let raw: RawRow = serde_json::from_str(line).map_err(|e| RowError {
        line: line_no,
        id: None,
        reason: format!("invalid JSON: {e}"),
    })?;
    let id = match raw.id {
        Some(v) => scalar_to_string("id", v).map_err(|reason| RowError {
            line: line_no,
            id: None,
            reason,
        })?,
        None => None,
    };
    let err = |reason: String| RowError {
        line: line_no,
        id: id.clone(),
        reason,
    };
    let text = match raw.text {
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Null) | None => return Err(err("field `text` is missing".into())),
        Some(_) => return Err(err("field `text` must be a string".into())),
    };
    let label = match raw.label.as_deref() {
        None | Some("") => None,
        Some(l) => Some(
            l.parse::<Label>()
                .map_err(|e| err(format!("field `label`: {e}")))?,
        ),
    };
    let post_id = match raw.post_id {
        Some(v) => scalar_to_string("post_id", v).map_err(err)?,
        None => None,
    }
    .filter(|s| !s.is_empty());
    let parent_id = match raw.parent_id {
        Some(v) => scalar_to_string("parent_id", v).map_err(err)?,
        None => None,
    }
    .filter(|s| !s.is_empty());
    let post = if post_id.is_some() || raw.post_title.is_some() || raw.post_body.is_some() {
        Some(std::sync::Arc::new(Post {
            id: post_id.map(Into::into),
            title: raw.post_title.map(Into::into),
            body: raw.post_body.map(Into::into),
        }))
    } else {
        None
    };
    Ok(Row {
        comment: Comment {
            id: id.unwrap_or_else(|| format!("line-{line_no}")).into(),
            text: text.into(),
            post,
            parent_id: parent_id.map(Into::into),
            author: raw.author.map(Into::into),
        },
        label,
        split: raw.split,
        source: raw.source,
    })
}

/// Which rows of a labeled file to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitFilter {
    /// Every row.
    All,
    /// Rows whose `split` equals this name.
    Named(String),
}

impl SplitFilter {
    /// `all` means every row; any other name selects that split.
    pub fn parse(name: &str) -> Self {
        if name == "all" {
            SplitFilter::All
        } else {
            SplitFilter::Named(name.to_owned())
        }
    }

    fn accepts(&self, split: Option<&str>) -> bool {
        match self {
            SplitFilter::All => true,
            SplitFilter::Named(name) => split == Some(name.as_str()),
        }
    }
}

/// Reads the labeled rows of `split` from a JSONL file. Blank lines are skipped; any malformed
/// row, or a selected row without a label, is an error naming the file and line.
pub fn read_labeled(
    path: &Path,
    split: &SplitFilter,
) -> Result<Vec<(Comment<'static>, Label)>, CorpusError> {
    let io = |source| CorpusError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let reader = std::io::BufReader::new(file);
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                CorpusError::Row {
                    path: path.to_owned(),
                    error: RowError {
                        line: line_no,
                        id: None,
                        reason: "invalid UTF-8".into(),
                    },
                }
            } else {
                io(e)
            }
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let row = parse_row(&line, line_no).map_err(|error| CorpusError::Row {
            path: path.to_owned(),
            error,
        })?;
        if !split.accepts(row.split.as_deref()) {
            continue;
        }
        let label = row.label.ok_or_else(|| CorpusError::MissingLabel {
            path: path.to_owned(),
            line: line_no,
        })?;
        out.push((row.comment, label));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_context_fields() {
        let row = parse_row(
            r#"{"id":"a","text":"t","label":"off_topic","split":"train","post_id":5,"post_title":"T","parent_id":"p","author":"x"}"#,
            3,
        )
        .unwrap();
        assert_eq!(row.label, Some(Label::OffTopic));
        assert_eq!(row.comment.post_id(), Some("5"));
        assert_eq!(row.comment.parent_id.as_deref(), Some("p"));
        assert_eq!(row.split.as_deref(), Some("train"));
    }

    #[test]
    fn reports_bad_rows_with_line_numbers() {
        for (line, needle) in [
            ("{", "invalid JSON"),
            (r#"{"text": 5}"#, "`text` must be a string"),
            (r#"{"text": "x", "label": "spam"}"#, "unknown label"),
            (r#"{"text": "x", "id": [1]}"#, "`id` must be"),
            ("[]", "invalid JSON"),
        ] {
            let e = parse_row(line, 9).unwrap_err();
            assert_eq!(e.line, 9);
            assert!(e.reason.contains(needle), "{line}: {e}");
        }
        assert_eq!(
            parse_row(r#"{"text": "x"}"#, 4).unwrap().comment.id,
            "line-4"
        );
    }
}
