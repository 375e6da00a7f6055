//! The Disqus export reader through the public API: the fixture's records, format variants,
//! gzip, and malformed input (truncation at every byte, invalid UTF-8, unknown entities, deep
//! nesting, DTD entity bombs, syntax errors, empty input).

use comment_sieve::input::{
    Format, InputOptions, Position, Record, RecordError, RecordResult, Skip, detect_format,
    from_reader, open,
};
use comment_sieve::{Classifier, Label};
use std::io::{Cursor, Read, Write};
use std::sync::Arc;

const FIXTURE: &str = "fixtures/disqus.xml";

fn fixture() -> Vec<u8> {
    std::fs::read(FIXTURE).expect("fixture")
}

fn disqus_options() -> InputOptions {
    InputOptions {
        format: Some(Format::Disqus),
        ..InputOptions::default()
    }
}

/// Reads bytes as a Disqus export (no detection), named `test.xml`.
fn read_bytes(bytes: &[u8]) -> Vec<RecordResult> {
    from_reader(
        Box::new(Cursor::new(bytes.to_vec())),
        "test.xml".into(),
        &disqus_options(),
    )
    .expect("input")
    .collect()
}

fn ok(items: &[RecordResult]) -> Vec<&Record> {
    items
        .iter()
        .map(|item| item.as_ref().expect("a record"))
        .collect()
}

fn err(item: &RecordResult) -> &RecordError {
    item.as_ref().expect_err("an error")
}

/// A reader that hands out at most `n` bytes per call.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    n: usize,
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.data.len() - self.at).min(out.len()).min(self.n);
        out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Byte offset and 1-based line of the first occurrence of `needle`.
/// The id of each record, or of each error when it has one.
fn ids(items: &[RecordResult]) -> Vec<Option<String>> {
    items
        .iter()
        .map(|i| match i {
            Ok(r) => Some(r.comment.id.to_string()),
            Err(e) => e.id.clone(),
        })
        .collect()
}

fn locate(hay: &[u8], needle: &str) -> (usize, u64) {
    let at = hay
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap_or_else(|| panic!("{needle:?} not found"));
    let line = 1 + hay[..at].iter().filter(|&&b| b == b'\n').count() as u64;
    (at, line)
}

/// Replaces the first occurrence of `from`.
fn replace(doc: &[u8], from: &str, to: &[u8]) -> Vec<u8> {
    let (at, _) = locate(doc, from);
    let mut out = doc[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&doc[at + from.len()..]);
    out
}

// ---------------------------------------------------------------------------------------------
// The fixture

const FERRY: &str = "Ferry timetable cuts: what the council isn&#8217;t telling you";
const KYOTO: &str = "Café mornings in Kyoto: notes from six 喫茶店";
const NEWSLETTER: &str = "Why we moved the newsletter to plain text & dropped tracking";

struct Expected {
    id: &'static str,
    thread: (&'static str, &'static str),
    parent: Option<&'static str>,
    author: &'static str,
    text: &'static str,
    is_spam: bool,
    is_deleted: bool,
    skip: Option<Skip>,
}

