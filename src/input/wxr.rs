//! WordPress eXtended RSS (WXR): the XML file WordPress writes from Tools → Export, also
//! written by WordPress.com, `wp export` (WP-CLI) and tools that import into WordPress or
//! Disqus.
//!
//! The file is an RSS 2.0 document: one `item` per post, page or attachment, and inside each
//! item one `wp:comment` element per comment:
//!
//! ```xml
//! <item>
//!   <title>Post title</title>
//!   <content:encoded><![CDATA[<p>Post body</p>]]></content:encoded>
//!   <wp:post_id>14</wp:post_id>
//!   <wp:comment>
//!     <wp:comment_id>101</wp:comment_id>
//!     <wp:comment_author><![CDATA[Marta]]></wp:comment_author>
//!     <wp:comment_content><![CDATA[Nice <em>post</em>]]></wp:comment_content>
//!     <wp:comment_approved><![CDATA[1]]></wp:comment_approved>
//!     <wp:comment_type><![CDATA[comment]]></wp:comment_type>
//!     <wp:comment_parent>0</wp:comment_parent>
//!     <wp:commentmeta>
//!       <wp:meta_key><![CDATA[akismet_result]]></wp:meta_key>
//!       <wp:meta_value><![CDATA[false]]></wp:meta_value>
//!     </wp:commentmeta>
//!   </wp:comment>
//! </item>
//! ```
//!
//! # Versions and variants
//!
//! * WXR 1.0 to 1.2 (namespaces `http://wordpress.org/export/1.x/`), whatever prefix the
//!   file binds them to (`wp` when it declares none).
//! * WordPress 2.x files, which have no `wp:comment_id` and no `wp:post_id` and write the
//!   comment HTML as raw, unescaped markup: nested elements are kept as HTML text, unclosed
//!   HTML tags (`<br>`, `<b>`) are tolerated, and a comment without an id is named by its
//!   element path. The post id then falls back to `dsq:thread_identifier`, `guid` or `link`.
//! * Fields with or without CDATA, CDATA split around `]]>` the way `wxr_cdata()` does it,
//!   whitespace around values (trimmed), and lone `&` characters (WordPress writes
//!   `comment_author_url` unescaped), which are kept as text.
//! * The Disqus import flavour of WXR (`dsq:thread_identifier` instead of `wp:post_id`).
//! * `wp:comment_type`: empty (before WordPress 5.5) or missing is reported as `comment`;
//!   `pingback`, `trackback`, `review`, `note` and others are kept as written.
//! * Comments of any item (posts, pages, attachments, products). No exporter nests comments,
//!   so a `wp:comment` starting inside another ends that one (its `</wp:comment>` is missing),
//!   which then reads whole.
//!
//! A comment gets the post its item describes before the comment ends (WordPress writes the
//! title, body and id before the comments); the post is shared by the item's comments.
//!
//! # Fields
//!
//! [`ExportFields::approved`] is `wp:comment_approved` as written (`1`, `0`, `spam`, `trash`,
//! `post-trashed`), and [`ExportFields::is_deleted`] says whether that is `trash` or
//! `post-trashed`. WordPress keeps the text of trashed comments, so they are classified; only
//! a trashed comment whose text is empty is reported with [`Skip::Deleted`].
//! [`ExportFields::comment_type`] is `wp:comment_type` and
//! [`ExportFields::akismet_result`] the `akismet_result` comment meta (`true` for spam).
//! [`Comment::author`] is `wp:comment_author`, and [`Comment::author_url`] is
//! `wp:comment_author_url`, trimmed: empty when the commenter gave no website, `None` when the
//! element is missing.
//! WordPress leaves spam out of its exports; other tools may not.
//!
//! # Text
//!
//! Text is decoded with XML rules only: the five predefined entities and numeric character
//! references are decoded, CDATA is taken as is, and any other entity reference (`&nbsp;`,
//! or one a DTD defines) is kept as written, never expanded: the comment text is HTML and the
//! normalizer decodes HTML entities later. Comment text keeps its HTML.
//!
//! WordPress writes UTF-8 (`wxr_cdata()` converts to UTF-8 whatever the declared charset).
//! Other tools may not: UTF-16 input and input whose XML declaration names another encoding
//! (`ISO-8859-1`, `windows-1252`, …) are decoded to UTF-8 before this reader sees them (see
//! `encoding.rs`). A comment holding bytes that are not UTF-8 is reported as an error and
//! reading goes on; such bytes elsewhere (a post title) become U+FFFD.
//!
//! # Errors and positions
//!
//! Every `wp:comment` element gives exactly one item. Its position has the byte offset (in
//! the decompressed input, counting any byte order mark) and 1-based line of the
//! `<wp:comment>` start tag, and an element path such as
//! `rss/channel/item[3]/wp:comment[2]` (`item` and `wp:comment` are always numbered, other
//! elements when they repeat). Errors carry the comment id when it was read before the error.
//!
//! * A file that ends inside a comment (truncated) gives the comments before it, then one
//!   error for the partial comment, and ends.
//! * A file that ends between comments, inside the root element, ends with one error saying
//!   the document is truncated.
//! * A file that ends inside markup, or cannot be read, is fatal: the open comment (or, outside
//!   comments, the document) gets an error at that position and the stream ends.
//! * Mismatched or stray end tags in a comment's structure (not in its HTML text) make an
//!   error for that comment, as do bytes that are not UTF-8 and a missing
//!   `wp:comment_content`; reading goes on with the next comment.
//! * An empty (or whitespace-only) input gives no items; any other input without a root
//!   element gives one error.
//!
//! Memory stays bounded by the largest single comment or post and the nesting depth, not by
//! the size of the file.

