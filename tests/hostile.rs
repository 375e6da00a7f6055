//! Hostile input: every reader, fed bad encodings, odd line ends, huge and countless comments,
//! XML attacks, cut-off compressed streams, broken CSV quoting and oddly typed JSON, gives
//! exactly one output record per input comment (errors included), never panics, and never
//! expands or fetches entities. Inputs are generated in memory (or in a temp dir for the CLI).

use comment_sieve::Classifier;
use comment_sieve::batch::{BatchScorer, Outcome};
use comment_sieve::input::{Format, InputOptions, RecordResult, from_reader};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Helpers

fn read_as(bytes: Vec<u8>, name: &str, format: Option<Format>) -> Vec<RecordResult> {
    let options = InputOptions {
        format,
        ..InputOptions::default()
    };
    from_reader(Box::new(std::io::Cursor::new(bytes)), name.into(), &options)
        .unwrap_or_else(|e| panic!("{name}: cannot open: {e}"))
        .collect()
}

fn read(bytes: Vec<u8>, format: Format) -> Vec<RecordResult> {
    read_as(bytes, &format!("hostile.{}", ext(format)), Some(format))
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Jsonl => "jsonl",
        Format::Json => "json",
        Format::Csv => "csv",
        Format::Reddit => "ndjson",
        _ => "xml",
    }
}

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::embedded().expect("embedded model"))
}

/// Scores records with the batch scorer; returns one `Ok(id)` per verdict or skip and one
/// `Err(reason)` per error record.
fn score(records: Vec<RecordResult>, format: Format) -> Vec<Result<String, String>> {
    let mut out = Vec::new();
    let summary = BatchScorer::new(classifier())
        .run(records.into_iter(), format, |o| {
            out.push(match o {
                Outcome::Verdict { record, .. } | Outcome::Skipped { record, .. } => {
                    Ok(record.comment.id.to_string())
                }
                Outcome::Error(e) => Err(e.to_string()),
            });
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap();
    assert_eq!(summary.records as usize, out.len());
    out
}

/// `(id or "ERR", text)` per record.
fn brief(records: &[RecordResult]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| match r {
            Ok(r) => (r.comment.id.to_string(), r.comment.text.to_string()),
            Err(e) => ("ERR".into(), e.to_string()),
        })
        .collect()
}

fn ok_ids(records: &[RecordResult]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|r| r.comment.id.to_string()))
        .collect()
}

fn errors(records: &[RecordResult]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.to_string()))
        .collect()
}