fn expected() -> Vec<Expected> {
    let ferry = ("7730154021", FERRY);
    let kyoto = ("7730189446", KYOTO);
    let newsletter = ("7731002317", NEWSLETTER);
    let e = |id, thread, parent, author, text| Expected {
        id,
        thread,
        parent,
        author,
        text,
        is_spam: false,
        is_deleted: false,
        skip: None,
    };
    vec![
        e(
            "4630001001",
            ferry,
            None,
            "Maren Holt",
            // CDATA is literal: the HTML entity stays for the normalizer.
            "<p>The 06:40 sailing is the only one that gets shift workers to the hospital before \
             the 07:30 handover. Cutting it saves the council very little &amp; leaves night \
             staff with a ninety-minute bus detour.</p>",
        ),
        e(
            "4630001187",
            ferry,
            Some("4630001001"),
            "Tom Okafor",
            "<p>Agreed. The council's own survey counted 140 regular passengers on that \
             crossing. <b>Where is the saving?</b></p>",
        ),
        e(
            "4630002210",
            ferry,
            Some("4630001187"),
            "Maren Holt",
            "<p>The saving is mostly crew overtime on the early shift. The budget papers put it \
             at &pound;38k a year, which is less than one hospital agency nurse.</p><p>Source: \
             <a href=\"https://harbourline.example.org/docs/budget-2019.pdf\" rel=\"nofollow \
             noopener\" target=\"_blank\" title=\"budget papers\">budget papers, p. 14</a></p>",
        ),
        e(
            "4630002555",
            ferry,
            Some("4630001001"),
            "ferrysceptic88",
            "<p>You are a pathetic idiot. Nobody cares about your stupid ferry, crawl back under \
             your rock.</p>",
        ),
        Expected {
            is_spam: true,
            ..e(
                "4630003012",
                ferry,
                None,
                "Social Growth Deals",
                "<p>Buy cheap followers at <a href=\"http://cheap-followers.example.com/?ref=hln\" \
                 rel=\"nofollow noopener\" target=\"_blank\" \
                 title=\"http://cheap-followers.example.com/?ref=hln\">\
                 http://cheap-followers.example.com</a> 10000 Instagram followers for $5!!! Best \
                 prices, instant delivery, order now</p>",
            )
        },
        Expected {
            is_deleted: true,
            skip: Some(Skip::Deleted),
            ..e("4630003340", kyoto, None, "Guest", "")
        },
        Expected {
            is_deleted: true,
            ..e(
                "4630003391",
                kyoto,
                None,
                "Tom Okafor",
                "<p>Sorry, this was meant for the ferry thread. Please ignore.</p>",
            )
        },
        e(
            "4630004100",
            kyoto,
            None,
            "Léa Fontaine",
            "<p>J'ai adoré le café près de Demachiyanagi — 朝の珈琲が最高でした ☕\u{FE0F}🙂 The \
             hand-drip pour was worth the queue, and the owner still writes the bill by \
             hand.</p>",
        ),
        e(
            "4630004420",
            kyoto,
            Some("4630004100"),
            "Kenji Mori",
            "<p>Same here. If you go on a weekday, the morning set (toast, egg, coffee) is \
             ¥650.<br>Closed on Wednesdays though, which caught us out.</p>",
        ),
        e(
            "4630005001",
            newsletter,
            None,
            // `&#8211;` decoded
            "Small Web Digest – Issue 61",
            // An escaped message (older exports): markup and character references decoded.
            "<p>[…] Harbour Line Notes explains why they moved their newsletter to plain text \
             and what happened to the team’s open rates afterwards […]</p>",
        ),
        e(
            "4630005230",
            newsletter,
            None,
            "Priya",
            "<p>Did the unsubscribe rate change after you dropped the tracking pixel? Ours went \
             down slightly, which surprised everyone.</p>",
        ),
        e(
            "4630005388",
            newsletter,
            Some("4630005230"),
            "Harbour Line Notes",
            "<p>It went down for us too: 0.4% &lt; 0.6% a month before. Plain text also renders \
             in every client, so fewer &quot;this looks broken&quot; replies.</p>",
        ),
    ]
}

fn check_fixture_records(items: &[RecordResult], bytes: &[u8], source: &str, shift: usize) {
    let expected = expected();
    assert_eq!(items.len(), expected.len());
    for (i, (item, want)) in items.iter().zip(&expected).enumerate() {
        let r = item.as_ref().unwrap_or_else(|e| panic!("{}: {e}", want.id));
        let c = &r.comment;
        assert_eq!(c.id, want.id);
        assert_eq!(c.text, want.text, "{}", want.id);
        let post = c.post.as_ref().expect("thread");
        assert_eq!(post.id.as_deref(), Some(want.thread.0), "{}", want.id);
        assert_eq!(post.title.as_deref(), Some(want.thread.1), "{}", want.id);
        assert_eq!(post.body, None);
        assert_eq!(c.parent_id.as_deref(), want.parent, "{}", want.id);
        assert_eq!(c.author.as_deref(), Some(want.author), "{}", want.id);
        assert_eq!(r.export.is_spam, Some(want.is_spam), "{}", want.id);
        assert_eq!(r.export.is_deleted, Some(want.is_deleted), "{}", want.id);
        assert_eq!(r.export.approved, None);
        assert_eq!(r.export.comment_type, None);
        assert_eq!(r.export.label, None);
        assert_eq!(r.skip, want.skip, "{}", want.id);
        let (at, line) = locate(bytes, &format!("<post dsq:id=\"{}\">", want.id));
        assert_eq!(
            r.position,
            Position {
                source: source.into(),
                line: Some(line),
                byte: Some((at + shift) as u64),
                element: Some(format!("disqus/post[{}]", i + 1)),
            },
            "{}",
            want.id
        );
    }
}

#[test]
fn fixture_is_detected_as_disqus() {
    let input = open(Some(FIXTURE.as_ref()), &InputOptions::default()).unwrap();
    assert_eq!(input.format(), Format::Disqus);
    assert_eq!(
        detect_format(&fixture(), "export.xml"),
        Some(Format::Disqus)
    );
}

#[test]
fn fixture_records_are_exactly_as_expected() {
    let items: Vec<_> = open(Some(FIXTURE.as_ref()), &InputOptions::default())
        .unwrap()
        .collect();
    check_fixture_records(&items, &fixture(), FIXTURE, 0);
}

#[test]
fn comments_of_one_thread_share_its_post() {
    let items = read_bytes(&fixture());
    let records = ok(&items);
    let post = |i: usize| records[i].comment.post.clone().unwrap();
    assert!(Arc::ptr_eq(&post(0), &post(4)));
    assert!(Arc::ptr_eq(&post(5), &post(8)));
    assert!(!Arc::ptr_eq(&post(0), &post(5)));
}