use super::xml::{
    EventReader, Records, SUB, StreamOptions, Utf8Stream, configure, non_empty, position, recycled,
    resolve_reference,
};
use super::{ByteStream, ExportFields, Position, Record, RecordError, RecordResult, Skip};
use crate::comment::{Comment, Post};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::collections::VecDeque;
#[cfg(test)]
use std::io::{self, Read};
use std::sync::Arc;

/// Reads the comments of a WXR export; see the module documentation.
pub(crate) fn read(
    stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    Box::new(Records(WxrReader::new(stream, source)))
}

/// The child elements of `wp:comment` (an item's own `wp:comment_status` is not one).
const COMMENT_FIELDS: &[&str] = &[
    "comment_id",
    "comment_author",
    "comment_author_email",
    "comment_author_url",
    "comment_author_IP",
    "comment_date",
    "comment_date_gmt",
    "comment_content",
    "comment_approved",
    "comment_type",
    "comment_parent",
    "comment_user_id",
    "commentmeta",
];

/// How far up the element stack an end tag is looked for before it is taken as stray, so
/// that junk nested very deep costs constant time per tag.
const MATCH_WINDOW: usize = 64;
/// Element paths deeper than this are shortened in the middle.
const PATH_DEPTH: usize = 48;
/// Distinct child names counted per element, for `[n]` indexes.
const CHILD_NAMES: usize = 256;
/// Closed frames kept for reuse.
const SPARE_FRAMES: usize = 64;
/// Namespace bindings remembered.
const NAMESPACES: usize = 64;

// ---------------------------------------------------------------------------------------------
// The UTF-8 guard

/// The byte stream under quick-xml: each byte that is not UTF-8 becomes [`SUB`] and its offset
/// is reported through [`Utf8Guard::take_invalid`]; the bytes and lines consumed are counted,
/// for positions, byte order marks included.
type Utf8Guard = Utf8Stream<WxrInput>;

/// How the WXR reader's [`Utf8Guard`] treats its input.
struct WxrInput;

impl StreamOptions for WxrInput {
    const REPLACEMENT: u8 = SUB;
    const RECORD_INVALID: bool = true;
}

// ---------------------------------------------------------------------------------------------
// Reader state

/// What a namespace prefix stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// `http://wordpress.org/export/1.x/`.
    Wxr,
    /// `http://purl.org/rss/1.0/modules/content/`.
    Content,
    /// `http://www.disqus.com/` (the Disqus import flavour of WXR).
    Disqus,
    Other,
}

/// Namespace prefixes declared in the file (in any element, without scoping: exports
/// declare them once on `rss`).
#[derive(Default)]
struct Namespaces {
    bindings: Vec<(Box<str>, Ns)>,
}

impl Namespaces {
    fn of(&self, prefix: &str) -> Ns {
        if let Some((_, ns)) = self.bindings.iter().rev().find(|(p, _)| &**p == prefix) {
            return *ns;
        }
        match prefix {
            "wp" => Ns::Wxr,
            "content" => Ns::Content,
            "dsq" => Ns::Disqus,
            _ => Ns::Other,
        }
    }

    /// Learns the `xmlns` attributes of a start tag.
    fn learn(&mut self, tag: &BytesStart<'_>) {
        for attr in tag.attributes().with_checks(false).flatten() {
            let key = attr.key.0;
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(p) => p,
                    None => continue,
                },
                None => continue,
            };
            let uri: &str = &attr.value;
            let ns = if uri.contains("wordpress.org/export/") && !uri.contains("excerpt") {
                Ns::Wxr
            } else if uri.contains("purl.org/rss/1.0/modules/content") {
                Ns::Content
            } else if uri.contains("disqus.com") {
                Ns::Disqus
            } else {
                Ns::Other
            };
            if self.of(prefix) != ns && self.bindings.len() < NAMESPACES {
                self.bindings.push((prefix.into(), ns));
            }
        }
    }
}

