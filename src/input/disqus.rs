//! Reader for Disqus XML exports.
//!
//! # The format
//!
//! A Disqus export (Admin › Moderation › Export, mailed as a gzip file) is one `<disqus>` root
//! element in the `http://disqus.com` namespace, with Disqus's internal ids in attributes of the
//! `http://disqus.com/disqus-internals` namespace (prefix `dsq`). Its children come in this
//! order:
//!
//! - `<category dsq:id="…">`: forum categories (ignored here);
//! - `<thread dsq:id="…">`: one per page that has comments: `<id>` (the site's
//!   `disqus_identifier`, often empty), `<forum>`, `<link>`, `<title>`, `<message>` (usually
//!   empty), `<createdAt>`, `<author>`, `<isClosed>`, `<isDeleted>`;
//! - `<post dsq:id="…">`: one per comment: `<id>` (empty, or the id the comment had before it
//!   was imported, such as `wp_id=25`), `<message>`, `<createdAt>`, `<isDeleted>`, `<isSpam>`,
//!   `<author>` (`<name>`, `<isAnonymous>`, `<username>`, plus `<email>` in older exports),
//!   `<ipAddress>` (older exports), `<thread dsq:id="…"/>` and, for replies,
//!   `<parent dsq:id="…"/>`.
//!
//! The variants met in the wild, all read here:
//!
//! - `<message>` holds HTML as CDATA (current exports) or as escaped text (`&lt;p&gt;…`, older
//!   exports); either way [`Comment::text`] keeps the HTML, which the normalizer strips later;
//! - thread titles copied from WordPress are escaped twice (`Let&amp;#8217;s`): they are
//!   decoded once, as XML says, and keep the HTML reference (`Let&#8217;s`);
//! - the root may lack the default namespace, and prefixes are ignored (names are matched by
//!   their local part, so `dsq:id` is found under any prefix, and a plain `id` attribute too);
//! - Disqus's own sample shows references by text instead of attribute
//!   (`<thread>1</thread>`, `<parent dsq:id="1">2</parent>`), and posts without `dsq:id`: the
//!   attribute wins, then the text; a post with neither `dsq:id` nor `<id>` text is named
//!   `post-N`;
//! - threads with only an empty `<id/>`, and posts whose thread is missing from the export
//!   (the post then gets a [`Post`] with only the referenced id);
//! - a UTF-8 byte order mark.
//!
//! Disqus has no pingbacks or trackbacks: the ones imported from WordPress are ordinary posts
//! (with `<id>wp_id=…</id>`) and are read as such.
//!
//! # Records
//!
//! Each `<post>` child of the root is one comment and yields exactly one item:
//!
//! - [`Comment::id`]: the `dsq:id` attribute, else the `<id>` text, else `post-N`;
//! - [`Comment::post`]: the thread: its `dsq:id` (or `<id>` when it has no `dsq:id`), its title
//!   and its message when not empty, shared by all its comments;
//! - [`Comment::parent_id`]: the `<parent>` reference;
//! - [`Comment::author`]: `<author><name>`, else `<username>` (e-mail and IP addresses are never
//!   read); [`Comment::author_url`] stays `None`, as exports have no author website;
//! - [`ExportFields::is_spam`] and [`ExportFields::is_deleted`] from `<isSpam>` and
//!   `<isDeleted>` (`true`/`false`, `1`/`0`);
//! - [`Record::skip`] is [`Skip::Deleted`] only for a deleted comment whose message is empty;
//!   a deleted comment that kept its text is classified like any other.
//!
//! Positions give the byte offset and line of the `<post` start tag and its element path,
//! such as `disqus/post[12]`.
//!
//! # Errors
//!
//! - Invalid UTF-8 inside a comment makes that comment an error, and reading goes on (the
//!   reader replaces bad bytes before the XML parser sees them, keeping offsets).
//! - Entities: the five predefined ones and character references are decoded; a DTD is never
//!   read, so an entity it defines (or any unknown entity) is kept as written (`&lol9;`).
//!   Lone `&` are kept as text.
//! - End tags are matched by the reader, as HTML parsers do: an end tag closes the innermost
//!   open element of its name and any left open inside it, and a `<post>` starting inside
//!   another root child (or a `<thread>` inside a thread) closes that one. So a missing or
//!   mistyped end tag costs at most the comment it is in: a comment whose own elements were
//!   left open, or that holds a stray end tag, is an error, and reading goes on. A comment only
//!   missing its `</post>` reads whole; an end tag with no comment open gives one error.
//! - Any other XML syntax error ends the stream with one error item: for the comment being read
//!   if any (with its id when known), else at the error's position.
//! - Input that ends inside the root element ends with one error item: for the comment being
//!   read (even when the input ends inside its start tag), else one "truncated document" item.
//! - Elements nested more than [`MAX_DEPTH`] levels deep are skipped unparsed; inside a
//!   comment, they make it an error. A message longer than [`MAX_MESSAGE`] bytes, or another
//!   field longer than [`MAX_FIELD`] bytes, makes its comment an error; longer thread fields
//!   are cut.
//! - An empty input (nothing, or only white space) yields no items. Input with markup but no
//!   `<disqus>` root element yields one error item.
//!
//! # Memory
//!
//! Comments are streamed; what is kept is one table of threads (id, title and message per
//! thread, so comments can point at them), the fields of the comment being read (its message
//! up to [`MAX_MESSAGE`] bytes), and quick-xml's buffer, which holds one text or CDATA node
//! whole. Nesting costs nothing past [`MAX_DEPTH`] levels.

