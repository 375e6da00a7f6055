//! The Blogger reader, through the public input API: the fixture (a legacy Blogger export),
//! the 2018 Takeout format, gzip, and malformed input.

use comment_sieve::input::{
    ExportFields, Format, InputOptions, Record, RecordResult, Skip, from_reader, open,
};
use comment_sieve::{Classifier, Label};
use std::io::{Cursor, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIXTURE: &str = "fixtures/blogger.xml";

fn fixture() -> Vec<u8> {
    std::fs::read(FIXTURE).expect("fixture")
}

fn blogger() -> InputOptions {
    InputOptions {
        format: Some(Format::Blogger),
        ..InputOptions::default()
    }
}

/// Reads bytes as a Blogger export.
fn read(bytes: impl Into<Vec<u8>>) -> Vec<RecordResult> {
    from_reader(
        Box::new(Cursor::new(bytes.into())),
        Arc::from("test.xml"),
        &blogger(),
    )
    .expect("open")
    .collect()
}

fn records(items: &[RecordResult]) -> Vec<&Record> {
    items
        .iter()
        .map(|item| item.as_ref().expect("a record, not an error"))
        .collect()
}

/// A record without its source name, for comparing reads of the same bytes.
fn key(item: &RecordResult) -> String {
    match item {
        Ok(r) => format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            r.comment, r.position.line, r.position.byte, r.position.element, r.export, r.skip
        ),
        Err(e) => format!(
            "ERR {:?} {:?} {:?} {:?} {}",
            e.position.line, e.position.byte, e.position.element, e.id, e.reason
        ),
    }
}

const BLOG: &str = "4417790239481223871";
const BEDS: &str = "8162773330172390655";
const BREAD: &str = "2950816473302938114";
const COFFEE: &str = "7304451296618820937";
const ABOUT: &str = "5518207734410692263";

const C_OKAFOR: &str = "6920011245587301846";
const C_REPLY: &str = "1038846172095530212";
const C_REPLY2: &str = "3877105520049613795";
const C_SPAM: &str = "9047112033581620477";
const C_CDATA: &str = "2214470098312856640";
const C_ABUSE: &str = "5561839027748301196";
const C_REMOVED: &str = "4109982736610254851";
const C_CJK: &str = "7785012364490187332";
const C_ENTITIES: &str = "1693357702214468759";
const C_LINK: &str = "8820143695521078436";
const C_PAGE: &str = "3301876245509912478";

struct Expected {
    id: &'static str,
    /// The whole text, or its beginning when it ends with `…`.
    text: &'static str,
    post: &'static str,
    title: &'static str,
    parent: Option<&'static str>,
    author: &'static str,
    deleted: bool,
    /// Index of the comment's `<entry>` among the root's entries.
    entry: usize,
}

fn expected() -> Vec<Expected> {
    let e = |id, text, post, title, parent, author, deleted, entry| Expected {
        id,
        text,
        post,
        title,
        parent,
        author,
        deleted,
        entry,
    };
    let beds = "Raised beds for a north-facing garden";
    let bread = "Sourdough at 1,500 metres: adjusting hydration";
    let coffee = "Café crème & why our espresso tasted sour";
    vec![
        e(
            C_OKAFOR,
            "Thanks for this! We\u{2019}ve got a north-facing plot too. <b>Raising the beds by 30&nbsp;cm</b> made the soil warm up about two weeks earlier in spring.<br /><br />Did you line the bottoms against slugs?",
            BEDS,
            beds,
            None,
            "Marguerite Okafor",
            false,
            8,
        ),
        e(
            C_REPLY,
            "We did! A layer of <a href=\"https://thornback-kitchen.blogspot.com/2018/10/copper-tape-test.html\" rel=\"nofollow\">copper tape</a> around the rim…",
            BEDS,
            beds,
            Some(C_OKAFOR),
            "Ingrid Thornback",
            false,
            9,
        ),
        e(
            C_REPLY2,
            "Très utile, merci ! Chez nous (Bretagne, plein nord aussi) le paillage de fougères sèches a donné le même résultat que la grit, et c\u{2019}est gratuit.",
            BEDS,
            beds,
            Some(C_REPLY),
            "Anonymous",
            false,
            10,
        ),
        e(
            C_SPAM,
            "Buy cheap followers at <a href=\"http://cheap-followers.example.com/?ref=blog\">http://cheap-followers.example.com</a> - 10000 real followers for only $5!!!…",
            BEDS,
            beds,
            None,
            "Social Boost Pro",
            false,
            11,
        ),
        e(
            C_CDATA,
            "At 1,600 m in Zermatt I ended up <i>lowering</i> hydration to 68% & shortening the bulk ferment by an hour. Water boils at about 94 °C up here, so I also bake 10 minutes longer.",
            BREAD,
            bread,
            None,
            "Reto Imboden",
            false,
            12,
        ),
        e(
            C_ABUSE,
            "You are a pathetic idiot. Nobody wants your stupid bread recipes, just shut up.",
            BREAD,
            bread,
            None,
            "breadhater99",
            false,
            13,
        ),
        e(
            C_REMOVED,
            "This comment has been removed by the author.",
            BREAD,
            bread,
            None,
            "Tom Lister",
            true,
            14,
        ),
        e(
            C_CJK,
            "高地でのパン作りの記事、ありがとうございます！🍞 長野（標高1,100m）でも同じ問題があって、水分量を5%減らしたら生地がだれなくなりました。",
            BREAD,
            bread,
            None,
            "さくら",
            false,
            15,
        ),
        e(
            C_ENTITIES,
            "Sour usually means under-extracted: grind finer or raise the brew temperature. With a 1:2 ratio &amp; 28&#8211;30 seconds our shots stopped tasting of lemon. Also check that the beans aren&#8217;t roasted &lt; 7 days ago.",
            COFFEE,
            coffee,
            None,
            "Dev Raman",
            false,
            16,
        ),
        e(
            C_LINK,
            "I tried the finer grind and wrote up the results, with photos of the puck: <a href=\"https://moka-diaries.blogspot.com/2019/05/sour-espresso-fixed.html\">Sour espresso, fixed</a>",
            COFFEE,
            coffee,
            None,
            "Moka Diaries",
            false,
            17,
        ),
        e(
            C_PAGE,
            "¡Hola Ingrid! ¿Aceptas artículos invitados sobre huertos urbanos en Sevilla?…",
            ABOUT,
            "About this garden",
            None,
            "Lucía Fernández",
            false,
            18,
        ),
    ]
}