/// The role of an open element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    Other,
    /// `item`: a post, page or attachment.
    Item,
    /// `wp:comment`: one of `WxrReader::comments`.
    Comment,
    /// `wp:commentmeta` in a comment.
    CommentMeta,
}

/// One open element outside captured text.
///
/// Frames are recycled (see `WxrReader::spare`), so their buffers are allocated once.
#[derive(Default)]
struct Frame {
    name: String,
    /// 1-based index among same-named siblings; 0 when not counted.
    index: u32,
    kind: Kind,
    /// The names of the children seen so far, one after the other…
    child_names: String,
    /// …and for each, where its name ends in `child_names` and how many there were.
    children: Vec<(usize, u32)>,
}

impl Frame {
    /// Counts a new child named `name` and returns its index.
    fn count_child(&mut self, name: &str) -> u32 {
        let mut start = 0;
        for (end, n) in &mut self.children {
            if self.child_names.get(start..*end) == Some(name) {
                *n = n.saturating_add(1);
                return *n;
            }
            start = *end;
        }
        if self.children.len() < CHILD_NAMES {
            self.child_names.push_str(name);
            self.children.push((self.child_names.len(), 1));
            return 1;
        }
        0
    }
}

/// The text-valued elements the reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    PostTitle,
    PostBody,
    PostId,
    Guid,
    Link,
    ThreadId,
    CommentId,
    Author,
    AuthorUrl,
    Content,
    Approved,
    Type,
    Parent,
    MetaKey,
    MetaValue,
}

/// Text being collected from a field element; elements inside it are kept as markup text.
struct Capture {
    field: Field,
    /// Index in `frames` of the field element.
    frame: usize,
    text: String,
    /// Elements open inside the field (HTML in unescaped comment content).
    open: Vec<Box<str>>,
}

/// What an end tag does inside a captured value.
enum InCapture {
    /// Closes the markup elements open inside the value from this index on.
    CloseInner(usize),
    /// Closes the field element.
    CloseField,
    /// Closes an enclosing element although the field element is still open.
    Unclosed(String),
    /// Matches nothing open: kept as text.
    Stray,
}

/// A comment element being read.
#[derive(Default)]
struct OpenComment {
    position: Option<Position>,
    frame: usize,
    id: Option<String>,
    author: Option<String>,
    author_url: Option<String>,
    content: Option<String>,
    approved: Option<String>,
    comment_type: Option<String>,
    parent: Option<String>,
    akismet: Option<String>,
    meta_key: Option<String>,
    meta_value: Option<String>,
    /// The first problem found inside the element.
    error: Option<String>,
}

/// What the current item says about its post.
#[derive(Default)]
struct PostState {
    id: Option<String>,
    thread: Option<String>,
    guid: Option<String>,
    link: Option<String>,
    title: Option<String>,
    body: Option<String>,
    shared: Option<Arc<Post<'static>>>,
}

impl PostState {
    /// The post, built once per item and shared by its comments.
    fn shared(&mut self) -> Option<Arc<Post<'static>>> {
        if self.shared.is_none() {
            let id = self
                .id
                .as_ref()
                .or(self.thread.as_ref())
                .or(self.guid.as_ref())
                .or(self.link.as_ref())
                .cloned();
            if id.is_none() && self.title.is_none() && self.body.is_none() {
                return None;
            }
            self.shared = Some(Arc::new(Post {
                id: id.map(Cow::Owned),
                title: self.title.clone().map(Cow::Owned),
                body: self.body.clone().map(Cow::Owned),
            }));
        }
        self.shared.clone()
    }
}

/// Where the event being handled starts.
#[derive(Clone, Copy)]
struct At {
    byte: u64,
    line: u64,
}

/// The WXR record stream.
struct WxrReader {
    xml: Reader<Utf8Guard>,
    source: Arc<str>,
    buf: Vec<u8>,
    queue: VecDeque<RecordResult>,
    done: bool,
    frames: Vec<Frame>,
    /// Counts the root elements (the document node's children).
    top: Frame,
    /// Closed frames, cleared, for reuse.
    spare: Vec<Frame>,
    ns: Namespaces,
    capture: Option<Capture>,
    comments: Vec<OpenComment>,
    post: PostState,
    root_seen: bool,
    content_seen: bool,
    last_error_at: Option<u64>,
    /// Whether comment fields met outside any `wp:comment` have had their error record (one
    /// per run of them).
    orphan_flagged: bool,
    /// Whether an `<rss>` root element was read.
    rss_seen: bool,
    /// The first root element other than `<rss>`, and where it starts.
    first_root: Option<(String, At)>,
}

