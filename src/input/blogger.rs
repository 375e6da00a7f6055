//! Reader for Blogger exports: the Atom feed Blogger writes when a blog is backed up.
//!
//! Two generations of the format are read, told apart per entry rather than per file:
//!
//! - **Legacy export** (Settings → Other → Back up content, `blog-MM-DD-YYYY.xml`, and the
//!   GData comment feeds it is built from): every post, page, comment, setting and template is
//!   an `<entry>`, its kind given by
//!   `<category scheme='http://schemas.google.com/g/2005#kind'
//!   term='http://schemas.google.com/blogger/2008/kind#comment'/>`. A comment names its post
//!   with `<thr:in-reply-to ref='tag:blogger.com,1999:blog-B.post-P' source='…/posts/default/P'/>`
//!   and, when it is a reply, its parent comment with
//!   `<link rel='related' href='…/feeds/B/P/comments/default/PARENT'/>`. A comment whose text
//!   was removed (by its author or an administrator) keeps a placeholder text and carries
//!   `<gd:extendedProperty name='blogger.contentRemoved' value='true'/>`.
//! - **Takeout / 2018 export** (`feed.atom`, namespace `http://schemas.google.com/blogger/2018`):
//!   the kind is `<blogger:type>COMMENT</blogger:type>`, the post is `<blogger:parent>`, the
//!   parent comment `<blogger:inReplyTo>` (empty for top-level comments), the state
//!   `<blogger:status>` (`LIVE`, `SPAM`, `PENDING`, …) and `<blogger:trashed>` (empty, or the
//!   time the entry was moved to the trash).
//!
//! Namespaces are resolved, so files re-saved with other prefixes (`ns0:`, `atom:`) read the
//! same; files that forget to declare them are read by the usual prefixes. Elements are
//! recognised wherever they sit in an entry, whatever their order.
//!
//! # Records
//!
//! Each comment entry gives one item. Ids are Blogger's numeric ids (the `NNN` of
//! `tag:blogger.com,1999:blog-B.post-NNN`), so a comment's `parent_id` and its post's id match
//! the `id` of the comment and post they name. The post (or page) carries its id and title when
//! the post's entry came earlier in the file (Blogger writes posts before comments); post bodies
//! are not kept, so memory stays bounded by the number of posts, not their size. The comment
//! text is the `<content>` (or `<summary>`) decoded from XML, still holding its HTML. The
//! author is the entry's `<author><name>`; [`Comment::author_url`] is its `<uri>` (a Blogger
//! profile, or the website a Name/URL commenter typed), empty for an author without one, and
//! `None` for an entry without an author.
//!
//! [`ExportFields::is_deleted`] is set for every comment: `true` when Blogger removed its text
//! (`blogger.contentRemoved`, status `DELETED`/`EMPTIED`) or it is in the trash. Such a
//! comment is reported with [`Skip::Deleted`] only when its text is gone (removed, empty, or
//! Blogger's "This comment has been removed" placeholder); otherwise it is classified.
//! [`ExportFields::is_spam`] is set from `<blogger:status>` when the export has one.
//!
//! # Malformed input
//!
//! - Predefined entities and character references are decoded; other entity references
//!   (DTD-defined, HTML such as `&nbsp;`, unknown) are kept as written and never expanded, so a
//!   "billion laughs" DTD costs nothing.
//! - Invalid UTF-8 (or a NUL byte) inside a comment entry makes that comment an error record;
//!   reading goes on with the next entry.
//! - End tags are matched by the reader, as HTML parsers do: an end tag closes the innermost
//!   open element of its name and any left open inside it, and an `<entry>` starting inside
//!   another closes that one. So a missing, mistyped or stray end tag costs at most the entry
//!   it is in (an entry whose own elements were left open, or that holds a stray end tag, is an
//!   error), and reading goes on; an entry only missing its `</entry>` reads whole.
//! - Any other XML syntax error ends the stream with one error record: for the comment being
//!   read when it may be one, else for the document, at the error's byte offset.
//! - A document cut short ends with one error record: for the comment entry being read if
//!   there is one (its kind may not have been read yet), else "truncated document".
//! - An empty input (nothing but whitespace) gives no records; input with markup but no root
//!   element gives one error record.
//! - Markup nested more than 256 levels deep is skipped unparsed (so any depth costs neither
//!   stack nor memory) and makes the entry holding it an error; reading goes on with the next
//!   entry. One token longer than 64 MiB ends the stream with an error record.

use super::xml::{
    EventReader, OpenNames, Records, StreamOptions, Utf8Stream, attribute_value, configure,
    floor_char_boundary, next_in_order, position, push_cut, recycled, resolve_reference,
    skip_content,
};
use super::{ByteStream, ExportFields, Position, Record, RecordError, RecordResult, Skip};
use crate::comment::{Comment, Post};
use quick_xml::Reader;
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, Event};
use std::collections::{HashMap, VecDeque};
#[cfg(test)]
use std::io::Read;
use std::sync::Arc;

