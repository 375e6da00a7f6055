//! Reddit comments as Pushshift NDJSON: one comment object per line.
//!
//! Used fields: `id` (or `name` without its `t1_` prefix), `body`, `parent_id` (`t1_…` for a
//! reply to a comment, `t3_…` for a top-level comment), `link_id` (`t3_…`, the submission),
//! `subreddit` and `author`. Kind prefixes are removed, so a reply's `parent_id` equals its
//! parent's `id` and the post id is the submission's base-36 id. Bodies `[deleted]` and
//! `[removed]` (and Reddit's other stand-ins, such as `[ Removed by Reddit ]`) are reported
//! with [`Skip`], not classified; the author `[deleted]` is dropped.
//!
//! Pushshift keeps submissions (`RS_…` files) apart from comments (`RC_…`), but exports of
//! single threads and concatenated dumps mix them. A line with a `title` and no `body` is a
//! submission: it yields no record, and the comments after it that answer it carry its title as
//! their post's. The titles of the last [`KEPT_SUBMISSIONS`] submissions are kept, so memory
//! stays bounded whatever the number of submissions.

use super::jsonl::{Scalar, pick_fields, text_field};
use super::lines::{Lines, Parsed};
use super::xml::floor_char_boundary;
use super::{ByteStream, ExportFields, RecordResult, Skip};
use crate::comment::{Comment, Post};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

const FIELDS: [&str; 8] = [
    "id",
    "name",
    "body",
    "parent_id",
    "link_id",
    "subreddit",
    "author",
    "title",
];

/// How many submissions' titles a reader remembers.
pub const KEPT_SUBMISSIONS: usize = 16_384;

/// The longest title kept, in bytes (Reddit allows 300 characters; a longer one is cut).
const MAX_TITLE: usize = 1_200;

/// Reads a Pushshift comment dump.
pub(crate) fn read(
    stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    let mut lines = Lines::new(stream, source);
    let mut submissions = Submissions::default();
    Box::new(std::iter::from_fn(move || {
        lines.next_record_among(|bytes, _| parse(bytes, &mut submissions))
    }))
}

/// The posts of the submissions read last, by id.
#[derive(Default)]
pub(crate) struct Submissions {
    by_id: HashMap<String, Arc<Post<'static>>>,
    /// Ids in the order they were first kept, oldest first.
    order: VecDeque<String>,
}

impl Submissions {
    fn keep(&mut self, post: Post<'static>) {
        let Some(id) = post.id.as_deref().map(str::to_owned) else {
            return;
        };
        if self.by_id.insert(id.clone(), Arc::new(post)).is_none() {
            self.order.push_back(id);
            if self.order.len() > KEPT_SUBMISSIONS
                && let Some(oldest) = self.order.pop_front()
            {
                self.by_id.remove(&oldest);
            }
        }
    }

    /// Gives a parsed comment the post of its submission, when that was read.
    fn attach(&self, mut parsed: Parsed) -> Parsed {
        if let Ok((comment, _, _)) = &mut parsed
            && let Some(known) = comment.post_id().and_then(|id| self.by_id.get(id))
        {
            comment.post = Some(known.clone());
        }
        parsed
    }
}

fn strip_kind<'s>(id: &'s str, kind: &str) -> &'s str {
    id.strip_prefix(kind).unwrap_or(id)
}

/// The id of a comment (`kind` `t1_`) or submission (`t3_`): its `id`, else its `name` without
/// the kind prefix; `None` when neither gives a non-empty id.
fn thing_id(
    id: Option<Scalar>,
    name: Option<Scalar>,
    kind: &str,
) -> Result<Option<String>, String> {
    let id = match text_field("id", id)? {
        Some(id) => Some(id),
        None => text_field("name", name)?.map(|n| strip_kind(&n, kind).to_owned()),
    };
    Ok(id.filter(|i| !i.is_empty()))
}

/// Reads one line: a comment, given the post of its submission when that was read, or `None`
/// for a submission, which `submissions` keeps.
pub(crate) fn parse(bytes: &[u8], submissions: &mut Submissions) -> Option<Parsed> {
    match parse_line(bytes) {
        Ok(Err(post)) => {
            submissions.keep(post);
            None
        }
        Ok(Ok(comment)) => Some(submissions.attach(Ok(comment))),
        Err(e) => Some(Err(e)),
    }
}