impl WxrReader {
    fn new(stream: ByteStream, source: Arc<str>) -> Self {
        let mut xml = Reader::from_reader(Utf8Guard::new(stream));
        // End tags are matched here, with recovery for unescaped HTML in old exports;
        // WordPress writes some URLs with a bare `&`.
        configure(xml.config_mut(), false);
        WxrReader {
            xml,
            source,
            buf: Vec::new(),
            queue: VecDeque::new(),
            done: false,
            frames: Vec::new(),
            top: Frame::default(),
            spare: Vec::new(),
            ns: Namespaces::default(),
            capture: None,
            comments: Vec::new(),
            post: PostState::default(),
            root_seen: false,
            content_seen: false,
            last_error_at: None,
            orphan_flagged: false,
            rss_seen: false,
            first_root: None,
        }
    }

    fn position_at(&self, at: Option<At>) -> Position {
        Position {
            source: self.source.clone(),
            line: at.map(|a| a.line),
            byte: at.map(|a| a.byte),
            element: (!self.frames.is_empty()).then(|| self.path()),
        }
    }

    /// The element path of the open elements, such as `rss/channel/item[3]/wp:comment[2]`.
    fn path(&self) -> String {
        let mut out = String::new();
        let n = self.frames.len();
        let mut i = 0;
        while i < n {
            if n > PATH_DEPTH && i == PATH_DEPTH / 2 {
                out.push_str("/…");
                i = n - PATH_DEPTH / 2;
                continue;
            }
            let frame = &self.frames[i];
            if i > 0 {
                out.push('/');
            }
            out.push_str(&frame.name);
            let always = matches!(frame.kind, Kind::Item | Kind::Comment);
            if frame.index > 1 || (always && frame.index > 0) {
                out.push('[');
                out.push_str(&frame.index.to_string());
                out.push(']');
            }
            i += 1;
        }
        out
    }

    /// Reads and handles one event.
    fn step(&mut self) {
        let guard = self.xml.get_ref();
        let at = At {
            byte: guard.offset,
            line: guard.newlines + 1,
        };
        let before = self.xml.buffer_position();
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let event = self.xml.read_event_into(&mut buf);
        let invalid = self.xml.get_mut().take_invalid();
        match event {
            Ok(Event::Start(tag)) => self.start(&tag, at, invalid, false),
            Ok(Event::Empty(tag)) => self.start(&tag, at, invalid, true),
            Ok(Event::End(tag)) => self.end(tag.name().0, at, invalid),
            Ok(Event::Text(text)) => {
                self.note_invalid(invalid);
                if let Some(capture) = &mut self.capture {
                    capture.text.push_str(&text.xml10_content());
                } else if self.frames.is_empty() && !text.trim_ascii().is_empty() {
                    self.content_seen = true;
                }
            }
            Ok(Event::CData(data)) => {
                self.note_invalid(invalid);
                if let Some(capture) = &mut self.capture {
                    capture.text.push_str(&data.xml10_content());
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                self.note_invalid(invalid);
                if let Some(capture) = &mut self.capture {
                    capture.text.push_str(&resolve_reference(&reference));
                }
            }
            Ok(Event::Eof) => self.finish(at),
            Ok(Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_)) => {
                self.note_invalid(invalid);
                self.content_seen = true;
            }
            Err(quick_xml::Error::IllFormed(e)) => {
                self.note_invalid(invalid);
                let now = self.xml.buffer_position();
                if now == before || self.last_error_at == Some(now) {
                    // No progress: give up rather than loop.
                    self.fatal(at, before, format!("ill-formed XML: {e}"));
                } else {
                    self.last_error_at = Some(now);
                    let byte = self.error_byte(at, before);
                    self.fail_comment(|| format!("ill-formed XML at byte {byte}: {e}"));
                }
            }
            Err(quick_xml::Error::Syntax(e)) => {
                self.fatal(
                    at,
                    before,
                    format!("the input ends inside markup ({e}): the document is truncated"),
                );
            }
            Err(quick_xml::Error::Io(e)) => self.fatal(at, before, format!("read error: {e}")),
            Err(e) => self.fatal(at, before, format!("XML error: {e}")),
        }
        self.buf = recycled(buf);
    }

    /// The byte offset of quick-xml's last error, in input bytes.
    fn error_byte(&self, at: At, before: u64) -> u64 {
        at.byte + self.xml.error_position().saturating_sub(before)
    }

    /// Marks the innermost open comment as failed, keeping the first reason.
    fn fail_comment(&mut self, reason: impl FnOnce() -> String) {
        if let Some(comment) = self.comments.last_mut()
            && comment.error.is_none()
        {
            comment.error = Some(reason());
        }
    }