fn lines(records: &[RecordResult]) -> Vec<Option<u64>> {
    records
        .iter()
        .map(|r| match r {
            Ok(r) => r.position.line,
            Err(e) => e.position.line,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Documents: each format with the given comments, `(id, text as written in the file)`.

fn jsonl(comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, text) in comments {
        out.extend_from_slice(format!("{{\"id\":\"{id}\",\"text\":\"").as_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(b"\"}\n");
    }
    out
}

/// A pretty-printed JSON array, one element per line, as a scraper writes it.
fn json_array(comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"[\n".to_vec();
    for (k, (id, text)) in comments.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(format!("  {{\"id\":\"{id}\",\"text\":\"").as_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(b"\"}");
    }
    out.extend_from_slice(b"\n]\n");
    out
}

fn reddit(comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (id, text) in comments {
        out.extend_from_slice(format!("{{\"id\":\"{id}\",\"body\":\"").as_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(b"\",\"link_id\":\"t3_p\",\"subreddit\":\"s\"}\n");
    }
    out
}

fn csv(comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"id,text\n".to_vec();
    for (id, text) in comments {
        out.extend_from_slice(format!("{id},").as_bytes());
        out.extend_from_slice(text);
        out.push(b'\n');
    }
    out
}

fn xml_decl(encoding: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n")
}

fn wxr_with(encoding: &str, dtd: &str, comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = xml_decl(encoding).into_bytes();
    out.extend_from_slice(dtd.as_bytes());
    out.extend_from_slice(
        b"<rss version=\"2.0\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n<channel>\n\
          <wp:wxr_version>1.2</wp:wxr_version>\n<item>\n<title>Post</title>\n\
          <wp:post_id>1</wp:post_id>\n",
    );
    for (id, text) in comments {
        out.extend_from_slice(
            format!("<wp:comment>\n<wp:comment_id>{id}</wp:comment_id>\n<wp:comment_content>")
                .as_bytes(),
        );
        out.extend_from_slice(text);
        out.extend_from_slice(b"</wp:comment_content>\n</wp:comment>\n");
    }
    out.extend_from_slice(b"</item>\n</channel>\n</rss>\n");
    out
}

fn disqus_with(encoding: &str, dtd: &str, comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = xml_decl(encoding).into_bytes();
    out.extend_from_slice(dtd.as_bytes());
    out.extend_from_slice(
        b"<disqus xmlns=\"http://disqus.com\" xmlns:dsq=\"http://disqus.com/disqus-internals\">\n\
          <thread dsq:id=\"1\"><id/><title>A post</title></thread>\n",
    );
    for (id, text) in comments {
        out.extend_from_slice(format!("<post dsq:id=\"{id}\">\n<message>").as_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(b"</message>\n<thread dsq:id=\"1\"/>\n</post>\n");
    }
    out.extend_from_slice(b"</disqus>\n");
    out
}

fn blogger_with(encoding: &str, dtd: &str, comments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = xml_decl(encoding).into_bytes();
    out.extend_from_slice(dtd.as_bytes());
    out.extend_from_slice(
        b"<feed xmlns='http://www.w3.org/2005/Atom' \
          xmlns:blogger='http://schemas.google.com/blogger/2018'>\n",
    );
    for (id, text) in comments {
        out.extend_from_slice(
            format!(
                "<entry>\n<id>tag:blogger.com,1999:blog-1.post-{id}</id>\n\
                 <blogger:parent>tag:blogger.com,1999:blog-1.post-9</blogger:parent>\n\
                 <blogger:type>COMMENT</blogger:type>\n<content type='html'>"
            )
            .as_bytes(),
        );
        out.extend_from_slice(text);
        out.extend_from_slice(b"</content>\n</entry>\n");
    }
    out.extend_from_slice(b"</feed>\n");
    out
}

const XML: [Format; 3] = [Format::Wxr, Format::Disqus, Format::Blogger];

fn xml_doc(format: Format, encoding: &str, dtd: &str, comments: &[(&str, &[u8])]) -> Vec<u8> {
    match format {
        Format::Wxr => wxr_with(encoding, dtd, comments),
        Format::Disqus => disqus_with(encoding, dtd, comments),
        Format::Blogger => blogger_with(encoding, dtd, comments),
        _ => unreachable!(),
    }
}

fn doc(format: Format, comments: &[(&str, &[u8])]) -> Vec<u8> {
    match format {
        Format::Jsonl => jsonl(comments),
        Format::Json => json_array(comments),
        Format::Csv => csv(comments),
        Format::Reddit => reddit(comments),
        f => xml_doc(f, "UTF-8", "", comments),
    }
}

fn utf16(text: &[u8], big_endian: bool, bom: bool) -> Vec<u8> {
    let text = std::str::from_utf8(text).unwrap();
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Encoding

#[test]
fn invalid_utf8_gives_one_error_for_its_comment_in_every_format() {
    for format in Format::ALL {
        let comments: [(&str, &[u8]); 3] = [
            ("1", b"A fine first comment"),
            ("2", b"Broken \xFF\xFE bytes \xC3 here"),
            ("3", b"A fine last comment"),
        ];
        let records = read(doc(format, &comments), format);
        assert_eq!(records.len(), 3, "{format}: {:?}", brief(&records));
        assert_eq!(
            ok_ids(&records),
            ["1", "3"],
            "{format}: {:?}",
            brief(&records)
        );
        let errs = errors(&records);
        assert!(errs[0].contains("UTF-8"), "{format}: {errs:?}");
        assert_eq!(score(records, format).len(), 3);
    }
}

#[test]
fn nul_bytes_never_panic_and_keep_the_count() {
    for format in Format::ALL {
        let comments: [(&str, &[u8]); 3] =
            [("1", b"before"), ("2", b"nul \x00 inside"), ("3", b"after")];
        let records = read(doc(format, &comments), format);
        assert_eq!(records.len(), 3, "{format}: {:?}", brief(&records));
        let ids = ok_ids(&records);
        assert!(
            ids.contains(&"1".into()) && ids.contains(&"3".into()),
            "{format}: {ids:?}"
        );
    }
}

#[test]
fn nul_only_lines_are_errors_naming_their_line() {
    // A writer that crashed can leave NUL padding: a line of NUL bytes (or a NUL tail
    // without a newline) is reported once per line, never taken for a comment.
    for format in [Format::Jsonl, Format::Reddit, Format::Csv] {
        let mut bytes = doc(format, &[("1", b"first"), ("2", b"second")]);
        bytes.extend_from_slice(b"\x00\x00\x00\x00\n");
        let third = doc(format, &[("3", b"third")]);
        let skip = if format == Format::Csv {
            b"id,text\n".len()
        } else {
            0
        };
        bytes.extend_from_slice(&third[skip..]);
        bytes.extend_from_slice(&[0u8; 4096]);
        let records = read(bytes, format);
        assert_eq!(
            ok_ids(&records),
            ["1", "2", "3"],
            "{format}: {:?}",
            brief(&records)
        );
        assert_eq!(records.len(), 5, "{format}: {:?}", brief(&records));
        let errs = errors(&records);
        assert!(errs.iter().all(|e| e.contains("NUL")), "{format}: {errs:?}");
        let first = if format == Format::Csv { 4 } else { 3 };
        assert_eq!(
            lines(&records),
            [
                Some(first - 2),
                Some(first - 1),
                Some(first),
                Some(first + 1),
                Some(first + 2)
            ],
            "{format}"
        );
    }
}

#[test]
fn utf8_byte_order_marks_are_skipped_in_every_format() {
    for format in Format::ALL {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(doc(format, &[("1", b"one"), ("2", b"two")]));
        // Detected, not told.
        let records = read_as(bytes, &format!("bom.{}", ext(format)), None);
        assert_eq!(
            ok_ids(&records),
            ["1", "2"],
            "{format}: {:?}",
            brief(&records)
        );
        assert_eq!(records.len(), 2);
        let first = records[0].as_ref().unwrap();
        assert_eq!(first.comment.text, "one", "{format}");
    }
}

#[test]
fn utf16_documents_with_a_byte_order_mark_are_decoded_in_every_format() {
    for format in Format::ALL {
        let text = "caf\u{e9} \u{201c}quoted\u{201d} \u{1F600}";
        let comments: [(&str, &[u8]); 2] = [("1", text.as_bytes()), ("2", b"plain")];
        let utf8 = match format {
            f if XML.contains(&f) => xml_doc(f, "UTF-16", "", &comments),
            f => doc(f, &comments),
        };
        for big_endian in [false, true] {
            let bytes = utf16(&utf8, big_endian, true);
            let records = read_as(bytes, &format!("u16.{}", ext(format)), None);
            assert_eq!(
                brief(&records),
                [("1".into(), text.into()), ("2".into(), "plain".into())],
                "{format} big-endian {big_endian}"
            );
            // Lines are lines of the decoded text.
            let expect = lines(&read(utf8.clone(), format));
            assert_eq!(lines(&records), expect, "{format}");
        }
    }
}

#[test]
fn utf16_xml_without_a_byte_order_mark_is_told_by_its_declaration() {
    for format in XML {
        let utf8 = xml_doc(format, "UTF-16", "", &[("1", "\u{e9}t\u{e9}".as_bytes())]);
        for big_endian in [false, true] {
            let records = read_as(utf16(&utf8, big_endian, false), "nobom.xml", None);
            assert_eq!(
                brief(&records),
                [("1".into(), "\u{e9}t\u{e9}".into())],
                "{format}"
            );
        }
    }
}

#[test]
fn declared_latin1_and_windows_1252_xml_is_decoded() {
    for format in XML {
        // ISO-8859-1: é is one byte 0xE9.
        let records = read(
            xml_doc(format, "ISO-8859-1", "", &[("1", b"caf\xE9 cr\xE8me")]),
            format,
        );
        assert_eq!(
            brief(&records),
            [("1".into(), "café crème".into())],
            "{format}"
        );
        // windows-1252: curly quotes and the euro sign, bytes 0x93 0x94 0x80.
        let records = read(
            xml_doc(format, "windows-1252", "", &[("1", b"\x93hi\x94 \x80 5")]),
            format,
        );
        assert_eq!(
            brief(&records),
            [("1".into(), "\u{201c}hi\u{201d} \u{20ac} 5".into())],
            "{format}"
        );
    }
}

#[test]
fn an_unknown_declared_encoding_is_one_clear_error() {
    for format in XML {
        let records = read(
            xml_doc(format, "x-klingon-9", "", &[("1", b"a"), ("2", b"b")]),
            format,
        );
        assert_eq!(records.len(), 1, "{format}: {:?}", brief(&records));
        let e = records[0].as_ref().unwrap_err().to_string();
        assert!(e.contains("x-klingon-9") && e.contains("encoding"), "{e}");
    }
}

#[test]
fn crlf_line_ends_keep_positions_and_texts() {
    for format in Format::ALL {
        let comments: [(&str, &[u8]); 3] = [("1", b"one"), ("2", b"two"), ("3", b"three")];
        let lf = doc(format, &comments);
        let mut crlf = Vec::new();
        for &b in &lf {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        let a = read(lf, format);
        let b = read(crlf, format);
        assert_eq!(lines(&a), lines(&b), "{format}");
        assert_eq!(ok_ids(&b), ["1", "2", "3"], "{format}: {:?}", brief(&b));
        for r in &b {
            assert!(!r.as_ref().unwrap().comment.text.contains('\r'), "{format}");
        }
    }
    // A quoted CSV field over CRLF lines, then rows whose lines must still be right.
    let data = b"id,text\r\n1,\"two\r\nlines\"\r\n2,x\r\n\r\n3,y\r\n".to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(ok_ids(&records), ["1", "2", "3"]);
    assert_eq!(lines(&records), [Some(2), Some(4), Some(6)]);
}

#[test]
fn csv_with_lone_carriage_returns_splits_rows_like_old_mac_spreadsheets() {
    let data = b"id,text\r1,one\r2,\"two\rlines\"\r\r3,three\r".to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(ok_ids(&records), ["1", "2", "3"], "{:?}", brief(&records));
    assert_eq!(lines(&records), [Some(2), Some(3), Some(6)]);
    let texts: Vec<String> = records
        .iter()
        .map(|r| r.as_ref().unwrap().comment.text.to_string())
        .collect();
    assert_eq!(texts, ["one", "two\rlines", "three"]);
}

// ---------------------------------------------------------------------------------------------
// Size

fn huge_text() -> Vec<u8> {
    let mut text = Vec::with_capacity(100 << 20);
    while text.len() < 100 << 20 {
        text.extend_from_slice(b"spam eggs ham ");
    }
    text
}

#[test]
fn a_100_mb_comment_gives_a_verdict_or_an_error_naming_it() {
    let text = huge_text();
    for format in [Format::Jsonl, Format::Csv, Format::Wxr, Format::Reddit] {
        let comments: [(&str, &[u8]); 3] = [("1", b"small"), ("2", &text), ("3", b"after")];
        let records = read(doc(format, &comments), format);
        assert_eq!(records.len(), 3, "{format}");
        assert_eq!(ok_ids(&records)[0], "1");
        assert_eq!(
            ok_ids(&records).last().map(String::as_str),
            Some("3"),
            "{format}"
        );
        if let Err(e) = &records[1] {
            let s = e.to_string();
            assert!(s.contains("line") && s.contains("MiB"), "{format}: {s}");
        }
        assert_eq!(score(records, format).len(), 3);
    }
}

#[test]
fn a_million_tiny_comments_give_a_million_records() {
    let mut bytes = Vec::with_capacity(30 << 20);
    for i in 0..1_000_000u32 {
        writeln!(bytes, "{{\"id\":{i},\"text\":\"c{}\"}}", i % 7).unwrap();
    }
    let input = from_reader(
        Box::new(std::io::Cursor::new(bytes)),
        "million.jsonl".into(),
        &InputOptions::default(),
    )
    .unwrap();
    let mut count = 0u64;
    let mut last = String::new();
    let summary = BatchScorer::new(classifier())
        .run(input, Format::Jsonl, |o| {
            count += 1;
            if let Outcome::Verdict { record, .. } = o {
                last = record.comment.id.to_string();
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap();
    assert_eq!(
        (count, summary.records, summary.errors),
        (1_000_000, 1_000_000, 0)
    );
    assert_eq!(last, "999999");
}

// ---------------------------------------------------------------------------------------------
// XML attacks

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 100_000;
    let open = "<b>".repeat(depth);
    let close = "</b>".repeat(depth);
    for format in XML {
        // Inside a comment's text (raw markup, as old WordPress writes it).
        let nested = format!("deep {open}x{close}");
        let comments: [(&str, &[u8]); 3] =
            [("1", b"first"), ("2", nested.as_bytes()), ("3", b"last")];
        let records = read(xml_doc(format, "UTF-8", "", &comments), format);
        assert_eq!(records.len(), 3, "{format}: {:?}", errors(&records));
        let ids = ok_ids(&records);
        assert!(
            ids.contains(&"1".into()) && ids.contains(&"3".into()),
            "{format}: {ids:?}"
        );
        // Unclosed nesting: an error, or (WXR reads unclosed HTML in comments) a verdict.
        let nested = format!("deep {open}");
        let comments: [(&str, &[u8]); 2] = [("1", b"first"), ("2", nested.as_bytes())];
        let records = read(xml_doc(format, "UTF-8", "", &comments), format);
        assert_eq!(ok_ids(&records)[0], "1", "{format}");
        assert_eq!(records.len(), 2, "{format}: {:?}", errors(&records));
    }
    // Between comments, outside any comment.
    let junk = format!("<junk>{open}{close}</junk>\n");
    for format in XML {
        let mut bytes = xml_doc(format, "UTF-8", "", &[("1", b"first"), ("2", b"last")]);
        let marker: &[u8] = match format {
            Format::Wxr => b"<item>",
            Format::Disqus => b"<post ",
            _ => b"<entry>",
        };
        let at = bytes
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap();
        bytes.splice(at..at, junk.bytes());
        let records = read(bytes, format);
        assert_eq!(
            ok_ids(&records),
            ["1", "2"],
            "{format}: {:?}",
            errors(&records)
        );
    }
}

const LAUGHS: &str = r#"<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
 <!ENTITY xxe SYSTEM "file:///etc/passwd">
 <!ENTITY web SYSTEM "http://127.0.0.1:PORT/secret">
]>
"#;

#[test]
fn entities_are_neither_expanded_nor_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let dtd = LAUGHS.replace("PORT", &port);
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let passwd_line = passwd.lines().next().unwrap_or("root:x:0:0").to_string();
    for format in XML {
        let comments: [(&str, &[u8]); 2] = [("1", b"a &lol9; b"), ("2", b"x &xxe; y &web; z")];
        let records = read(xml_doc(format, "UTF-8", &dtd, &comments), format);
        assert_eq!(records.len(), 2, "{format}: {:?}", errors(&records));
        for r in &records {
            let text = match r {
                Ok(r) => r.comment.text.to_string(),
                Err(e) => e.to_string(),
            };
            assert!(
                text.len() < 200,
                "{format}: expanded to {} bytes",
                text.len()
            );
            assert!(!text.contains("lollol"), "{format}: {text}");
            assert!(!text.contains(&passwd_line), "{format}: {text}");
            assert!(!text.contains("root:"), "{format}: {text}");
        }
        assert_eq!(score(records, format).len(), 2);
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a reader connected to the external entity's URL"
    );
}

// ---------------------------------------------------------------------------------------------
// Truncated compression

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn many(n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                i.to_string(),
                format!("comment number {i} with some words {}", i * 7919 % 10007).into_bytes(),
            )
        })
        .collect()
}

#[test]
fn truncated_gzip_and_zstd_give_the_readable_comments_then_one_error() {
    let comments = many(20_000);
    let refs: Vec<(&str, &[u8])> = comments
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_slice()))
        .collect();
    for format in [Format::Jsonl, Format::Csv, Format::Wxr, Format::Disqus] {
        let plain = doc(format, &refs);
        let compressed = [
            ("gz", gzip(&plain)),
            ("zst", zstd::encode_all(&plain[..], 3).unwrap()),
        ];
        for (kind, bytes) in compressed {
            let cut = bytes[..bytes.len() / 2].to_vec();
            let records = read_as(cut, &format!("cut.{}.{kind}", ext(format)), None);
            let ids = ok_ids(&records);
            assert!(ids.len() > 100, "{format} {kind}: {}", ids.len());
            let expected: Vec<String> = (0..ids.len()).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected, "{format} {kind}");
            assert_eq!(records.len(), ids.len() + 1, "{format} {kind}");
            assert!(records.last().unwrap().is_err(), "{format} {kind}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CSV quoting

#[test]
fn csv_stray_quotes_in_one_line_are_kept_as_text_and_shift_nothing() {
    // A quote inside an unquoted field, and text after a closing quote, stay on their line
    // (read as the `csv` crate reads them); the rows after keep their lines.
    let data = b"id,text\n\
        1,first\n\
        2,he said \"hi there\n\
        3,\"third, quoted\" and \"more\n\
        4,fourth\n"
        .to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(
        brief(&records),
        [
            ("1".into(), "first".into()),
            ("2".into(), "he said \"hi there".into()),
            ("3".into(), "third, quoted and \"more".into()),
            ("4".into(), "fourth".into()),
        ]
    );
    assert_eq!(lines(&records), [Some(2), Some(3), Some(4), Some(5)]);
}

#[test]
fn csv_quote_opened_mid_file_does_not_swallow_rows() {
    // Row 2 opens a quote that row 3's quoted field closes: the rows must not merge.
    let data = b"id,text\n\
        1,ok\n\
        2,\"never closed\n\
        3,\"closed here\"\n\
        4,fine\n"
        .to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(records.len(), 4, "{:?}", brief(&records));
    assert_eq!(ok_ids(&records), ["1", "3", "4"], "{:?}", brief(&records));
    assert_eq!(lines(&records), [Some(2), Some(3), Some(4), Some(5)]);
    assert!(
        errors(&records)[0].contains("line 3"),
        "{:?}",
        errors(&records)
    );
    assert_eq!(records[2].as_ref().unwrap().comment.text, "closed here");
}

#[test]
fn csv_unterminated_quote_at_the_end_is_one_error() {
    let data = b"id,text\n1,ok\n2,\"open to the end\n3,next\n4,last".to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(records.len(), 4, "{:?}", brief(&records));
    assert_eq!(ok_ids(&records), ["1", "3", "4"]);
    assert_eq!(lines(&records), [Some(2), Some(3), Some(4), Some(5)]);
    assert!(errors(&records)[0].contains("line 3"));
    // A legitimately multi-line quoted field is still one comment.
    let data = b"id,text\n1,\"a\n\nb\"\n2,c\n".to_vec();
    let records = read(data, Format::Csv);
    assert_eq!(brief(&records)[0], ("1".into(), "a\n\nb".into()));
    assert_eq!(lines(&records), [Some(2), Some(5)]);
}

// ---------------------------------------------------------------------------------------------
// JSON types

#[test]
fn json_ids_are_kept_as_written_and_bad_texts_name_their_field() {
    let data = br#"{"id":42,"text":"int"}
{"id":1.50,"text":"float"}
{"id":123456789012345678901234567890,"text":"huge"}
{"id":1e3,"text":"exponent"}
{"id":true,"text":"bool"}
{"id":null,"text":"null id"}
{"id":{"a":1},"text":"object id"}
{"id":"7","text":12}
{"id":"8","text":null}
{"id":"9","text":["a"]}
{"id":"10","text":{"x":"y"}}
"#
    .to_vec();
    let records = read(data, Format::Jsonl);
    assert_eq!(records.len(), 11);
    assert_eq!(
        ok_ids(&records),
        [
            "42",
            "1.50",
            "123456789012345678901234567890",
            "1e3",
            "true",
            "line-6"
        ]
    );
    let errs = errors(&records);
    assert_eq!(errs.len(), 5);
    assert!(errs[0].contains("`id`"), "{errs:?}");
    for e in &errs[1..] {
        assert!(e.contains("`text`"), "{errs:?}");
    }
    // Reddit ids too.
    let data = br#"{"id":123456789012345678901234567890,"body":"x","subreddit":"s"}
{"id":2.0,"body":"y","subreddit":"s"}
"#
    .to_vec();
    let records = read(data, Format::Reddit);
    assert_eq!(ok_ids(&records), ["123456789012345678901234567890", "2.0"]);
}

#[test]
fn duplicate_ids_both_come_out_in_order() {
    for format in Format::ALL {
        let comments: [(&str, &[u8]); 3] = [("5", b"first"), ("5", b"second"), ("6", b"x")];
        let records = read(doc(format, &comments), format);
        assert_eq!(
            brief(&records),
            [
                ("5".into(), "first".into()),
                ("5".into(), "second".into()),
                ("6".into(), "x".into())
            ],
            "{format}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Through the binary

fn run_cli(dir: &std::path::Path, args: &[&str]) -> (Vec<serde_json::Value>, i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_comment-sieve"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run comment-sieve");
    let records = String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (
        records,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_gives_one_record_per_comment_for_hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::File::create(dir.path().join(name))
            .unwrap()
            .write_all(bytes)
            .unwrap();
    };
    // JSONL: bad UTF-8, a NUL-only line, odd ids, CRLF; 6 comments (one line of padding).
    write(
        "mixed.jsonl",
        b"{\"id\":1.50,\"text\":\"ok\"}\r\n{\"id\":\"b\",\"text\":\"\xFF\"}\r\n\x00\x00\r\n\
          {\"id\":\"c\",\"text\":7}\r\n{\"id\":\"c\",\"text\":\"again\"}\r\n",
    );
    let (records, code, stderr) = run_cli(dir.path(), &["score", "mixed.jsonl"]);
    assert_eq!(records.len(), 5, "{stderr}");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records[0]["id"], "1.50");
    assert_eq!(records[2]["line"], 3);
    assert!(records[3]["error"].as_str().unwrap().contains("`text`"));
    assert_eq!(records[4]["id"], "c");
    // windows-1252 WXR with a billion-laughs DTD: both comments, no expansion.
    let dtd = LAUGHS.replace("PORT", "9");
    write(
        "cp1252.xml",
        &wxr_with(
            "windows-1252",
            &dtd,
            &[("1", b"\x93smart\x94"), ("2", b"&lol9;")],
        ),
    );
    let (records, code, stderr) = run_cli(dir.path(), &["score", "cp1252.xml"]);
    assert_eq!(records.len(), 2, "{stderr}");
    assert_eq!(code, 0, "{stderr}");
    // A truncated zstd CSV: readable rows, then one error; exit code 1.
    let comments = many(5000);
    let refs: Vec<(&str, &[u8])> = comments
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_slice()))
        .collect();
    let z = zstd::encode_all(&csv(&refs)[..], 3).unwrap();
    write("cut.csv.zst", &z[..z.len() * 2 / 3]);
    let (records, code, _) = run_cli(dir.path(), &["score", "cut.csv.zst"]);
    assert_eq!(code, 1);
    assert!(records.last().unwrap()["error"].is_string());
    assert!(
        records[..records.len() - 1]
            .iter()
            .all(|r| r["error"].is_null())
    );
    // A missing file is an I/O error: exit code 2.
    let (_, code, _) = run_cli(dir.path(), &["score", "missing.jsonl"]);
    assert_eq!(code, 2);
}