fn check_fixture_records(items: &[RecordResult]) {
    let got = records(items);
    let want = expected();
    assert_eq!(
        got.iter().map(|r| &*r.comment.id).collect::<Vec<_>>(),
        want.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    for (r, e) in got.iter().zip(&want) {
        let c = &r.comment;
        match e.text.strip_suffix('…') {
            Some(prefix) => assert!(c.text.starts_with(prefix), "{}: {:?}", e.id, c.text),
            None => assert_eq!(c.text, e.text, "{}", e.id),
        }
        let post = c.post.as_ref().expect("post");
        assert_eq!(post.id.as_deref(), Some(e.post), "{}", e.id);
        assert_eq!(post.title.as_deref(), Some(e.title), "{}", e.id);
        assert_eq!(post.body, None);
        assert_eq!(c.parent_id.as_deref(), e.parent, "{}", e.id);
        assert_eq!(c.author.as_deref(), Some(e.author), "{}", e.id);
        assert_eq!(
            r.export,
            ExportFields {
                is_deleted: Some(e.deleted),
                ..ExportFields::default()
            },
            "{}",
            e.id
        );
        let skip = e.deleted.then_some(Skip::Deleted);
        assert_eq!(r.skip, skip, "{}", e.id);
        assert_eq!(
            r.position.element.as_deref(),
            Some(format!("feed/entry[{}]", e.entry).as_str())
        );
    }
}

#[test]
fn fixture_is_detected_as_blogger() {
    let input = open(Some(FIXTURE.as_ref()), &InputOptions::default()).expect("open");
    assert_eq!(input.format(), Format::Blogger);
    let input = from_reader(
        Box::new(Cursor::new(fixture())),
        Arc::from("export"),
        &InputOptions::default(),
    )
    .expect("open");
    assert_eq!(input.format(), Format::Blogger);
}

#[test]
fn fixture_gives_the_expected_records() {
    let items: Vec<_> = open(Some(FIXTURE.as_ref()), &InputOptions::default())
        .expect("open")
        .collect();
    assert_eq!(items.len(), 11);
    check_fixture_records(&items);
    for item in &items {
        assert_eq!(&*item.as_ref().expect("record").position.source, FIXTURE);
    }
}

#[test]
fn positions_point_at_the_comment_entries() {
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    for r in records(&read(bytes.clone())) {
        let byte = r.position.byte.expect("byte") as usize;
        assert!(text[byte..].starts_with("<entry>"), "{}", r.comment.id);
        let id_element = format!(
            "<id>tag:blogger.com,1999:blog-{BLOG}.post-{}</id>",
            r.comment.id
        );
        assert!(
            text[byte..]
                .trim_start_matches("<entry>")
                .trim_start()
                .starts_with(&id_element),
            "{}",
            r.comment.id
        );
        let line = text[..byte].matches('\n').count() as u64 + 1;
        assert_eq!(r.position.line, Some(line), "{}", r.comment.id);
    }
}

#[test]
fn byte_order_mark_and_crlf_are_handled() {
    let plain = read(fixture());
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        String::from_utf8(fixture())
            .expect("utf-8")
            .replace('\n', "\r\n")
            .into_bytes(),
    );
    let text = bytes.clone();
    let items = read(bytes);
    check_fixture_records(&items);
    for (a, b) in records(&plain).iter().zip(records(&items)) {
        assert_eq!(a.position.line, b.position.line);
        let byte = b.position.byte.expect("byte") as usize;
        assert!(text[byte..].starts_with(b"<entry>"));
    }
}