    /// Fails the innermost comment when the event just read held bytes that are not UTF-8.
    fn note_invalid(&mut self, invalid: Option<u64>) {
        if let Some(byte) = invalid {
            self.fail_comment(|| format!("invalid UTF-8 at byte {byte}"));
        }
    }

    fn start(&mut self, tag: &BytesStart<'_>, at: At, invalid: Option<u64>, empty: bool) {
        let name = tag.name().0;
        if let Some(capture) = &self.capture {
            // An element of the export's own (an `item`, a `wp:` element) never belongs inside
            // a value: the field element before it was left open (`<link>` typed for
            // `</link>`). It ends there, so that the comments after it are read.
            let prefix = name.split_once(':').map_or("", |(p, _)| p);
            if name == "item" || (!prefix.is_empty() && self.ns.of(prefix) == Ns::Wxr) {
                let frame = capture.frame;
                let field = self.frames.get(frame).map_or("", |f| &*f.name).to_owned();
                self.fail_comment(|| {
                    format!(
                        "malformed XML: <{field}> is not closed before <{name}> at byte {}",
                        at.byte
                    )
                });
                while self.frames.len() > frame {
                    self.pop_frame();
                }
            }
        }
        if let Some(capture) = &mut self.capture {
            // Markup inside a value: unescaped HTML in old exports.
            capture.text.push('<');
            capture.text.push_str(tag);
            if empty {
                capture.text.push_str("/>");
            } else {
                capture.text.push('>');
                capture.open.push(name.into());
            }
            self.note_invalid(invalid);
            return;
        }
        self.content_seen = true;
        if self.frames.is_empty() {
            // Junk before the `<rss>` root (PHP notices an export can start with, `<br />` and
            // all) is read past; a document with no `<rss>` at all is reported at its end.
            let local = name.rsplit(':').next().unwrap_or(name);
            if local.eq_ignore_ascii_case("rss") {
                self.rss_seen = true;
            } else if self.first_root.is_none() {
                self.first_root = Some((name.to_owned(), at));
            }
            self.root_seen = true;
        }
        if tag.len() > name.len() && tag.contains("xmlns") {
            self.ns.learn(tag);
        }
        let (prefix, local) = name.split_once(':').unwrap_or(("", name));
        let ns = self.ns.of(prefix);
        let parent = self.frames.last().map_or(Kind::Other, |f| f.kind);
        let wxr = ns == Ns::Wxr;
        let kind = if prefix.is_empty() && local == "item" && !wxr {
            Kind::Item
        } else if wxr && local == "comment" {
            Kind::Comment
        } else if wxr && local == "commentmeta" && parent == Kind::Comment {
            Kind::CommentMeta
        } else {
            Kind::Other
        };
        if kind == Kind::Comment
            && !empty
            && let Some(open) = self.comments.last()
        {
            // A comment starting inside another: no exporter nests them, so the open one's
            // `</wp:comment>` is missing. It ends here, and reads whole.
            let frame = open.frame;
            while self.frames.len() > frame {
                self.pop_frame();
            }
        }
        let parent = self.frames.last().map_or(Kind::Other, |f| f.kind);
        if parent == Kind::Item && wxr && COMMENT_FIELDS.contains(&local) && !self.orphan_flagged {
            // A comment's fields straight inside the item: its `<wp:comment>` start tag is
            // missing. One error record stands for the comment they belong to.
            self.orphan_flagged = true;
            self.queue.push_back(Err(RecordError {
                position: position(&self.source, at.byte, Some(at.line), Some(self.path())),
                id: None,
                reason: format!(
                    "<{name}> outside any <wp:comment>: the comment's start tag is missing, so \
                     the comment is not read"
                ),
            }));
        }
        if matches!(kind, Kind::Item | Kind::Comment) {
            self.orphan_flagged = false;
        }
        let field = match (parent, ns, local) {
            (Kind::Item, Ns::Other, "title") if prefix.is_empty() => Some(Field::PostTitle),
            (Kind::Item, Ns::Other, "guid") if prefix.is_empty() => Some(Field::Guid),
            (Kind::Item, Ns::Other, "link") if prefix.is_empty() => Some(Field::Link),
            (Kind::Item, Ns::Content, "encoded") => Some(Field::PostBody),
            (Kind::Item, Ns::Wxr, "post_id") => Some(Field::PostId),
            (Kind::Item, Ns::Disqus, "thread_identifier") => Some(Field::ThreadId),
            (Kind::Comment, Ns::Wxr, "comment_id") => Some(Field::CommentId),
            (Kind::Comment, Ns::Wxr, "comment_author") => Some(Field::Author),
            (Kind::Comment, Ns::Wxr, "comment_author_url") => Some(Field::AuthorUrl),
            (Kind::Comment, Ns::Wxr, "comment_content") => Some(Field::Content),
            (Kind::Comment, Ns::Wxr, "comment_approved") => Some(Field::Approved),
            (Kind::Comment, Ns::Wxr, "comment_type") => Some(Field::Type),
            (Kind::Comment, Ns::Wxr, "comment_parent") => Some(Field::Parent),
            (Kind::CommentMeta, Ns::Wxr, "meta_key") => Some(Field::MetaKey),
            (Kind::CommentMeta, Ns::Wxr, "meta_value") => Some(Field::MetaValue),
            _ => None,
        };
        let index = match self.frames.last_mut() {
            Some(parent) => parent.count_child(name),
            None => self.top.count_child(name),
        };
        let mut frame = self.spare.pop().unwrap_or_default();
        frame.name.push_str(name);
        frame.index = index;
        frame.kind = kind;
        self.frames.push(frame);
        match kind {
            Kind::Item => self.post = PostState::default(),
            Kind::Comment => {
                let position = position(&self.source, at.byte, Some(at.line), Some(self.path()));
                self.comments.push(OpenComment {
                    position: Some(position),
                    frame: self.frames.len() - 1,
                    ..OpenComment::default()
                });
            }
            Kind::CommentMeta => {
                if let Some(comment) = self.comments.last_mut() {
                    comment.meta_key = None;
                    comment.meta_value = None;
                }
            }
            Kind::Other => {}
        }
        if let Some(field) = field {
            self.capture = Some(Capture {
                field,
                frame: self.frames.len() - 1,
                text: String::new(),
                open: Vec::new(),
            });
        }
        self.note_invalid(invalid);
        if empty {
            self.pop_frame();
        }
    }

