//! Reading comments from platform exports and data files, as streams of [`Record`]s.
//!
//! Every reader yields exactly one item per comment it finds: a [`Record`] (a comment with its
//! post and thread context, plus what the export says about its moderation) or a
//! [`RecordError`] that says where (file, line or byte offset, element path) and why. Readers
//! stream: memory stays bounded whatever the size of the input.
//!
//! [`open`] detects the format from the content (and the file name), and reads gzip and zstd
//! input transparently.
//!
//! ```
//! use comment_sieve::input::{open, Format, InputOptions};
//! let input = open(Some("fixtures/comments.jsonl".as_ref()), &InputOptions::default()).unwrap();
//! assert_eq!(input.format(), Format::Jsonl);
//! let records: Vec<_> = input.collect();
//! assert_eq!(records.len(), 10);
//! assert_eq!(records[0].as_ref().unwrap().comment.id, "101");
//! ```

mod blogger;
mod csv;
mod detect;
mod disqus;
mod encoding;
mod json_array;
mod jsonl;
mod lines;
mod reddit;
mod wxr;
mod xml;

pub use detect::detect_format;
pub(crate) use jsonl::{JsonlFields, parse_object as parse_jsonl_object};

use crate::comment::Comment;
use crate::label::Label;
use serde::Serialize;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// An input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// WordPress eXtended RSS export.
    Wxr,
    /// Disqus XML export.
    Disqus,
    /// Blogger Atom export.
    Blogger,
    /// Reddit comments as Pushshift NDJSON.
    Reddit,
    /// One JSON array of objects, read like JSONL lines.
    Json,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 7] = [
        Format::Jsonl,
        Format::Csv,
        Format::Wxr,
        Format::Disqus,
        Format::Blogger,
        Format::Reddit,
        Format::Json,
    ];

    /// The name used on the command line and in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Wxr => "wxr",
            Format::Disqus => "disqus",
            Format::Blogger => "blogger",
            Format::Reddit => "reddit",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown format {s:?}: expected jsonl, json, csv, wxr, disqus, blogger or reddit"
                )
            })
    }
}

/// Where a record is in its input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    /// The file name, or `<stdin>`.
    pub source: Arc<str>,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset in the (decompressed) input, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte: Option<u64>,
    /// Element path in an XML export, such as `rss/channel/item[3]/wp:comment[2]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
}

impl Position {
    /// A position with only a source.
    pub fn new(source: Arc<str>) -> Self {
        Position {
            source,
            line: None,
            byte: None,
            element: None,
        }
    }
}

/// Reads like `comments.xml: line 12, byte 3456, rss/channel/item[2]/wp:comment[1]`.
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        let mut sep = ": ";
        if let Some(line) = self.line {
            write!(f, "{sep}line {line}")?;
            sep = ", ";
        }
        if let Some(byte) = self.byte {
            write!(f, "{sep}byte {byte}")?;
            sep = ", ";
        }
        if let Some(element) = &self.element {
            write!(f, "{sep}{element}")?;
        }
        Ok(())
    }
}

/// Why a comment is reported but not classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Deleted by its author or the platform (Reddit `[deleted]`).
    Deleted,
    /// Removed by moderators (Reddit `[removed]`).
    Removed,
}

/// What an export says about a comment's moderation, for evaluating against or training on a
/// site's own history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportFields {
    /// WordPress `wp:comment_approved`: `1`, `0`, `spam` or `trash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved: Option<String>,
    /// WordPress `akismet_result` comment meta: `true` (spam) or `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub akismet_result: Option<String>,
    /// WordPress `wp:comment_type`: `comment`, `pingback`, `trackback`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment_type: Option<String>,
    /// Disqus `isSpam`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_spam: Option<bool>,
    /// Disqus `isDeleted`; also true for WordPress comments in the trash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_deleted: Option<bool>,
    /// Reddit subreddit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subreddit: Option<String>,
    /// A label given in the input (JSONL and CSV `label` field, or the mapped field). Written
    /// as `input_label`, so it never stands in for the verdict's `label`.
    #[serde(rename = "input_label", skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// A split name given in the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Where a labeled row came from (the corpus' `source` field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A moderation field of an export, usable as a label source by `train` and `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportField {
    /// The `label` field or column of JSONL and CSV input.
    Label,
    /// WordPress `wp:comment_approved`.
    Approved,
    /// WordPress `akismet_result`.
    AkismetResult,
    /// WordPress `wp:comment_type`.
    CommentType,
    /// Disqus `isSpam` (`true`/`false`).
    IsSpam,
    /// Disqus `isDeleted` (`true`/`false`).
    IsDeleted,
    /// Reddit subreddit.
    Subreddit,
}