/// The longest run of input without a `<` or `>`: bounds the size of any one XML token.
const MAX_TOKEN: u64 = 64 << 20;
/// The longest comment text kept (Blogger itself allows 4,096 characters).
const MAX_TEXT: usize = 1 << 20;
/// The longest value kept for the other fields of an entry.
const MAX_FIELD: usize = 64 << 10;
/// The longest post title kept.
const MAX_TITLE: usize = 4 << 10;
/// Markup nested deeper than this inside an entry makes the entry an error; deeper elements
/// are skipped unparsed, inside entries or not.
const MAX_DEPTH: usize = 256;

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
const ATOM_03_NS: &str = "http://purl.org/atom/ns#";
const BLOGGER_NS_PREFIX: &str = "http://schemas.google.com/blogger/";
const THREAD_NS: &str = "http://purl.org/syndication/thread/1.0";
const GDATA_NS: &str = "http://schemas.google.com/g/2005";

/// Reads the comments of a Blogger export (legacy or Takeout Atom), one item per comment.
pub(crate) fn read(
    stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    Box::new(Records(BloggerReader::new(stream, source)))
}

/// The elements the reader looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Feed,
    Entry,
    Id,
    Title,
    Content,
    Summary,
    Author,
    Name,
    /// `author/uri`
    Uri,
    Link,
    Category,
    /// `blogger:type`
    Type,
    /// `blogger:status`
    Status,
    /// `blogger:parent`
    Parent,
    /// `blogger:inReplyTo`
    InReplyTo,
    /// `blogger:trashed`
    Trashed,
    /// `thr:in-reply-to`
    ThrInReplyTo,
    /// `gd:extendedProperty`
    ExtendedProperty,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Atom,
    Blogger,
    Thread,
    GData,
    Other,
}

/// The family of a namespace name.
fn family_of_uri(uri: &str) -> Family {
    match uri {
        ATOM_NS | ATOM_03_NS => Family::Atom,
        THREAD_NS => Family::Thread,
        GDATA_NS => Family::GData,
        s if s.starts_with(BLOGGER_NS_PREFIX) => Family::Blogger,
        _ => Family::Other,
    }
}

/// The family of a prefix no binding declares: the prefixes Blogger uses.
fn family_of_undeclared(prefix: &str) -> Family {
    match prefix {
        "atom" => Family::Atom,
        "blogger" => Family::Blogger,
        "thr" => Family::Thread,
        "gd" => Family::GData,
        _ => Family::Other,
    }
}

/// One namespace binding (`xmlns` or `xmlns:prefix`) of an open element.
struct Binding {
    /// How many elements are open, the binding's own included, while it holds.
    level: usize,
    /// Empty for the default namespace.
    prefix: Box<str>,
    uri: Box<str>,
}

/// The namespace bindings in force, kept with the reader's own stack of open elements (so an
/// end tag that is missing or stray moves them exactly as it moves that stack).
#[derive(Default)]
struct Bindings(Vec<Binding>);

impl Bindings {
    /// Learns the bindings a start tag declares, for an element at `level`.
    fn declare(&mut self, e: &BytesStart<'_>, level: usize) {
        for attribute in e.attributes().with_checks(false) {
            let Ok(attribute) = attribute else { break };
            let key: &str = attribute.key.as_ref();
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(prefix) if !prefix.is_empty() => prefix,
                    _ => continue,
                },
                None => continue,
            };
            let uri = attribute_value(&attribute);
            self.0.push(Binding {
                level,
                prefix: prefix.into(),
                uri: uri.trim().into(),
            });
        }
    }

    /// Forgets the bindings of elements deeper than `level`.
    fn close_to(&mut self, level: usize) {
        while self.0.last().is_some_and(|b| b.level > level) {
            self.0.pop();
        }
    }

    /// The family of an element name, by its prefix's binding. No namespace declared at all
    /// reads plain names as Atom; an undeclared prefix goes by the prefixes Blogger uses.
    fn family(&self, qname: &str) -> Family {
        if self.0.is_empty() && !qname.as_bytes().contains(&b':') {
            return Family::Atom;
        }
        let prefix = match qname.as_bytes().iter().position(|&b| b == b':') {
            Some(colon) => &qname[..colon],
            None => "",
        };
        match self.0.iter().rev().find(|b| &*b.prefix == prefix) {
            Some(b) if b.uri.is_empty() => Family::Atom,
            Some(b) => family_of_uri(&b.uri),
            None if prefix.is_empty() => Family::Atom,
            None => family_of_undeclared(prefix),
        }
    }
}