    fn end(&mut self, name: &str, at: At, invalid: Option<u64>) {
        self.note_invalid(invalid);
        if let Some(capture) = &self.capture {
            let window = capture.open.len().saturating_sub(MATCH_WINDOW);
            let field_name = self.frames.get(capture.frame).map_or("", |f| &*f.name);
            let action = if capture.open.last().is_some_and(|open| &**open == name) {
                InCapture::CloseInner(capture.open.len() - 1)
            } else if field_name == name {
                InCapture::CloseField
            } else if let Some(i) = capture.open[window..].iter().rposition(|o| &**o == name) {
                // HTML-style recovery: the end tag closes the unclosed elements inside it.
                InCapture::CloseInner(window + i)
            } else if self.frame_open(name) {
                InCapture::Unclosed(field_name.to_owned())
            } else {
                // A stray end tag inside a value: kept as text.
                InCapture::Stray
            };
            match action {
                InCapture::CloseInner(i) => {
                    if let Some(capture) = &mut self.capture {
                        capture.open.truncate(i);
                        push_end_tag(&mut capture.text, name);
                    }
                    return;
                }
                InCapture::Stray => {
                    if let Some(capture) = &mut self.capture {
                        push_end_tag(&mut capture.text, name);
                    }
                    return;
                }
                InCapture::CloseField => {
                    self.pop_frame();
                    return;
                }
                InCapture::Unclosed(field) => {
                    // The end tag of an enclosing element: the field element was never closed.
                    self.fail_comment(|| {
                        format!(
                            "malformed XML: <{field}> is not closed before </{name}> at byte {}",
                            at.byte
                        )
                    });
                    self.pop_frame();
                }
            }
        }
        if self.frames.last().is_some_and(|f| &*f.name == name) {
            self.pop_frame();
            return;
        }
        if !self.frame_open(name) {
            self.fail_comment(|| {
                format!("malformed XML: unexpected </{name}> at byte {}", at.byte)
            });
            // The stray end tag of a comment whose start tag is missing: fields after it
            // belong to another comment.
            if name.ends_with(":comment") {
                self.orphan_flagged = false;
            }
            return;
        }
        while let Some(top) = self.frames.last() {
            if &*top.name == name {
                self.pop_frame();
                break;
            }
            let unclosed = top.name.to_string();
            self.fail_comment(|| {
                format!(
                    "malformed XML: <{unclosed}> is not closed before </{name}> at byte {}",
                    at.byte
                )
            });
            self.pop_frame();
        }
    }

    /// Whether an element named `name` is open, among the innermost few.
    fn frame_open(&self, name: &str) -> bool {
        self.frames
            .iter()
            .rev()
            .take(MATCH_WINDOW)
            .any(|f| &*f.name == name)
    }