#[test]
fn gzip_input_gives_the_same_records() {
    let bytes = fixture();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let gz = gz.finish().unwrap();

    let input = from_reader(
        Box::new(Cursor::new(gz.clone())),
        "disqus.xml.gz".into(),
        &InputOptions::default(),
    )
    .unwrap();
    assert_eq!(input.format(), Format::Disqus);
    let items: Vec<_> = input.collect();
    check_fixture_records(&items, &bytes, "disqus.xml.gz", 0);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export-2020-02-01.xml.gz");
    std::fs::write(&path, &gz).unwrap();
    let input = open(Some(&path), &InputOptions::default()).unwrap();
    assert_eq!(input.format(), Format::Disqus);
    let items: Vec<_> = input.collect();
    check_fixture_records(&items, &bytes, &path.display().to_string(), 0);
}

#[test]
fn reads_of_any_size_give_the_same_records() {
    let bytes = fixture();
    for n in [1, 2, 3, 7, 64, 4096] {
        let trickle = Trickle {
            data: bytes.clone(),
            at: 0,
            n,
        };
        let items: Vec<_> = from_reader(Box::new(trickle), "test.xml".into(), &disqus_options())
            .unwrap()
            .collect();
        check_fixture_records(&items, &bytes, "test.xml", 0);
    }
}

#[test]
fn a_byte_order_mark_is_skipped_and_counted_in_offsets() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(&fixture());
    let input = from_reader(
        Box::new(Cursor::new(bytes)),
        "bom.xml".into(),
        &InputOptions::default(),
    )
    .unwrap();
    assert_eq!(input.format(), Format::Disqus);
    let items: Vec<_> = input.collect();
    check_fixture_records(&items, &fixture(), "bom.xml", 3);

    // Repeated marks (a file saved twice by a careless editor) are all skipped.
    let mut bytes = b"\xEF\xBB\xBF\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(&fixture());
    check_fixture_records(&read_bytes(&bytes), &fixture(), "test.xml", 6);

    // Error positions count the mark too.
    let items = read_bytes(b"\xEF\xBB\xBF<disqus>\n<post dsq:id=\"1\"><message>x</mess");
    assert_eq!(items.len(), 1);
    let error = err(&items[0]);
    assert_eq!(error.id.as_deref(), Some("1"));
    assert_eq!(error.position.byte, Some(12));
    assert_eq!(error.position.line, Some(2));
    assert!(
        error
            .reason
            .starts_with("XML syntax error at byte 39 (line 2): "),
        "{error}"
    );
}

#[test]
fn clear_cut_abusive_and_spam_comments_are_flagged() {
    let classifier = Classifier::embedded().unwrap();
    let items = read_bytes(&fixture());
    let label = |id: &str| {
        let record = ok(&items).into_iter().find(|r| r.comment.id == id).unwrap();
        classifier.classify(&record.comment).label
    };
    assert_eq!(label("4630002555"), Label::Abusive);
    assert_eq!(label("4630003012"), Label::OffTopic);
    assert_eq!(label("4630001001"), Label::Substantive);
}

// ---------------------------------------------------------------------------------------------
// Truncation

#[test]
fn truncation_at_every_byte_keeps_complete_comments_and_reports_one_error() {
    let bytes = fixture();
    let full = read_bytes(&bytes);
    let full = ok(&full);
    let ids: Vec<_> = expected().iter().map(|e| e.id).collect();
    let starts: Vec<usize> = ids
        .iter()
        .map(|id| locate(&bytes, &format!("<post dsq:id=\"{id}\"")).0)
        .collect();
    let ends: Vec<usize> = starts
        .iter()
        .map(|&s| s + locate(&bytes[s..], "</post>").0 + "</post>".len())
        .collect();
    let root_end = locate(&bytes, "</disqus>").0 + "</disqus>".len();

    for cut in 0..=bytes.len() {
        let items = read_bytes(&bytes[..cut]);
        let complete = ends.iter().filter(|&&end| end <= cut).count();
        let truncated = cut > 0 && cut < root_end;
        assert_eq!(
            items.len(),
            complete + usize::from(truncated),
            "cut at {cut}: {items:?}"
        );
        for (item, record) in items.iter().zip(&full[..complete]) {
            assert_eq!(item.as_ref(), Ok(*record), "cut at {cut}");
        }
        if !truncated {
            continue;
        }
        let error = err(items.last().unwrap());
        assert!(error.position.byte.is_some(), "cut at {cut}: {error}");
        assert!(error.position.line.is_some(), "cut at {cut}: {error}");
        // A comment is partly there once its start tag's name is.
        let partial = (0..ids.len()).find(|&k| starts[k] + "<post".len() <= cut && cut < ends[k]);
        match partial {
            Some(k) => {
                assert_eq!(error.position.byte, Some(starts[k] as u64), "cut at {cut}");
                assert_eq!(error.position.line, full[k].position.line, "cut at {cut}");
                assert_eq!(
                    error.position.element.as_deref(),
                    Some(format!("disqus/post[{}]", k + 1).as_str()),
                    "cut at {cut}"
                );
                let id_read = cut >= starts[k] + format!("<post dsq:id=\"{}\"", ids[k]).len();
                assert_eq!(
                    error.id.as_deref(),
                    id_read.then_some(ids[k]),
                    "cut at {cut}: {error}"
                );
            }
            None => {
                assert_eq!(error.id, None, "cut at {cut}");
                assert!(
                    !error
                        .position
                        .element
                        .as_deref()
                        .unwrap_or("")
                        .contains("post"),
                    "cut at {cut}: {error}"
                );
            }
        }
    }
}