#[test]
fn gzip_gives_the_same_records() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&fixture()).expect("compress");
    let gz = encoder.finish().expect("compress");

    let plain: Vec<String> = read(fixture()).iter().map(key).collect();
    let input = from_reader(
        Box::new(Cursor::new(gz.clone())),
        Arc::from("blog.xml.gz"),
        &InputOptions::default(),
    )
    .expect("open");
    assert_eq!(input.format(), Format::Blogger);
    let from_stream: Vec<String> = input.map(|item| key(&item)).collect();
    assert_eq!(from_stream, plain);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("blog-05-14-2019.xml.gz");
    std::fs::write(&path, &gz).expect("write");
    let input = open(Some(&path), &InputOptions::default()).expect("open");
    assert_eq!(input.format(), Format::Blogger);
    let from_file: Vec<String> = input.map(|item| key(&item)).collect();
    assert_eq!(from_file, plain);
}

#[test]
fn classifies_the_clear_cut_comments() {
    let classifier = Classifier::embedded().expect("model");
    let items: Vec<_> = open(Some(FIXTURE.as_ref()), &InputOptions::default())
        .expect("open")
        .collect();
    let label = |id: &str| {
        let r = records(&items)
            .into_iter()
            .find(|r| r.comment.id == id)
            .expect("comment");
        classifier.classify(&r.comment).label
    };
    assert_eq!(label(C_ABUSE), Label::Abusive);
    assert_eq!(label(C_SPAM), Label::OffTopic);
    assert_eq!(label(C_ENTITIES), Label::Substantive);
}

/// A Takeout export in the 2018 format: `blogger:type`, `blogger:parent`,
/// `blogger:inReplyTo`, `blogger:status`, `blogger:trashed`; a comment before its post.
const TAKEOUT: &str = r#"<?xml version='1.0' encoding='utf-8'?>
<feed xmlns='http://www.w3.org/2005/Atom' xmlns:blogger='http://schemas.google.com/blogger/2018'>
  <id>tag:blogger.com,1999:blog-7700112233445566778</id>
  <title>Notes from the Workbench</title>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-1111</id>
    <blogger:type>POST</blogger:type>
    <blogger:status>LIVE</blogger:status>
    <author>
      <name>Pat Quinn</name>
      <uri>https://www.blogger.com/profile/10293847561029384756</uri>
      <blogger:type>BLOGGER</blogger:type>
    </author>
    <title>Sharpening chisels on a budget</title>
    <content type='html'>&lt;p&gt;Waterstones versus wet-and-dry paper on glass.&lt;/p&gt;</content>
    <blogger:created>2021-02-01T10:00:00.000Z</blogger:created>
    <published>2021-02-01T10:00:00Z</published>
    <updated>2021-02-02T09:12:44.031Z</updated>
    <category scheme='tag:blogger.com,1999:blog-7700112233445566778' term='tools'/>
    <blogger:filename>/2021/02/sharpening-chisels-on-budget.html</blogger:filename>
    <blogger:trashed/>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-2222</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:inReplyTo/>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>LIVE</blogger:status>
    <author>
      <name>Anonymous</name>
      <uri></uri>
      <blogger:type>ANONYMOUS</blogger:type>
    </author>
    <content type='html'>Wet-and-dry on float glass works, but it dishes the back of the chisel &amp;amp; that&amp;#39;s hard to undo.</content>
    <blogger:created>2021-02-03T08:00:00.000Z</blogger:created>
    <published>2021-02-03T08:00:00Z</published>
    <updated>2021-02-03T08:00:00Z</updated>
    <blogger:trashed></blogger:trashed>
  </entry>
  <entry>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>LIVE</blogger:status>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-3333</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:inReplyTo>tag:blogger.com,1999:blog-7700112233445566778.post-2222</blogger:inReplyTo>
    <author><name>Pat Quinn</name><uri>https://www.blogger.com/profile/10293847561029384756</uri><blogger:type>BLOGGER</blogger:type></author>
    <content type='html'>Good point &#8212; I flatten the back on the 1000 stone first.</content>
    <published>2021-02-03T09:30:00Z</published>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-4444</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:inReplyTo>3333</blogger:inReplyTo>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>SPAM</blogger:status>
    <author><name>Best Replica Watches</name><uri>http://replica-watch.example.net</uri><blogger:type>OPENID</blogger:type></author>
    <content type='html'>Great post! Cheap replica watches &lt;a href="http://replica-watch.example.net"&gt;here&lt;/a&gt;</content>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-5555</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>LIVE</blogger:status>
    <author><name>Jo</name></author>
    <content type='html'>Which honing guide do you use?</content>
    <blogger:trashed>2021-03-01T12:00:00.000Z</blogger:trashed>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-6666</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>DELETED</blogger:status>
    <author><name>Unknown</name></author>
    <content type='html'></content>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-7777</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-8888</blogger:parent>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>PENDING</blogger:status>
    <author><name>Sam</name></author>
    <content type='html'>Looking forward to the follow-up on saw sharpening.</content>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-9999</id>
    <blogger:parent>tag:blogger.com,1999:blog-7700112233445566778.post-1111</blogger:parent>
    <blogger:type>COMMENT</blogger:type>
    <blogger:status>LIVE</blogger:status>
  </entry>
  <entry>
    <id>tag:blogger.com,1999:blog-7700112233445566778.post-8888</id>
    <blogger:type>POST</blogger:type>
    <blogger:status>DRAFT</blogger:status>
    <title>Saw sharpening, part 1</title>
    <content type='html'>draft</content>
  </entry>