impl ExportFields {
    /// The value of one field as text, when present.
    pub fn get(&self, field: ExportField) -> Option<String> {
        match field {
            ExportField::Label => self.label.map(|l| l.as_str().to_owned()),
            ExportField::Approved => self.approved.clone(),
            ExportField::AkismetResult => self.akismet_result.clone(),
            ExportField::CommentType => self.comment_type.clone(),
            ExportField::IsSpam => self.is_spam.map(|b| b.to_string()),
            ExportField::IsDeleted => self.is_deleted.map(|b| b.to_string()),
            ExportField::Subreddit => self.subreddit.clone(),
        }
    }
}

/// One comment read from an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The comment, with its post and parent when the input gives them.
    pub comment: Comment<'static>,
    /// Where it was found.
    pub position: Position,
    /// Moderation state from the export.
    pub export: ExportFields,
    /// Set when the comment is to be reported but not classified.
    pub skip: Option<Skip>,
}

/// A comment that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{position}: {reason}")]
pub struct RecordError {
    /// Where.
    pub position: Position,
    /// The comment's id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why.
    pub reason: String,
}

/// One item of an input stream.
pub type RecordResult = Result<Record, RecordError>;

/// Field names for JSONL and CSV input.
///
/// A field that keeps its default name also answers to the names other exports give it, when
/// the input has no field of the default name: the text is also found as `body` (Reddit's
/// data export), `comment_text` (Jigsaw), `comment_content` (WordPress tables), `comment_body`,
/// `comment` (Kaggle), `content` (the UCI YouTube set), `message` or `raw_message` (Disqus),
/// in that order; the other fields as [`FieldMap::ALIASES`] lists. A name given explicitly
/// (`--text-field`) is the only one tried. CSV headers match ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    /// Comment id (default `id`).
    pub id: String,
    /// Comment text (default `text`).
    pub text: String,
    /// Post id (default `post_id`).
    pub post_id: String,
    /// Post title (default `post_title`).
    pub post_title: String,
    /// Post body (default `post_body`).
    pub post_body: String,
    /// Parent comment id (default `parent_id`).
    pub parent_id: String,
    /// Author (default `author`).
    pub author: String,
    /// Label (default `label`).
    pub label: String,
    /// Split (default `split`).
    pub split: String,
    /// Source of a labeled row (default `source`).
    pub source: String,
    /// The website the author gave (default `author_url`).
    pub author_url: String,
}

impl FieldMap {
    /// For each field that has them, the other names tried, in order, when the field keeps its
    /// default name (see [`FieldMap`]). Labels, splits and sources have none: a column that
    /// only looks like a label (`CLASS`, `toxic`) would not hold label names.
    pub const ALIASES: [(&'static str, &'static [&'static str]); 7] = [
        ("id", &["comment_id", "commentid"]),
        (
            "text",
            &[
                "body",
                "comment_text",
                "comment_content",
                "comment_body",
                "comment",
                "content",
                "message",
                "raw_message",
            ],
        ),
        (
            "post_id",
            &[
                "link_id",
                "comment_post_id",
                "thread_id",
                "article_id",
                "video_id",
                "post",
                "thread",
                "link",
            ],
        ),
        ("post_title", &["title", "link_title", "thread_title"]),
        ("parent_id", &["parent", "comment_parent", "in_reply_to"]),
        (
            "author",
            &["comment_author", "author_name", "username", "user"],
        ),
        ("author_url", &["comment_author_url", "author_uri"]),
    ];

    /// The names tried for each field, in the order id, text, post id, post title, post body,
    /// parent id, author, label, split, source, author URL: the configured name, then, if that
    /// is the default, its aliases.
    pub(crate) fn candidates(&self) -> [Vec<&str>; 11] {
        fn with_aliases<'a>(name: &'a str, default: &str) -> Vec<&'a str> {
            let mut names = vec![name];
            if name == default
                && let Some((_, aliases)) = FieldMap::ALIASES.iter().find(|(d, _)| *d == default)
            {
                names.extend(aliases.iter().copied());
            }
            names
        }
        [
            with_aliases(&self.id, "id"),
            with_aliases(&self.text, "text"),
            with_aliases(&self.post_id, "post_id"),
            with_aliases(&self.post_title, "post_title"),
            with_aliases(&self.post_body, "post_body"),
            with_aliases(&self.parent_id, "parent_id"),
            with_aliases(&self.author, "author"),
            vec![&self.label],
            vec![&self.split],
            vec![&self.source],
            with_aliases(&self.author_url, "author_url"),
        ]
    }
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            id: "id".into(),
            text: "text".into(),
            post_id: "post_id".into(),
            post_title: "post_title".into(),
            post_body: "post_body".into(),
            parent_id: "parent_id".into(),
            author: "author".into(),
            label: "label".into(),
            split: "split".into(),
            source: "source".into(),
            author_url: "author_url".into(),
        }
    }
}

