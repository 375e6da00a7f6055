//! Telling the format of an input from its first bytes (and, failing that, its name).

use super::Format;

/// The format of an input whose first bytes (after decompression) are `head`; `name` (a file
/// name) breaks ties. `None` when neither tells.
///
/// ```
/// use comment_sieve::input::{detect_format, Format};
/// assert_eq!(detect_format(b"<?xml version=\"1.0\"?><disqus xmlns=\"http://disqus.com\">", "x"), Some(Format::Disqus));
/// assert_eq!(detect_format(br#"{"id":"t1_a","body":"hi","link_id":"t3_b"}"#, "x"), Some(Format::Reddit));
/// assert_eq!(detect_format(br#"{"id":"1","text":"hi"}"#, "x"), Some(Format::Jsonl));
/// assert_eq!(detect_format(br#"[{"id":"1","text":"hi"}]"#, "x"), Some(Format::Json));
/// assert_eq!(detect_format(b"id,text\n1,hi\n", "x"), Some(Format::Csv));
/// ```
pub fn detect_format(head: &[u8], name: &str) -> Option<Format> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let by_name = format_from_name(name);
    let Some(start) = start else {
        return by_name;
    };
    let body = &head[start..];
    match body[0] {
        b'<' => xml_flavour(body).or(by_name.filter(|f| is_xml(*f))),
        b'{' => Some(json_flavour(body)),
        b'[' => Some(Format::Json),
        _ => match by_name {
            Some(f) if !is_xml(f) => Some(f),
            _ if looks_like_csv(body) => Some(Format::Csv),
            _ => None,
        },
    }
}

fn is_xml(format: Format) -> bool {
    matches!(format, Format::Wxr | Format::Disqus | Format::Blogger)
}

fn format_from_name(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".zst"))
        .unwrap_or(&lower);
    let ext = lower.rsplit('.').next()?;
    match ext {
        "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
        "csv" | "tsv" => Some(Format::Csv),
        _ => None,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The local name (without a prefix) of the root element of the XML document starting `body`,
/// past its declaration, comments, processing instructions and doctype; `None` if the head
/// ends first.
fn root_name(body: &[u8]) -> Option<&[u8]> {
    let mut rest = body;
    loop {
        rest = rest.trim_ascii_start();
        let skip_to = |rest: &[u8], end: &[u8]| -> Option<usize> {
            rest.windows(end.len())
                .position(|w| w == end)
                .map(|i| i + end.len())
        };
        if rest.starts_with(b"<?") {
            rest = &rest[skip_to(rest, b"?>")?..];
        } else if rest.starts_with(b"<!--") {
            rest = &rest[skip_to(rest, b"-->")?..];
        } else if rest.starts_with(b"<!") {
            // A doctype; one with an internal subset (`[...]`) ends at `]>`.
            let end = if rest.contains(&b'[') {
                &b"]>"[..]
            } else {
                b">"
            };
            rest = &rest[skip_to(rest, end)?..];
        } else {
            let name = rest.strip_prefix(b"<")?;
            let len = name
                .iter()
                .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')?;
            let name = &name[..len];
            let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
            return Some(local);
        }
    }
}

fn xml_flavour(body: &[u8]) -> Option<Format> {
    // The root element decides when it is one of the three (an export re-saved by another
    // tool may give it a prefix: Python's ElementTree writes `<ns0:disqus>`).
    let mentions_blogger = || contains(body, b"blogger") || contains(body, b"schemas.google.com");
    match root_name(body).map(<[u8]>::to_ascii_lowercase).as_deref() {
        Some(b"disqus") => return Some(Format::Disqus),
        Some(b"feed") if mentions_blogger() => return Some(Format::Blogger),
        Some(b"rss")
            if contains(body, b"wordpress.org/export") || contains(body, b":wxr_version") =>
        {
            return Some(Format::Wxr);
        }
        _ => {}
    }
    if contains(body, b"<disqus") {
        Some(Format::Disqus)
    } else if contains(body, b"wordpress.org/export") || contains(body, b"<wp:wxr_version") {
        Some(Format::Wxr)
    } else if contains(body, b"<feed")
        && (contains(body, b"blogger") || contains(body, b"schemas.google.com"))
    {
        Some(Format::Blogger)
    } else {
        None
    }
}

/// Pushshift comments have `body` plus `link_id` or `subreddit`, Pushshift submissions (which
/// may come first in a file that mixes them with comments) `title` plus `subreddit` and no
/// `body` (or, on a line too long to parse here, a `selftext`); anything else is plain JSONL.
fn json_flavour(body: &[u8]) -> Format {
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or(body);
    let keys: Vec<String> =
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first_line) {
            Ok(map) => map.keys().cloned().collect(),
            Err(_) => {
                // A first line longer than the peeked head: look for the keys as text.
                let has = |k: &[u8]| contains(first_line, k);
                if has(b"\"body\"") && (has(b"\"link_id\"") || has(b"\"subreddit\""))
                    || has(b"\"selftext\"")
                {
                    return Format::Reddit;
                }
                return Format::Jsonl;
            }
        };
    if has_reddit_keys(|k| keys.iter().any(|x| x == k)) {
        Format::Reddit
    } else {
        Format::Jsonl
    }
}