    /// Closes the innermost open element.
    fn pop_frame(&mut self) {
        let depth = self.frames.len();
        if self.capture.as_ref().is_some_and(|c| c.frame + 1 >= depth)
            && let Some(capture) = self.capture.take()
        {
            self.store(capture.field, capture.text);
        }
        let Some(mut frame) = self.frames.pop() else {
            return;
        };
        let kind = frame.kind;
        if self.spare.len() < SPARE_FRAMES {
            frame.name.clear();
            frame.child_names.clear();
            frame.children.clear();
            self.spare.push(frame);
        }
        match kind {
            Kind::Item => self.post = PostState::default(),
            Kind::CommentMeta => {
                if let Some(comment) = self.comments.last_mut()
                    && comment.meta_key.as_deref() == Some("akismet_result")
                {
                    comment.akismet = comment.meta_value.take();
                }
            }
            Kind::Comment => {
                if self.comments.last().is_some_and(|c| c.frame + 1 == depth)
                    && let Some(comment) = self.comments.pop()
                {
                    let item = self.record(comment);
                    self.queue.push_back(item);
                }
            }
            Kind::Other => {}
        }
    }

    /// Keeps the value of a field element.
    fn store(&mut self, field: Field, text: String) {
        let value = trimmed(text);
        let comment = self.comments.last_mut();
        let post = &mut self.post;
        match field {
            Field::PostTitle
            | Field::PostBody
            | Field::PostId
            | Field::Guid
            | Field::Link
            | Field::ThreadId => {
                post.shared = None;
                let value = non_empty(WxrInput::lossy(value));
                match field {
                    Field::PostTitle => post.title = value,
                    Field::PostBody => post.body = value,
                    Field::PostId => post.id = value,
                    Field::Guid => post.guid = value,
                    Field::Link => post.link = value,
                    _ => post.thread = value,
                }
            }
            _ => {
                let Some(comment) = comment else {
                    return;
                };
                match field {
                    Field::CommentId => comment.id = non_empty(value),
                    Field::Author => comment.author = non_empty(value),
                    Field::AuthorUrl => comment.author_url = Some(value.trim().to_owned()),
                    Field::Content => comment.content = Some(value),
                    Field::Approved => comment.approved = non_empty(value),
                    Field::Type => comment.comment_type = non_empty(value),
                    Field::Parent => comment.parent = non_empty(value),
                    Field::MetaKey => comment.meta_key = Some(value),
                    _ => comment.meta_value = Some(value),
                }
            }
        }
    }

    /// The item for a comment element that was read to its end.
    fn record(&mut self, comment: OpenComment) -> RecordResult {
        let OpenComment {
            position,
            id,
            author,
            author_url,
            content,
            approved,
            comment_type,
            parent,
            akismet,
            error,
            ..
        } = comment;
        let position = position.unwrap_or_else(|| Position::new(self.source.clone()));
        if let Some(reason) = error {
            return Err(RecordError {
                position,
                id,
                reason,
            });
        }
        let Some(text) = content else {
            return Err(RecordError {
                position,
                id,
                reason: "the comment has no wp:comment_content element".into(),
            });
        };
        let id = id.unwrap_or_else(|| position.element.clone().unwrap_or_default());
        // (Comments never nest: a `<wp:comment>` ends the one open before it.)
        let parent_id = parent.filter(|p| p != "0");
        let is_deleted = approved
            .as_deref()
            .map(|a| a == "trash" || a == "post-trashed");
        let skip = (is_deleted == Some(true) && text.is_empty()).then_some(Skip::Deleted);
        let export = ExportFields {
            is_deleted,
            approved,
            akismet_result: akismet.filter(|a| !a.is_empty()),
            comment_type: Some(comment_type.unwrap_or_else(|| "comment".into())),
            ..ExportFields::default()
        };
        Ok(Record {
            comment: Comment {
                id: id.into(),
                text: text.into(),
                post: self.post.shared(),
                parent_id: parent_id.map(Into::into),
                author: author.map(Into::into),
                author_url: author_url.map(Into::into),
            },
            position,
            export,
            skip,
        })
    }

    /// The end of the input.
    fn finish(&mut self, at: At) {
        self.done = true;
        if !self.comments.is_empty() {
            self.fail_open_comments(
                "the document ends inside this comment: the file is truncated",
                at.byte,
            );
        } else if !self.frames.is_empty() {
            let reason = format!(
                "the document is truncated: it ends at byte {} inside <{}>",
                at.byte,
                self.frames.last().map_or("", |f| &f.name)
            );
            self.queue.push_back(Err(RecordError {
                position: self.position_at(Some(at)),
                id: None,
                reason,
            }));
        } else if !self.root_seen && self.content_seen {
            self.queue.push_back(Err(RecordError {
                position: self.position_at(Some(at)),
                id: None,
                reason: "the document has no root element: it is empty or truncated".into(),
            }));
        } else if !self.rss_seen
            && let Some((name, root_at)) = self.first_root.take()
        {
            // Another kind of document (`--format wxr` given for a Disqus export, say): one
            // error, rather than no records at all.
            self.queue.push_back(Err(RecordError {
                position: position(
                    &self.source,
                    root_at.byte,
                    Some(root_at.line),
                    Some(name.clone()),
                ),
                id: None,
                reason: format!("not a WordPress export: the root element is <{name}>, not <rss>"),
            }));
        }
        self.release();
    }

