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
    fields: JsonlFields,
}

impl JsonlReader {
    pub fn new(stream: ByteStream, source: Arc<str>, fields: FieldMap) -> Self {
        JsonlReader {
            lines: Lines::new(stream, source),
            fields: JsonlFields::new(fields),
        }
    }
}

/// The keys a JSONL object is read by: every name of every field (see
/// [`FieldMap::candidates`]), worked out once per input.
pub(crate) struct JsonlFields {
    /// The configured names, in the order of `FieldMap::candidates`, then the aliases: the
    /// keys of most inputs are found among the first ten.
    keys: Vec<String>,
    /// Where each field's aliases are in `keys` (its configured name is `keys[field]`).
    aliases: [std::ops::Range<usize>; 11],
}

impl JsonlFields {
    pub(crate) fn new(map: FieldMap) -> Self {
        let candidates = map.candidates();
        let mut keys: Vec<String> = candidates.iter().map(|names| names[0].into()).collect();
        let aliases = candidates.map(|names| {
            let start = keys.len();
            keys.extend(names[1..].iter().map(|n| n.to_string()));
            start..keys.len()
        });
        JsonlFields { keys, aliases }
    }

    /// The names of field `field`, the configured one first.
    fn names(&self, field: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(field).chain(self.aliases[field].clone())
    }

    /// The default field names.
    pub(crate) fn default_fields() -> &'static JsonlFields {
        static DEFAULT: std::sync::LazyLock<JsonlFields> =
            std::sync::LazyLock::new(|| JsonlFields::new(FieldMap::default()));
        &DEFAULT
    }
}

impl Iterator for JsonlReader {
    type Item = RecordResult;

    fn next(&mut self) -> Option<RecordResult> {
        let fields = &self.fields;
        self.lines.next_record(|bytes, number| {
            parse_object(bytes, fields, || format!("line-{number}"))
                .map(|(comment, export)| (comment, export, None))
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
    /// A JSON object, as written (see [`member_text`]).
    Object(String),
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
            Some(b'{') => Scalar::Object(text.to_owned()),
            _ => Scalar::Plain(text.to_owned()),
        })
    }
}

/// Picks the values of the named fields out of one JSON object, in the order of `names`,
/// skipping every other field without building it.
pub(crate) struct FieldPicker<'n, S>(pub &'n [S]);

impl<'de, S: AsRef<str>> DeserializeSeed<'de> for FieldPicker<'_, S> {
    type Value = Vec<Option<Scalar>>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: AsRef<str>> Visitor<'de> for FieldPicker<'_, S> {
    type Value = Vec<Option<Scalar>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out: Vec<Option<Scalar>> = self.0.iter().map(|_| None).collect();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.0.iter().position(|n| n.as_ref() == key) {
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
pub(crate) fn pick_fields<S: AsRef<str>>(
    bytes: &[u8],
    names: &[S],
) -> Result<Vec<Option<Scalar>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()))?;
    let pick = |text: &str| {
        let mut de = serde_json::Deserializer::from_str(text);
        FieldPicker(names)
            .deserialize(&mut de)
            .and_then(|f| de.end().map(|()| f))
    };
    pick(text).or_else(|e| {
        // Lone UTF-16 surrogates (`"\ud83d"`, half an emoji cut by an old exporter) are what
        // Python's `json` writes for broken text, and reads back; they stand for no character,
        // so they become U+FFFD and the record is read.
        match replace_lone_surrogates(text) {
            Some(repaired) => pick(&repaired).map_err(|_| json_error(&e)),
            None => Err(json_error(&e)),
        }
    })
}

/// A JSON error with its position in the record (serde_json counts lines from the record's
/// start, which is not the file's).
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    match e.line() {
        0 => format!("invalid JSON: {message}"),
        1 => format!(
            "invalid JSON at column {} of the record: {message}",
            e.column()
        ),
        line => format!(
            "invalid JSON at line {line}, column {} of the record: {message}",
            e.column()
        ),
    }
}