use super::xml::{
    EventReader, OpenNames, Records, SUB, StreamOptions, Utf8Stream, attribute_value, configure,
    next_in_order, non_empty, position, push_cut, resolve_reference, skip_content,
};
use super::{ByteStream, ExportFields, Position, Record, RecordError, RecordResult, Skip};
use crate::comment::{Comment, Post};
use quick_xml::Reader;
use quick_xml::errors::Error as XmlError;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
#[cfg(test)]
use std::io::Read;
use std::sync::Arc;

/// Elements nested deeper than this (the root is level 1) are skipped unparsed.
pub(crate) const MAX_DEPTH: usize = 64;
/// The longest comment message read, in bytes.
pub(crate) const MAX_MESSAGE: usize = 1 << 20;
/// The longest other field (ids, names, flags, thread titles), in bytes.
pub(crate) const MAX_FIELD: usize = 64 << 10;
/// How many distinct names of root children get an index in element paths.
const MAX_COUNTED_NAMES: usize = 32;

/// Reads the comments of a Disqus export.
pub(crate) fn read(
    stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    Box::new(Records(DisqusReader::new(stream, source)))
}

// ---------------------------------------------------------------------------------------------
// UTF-8 repair

/// The byte stream under quick-xml: each byte of invalid UTF-8 becomes [`SUB`] (so the XML
/// parser, which stops at invalid UTF-8, reads on with offsets unchanged) and its offset is
/// remembered; leading byte order marks are skipped and lines counted.
type Utf8Repair = Utf8Stream<DisqusInput>;

/// How the Disqus reader's [`Utf8Repair`] treats its input.
struct DisqusInput;

impl StreamOptions for DisqusInput {
    const REPLACEMENT: u8 = SUB;
    const SKIP_BOM: bool = true;
    const RECORD_INVALID: bool = true;
}

// ---------------------------------------------------------------------------------------------
// The reader

/// What an element inside a post or thread is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Other,
    Id,
    Message,
    Title,
    IsDeleted,
    IsSpam,
    Author,
    AuthorName,
    AuthorUsername,
    ThreadRef,
    ParentRef,
}

/// A `<post>` being read.
#[derive(Debug, Default)]
struct PostParts {
    index: u64,
    path: String,
    byte: u64,
    line: u64,
    dsq_id: Option<String>,
    ident: String,
    ident_done: bool,
    has_message: bool,
    message: String,
    is_deleted: String,
    is_spam: String,
    author_name: String,
    author_username: String,
    thread_attr: Option<String>,
    thread_text: String,
    parent_attr: Option<String>,
    parent_text: String,
    /// The first invalid UTF-8 byte.
    bad_utf8: Option<u64>,
    /// The first other reason the comment can't be read.
    problem: Option<String>,
    /// Whether any element was read inside it.
    has_children: bool,
}

impl PostParts {
    /// No `dsq:id` and nothing inside: a start tag typed for an end tag, if a later tag
    /// closes it.
    fn is_hollow(&self) -> bool {
        self.dsq_id.is_none() && !self.has_children && self.problem.is_none()
    }

    fn position(&self, source: &Arc<str>) -> Position {
        position(source, self.byte, Some(self.line), Some(self.path.clone()))
    }