#[test]
fn truncation_reasons_say_where() {
    let bytes = fixture();
    // Inside the fourth comment's message.
    let (at, line) = locate(&bytes, "<post dsq:id=\"4630002555\">");
    let (cut, _) = locate(&bytes, "stupid ferry");
    let items = read_bytes(&bytes[..cut]);
    assert_eq!(items.len(), 4);
    let error = err(&items[3]);
    assert_eq!(error.id.as_deref(), Some("4630002555"));
    assert_eq!(error.position.byte, Some(at as u64));
    assert_eq!(error.position.line, Some(line));
    assert!(error.reason.contains("CDATA not closed"), "{error}");

    // Inside an empty-element tag of the fifth comment.
    let (cut, _) = locate(
        &bytes,
        "dsq:id=\"7730154021\" />\n  </post>\n  <post dsq:id=\"4630003340",
    );
    let items = read_bytes(&bytes[..cut + 4]);
    assert_eq!(items.len(), 5);
    assert_eq!(err(&items[4]).id.as_deref(), Some("4630003012"));
    assert!(
        err(&items[4]).reason.contains("not closed"),
        "{}",
        err(&items[4])
    );

    // Between two comments.
    let (cut, _) = locate(&bytes, "  <post dsq:id=\"4630003340\">");
    let items = read_bytes(&bytes[..cut]);
    assert_eq!(items.len(), 6);
    let error = err(&items[5]);
    assert_eq!(error.id, None);
    assert_eq!(error.position.byte, Some(cut as u64));
    assert_eq!(error.position.element.as_deref(), Some("disqus"));
    assert!(error.reason.contains("truncated document"), "{error}");

    // Right after a complete start tag.
    let (at, _) = locate(&bytes, "<post dsq:id=\"4630003340\">");
    let items = read_bytes(&bytes[..at + "<post dsq:id=\"4630003340\">".len()]);
    assert_eq!(items.len(), 6);
    assert_eq!(err(&items[5]).id.as_deref(), Some("4630003340"));
    assert!(err(&items[5]).reason.contains("inside this comment"));
}

// ---------------------------------------------------------------------------------------------
// Malformed content

#[test]
fn invalid_utf8_fails_only_its_comment() {
    let bytes = fixture();
    let full = read_bytes(&bytes);
    let (bad, _) = locate(&bytes, "Demachiyanagi");
    let mut broken = bytes.clone();
    broken[bad] = 0xFF;
    let items = read_bytes(&broken);
    assert_eq!(items.len(), 12);
    for (i, item) in items.iter().enumerate() {
        if i == 7 {
            let error = err(item);
            assert_eq!(error.id.as_deref(), Some("4630004100"));
            assert_eq!(error.position, full[7].as_ref().unwrap().position);
            assert_eq!(error.reason, format!("invalid UTF-8 at byte {bad}"));
        } else {
            assert_eq!(item, &full[i]);
        }
    }

    // In a start tag: the id is reported with a replacement character.
    let broken = replace(&bytes, "4630005230\">", b"46300\xC352\xE2\x82\">");
    let items = read_bytes(&broken);
    assert_eq!(items.len(), 12);
    assert_eq!(
        err(&items[10]).id.as_deref(),
        Some("46300\u{FFFD}52\u{FFFD}\u{FFFD}")
    );
    assert!(items.iter().enumerate().all(|(i, r)| i == 10 || r.is_ok()));

    // In a thread title: replaced, and the comments are read.
    let broken = replace(&bytes, "Café mornings", b"Caf\xE9 mornings");
    let items = read_bytes(&broken);
    let records = ok(&items);
    let title = records[5].comment.post.as_ref().unwrap().title.as_deref();
    assert_eq!(
        title,
        Some("Caf\u{FFFD} mornings in Kyoto: notes from six 喫茶店")
    );
}

fn doc(body: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <disqus xmlns=\"http://disqus.com\" xmlns:dsq=\"http://disqus.com/disqus-internals\">\n\
         <thread dsq:id=\"1\"><id/><link>https://example.org/a</link><title>A post</title>\
         <message/></thread>\n{body}\n</disqus>\n"
    )
    .into_bytes()
}

fn post(id: &str, message: &str) -> String {
    format!(
        "<post dsq:id=\"{id}\"><id/><message>{message}</message><isDeleted>false</isDeleted>\
         <isSpam>false</isSpam><author><name>N</name></author><thread dsq:id=\"1\"/></post>\n"
    )
}