fn classify(family: Family, local: &str) -> Tag {
    match (family, local) {
        (Family::Atom, "feed") => Tag::Feed,
        (Family::Atom, "entry") => Tag::Entry,
        (Family::Atom, "id") => Tag::Id,
        (Family::Atom, "title") => Tag::Title,
        (Family::Atom, "content") => Tag::Content,
        (Family::Atom, "summary") => Tag::Summary,
        (Family::Atom, "author") => Tag::Author,
        (Family::Atom, "name") => Tag::Name,
        (Family::Atom, "uri") => Tag::Uri,
        (Family::Atom, "link") => Tag::Link,
        (Family::Atom, "category") => Tag::Category,
        (Family::Blogger, "type") => Tag::Type,
        (Family::Blogger, "status") => Tag::Status,
        (Family::Blogger, "parent") => Tag::Parent,
        (Family::Blogger, "inReplyTo") => Tag::InReplyTo,
        (Family::Blogger, "trashed") => Tag::Trashed,
        (Family::Thread, "in-reply-to") => Tag::ThrInReplyTo,
        (Family::GData, "extendedProperty") => Tag::ExtendedProperty,
        _ => Tag::Other,
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    Unknown,
    Comment,
    Post,
    Page,
    Other,
}

/// The text fields of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Title,
    Content,
    Summary,
    AuthorName,
    AuthorUri,
    Type,
    Status,
    Parent,
    InReplyTo,
    Trashed,
}

impl Field {
    fn limit(self) -> usize {
        match self {
            Field::Content | Field::Summary => MAX_TEXT,
            _ => MAX_FIELD,
        }
    }

    fn holds_markup(self) -> bool {
        matches!(self, Field::Content | Field::Summary)
    }
}

/// A text field's value, capped at a length.
#[derive(Debug, Default)]
struct Text {
    value: String,
    present: bool,
    overflow: bool,
}

impl Text {
    fn push(&mut self, piece: &str, limit: usize) {
        if self.overflow {
            return;
        }
        self.overflow = !push_cut(&mut self.value, piece, limit);
    }

    fn trimmed(&self) -> &str {
        self.value.trim()
    }
}

/// An `<entry>` being read.
#[derive(Debug, Default)]
struct Entry {
    index: u64,
    byte: u64,
    line: u64,
    element: String,
    category_kind: Kind,
    id: Text,
    id_done: bool,
    title: Text,
    content: Text,
    summary: Text,
    xhtml: bool,
    authors: u32,
    author_name: Text,
    author_uri: Text,
    btype: Text,
    status: Text,
    parent: Text,
    in_reply_to: Text,
    trashed: Text,
    thr_ref: Option<String>,
    thr_source: Option<String>,
    related: Option<String>,
    edit: Option<String>,
    content_removed: bool,
    /// The direct child of the entry being read.
    child: Option<Tag>,
    /// The field whose text is being collected, and the depth of its element.
    collect: Option<(Field, usize)>,
    /// Why the entry can't be read, when it can't.
    error: Option<String>,
}

impl Entry {
    fn text_mut(&mut self, field: Field) -> &mut Text {
        match field {
            Field::Id => &mut self.id,
            Field::Title => &mut self.title,
            Field::Content => &mut self.content,
            Field::Summary => &mut self.summary,
            Field::AuthorName => &mut self.author_name,
            Field::AuthorUri => &mut self.author_uri,
            Field::Type => &mut self.btype,
            Field::Status => &mut self.status,
            Field::Parent => &mut self.parent,
            Field::InReplyTo => &mut self.in_reply_to,
            Field::Trashed => &mut self.trashed,
        }
    }

    fn fail(&mut self, reason: impl FnOnce() -> String) {
        if self.error.is_none() {
            self.error = Some(reason());
        }
    }

    fn kind(&self) -> Kind {
        if self.btype.present {
            return match self.btype.trimmed().to_ascii_uppercase().as_str() {
                "COMMENT" => Kind::Comment,
                "POST" => Kind::Post,
                "PAGE" => Kind::Page,
                _ => Kind::Other,
            };
        }
        if self.category_kind != Kind::Unknown {
            return self.category_kind;
        }
        if self.thr_ref.is_some() || self.thr_source.is_some() || self.parent.present {
            return Kind::Comment;
        }
        Kind::Unknown
    }

    /// The comment id, once its element has been read whole.
    fn complete_id(&self) -> Option<String> {
        let id = self.id.trimmed();
        (self.id_done && !self.id.overflow && !id.is_empty()).then(|| normalize_id(id))
    }

    fn position(&self, source: &Arc<str>) -> Position {
        position(
            source,
            self.byte,
            Some(self.line),
            Some(self.element.clone()),
        )
    }

    fn push_text(&mut self, text: &str) {
        if let Some((field, _)) = self.collect {
            self.text_mut(field).push(text, field.limit());
        }
    }

    fn push_ref(&mut self, reference: &BytesRef<'_>) {
        let Some((field, _)) = self.collect else {
            return;
        };
        let text = if field.holds_markup() && self.xhtml {
            format!("&{};", &**reference).into()
        } else {
            resolve_reference(reference)
        };
        self.text_mut(field).push(&text, field.limit());
    }