    /// The id as read so far: `dsq:id`, else a complete `<id>`.
    fn known_id(&self) -> Option<String> {
        let ident = self.ident.trim();
        let id = match &self.dsq_id {
            Some(id) => id.as_str(),
            None if self.ident_done && !ident.is_empty() => ident,
            None => return None,
        };
        Some(clean(id))
    }

    fn error(&self, source: &Arc<str>, reason: String) -> RecordError {
        RecordError {
            position: self.position(source),
            id: self.known_id(),
            reason,
        }
    }
}

/// A `<thread>` being read.
#[derive(Debug, Default)]
struct ThreadParts {
    path: String,
    dsq_id: Option<String>,
    ident: String,
    title: String,
    message: String,
}

/// The root child being read.
#[derive(Debug)]
enum Item {
    None,
    Post(Box<PostParts>),
    Thread(Box<ThreadParts>),
    Other(String),
}

struct DisqusReader {
    xml: Reader<Utf8Repair>,
    buf: Vec<u8>,
    source: Arc<str>,
    /// Open elements (the root is 1).
    depth: usize,
    /// The root's name, once open.
    root: Option<String>,
    root_closed: bool,
    /// Whether the root was reopened for root children after its end tag.
    root_implied: bool,
    /// Whether anything but white space was read.
    seen_markup: bool,
    /// Counts of the root's children by name, for element paths.
    siblings: Vec<(String, u64)>,
    posts: u64,
    item: Item,
    child: Field,
    grandchild: Field,
    threads_by_dsq: HashMap<String, Arc<Post<'static>>>,
    threads_by_ident: HashMap<String, Arc<Post<'static>>>,
    /// Offset and line where the event being handled starts.
    event_byte: u64,
    event_line: u64,
    /// The first invalid UTF-8 byte of the event being handled.
    event_bad: Option<u64>,
    done: bool,
    /// The names of the open elements, outermost first (as many as `depth`).
    open_names: OpenNames,
    /// Items complete before the one being returned (when one event completes several).
    queue: VecDeque<RecordResult>,
}

impl DisqusReader {
    fn new(stream: ByteStream, source: Arc<str>) -> Self {
        let mut xml = Reader::from_reader(Utf8Repair::new(stream));
        // End tags are matched here, with recovery for a missing or mistyped one.
        configure(xml.config_mut(), false);
        DisqusReader {
            xml,
            buf: Vec::new(),
            source,
            depth: 0,
            root: None,
            root_closed: false,
            root_implied: false,
            seen_markup: false,
            siblings: Vec::new(),
            posts: 0,
            item: Item::None,
            child: Field::Other,
            grandchild: Field::Other,
            threads_by_dsq: HashMap::new(),
            threads_by_ident: HashMap::new(),
            event_byte: 0,
            event_line: 1,
            event_bad: None,
            done: false,
            open_names: OpenNames::default(),
            queue: VecDeque::new(),
        }
    }

