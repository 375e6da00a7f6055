//! Labeled data for training and evaluation, from any input format.
//!
//! Labels come from the `label` field (JSONL and CSV, as in the shared corpus), or from an
//! export's own moderation history through a value map: for example WordPress
//! `comment_approved` `spam` → `off_topic` and `1` → `substantive`, or Disqus `isSpam` `true` →
//! `off_topic`.

use crate::comment::Comment;
use crate::input::{self, ExportField, InputError, InputOptions, RecordError};
use crate::label::Label;
use std::path::Path;

/// One JSONL row: a comment, with its label, split and source when the row has them.
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

/// Parses one JSONL line (1-based number `line_no`) with the default field names.
///
/// ```
/// use comment_sieve::corpus::parse_row;
/// let row = parse_row(r#"{"id": 7, "text": "hi", "label": "substantive", "post_title": "News"}"#, 1).unwrap();
/// assert_eq!(row.comment.id, "7");
/// assert!(parse_row(r#"{"id": "x"}"#, 2).unwrap_err().to_string().contains("line 2"));
/// ```
pub fn parse_row(line: &str, line_no: u64) -> Result<Row, RowError> {
    let (comment, export) = input::parse_jsonl_object(
        line.as_bytes(),
        input::JsonlFields::default_fields(),
        || format!("line-{line_no}"),
    )
    .map_err(|(id, reason)| RowError {
        line: line_no,
        id,
        reason,
    })?;
    Ok(Row {
        comment,
        label: export.label,
        split: export.split,
        source: export.source,
    })
}

/// Which rows of a labeled file to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SplitFilter {
    /// Every row.
    #[default]
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

/// Where labels come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSource {
    /// The `label` field or column; a selected row without one is an error.
    Field,
    /// An export field, through a map from its values to labels; rows whose value is absent or
    /// unmapped are left out (and counted).
    Export {
        /// The field.
        field: ExportField,
        /// `(value, label)` pairs.
        map: Vec<(String, Label)>,
    },
}

/// How to read labeled data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledOptions {
    /// Format and field names.
    pub input: InputOptions,
    /// Which rows.
    pub split: SplitFilter,
    /// Where labels come from.
    pub labels: LabelSource,
}

impl Default for LabeledOptions {
    fn default() -> Self {
        LabeledOptions {
            input: InputOptions::default(),
            split: SplitFilter::All,
            labels: LabelSource::Field,
        }
    }
}

/// Labeled rows, and how many selected comments were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labeled {
    /// Comments with their labels, in input order.
    pub rows: Vec<(Comment<'static>, Label)>,
    /// The source of each row (the field named by [`crate::input::FieldMap::source`], `source`
    /// by default), parallel to `rows`; `None` where a row has none.
    pub sources: Vec<Option<String>>,
    /// Comments whose export value was absent or not in the label map.
    pub unlabeled: u64,
    /// Comments deleted upstream (no text to learn from).
    pub skipped: u64,
}

/// Why labeled data can't be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The input can't be opened.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A comment can't be read.
    #[error("{0}")]
    Record(RecordError),
    /// A selected row has no label.
    #[error("{position}: field `label` is missing")]
    MissingLabel {
        /// Where.
        position: input::Position,
    },
}

/// Reads the labeled rows of `split` from a file in any input format, with the `label` field.
/// Any unreadable comment, or a selected row without a label, is an error naming the file and
/// line.
pub fn read_labeled(
    path: &Path,
    split: &SplitFilter,
) -> Result<Vec<(Comment<'static>, Label)>, CorpusError> {
    let options = LabeledOptions {
        split: split.clone(),
        ..LabeledOptions::default()
    };
    Ok(read_labeled_with(path, &options)?.rows)
}

/// Reads labeled rows as `options` say.
pub fn read_labeled_with(path: &Path, options: &LabeledOptions) -> Result<Labeled, CorpusError> {
    let mut out = Labeled::default();
    for item in input::open(Some(path), &options.input)? {
        let record = item.map_err(CorpusError::Record)?;
        if !options.split.accepts(record.export.split.as_deref()) {
            continue;
        }
        if record.skip.is_some() {
            out.skipped += 1;
            continue;
        }
        let label = match &options.labels {
            LabelSource::Field => match record.export.label {
                Some(label) => label,
                None => {
                    return Err(CorpusError::MissingLabel {
                        position: record.position,
                    });
                }
            },
            LabelSource::Export { field, map } => {
                let value = record.export.get(*field);
                match value.and_then(|v| map.iter().find(|(k, _)| *k == v).map(|(_, l)| *l)) {
                    Some(label) => label,
                    None => {
                        out.unlabeled += 1;
                        continue;
                    }
                }
            }
        };
        out.rows.push((record.comment, label));
        out.sources.push(record.export.source);
    }
    Ok(out)
}