/// `text` with each `\u` escape of a UTF-16 surrogate that is not half of a pair replaced by
/// `\ufffd`; `None` if it has none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let code_at = |i: usize| -> Option<u16> {
        let hex = bytes.get(i..i + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut out: Option<String> = None;
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(code) = code_at(i) else {
            // Another escape (`\\`, `\"`, ...): skip both of its bytes.
            i += 2;
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&code)
            && code_at(i + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            i += 12;
        } else if (0xD800..0xE000).contains(&code) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            i += 6;
            copied = i;
        } else {
            i += 6;
        }
    }
    out.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    })
}

/// A string field: absent and null are `None`; arrays and objects are errors.
pub(crate) fn text_field(name: &str, value: Option<Scalar>) -> Result<Option<String>, String> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Text(s) | Scalar::Plain(s)) => Ok(Some(s)),
        Some(Scalar::Object(_)) => Err(format!(
            "field `{name}` is an object, not a string or number"
        )),
        Some(Scalar::Other(what)) => {
            Err(format!("field `{name}` is {what}, not a string or number"))
        }
    }
}

/// The members that stand for a text given as an object, first found first: WordPress's REST
/// API writes `"content": {"rendered": "<p>…</p>"}`.
const TEXT_MEMBERS: [&str; 5] = ["rendered", "raw", "text", "body", "html"];
/// The members that name an author given as an object (`"author": {"name": …}`).
const AUTHOR_MEMBERS: [&str; 3] = ["name", "username", "display_name"];
/// The member that identifies a post or a parent given as an object.
const ID_MEMBERS: [&str; 1] = ["id"];

/// The first of `members` that the JSON object `raw` has as a string or number: what the
/// object stands for as field `name`. An object without one is an error naming the members
/// looked for.
fn object_member(name: &str, raw: &str, members: &[&str]) -> Result<String, String> {
    pick_fields(raw.as_bytes(), members)
        .ok()
        .and_then(|picked| {
            picked.into_iter().find_map(|v| match v {
                Some(Scalar::Text(s) | Scalar::Plain(s)) => Some(s),
                _ => None,
            })
        })
        .ok_or_else(|| {
            let listed: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
            format!(
                "field `{name}` is an object with no {} string",
                listed.join(" or ")
            )
        })
}

/// [`text_field`] for a field that may also be an object standing for its value (see
/// [`object_member`]).
fn member_text(
    name: &str,
    value: Option<Scalar>,
    members: &[&str],
) -> Result<Option<String>, String> {
    match value {
        Some(Scalar::Object(raw)) => object_member(name, &raw, members).map(Some),
        value => text_field(name, value),
    }
}