#[test]
fn entities_are_decoded_and_unknown_ones_kept() {
    let body = [
        post(
            "1",
            "fish &amp; chips &lt;b&gt; &quot;q&quot; &apos;a&apos; &#8217; &#x1F600;",
        ),
        post(
            "2",
            "caf&eacute;&nbsp;noir &unknown; &#0; &#xD800; lone & amp",
        ),
        post(
            "3",
            "<![CDATA[<p>raw &amp; &lt;kept&gt;</p>]]> and &amp; after",
        ),
    ]
    .concat();
    let items = read_bytes(&doc(&body));
    let texts: Vec<_> = ok(&items)
        .iter()
        .map(|r| r.comment.text.to_string())
        .collect();
    assert_eq!(
        texts,
        [
            "fish & chips <b> \"q\" 'a' ’ 😀",
            "caf&eacute;&nbsp;noir &unknown; &#0; &#xD800; lone & amp",
            "<p>raw &amp; &lt;kept&gt;</p> and & after",
        ]
    );
}

#[test]
fn entities_defined_in_a_dtd_are_never_expanded() {
    let mut dtd = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE disqus [\n  <!ENTITY lol \"lol\">\n  \
         <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n",
    );
    for i in 1..=9 {
        let previous = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        dtd += &format!(
            "  <!ENTITY lol{i} \"{}\">\n",
            format!("&{previous};").repeat(10)
        );
    }
    dtd += "]>\n";
    let input = format!(
        "{dtd}<disqus xmlns:dsq=\"http://disqus.com/disqus-internals\">\
         <thread dsq:id=\"1\"><title>&lol9;</title></thread>\
         <post dsq:id=\"2\"><message>&lol9; &xxe; &amp;</message><thread dsq:id=\"1\"/></post>\
         </disqus>"
    );
    let started = std::time::Instant::now();
    let items = read_bytes(input.as_bytes());
    assert!(started.elapsed().as_secs() < 5);
    let records = ok(&items);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].comment.text, "&lol9; &xxe; &");
    let post = records[0].comment.post.as_ref().unwrap();
    assert_eq!(post.title.as_deref(), Some("&lol9;"));
}

fn nested_junk(levels: usize) -> String {
    let mut junk = String::new();
    for i in 0..levels {
        junk += &format!("<div class=\"d{i}\" data-x='a>b'>");
    }
    // Markup that looks like end tags, inside comments, CDATA, instructions and attributes.
    junk += "<!-- </div></div> --><![CDATA[</div>]]]]><?pi </div> ?><br/>\
             <img src=\"x>\"/><p a='/>'>text</p>&amp;";
    junk += &"</div>".repeat(levels);
    junk
}

#[test]
fn deeply_nested_junk_fails_its_comment_and_reading_goes_on() {
    let bytes = fixture();
    let full = read_bytes(&bytes);
    for levels in [10, 70, 200_000] {
        let junk = format!("<junk>{}</junk>\n    <message>", nested_junk(levels));
        let (at, _) = locate(&bytes, "<message><![CDATA[<p>Agreed.");
        let mut broken = bytes[..at].to_vec();
        broken.extend_from_slice(junk.as_bytes());
        broken.extend_from_slice(&bytes[at + "<message>".len()..]);
        let items = read_bytes(&broken);
        assert_eq!(items.len(), 12, "{levels} levels");
        for (i, item) in items.iter().enumerate() {
            match (i, levels) {
                // 2 (root and post) + 1 (junk) + levels
                (1, 70 | 200_000) => {
                    let error = err(item);
                    assert_eq!(error.id.as_deref(), Some("4630001187"));
                    assert_eq!(error.position, full[1].as_ref().unwrap().position);
                    assert!(
                        error.reason.contains("nested more than 64 levels"),
                        "{error}"
                    );
                }
                (0, _) => assert_eq!(item, &full[0]),
                _ => {
                    let (got, want) = (item.as_ref().unwrap(), full[i].as_ref().unwrap());
                    assert_eq!(got.comment, want.comment);
                    assert_eq!(got.position.element, want.position.element);
                }
            }
        }
    }
}

#[test]
fn deeply_nested_junk_outside_comments_is_skipped() {
    let bytes = fixture();
    let full = read_bytes(&bytes);
    let junk = format!("<junk>{}</junk>\n  ", nested_junk(100_000));
    let broken = replace(
        &bytes,
        "<post dsq:id=\"4630003340\">",
        format!("{junk}<post dsq:id=\"4630003340\">").as_bytes(),
    );
    let items = read_bytes(&broken);
    assert_eq!(items.len(), 12);
    for (got, want) in ok(&items).into_iter().zip(ok(&full)) {
        assert_eq!(got.comment, want.comment);
        assert_eq!(got.position.element, want.position.element);
    }
}

#[test]
fn unclosed_deep_junk_fails_its_comment_and_ends_the_stream() {
    let bytes = fixture();
    let (at, _) = locate(&bytes, "<message><![CDATA[<p>Agreed.");
    let mut broken = bytes[..at].to_vec();
    broken.extend_from_slice("<div>".repeat(50_000).as_bytes());
    let items = read_bytes(&broken);
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = err(&items[1]);
    assert_eq!(error.id.as_deref(), Some("4630001187"));
    assert!(error.reason.contains("truncated"), "{error}");
}