/// How to read an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputOptions {
    /// The format; `None` detects it from the content and the file name.
    pub format: Option<Format>,
    /// Field names for JSONL and CSV.
    pub fields: FieldMap,
}

/// Why an input can't be opened at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file can't be opened or read.
    #[error("{source_name}: {error}")]
    Io {
        /// The file name.
        source_name: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The format can't be told from the content.
    #[error("{0}: cannot tell the input format; give it with --format")]
    UnknownFormat(String),
    /// XML input that ends before its root element says which export it is.
    #[error(
        "{source_name}: cannot tell the input format: the XML ends after {bytes} bytes, before \
         its root element shows which export it is (a cut-off file?); give it with --format"
    )]
    CutBeforeRoot {
        /// The file name.
        source_name: String,
        /// How many bytes the input has.
        bytes: usize,
    },
}

/// The boxed byte stream readers read from.
pub type ByteStream = Box<dyn BufRead + Send>;

/// An open input: its detected format and its stream of records.
pub struct Input {
    format: Format,
    source: Arc<str>,
    records: Box<dyn Iterator<Item = RecordResult> + Send>,
}

impl Input {
    /// The format being read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The source name (file name or `<stdin>`).
    pub fn source(&self) -> &Arc<str> {
        &self.source
    }
}

impl Iterator for Input {
    type Item = RecordResult;

    fn next(&mut self) -> Option<RecordResult> {
        self.records.next()
    }
}

/// Opens a file (`None` or `-` for standard input), decompressing gzip or zstd, detecting the
/// format unless `options` gives it.
pub fn open(path: Option<&Path>, options: &InputOptions) -> Result<Input, InputError> {
    let (name, raw): (Arc<str>, Box<dyn Read + Send>) = match path {
        None => ("<stdin>".into(), Box::new(std::io::stdin())),
        Some(p) if p == Path::new("-") => ("<stdin>".into(), Box::new(std::io::stdin())),
        Some(p) => {
            let file = std::fs::File::open(p).map_err(|error| InputError::Io {
                source_name: p.display().to_string(),
                error,
            })?;
            (p.display().to_string().into(), Box::new(file))
        }
    };
    from_reader(raw, name, options)
}

/// Reads records from any byte stream; `name` is used in positions.
pub fn from_reader(
    raw: Box<dyn Read + Send>,
    name: Arc<str>,
    options: &InputOptions,
) -> Result<Input, InputError> {
    let io = |error| InputError::Io {
        source_name: name.to_string(),
        error,
    };
    let mut stream = decompress(raw).map_err(io)?;
    // Peek at the first bytes (see `read_head`) to tell the encoding; input that is not UTF-8
    // is decoded to UTF-8 here, and the format is told from the decoded bytes.
    let (mut head, mut deferred) = read_head(&mut stream);
    let mut unknown_encoding = None;
    match encoding::sniff(&head) {
        encoding::Sniffed::Utf8 => {}
        encoding::Sniffed::Decode(enc) => {
            let raw = rejoin(head, deferred, stream);
            stream = Box::new(BufReader::with_capacity(
                1 << 16,
                encoding::decoder(raw, enc),
            ));
            (head, deferred) = read_head(&mut stream);
        }
        encoding::Sniffed::Unknown(label) => unknown_encoding = Some(label),
    }
    if options.format.is_none() && deferred.is_none() {
        deferred = extend_json_head(&mut stream, &mut head);
    }
    let format = match options.format {
        Some(f) => f,
        None if head.iter().all(u8::is_ascii_whitespace) => {
            // Nothing to read: any reader yields no records; JSONL is the plainest.
            Format::Jsonl
        }
        None => match detect_format(&head, &name) {
            Some(format) => format,
            // The stream broke (a cut-off gzip file) before the format showed: that is the
            // reason to give.
            None if deferred.is_some() => {
                return Err(InputError::Io {
                    source_name: name.to_string(),
                    error: deferred
                        .take()
                        .unwrap_or_else(|| std::io::Error::other("read error")),
                });
            }
            None if head.len() < DETECT_LEN && head.trim_ascii_start().starts_with(b"<") => {
                return Err(InputError::CutBeforeRoot {
                    source_name: name.to_string(),
                    bytes: head.len(),
                });
            }
            None => return Err(InputError::UnknownFormat(name.to_string())),
        },
    };
    if let Some(label) = unknown_encoding {
        let error = RecordError {
            position: Position {
                line: Some(1),
                byte: Some(0),
                ..Position::new(name.clone())
            },
            id: None,
            reason: encoding::EncodingError(label).to_string(),
        };
        return Ok(Input {
            format,
            source: name,
            records: Box::new(std::iter::once(Err(error))),
        });
    }
    let stream = rejoin(head, deferred, stream);
    let records: Box<dyn Iterator<Item = RecordResult> + Send> = match format {
        Format::Jsonl => Box::new(jsonl::JsonlReader::new(
            stream,
            name.clone(),
            options.fields.clone(),
        )),
        Format::Wxr => wxr::read(stream, name.clone()),
        Format::Disqus => disqus::read(stream, name.clone()),
        Format::Blogger => blogger::read(stream, name.clone()),
        Format::Reddit => reddit::read(stream, name.clone()),
        Format::Csv => csv::read(stream, name.clone(), options.fields.clone()),
        Format::Json => Box::new(json_array::JsonArrayReader::new(
            stream,
            name.clone(),
            options.fields.clone(),
        )),
    };
    Ok(Input {
        format,
        source: name,
        records,
    })
}