    /// Reads one event; returns an item when one is complete.
    fn step(&mut self) -> Option<RecordResult> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let repair = self.xml.get_ref();
        self.event_byte = repair.offset;
        self.event_line = repair.line();
        let event = self.xml.read_event_into(&mut buf);
        let after = self.xml.get_ref().offset;
        self.event_bad = self.xml.get_mut().take_invalid_before(after);
        if let (Some(at), Item::Post(post)) = (self.event_bad, &mut self.item) {
            post.bad_utf8.get_or_insert(at);
        }
        let item = match event {
            Ok(Event::Start(e)) => self.open(&e, false),
            Ok(Event::Empty(e)) => self.open(&e, true),
            Ok(Event::End(e)) => self.end_tag(e.name().into_inner()),
            Ok(Event::Text(t)) => {
                if !self.seen_markup && !t.trim_ascii().is_empty() {
                    self.seen_markup = true;
                }
                self.push_text(&t.xml10_content());
                None
            }
            Ok(Event::CData(t)) => {
                self.seen_markup = true;
                self.push_text(&t.xml10_content());
                None
            }
            Ok(Event::GeneralRef(r)) => {
                self.seen_markup = true;
                self.push_text(&resolve_reference(&r));
                None
            }
            Ok(Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_)) => {
                self.seen_markup = true;
                None
            }
            Ok(Event::Eof) => self.end_of_input(),
            Err(e) => Some(Err(self.xml_error(&e, &buf))),
        };
        self.buf = buf;
        item
    }

    /// A start tag, or an empty-element tag (`empty`).
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Option<RecordResult> {
        self.seen_markup = true;
        let qname = e.name().into_inner();
        let local = e.local_name().into_inner();
        // A comment starting inside another root child, or a thread inside a thread: the end
        // tags before it are missing. (Inside a comment, `<thread dsq:id="…"/>` is a reference,
        // and so is a `<category>` inside a thread, even with an end tag of its own.)
        let item_start = !empty
            && match local {
                "post" => true,
                "thread" => matches!(self.item, Item::Thread(_)),
                _ => false,
            };
        if item_start && self.depth >= 2 && self.root.is_some() {
            self.close_down_to(1, || format!("<{qname}>"));
        }
        if self.depth == 0 && self.root_closed && matches!(local, "post" | "thread" | "category") {
            // Root children after `</disqus>`: that end tag was stray. The root goes on.
            if let Some(root) = self.root.clone() {
                self.open_names.push(&root);
            }
            self.depth = 1;
            self.root_closed = false;
            self.root_implied = true;
        }
        self.depth += 1;
        match self.depth {
            1 => {
                if self.root_closed && local == "disqus" {
                    // A second export after the first (files concatenated): read on.
                    self.root_closed = false;
                } else if self.root_closed {
                    let reason = format!("unexpected <{qname}> after the end of the root element");
                    return Some(Err(self.fail_here(reason)));
                }
                if local != "disqus" {
                    let reason =
                        format!("not a Disqus export: the root element is <{qname}>, not <disqus>");
                    return Some(Err(self.fail_here(reason)));
                }
                self.root = Some(qname.to_owned());
            }
            2 => {
                let path = self.child_path(qname, local);
                self.child = Field::Other;
                self.grandchild = Field::Other;
                self.item = match local {
                    "post" => {
                        self.posts += 1;
                        Item::Post(Box::new(PostParts {
                            index: self.posts,
                            path,
                            byte: self.event_byte,
                            line: self.event_line,
                            dsq_id: dsq_id(e),
                            bad_utf8: self.event_bad,
                            ..PostParts::default()
                        }))
                    }
                    "thread" => Item::Thread(Box::new(ThreadParts {
                        path,
                        dsq_id: dsq_id(e),
                        ..ThreadParts::default()
                    })),
                    _ => Item::Other(path),
                };
            }
            3 => {
                if let Item::Post(p) = &mut self.item {
                    p.has_children = true;
                }
                self.child = match (&mut self.item, local) {
                    (Item::Post(_), "id") | (Item::Thread(_), "id") => Field::Id,
                    (Item::Post(p), "message") => {
                        p.has_message = true;
                        Field::Message
                    }
                    (Item::Thread(_), "message") => Field::Message,
                    (Item::Thread(_), "title") => Field::Title,
                    (Item::Post(_), "isDeleted") => Field::IsDeleted,
                    (Item::Post(_), "isSpam") => Field::IsSpam,
                    (Item::Post(_), "author") => Field::Author,
                    (Item::Post(p), "thread") => {
                        p.thread_attr = dsq_id(e);
                        Field::ThreadRef
                    }
                    (Item::Post(p), "parent") => {
                        p.parent_attr = dsq_id(e);
                        Field::ParentRef
                    }
                    _ => Field::Other,
                };
            }
            4 => {
                self.grandchild = match (self.child, local) {
                    (Field::Author, "name") => Field::AuthorName,
                    (Field::Author, "username") => Field::AuthorUsername,
                    _ => Field::Other,
                };
            }
            _ => {}
        }
        if empty {
            return self.close();
        }
        self.open_names.push(qname);
        if self.depth > MAX_DEPTH {
            if let Item::Post(p) = &mut self.item {
                p.problem.get_or_insert_with(|| {
                    format!("elements nested more than {MAX_DEPTH} levels deep")
                });
            }
            let skipped = skip_content(&mut self.xml.stream());
            let after = self.xml.get_ref().offset;
            let bad = self.xml.get_mut().take_invalid_before(after);
            if let (Some(at), Item::Post(post)) = (bad, &mut self.item) {
                post.bad_utf8.get_or_insert(at);
            }
            if let Err(e) = skipped {
                return Some(Err(self.fail_here(format!("read error: {e}"))));
            }
            // At the end of the input, the next event is `Eof`, which reports the truncation.
        }
        None
    }

    /// An end tag: it closes the innermost open element of its name, and the elements inside
    /// that one that were left open (which makes the comment being read an error); a stray one
    /// (no element of its name is open) is passed over, and fails the comment it is in.
    fn end_tag(&mut self, qname: &str) -> Option<RecordResult> {
        let open = self.open_names.len();
        match self.open_names.rposition(qname) {
            Some(i) if i + 1 == open => {
                self.open_names.pop();
                self.close()
            }
            Some(i) => {
                // Elements left open inside the comment make it an error; the comment's own
                // `</post>` left out (before `</disqus>`, say) does not.
                let unclosed = self.open_names.get(open - 1).to_owned();
                if open > 2
                    && let Item::Post(p) = &mut self.item
                {
                    p.problem.get_or_insert_with(|| {
                        format!("malformed XML: <{unclosed}> is not closed before </{qname}>")
                    });
                }
                // The items this completes wait in the queue, in order.
                self.close_down_to(i, String::new);
                None
            }
            None => match &mut self.item {
                Item::Post(p) => {
                    p.problem
                        .get_or_insert_with(|| format!("malformed XML: unexpected </{qname}>"));
                    None
                }
                // A comment's end tag with no comment open: its start tag is missing or
                // mistyped, and its fields were read as something else. One error stands for it.
                _ if qname.rsplit(':').next() == Some("post") && self.root.is_some() => {
                    Some(Err(RecordError {
                        position: position(
                            &self.source,
                            self.event_byte,
                            Some(self.event_line),
                            None,
                        ),
                        id: None,
                        reason: format!(
                            "</{qname}> with no comment open: the comment's start tag is missing \
                             or mistyped, so the comment is not read"
                        ),
                    }))
                }
                _ => None,
            },
        }
    }

    /// Closes open elements until `depth` are left, queueing the items that completes. With
    /// `before` naming a start tag, the elements left open inside a comment make it an error.
    fn close_down_to(&mut self, depth: usize, before: impl Fn() -> String) {
        while self.open_names.len() > depth {
            let level = self.open_names.len();
            if level > 2
                && let Item::Post(p) = &mut self.item
            {
                let before = before();
                if !before.is_empty() {
                    let unclosed = self.open_names.get(level - 1);
                    p.problem.get_or_insert_with(|| {
                        format!("malformed XML: <{unclosed}> is not closed before {before}")
                    });
                }
            }
            self.open_names.pop();
            if level == 2 && matches!(&self.item, Item::Post(p) if p.is_hollow()) {
                // A `<post>` with no id and nothing in it, closed by what follows it: a
                // `</post>` typed as `<post>`, not a comment.
                self.item = Item::None;
                self.depth -= 1;
                continue;
            }
            if let Some(item) = self.close() {
                self.queue.push_back(item);
            }
        }
    }

    /// The end of an element (or of an empty-element tag).
    fn close(&mut self) -> Option<RecordResult> {
        let depth = self.depth;
        self.depth = depth.saturating_sub(1);
        match depth {
            1 => self.root_closed = true,
            2 => match std::mem::replace(&mut self.item, Item::None) {
                Item::Post(p) => return Some(self.finish_post(*p)),
                Item::Thread(t) => self.finish_thread(*t),
                Item::Other(_) | Item::None => {}
            },
            3 => {
                if let (Field::Id, Item::Post(p)) = (self.child, &mut self.item) {
                    p.ident_done = true;
                }
                self.child = Field::Other;
            }
            4 => self.grandchild = Field::Other,
            _ => {}
        }
        None
    }

    /// Appends character data to the field being read, if any.
    fn push_text(&mut self, text: &str) {
        let depth = self.depth;
        match &mut self.item {
            Item::Post(p) => {
                let (field, name, limit) = match (depth, self.child, self.grandchild) {
                    (3.., Field::Message, _) => (&mut p.message, "message", MAX_MESSAGE),
                    (3, Field::Id, _) => (&mut p.ident, "id", MAX_FIELD),
                    (3, Field::IsDeleted, _) => (&mut p.is_deleted, "isDeleted", MAX_FIELD),
                    (3, Field::IsSpam, _) => (&mut p.is_spam, "isSpam", MAX_FIELD),
                    (3, Field::ThreadRef, _) => (&mut p.thread_text, "thread", MAX_FIELD),
                    (3, Field::ParentRef, _) => (&mut p.parent_text, "parent", MAX_FIELD),
                    (4, Field::Author, Field::AuthorName) => {
                        (&mut p.author_name, "name", MAX_FIELD)
                    }
                    (4, Field::Author, Field::AuthorUsername) => {
                        (&mut p.author_username, "username", MAX_FIELD)
                    }
                    _ => return,
                };
                if field.len() + text.len() > limit {
                    p.problem
                        .get_or_insert_with(|| format!("<{name}> is longer than {limit} bytes"));
                } else {
                    field.push_str(text);
                }
            }
            Item::Thread(t) => {
                let field = match (depth, self.child) {
                    (3.., Field::Message) => &mut t.message,
                    (3, Field::Title) => &mut t.title,
                    (3, Field::Id) => &mut t.ident,
                    _ => return,
                };
                push_cut(field, text, MAX_FIELD);
            }
            Item::Other(_) | Item::None => {}
        }
    }

    /// The path of a new root child, such as `disqus/post[3]`.
    fn child_path(&mut self, qname: &str, local: &str) -> String {
        let root = self.root.as_deref().unwrap_or("disqus");
        let count = match self.siblings.iter().position(|(name, _)| name == local) {
            Some(i) => {
                self.siblings[i].1 += 1;
                Some(self.siblings[i].1)
            }
            None if self.siblings.len() < MAX_COUNTED_NAMES => {
                self.siblings.push((local.to_owned(), 1));
                Some(1)
            }
            None => None,
        };
        match count {
            Some(n) => format!("{root}/{qname}[{n}]"),
            None => format!("{root}/{qname}"),
        }
    }

    fn finish_thread(&mut self, t: ThreadParts) {
        let ident = clean(t.ident.trim());
        let dsq_id = t.dsq_id.map(|id| clean(&id));
        let id = dsq_id
            .clone()
            .or_else(|| (!ident.is_empty()).then(|| ident.clone()));
        let post = Arc::new(Post {
            id: id.map(Cow::Owned),
            title: non_empty(clean(t.title.trim())).map(Cow::Owned),
            body: non_empty(clean(t.message.trim())).map(Cow::Owned),
        });
        if let Some(dsq_id) = dsq_id {
            self.threads_by_dsq.insert(dsq_id, post.clone());
        }
        if !ident.is_empty() {
            self.threads_by_ident.insert(ident, post);
        }
    }

    fn finish_post(&self, p: PostParts) -> RecordResult {
        if let Some(at) = p.bad_utf8 {
            return Err(p.error(&self.source, format!("invalid UTF-8 at byte {at}")));
        }
        if let Some(problem) = &p.problem {
            return Err(p.error(&self.source, problem.clone()));
        }
        let is_deleted = parse_bool(&p.is_deleted);
        let is_spam = parse_bool(&p.is_spam);
        if !p.has_message && is_deleted != Some(true) {
            return Err(p.error(&self.source, "the comment has no <message>".into()));
        }
        let position = p.position(&self.source);
        let id = p.known_id().unwrap_or_else(|| format!("post-{}", p.index));
        let reference = |attr: &Option<String>, text: &str| {
            attr.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_owned(), true))
                .or_else(|| non_empty(text.trim().to_owned()).map(|s| (s, false)))
        };
        let post = reference(&p.thread_attr, &p.thread_text).map(|(thread, by_attr)| {
            let (first, second) = if by_attr {
                (&self.threads_by_dsq, &self.threads_by_ident)
            } else {
                (&self.threads_by_ident, &self.threads_by_dsq)
            };
            first
                .get(&thread)
                .or_else(|| second.get(&thread))
                .cloned()
                .unwrap_or_else(|| {
                    Arc::new(Post {
                        id: Some(thread.into()),
                        ..Post::default()
                    })
                })
        });
        let parent_id = reference(&p.parent_attr, &p.parent_text).map(|(id, _)| id);
        let author = non_empty(p.author_name.trim().to_owned())
            .or_else(|| non_empty(p.author_username.trim().to_owned()));
        let text = match p.message.trim() {
            trimmed if trimmed.len() == p.message.len() => p.message,
            trimmed => trimmed.to_owned(),
        };
        let skip = (is_deleted == Some(true) && text.is_empty()).then_some(Skip::Deleted);
        Ok(Record {
            comment: Comment {
                id: id.into(),
                text: text.into(),
                post,
                parent_id: parent_id.map(Into::into),
                author: author.map(Into::into),
                // Disqus exports carry no author website.
                author_url: None,
            },
            position,
            export: ExportFields {
                is_spam,
                is_deleted,
                ..ExportFields::default()
            },
            skip,
        })
    }

    /// The end of the input.
    fn end_of_input(&mut self) -> Option<RecordResult> {
        self.done = true;
        if self.root_implied && self.depth == 1 {
            // The root reopened for comments after a stray `</disqus>` has no end tag to wait
            // for: its own was that one.
            return None;
        }
        if self.depth > 0 {
            let open = match &self.item {
                Item::Post(_) => "this comment".to_owned(),
                Item::Thread(t) => format!("<{}>", element_name(&t.path)),
                Item::Other(path) => format!("<{}>", element_name(path)),
                Item::None => format!("<{}>", self.root.as_deref().unwrap_or("disqus")),
            };
            let reason = format!("truncated document: the input ends inside {open}");
            let repair = self.xml.get_ref();
            let (byte, line) = (repair.offset, Some(repair.line()));
            return Some(Err(self.fail_at(reason, byte, line)));
        }
        if self.root.is_none() && self.seen_markup {
            let reason = "no <disqus> root element: not a Disqus export, or truncated".to_owned();
            return Some(Err(self.fail_at(
                reason,
                self.event_byte,
                Some(self.event_line),
            )));
        }
        None
    }

    /// An error from quick-xml: one last item.
    fn xml_error(&mut self, error: &XmlError, buf: &[u8]) -> RecordError {
        let repair = self.xml.get_ref();
        let (offset, skipped) = (repair.offset, repair.skipped());
        let (at, what) = match error {
            XmlError::Syntax(_) | XmlError::IllFormed(_) => {
                (self.xml.error_position() + skipped, "XML syntax error")
            }
            XmlError::Io(_) => (offset, "read error"),
            _ => (offset, "XML error"),
        };
        // `buf` holds the input read for this event, from its start.
        let line = at
            .checked_sub(self.event_byte)
            .and_then(|k| usize::try_from(k).ok())
            .and_then(|k| buf.get(..k))
            .map(|read| self.event_line + read.iter().filter(|&&b| b == b'\n').count() as u64);
        let place = match line {
            Some(line) => format!("at byte {at} (line {line})"),
            None => format!("at byte {at}"),
        };
        let reason = format!("{what} {place}: {error}");
        if self.depth == 1
            && matches!(self.item, Item::None)
            && let Some((qname, id)) = partial_post_tag(buf)
        {
            // The input ends (or breaks) inside a comment's start tag.
            self.done = true;
            self.posts += 1;
            let path = self.child_path(&qname, "post");
            let partial = PostParts {
                index: self.posts,
                path,
                byte: self.event_byte,
                line: self.event_line,
                dsq_id: id,
                ..PostParts::default()
            };
            return partial.error(&self.source, reason);
        }
        self.fail_at(reason, at, line)
    }

    /// An error at the event being handled, ending the stream.
    fn fail_here(&mut self, reason: String) -> RecordError {
        self.fail_at(reason, self.event_byte, Some(self.event_line))
    }

    /// An error ending the stream: for the comment being read, else at `byte`.
    fn fail_at(&mut self, reason: String, byte: u64, line: Option<u64>) -> RecordError {
        self.done = true;
        match std::mem::replace(&mut self.item, Item::None) {
            Item::Post(p) => p.error(&self.source, reason),
            item => {
                let element = match item {
                    Item::Thread(t) => Some(t.path),
                    Item::Other(path) => Some(path),
                    _ => self
                        .root
                        .clone()
                        .filter(|_| self.depth > 0 && !self.root_closed),
                };
                RecordError {
                    position: position(&self.source, byte, line, element),
                    id: None,
                    reason,
                }
            }
        }
    }
}