</feed>
"#;

#[test]
fn takeout_2018_format() {
    let input = from_reader(
        Box::new(Cursor::new(TAKEOUT.as_bytes().to_vec())),
        Arc::from("feed.atom"),
        &InputOptions::default(),
    )
    .expect("open");
    assert_eq!(input.format(), Format::Blogger);
    let items: Vec<_> = input.collect();
    assert_eq!(items.len(), 7);
    let (ok, errors): (Vec<_>, Vec<_>) = items.iter().partition(|i| i.is_ok());
    let got: Vec<&Record> = ok.iter().map(|i| i.as_ref().expect("ok")).collect();
    let summary: Vec<_> = got
        .iter()
        .map(|r| {
            (
                &*r.comment.id,
                r.comment.post.as_ref().and_then(|p| p.id.as_deref()),
                r.comment.post.as_ref().and_then(|p| p.title.as_deref()),
                r.comment.parent_id.as_deref(),
                r.comment.author.as_deref(),
                r.export.is_spam,
                r.export.is_deleted,
                r.skip,
            )
        })
        .collect();
    let title = Some("Sharpening chisels on a budget");
    assert_eq!(
        summary,
        vec![
            (
                "2222",
                Some("1111"),
                title,
                None,
                Some("Anonymous"),
                Some(false),
                Some(false),
                None
            ),
            (
                "3333",
                Some("1111"),
                title,
                Some("2222"),
                Some("Pat Quinn"),
                Some(false),
                Some(false),
                None
            ),
            (
                "4444",
                Some("1111"),
                title,
                Some("3333"),
                Some("Best Replica Watches"),
                Some(true),
                Some(false),
                None
            ),
            (
                "5555",
                Some("1111"),
                title,
                None,
                Some("Jo"),
                Some(false),
                Some(true),
                None
            ),
            (
                "6666",
                Some("1111"),
                title,
                None,
                Some("Unknown"),
                Some(false),
                Some(true),
                Some(Skip::Deleted)
            ),
            (
                "7777",
                Some("8888"),
                None,
                None,
                Some("Sam"),
                Some(false),
                Some(false),
                None
            ),
        ]
    );
    assert_eq!(
        got[0].comment.text,
        "Wet-and-dry on float glass works, but it dishes the back of the chisel &amp; that&#39;s hard to undo."
    );
    assert_eq!(
        got[1].comment.text,
        "Good point \u{2014} I flatten the back on the 1000 stone first."
    );
    assert_eq!(got[0].position.element.as_deref(), Some("feed/entry[2]"));
    assert_eq!(got[0].position.line, Some(23));
    // A comment without <content> is an error, with its id and position.
    let error = errors[0].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some("9999"));
    assert_eq!(error.position.element.as_deref(), Some("feed/entry[8]"));
    assert!(error.reason.contains("content"), "{}", error.reason);
}

#[test]
fn namespace_prefixes_are_resolved() {
    // As written back by tools that rename prefixes (Python's ElementTree: ns0, ns1).
    let doc = r#"<?xml version='1.0' encoding='utf-8'?>
<ns0:feed xmlns:ns0="http://www.w3.org/2005/Atom" xmlns:ns1="http://schemas.google.com/blogger/2018">
<ns0:entry><ns0:id>tag:blogger.com,1999:blog-1.post-10</ns0:id><ns1:type>POST</ns1:type><ns0:title>Hello</ns0:title></ns0:entry>
<ns0:entry><ns0:id>tag:blogger.com,1999:blog-1.post-11</ns0:id><ns1:type>COMMENT</ns1:type><ns1:parent>tag:blogger.com,1999:blog-1.post-10</ns1:parent><ns0:author><ns0:name>Ann</ns0:name></ns0:author><ns0:content type="html">Nice &amp;lt;3</ns0:content></ns0:entry>
<ns0:entry xmlns:b="http://schemas.google.com/blogger/2018"><ns0:id>tag:blogger.com,1999:blog-1.post-12</ns0:id><b:type>COMMENT</b:type><b:parent>tag:blogger.com,1999:blog-1.post-10</b:parent><b:inReplyTo>11</b:inReplyTo><ns0:content type="html">Thanks</ns0:content></ns0:entry>
</ns0:feed>"#;
    let items = read(doc);
    let got = records(&items);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].comment.id, "11");
    assert_eq!(got[0].comment.text, "Nice &lt;3");
    assert_eq!(got[0].comment.author.as_deref(), Some("Ann"));
    assert_eq!(
        got[0]
            .comment
            .post
            .as_ref()
            .and_then(|p| p.title.as_deref()),
        Some("Hello")
    );
    assert_eq!(
        got[0].position.element.as_deref(),
        Some("ns0:feed/ns0:entry[2]")
    );
    assert_eq!(got[1].comment.parent_id.as_deref(), Some("11"));
}

