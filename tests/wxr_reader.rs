//! The WordPress WXR reader, through the public input API: the fixture export, the variants
//! WordPress and other tools write, and malformed input.

use comment_sieve::input::{
    ExportFields, Format, InputOptions, Record, RecordError, RecordResult, Skip, detect_format,
    from_reader, open,
};
use comment_sieve::{Classifier, Label};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::{Cursor, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIXTURE: &str = "fixtures/wordpress.xml";

fn fixture() -> Vec<u8> {
    std::fs::read(FIXTURE).expect("the fixture is readable")
}

fn wxr_options() -> InputOptions {
    InputOptions {
        format: Some(Format::Wxr),
        ..InputOptions::default()
    }
}

/// Reads bytes as WXR (the format given, so that any prefix is read as WXR).
fn read(bytes: &[u8]) -> Vec<RecordResult> {
    from_reader(
        Box::new(Cursor::new(bytes.to_vec())),
        "test.xml".into(),
        &wxr_options(),
    )
    .expect("an in-memory input opens")
    .collect()
}

fn read_fixture() -> Vec<Record> {
    open(Some(FIXTURE.as_ref()), &InputOptions::default())
        .expect("the fixture opens")
        .map(|r| r.expect("every fixture comment reads"))
        .collect()
}

fn ok(item: &RecordResult) -> &Record {
    match item {
        Ok(record) => record,
        Err(e) => panic!("expected a record, got an error: {e}"),
    }
}

fn err(item: &RecordResult) -> &RecordError {
    match item {
        Ok(record) => panic!("expected an error, got record {}", record.comment.id),
        Err(e) => e,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// A small WXR 1.2 document around `items`.
fn wxr(items: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/"
>
<channel>
	<title>Test blog</title>
	<wp:wxr_version>1.2</wp:wxr_version>
{items}
</channel>
</rss>
"#
    )
}

/// An item for post `post_id` holding `comments`.
fn item(post_id: u32, comments: &str) -> String {
    format!(
        r#"	<item>
		<title><![CDATA[Post {post_id}]]></title>
		<content:encoded><![CDATA[<p>Body of post {post_id}</p>]]></content:encoded>
		<wp:post_id>{post_id}</wp:post_id>
{comments}
	</item>
"#
    )
}

/// A comment as WordPress 5.6+ writes it, with `content` as written in the file.
fn comment_raw(id: u32, parent: u32, content: &str) -> String {
    format!(
        r#"		<wp:comment>
			<wp:comment_id>{id}</wp:comment_id>
			<wp:comment_author><![CDATA[Author {id}]]></wp:comment_author>
			<wp:comment_content>{content}</wp:comment_content>
			<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
			<wp:comment_type><![CDATA[comment]]></wp:comment_type>
			<wp:comment_parent>{parent}</wp:comment_parent>
		</wp:comment>
"#
    )
}

fn comment(id: u32, text: &str) -> String {
    comment_raw(id, 0, &format!("<![CDATA[{text}]]>"))
}

// ---------------------------------------------------------------------------------------------
// The fixture

#[test]
fn the_fixture_is_detected_as_wxr() {
    let bytes = fixture();
    assert_eq!(detect_format(&bytes, FIXTURE), Some(Format::Wxr));
    let input = open(Some(FIXTURE.as_ref()), &InputOptions::default()).unwrap();
    assert_eq!(input.format(), Format::Wxr);
    assert_eq!(&**input.source(), FIXTURE);
}

struct Want {
    id: &'static str,
    text: &'static str,
    post_id: &'static str,
    parent: Option<&'static str>,
    author: &'static str,
    approved: &'static str,
    akismet: Option<&'static str>,
    comment_type: &'static str,
}

const FOUR_DAY: &str = "Why we’re moving to a four-day week & what we learned";
const KYOTO: &str = "Café hopping in Kyoto: 京都のカフェ巡り";
const RUST_GO: &str = "Benchmarking Rust & Go for log parsing";

fn wanted() -> Vec<Want> {
    let want = |id, text, post_id, parent, author, approved, akismet, comment_type| Want {
        id,
        text,
        post_id,
        parent,
        author,
        approved,
        akismet,
        comment_type,
    };
    vec![
        want(
            "101",
            "I tried this at my last company. Productivity held up, but <strong>meetings</strong> \
             expanded to fill the four days. Did you put any limit on internal meetings?",
            "14",
            None,
            "Marta Kowalska",
            "1",
            Some("false"),
            "comment",
        ),
        want(
            "102",
            "Good question! We capped recurring meetings at 30 minutes and moved status updates \
             to a written thread. It’s not perfect, but Fridays stay free.",
            "14",
            Some("101"),
            "Daniel Okafor",
            "1",
            None,
            "comment",
        ),
        want(
            "103",
            "Written status updates are underrated. We did the same and people actually read \
             them.\nThanks for sharing the numbers on the support queue too.",
            "14",
            Some("102"),
            "Marta Kowalska",
            "1",
            Some("false"),
            "comment",
        ),
        want(
            "104",
            "You are a pathetic idiot. Nobody wants to read this garbage, shut up and stop \
             writing.",
            "14",
            None,
            "truthteller",
            "0",
            Some("false"),
            "comment",
        ),
        want(
            "105",
            "[&#8230;] Okafor &amp; Co.&#8217;s team explains why they moved to a four-day week \
             and what happened to their release cadence [&#8230;]",
            "14",
            None,
            "Remote Work Weekly » Links for March",
            "1",
            None,
            "pingback",
        ),
        want(
            "201",
            "Très bel article ! J’ai visité Kyoto l’an dernier et le café près de Kiyomizu-dera \
             était incroyable ☕",
            "27",
            None,
            "Élodie Martin",
            "1",
            Some("false"),
            "comment",
        ),
        want(
            "202",
            "素敵な記事ですね。次回の旅行で行ってみます！",
            "27",
            None,
            "渡辺健二",
            "1",
            None,
            "comment",
        ),
        want(
            "203",
            "Buy cheap followers at <a href=\"http://cheap-followers.example/buy\" \
             rel=\"nofollow ugc\">http://cheap-followers.example/buy</a> now!!! 10,000 Instagram \
             followers for $5, best prices, instant delivery 💰",
            "27",
            None,
            "Get Followers Fast",
            "0",
            Some("false"),
            "comment",
        ),
        want(
            "204",
            "<blockquote>le café près de Kiyomizu-dera</blockquote>\nWas it the one with the \
             little garden at the back? I think it was called <em>Café Sakura</em> — it’s one of \
             my favourites too.",
            "27",
            Some("201"),
            "Daniel Okafor",
            "1",
            None,
            "comment",
        ),
        want(
            "205",
            "First!!! 🎉",
            "27",
            None,
            "bob",
            "trash",
            None,
            "comment",
        ),
        want(
            "301",
            "Nice write-up. One nit in the Rust version: <code>if lens[idx[0]]> limit</code> \
             panics when <code>idx</code> is empty, so the benchmark may be skipping the slow \
             path.",
            "31",
            None,
            "Priya Raman",
            "1",
            Some("false"),
            "comment",
        ),
        want(
            "302",
            "Did you build with <code>--release</code> &amp; LTO? On my machine that closed most \
             of the gap with Go. Full numbers: <a href=\"https://gist.example/tomas/rust-go-logs\" \
             rel=\"nofollow ugc\">gist</a>.",
            "31",
            None,
            "Tomás García",
            "1",
            Some("false"),
            "comment",
        ),
        want(
            "303",
            "Good catch, thanks! Fixed in the repo and re-ran the numbers: the Rust parser is now \
             12% faster on the 1 GB log.",
            "31",
            Some("301"),
            "Daniel Okafor",
            "1",
            None,
            "comment",
        ),
    ]
}

#[test]
fn the_fixture_gives_exactly_the_expected_records() {
    let records = read_fixture();
    let wanted = wanted();
    assert_eq!(
        records.iter().map(|r| &*r.comment.id).collect::<Vec<_>>(),
        wanted.iter().map(|w| w.id).collect::<Vec<_>>()
    );
    for (record, want) in records.iter().zip(&wanted) {
        let c = &record.comment;
        assert_eq!(c.text, want.text, "text of {}", want.id);
        assert_eq!(c.post_id(), Some(want.post_id), "post of {}", want.id);
        let title = match want.post_id {
            "14" => FOUR_DAY,
            "27" => KYOTO,
            _ => RUST_GO,
        };
        let post = c.post.as_ref().unwrap();
        assert_eq!(post.title.as_deref(), Some(title), "title of {}", want.id);
        assert_eq!(c.parent_id.as_deref(), want.parent, "parent of {}", want.id);
        assert_eq!(
            c.author.as_deref(),
            Some(want.author),
            "author of {}",
            want.id
        );
        let deleted = want.approved == "trash";
        assert_eq!(
            record.export,
            ExportFields {
                approved: Some(want.approved.into()),
                akismet_result: want.akismet.map(Into::into),
                comment_type: Some(want.comment_type.into()),
                is_deleted: Some(deleted),
                ..ExportFields::default()
            },
            "export fields of {}",
            want.id
        );
        // The trashed comment still has its text, so it is classified.
        assert_eq!(record.skip, None, "skip of {}", want.id);
        assert_eq!(&*record.position.source, FIXTURE);
    }
}

#[test]
fn the_fixture_posts_are_shared_and_carry_their_body() {
    let records = read_fixture();
    let first = records[0].comment.post.as_ref().unwrap();
    assert_eq!(
        first.body.as_deref(),
        Some(
            "<!-- wp:paragraph -->\n<p>Six months ago our team of nine switched to a four-day \
             week. Here is what happened to our release cadence, our support queue and our \
             meetings.</p>\n<!-- /wp:paragraph -->"
        )
    );
    for record in &records[1..5] {
        assert!(Arc::ptr_eq(first, record.comment.post.as_ref().unwrap()));
    }
    let kyoto = records[5].comment.post.as_ref().unwrap();
    assert!(!Arc::ptr_eq(first, kyoto));
    assert!(kyoto.body.as_deref().unwrap().contains("<em>kissaten</em>"));
    // `&nbsp;` inside CDATA is HTML, kept as is.
    let rust = records[10].comment.post.as_ref().unwrap();
    assert!(rust.body.as_deref().unwrap().contains("1&nbsp;GB"));
}

#[test]
fn fixture_positions_point_at_the_comment_elements() {
    let bytes = fixture();
    let records = read_fixture();
    let starts = find_all(&bytes, b"<wp:comment>");
    assert_eq!(starts.len(), records.len());
    let paths = [
        "rss/channel/item[1]/wp:comment[1]",
        "rss/channel/item[1]/wp:comment[2]",
        "rss/channel/item[1]/wp:comment[3]",
        "rss/channel/item[1]/wp:comment[4]",
        "rss/channel/item[1]/wp:comment[5]",
        "rss/channel/item[3]/wp:comment[1]",
        "rss/channel/item[3]/wp:comment[2]",
        "rss/channel/item[3]/wp:comment[3]",
        "rss/channel/item[3]/wp:comment[4]",
        "rss/channel/item[3]/wp:comment[5]",
        "rss/channel/item[5]/wp:comment[1]",
        "rss/channel/item[5]/wp:comment[2]",
        "rss/channel/item[5]/wp:comment[3]",
    ];
    for ((record, &start), path) in records.iter().zip(&starts).zip(paths) {
        let p = &record.position;
        assert_eq!(p.byte, Some(start as u64), "byte of {}", record.comment.id);
        assert_eq!(
            p.line,
            Some(line_of(&bytes, start)),
            "line of {}",
            record.comment.id
        );
        assert_eq!(
            p.element.as_deref(),
            Some(path),
            "path of {}",
            record.comment.id
        );
        // The element at that byte holds this comment's id.
        let id_tag = format!("<wp:comment_id>{}</wp:comment_id>", record.comment.id);
        assert_eq!(
            find(&bytes[start..], id_tag.as_bytes()).map(|i| i < 40),
            Some(true)
        );
    }
    assert_eq!(records[0].position.line, Some(91));
    assert_eq!(
        records[0].position.to_string(),
        "fixtures/wordpress.xml: line 91, byte 4436, rss/channel/item[1]/wp:comment[1]"
    );
}

#[test]
fn gzip_input_gives_the_same_records() {
    let plain = read_fixture();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&fixture()).unwrap();
    let gz = encoder.finish().unwrap();

    let input = from_reader(
        Box::new(Cursor::new(gz.clone())),
        FIXTURE.into(),
        &InputOptions::default(),
    )
    .unwrap();
    assert_eq!(input.format(), Format::Wxr);
    let from_gz: Vec<Record> = input.map(Result::unwrap).collect();
    assert_eq!(from_gz, plain);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("okafor-notes.WordPress.2021-03-18.xml.gz");
    std::fs::write(&path, &gz).unwrap();
    let input = open(Some(&path), &InputOptions::default()).unwrap();
    assert_eq!(input.format(), Format::Wxr);
    let name: Arc<str> = path.display().to_string().into();
    let from_file: Vec<Record> = input.map(Result::unwrap).collect();
    assert_eq!(from_file.len(), plain.len());
    for (mut a, b) in from_file.into_iter().zip(plain) {
        assert_eq!(a.position.source, name);
        a.position.source = b.position.source.clone();
        assert_eq!(a, b);
    }
}

#[test]
fn a_cut_gzip_stream_ends_with_one_error() {
    let full = read(&fixture());
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&fixture()).unwrap();
    let gz = encoder.finish().unwrap();
    for cut in [gz.len() / 3, gz.len() / 2, gz.len() - 10] {
        let items = read(&gz[..cut]);
        let (last, complete) = items.split_last().expect("at least one item");
        assert!(complete.len() <= full.len());
        assert_eq!(complete, &full[..complete.len()]);
        let e = err(last);
        assert!(e.position.byte.is_some(), "{e}");
    }
}