impl EventReader for DisqusReader {
    fn is_done(&self) -> bool {
        self.done && self.queue.is_empty()
    }

    fn next_item(&mut self) -> Option<RecordResult> {
        next_in_order(self, |r| &mut r.queue, Self::step)
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// The `dsq:id` attribute (under any prefix), else a plain `id`.
fn dsq_id(e: &BytesStart<'_>) -> Option<String> {
    let mut plain = None;
    let mut attributes = e.attributes();
    attributes.with_checks(false);
    for attribute in attributes {
        let Ok(attribute) = attribute else { break };
        let key = attribute.key;
        if key.local_name().into_inner() != "id" {
            continue;
        }
        let value = attribute_value(&attribute).trim().to_owned();
        if key.prefix().is_some() {
            return Some(value);
        }
        plain = Some(value);
    }
    plain
}

/// Whether a partial tag is a comment's start tag; with its name and its `dsq:id` if complete.
fn partial_post_tag(buf: &[u8]) -> Option<(String, Option<String>)> {
    let tag = buf.strip_prefix(b"<")?;
    let name_len = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
        .unwrap_or(tag.len());
    let qname = std::str::from_utf8(&tag[..name_len]).ok()?;
    let local = qname.rsplit(':').next().unwrap_or(qname);
    if local != "post" {
        return None;
    }
    let rest = &tag[name_len..];
    let id = find_id_attribute(rest);
    Some((qname.to_owned(), id))
}

/// The value of a complete `…id="…"` attribute in the (partial) attributes of a tag: a
/// prefixed one (`dsq:id`) wins over a plain `id`.
fn find_id_attribute(attributes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(attributes);
    let mut rest = text.as_ref();
    let mut found = None;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim();
        let key = key.rsplit(char::is_whitespace).next().unwrap_or(key);
        let after = rest[eq + 1..].trim_start();
        let Some(quote) = after.chars().next().filter(|&q| q == '"' || q == '\'') else {
            break;
        };
        let Some(len) = after[1..].find(quote) else {
            break;
        };
        let value = &after[1..1 + len];
        let local = key.rsplit(':').next().unwrap_or(key);
        if local == "id" && (key.contains(':') || found.is_none()) {
            found = Some(value.trim().to_owned());
        }
        rest = &after[len + 2..];
    }
    found
}

/// `true`/`1` and `false`/`0`, any case; anything else is unknown.
fn parse_bool(text: &str) -> Option<bool> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Some(false)
    } else {
        None
    }
}