    fn on_start(&mut self, tag: Tag, depth: usize, e: &BytesStart<'_>, empty: bool) {
        if depth >= MAX_DEPTH {
            self.fail(|| format!("markup nested more than {MAX_DEPTH} levels deep in the entry"));
        }
        if let Some((field, _)) = self.collect {
            // Markup inside a field: kept, as HTML, in the comment text; dropped elsewhere.
            if field.holds_markup() {
                let close = if empty { "/>" } else { ">" };
                let text = self.text_mut(field);
                for piece in ["<", &**e, close] {
                    text.push(piece, field.limit());
                }
            }
            return;
        }
        if depth == 3 && self.child == Some(Tag::Author) && self.authors == 1 {
            let field = match tag {
                Tag::Name => Field::AuthorName,
                Tag::Uri => Field::AuthorUri,
                _ => return,
            };
            self.text_mut(field).present = true;
            if !empty {
                self.collect = Some((field, depth));
            }
            return;
        }
        if depth != 2 {
            return;
        }
        if !empty {
            self.child = Some(tag);
        }
        let field = match tag {
            Tag::Id => Field::Id,
            Tag::Title => Field::Title,
            Tag::Content => Field::Content,
            Tag::Summary => Field::Summary,
            Tag::Type => Field::Type,
            Tag::Status => Field::Status,
            Tag::Parent => Field::Parent,
            Tag::InReplyTo => Field::InReplyTo,
            Tag::Trashed => Field::Trashed,
            Tag::Author => {
                self.authors += 1;
                return;
            }
            Tag::Link => {
                let href = self.attr(e, "href");
                match self.attr(e, "rel").as_deref() {
                    Some("related") => self.related = href,
                    Some("edit") => self.edit = href.or(self.edit.take()),
                    Some("self") if self.edit.is_none() => self.edit = href,
                    _ => {}
                }
                return;
            }
            Tag::Category => {
                if let Some(term) = self.attr(e, "term")
                    && term.contains(BLOGGER_NS_PREFIX)
                    && let Some((_, kind)) = term.rsplit_once("kind#")
                {
                    self.category_kind = match kind {
                        "comment" => Kind::Comment,
                        "post" => Kind::Post,
                        "page" => Kind::Page,
                        _ => Kind::Other,
                    };
                }
                return;
            }
            Tag::ThrInReplyTo => {
                self.thr_ref = self.attr(e, "ref").filter(|s| !s.trim().is_empty());
                self.thr_source = self.attr(e, "source").filter(|s| !s.trim().is_empty());
                return;
            }
            Tag::ExtendedProperty => {
                if self.attr(e, "name").as_deref() == Some("blogger.contentRemoved")
                    && self
                        .attr(e, "value")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
                {
                    self.content_removed = true;
                }
                return;
            }
            _ => return,
        };
        if self.text_mut(field).present {
            // A repeated element: the first one counts.
            return;
        }
        if field == Field::Content {
            self.xhtml = self.attr(e, "type").as_deref() == Some("xhtml");
        }
        self.text_mut(field).present = true;
        if !empty {
            self.collect = Some((field, depth));
        } else if field == Field::Id {
            self.id_done = true;
        }
    }

    fn on_end(&mut self, depth: usize, e: &BytesEnd<'_>) {
        if let Some((field, at)) = self.collect {
            if depth == at {
                self.collect = None;
                if field == Field::Id {
                    self.id_done = true;
                }
            } else if field.holds_markup() {
                let text = self.text_mut(field);
                for piece in ["</", e.name().as_ref(), ">"] {
                    text.push(piece, field.limit());
                }
            }
        }
        if depth == 2 {
            self.child = None;
        }
    }

    /// An attribute's value by local name, with predefined entities and character references
    /// decoded (kept as written when it holds another reference).
    fn attr(&mut self, e: &BytesStart<'_>, name: &str) -> Option<String> {
        for attribute in e.attributes().with_checks(false) {
            let Ok(attribute) = attribute else {
                break;
            };
            if attribute.key.local_name().as_ref() != name {
                continue;
            }
            let value = attribute_value(&attribute).into_owned();
            if value.contains('\0') {
                self.fail(|| {
                    format!(
                        "invalid UTF-8 (or a NUL byte) in the <{}> element",
                        e.name().as_ref()
                    )
                });
            }
            return Some(value);
        }
        None
    }
}

/// Blogger's numeric id from any of the forms an export uses: `tag:blogger.com,1999:blog-B.post-N`
/// (also `.page-N`, `.comment-N`), a feed URL ending in `/comments/default/N`,
/// `/posts/default/N` or `/pages/default/N`, or the number itself.
fn normalize_id(raw: &str) -> String {
    let s = raw.trim();
    if let Some(id) = segment_after(s, "/comments/default/") {
        return id;
    }
    for marker in ["/posts/default/", "/pages/default/"] {
        if let Some(id) = segment_after(s, marker) {
            return id;
        }
    }
    let start = [".post-", ".page-", ".comment-"]
        .iter()
        .filter_map(|marker| s.rfind(marker).map(|i| i + marker.len()))
        .max();
    match start {
        Some(i) if i < s.len() => s[i..].to_owned(),
        _ => s.to_owned(),
    }
}