    /// An error after which parsing cannot go on.
    fn fatal(&mut self, at: At, before: u64, what: String) {
        self.done = true;
        let byte = self.error_byte(at, before);
        if !self.comments.is_empty() {
            self.fail_open_comments(&what, byte);
        } else {
            let mut position = self.position_at(Some(at));
            position.byte = Some(byte);
            if byte != at.byte {
                position.line = None;
            }
            self.queue.push_back(Err(RecordError {
                position,
                id: None,
                reason: what,
            }));
        }
        self.release();
    }

    /// One error for each comment still open, outermost first.
    fn fail_open_comments(&mut self, what: &str, byte: u64) {
        for comment in std::mem::take(&mut self.comments) {
            let reason = match &comment.error {
                Some(earlier) => format!("{what} (at byte {byte}); before that: {earlier}"),
                None => format!("{what} (at byte {byte})"),
            };
            self.queue.push_back(Err(RecordError {
                position: comment
                    .position
                    .unwrap_or_else(|| Position::new(self.source.clone())),
                id: comment.id,
                reason,
            }));
        }
    }

    /// Frees the parsing state once the stream is over.
    fn release(&mut self) {
        self.frames = Vec::new();
        self.capture = None;
        self.post = PostState::default();
        self.buf = Vec::new();
    }
}

impl EventReader for WxrReader {
    fn is_done(&self) -> bool {
        self.done && self.queue.is_empty()
    }

    fn next_item(&mut self) -> Option<RecordResult> {
        if self.queue.is_empty() {
            self.step();
        }
        self.queue.pop_front()
    }
}

/// Appends an end tag as text.
fn push_end_tag(text: &mut String, name: &str) {
    text.push_str("</");
    text.push_str(name);
    text.push('>');
}

/// `text` without leading and trailing whitespace, reusing its allocation.
fn trimmed(mut text: String) -> String {
    let end = text.trim_end().len();
    text.truncate(end);
    let start = text.len() - text.trim_start().len();
    text.drain(..start);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(xml: &[u8]) -> Vec<RecordResult> {
        read(Box::new(io::Cursor::new(xml.to_vec())), "t.xml".into()).collect()
    }

    #[test]
    fn guard_substitutes_invalid_bytes_and_keeps_offsets() {
        let data = b"ab\xFFc\xE2\x82".to_vec();
        let mut guard = Utf8Guard::new(Box::new(io::Cursor::new(data)));
        let mut out = Vec::new();
        guard.read_to_end(&mut out).ok();
        assert_eq!(out, b"ab\x1Ac\x1A\x1A");
        assert_eq!(guard.offset, 6);
        assert_eq!(guard.take_invalid(), Some(2));
        assert_eq!(guard.take_invalid(), None);
    }

    #[test]
    fn guard_joins_sequences_split_between_chunks() {
        let data = "é€😀".as_bytes().to_vec();
        let stream = io::BufReader::with_capacity(1, io::Cursor::new(data.clone()));
        let mut guard = Utf8Guard::new(Box::new(stream));
        let mut out = Vec::new();
        guard.read_to_end(&mut out).ok();
        assert_eq!(out, data);
        assert_eq!(guard.take_invalid(), None);
    }

    #[test]
    fn reads_a_minimal_export() {
        let xml = br#"<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>
            <title>T &amp; U</title><wp:post_id>7</wp:post_id>
            <wp:comment><wp:comment_id>1</wp:comment_id>
            <wp:comment_content><![CDATA[a]]]]><![CDATA[>b]]></wp:comment_content>
            </wp:comment></item></channel></rss>"#;
        let items = read_str(xml);
        assert_eq!(items.len(), 1);
        let record = items[0].as_ref().unwrap();
        assert_eq!(record.comment.text, "a]]>b");
        assert_eq!(record.comment.post_id(), Some("7"));
        assert_eq!(
            record.position.element.as_deref(),
            Some("rss/channel/item[1]/wp:comment[1]")
        );
    }

    #[test]
    fn trimmed_trims_both_ends() {
        assert_eq!(trimmed("  a b \n".into()), "a b");
        assert_eq!(trimmed(" \t ".into()), "");
    }
}