#[test]
fn a_stray_end_tag_fails_its_comment_and_reading_goes_on() {
    let bytes = fixture();
    let total = read_bytes(&bytes).len();
    let (at, line) = locate(&bytes, "<post dsq:id=\"4630002210\">");
    let broken = replace(
        &bytes,
        "<parent dsq:id=\"4630001187\" />",
        b"<parent dsq:id=\"4630001187\" /></isSpam>",
    );
    let items = read_bytes(&broken);
    assert_eq!(items.len(), total);
    assert!(items[0].is_ok() && items[1].is_ok());
    let error = err(&items[2]);
    assert_eq!(error.id.as_deref(), Some("4630002210"));
    assert_eq!(error.position.byte, Some(at as u64));
    assert_eq!(error.position.line, Some(line));
    assert_eq!(error.position.element.as_deref(), Some("disqus/post[3]"));
    assert_eq!(error.reason, "malformed XML: unexpected </isSpam>");
    assert!(items[3..].iter().all(Result::is_ok));
}

#[test]
fn missing_end_tags_are_implied_and_no_comment_is_lost() {
    let bytes = fixture();
    let clean = read_bytes(&bytes);
    // A `</post>` left out: the next `<post>` ends the comment, which reads whole.
    let (post, _) = locate(&bytes, "<post dsq:id=\"4630002210\">");
    let find = |from: usize, needle: &[u8]| {
        from + bytes[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the needle is there")
    };
    let end = find(post, b"</post>");
    let mut broken = bytes[..end].to_vec();
    broken.extend_from_slice(&bytes[end + "</post>".len()..]);
    let items = read_bytes(&broken);
    assert_eq!(ids(&items), ids(&clean));
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(ok(&items)[2].comment.text, ok(&clean)[2].comment.text);
    // A `</message>` left out: the comment's text can't be told, so it is an error, and
    // reading goes on.
    let message_end = find(post, b"</message>");
    let mut broken = bytes[..message_end].to_vec();
    broken.extend_from_slice(&bytes[message_end + "</message>".len()..]);
    let items = read_bytes(&broken);
    assert_eq!(ids(&items), ids(&clean));
    let error = err(&items[2]);
    assert_eq!(
        error.reason,
        "malformed XML: <message> is not closed before </post>"
    );
    assert!(items.iter().enumerate().all(|(k, i)| k == 2 || i.is_ok()));
}

#[test]
fn a_syntax_error_between_comments_is_reported_where_it_is() {
    let bytes = fixture();
    let (at, line) = locate(&bytes, "<post dsq:id=\"4630003340\">");
    let broken = replace(
        &bytes,
        "<post dsq:id=\"4630003340\">",
        b"<!junk><post dsq:id=\"4630003340\">",
    );
    let items = read_bytes(&broken);
    assert_eq!(items.len(), 6);
    assert!(items[..5].iter().all(Result::is_ok));
    let error = err(&items[5]);
    assert_eq!(error.id, None);
    assert_eq!(error.position.byte, Some(at as u64));
    assert_eq!(error.position.line, Some(line));
    assert_eq!(error.position.element.as_deref(), Some("disqus"));
    assert!(error.reason.starts_with("XML syntax error"), "{error}");
}

#[test]
fn empty_input_yields_nothing() {
    for input in [&b""[..], b"  \n\t\n", b"\xEF\xBB\xBF", b"\xEF\xBB\xBF\n"] {
        assert!(read_bytes(input).is_empty(), "{input:?}");
    }
    // A declaration and nothing else, or text that is no XML: one error.
    for input in [&b"<?xml version=\"1.0\"?>\n"[..], b"hello", b"{\"id\": 1}"] {
        let items = read_bytes(input);
        assert_eq!(items.len(), 1, "{input:?}");
        assert!(err(&items[0]).reason.contains("no <disqus> root element"));
    }
    // An empty root element.
    assert!(read_bytes(b"<disqus xmlns=\"http://disqus.com\"/>").is_empty());
    assert!(read_bytes(b"<disqus></disqus>").is_empty());
}

#[test]
fn other_exports_are_not_read_as_disqus() {
    let wxr = b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\" \
                xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><item>\
                <wp:comment><wp:comment_id>1</wp:comment_id></wp:comment></item></channel></rss>";
    let items = read_bytes(wxr);
    assert_eq!(items.len(), 1);
    let error = err(&items[0]);
    assert!(error.reason.contains("not a Disqus export"), "{error}");
    assert_eq!(error.position.byte, Some(22));
    assert_eq!(error.position.line, Some(2));

    // A comment after `</disqus>` (a stray end tag, or one appended later) is read on; other
    // markup there is an error.
    let mut bytes = fixture();
    bytes.extend_from_slice(b"<post dsq:id=\"99\"><message>late</message></post>\n");
    let items = read_bytes(&bytes);
    assert_eq!(items.len(), 13);
    assert_eq!(ok(&items)[12].comment.id, "99");
    let mut bytes = fixture();
    bytes.extend_from_slice(b"<html><body>appended</body></html>\n");
    let items = read_bytes(&bytes);
    assert_eq!(items.len(), 13);
    assert!(
        err(&items[12])
            .reason
            .contains("after the end of the root element")
    );
}

// ---------------------------------------------------------------------------------------------
// Format variants

#[test]
fn older_exports_with_escaped_messages_emails_and_addresses() {
    let export = r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">
<category dsq:id="707279">
<forum>oldradio</forum>
<title>General</title>
<isDefault>true</isDefault>
</category>
<thread dsq:id="247918464">
<id/>
<forum>oldradio</forum>
<category dsq:id="707279"/>
<link>http://oldradio.example.net/2011/03/show-229.html</link>
<title>Show 229: Let&amp;#8217;s talk about codecs</title>
<message/>
<createdAt>2011-03-07T20:46:25Z</createdAt>
<author>
<email>host@example.net</email>
<name>Host</name>
<isAnonymous>false</isAnonymous>
<username>host</username>
</author>
<ipAddress>192.0.2.10</ipAddress>
<isClosed>false</isClosed>
<isDeleted>false</isDeleted>
</thread>
<post dsq:id="194253320">
<id/>
<message>&lt;p&gt;Opus beats AAC at 64 kbps in my tests.&lt;/p&gt;</message>
<createdAt>2011-04-29T17:31:02Z</createdAt>
<isDeleted>false</isDeleted>
<isSpam>false</isSpam>
<author>
<email>listener@example.com</email>
<name>A listener</name>
<isAnonymous>false</isAnonymous>
<username>listener</username>
</author>
<ipAddress>192.0.2.22</ipAddress>
<thread dsq:id="247918464"/>
</post>
<post dsq:id="194253444">
<id>wp_id=25</id>
<message>&lt;p&gt;Only above 96 kbps, &amp;amp; only for speech.&lt;/p&gt;</message>
<createdAt>2011-04-29T17:39:31Z</createdAt>
<isDeleted>false</isDeleted>
<isSpam>false</isSpam>
<author>
<email>other@example.com</email>
<name></name>
<isAnonymous>false</isAnonymous>
<username>otherlistener</username>
</author>
<ipAddress>192.0.2.23</ipAddress>
<thread dsq:id="247918464"/>
<parent dsq:id="194253320"/>
</post>
</disqus>
"#;
    let input = from_reader(
        Box::new(Cursor::new(export.as_bytes().to_vec())),
        "old.xml".into(),
        &InputOptions::default(),
    )
    .unwrap();
    assert_eq!(input.format(), Format::Disqus);
    let items: Vec<_> = input.collect();
    let records = ok(&items);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].comment.id, "194253320");
    assert_eq!(
        records[0].comment.text,
        "<p>Opus beats AAC at 64 kbps in my tests.</p>"
    );
    assert_eq!(records[0].comment.author.as_deref(), Some("A listener"));
    let post = records[0].comment.post.as_ref().unwrap();
    assert_eq!(post.id.as_deref(), Some("247918464"));
    assert_eq!(
        post.title.as_deref(),
        Some("Show 229: Let&#8217;s talk about codecs")
    );
    assert_eq!(records[1].comment.id, "194253444");
    assert_eq!(
        records[1].comment.text,
        "<p>Only above 96 kbps, &amp; only for speech.</p>"
    );
    assert_eq!(records[1].comment.parent_id.as_deref(), Some("194253320"));
    // An empty name falls back to the username; e-mails are never read.
    assert_eq!(records[1].comment.author.as_deref(), Some("otherlistener"));
    assert!(!format!("{records:?}").contains("example.com"));
    let (at, line) = locate(export.as_bytes(), "<post dsq:id=\"194253444\">");
    assert_eq!(records[1].position.byte, Some(at as u64));
    assert_eq!(records[1].position.line, Some(line));
}