/// Reads the first bytes of a stream, until there are enough to tell the encoding and the
/// format (a pipe may deliver a few bytes at a time). A read error here (a truncated gzip file,
/// say) is returned for [`rejoin`] to hand on after the bytes read before it, so the reader
/// reports it in place, after the comments it could read.
fn read_head(stream: &mut ByteStream) -> (Vec<u8>, Option<std::io::Error>) {
    let mut head = Vec::with_capacity(DETECT_LEN);
    let mut buf = [0u8; 4096];
    while head.len() < DETECT_LEN {
        match stream.read(&mut buf[..(DETECT_LEN - head.len()).min(4096)]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (head, Some(e)),
        }
    }
    (head, None)
}

/// When the head is the start of a JSON object with no line end yet (a Pushshift comment with a
/// long body, say), reads on to the end of that first line, up to [`JSON_DETECT_LEN`] bytes, so
/// that format detection sees all of its keys. Returns a read error met on the way, as
/// [`read_head`] does.
fn extend_json_head(stream: &mut ByteStream, head: &mut Vec<u8>) -> Option<std::io::Error> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let starts_object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !starts_object || head.len() < DETECT_LEN || head.contains(&b'\n') {
        return None;
    }
    let mut buf = [0u8; 4096];
    while head.len() < JSON_DETECT_LEN {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                head.extend_from_slice(&buf[..n]);
                if buf[..n].contains(&b'\n') {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Some(e),
        }
    }
    None
}

/// Puts the bytes [`read_head`] took back in front of the rest of the stream (or of its error).
fn rejoin(head: Vec<u8>, deferred: Option<std::io::Error>, stream: ByteStream) -> ByteStream {
    let rest: Box<dyn Read + Send> = match deferred {
        Some(e) => Box::new(FailOnce(Some(e))),
        None => Box::new(stream),
    };
    Box::new(BufReader::with_capacity(
        1 << 16,
        std::io::Cursor::new(head).chain(rest),
    ))
}

/// A reader that fails once with a stored error, then reads as empty.
struct FailOnce(Option<std::io::Error>);

impl Read for FailOnce {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// How many leading bytes format detection looks at.
const DETECT_LEN: usize = 8192;
/// How far detection reads to see the whole first line of a JSON object stream.
const JSON_DETECT_LEN: usize = 1 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The largest zstd window accepted, as a power of two: 2 GiB, what `zstd --long=31` writes.
const ZSTD_WINDOW_LOG_MAX: u32 = 31;

/// Wraps the stream in a gzip or zstd decoder when its first bytes say so.
fn decompress(raw: Box<dyn Read + Send>) -> std::io::Result<ByteStream> {
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        return Ok(Box::new(BufReader::with_capacity(1 << 16, decoder)));
    }
    if head.starts_with(&ZSTD_MAGIC) {
        let mut decoder = zstd::stream::read::Decoder::with_buffer(buffered)?;
        // Files made with `zstd --long=31`, as Pushshift's Reddit dumps are, ask for a window of
        // up to 2 GiB: more than the decoder takes by default. The window is what the file
        // needs to be read at all; its pages are only touched as far as the data reaches.
        decoder.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
        return Ok(Box::new(BufReader::with_capacity(1 << 16, decoder)));
    }
    Ok(Box::new(buffered))
}