/// Byte ranges of the root's `<entry>` elements, and whether each is a comment.
fn entry_spans(text: &str) -> Vec<(usize, usize, bool)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("<entry>") {
        let start = from + i;
        let end = start + text[start..].find("</entry>").expect("end") + "</entry>".len();
        let is_comment = text[start..end].contains("kind#comment");
        spans.push((start, end, is_comment));
        from = end;
    }
    spans
}

#[test]
fn truncation_at_every_offset() {
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let spans = entry_spans(text);
    let root_end = text.rfind("</feed>").expect("root") + "</feed>".len();
    let full: Vec<String> = read(bytes.clone()).iter().map(key).collect();
    assert_eq!(full.len(), 11);
    for cut in 0..=bytes.len() {
        let items = read(&bytes[..cut]);
        let complete = spans
            .iter()
            .filter(|(_, end, comment)| *comment && *end <= cut)
            .count();
        let truncated = cut > 0 && cut < root_end;
        assert_eq!(
            items.len(),
            complete + usize::from(truncated),
            "cut at {cut}: {items:?}"
        );
        let keys: Vec<String> = items.iter().take(complete).map(key).collect();
        assert_eq!(keys, full[..complete], "cut at {cut}");
        if !truncated {
            continue;
        }
        let error = items
            .last()
            .and_then(|i| i.as_ref().err())
            .expect("error last");
        assert!(
            error.position.byte.is_some_and(|b| b as usize <= cut),
            "cut at {cut}"
        );
        // Cut inside an entry (after its start tag): the error is that entry's.
        if let Some((index, &(start, _, is_comment))) = spans
            .iter()
            .enumerate()
            .find(|(_, (start, end, _))| start + "<entry>".len() <= cut && cut < *end)
        {
            let element = format!("feed/entry[{}]", index + 1);
            assert_eq!(
                error.position.element.as_deref(),
                Some(element.as_str()),
                "cut at {cut}"
            );
            if is_comment {
                assert_eq!(error.position.byte, Some(start as u64), "cut at {cut}");
                let id_end = start + text[start..].find("</id>").expect("id") + "</id>".len();
                let id = text[start..id_end]
                    .rsplit("post-")
                    .next()
                    .and_then(|s| s.strip_suffix("</id>"))
                    .expect("id");
                let want = (cut >= id_end).then_some(id);
                assert_eq!(error.id.as_deref(), want, "cut at {cut}");
            }
        }
    }
}

#[test]
fn truncated_mid_comment_and_mid_tag() {
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let at = |needle: &str| text.find(needle).expect(needle);
    let cases = [
        // Inside a CDATA section.
        (at("hydration to 68%"), C_CDATA, 4),
        // Inside an escaped text, in the middle of `&amp;`.
        (at("&amp;amp; 28") + 3, C_ENTITIES, 8),
        // Inside a `<link` start tag of a reply.
        (at("3877105520049613795'/>") - 40, C_REPLY2, 2),
        // Inside the `</entry>` of the spam comment: not complete.
        (
            at(C_SPAM) + text[at(C_SPAM)..].find("</entry>").expect("end") + 4,
            C_SPAM,
            3,
        ),
    ];
    for (cut, id, before) in cases {
        let items = read(&bytes[..cut]);
        assert_eq!(items.len(), before + 1, "cut at {cut}");
        assert!(items[..before].iter().all(Result::is_ok));
        let error = items[before].as_ref().expect_err("error");
        assert_eq!(error.id.as_deref(), Some(id), "cut at {cut}");
        assert!(
            error.reason.contains("truncated") || error.reason.contains("XML error"),
            "{}",
            error.reason
        );
        let start = text[..at(id)].rfind("<entry>").expect("entry");
        assert_eq!(error.position.byte, Some(start as u64));
    }
}

/// The fixture with `from` replaced by `to` (once).
fn edited(from: &str, to: &[u8]) -> Vec<u8> {
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let i = text.find(from).expect(from);
    let mut out = bytes[..i].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[i + from.len()..]);
    out
}

#[test]
fn invalid_utf8_in_a_comment_is_an_error_for_that_comment() {
    let items = read(edited("Slug damage", b"Slug \xFF\xFEdamage"));
    assert_eq!(items.len(), 11);
    for (i, item) in items.iter().enumerate() {
        if i == 1 {
            let error = item.as_ref().expect_err("error");
            assert_eq!(error.id.as_deref(), Some(C_REPLY));
            assert_eq!(error.position.element.as_deref(), Some("feed/entry[9]"));
            assert!(error.reason.contains("UTF-8"), "{}", error.reason);
        } else {
            assert!(item.is_ok(), "{item:?}");
        }
    }
    // In a post title: the post's comments still read, the title shows the damage.
    let items = read(edited(
        "Raised beds for a north",
        b"Raised beds \xC3for a north",
    ));
    let got = records(&items);
    assert_eq!(got.len(), 11);
    let title = got[0]
        .comment
        .post
        .as_ref()
        .and_then(|p| p.title.as_deref());
    assert_eq!(title, Some("Raised beds \u{FFFD}for a north-facing garden"));
}