/// Parses one JSON object into a comment and its export fields. Errors carry the id when it
/// could be read. `unnamed` names a comment that has no id (`line-N` for a JSONL line).
pub(crate) fn parse_object(
    bytes: &[u8],
    fields: &JsonlFields,
    unnamed: impl FnOnce() -> String,
) -> Result<(Comment<'static>, ExportFields), (Option<String>, String)> {
    let mut picked = pick_fields(bytes, &fields.keys).map_err(|e| (None, e))?;
    // Each field takes the value of its first name that is present and not null, and that
    // name (for messages).
    let [
        (id, id_name),
        (text, text_name),
        (post_id, post_id_name),
        (post_title, post_title_name),
        (post_body, post_body_name),
        (parent_id, parent_id_name),
        (author, author_name),
        (label, label_name),
        (split, split_name),
        (source, source_name),
        (author_url, author_url_name),
    ] = std::array::from_fn(|field| {
        let at = fields
            .names(field)
            .find(|&k| !matches!(picked[k], None | Some(Scalar::Null)))
            .unwrap_or(field);
        (picked[at].take(), fields.keys[at].as_str())
    });
    // An empty id names nothing: the comment is named by its position, as in CSV.
    let id = text_field(id_name, id)
        .map_err(|e| (None, e))?
        .filter(|id| !id.is_empty());
    let err = |reason: String| (id.clone(), reason);
    let body = match text {
        Some(Scalar::Text(s)) => s,
        Some(Scalar::Object(raw)) => object_member(text_name, &raw, &TEXT_MEMBERS).map_err(err)?,
        None | Some(Scalar::Null) => {
            let tried: Vec<String> = fields
                .names(1)
                .map(|k| format!("`{}`", fields.keys[k]))
                .collect();
            return Err(err(match tried.as_slice() {
                [name] => format!("field {name} is missing"),
                _ => format!("no text field (looked for {})", tried.join(", ")),
            }));
        }
        Some(_) => return Err(err(format!("field `{text_name}` must be a string"))),
    };
    let label = text_field(label_name, label)
        .map_err(err)?
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse::<Label>()
                .map_err(|e| err(format!("field `{label_name}`: {e}")))
        })
        .transpose()?;
    let split = text_field(split_name, split).map_err(err)?;
    let source = text_field(source_name, source).map_err(err)?;
    let post_id = member_text(post_id_name, post_id, &ID_MEMBERS)
        .map_err(err)?
        .filter(|s| !s.is_empty());
    let post_title = member_text(post_title_name, post_title, &TEXT_MEMBERS).map_err(err)?;
    let post_body = member_text(post_body_name, post_body, &TEXT_MEMBERS).map_err(err)?;
    // `0` is how WordPress (and many databases) say "no parent".
    let parent_id = member_text(parent_id_name, parent_id, &ID_MEMBERS)
        .map_err(err)?
        .filter(|s| !s.is_empty() && s != "0");
    let author = member_text(author_name, author, &AUTHOR_MEMBERS).map_err(err)?;
    let author_url = text_field(author_url_name, author_url)
        .map_err(err)?
        .map(|u| u.trim().to_owned());
    let post = (post_id.is_some() || post_title.is_some() || post_body.is_some()).then(|| {
        Arc::new(Post {
            id: post_id.map(Into::into),
            title: post_title.map(Into::into),
            body: post_body.map(Into::into),
        })
    });
    let comment = Comment {
        id: id.unwrap_or_else(unnamed).into(),
        text: body.into(),
        post,
        parent_id: parent_id.map(Into::into),
        author: author.map(Into::into),
        author_url: author_url.map(Into::into),
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

    fn parse(line: &str) -> Result<(Comment<'static>, ExportFields), (Option<String>, String)> {
        parse_object(line.as_bytes(), JsonlFields::default_fields(), || {
            "line-1".into()
        })
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let text = |line: &str| parse(line).expect("a comment").0.text.to_string();
        assert_eq!(text(r#"{"text":"cut \ud83d"}"#), "cut \u{fffd}");
        assert_eq!(text(r#"{"text":"\udc00 low"}"#), "\u{fffd} low");
        assert_eq!(text(r#"{"text":"pair \ud83d\ude00"}"#), "pair \u{1f600}");
        assert_eq!(
            text(r#"{"text":"\\ud800 is text, \ud800\ud800"}"#),
            "\\ud800 is text, \u{fffd}\u{fffd}"
        );
        assert_eq!(replace_lone_surrogates(r#"{"text":"\u00e9"}"#), None);
    }

    #[test]
    fn json_errors_give_the_column_in_the_record() {
        let e = parse(r#"{"id":"a", "text": tru}"#).unwrap_err();
        assert_eq!(
            e.1,
            "invalid JSON at column 23 of the record: expected ident"
        );
        let e = parse("{\"id\":\"a\",\n\"text\": x}").unwrap_err();
        assert!(
            e.1.starts_with("invalid JSON at line 2, column 9 of the record"),
            "{}",
            e.1
        );
    }

    #[test]
    fn an_empty_id_names_the_comment_by_its_line() {
        assert_eq!(parse(r#"{"id":"","text":"hi"}"#).unwrap().0.id, "line-1");
        assert_eq!(parse(r#"{"id":" ","text":"hi"}"#).unwrap().0.id, " ");
    }

    #[test]
    fn author_urls_are_read_when_the_field_is_there() {
        let url = |line: &str| parse(line).expect("a comment").0.author_url;
        assert_eq!(url(r#"{"text":"hi"}"#), None);
        assert_eq!(url(r#"{"text":"hi","author_url":null}"#), None);
        assert_eq!(url(r#"{"text":"hi","author_url":""}"#).as_deref(), Some(""));
        assert_eq!(
            url(r#"{"text":"hi","author_url":" http://a.example "}"#).as_deref(),
            Some("http://a.example")
        );
        // WordPress's own name for it, in exports made with SQL or plugins.
        assert_eq!(
            url(r#"{"text":"hi","comment_author_url":"http://b.example"}"#).as_deref(),
            Some("http://b.example")
        );
        let (_, e) = parse(r#"{"id":"7","text":"hi","author_url":[1]}"#).unwrap_err();
        assert!(e.contains("author_url"), "{e}");
    }

    #[test]
    fn objects_that_stand_for_a_value_are_read_through() {
        // A comment as WordPress's REST API writes it (`/wp-json/wp/v2/comments`).
        let wordpress = r#"{"id":43,"post":7,"parent":42,"author":0,"author_name":"Ann",
            "content":{"rendered":"<p>Nice <em>loaf<\/em><\/p>\n"},"link":"https:\/\/x.example\/#c43",
            "author_avatar_urls":{"24":"https:\/\/x.example\/a.png"},"meta":[]}"#;
        let (c, _) = parse(wordpress).expect("a WordPress REST comment");
        assert_eq!(c.id, "43");
        assert_eq!(c.text, "<p>Nice <em>loaf</em></p>\n");
        assert_eq!(c.post_id(), Some("7"));
        assert_eq!(c.parent_id.as_deref(), Some("42"));
        // Its top-level comments have parent 0: no parent.
        let (c, _) = parse(r#"{"id":44,"parent":0,"content":{"rendered":"x"}}"#).expect("parent 0");
        assert_eq!(c.parent_id, None);
        // Authors, posts and parents given as objects.
        let (c, _) = parse(
            r#"{"message":"hi","author":{"username":"bo1","name":"Bo"},"thread":{"id":"t7"},"parent":{"id":9}}"#,
        )
        .expect("objects");
        assert_eq!(c.author.as_deref(), Some("Bo"));
        assert_eq!(c.post_id(), Some("t7"));
        assert_eq!(c.parent_id.as_deref(), Some("9"));
        // An object without such a member is an error naming the field and the members.
        let (_, e) = parse(r#"{"text":"hi","author":{"avatar":"a.png"}}"#).unwrap_err();
        assert_eq!(
            e,
            "field `author` is an object with no `name` or `username` or `display_name` string"
        );
        let (_, e) = parse(r#"{"text":{"format":"html"}}"#).unwrap_err();
        assert_eq!(
            e,
            "field `text` is an object with no `rendered` or `raw` or `text` or `body` or `html` string"
        );
    }

    #[test]
    fn default_fields_answer_to_the_names_other_exports_use() {
        let (c, _) = parse(r#"{"comment_id":"d1","message":"<p>Hi</p>","thread_id":"t9"}"#)
            .expect("aliases");
        assert_eq!((c.id.as_ref(), c.text.as_ref()), ("d1", "<p>Hi</p>"));
        assert_eq!(c.post_id(), Some("t9"));
        // The default name wins; a null default falls through to an alias.
        let (c, _) = parse(r#"{"body":"no","text":"yes"}"#).expect("text");
        assert_eq!(c.text, "yes");
        let (c, _) = parse(r#"{"text":null,"comment_text":"from jigsaw"}"#).expect("alias");
        assert_eq!(c.text, "from jigsaw");
        // Errors name the key that was read, and every key that was looked for.
        let (_, e) = parse(r#"{"id":1,"content":["x"]}"#).unwrap_err();
        assert_eq!(e, "field `content` must be a string");
        let (id, e) = parse(r#"{"id":2,"note":"x"}"#).unwrap_err();
        assert_eq!(id.as_deref(), Some("2"));
        assert!(
            e.starts_with("no text field (looked for `text`, `body`, `comment_text`"),
            "{e}"
        );
        // A name given explicitly is the only one tried.
        let explicit = JsonlFields::new(FieldMap {
            text: "txt".into(),
            ..FieldMap::default()
        });
        let (_, e) = parse_object(br#"{"body":"x"}"#, &explicit, || "line-1".into()).unwrap_err();
        assert_eq!(e, "field `txt` is missing");
    }
}