#[test]
fn references_by_text_and_posts_without_dsq_ids() {
    // Shaped like the sample in Disqus's export documentation.
    let export = r#"<?xml version="1.0"?>
<disqus>
  <thread dsq:id="2">
    <id>1</id>
    <title>Hello</title>
    <message>Body of the page</message>
  </thread>
  <post dsq:id="1">
    <id>2</id>
    <message>Mother Russia</message>
    <thread>1</thread>
    <isSpam>true</isSpam>
    <author><name>Baz</name></author>
  </post>
  <post dsq:id="2">
    <id>1</id>
    <message>Yo dude</message>
    <parent dsq:id="1">2</parent>
    <thread>1</thread>
    <author><name>Baz</name></author>
  </post>
  <post>
    <id>3</id>
    <message/>
    <thread dsq:id="2"/>
    <parent>1</parent>
  </post>
  <post>
    <id/>
    <message>no ids at all</message>
    <thread dsq:id="1337"/>
    <isDeleted>1</isDeleted>
  </post>
  <post dsq:id="5">
    <isDeleted>true</isDeleted>
    <thread dsq:id="2"/>
  </post>
  <post dsq:id="6">
    <isDeleted>false</isDeleted>
  </post>
  <post dsq:id="7"><message>x</message><thread dsq:id="9"/></post>
  <thread dsq:id="9"><title>Late thread</title></thread>
</disqus>
"#;
    let items = read_bytes(export.as_bytes());
    assert_eq!(items.len(), 7);
    let record = |i: usize| items[i].as_ref().unwrap();
    let thread = record(0).comment.post.clone().unwrap();
    assert_eq!(thread.id.as_deref(), Some("2"));
    assert_eq!(thread.title.as_deref(), Some("Hello"));
    assert_eq!(thread.body.as_deref(), Some("Body of the page"));

    assert_eq!(record(0).comment.id, "1");
    assert_eq!(record(0).export.is_spam, Some(true));
    assert_eq!(record(0).export.is_deleted, None);
    assert_eq!(record(0).comment.author.as_deref(), Some("Baz"));

    assert_eq!(record(1).comment.id, "2");
    assert_eq!(record(1).comment.parent_id.as_deref(), Some("1"));
    assert!(Arc::ptr_eq(
        record(1).comment.post.as_ref().unwrap(),
        &thread
    ));

    assert_eq!(record(2).comment.id, "3");
    assert_eq!(record(2).comment.text, "");
    assert_eq!(record(2).skip, None);
    assert_eq!(record(2).comment.parent_id.as_deref(), Some("1"));
    assert_eq!(record(2).comment.author, None);
    assert!(Arc::ptr_eq(
        record(2).comment.post.as_ref().unwrap(),
        &thread
    ));

    // Neither dsq:id nor <id>: named by position. Its thread is not in the export.
    assert_eq!(record(3).comment.id, "post-4");
    assert_eq!(record(3).export.is_deleted, Some(true));
    assert_eq!(record(3).skip, None);
    let orphan = record(3).comment.post.as_ref().unwrap();
    assert_eq!(
        (orphan.id.as_deref(), orphan.title.as_deref()),
        (Some("1337"), None)
    );

    // Deleted, and the message is gone.
    assert_eq!(record(4).comment.id, "5");
    assert_eq!(record(4).skip, Some(Skip::Deleted));
    assert_eq!(record(4).comment.text, "");

    let error = err(&items[5]);
    assert_eq!(error.id.as_deref(), Some("6"));
    assert_eq!(error.reason, "the comment has no <message>");
    assert_eq!(error.position.element.as_deref(), Some("disqus/post[6]"));

    // A thread after its comments is not known to them.
    let late = record(6).comment.post.as_ref().unwrap();
    assert_eq!(
        (late.id.as_deref(), late.title.as_deref()),
        (Some("9"), None)
    );
    assert_eq!(
        record(6).position.element.as_deref(),
        Some("disqus/post[7]")
    );
}