#[test]
fn unknown_entities_are_kept_as_written() {
    let items = read(edited(
        "made the soil warm up",
        b"made the &bogus; soil &#0; &#xZZ; &nbsp; warm up",
    ));
    let got = records(&items);
    assert_eq!(got.len(), 11);
    assert!(
        got[0]
            .comment
            .text
            .contains("made the &bogus; soil &#0; &#xZZ; &nbsp; warm up"),
        "{}",
        got[0].comment.text
    );
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut doc = String::from(
        "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE feed [\n<!ENTITY lol0 \"lol\">\n",
    );
    for i in 1..10 {
        let refs = format!("&lol{};", i - 1).repeat(10);
        doc.push_str(&format!("<!ENTITY lol{i} \"{refs}\">\n"));
    }
    doc.push_str("]>\n");
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let feed = text.find("<feed").expect("feed");
    doc.push_str(&text[feed..].replacen("made the soil", "made the &lol9; soil", 1));
    let started = Instant::now();
    let items = read(doc);
    assert!(started.elapsed() < Duration::from_secs(5));
    let got = records(&items);
    assert_eq!(got.len(), 11);
    assert!(got[0].comment.text.contains("made the &lol9; soil"));
    assert!(got.iter().all(|r| r.comment.text.len() < 1000));
}

#[test]
fn deeply_nested_junk() {
    // Junk markup inside a comment's content, nested 1,000 deep: that comment is an error,
    // the others read.
    let junk = |depth: usize| format!("{}junk{}", "<x>".repeat(depth), "</x>".repeat(depth));
    let items = read(edited("Slug damage", junk(1000).as_bytes()));
    assert_eq!(items.len(), 11);
    let error = items[1].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some(C_REPLY));
    assert!(error.reason.contains("nested"), "{}", error.reason);
    assert!(
        items
            .iter()
            .enumerate()
            .all(|(i, item)| i == 1 || item.is_ok())
    );

    // Shallow markup inside content is kept as HTML.
    let items = read(edited(
        "Slug damage",
        b"<p class=\"x\">Slug</p><br/> damage",
    ));
    let got = records(&items);
    assert!(
        got[1]
            .comment
            .text
            .contains("<p class=\"x\">Slug</p><br/> damage")
    );

    // 100,000 deep: skipped unparsed; an error for that comment, and reading goes on.
    let items = read(edited("Slug damage", junk(100_000).as_bytes()));
    assert_eq!(items.len(), 11);
    let error = items[1].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some(C_REPLY));
    assert_eq!(error.position.element.as_deref(), Some("feed/entry[9]"));
    assert!(
        items
            .iter()
            .enumerate()
            .all(|(i, item)| i == 1 || item.is_ok())
    );

    // Unclosed junk at the end of a document: one error, no hang.
    let mut doc = b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>".to_vec();
    doc.extend("<a>".repeat(50_000).into_bytes());
    let items = read(doc);
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
}

#[test]
fn empty_and_rootless_inputs() {
    assert!(read("").is_empty());
    assert!(read(" \n\t\n").is_empty());
    assert!(read(b"\xEF\xBB\xBF".to_vec()).is_empty());
    let items = read("<?xml version='1.0' encoding='UTF-8'?>\n");
    assert_eq!(items.len(), 1);
    assert!(
        items[0]
            .as_ref()
            .expect_err("error")
            .reason
            .contains("root")
    );
    let items = read("not xml at all");
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
    // A feed with no entries, and an empty feed element.
    assert!(read("<feed xmlns='http://www.w3.org/2005/Atom'></feed>").is_empty());
    assert!(read("<feed xmlns='http://www.w3.org/2005/Atom'/>").is_empty());
}

#[test]
fn other_xml_is_rejected_with_one_error() {
    let items = read("<?xml version='1.0'?><rss version='2.0'><channel/></rss>");
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().expect_err("error");
    assert!(error.reason.contains("<rss>"), "{}", error.reason);
    assert_eq!(error.position.byte, Some(21));
}

#[test]
fn broken_end_tags_cost_at_most_their_entry() {
    let clean = read(fixture());
    let ids = |items: &[RecordResult]| -> Vec<Option<String>> {
        items
            .iter()
            .map(|i| match i {
                Ok(r) => Some(r.comment.id.to_string()),
                Err(e) => e.id.clone(),
            })
            .collect()
    };
    // A mistyped end tag in the feed's own author: the next <entry> closes what it left open,
    // and every comment reads as before.
    let items = read(edited("</author>", b"</auteur>"));
    assert_eq!(items.len(), clean.len());
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(ids(&items), ids(&clean));

    // A stray end tag inside a comment: that comment is an error, and reading goes on.
    let items = read(edited("Slug damage", b"Slug </b> damage"));
    assert_eq!(ids(&items), ids(&clean));
    let error = items[1].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some(C_REPLY));
    assert_eq!(error.position.element.as_deref(), Some("feed/entry[9]"));
    assert_eq!(error.reason, "malformed XML: unexpected </b>");
    assert!(items.iter().enumerate().all(|(k, i)| k == 1 || i.is_ok()));

    // A comment's `</entry>` left out: the next <entry> ends it, and it reads whole.
    let bytes = fixture();
    let text = std::str::from_utf8(&bytes).expect("utf-8");
    let reply = text.find("Slug damage").expect("the reply");
    let end = reply + text[reply..].find("</entry>").expect("its end");
    let mut broken = bytes[..end].to_vec();
    broken.extend_from_slice(&bytes[end + "</entry>".len()..]);
    let items = read(broken);
    assert_eq!(ids(&items), ids(&clean));
    assert!(items.iter().all(Result::is_ok));
}

