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
use std::borrow::Cow;
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
                if memchr::memchr(b'\\', inner.as_bytes()).is_some() {
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
    match pick_flat_fields(text, names) {
        Some(picked) => Ok(picked),
        None => pick_fields_with_serde(text, names),
    }
}

/// [`pick_fields`] of a UTF-8 line, through serde_json whatever the line.
fn pick_fields_with_serde(text: &str, names: &[&str]) -> Result<Vec<Option<Scalar>>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    FieldPicker(names)
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f))
        .map_err(|e| format!("invalid JSON: {e}"))
}

/// [`pick_fields`] without serde for the usual line: one object whose values are strings,
/// numbers, `true`, `false` or `null`, with no control character anywhere (tabs and line breaks
/// only ever appear escaped in such lines). It finds each string's end with a vectorized search
/// for a quote or a backslash instead of serde_json's byte-wise scan, and builds no `RawValue`.
///
/// `None` for any other line: nested values, a syntax error, an escape it does not decode (a
/// surrogate that is not part of a pair). [`pick_fields`] then parses the line with serde_json,
/// which gives the values, or the error message, that are reported; where this returns values,
/// they are the ones serde_json gives.
fn pick_flat_fields(text: &str, names: &[&str]) -> Option<Vec<Option<Scalar>>> {
    let bytes = text.as_bytes();
    // No early exit, so that the compiler checks many bytes per instruction.
    if bytes.iter().fold(false, |control, &b| control | (b < 0x20)) {
        return None;
    }
    let mut out: Vec<Option<Scalar>> = names.iter().map(|_| None).collect();
    let mut line = FlatLine { text, at: 0 };
    line.skip_spaces();
    line.eat(b'{')?;
    line.skip_spaces();
    if line.eat(b'}').is_none() {
        loop {
            let key = line.string()?;
            line.skip_spaces();
            line.eat(b':')?;
            line.skip_spaces();
            let value = line.value()?;
            if let Some(i) = names.iter().position(|n| *n == key) {
                out[i] = Some(value);
            }
            line.skip_spaces();
            match line.next()? {
                b',' => line.skip_spaces(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    line.skip_spaces();
    (line.at == bytes.len()).then_some(out)
}

/// A cursor over one line for [`pick_flat_fields`]. Every method returns `None` where the line
/// leaves the flat shape.
struct FlatLine<'t> {
    text: &'t str,
    /// Byte offset of the next unread byte.
    at: usize,
}

impl<'t> FlatLine<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, expected: u8) -> Option<()> {
        (self.peek()? == expected).then(|| self.at += 1)
    }

    /// Skips spaces (the line has no other JSON whitespace: it has no control character).
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    /// The scalar at the cursor, as [`Scalar`]'s `Deserialize` reads it.
    fn value(&mut self) -> Option<Scalar> {
        match self.peek()? {
            b'"' => Some(Scalar::Text(self.string()?.into_owned())),
            b'n' => self.literal("null").map(|_| Scalar::Null),
            b't' => self.literal("true").map(|s| Scalar::Plain(s.to_owned())),
            b'f' => self.literal("false").map(|s| Scalar::Plain(s.to_owned())),
            _ => self.number().map(|s| Scalar::Plain(s.to_owned())),
        }
    }

    fn literal(&mut self, word: &'static str) -> Option<&'static str> {
        let rest = self.text.as_bytes().get(self.at..)?;
        rest.starts_with(word.as_bytes()).then(|| {
            self.at += word.len();
            word
        })
    }

    /// A JSON number, as written: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<&'t str> {
        let start = self.at;
        let _ = self.eat(b'-');
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        self.text.get(start..self.at)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    /// The string at the cursor, unescaped: borrowed from the line when it has no escape.
    fn string(&mut self) -> Option<Cow<'t, str>> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let mut unescaped: Option<String> = None;
        // Start of the bytes not yet copied to `unescaped`.
        let mut run = self.at;
        loop {
            let end = self.at + memchr::memchr2(b'"', b'\\', bytes.get(self.at..)?)?;
            // `end` and `run` are at ASCII bytes (or the line's end), so on char boundaries.
            let piece = self.text.get(run..end)?;
            self.at = end + 1;
            if bytes[end] == b'"' {
                return Some(match unescaped {
                    None => Cow::Borrowed(piece),
                    Some(mut s) => {
                        s.push_str(piece);
                        Cow::Owned(s)
                    }
                });
            }
            let s = unescaped.get_or_insert_with(String::new);
            s.push_str(piece);
            let c = match self.next()? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => match self.hex4()? {
                    high @ 0xD800..=0xDBFF => {
                        self.eat(b'\\')?;
                        self.eat(b'u')?;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    code => char::from_u32(code)?,
                },
                _ => return None,
            };
            s.push(c);
            run = self.at;
        }
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 4] = ["id", "text", "post_id", "te\"xt"];

    /// What `pick_fields` gives, comparable.
    fn picked(text: &str) -> String {
        format!("{:?}", pick_fields(text.as_bytes(), &NAMES))
    }

    fn with_serde(text: &str) -> String {
        format!("{:?}", pick_fields_with_serde(text, &NAMES))
    }

    #[test]
    fn usual_lines_take_the_flat_path_and_agree_with_serde() {
        let lines = [
            r#"{"id": "c0", "post_id": "p-1", "text": "Plain text, with: punctuation {}[]."}"#,
            r#"{"id":"c1","text":"line\nbreak, \"quoted\", back\\slash, \/ \t \b \f \r"}"#,
            r#"{"id": 17, "text": "caf\u00e9 \ud83d\ude00 \u0000 é 😀", "x": null, "y": true}"#,
            r#"  { "text" : "", "id" : -1.5e+3 , "id" : "last wins" }  "#,
            r#"{}"#,
            r#"{"te\"xt": false, "t\u0065xt": "escaped key"}"#,
        ];
        for line in lines {
            assert!(pick_flat_fields(line, &NAMES).is_some(), "{line}");
            assert_eq!(picked(line), with_serde(line), "{line}");
        }
    }

    #[test]
    fn other_lines_fall_back_to_serde() {
        let lines = [
            "{\"id\":\t\"tab\"}",
            r#"{"id": "a", "meta": {"nested": [1, 2]}}"#,
            r#"{"id": "\ud83d alone"}"#,
            r#"{"id": "\ude00 alone"}"#,
            r#"{"id": "bad \x escape"}"#,
            r#"{"id": 01}"#,
            r#"{"id": 1.}"#,
            r#"{"id": -}"#,
            r#"{"id": tru}"#,
            r#"{"id": "a",}"#,
            r#"{"id" "a"}"#,
            r#"{"id": "a"} trailing"#,
            r#"{"id": "unterminated}"#,
            r#"["not", "an object"]"#,
            "",
        ];
        for line in lines {
            assert!(pick_flat_fields(line, &NAMES).is_none(), "{line}");
            assert_eq!(picked(line), with_serde(line), "{line}");
        }
    }

    fn json_string() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "é",
            "😀",
            " ",
            ",",
            ":",
            "{",
            "}",
            "[",
            "\\n",
            "\\\"",
            "\\\\",
            "\\/",
            "\\t",
            "\\u00e9",
            "\\u00E9",
            "\\ud83d\\ude00",
            "\\ud83d",
            "\\ude00",
            "\\u0000",
            "\\uZZ",
            "\\x",
            "\t",
            "\u{1}",
            "\"",
            "\\",
        ]);
        prop::collection::vec(pieces, 0..6).prop_map(|p| format!("\"{}\"", p.concat()))
    }

    fn json_value() -> impl Strategy<Value = String> {
        let other = prop::sample::select(vec![
            "0",
            "-1",
            "12.5",
            "1e5",
            "1E-3",
            "-0.0e+10",
            "01",
            "-",
            "1.",
            "1e",
            "+1",
            ".5",
            "123456789012345678901234567890",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "[]",
            "[1,\"a\"]",
            "{}",
            "{\"a\":{\"b\":[1]}}",
        ]);
        prop_oneof![json_string(), other.prop_map(str::to_owned)]
    }

    fn json_key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "\"id\"",
                "\"text\"",
                "\"post_id\"",
                "\"te\\\"xt\"",
                "\"t\\u0065xt\""
            ])
            .prop_map(str::to_owned),
            json_string(),
        ]
    }

    fn space() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", " ", "  ", "\t", "\r"])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever the line, the flat path and the serde path give the same fields or error.
        #[test]
        fn flat_path_agrees_with_serde(
            members in prop::collection::vec((json_key(), space(), json_value(), space()), 0..5),
            separator in prop::sample::select(vec![",", ", ", " , ", ",,", "", ";"]),
            (open, close) in prop::sample::select(vec![("{", "}"), ("{ ", " }"), ("[", "]"), ("{", "")]),
            trailing in prop::sample::select(vec!["", "", " ", ",", "x", "}"]),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|(k, s, v, t)| format!("{k}{s}:{t}{v}"))
                .collect();
            let line = format!("{open}{}{close}{trailing}", body.join(separator));
            prop_assert_eq!(picked(&line), with_serde(&line), "{}", line);
        }
    }
}