/// The path segment after `marker` in a URL.
fn segment_after(url: &str, marker: &str) -> Option<String> {
    let rest = &url[url.find(marker)? + marker.len()..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_owned())
}

/// The post id in a comment feed URL `…/feeds/BLOG/POST/comments/default/COMMENT`.
fn post_of_comment_url(url: &str) -> Option<String> {
    let before = &url[..url.find("/comments/")?];
    let post = before.rsplit('/').next()?;
    (!post.is_empty()).then(|| post.to_owned())
}

/// Whether a text is Blogger's placeholder for a removed comment.
fn is_removal_notice(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("has been removed by") || lower.contains("comment has been deleted")
}

/// The byte stream under the XML parser: replaces each byte of invalid UTF-8 with a NUL (so
/// the parser never stops on it and the entry holding it can be reported), counts lines and
/// bytes, and bounds the size of a token.
type Guard = Utf8Stream<BloggerInput>;

/// How the Blogger reader's [`Guard`] treats its input.
struct BloggerInput;

impl StreamOptions for BloggerInput {
    const REPLACEMENT: u8 = 0;
    const MAX_TOKEN: Option<u64> = Some(MAX_TOKEN);
}

/// The streaming reader.
struct BloggerReader {
    xml: Reader<Guard>,
    /// The namespace bindings in force.
    bindings: Bindings,
    source: Arc<str>,
    buf: Vec<u8>,
    /// Elements open.
    depth: usize,
    /// The root element's name, once open.
    root: Option<String>,
    /// Whether anything but whitespace was read.
    saw_markup: bool,
    /// `<entry>` children of the root so far.
    entries: u64,
    entry: Option<Entry>,
    /// Posts and pages read so far, by id.
    posts: HashMap<String, Arc<Post<'static>>>,
    done: bool,
    /// The names of the open elements, outermost first (as many as `depth`).
    open_names: OpenNames,
    /// Whether the root element has been closed (and no other has opened since).
    root_closed: bool,
    /// Whether the root was reopened for entries after its end tag.
    root_implied: bool,
    /// Items complete before the one being returned (when one event completes several).
    queue: VecDeque<RecordResult>,
}

impl BloggerReader {
    fn new(stream: ByteStream, source: Arc<str>) -> Self {
        let mut xml = Reader::from_reader(Guard::new(stream));
        // End tags are matched here (see `end_tag`), and namespaces resolved with the same
        // stack of open elements.
        configure(xml.config_mut(), false);
        BloggerReader {
            xml,
            bindings: Bindings::default(),
            source,
            buf: Vec::new(),
            depth: 0,
            root: None,
            saw_markup: false,
            entries: 0,
            entry: None,
            posts: HashMap::new(),
            done: false,
            open_names: OpenNames::default(),
            root_closed: false,
            root_implied: false,
            queue: VecDeque::new(),
        }
    }