/// Whether a JSON object with the keys `has` says it has is a Pushshift comment or submission.
fn has_reddit_keys(has: impl Fn(&str) -> bool) -> bool {
    let comment = has("body") && (has("link_id") || has("subreddit"));
    let submission = has("title") && has("subreddit") && !has("body");
    (comment || submission) && !has("text")
}

/// Whether `element`, one element of a JSON array, is a Pushshift comment or submission (as
/// `jq -s` makes of a Pushshift dump): then the array is read as Reddit's.
pub(crate) fn is_reddit_object(element: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(element)
        .is_ok_and(|map| has_reddit_keys(|k| map.contains_key(k)))
}

fn looks_like_csv(body: &[u8]) -> bool {
    let first_line = body
        .split(|&b| b == b'\n' || b == b'\r')
        .next()
        .unwrap_or(body);
    // Excel's `sep=X` line names the delimiter of what follows.
    let sep_line = first_line.len() == 5 && first_line[..4].eq_ignore_ascii_case(b"sep=");
    sep_line
        || first_line.contains(&b',')
        || first_line.contains(&b'\t')
        || first_line.contains(&b';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_exports() {
        let wxr = b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<rss version=\"2.0\" xmlns:wp=\"http://wordpress.org/export/1.2/\">";
        assert_eq!(detect_format(wxr, "export.xml"), Some(Format::Wxr));
        let blogger = b"<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'>";
        assert_eq!(detect_format(blogger, "blog.atom"), Some(Format::Blogger));
        assert_eq!(detect_format(b"<html><body>", "page.html"), None);
        // Re-saved by Python's ElementTree: prefixed roots.
        let disqus =
            b"<?xml version='1.0' encoding='utf-8'?>\n<ns0:disqus xmlns:ns0=\"http://disqus.com\">";
        assert_eq!(detect_format(disqus, "d.xml"), Some(Format::Disqus));
        let blogger = b"<!-- saved --><ns0:feed xmlns:ns0=\"http://www.w3.org/2005/Atom\" xmlns:ns1=\"http://schemas.google.com/blogger/2018\">";
        assert_eq!(detect_format(blogger, "b.xml"), Some(Format::Blogger));
        // A Blogger post that links to the WordPress export format is still Blogger's.
        let blogger = b"<feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'><entry><content>see http://wordpress.org/export/1.2/</content>";
        assert_eq!(detect_format(blogger, "b.atom"), Some(Format::Blogger));
        assert_eq!(detect_format(b"", "empty.jsonl"), Some(Format::Jsonl));
        assert_eq!(detect_format(b"   ", "empty"), None);
        assert_eq!(detect_format(b"hello world", "notes.txt"), None);
        assert_eq!(
            detect_format(b"{\"body\": \"x", "rc.ndjson"),
            Some(Format::Jsonl)
        );
        assert_eq!(
            detect_format(b"{\"body\": \"x\", \"subreddit\": \"a", "rc"),
            Some(Format::Reddit)
        );
        // A thread export that starts with its submission.
        let thread =
            b"{\"id\":\"p1\",\"title\":\"Ask me\",\"selftext\":\"\",\"subreddit\":\"a\"}\n\
            {\"id\":\"c1\",\"body\":\"hi\",\"link_id\":\"t3_p1\",\"subreddit\":\"a\"}\n";
        assert_eq!(detect_format(thread, "thread.json"), Some(Format::Reddit));
        assert_eq!(
            detect_format(b"{\"title\":\"x\",\"selftext\":\"long", "rs"),
            Some(Format::Reddit)
        );
        // Comments with a title field of their own stay plain JSONL.
        assert_eq!(
            detect_format(
                b"{\"id\":1,\"text\":\"hi\",\"title\":\"t\",\"subreddit\":\"a\"}\n",
                "c"
            ),
            Some(Format::Jsonl)
        );
    }
}