#[test]
fn overlong_messages_fail_their_comment() {
    let long = "a".repeat((1 << 20) + 1);
    let body = [post("1", &long), post("2", "short")].concat();
    let items = read_bytes(&doc(&body));
    assert_eq!(items.len(), 2);
    assert!(err(&items[0]).reason.contains("longer than"));
    assert_eq!(ok(&items[1..])[0].comment.text, "short");
}

#[test]
fn start_tags_mistyped_or_missing_and_the_last_end_tag() {
    let bytes = fixture();
    let clean = read_bytes(&bytes);
    // A `</post>` typed as `<post>`: the hollow element is no comment, and none is lost.
    let typed = replace(
        &bytes,
        "<parent dsq:id=\"4630001187\" />\n  </post>",
        b"<parent dsq:id=\"4630001187\" />\n  <post>",
    );
    let items = read_bytes(&typed);
    assert_eq!(ids(&items), ids(&clean));
    assert!(items.iter().all(Result::is_ok));
    // A comment's start tag left out: one error record stands for it, where its end tag is.
    let (post, _) = locate(&bytes, "<post dsq:id=\"4630002210\">");
    let mut headless = bytes[..post].to_vec();
    headless.extend_from_slice(&bytes[post + "<post dsq:id=\"4630002210\">".len()..]);
    let items = read_bytes(&headless);
    assert_eq!(items.len(), clean.len());
    let error = items[2]
        .as_ref()
        .expect_err("an error for the headless comment");
    assert!(
        error.reason.starts_with("</post> with no comment open"),
        "{error}"
    );
    // The last comment's `</post>` left out: `</disqus>` ends it, and it reads whole.
    let last = bytes
        .windows(b"</post>".len())
        .rposition(|w| w == b"</post>")
        .expect("a post");
    let mut open_end = bytes[..last].to_vec();
    open_end.extend_from_slice(&bytes[last + "</post>".len()..]);
    let items = read_bytes(&open_end);
    assert_eq!(ids(&items), ids(&clean));
    assert!(items.iter().all(Result::is_ok));
    // A category reference written with an end tag of its own stays inside its thread.
    let long_form = replace(
        &bytes,
        "<category dsq:id=\"5120447\" />",
        b"<category dsq:id=\"5120447\"></category>",
    );
    let items = read_bytes(&long_form);
    assert_eq!(items.len(), clean.len());
    for (a, b) in items.iter().zip(&clean) {
        let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
        assert_eq!(a.comment.post, b.comment.post);
    }
}