    /// Reads one event; returns an item when one is complete.
    fn step(&mut self) -> Option<RecordResult> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let guard = self.xml.get_ref();
        let (start, line) = (guard.consumed, guard.newlines + 1);
        // The parser's offsets leave out a byte order mark; ours don't.
        let shift = start.saturating_sub(self.xml.buffer_position());
        let item = match self.xml.read_event_into(&mut buf) {
            Ok(event) => self.on_event(event, start, line),
            Err(error) => {
                let at = self.xml.error_position() + shift;
                let line = (at == start).then_some(line);
                let reason = if self.xml.get_ref().overlong {
                    format!(
                        "more than {} MiB without a `<` or `>`: not a Blogger export, or corrupt",
                        MAX_TOKEN >> 20
                    )
                } else {
                    match error {
                        quick_xml::Error::Io(e) => format!("read error: {e}"),
                        e if self.xml.get_ref().at_end() => {
                            format!("truncated document: XML error at byte {at}: {e}")
                        }
                        e => format!("XML error at byte {at}: {e}"),
                    }
                };
                self.fatal(reason, at, line)
            }
        };
        self.buf = recycled(buf);
        item
    }

    fn on_event(&mut self, event: Event<'_>, start: u64, line: u64) -> Option<RecordResult> {
        match event {
            Event::Start(e) => self.on_start(&e, false, start, line),
            Event::Empty(e) => self.on_start(&e, true, start, line),
            Event::End(e) => {
                let name = e.name();
                self.end_tag(name.as_ref(), start, line)
            }
            Event::Text(t) => {
                self.on_text(&t, &t.xml10_content(), start);
                None
            }
            Event::CData(c) => {
                let content = c.xml10_content();
                let text = match &self.entry {
                    Some(entry) if entry.xhtml => quick_xml::escape::escape(content),
                    _ => content,
                };
                self.on_text(&c, &text, start + "<![CDATA[".len() as u64);
                None
            }
            Event::GeneralRef(r) => {
                if let Some(entry) = &mut self.entry {
                    entry.push_ref(&r);
                } else if self.depth == 0 {
                    self.saw_markup = true;
                }
                None
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {
                self.saw_markup = true;
                None
            }
            Event::Eof => self.on_eof(start, line),
        }
    }

    fn on_text(&mut self, raw: &str, text: &str, start: u64) {
        if let Some(entry) = &mut self.entry {
            if let Some(i) = raw.find('\0') {
                let at = start + i as u64;
                entry.fail(|| format!("invalid UTF-8 (or a NUL byte) at byte {at}"));
            }
            entry.push_text(text);
        } else if self.depth == 0 && !raw.trim().is_empty() {
            self.saw_markup = true;
        }
    }

    fn on_start(
        &mut self,
        e: &BytesStart<'_>,
        empty: bool,
        start: u64,
        line: u64,
    ) -> Option<RecordResult> {
        self.saw_markup = true;
        let qname = e.name();
        let qname = qname.as_ref();
        let level = self.open_names.len() + 1;
        let mark = self.bindings.0.len();
        if e.len() > qname.len() && memchr::memmem::find((**e).as_bytes(), b"xmlns").is_some() {
            self.bindings.declare(e, level);
        }
        let local = match qname.as_bytes().iter().rposition(|&b| b == b':') {
            Some(colon) => &qname[colon + 1..],
            None => qname,
        };
        let tag = classify(self.bindings.family(qname), local);
        if tag == Tag::Entry && !empty && self.depth >= 2 && self.root.is_some() {
            // An entry inside an entry: the end tags before it are missing. Its own bindings
            // move to the level it gets.
            let declared: Vec<Binding> = self.bindings.0.drain(mark..).collect();
            self.close_down_to(1, true);
            let level = self.open_names.len() + 1;
            self.bindings
                .0
                .extend(declared.into_iter().map(|b| Binding { level, ..b }));
        }
        let item = self.on_tag(e, tag, empty, start, line);
        // An empty element's bindings end with it.
        self.bindings.close_to(self.open_names.len());
        item
    }

    /// A start tag (or an empty-element tag) of a known kind.
    fn on_tag(
        &mut self,
        e: &BytesStart<'_>,
        tag: Tag,
        empty: bool,
        start: u64,
        line: u64,
    ) -> Option<RecordResult> {
        let mut depth = self.depth;
        if depth == 0 && self.root_closed && tag == Tag::Entry {
            // Entries after `</feed>`: that end tag was stray. The root goes on.
            if let Some(root) = self.root.clone() {
                self.open_names.push(&root);
            }
            self.depth = 1;
            self.root_closed = false;
            self.root_implied = true;
            depth = 1;
        }
        if depth == 0 {
            if self.root_closed && tag != Tag::Feed {
                let reason = format!(
                    "<{}> after the end of the root element: the rest of the file is not read",
                    e.name().as_ref()
                );
                return self.fatal(reason, start, Some(line));
            }
            // (A second `<feed>` after the first: files concatenated. It is read on.)
            self.root_closed = false;
            if tag != Tag::Feed {
                let reason = format!(
                    "the root element is <{}>, not an Atom <feed>: this is not a Blogger export",
                    e.name().as_ref()
                );
                return self.fatal(reason, start, Some(line));
            }
            self.root = Some(e.name().as_ref().to_owned());
            if empty {
                self.done = true;
            } else {
                self.depth = 1;
                self.open_names.push(e.name().as_ref());
            }
            return None;
        }
        if depth == 1 && tag == Tag::Entry {
            self.entries += 1;
            let root = self.root.as_deref().unwrap_or("feed");
            self.entry = Some(Entry {
                index: self.entries,
                byte: start,
                line,
                element: format!("{root}/{}[{}]", e.name().as_ref(), self.entries),
                ..Entry::default()
            });
            if empty {
                return self.finish_entry();
            }
        } else if let Some(entry) = &mut self.entry {
            entry.on_start(tag, depth, e, empty);
        }
        if !empty {
            self.depth += 1;
            self.open_names.push(e.name().as_ref());
            if self.depth > MAX_DEPTH {
                // Skipped unparsed up to its end tag (an entry holding it has failed already),
                // so nesting costs neither stack nor memory. At the end of the input the next
                // event is `Eof`, which reports the truncation.
                if let Err(e) = skip_content(self.xml.get_mut()) {
                    return self.fatal(format!("read error: {e}"), start, Some(line));
                }
            }
        }
        None
    }

    /// An end tag: it closes the innermost open element of its name, and the elements inside
    /// that one that were left open (which makes the entry being read an error); a stray one
    /// (no element of its name is open) is passed over, and fails the entry it is in.
    fn end_tag(&mut self, name: &str, start: u64, line: u64) -> Option<RecordResult> {
        let open = self.open_names.len();
        match self.open_names.rposition(name) {
            Some(i) if i + 1 == open => {
                self.open_names.pop();
                self.bindings.close_to(self.open_names.len());
                self.on_end(&BytesEnd::new(name))
            }
            Some(i) => {
                // Elements left open inside the entry make it an error; the entry's own
                // `</entry>` left out (before `</feed>`, say) does not.
                let unclosed = self.open_names.get(open - 1).to_owned();
                if open > 2
                    && let Some(entry) = &mut self.entry
                {
                    entry.fail(|| {
                        format!("malformed XML: <{unclosed}> is not closed before </{name}>")
                    });
                }
                // The items this completes wait in the queue, in order.
                self.close_down_to(i, false);
                None
            }
            None => match &mut self.entry {
                Some(entry) => {
                    entry.fail(|| format!("malformed XML: unexpected </{name}>"));
                    None
                }
                // An entry's end tag with no entry open: its start tag is missing or
                // mistyped, and its fields were read as the feed's. One error stands for it.
                None if name.rsplit(':').next() == Some("entry") && self.root.is_some() => {
                    Some(Err(RecordError {
                        position: position(&self.source, start, Some(line), None),
                        id: None,
                        reason: format!(
                            "</{name}> with no entry open: the entry's start tag is missing or \
                             mistyped, so the entry (a comment, if it was one) is not read"
                        ),
                    }))
                }
                None => None,
            },
        }
    }

    /// Closes open elements until `depth` are left, queueing the items that completes. With
    /// `implied`, elements left open inside an entry make it an error.
    fn close_down_to(&mut self, depth: usize, implied: bool) {
        while self.open_names.len() > depth {
            let name = self.open_names.get(self.open_names.len() - 1).to_owned();
            self.open_names.pop();
            if implied
                && self.open_names.len() >= 2
                && let Some(entry) = &mut self.entry
            {
                entry.fail(|| format!("malformed XML: <{name}> is not closed before <entry>"));
            }
            self.bindings.close_to(self.open_names.len());
            if let Some(item) = self.on_end(&BytesEnd::new(&*name)) {
                self.queue.push_back(item);
            }
        }
    }

    fn on_end(&mut self, e: &BytesEnd<'_>) -> Option<RecordResult> {
        if self.depth == 0 {
            return None;
        }
        self.depth -= 1;
        match self.depth {
            0 => {
                // The root is closed. What may follow: nothing, another export (files
                // concatenated), or entries after a stray `</feed>` (see `on_tag`).
                self.root_closed = true;
                None
            }
            1 => self.finish_entry(),
            depth => {
                if let Some(entry) = &mut self.entry {
                    entry.on_end(depth, e);
                }
                None
            }
        }
    }

    fn on_eof(&mut self, at: u64, line: u64) -> Option<RecordResult> {
        // After the root, or in a root reopened for entries after a stray `</feed>` (whose own
        // end tag was that one), the input may end.
        if (self.root_closed && self.depth == 0)
            || (self.root_implied && self.depth == 1 && self.entry.is_none())
        {
            self.done = true;
            return None;
        }
        if self.root.is_none() {
            self.done = true;
            return self.saw_markup.then(|| {
                Err(RecordError {
                    position: position(&self.source, at, Some(line), None),
                    id: None,
                    reason: "no root element: the document is truncated, or not XML".into(),
                })
            });
        }
        let reason = if self.entry.is_some() {
            "truncated document: the input ends inside this entry".to_owned()
        } else {
            let root = self.root.as_deref().unwrap_or("feed");
            format!("truncated document: the input ends before </{root}>")
        };
        self.fatal(reason, at, Some(line))
    }

    /// Ends the stream with one error: for the entry being read when it may be a comment,
    /// else for the document.
    fn fatal(&mut self, reason: String, byte: u64, line: Option<u64>) -> Option<RecordResult> {
        self.done = true;
        let mut element = self.root.clone();
        if let Some(entry) = self.entry.take() {
            if matches!(entry.kind(), Kind::Comment | Kind::Unknown) {
                let reason = if reason.starts_with("truncated") {
                    reason
                } else {
                    format!("{reason} (reading stopped inside this entry)")
                };
                return Some(Err(RecordError {
                    position: entry.position(&self.source),
                    id: entry.complete_id(),
                    reason,
                }));
            }
            element = Some(entry.element);
        }
        Some(Err(RecordError {
            position: position(&self.source, byte, line, element),
            id: None,
            reason,
        }))
    }

    fn finish_entry(&mut self) -> Option<RecordResult> {
        let entry = self.entry.take()?;
        match entry.kind() {
            Kind::Comment => Some(self.comment(entry)),
            Kind::Post | Kind::Page => {
                self.add_post(&entry);
                None
            }
            Kind::Other | Kind::Unknown => None,
        }
    }

    fn add_post(&mut self, entry: &Entry) {
        let id = entry.id.trimmed();
        if id.is_empty() || entry.id.overflow {
            return;
        }
        let id = normalize_id(id);
        let title = entry.title.trimmed();
        let title = &title[..floor_char_boundary(title, MAX_TITLE)];
        let title = (!title.is_empty()).then(|| title.replace('\0', "\u{FFFD}").into());
        let post = Post {
            id: Some(id.clone().into()),
            title,
            body: None,
        };
        self.posts.insert(id, Arc::new(post));
    }

    fn comment(&self, entry: Entry) -> RecordResult {
        let position = entry.position(&self.source);
        let id = entry.complete_id();
        let fail = |reason: String| {
            Err(RecordError {
                position: position.clone(),
                id: id.clone(),
                reason,
            })
        };
        if let Some(reason) = entry.error {
            return fail(reason);
        }
        if entry.id.overflow {
            return fail(format!("the <id> is longer than {} KiB", MAX_FIELD >> 10));
        }
        let text = if entry.content.present {
            &entry.content
        } else if entry.summary.present {
            &entry.summary
        } else {
            return fail("the comment has no <content>".into());
        };
        if text.overflow {
            return fail(format!(
                "the comment text is longer than {} MiB",
                MAX_TEXT >> 20
            ));
        }
        let text = text.trimmed();
        let id = id.unwrap_or_else(|| format!("entry-{}", entry.index));

        let post_id = [
            entry.parent.trimmed(),
            entry.thr_ref.as_deref().unwrap_or(""),
        ]
        .into_iter()
        .find(|s| !s.is_empty())
        .map(normalize_id)
        .or_else(|| entry.thr_source.as_deref().map(normalize_id))
        .or_else(|| entry.edit.as_deref().and_then(post_of_comment_url));
        let post = post_id.map(|pid| {
            self.posts.get(&pid).cloned().unwrap_or_else(|| {
                Arc::new(Post {
                    id: Some(pid.into()),
                    title: None,
                    body: None,
                })
            })
        });
        let parent_id = Some(entry.in_reply_to.trimmed())
            .filter(|s| !s.is_empty())
            .map(normalize_id)
            .or_else(|| {
                entry
                    .related
                    .as_deref()
                    .and_then(|url| segment_after(url, "/comments/default/"))
            })
            .filter(|p| {
                *p != id && Some(p.as_str()) != post.as_ref().and_then(|p| p.id.as_deref())
            });
        let author = Some(entry.author_name.trimmed())
            .filter(|s| !s.is_empty())
            .map(|s| s.to_owned().into());
        // An entry with an author says whether it gave a website: its `uri`, else none.
        let author_url = (entry.authors > 0).then(|| entry.author_uri.trimmed().to_owned().into());

        let status = entry.status.trimmed().to_ascii_uppercase();
        let trashed = !entry.trashed.trimmed().is_empty();
        let emptied = entry.content_removed || status == "EMPTIED";
        let removed = emptied || matches!(status.as_str(), "DELETED" | "REMOVED");
        let gone = emptied || text.is_empty() || is_removal_notice(text);
        let skip = ((removed || trashed) && gone).then_some(Skip::Deleted);
        let export = ExportFields {
            is_deleted: Some(removed || trashed),
            is_spam: entry.status.present.then(|| status == "SPAM"),
            ..ExportFields::default()
        };
        Ok(Record {
            comment: Comment {
                id: id.into(),
                text: text.to_owned().into(),
                post,
                parent_id: parent_id.map(Into::into),
                author,
                author_url,
            },
            position,
            export,
            skip,
        })
    }
}