#[test]
fn the_embedded_classifier_flags_the_abusive_and_spam_comments() {
    let classifier = Classifier::embedded().unwrap();
    let records = read_fixture();
    let label = |id: &str| {
        let record = records.iter().find(|r| r.comment.id == id).unwrap();
        classifier.classify(&record.comment).label
    };
    assert_eq!(label("104"), Label::Abusive);
    assert_eq!(label("203"), Label::OffTopic);
    assert_eq!(label("101"), Label::Substantive);
}

// ---------------------------------------------------------------------------------------------
// Transport variations of the same file

#[test]
fn input_delivered_one_byte_at_a_time_reads_the_same() {
    /// Hands out one byte per read, so UTF-8 sequences and tags are split between reads.
    struct Trickle(Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }
    let records: Vec<Record> = from_reader(
        Box::new(Trickle(Cursor::new(fixture()))),
        FIXTURE.into(),
        // One byte is too little to tell the format from.
        &wxr_options(),
    )
    .unwrap()
    .map(Result::unwrap)
    .collect();
    assert_eq!(records, read_fixture());
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_handled() {
    let plain = read(&fixture());
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&fixture());
    let bom = read(&with_bom);
    assert_eq!(bom.len(), plain.len());
    for (a, b) in bom.iter().zip(&plain) {
        let (a, b) = (ok(a), ok(b));
        assert_eq!(a.comment, b.comment);
        assert_eq!(a.position.byte, b.position.byte.map(|x| x + 3));
        assert_eq!(a.position.line, b.position.line);
    }

    let crlf: Vec<u8> = String::from_utf8(fixture())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let starts = find_all(&crlf, b"<wp:comment>");
    let items = read(&crlf);
    assert_eq!(items.len(), plain.len());
    for ((a, b), start) in items.iter().zip(&plain).zip(starts) {
        let (a, b) = (ok(a), ok(b));
        // XML normalizes line ends, in CDATA too.
        assert_eq!(a.comment, b.comment);
        assert_eq!(a.position.byte, Some(start as u64));
        assert_eq!(a.position.line, b.position.line);
    }
}