#[test]
fn other_syntax_errors_end_the_stream_with_one_error() {
    // In a post: a document-level error at the offending byte.
    let items = read(edited(
        "<title type='text'>Raised beds",
        b"<title type='text'>Raised <!junk> beds",
    ));
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().expect_err("error");
    assert_eq!(error.id, None);
    assert_eq!(error.position.element.as_deref(), Some("feed/entry[4]"));
    assert!(
        error.reason.contains("XML error at byte"),
        "{}",
        error.reason
    );
}

#[test]
fn legacy_comment_without_kind_category_is_still_a_comment() {
    // Older exports and hand-edited files: a thr:in-reply-to is enough.
    let doc = r#"<feed xmlns='http://www.w3.org/2005/Atom' xmlns:thr='http://purl.org/syndication/thread/1.0'>
<entry><id>tag:blogger.com,1999:blog-5.post-77</id><content type='html'>Hi</content>
<thr:in-reply-to ref='tag:blogger.com,1999:blog-5.post-70' source='http://www.blogger.com/feeds/5/posts/default/70'/></entry>
<entry><content type='html'>No id, linked by its edit link</content><category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#comment'/>
<link rel='edit' href='https://www.blogger.com/feeds/5/70/comments/default/78'/></entry>
</feed>"#;
    let items = read(doc);
    let got = records(&items);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].comment.id, "77");
    assert_eq!(got[0].comment.post_id(), Some("70"));
    assert_eq!(got[1].comment.id, "entry-2");
    assert_eq!(got[1].comment.post_id(), Some("70"));
}

/// An endless export: a feed header, then comments for ever.
struct Endless {
    pending: Vec<u8>,
    next: u64,
}

impl std::io::Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            self.next += 1;
            self.pending = format!(
                "<entry><id>tag:blogger.com,1999:blog-1.post-{}</id><category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#comment'/><content type='html'>Comment number {}</content><thr:in-reply-to ref='tag:blogger.com,1999:blog-1.post-1'/></entry>\n",
                self.next, self.next
            )
            .into_bytes();
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn reads_lazily_from_an_endless_stream() {
    let header = "<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom' xmlns:gd='http://schemas.google.com/g/2005' xmlns:thr='http://purl.org/syndication/thread/1.0'>\n";
    let stream = Endless {
        pending: header.as_bytes().to_vec(),
        next: 0,
    };
    let input = from_reader(
        Box::new(stream),
        Arc::from("<stdin>"),
        &InputOptions::default(),
    )
    .expect("open");
    assert_eq!(input.format(), Format::Blogger);
    let first: Vec<_> = input.skip(9_995).take(5).collect();
    let ids: Vec<_> = first
        .iter()
        .map(|item| item.as_ref().expect("record").comment.id.to_string())
        .collect();
    assert_eq!(ids, ["9996", "9997", "9998", "9999", "10000"]);
    let last = first[4].as_ref().expect("record");
    assert_eq!(last.position.line, Some(10_001));
    assert_eq!(last.position.element.as_deref(), Some("feed/entry[10000]"));
}

/// A comment whose text is `filler` bytes with no markup: head, filler, tail.
struct Huge {
    parts: Vec<Vec<u8>>,
    filler: usize,
}

impl std::io::Read for Huge {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.parts.len() == 1 && self.filler > 0 {
            let n = out.len().min(self.filler);
            out[..n].fill(b'a');
            self.filler -= n;
            return Ok(n);
        }
        let Some(part) = self.parts.first_mut() else {
            return Ok(0);
        };
        let n = out.len().min(part.len());
        out[..n].copy_from_slice(&part[..n]);
        part.drain(..n);
        if part.is_empty() {
            self.parts.remove(0);
        }
        Ok(n)
    }
}

#[test]
fn an_oversized_token_ends_the_stream_with_an_error() {
    let head = "<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>tag:blogger.com,1999:blog-1.post-5</id><category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#comment'/><content type='html'>";
    let huge = |filler| Huge {
        parts: vec![
            head.as_bytes().to_vec(),
            b"b</content></entry></feed>".to_vec(),
        ],
        filler,
    };
    // 2 MiB of text: read, but longer than a comment may be.
    let items: Vec<_> = from_reader(Box::new(huge(2 << 20)), Arc::from("x"), &blogger())
        .expect("open")
        .collect();
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some("5"));
    assert!(
        error.reason.contains("longer than 1 MiB"),
        "{}",
        error.reason
    );
    // 80 MiB without `<` or `>`: reading stops.
    let items: Vec<_> = from_reader(Box::new(huge(80 << 20)), Arc::from("x"), &blogger())
        .expect("open")
        .collect();
    assert_eq!(items.len(), 1);
    let error = items[0].as_ref().expect_err("error");
    assert_eq!(error.id.as_deref(), Some("5"));
    assert!(error.reason.contains("64 MiB"), "{}", error.reason);
}

