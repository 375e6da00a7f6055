//! Reddit comments as Pushshift NDJSON: one comment object per line.
//!
//! Used fields: `id` (or `name` without its `t1_` prefix), `body`, `parent_id` (`t1_…` for a
//! reply to a comment, `t3_…` for a top-level comment), `link_id` (`t3_…`, the submission),
//! `subreddit` and `author`. Kind prefixes are removed, so a reply's `parent_id` equals its
//! parent's `id` and the post id is the submission's base-36 id. Bodies `[deleted]` and
//! `[removed]` are reported with [`Skip`], not classified; the author `[deleted]` is dropped.

use super::jsonl::{Scalar, pick_fields, text_field};
use super::lines::{Lines, Parsed};
use super::{ByteStream, ExportFields, RecordResult, Skip};
use crate::comment::{Comment, Post};
use std::sync::Arc;

const FIELDS: [&str; 7] = [
    "id",
    "name",
    "body",
    "parent_id",
    "link_id",
    "subreddit",
    "author",
];

/// Reads a Pushshift comment dump.
pub(crate) fn read(
    stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    let mut lines = Lines::new(stream, source);
    Box::new(std::iter::from_fn(move || {
        lines.next_record(|bytes, _| parse(bytes))
    }))
}

fn strip_kind<'s>(id: &'s str, kind: &str) -> &'s str {
    id.strip_prefix(kind).unwrap_or(id)
}

fn parse(bytes: &[u8]) -> Parsed {
    let picked = pick_fields(bytes, &FIELDS).map_err(|e| (None, e))?;
    let Ok([id, name, body, parent_id, link_id, subreddit, author]) =
        <[Option<Scalar>; 7]>::try_from(picked)
    else {
        return Err((None, "internal error: field count".into()));
    };
    let id = match text_field("id", id).map_err(|e| (None, e))? {
        Some(id) => Some(id),
        None => text_field("name", name)
            .map_err(|e| (None, e))?
            .map(|n| strip_kind(&n, "t1_").to_owned()),
    };
    let Some(id) = id.filter(|i| !i.is_empty()) else {
        return Err((None, "field `id` is missing".into()));
    };
    let err = |reason: String| (Some(id.clone()), reason);
    let body = match body {
        Some(Scalar::Text(s)) => s,
        None | Some(Scalar::Null) => return Err(err("field `body` is missing".into())),
        Some(_) => return Err(err("field `body` must be a string".into())),
    };
    let skip = match body.trim() {
        "[deleted]" => Some(Skip::Deleted),
        "[removed]" => Some(Skip::Removed),
        _ => None,
    };
    let parent = text_field("parent_id", parent_id).map_err(err)?;
    let link = text_field("link_id", link_id).map_err(err)?;
    let parent_id = parent
        .as_deref()
        .filter(|p| p.starts_with("t1_"))
        .map(|p| strip_kind(p, "t1_").to_owned());
    let post_id = link
        .as_deref()
        .or(parent.as_deref().filter(|p| p.starts_with("t3_")))
        .map(|l| strip_kind(l, "t3_").to_owned());
    let author = text_field("author", author)
        .map_err(err)?
        .filter(|a| a != "[deleted]" && !a.is_empty());
    let subreddit = text_field("subreddit", subreddit).map_err(err)?;
    let comment = Comment {
        id: id.into(),
        text: body.into(),
        post: post_id.map(|p| {
            Arc::new(Post {
                id: Some(p.into()),
                title: None,
                body: None,
            })
        }),
        parent_id: parent_id.map(Into::into),
        author: author.map(Into::into),
        // Reddit has no author website.
        author_url: None,
    };
    Ok((
        comment,
        ExportFields {
            subreddit,
            ..ExportFields::default()
        },
        skip,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_pushshift_fields() {
        let (c, e, skip) = parse(
            br#"{"id":"c2","body":"Nice &amp; clear","parent_id":"t1_c1","link_id":"t3_p9","subreddit":"gardening","author":"fern","score":3,"created_utc":"1600000000"}"#,
        )
        .unwrap();
        assert_eq!(c.id, "c2");
        assert_eq!(c.parent_id.as_deref(), Some("c1"));
        assert_eq!(c.post_id(), Some("p9"));
        assert_eq!(c.author.as_deref(), Some("fern"));
        assert_eq!(e.subreddit.as_deref(), Some("gardening"));
        assert_eq!(skip, None);
        let (c, _, skip) =
            parse(br#"{"name":"t1_x","body":"[removed]","parent_id":"t3_p","author":"[deleted]"}"#)
                .unwrap();
        assert_eq!(c.id, "x");
        assert_eq!(c.parent_id, None);
        assert_eq!(c.post_id(), Some("p"));
        assert_eq!(c.author, None);
        assert_eq!(skip, Some(Skip::Removed));
        assert_eq!(parse(br#"{"id":"q"}"#).unwrap_err().0.as_deref(), Some("q"));
        assert!(parse(br#"{"body":"x"}"#).is_err());
        assert!(parse(b"{").is_err());
    }
}