// ---------------------------------------------------------------------------------------------
// Truncation

#[test]
fn every_truncation_of_the_fixture_yields_one_item_per_comment_present() {
    let bytes = fixture();
    let full = read(&bytes);
    assert_eq!(full.len(), 13);
    let starts = find_all(&bytes, b"<wp:comment>");
    let ends = find_all(&bytes, b"</wp:comment>");
    let root_end = find(&bytes, b"</rss>").unwrap() + b"</rss>".len();
    let begun = Instant::now();
    for len in 0..=bytes.len() {
        let prefix = &bytes[..len];
        let items = read(prefix);
        let started = starts.iter().filter(|&&s| s + 12 <= len).count();
        let closed = ends.iter().filter(|&&e| e + 13 <= len).count();
        let context = || format!("prefix of {len} bytes: {items:?}");
        if len == 0 {
            assert!(items.is_empty(), "{}", context());
            continue;
        }
        if len >= root_end {
            assert_eq!(items, full, "{}", context());
            continue;
        }
        // The complete comments are read as they are in the whole file.
        assert_eq!(items.len(), closed + 1, "{}", context());
        assert_eq!(&items[..closed], &full[..closed], "{}", context());
        let last = err(&items[closed]);
        assert!(last.position.byte.is_some(), "{}", context());
        if started > closed {
            // The partial comment: its own position, and its id once read.
            let start = starts[closed];
            let want = ok(&full[closed]);
            assert_eq!(last.position.byte, Some(start as u64), "{}", context());
            assert_eq!(
                last.position.line,
                Some(line_of(&bytes, start)),
                "{}",
                context()
            );
            assert_eq!(
                last.position.element,
                want.position.element,
                "{}",
                context()
            );
            let id_read = find(&prefix[start..], b"</wp:comment_id>").is_some();
            assert_eq!(
                last.id.as_deref(),
                id_read.then_some(&*want.comment.id),
                "{}",
                context()
            );
            assert!(last.reason.contains("truncated"), "{}", context());
        } else {
            assert_eq!(last.id, None, "{}", context());
            assert!(
                last.reason.contains("truncated") || last.reason.contains("no root element"),
                "{}",
                context()
            );
            assert!(last.position.byte.unwrap() <= len as u64, "{}", context());
        }
    }
    assert!(begun.elapsed() < Duration::from_secs(60));
}