#[test]
fn author_uris_are_the_author_urls() {
    let items = read(fixture());
    let comments = records(&items);
    assert!(!comments.is_empty());
    // Every comment entry of the fixture has an author: with a Blogger profile `uri`, the
    // website a Name/URL commenter typed (the spammer), or none (anonymous, name only).
    let urls: Vec<&str> = comments
        .iter()
        .map(|r| r.comment.author_url.as_deref().expect("an author element"))
        .collect();
    let profile = |n: &str| format!("https://www.blogger.com/profile/{n}");
    assert_eq!(
        urls,
        [
            profile("01234567890123456789"),
            profile("09876543210987654321"),
            String::new(),
            "http://cheap-followers.example.com/".into(),
            profile("11223344556677889900"),
            String::new(),
            profile("55667788990011223344"),
            profile("99887766554433221100"),
            profile("44556677889900112233"),
            profile("66778899001122334455"),
            String::new(),
        ]
    );
    // An author without a uri gave no website; an entry without an author says nothing.
    let entry = |author: &str| {
        format!(
            "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' \
             xmlns:blogger='http://schemas.google.com/blogger/2018'><entry><id>tag:blogger.com,1999:blog-1.post-9</id>\
             <blogger:type>COMMENT</blogger:type><blogger:parent>tag:blogger.com,1999:blog-1.post-2</blogger:parent>\
             {author}<content type='html'>Nice post</content></entry></feed>"
        )
    };
    let read_url = |author: &str| {
        let items = read(entry(author));
        records(&items)[0].comment.author_url.clone()
    };
    assert_eq!(
        read_url("<author><name>Anonymous</name></author>").as_deref(),
        Some("")
    );
    assert_eq!(
        read_url("<author><name>Bo</name><uri>http://bo.example</uri></author>").as_deref(),
        Some("http://bo.example")
    );
    assert_eq!(read_url(""), None);
}

#[test]
fn an_xhtml_namespace_left_open_ends_with_its_entry() {
    // Entries with XHTML content whose markup is broken: the XHTML namespace the `<div>`
    // declares must not outlive the entry, or later entries would not be read as Atom.
    let entry = |id: u32, content: &str| {
        format!(
            "<entry><id>tag:blogger.com,1999:blog-1.post-{id}</id>\
             <category scheme='http://schemas.google.com/g/2005#kind' term='http://schemas.google.com/blogger/2008/kind#comment'/>\
             <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>{content}</div></content>\
             <thr:in-reply-to ref='tag:blogger.com,1999:blog-1.post-9' source='http://www.blogger.com/feeds/1/posts/default/9'/></entry>"
        )
    };
    for broken in ["Hello<br>there", "Hello</p> there", "<div>Hello there"] {
        let doc = format!(
            "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:thr='http://purl.org/syndication/thread/1.0'>{}{}{}</feed>",
            entry(1, "Fine first"),
            entry(2, broken),
            entry(3, "Fine third")
        );
        let items = read(doc);
        assert_eq!(items.len(), 3, "{broken}");
        assert!(items[0].is_ok() && items[2].is_ok(), "{broken}: {items:?}");
        assert_eq!(
            items[1].as_ref().expect_err("broken").id.as_deref(),
            Some("2")
        );
    }
    // An entry's start tag left out: one error where its end tag is; the last entry's
    // `</entry>` left out: `</feed>` ends it.
    let doc = format!(
        "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:thr='http://purl.org/syndication/thread/1.0'>{}{}{}</feed>",
        entry(1, "Fine first"),
        entry(2, "Headless").replacen("<entry>", "", 1),
        entry(3, "Open end").replace("</entry>", "")
    );
    let items = read(doc);
    assert_eq!(items.len(), 3);
    assert!(
        items[1]
            .as_ref()
            .expect_err("headless")
            .reason
            .starts_with("</entry> with no entry open")
    );
    assert_eq!(items[2].as_ref().expect("read whole").comment.id, "3");
}

#[test]
fn exports_concatenated_or_cut_by_a_stray_feed_end_are_read_whole() {
    let clean = records(&read(fixture())).len();
    let bytes = fixture();
    // Two exports one after the other (`cat a.xml b.xml`).
    let mut twice = bytes.clone();
    twice.extend_from_slice(&bytes);
    assert_eq!(records(&read(twice.clone())).len(), 2 * clean);
    assert!(read(twice).iter().all(Result::is_ok));
    // A `</feed>` in the middle: the entries after it are read on.
    let items = read(edited("<entry>", b"</feed><entry>"));
    assert_eq!(items.len(), clean);
    assert!(items.iter().all(Result::is_ok));
}