/// Replaces the marks of invalid UTF-8 with U+FFFD.
fn clean(s: &str) -> String {
    DisqusInput::lossy(s.to_owned())
}

/// The element name at the end of a path: `thread` for `disqus/thread[2]`.
fn element_name(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{self, BufRead, BufReader};

    /// A reader that hands out at most `n` bytes per call.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(self.1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn repaired(input: &[u8], chunk: usize) -> (Vec<u8>, Vec<u64>, u64) {
        let data: &'static [u8] = Box::leak(input.to_vec().into_boxed_slice());
        let stream: ByteStream = Box::new(BufReader::with_capacity(chunk, Trickle(data, chunk)));
        let mut repair = Utf8Repair::new(stream);
        let mut out = Vec::new();
        loop {
            let chunk = repair.fill_buf().unwrap().to_vec();
            if chunk.is_empty() {
                break;
            }
            out.extend_from_slice(&chunk);
            repair.consume(chunk.len());
        }
        let invalid: Vec<u64> = repair.invalid.iter().copied().collect();
        assert_eq!(
            repair.take_invalid_before(u64::MAX),
            invalid.first().copied()
        );
        assert!(repair.invalid.is_empty());
        (out, invalid, repair.line())
    }

    #[test]
    fn repair_keeps_valid_utf8_and_offsets_across_chunk_boundaries() {
        let mut input = "\u{FEFF}a é 喫茶 🙂\nb".as_bytes().to_vec();
        // An invalid byte before a valid two-byte sequence, a lone continuation byte, and a
        // sequence cut short by the end of the input.
        let first = input.iter().position(|&b| b == 0xC3).unwrap();
        input.insert(first, 0xFF);
        let second = input.len();
        input.extend_from_slice(b"\x80c\xE5\x96");
        let n = input.len() as u64;
        for chunk in 1..8 {
            let (out, invalid, line) = repaired(&input, chunk);
            assert_eq!(
                invalid,
                vec![first as u64, second as u64, n - 2, n - 1],
                "chunk {chunk}"
            );
            let mut expected = input[3..].to_vec();
            for &at in &invalid {
                expected[at as usize - 3] = SUB;
            }
            assert_eq!(out, expected, "chunk {chunk}");
            assert!(std::str::from_utf8(&out).is_ok());
            assert_eq!(line, 2);
        }
    }

    #[test]
    fn partial_start_tags_of_comments_are_recognized() {
        assert_eq!(
            partial_post_tag(br#"<post dsq:id="42" other="x"#),
            Some(("post".into(), Some("42".into())))
        );
        assert_eq!(
            partial_post_tag(br#"<post dsq:id="4"#),
            Some(("post".into(), None))
        );
        assert_eq!(partial_post_tag(b"<pos"), None);
        assert_eq!(partial_post_tag(b"<thread dsq:id=\"1\""), None);
        assert_eq!(
            partial_post_tag(br#"<post id='7' dsq:id='8'"#),
            Some(("post".into(), Some("8".into())))
        );
    }
}