#[test]
fn truncation_between_comments_says_the_document_is_truncated() {
    let bytes = fixture();
    let cut = find_all(&bytes, b"</wp:comment>")[1] + b"</wp:comment>".len();
    let items = read(&bytes[..cut]);
    assert_eq!(items.len(), 3);
    let e = err(&items[2]);
    assert!(e.reason.contains("truncated"), "{e}");
    assert_eq!(e.position.byte, Some(cut as u64));
    assert_eq!(e.position.element.as_deref(), Some("rss/channel/item[1]"));
}

#[test]
fn truncation_inside_a_tag_of_a_comment_fails_that_comment() {
    let bytes = fixture();
    let start = find_all(&bytes, b"<wp:comment>")[3];
    let cut = start + find(&bytes[start..], b"<wp:comment_author>").unwrap() + 8;
    let items = read(&bytes[..cut]);
    assert_eq!(items.len(), 4);
    let e = err(&items[3]);
    assert_eq!(e.id.as_deref(), Some("104"));
    assert_eq!(e.position.byte, Some(start as u64));
    assert_eq!(
        e.position.element.as_deref(),
        Some("rss/channel/item[1]/wp:comment[4]")
    );
    assert!(e.reason.contains("truncated"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Malformed content

#[test]
fn invalid_utf8_fails_only_its_comment() {
    let bytes = fixture();
    let full = read(&bytes);
    let mut broken = bytes.clone();
    let at = find(&broken, "素敵".as_bytes()).unwrap();
    broken[at] = 0xFF;
    broken[at + 1] = 0xFE;
    let items = read(&broken);
    assert_eq!(items.len(), full.len());
    for (i, (a, b)) in items.iter().zip(&full).enumerate() {
        if i == 6 {
            let e = err(a);
            assert_eq!(e.id.as_deref(), Some("202"));
            assert_eq!(e.position.byte, ok(b).position.byte);
            assert_eq!(e.position.element, ok(b).position.element);
            assert!(e.reason.contains("UTF-8"), "{e}");
            assert!(e.reason.contains(&at.to_string()), "{e}");
        } else {
            assert_eq!(ok(a), ok(b));
        }
    }

    // Outside comments (a Latin-1 title), the text is kept with replacement characters.
    let mut latin1 = bytes.clone();
    let at = find(&latin1, "Café hopping".as_bytes()).unwrap() + 3;
    latin1.splice(at..at + 2, [0xE9]);
    let items = read(&latin1);
    assert_eq!(items.len(), full.len());
    let kyoto = ok(&items[5]);
    assert_eq!(
        kyoto.comment.post.as_ref().unwrap().title.as_deref(),
        Some("Caf\u{FFFD} hopping in Kyoto: 京都のカフェ巡り")
    );
    assert_eq!(kyoto.comment.text, ok(&full[5]).comment.text);
}

#[test]
fn entities_are_decoded_but_unknown_ones_are_kept_as_written() {
    let doc = wxr(&item(
        1,
        &(comment_raw(
            1,
            0,
            "Caf&eacute; &amp; &#8217;quoted&#x2019; &lt;b&gt; &nbsp;x &undefined; AT&T rocks",
        ) + &comment(2, "after")),
    ));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    assert_eq!(
        ok(&items[0]).comment.text,
        "Caf&eacute; & ’quoted’ <b> &nbsp;x &undefined; AT&T rocks"
    );
    assert_eq!(ok(&items[1]).comment.text, "after");
}

#[test]
fn a_billion_laughs_dtd_is_not_expanded() {
    let mut dtd = String::from("<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    dtd.push_str("<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n");
    for i in 2..=9 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        dtd.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    dtd.push_str("<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n");
    let doc = wxr(&item(
        1,
        &(comment_raw(1, 0, "Ha &lol9; &xxe;") + &comment(2, "plain")),
    ))
    .replacen("<rss", &format!("{dtd}<rss"), 1);
    let begun = Instant::now();
    let items = read(doc.as_bytes());
    assert!(begun.elapsed() < Duration::from_secs(5));
    assert_eq!(items.len(), 2);
    assert_eq!(ok(&items[0]).comment.text, "Ha &lol9; &xxe;");
    assert_eq!(ok(&items[1]).comment.text, "plain");
}

#[test]
fn deeply_nested_junk_is_survived() {
    const DEPTH: usize = 100_000;
    let begun = Instant::now();

    // Balanced junk inside a comment's unescaped content is kept as markup.
    let deep = format!("{}core{}", "<b>".repeat(DEPTH), "</b>".repeat(DEPTH));
    let doc = wxr(&item(1, &(comment_raw(1, 0, &deep) + &comment(2, "next"))));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    assert_eq!(ok(&items[0]).comment.text, deep);
    assert_eq!(ok(&items[1]).comment.text, "next");

    // Unclosed junk inside the content, then stray end tags.
    let unclosed = format!("{}x{}", "<i>".repeat(DEPTH), "</u>".repeat(DEPTH));
    let doc = wxr(&item(
        1,
        &(comment_raw(1, 0, &unclosed) + &comment(2, "next")),
    ));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    assert!(ok(&items[0]).comment.text.starts_with("<i><i>"));
    assert_eq!(ok(&items[1]).comment.text, "next");

    // Balanced junk between comments, outside any value.
    let junk = format!("{}{}", "<x>".repeat(DEPTH), "</x>".repeat(DEPTH));
    let doc = wxr(&item(1, &(comment(1, "a") + &junk + &comment(2, "b"))));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    assert_eq!(ok(&items[1]).comment.text, "b");
    assert_eq!(
        ok(&items[1]).position.element.as_deref(),
        Some("rss/channel/item[1]/wp:comment[2]")
    );

    // A comment deep inside unclosed junk, then the end of the file.
    let doc = wxr(&item(1, &("<x>".repeat(DEPTH) + &comment(1, "deep"))));
    let cut = doc.find("</channel>").unwrap();
    let items = read(&doc.as_bytes()[..cut]);
    assert_eq!(items.len(), 2);
    let deep = ok(&items[0]);
    assert_eq!(deep.comment.text, "deep");
    let path = deep.position.element.as_deref().unwrap();
    assert!(path.starts_with("rss/channel/item[1]/x/x/"), "{path}");
    assert!(path.ends_with("/x/wp:comment[1]"), "{path}");
    assert!(path.len() < 400);
    assert!(err(&items[1]).reason.contains("truncated"));

    // Comments that look nested (every `</wp:comment>` moved to the end): each start tag ends
    // the comment before it, so they come out one item each, in order, with their own parents,
    // and the stray end tags after them cost nothing.
    const NESTED: usize = 2_000;
    let mut nested = String::new();
    for i in 1..=NESTED {
        nested.push_str(&format!(
            "<wp:comment><wp:comment_id>{i}</wp:comment_id>\
             <wp:comment_content>level {i}</wp:comment_content>"
        ));
    }
    nested.push_str(&"</wp:comment>".repeat(NESTED));
    let items = read(wxr(&item(1, &nested)).as_bytes());
    assert_eq!(items.len(), NESTED);
    for (k, item) in items.iter().enumerate() {
        let record = ok(item);
        assert_eq!(record.comment.id, (k + 1).to_string());
        assert_eq!(record.comment.parent_id, None);
    }

    assert!(begun.elapsed() < Duration::from_secs(30));
}

#[test]
fn empty_and_rootless_inputs() {
    // Empty input, documented: no items.
    assert!(read(b"").is_empty());
    assert!(read(b"  \n\t\n").is_empty());
    assert!(read(b"\xEF\xBB\xBF").is_empty());
    // Something that is not a document: one error.
    let items = read(b"hello, not XML");
    assert_eq!(items.len(), 1);
    assert!(err(&items[0]).reason.contains("no root element"));
    let items = read(b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<!-- generator -->\n");
    assert_eq!(items.len(), 1);
    // UTF-16 is decoded (tests/hostile.rs reads comments from it): this one has none.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("<rss/>".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert!(read(&utf16).is_empty());
    // A document without comments.
    assert!(read(wxr(&item(1, "")).as_bytes()).is_empty());
}

#[test]
fn markup_that_never_closes_ends_the_stream_with_an_error() {
    // An unterminated CDATA section swallows the rest of the file.
    let doc = wxr(&item(
        1,
        &(comment(1, "fine")
            + "<wp:comment><wp:comment_id>2</wp:comment_id>\
               <wp:comment_content><![CDATA[never closed</wp:comment_content></wp:comment>\
               <wp:comment><wp:comment_id>3</wp:comment_id>\
               <wp:comment_content>swallowed</wp:comment_content></wp:comment>"),
    ));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    assert_eq!(ok(&items[0]).comment.text, "fine");
    let e = err(&items[1]);
    assert_eq!(e.id.as_deref(), Some("2"));
    assert_eq!(
        e.position.element.as_deref(),
        Some("rss/channel/item[1]/wp:comment[2]")
    );
    assert_eq!(
        e.position.byte,
        doc.match_indices("<wp:comment>")
            .nth(1)
            .map(|(i, _)| i as u64)
    );
    assert!(e.reason.contains("CDATA"), "{e}");
}

#[test]
fn broken_structure_fails_only_the_comment_it_is_in() {
    let doc = wxr(&item(
        1,
        &(comment(1, "before")
            // The content element is closed by the comment's end tag.
            + "<wp:comment><wp:comment_id>2</wp:comment_id>\
               <wp:comment_content>oops</wp:comment>\n"
            // A stray end tag.
            + "<wp:comment><wp:comment_id>3</wp:comment_id>\
               <wp:comment_content>x</wp:comment_content></wp:nothing></wp:comment>\n"
            // No content at all.
            + "<wp:comment><wp:comment_id>4</wp:comment_id></wp:comment>\n"
            + "<wp:comment/>\n"
            + &comment(5, "after")),
    ));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 6, "{items:?}");
    assert_eq!(ok(&items[0]).comment.text, "before");
    let e = err(&items[1]);
    assert_eq!(e.id.as_deref(), Some("2"));
    assert!(e.reason.contains("not closed"), "{e}");
    let e = err(&items[2]);
    assert_eq!(e.id.as_deref(), Some("3"));
    assert!(e.reason.contains("</wp:nothing>"), "{e}");
    let e = err(&items[3]);
    assert_eq!(e.id.as_deref(), Some("4"));
    assert!(e.reason.contains("wp:comment_content"), "{e}");
    let e = err(&items[4]);
    assert_eq!(e.id, None);
    assert_eq!(
        e.position.element.as_deref(),
        Some("rss/channel/item[1]/wp:comment[5]")
    );
    let last = ok(&items[5]);
    assert_eq!(last.comment.text, "after");
    assert_eq!(
        last.position.element.as_deref(),
        Some("rss/channel/item[1]/wp:comment[6]")
    );
}

// ---------------------------------------------------------------------------------------------
// Variants of the format

#[test]
fn wordpress_2_exports_without_ids_and_with_raw_html() {
    // As WordPress 2.x wrote WXR 1.0: no wp:post_id, no wp:comment_id, the comment HTML
    // written as is, an empty comment_type for plain comments.
    let doc = r#"<!-- generator="wordpress/2.3.1" created="2008-01-20 14:01"-->
<rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.0/"
>
<channel>
	<title>Old blog</title>
<item>
<title>Hello &amp; welcome</title>
<link>http://old.example/?p=5</link>
<dc:creator>admin</dc:creator>
<guid isPermaLink="false">http://old.example/?p=5</guid>
<description></description>
<content:encoded><![CDATA[First post.]]></content:encoded>
<wp:post_date>2008-01-02 10:00:00</wp:post_date>
<wp:post_type>post</wp:post_type>
<wp:comment>
<wp:comment_author>Jane O'Neil</wp:comment_author>
<wp:comment_author_url>http://jane.example/?a=1&b=2</wp:comment_author_url>
<wp:comment_content>I <b>love</b> it &nbsp;&mdash; see <a href="http://jane.example/" rel="nofollow">my blog</a><br>
and <i>more</wp:comment_content>
<wp:comment_approved>1</wp:comment_approved>
<wp:comment_type></wp:comment_type>
<wp:comment_parent>0</wp:comment_parent>
</wp:comment>
<wp:comment>
<wp:comment_author>Spammer</wp:comment_author>
<wp:comment_content>cheap pills</wp:comment_content>
<wp:comment_approved>spam</wp:comment_approved>
<wp:comment_type></wp:comment_type>
<wp:comment_parent>0</wp:comment_parent>
</wp:comment>
	</item>
</channel>
</rss>
"#;
    assert_eq!(
        detect_format(doc.as_bytes(), "wordpress.2008-01-20.xml"),
        Some(Format::Wxr)
    );
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 2);
    let first = ok(&items[0]);
    assert_eq!(first.comment.id, "rss/channel/item[1]/wp:comment[1]");
    assert_eq!(
        first.comment.text,
        "I <b>love</b> it &nbsp;&mdash; see <a href=\"http://jane.example/\" \
         rel=\"nofollow\">my blog</a><br>\nand <i>more"
    );
    assert_eq!(first.comment.author.as_deref(), Some("Jane O'Neil"));
    assert_eq!(
        first.comment.author_url.as_deref(),
        Some("http://jane.example/?a=1&b=2")
    );
    assert_eq!(first.comment.post_id(), Some("http://old.example/?p=5"));
    let post = first.comment.post.as_ref().unwrap();
    assert_eq!(post.title.as_deref(), Some("Hello & welcome"));
    assert_eq!(first.export.comment_type.as_deref(), Some("comment"));
    let spam = ok(&items[1]);
    assert_eq!(spam.comment.id, "rss/channel/item[1]/wp:comment[2]");
    assert_eq!(spam.export.approved.as_deref(), Some("spam"));
    assert_eq!(spam.export.is_deleted, Some(false));
    // No wp:comment_author_url element: the export says nothing about a website.
    assert_eq!(spam.comment.author_url, None);
    assert_eq!(spam.skip, None);
}

#[test]
fn disqus_flavoured_wxr_and_other_prefixes() {
    // The Disqus import format: dsq:thread_identifier names the post, extra dsq elements.
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dsq="http://www.disqus.com/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.0/">
  <channel>
    <item>
      <title>Thread title</title>
      <link>https://site.example/thread</link>
      <content:encoded><![CDATA[Body]]></content:encoded>
      <dsq:thread_identifier>thread-42</dsq:thread_identifier>
      <wp:post_date_gmt>2010-09-20 09:13:44</wp:post_date_gmt>
      <wp:comment_status>open</wp:comment_status>
      <wp:comment>
        <dsq:remote>
          <dsq:id>user-7</dsq:id>
          <dsq:avatar>https://site.example/a.png</dsq:avatar>
        </dsq:remote>
        <wp:comment_id>65</wp:comment_id>
        <wp:comment_author>Foo Bar</wp:comment_author>
        <wp:comment_author_email>foo@bar.example</wp:comment_author_email>
        <wp:comment_content><![CDATA[Hello world]]></wp:comment_content>
        <wp:comment_approved>1</wp:comment_approved>
        <wp:comment_parent>0</wp:comment_parent>
      </wp:comment>
    </item>
  </channel>
</rss>"#;
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 1);
    let r = ok(&items[0]);
    assert_eq!(r.comment.id, "65");
    assert_eq!(r.comment.post_id(), Some("thread-42"));
    assert_eq!(r.comment.author.as_deref(), Some("Foo Bar"));
    assert_eq!(r.export.comment_type.as_deref(), Some("comment"));

    // Another prefix bound to the WXR namespace.
    let doc = r#"<rss xmlns:wordpress="http://wordpress.org/export/1.1/"><channel><item>
      <title>T</title><wordpress:post_id>9</wordpress:post_id>
      <wordpress:comment><wordpress:comment_id>3</wordpress:comment_id>
      <wordpress:comment_content>Hi</wordpress:comment_content>
      <wordpress:comment_approved>post-trashed</wordpress:comment_approved>
      <wordpress:comment_parent>2</wordpress:comment_parent></wordpress:comment>
    </item></channel></rss>"#;
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 1);
    let r = ok(&items[0]);
    assert_eq!(r.comment.id, "3");
    assert_eq!(r.comment.parent_id.as_deref(), Some("2"));
    assert_eq!(r.comment.post_id(), Some("9"));
    assert_eq!(r.export.is_deleted, Some(true));
    assert_eq!(r.skip, None);
    assert_eq!(
        r.position.element.as_deref(),
        Some("rss/channel/item[1]/wordpress:comment[1]")
    );
}

#[test]
fn a_trashed_comment_without_text_is_skipped_as_deleted() {
    let doc = wxr(&item(
        1,
        &comment_raw(7, 0, "<![CDATA[]]>").replace(
            "<![CDATA[1]]></wp:comment_approved>",
            "<![CDATA[trash]]></wp:comment_approved>",
        ),
    ));
    let items = read(doc.as_bytes());
    assert_eq!(items.len(), 1);
    let r = ok(&items[0]);
    assert_eq!(r.comment.id, "7");
    assert_eq!(r.comment.text, "");
    assert_eq!(r.skip, Some(Skip::Deleted));
    assert_eq!(r.export.is_deleted, Some(true));
    assert_eq!(r.export.approved.as_deref(), Some("trash"));
}

#[test]
fn author_urls_are_read_given_or_blank() {
    let records = read_fixture();
    let urls: Vec<Option<&str>> = records
        .iter()
        .map(|r| r.comment.author_url.as_deref())
        .collect();
    // Every comment of the fixture has the element: a website, or blank.
    assert_eq!(urls.len(), 13);
    assert!(urls.iter().all(Option::is_some), "{urls:?}");
    let given: Vec<&str> = urls
        .iter()
        .flatten()
        .copied()
        .filter(|u| !u.is_empty())
        .collect();
    assert_eq!(
        given,
        [
            "https://okafor-notes.example",
            "https://remoteweekly.example/2021/03/links-for-march/",
            "http://cheap-followers.example/",
            "https://okafor-notes.example",
            "https://priya.example",
            "https://okafor-notes.example",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Hand-edited exports

#[test]
fn a_field_left_open_does_not_swallow_the_comments_after_it() {
    // `<link>` typed for `</link>`: the item's own elements end the field.
    let first = item(
        7,
        &format!("{}{}", comment(1, "First"), comment(2, "Second")),
    )
    .replace(
        "<wp:post_id>",
        "<link>https://blog.example/p7<link>\n<wp:post_id>",
    );
    let records = read(wxr(&format!("{first}{}", item(8, &comment(3, "Third")))).as_bytes());
    let ids: Vec<&str> = records.iter().map(|r| &*ok(r).comment.id).collect();
    assert_eq!(ids, ["1", "2", "3"]);
    assert_eq!(ok(&records[0]).comment.post_id(), Some("7"));
    // A comment field left open ends at the next field, and fails its comment.
    let open = comment(4, "Cut").replace("]]></wp:comment_content>", "]]>");
    let records = read(wxr(&item(9, &format!("{open}{}", comment(5, "Fine")))).as_bytes());
    assert_eq!(records.len(), 2);
    let e = err(&records[0]);
    assert_eq!(e.id.as_deref(), Some("4"));
    assert!(
        e.reason
            .contains("<wp:comment_content> is not closed before <wp:comment_approved>"),
        "{e}"
    );
    assert_eq!(&*ok(&records[1]).comment.id, "5");
}

#[test]
fn a_comment_without_its_start_tag_is_an_error_record() {
    let headless = comment(2, "Lost").replacen("<wp:comment>", "", 1);
    let comments = format!("{}{headless}{}", comment(1, "One"), comment(3, "Three"));
    let records = read(wxr(&item(7, &comments)).as_bytes());
    assert_eq!(records.len(), 3, "one record per comment");
    assert_eq!(&*ok(&records[0]).comment.id, "1");
    let e = err(&records[1]);
    assert!(
        e.reason
            .starts_with("<wp:comment_id> outside any <wp:comment>"),
        "{e}"
    );
    assert_eq!(e.position.element.as_deref(), Some("rss/channel/item[1]"));
    assert_eq!(&*ok(&records[2]).comment.id, "3");
}

#[test]
fn another_kind_of_xml_read_as_wxr_is_one_error() {
    let disqus = b"<?xml version=\"1.0\"?>\n<disqus xmlns=\"http://disqus.com\"><post/></disqus>";
    let records = read(disqus);
    assert_eq!(records.len(), 1);
    assert_eq!(
        err(&records[0]).reason,
        "not a WordPress export: the root element is <disqus>, not <rss>"
    );
}

#[test]
fn a_latin1_declaration_over_utf8_comment_text_reads_the_utf8() {
    // WordPress 2.x on a blog set to ISO-8859-1: the declaration names the blog's charset, the
    // comment CDATA is UTF-8 (`wxr_cdata()`), the title is Latin-1.
    let body = wxr(&item(7, &comment(1, "Très réussie, merci")))
        .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    let mut bytes = body
        .replace("<title>Test blog</title>", "<title>Caf@</title>")
        .into_bytes();
    let at = find(&bytes, b"Caf@").unwrap() + 3;
    bytes[at] = 0xE9;
    let records = read(&bytes);
    assert_eq!(ok(&records[0]).comment.text, "Très réussie, merci");
}

#[test]
fn a_missing_comment_end_tag_ends_the_comment_at_the_next() {
    let open = comment_raw(2, 1, "<![CDATA[Second]]>").replace("</wp:comment>", "");
    let comments = format!(
        "{}{open}{}",
        comment(1, "First"),
        comment_raw(3, 0, "<![CDATA[Third]]>")
    );
    let records = read(wxr(&item(7, &comments)).as_bytes());
    let got: Vec<(String, Option<String>)> = records
        .iter()
        .map(|r| {
            let c = &ok(r).comment;
            (c.id.to_string(), c.parent_id.as_deref().map(str::to_owned))
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1".to_owned(), None),
            ("2".to_owned(), Some("1".to_owned())),
            ("3".to_owned(), None)
        ]
    );
}

#[test]
fn php_notices_before_the_export_are_read_past() {
    // What a PHP warning prints into an export made on a misconfigured host.
    let notice = "<br />\n<b>Deprecated</b>:  Function create_function() is deprecated in <b>/var/www/wp-content/plugins/x.php</b> on line <b>12</b><br />\n";
    let doc = wxr(&item(7, &comment(1, "Kept")));
    let doc = doc.replacen("<?xml", &format!("{notice}<?xml"), 1);
    let records = read(doc.as_bytes());
    assert_eq!(records.len(), 1);
    assert_eq!(&*ok(&records[0]).comment.id, "1");
}
