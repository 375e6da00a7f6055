//! End-to-end `score` over the fixtures of the line and table formats (JSONL, CSV, Reddit), and
//! malformed variants: every input comment gives exactly one output record, in order.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_comment-sieve"))
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = bin()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn comment-sieve");
    let input = stdin.map(<[u8]>::to_vec);
    let mut pipe = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = input {
            let _ = pipe.write_all(&bytes);
        }
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn field(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// `(id, label or skipped or "error", post_id, parent_id)` of each record.
fn summary(out: &Output) -> Vec<(String, String, String, String)> {
    records(out)
        .iter()
        .map(|r| {
            let what = if r.get("error").is_some() {
                "error".to_string()
            } else if r.get("skipped").is_some() {
                format!("skipped:{}", field(r, "skipped"))
            } else {
                field(r, "label")
            };
            (
                field(r, "id"),
                what,
                field(r, "post_id"),
                field(r, "parent_id"),
            )
        })
        .collect()
}

fn row(id: &str, what: &str, post: &str, parent: &str) -> (String, String, String, String) {
    (id.into(), what.into(), post.into(), parent.into())
}

#[test]
fn reddit_fixture_gives_the_exact_records() {
    let out = run(&["score", "fixtures/reddit.ndjson"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = vec![
        row("k1a2b3", "substantive", "z9y8x7", ""),
        row("k1a2c4", "substantive", "z9y8x7", "k1a2b3"),
        row("k1a2d5", "substantive", "z9y8x7", "k1a2c4"),
        row("k1a2e6", "skipped:deleted", "z9y8x7", ""),
        row("k1a2f7", "off_topic", "z9y8x7", ""),
        row("k1a2g8", "skipped:removed", "z9y8x7", "k1a2f7"),
        row("m3n4p5", "substantive", "q1w2e3", ""),
        row("m3n4q6", "abusive", "q1w2e3", "m3n4p5"),
        // French in an English thread: the model knows few of its words, and sharing none
        // with its thread (the lowest thread-similarity bucket) makes it off-topic
        // (0.24 / 0.49 / 0.27). Before class weighting it was abusive (0.38 / 0.30 / 0.32);
        // without context features, substantive (0.31 / 0.15 / 0.55).
        row("m3n4r7", "off_topic", "q1w2e3", ""),
    ];
    assert_eq!(summary(&out), expected);
    assert!(records(&out).iter().all(|r| r["subreddit"].is_string()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("9 comments (reddit 9)"), "{stderr}");
    assert!(stderr.contains("2 skipped"), "{stderr}");
}

#[test]
fn csv_fixture_gives_the_exact_records_with_a_mapped_or_aliased_id_column() {
    let out = run(
        &["score", "fixtures/comments.csv", "--id-field", "comment_id"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = vec![
        row("c-201", "substantive", "post-7", ""),
        row("c-202", "substantive", "post-7", "c-201"),
        row("c-203", "off_topic", "post-7", ""),
        row("c-204", "abusive", "post-7", "c-202"),
        row("c-205", "substantive", "post-8", ""),
        row("c-206", "substantive", "post-8", "c-205"),
    ];
    assert_eq!(summary(&out), expected);
    // Without the mapping `comment_id` is found anyway: it is an alias of the default `id`.
    let out = run(&["score", "fixtures/comments.csv"], None);
    assert_eq!(summary(&out), expected);
    // With no id column the ids fall back to line numbers (row 5 spans two lines).
    let out = run(
        &["score", "fixtures/comments.csv", "--id-field", "uid"],
        None,
    );
    let ids: Vec<String> = summary(&out).into_iter().map(|r| r.0).collect();
    assert_eq!(
        ids,
        ["line-2", "line-3", "line-4", "line-5", "line-6", "line-8"]
    );
}

#[test]
fn json_array_fixture_gives_the_exact_records() {
    let out = run(&["score", "fixtures/comments.json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Field names the way a scraper writes them: `message`, `thread` and `parent` are read as
    // the text, the post and the parent (aliases of the defaults); a numeric id stays as
    // written. (The model calls 8812002 abusive: "just plain" leans abusive in its training
    // data, as in "just plain stupid".)
    let expected = vec![
        row("8812001", "substantive", "garden-notes-42", ""),
        row("8812002", "abusive", "garden-notes-42", "8812001"),
        row("8812003", "off_topic", "garden-notes-42", ""),
        row("8812004", "abusive", "garden-notes-42", "8812002"),
        row("8812005", "substantive", "garden-notes-43", ""),
    ];
    assert_eq!(summary(&out), expected);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("5 comments (json 5)"), "{stderr}");
    // The same array on one line, gzip-compressed, from stdin.
    let one_line: serde_json::Value =
        serde_json::from_slice(&std::fs::read("fixtures/comments.json").expect("fixture"))
            .expect("the fixture is JSON");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(one_line.to_string().as_bytes()).expect("gzip");
    let out = run(&["score", "-"], Some(&gz.finish().expect("gzip")));
    assert_eq!(summary(&out), expected);
    // A truncated copy: the complete elements are scored, the cut one is an error record.
    let text = std::fs::read_to_string("fixtures/comments.json").expect("fixture");
    let cut = &text[..text.find("Nobody cares").expect("4th message")];
    let out = run(&["score", "--format", "json", "-"], Some(cut.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    let got = summary(&out);
    assert_eq!(got[..3], expected[..3]);
    assert_eq!(got.len(), 4);
    assert_eq!(got[3].1, "error");
    let error = &records(&out)[3];
    assert_eq!(error["element"], "[3]", "{error}");
    assert!(
        field(error, "error").contains("ends inside this element"),
        "{error}"
    );
}

#[test]
fn wordpress_rest_api_comments_score_as_they_are() {
    // Two comments as `/wp-json/wp/v2/comments` returns them: `content.rendered` holds the
    // HTML, `post` the post, `parent` the parent (0 for none).
    let page = br#"[{"id":42,"post":7,"parent":0,"author":3,"author_name":"Ann Lee","date":"2024-03-01T10:00:00","content":{"rendered":"<p>Really clear explanation of sourdough hydration, thank you!<\/p>\n"},"link":"https:\/\/example.com\/sourdough\/#comment-42","status":"approved","type":"comment","author_avatar_urls":{"24":"https:\/\/example.com\/a.png"},"meta":[]},
{"id":43,"post":7,"parent":42,"author":0,"author_name":"troll","date":"2024-03-01T11:00:00","content":{"rendered":"<p>shut up you moron<\/p>\n"},"link":"https:\/\/example.com\/sourdough\/#comment-43","status":"approved","type":"comment","author_avatar_urls":{},"meta":[]}]"#;
    let out = run(&["score", "-"], Some(page));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        summary(&out),
        [
            row("42", "substantive", "7", ""),
            row("43", "abusive", "7", "42"),
        ]
    );
}

#[test]
fn csv_output_has_one_row_per_comment() {
    let out = run(
        &[
            "score",
            "fixtures/reddit.ndjson",
            "--output-format",
            "csv",
            "-q",
        ],
        None,
    );
    assert!(out.status.success());
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    assert_eq!(&headers[1], "label");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(&rows[3][7], "deleted");
    let p: f64 = rows[0][2].parse::<f64>().unwrap()
        + rows[0][3].parse::<f64>().unwrap()
        + rows[0][4].parse::<f64>().unwrap();
    assert!((p - 1.0).abs() < 1e-9);
}

#[test]
fn output_order_does_not_depend_on_threads() {
    for fixture in [
        "fixtures/comments.jsonl",
        "fixtures/reddit.ndjson",
        "fixtures/comments.csv",
    ] {
        let one = run(&["--threads", "1", "score", fixture, "-q"], None);
        let two = run(&["--threads", "2", "score", fixture, "-q"], None);
        let eight = run(&["--threads", "8", "score", fixture, "-q"], None);
        assert_eq!(one.stdout, two.stdout, "{fixture}");
        assert_eq!(one.stdout, eight.stdout, "{fixture}");
    }
    // A large input, many chunks: same output for 1 and 2 threads, ids in input order.
    let mut big = Vec::new();
    for i in 0..10_000 {
        writeln!(
            big,
            r#"{{"id": "n{i}", "text": "comment number {i} about the budget"}}"#
        )
        .unwrap();
    }
    let one = run(&["--threads", "1", "score", "-q"], Some(&big));
    let two = run(&["--threads", "2", "score", "-q"], Some(&big));
    assert_eq!(one.stdout, two.stdout);
    let ids: Vec<String> = records(&one).iter().map(|r| field(r, "id")).collect();
    assert_eq!(ids.len(), 10_000);
    assert!(ids.iter().enumerate().all(|(i, id)| *id == format!("n{i}")));
}

#[test]
fn summary_json_counts_labels_formats_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let summary_path = dir.path().join("summary.json");
    let out = run(
        &[
            "score",
            "fixtures/comments.jsonl",
            "fixtures/reddit.ndjson",
            "--summary-json",
            summary_path.to_str().unwrap(),
            "-q",
        ],
        None,
    );
    assert!(out.status.success());
    assert_eq!(records(&out).len(), 19);
    let s: Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    assert_eq!(s["records"], 19);
    assert_eq!(s["errors"], 0);
    assert_eq!(s["formats"]["jsonl"], 10);
    assert_eq!(s["formats"]["reddit"], 9);
    assert_eq!(s["skipped"]["deleted"], 1);
    assert_eq!(s["skipped"]["removed"], 1);
    let labels: u64 = ["abusive", "off_topic", "substantive"]
        .iter()
        .map(|l| s["labels"][l].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(labels, 17);
}

/// gzip, zstd, and zstd made with `--long=31` as Pushshift's Reddit dumps (`RC_2019-04.zst`, …)
/// are: their frames ask for a window of up to 2 GiB, more than zstd decoders accept by default
/// (128 MiB). A frame written as a stream, with no size given up front, asks for the full window
/// however little it holds, as here.
#[test]
fn compressed_input_reads_like_plain_input() {
    let plain = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/reddit.ndjson"
    ))
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    encoder.long_distance_matching(true).unwrap();
    encoder.window_log(31).unwrap();
    encoder.write_all(&plain).unwrap();
    let long_window = encoder.finish().unwrap();
    let mut strict = zstd::stream::read::Decoder::new(&long_window[..]).unwrap();
    assert!(
        std::io::Read::read_to_end(&mut strict, &mut Vec::new()).is_err(),
        "a default decoder refuses the 2 GiB window"
    );
    let expected = run(&["score", "-q"], Some(&plain));
    assert!(expected.status.success());
    for compressed in [gz, zst, long_window] {
        let out = run(&["score", "-q"], Some(&compressed));
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, expected.stdout);
    }
}

#[test]
fn malformed_inputs_give_one_record_per_comment() {
    // Truncated JSONL: the last line is cut in the middle of a string.
    let mut truncated = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .unwrap();
    truncated.truncate(truncated.len() - 40);
    let out = run(&["score", "-q"], Some(&truncated));
    assert_eq!(out.status.code(), Some(1));
    let r = records(&out);
    assert_eq!(r.len(), 10);
    assert!(
        r[9]["error"].as_str().unwrap().contains("line 10"),
        "{}",
        r[9]
    );
    assert_eq!(r[9]["line"], 10);

    // Truncated gzip: what decompresses is scored, then one error says where the stream broke.
    let plain = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/comments.jsonl"
    ))
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut gz = gz.finish().unwrap();
    gz.truncate(gz.len() / 2);
    let out = run(&["score", "-q"], Some(&gz));
    assert_eq!(out.status.code(), Some(1));
    let r = records(&out);
    assert!(r.last().unwrap()["error"].is_string(), "{r:?}");
    assert!(r.len() < 10);

    // Bad CSV quoting: a stray quote inside an unquoted field is kept as text; an unclosed
    // quoted field would run to the end of the file: its row is an error and the rows after
    // it are still read, one record per comment.
    let csv = b"id,text\n1,\"closed\" then text\n2,plain \"inner\" quotes\n3,\"never closed\n4,last\n5,really last\n";
    let out = run(&["score", "--format", "csv", "-q"], Some(csv));
    assert_eq!(out.status.code(), Some(1));
    let r = records(&out);
    let ids: Vec<String> = r.iter().map(|v| field(v, "id")).collect();
    assert_eq!(ids, ["1", "2", "", "4", "5"]);
    assert!(
        r[2]["error"].as_str().unwrap().contains("unclosed quote"),
        "{}",
        r[2]
    );
    assert_eq!(r[2]["line"], 4);
    assert!(r[3]["label"].as_str().is_some());
    assert!(r[4]["label"].as_str().is_some());

    // Invalid UTF-8 inside one CSV cell and one JSONL line: an error record each, in place.
    let out = run(
        &["score", "--format", "csv", "-q"],
        Some(b"id,text\n1,ok\n2,bad \xC3\x28\n3,ok\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    let kinds: Vec<bool> = records(&out)
        .iter()
        .map(|v| v.get("error").is_some())
        .collect();
    assert_eq!(kinds, [false, true, false]);
    let out = run(
        &["score", "-q"],
        Some(b"{\"id\":\"1\",\"text\":\"ok\"}\n{\"id\":\"2\",\"text\":\"\xFF\"}\n"),
    );
    let kinds: Vec<bool> = records(&out)
        .iter()
        .map(|v| v.get("error").is_some())
        .collect();
    assert_eq!(kinds, [false, true]);

    // Empty files of every line format: no records, success.
    for format in ["jsonl", "csv", "reddit"] {
        let out = run(&["score", "--format", format, "-q"], Some(b""));
        assert!(out.status.success(), "{format}");
        assert!(out.stdout.is_empty(), "{format}");
    }
}

#[test]
fn a_50_mb_comment_is_scored() {
    let word = "budget ";
    let text = word.repeat(50 * 1024 * 1024 / word.len());
    let line = serde_json::to_vec(&serde_json::json!({"id": "huge", "text": text})).unwrap();
    let mut input = line;
    input.extend_from_slice(b"\n{\"id\": \"after\", \"text\": \"fine\"}\n");
    let out = run(&["score", "-q"], Some(&input));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = records(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["id"], "huge");
    let p = &r[0]["probabilities"];
    let sum: f64 = ["abusive", "off_topic", "substantive"]
        .iter()
        .map(|k| p[k].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-9);
}

#[test]
fn pushshift_is_told_apart_whatever_the_first_comment_and_the_container() {
    // Keys in the order Pushshift writes them: `body` long before `link_id`.
    let long = "Long thoughts on compost. ".repeat(800);
    let ndjson = format!(
        "{{\"author\":\"fern\",\"body\":\"{long}\",\"id\":\"c1\",\"link_id\":\"t3_p1\",\"parent_id\":\"t3_p1\",\"subreddit\":\"gardening\"}}\n\
         {{\"author\":\"[deleted]\",\"body\":\"[ Removed by Reddit ]\",\"id\":\"c2\",\"link_id\":\"t3_p1\",\"parent_id\":\"t1_c1\",\"subreddit\":\"gardening\"}}\n"
    );
    assert!(ndjson.find("link_id").unwrap() > 8192);
    let out = run(&["score", "-q", "-"], Some(ndjson.as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    let got = summary(&out);
    assert_eq!(got[1], row("c2", "skipped:removed", "p1", "c1"));
    assert_eq!((got[0].0.as_str(), got[0].2.as_str()), ("c1", "p1"));
    // The same comments as one JSON array (`jq -s`), after their submission.
    let array = format!(
        "[{{\"id\":\"p1\",\"title\":\"Compost in winter\",\"selftext\":\"\",\"subreddit\":\"gardening\"}},\n{}]",
        ndjson.trim_end().replace('\n', ",\n")
    );
    let out = run(&["score", "-q", "-"], Some(array.as_bytes()));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), got);
}

#[test]
fn on_error_fail_still_writes_the_summary_json() {
    let dir = std::env::temp_dir().join(format!("sieve-fail-summary-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("summary.json");
    let input = b"{\"id\":\"1\",\"text\":\"ok\"}\n{bad\n{\"id\":\"3\",\"text\":\"ok\"}\n";
    let out = run(
        &[
            "score",
            "-q",
            "--on-error",
            "fail",
            "--summary-json",
            path.to_str().unwrap(),
        ],
        Some(input),
    );
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["records"], 2);
    assert_eq!(json["errors"], 1);
    assert!(
        json["stopped"].as_str().unwrap().contains("line 2"),
        "{json}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn on_error_skip_and_fail() {
    let input = b"{\"id\":\"1\",\"text\":\"ok\"}\n{bad\n{\"id\":\"3\",\"text\":\"ok\"}\n";
    let skip = run(&["score", "--on-error", "skip", "-q"], Some(input));
    assert_eq!(
        skip.status.code(),
        Some(1),
        "skipped errors still count as failed"
    );
    let ids: Vec<String> = records(&skip).iter().map(|v| field(v, "id")).collect();
    assert_eq!(ids, ["1", "3"]);
    let fail = run(&["score", "--on-error", "fail"], Some(input));
    assert_eq!(fail.status.code(), Some(1));
    assert_eq!(records(&fail).len(), 1);
    assert!(String::from_utf8_lossy(&fail.stderr).contains("line 2"));
}

#[test]
fn unknown_format_is_a_clear_usage_error() {
    let out = run(
        &["score", "-"],
        Some(b"just some prose, nothing structured\n"),
    );
    assert!(out.status.success() || out.status.code() == Some(1) || out.status.code() == Some(2));
    let out = run(
        &["score", "-"],
        Some(b"<html><body>not an export</body></html>"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader};
    let mut big = Vec::new();
    for i in 0..50_000 {
        writeln!(
            big,
            r#"{{"id": "n{i}", "text": "comment number {i} about the budget"}}"#
        )
        .unwrap();
    }
    let mut child = bin()
        .args(["score", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&big);
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"n0\""));
    // stdout is now closed; the child must notice on its next write and stop without an error.
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
