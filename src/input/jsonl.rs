//! JSONL: one JSON object per line, with configurable field names.
//!
//! Ids and other fields given as numbers or booleans are kept as written (`1.50`, `1e3`, an
//! integer too big for any machine type); a text that is not a string, and an id that is an
//! array or object, make an error record naming the field. A line that is not UTF-8 or not
//! JSON, a line of only NUL bytes and a line over 64 MiB each make one error record for their
//! line (see `lines.rs`).

use super::lines::Lines;
use super::{ByteStream, ExportFields, FieldMap, RecordResult};
use crate::comment::{Comment, Post};
use crate::label::Label;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// Reads JSONL records; see [`FieldMap`] for the field names.
pub(crate) struct JsonlReader {
    lines: Lines,
    fields: FieldMap,
}

impl JsonlReader {
    pub fn new(stream: ByteStream, source: Arc<str>, fields: FieldMap) -> Self {
        JsonlReader {
            lines: Lines::new(stream, source),
            fields,
        }
    }
}

impl Iterator for JsonlReader {
    type Item = RecordResult;

    fn next(&mut self) -> Option<RecordResult> {
        let fields = &self.fields;
        self.lines.next_record(|bytes, number| {
            parse_object(bytes, fields, number).map(|(comment, export)| (comment, export, None))
        })
    }
}

/// A JSON scalar, as text.
#[derive(Debug)]
pub(crate) enum Scalar {
    /// A JSON string.
    Text(String),
    /// A number or boolean, as written in the input.
    Plain(String),
    Null,
    Other(&'static str),
}

/// Reads the value as written (serde_json's `RawValue`), so that numbers keep their spelling:
/// an id `1.50` stays `1.50`, and `123456789012345678901234567890` is not rounded to an `f64`.
impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: &'de RawValue = de::Deserialize::deserialize(d)?;
        let text = raw.get();
        Ok(match text.as_bytes().first() {
            Some(b'"') => {
                let inner = &text[1..text.len() - 1];
                if inner.contains('\\') {
                    Scalar::Text(serde_json::from_str(text).map_err(de::Error::custom)?)
                } else {
                    Scalar::Text(inner.to_owned())
                }
            }
            Some(b'n') => Scalar::Null,
            Some(b'[') => Scalar::Other("an array"),
            Some(b'{') => Scalar::Other("an object"),
            _ => Scalar::Plain(text.to_owned()),
        })
    }
}

/// Picks the values of the named fields out of one JSON object, in the order of `names`,
/// skipping every other field without building it.
pub(crate) struct FieldPicker<'n>(pub &'n [&'n str]);

impl<'de> DeserializeSeed<'de> for FieldPicker<'_> {
    type Value = Vec<Option<Scalar>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldPicker<'_> {
    type Value = Vec<Option<Scalar>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<Option<Scalar>> = self.0.iter().map(|_| None).collect();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.0.iter().position(|n| *n == key) {
                Some(i) => out[i] = Some(map.next_value::<Scalar>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// Parses one line as a JSON object and picks `names` from it.
pub(crate) fn pick_fields(bytes: &[u8], names: &[&str]) -> Result<Vec<Option<Scalar>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()))?;
    let mut de = serde_json::Deserializer::from_str(text);
    FieldPicker(names)
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f))
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// A string field: absent and null are `None`; arrays and objects are errors.
pub(crate) fn text_field(name: &str, value: Option<Scalar>) -> Result<Option<String>, String> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Text(s) | Scalar::Plain(s)) => Ok(Some(s)),
        Some(Scalar::Other(what)) => {
            Err(format!("field `{name}` is {what}, not a string or number"))
        }
    }
}

/// Parses one JSON object into a comment and its export fields. Errors carry the id when it
/// could be read. `line` names comments that have no id (`line-N`).
pub(crate) fn parse_object(
    bytes: &[u8],
    names: &FieldMap,
    line: u64,
) -> Result<(Comment<'static>, ExportFields), (Option<String>, String)> {
    let picked = pick_fields(
        bytes,
        &[
            &names.id,
            &names.text,
            &names.post_id,
            &names.post_title,
            &names.post_body,
            &names.parent_id,
            &names.author,
            &names.label,
            &names.split,
            &names.source,
        ],
    )
    .map_err(|e| (None, e))?;
    let Ok(
        [
            id,
            text,
            post_id,
            post_title,
            post_body,
            parent_id,
            author,
            label,
            split,
            source,
        ],
    ) = <[Option<Scalar>; 10]>::try_from(picked)
    else {
        return Err((None, "internal error: field count".into()));
    };
    let id = text_field(&names.id, id).map_err(|e| (None, e))?;
    let err = |reason: String| (id.clone(), reason);
    let body = match text {
        Some(Scalar::Text(s)) => s,
        None | Some(Scalar::Null) => return Err(err(format!("field `{}` is missing", names.text))),
        Some(_) => return Err(err(format!("field `{}` must be a string", names.text))),
    };
    let label = text_field(&names.label, label)
        .map_err(err)?
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse::<Label>()
                .map_err(|e| err(format!("field `{}`: {e}", names.label)))
        })
        .transpose()?;
    let split = text_field(&names.split, split).map_err(err)?;
    let source = text_field(&names.source, source).map_err(err)?;
    let post_id = text_field(&names.post_id, post_id)
        .map_err(err)?
        .filter(|s| !s.is_empty());
    let post_title = text_field(&names.post_title, post_title).map_err(err)?;
    let post_body = text_field(&names.post_body, post_body).map_err(err)?;
    let parent_id = text_field(&names.parent_id, parent_id)
        .map_err(err)?
        .filter(|s| !s.is_empty());
    let author = text_field(&names.author, author).map_err(err)?;
    let post = (post_id.is_some() || post_title.is_some() || post_body.is_some()).then(|| {
        Arc::new(Post {
            id: post_id.map(Into::into),
            title: post_title.map(Into::into),
            body: post_body.map(Into::into),
        })
    });
    let comment = Comment {
        id: id.unwrap_or_else(|| format!("line-{line}")).into(),
        text: body.into(),
        post,
        parent_id: parent_id.map(Into::into),
        author: author.map(Into::into),
    };
    Ok((
        comment,
        ExportFields {
            label,
            split,
            source,
            ..ExportFields::default()
        },
    ))
}