/// Whether a body is Reddit's stand-in for a comment that is gone: `[deleted]` (by its author;
/// also `[deleted by user]`) or `[removed]` (by moderators), and the texts Reddit puts in place
/// of comments its admins removed (`[ Removed by Reddit ]`, also with the policy link after it).
/// Case and the spaces around the text do not matter.
fn upstream_skip(body: &str) -> Option<Skip> {
    let body = body.trim();
    // Every stand-in starts with `[` and is short.
    if !body.starts_with('[') || body.len() > 300 {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    match lower.as_str() {
        "[deleted]" | "[deleted by user]" => Some(Skip::Deleted),
        "[removed]" => Some(Skip::Removed),
        _ if lower.starts_with("[ removed by reddit")
            || lower.starts_with("[removed by reddit") =>
        {
            Some(Skip::Removed)
        }
        _ => None,
    }
}

/// A comment line, or a submission line's post (id and title).
type Line = Result<(Comment<'static>, ExportFields, Option<Skip>), Post<'static>>;

fn parse_line(bytes: &[u8]) -> Result<Line, (Option<String>, String)> {
    let picked = pick_fields(bytes, &FIELDS).map_err(|e| (None, e))?;
    let Ok([id, name, body, parent_id, link_id, subreddit, author, title]) =
        <[Option<Scalar>; 8]>::try_from(picked)
    else {
        return Err((None, "internal error: field count".into()));
    };
    if body.is_none() && !matches!(title, None | Some(Scalar::Null)) {
        // A submission without a usable id names no post, and is passed over.
        let id = thing_id(id, name, "t3_").ok().flatten();
        let title = text_field("title", title).ok().flatten().map(|mut t| {
            t.truncate(floor_char_boundary(&t, MAX_TITLE));
            t
        });
        return Ok(Err(Post {
            id: id.map(Into::into),
            title: title.map(Into::into),
            body: None,
        }));
    }
    let Some(id) = thing_id(id, name, "t1_").map_err(|e| (None, e))? else {
        return Err((None, "field `id` is missing".into()));
    };
    let err = |reason: String| (Some(id.clone()), reason);
    let body = match body {
        Some(Scalar::Text(s)) => s,
        None | Some(Scalar::Null) => return Err(err("field `body` is missing".into())),
        Some(_) => return Err(err("field `body` must be a string".into())),
    };
    let skip = upstream_skip(&body);
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
    Ok(Ok((
        comment,
        ExportFields {
            subreddit,
            ..ExportFields::default()
        },
        skip,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_comment(bytes: &[u8]) -> Parsed {
        parse(bytes, &mut Submissions::default()).expect("a comment, not a submission")
    }

    #[test]
    fn maps_pushshift_fields() {
        let (c, e, skip) = parse_comment(
            br#"{"id":"c2","body":"Nice &amp; clear","parent_id":"t1_c1","link_id":"t3_p9","subreddit":"gardening","author":"fern","score":3,"created_utc":"1600000000"}"#,
        )
        .unwrap();
        assert_eq!(c.id, "c2");
        assert_eq!(c.parent_id.as_deref(), Some("c1"));
        assert_eq!(c.post_id(), Some("p9"));
        assert_eq!(c.author.as_deref(), Some("fern"));
        assert_eq!(e.subreddit.as_deref(), Some("gardening"));
        assert_eq!(skip, None);
        let (c, _, skip) = parse_comment(
            br#"{"name":"t1_x","body":"[removed]","parent_id":"t3_p","author":"[deleted]"}"#,
        )
        .unwrap();
        assert_eq!(c.id, "x");
        assert_eq!(c.parent_id, None);
        assert_eq!(c.post_id(), Some("p"));
        assert_eq!(c.author, None);
        assert_eq!(skip, Some(Skip::Removed));
        assert_eq!(
            parse_comment(br#"{"id":"q"}"#).unwrap_err().0.as_deref(),
            Some("q")
        );
        assert!(parse_comment(br#"{"body":"x"}"#).is_err());
        assert!(parse_comment(b"{").is_err());
    }

    #[test]
    fn reddit_stand_ins_for_gone_comments_are_skipped() {
        for (body, want) in [
            ("[deleted]", Some(Skip::Deleted)),
            (" [Deleted by user] ", Some(Skip::Deleted)),
            ("[removed]", Some(Skip::Removed)),
            ("[Removed]", Some(Skip::Removed)),
            ("[ Removed by Reddit ]", Some(Skip::Removed)),
            (
                "[ Removed by Reddit on account of violating the [content policy](/help/contentpolicy). ]",
                Some(Skip::Removed),
            ),
            ("[removed] but then I wrote more", None),
            ("[citation needed]", None),
            ("deleted", None),
        ] {
            assert_eq!(upstream_skip(body), want, "{body:?}");
        }
    }

    fn read_all(text: String) -> Vec<RecordResult> {
        let stream: ByteStream = Box::new(std::io::Cursor::new(text.into_bytes()));
        read(stream, "t.ndjson".into()).collect()
    }

    #[test]
    fn submissions_give_their_comments_a_title_and_no_record() {
        let records = read_all(
            [
                r#"{"id":"p1","name":"t3_p1","title":"Best trowel?","selftext":"Mine broke.","subreddit":"gardening","num_comments":2}"#,
                r#"{"id":"c1","body":"This one","link_id":"t3_p1","parent_id":"t3_p1","subreddit":"gardening"}"#,
                r#"{"id":"c2","body":"[deleted]","link_id":"t3_p1","parent_id":"t1_c1"}"#,
                r#"{"id":"c3","body":"Elsewhere","link_id":"t3_p2","parent_id":"t3_p2"}"#,
            ]
            .join("\n"),
        );
        assert_eq!(records.len(), 3, "one record per comment");
        let [c1, c2, c3] = [0, 1, 2].map(|i| records[i].as_ref().expect("comment"));
        assert_eq!(c1.position.line, Some(2));
        let post = c1.comment.post.as_deref().expect("post");
        assert_eq!(
            (post.id.as_deref(), post.title.as_deref()),
            (Some("p1"), Some("Best trowel?"))
        );
        assert_eq!(c2.skip, Some(Skip::Deleted));
        assert_eq!(
            c2.comment.post.as_deref().and_then(|p| p.title.as_deref()),
            Some("Best trowel?")
        );
        // A comment whose submission was not read keeps the bare post id.
        assert_eq!(c3.comment.post_id(), Some("p2"));
        assert_eq!(
            c3.comment.post.as_deref().and_then(|p| p.title.as_deref()),
            None
        );
    }

    #[test]
    fn only_the_latest_submissions_are_remembered() {
        let mut lines: Vec<String> = (0..=KEPT_SUBMISSIONS)
            .map(|i| format!(r#"{{"id":"p{i}","title":"Post {i}","subreddit":"s"}}"#))
            .collect();
        for post in [0, KEPT_SUBMISSIONS] {
            lines.push(format!(
                r#"{{"id":"c{post}","body":"hi","link_id":"t3_p{post}"}}"#
            ));
        }
        let records = read_all(lines.join("\n"));
        let titles: Vec<Option<String>> = records
            .iter()
            .map(|r| {
                let post = r.as_ref().expect("comment").comment.post.clone();
                post.and_then(|p| p.title.as_deref().map(str::to_owned))
            })
            .collect();
        let last = format!("Post {KEPT_SUBMISSIONS}");
        assert_eq!(titles, [None, Some(last)]);
    }

    #[test]
    fn a_long_title_is_cut_at_a_character_boundary() {
        // One ASCII letter, then two-byte characters: byte MAX_TITLE falls inside one.
        let title = format!("a{}", "é".repeat(MAX_TITLE));
        let records = read_all(format!(
            "{{\"id\":\"p\",\"title\":\"{title}\"}}\n\
             {{\"id\":\"c\",\"body\":\"x\",\"link_id\":\"t3_p\"}}"
        ));
        let post = records[0].as_ref().expect("comment").comment.post.clone();
        let kept = post.and_then(|p| p.title.as_deref().map(str::to_owned));
        assert_eq!(kept.as_deref().map(str::len), Some(MAX_TITLE - 1));
        assert!(kept.is_some_and(|t| t.starts_with("aé")));
        // A null title is no submission: the line is a comment without a body.
        let records = read_all(r#"{"id":"q","title":null}"#.to_string());
        assert!(
            records[0]
                .as_ref()
                .is_err_and(|e| e.reason.contains("body"))
        );
    }
}