impl EventReader for BloggerReader {
    fn is_done(&self) -> bool {
        self.done && self.queue.is_empty()
    }

    fn next_item(&mut self) -> Option<RecordResult> {
        next_in_order(self, |r| &mut r.queue, Self::step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ids() {
        assert_eq!(normalize_id("tag:blogger.com,1999:blog-12.post-345"), "345");
        assert_eq!(normalize_id(" tag:blogger.com,1999:blog-12.page-9 "), "9");
        assert_eq!(
            normalize_id("tag:blogger.com,1999:blog-9.post-21.comment-5"),
            "5"
        );
        assert_eq!(
            normalize_id("https://www.blogger.com/feeds/12/34/comments/default/56?v=2"),
            "56"
        );
        assert_eq!(
            normalize_id("http://www.blogger.com/feeds/12/posts/default/34"),
            "34"
        );
        assert_eq!(
            normalize_id("http://www.blogger.com/feeds/12/pages/default/35"),
            "35"
        );
        assert_eq!(normalize_id("789"), "789");
        assert_eq!(
            post_of_comment_url("https://www.blogger.com/feeds/12/34/comments/default/56"),
            Some("34".into())
        );
    }

    #[test]
    fn guard_replaces_invalid_utf8_and_counts() {
        let input: &[u8] = b"a\n\xFFb\xE2\x82\n<\xE2\x82\xAC>\xF0\x9F";
        let mut guard = Guard::new(Box::new(input));
        let mut out = Vec::new();
        guard.read_to_end(&mut out).ok();
        assert_eq!(out, b"a\n\0b\0\0\n<\xE2\x82\xAC>\0\0");
        assert_eq!(guard.consumed, input.len() as u64);
        assert_eq!(guard.newlines, 2);
        assert_eq!(guard.run, 2);
    }
}
