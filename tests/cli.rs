//! The `comment-sieve` binary, driven as a user would.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_comment-sieve");
const LABELS: [&str; 3] = ["abusive", "off_topic", "substantive"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    manifest_dir().join("fixtures/comments.jsonl")
}

fn corpus() -> Option<PathBuf> {
    let path = manifest_dir().join("../shared/corpus/comments.jsonl");
    path.exists().then_some(path)
}

/// Runs the binary with `args`, feeding `stdin` (or nothing).
fn run_with_stdin<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(manifest_dir())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_vec();
        // Write on another thread so a full stdout pipe can't deadlock us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    child.wait_with_output().expect("the binary runs")
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    run_with_stdin(args, None)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally, not by a signal")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_ok(out: &Output, what: &str) {
    assert_eq!(
        code(out),
        0,
        "{what}: exit {:?}\nstderr: {}",
        out.status,
        stderr(out)
    );
}

fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn assert_probabilities(p: &Value) {
    let mut sum = 0.0;
    for label in LABELS {
        let x = p[label]
            .as_f64()
            .unwrap_or_else(|| panic!("no probability for {label} in {p}"));
        assert!(x.is_finite() && (0.0..=1.0).contains(&x), "{label}: {x}");
        sum += x;
    }
    assert!((sum - 1.0).abs() < 1e-9, "probabilities sum to {sum}: {p}");
    assert_eq!(p.as_object().unwrap().len(), 3, "{p}");
}

/// The label must be the most probable one.
fn assert_label_is_argmax(record: &Value) {
    let label = record["label"].as_str().unwrap();
    assert!(LABELS.contains(&label), "label {label}");
    let p = &record["probabilities"];
    let best = p[label].as_f64().unwrap();
    for other in LABELS {
        assert!(p[other].as_f64().unwrap() <= best, "{record}");
    }
}

// ---------------------------------------------------------------------------------------------
// help

#[test]
fn help_shows_examples_and_exit_codes() {
    let out = run(&["--help"]);
    assert_ok(&out, "--help");
    let text = stdout(&out);
    for needle in [
        "Examples:",
        "comment-sieve classify",
        "comment-sieve score",
        "Exit codes",
        "0 success",
        "1 some input records failed",
        "2 usage or I/O error",
        "--model",
        "--threads",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}:\n{text}");
    }
    for subcommand in ["classify", "score", "eval", "train", "model"] {
        assert!(text.contains(subcommand), "--help lacks {subcommand}");
    }
}

#[test]
fn score_help_describes_the_input_output_and_exit_code() {
    let out = run(&["score", "--help"]);
    assert_ok(&out, "score --help");
    let text = stdout(&out);
    for needle in [
        "JSONL",
        "text",
        "label",
        "probabilities",
        "post_id",
        "parent_id",
        "error",
        "exit code is 1",
        "--output",
        "standard input",
    ] {
        assert!(
            text.contains(needle),
            "score --help lacks {needle:?}:\n{text}"
        );
    }
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["no-such-command"][..],
        &["classify"],
        &["score", "--no-such-flag"],
        &["classify", "x", "--threads", "zero"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}: silent usage error");
    }
    let out = run(&["--threads", "0", "classify", "x"]);
    assert_eq!(code(&out), 2, "--threads 0");
    assert!(stderr(&out).contains("threads"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// classify

#[test]
fn classify_prints_the_label_and_probabilities() {
    let out = run(&[
        "classify",
        "You are a clueless idiot. Crawl back under your rock, loser.",
    ]);
    assert_ok(&out, "classify");
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("abusive"), "{text}");
    let mut sum = 0.0;
    for label in LABELS {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no line for {label}: {text}"));
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some(label), "{line}");
        let p: f64 = parts.next().unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        sum += p;
    }
    assert!(
        (sum - 1.0).abs() < 0.002,
        "printed probabilities sum to {sum}"
    );
}

#[test]
fn classify_json_is_a_full_verdict() {
    let out = run(&[
        "classify",
        "--json",
        "EARN $5000 A WEEK FROM HOME!!! Click here: http://quick-cash.example.biz/join now",
    ]);
    assert_ok(&out, "classify --json");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["label"], "off_topic", "{v}");
    assert_probabilities(&v["probabilities"]);
    assert_label_is_argmax(&v);
    let jll = v["joint_log_likelihood"].as_array().expect("jll array");
    assert_eq!(jll.len(), 3);
    let jll: Vec<f64> = jll.iter().map(|x| x.as_f64().unwrap()).collect();
    assert!(jll.iter().all(|x| x.is_finite()));
    // The probabilities are the softmax of the joint log-likelihoods over the model's
    // temperature.
    let inspect: Value = serde_json::from_str(&stdout(&run(&["model", "inspect"]))).unwrap();
    let t = inspect["temperature"].as_f64().unwrap_or(1.0);
    let jll: Vec<f64> = jll.iter().map(|x| x / t).collect();
    let max = jll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = jll.iter().map(|x| (x - max).exp()).sum();
    for (label, x) in LABELS.iter().zip(&jll) {
        let p = v["probabilities"][label].as_f64().unwrap();
        assert!((p - (x - max).exp() / z).abs() < 1e-9, "{label}");
    }
}

#[test]
fn classify_handles_odd_text() {
    for text in [
        "",
        "   ",
        "日本語 👍🏽",
        "<script>alert(1)</script>",
        "\u{200B}",
    ] {
        let out = run(&["classify", "--json", text]);
        assert_ok(&out, &format!("classify {text:?}"));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_probabilities(&v["probabilities"]);
    }
}

// ---------------------------------------------------------------------------------------------
// score

fn fixture_rows() -> Vec<Value> {
    std::fs::read_to_string(fixture())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn score_gives_one_verdict_per_line_in_order_with_context() {
    let out = run(&["score", "fixtures/comments.jsonl"]);
    assert_ok(&out, "score");
    let input = fixture_rows();
    let output = json_lines(&out);
    assert_eq!(output.len(), input.len(), "one line out per line in");
    let raw = std::fs::read_to_string(fixture()).unwrap();
    assert_eq!(stdout(&out).lines().count(), raw.lines().count());
    for (row, record) in input.iter().zip(&output) {
        assert_eq!(record["id"], row["id"], "ids in input order");
        assert!(record.get("error").is_none(), "{record}");
        assert_probabilities(&record["probabilities"]);
        assert_label_is_argmax(record);
        for field in ["post_id", "parent_id"] {
            match row.get(field) {
                Some(v) => assert_eq!(&record[field], v, "{field} echoed: {record}"),
                None => assert!(record.get(field).is_none(), "{field} invented: {record}"),
            }
        }
    }
    let label_of = |id: &str| {
        output
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no record for {id}"))["label"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (id, label) in [
        ("103", "abusive"),
        ("110", "abusive"),
        ("104", "off_topic"),
        ("108", "off_topic"),
        ("101", "substantive"),
        ("106", "substantive"),
    ] {
        assert_eq!(label_of(id), label, "fixture {id}");
    }
}

#[test]
fn score_reads_stdin_with_dash_or_no_argument() {
    let from_file = run(&["score", "fixtures/comments.jsonl"]);
    assert_ok(&from_file, "score file");
    let input = std::fs::read(fixture()).unwrap();
    let dash = run_with_stdin(&["score", "-"], Some(&input));
    assert_ok(&dash, "score -");
    let none = run_with_stdin(&["score"], Some(&input));
    assert_ok(&none, "score (stdin)");
    assert_eq!(dash.stdout, from_file.stdout);
    assert_eq!(none.stdout, from_file.stdout);
    // Empty input: no output, success.
    let empty = run_with_stdin(&["score"], Some(b""));
    assert_ok(&empty, "score of nothing");
    assert!(empty.stdout.is_empty());
}

#[test]
fn score_output_file_matches_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verdicts.jsonl");
    let to_file = run(&[
        "score".as_ref(),
        "fixtures/comments.jsonl".as_ref(),
        "--output".as_ref(),
        path.as_os_str(),
    ]);
    assert_ok(&to_file, "score --output");
    assert!(to_file.stdout.is_empty(), "nothing on stdout with --output");
    let to_stdout = run(&["score", "fixtures/comments.jsonl"]);
    assert_eq!(std::fs::read(&path).unwrap(), to_stdout.stdout);
    // -o is the short form.
    let short = dir.path().join("short.jsonl");
    let out = run(&[
        "score".as_ref(),
        "fixtures/comments.jsonl".as_ref(),
        "-o".as_ref(),
        short.as_os_str(),
    ]);
    assert_ok(&out, "score -o");
    assert_eq!(std::fs::read(&short).unwrap(), to_stdout.stdout);
}

#[test]
fn score_output_does_not_depend_on_threads() {
    // A larger input than the fixture, so that work really is split between threads.
    let rows = fixture_rows();
    let mut input = String::new();
    for i in 0..6000 {
        let mut row = rows[i % rows.len()].clone();
        row["id"] = Value::String(format!("r{i}"));
        input.push_str(&row.to_string());
        input.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    std::fs::write(&path, &input).unwrap();
    let score = |threads: &str| {
        let out = run(&[
            "--threads".as_ref(),
            threads.as_ref(),
            "score".as_ref(),
            path.as_os_str(),
        ]);
        assert_ok(&out, &format!("--threads {threads}"));
        out.stdout
    };
    let one = score("1");
    let two = score("2");
    assert_eq!(one, two, "--threads 1 and 2 differ");
    assert_eq!(one, score("4"));
    let out = String::from_utf8(one).unwrap();
    assert_eq!(out.lines().count(), 6000);
    for (i, line) in out.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["id"], format!("r{i}"));
    }
}

/// Bad lines of every kind, between good ones: an error record per bad line, in place, with
/// its line number; verdicts for the good ones; exit code 1.
#[test]
fn score_reports_bad_lines_in_place_and_exits_1() {
    let mut input: Vec<u8> = Vec::new();
    let mut add = |line: &[u8]| {
        input.extend_from_slice(line);
        input.push(b'\n');
    };
    add(br#"{"id": "g1", "text": "You are a clueless idiot, loser.", "post_id": "p1"}"#); // 1
    add(br#"{"id": "bad-json", "text": "unterminated"#); // 2
    add(br#"{"id": 7, "text": "The council should publish the projections."}"#); // 3
    add(br#"{"id": "no-text", "post_id": "p1"}"#); // 4
    add(b"{\"id\": \"utf8\", \"text\": \"caf\xE9 \xFF\xFE\"}"); // 5
    add(b""); // 6: blank
    add(b"   \t "); // 7: blank
    add(br#"{"text": "Subscribe to my channel!!! www.youtube.com/c/x"}"#); // 8
    add(br#"{"id": "t", "text": 42}"#); // 9
    add(br#"[1, 2, 3]"#); // 10
    add(b"{\"id\": \"crlf\", \"text\": \"Great list, thanks.\", \"parent_id\": 9}\r"); // 11
    add(br#"{"id": "null-text", "text": null}"#); // 12
    let out = run_with_stdin(&["score"], Some(&input));
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("failed"), "{}", stderr(&out));
    let records = json_lines(&out);
    // Blank lines give no record; every other line gives exactly one, in input order.
    let expected: [(u64, Option<&str>); 10] = [
        (1, Some("g1")),
        (2, None),
        (3, Some("7")),
        (4, None),
        (5, None),
        (8, Some("line-8")),
        (9, None),
        (10, None),
        (11, Some("crlf")),
        (12, None),
    ];
    assert_eq!(
        records.len(),
        expected.len(),
        "records: {:#?}",
        stdout(&out)
    );
    for (record, (line, good_id)) in records.iter().zip(expected) {
        match good_id {
            Some(id) => {
                assert_eq!(record["id"], id, "line {line}: {record}");
                assert!(record.get("error").is_none(), "line {line}: {record}");
                assert_probabilities(&record["probabilities"]);
            }
            None => {
                assert_eq!(record["line"], line, "{record}");
                let error = record["error"].as_str().expect("an error message");
                assert!(error.contains(&format!("line {line}")), "{record}");
                assert!(record.get("label").is_none(), "{record}");
            }
        }
    }
    let error_of = |i: usize| records[i]["error"].as_str().unwrap().to_owned();
    assert!(error_of(1).contains("JSON"), "{}", error_of(1));
    assert!(error_of(3).contains("text"), "{}", error_of(3));
    assert!(error_of(4).contains("UTF-8"), "{}", error_of(4));
    assert!(error_of(6).contains("text"), "{}", error_of(6));
    // Context of good lines is kept next to bad ones.
    assert_eq!(records[0]["post_id"], "p1");
    assert_eq!(records[8]["parent_id"], "9");
    assert_eq!(records[0]["label"], "abusive");
}

/// `score --help` promises error records of the form {"id", "line", "error"}: when the line is
/// valid JSON with an id but is otherwise unusable (here: no text), the id is known and should
/// be in the record, so the caller can tell which comment failed.
#[test]
fn score_error_records_carry_the_id_when_it_can_be_read() {
    let input = concat!(
        r#"{"id": "no-text-1", "post_id": "p1"}"#,
        "\n",
        r#"{"id": 99, "text": ["not", "a", "string"]}"#,
        "\n",
    );
    let out = run_with_stdin(&["score"], Some(input.as_bytes()));
    assert_eq!(code(&out), 1);
    let records = json_lines(&out);
    assert_eq!(records.len(), 2);
    assert!(records[0]["error"].is_string());
    assert_eq!(records[0]["line"], 1);
    assert_eq!(records[0]["id"], "no-text-1", "{}", records[0]);
    assert_eq!(records[1]["id"], "99", "{}", records[1]);
}

#[test]
fn score_of_a_missing_file_exits_2_naming_it() {
    let out = run(&["score", "no/such/input-file.jsonl"]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("no/such/input-file.jsonl"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn score_into_an_unwritable_output_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("out.jsonl");
    let out = run(&[
        "score".as_ref(),
        "fixtures/comments.jsonl".as_ref(),
        "-o".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("out.jsonl"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// model

#[test]
fn model_inspect_prints_the_configuration_as_json() {
    let out = run(&["model", "inspect"]);
    assert_ok(&out, "model inspect");
    let v: Value = serde_json::from_str(&stdout(&out)).expect("inspect prints JSON");
    assert_eq!(v["format_version"], 7);
    assert_eq!(v["fold_evasions"], true);
    // Supervised term weighting, and targeted pairs over the next four words.
    assert_eq!(
        v["class_weighting"],
        serde_json::json!({"smoothing": 2.0, "power": 0.75}),
        "{v}"
    );
    assert_eq!(v["vectorizer"]["target_window"], 4, "{v}");
    assert!(v["temperature"].as_f64().is_some_and(|t| t > 0.0), "{v}");
    // The default model uses thread similarity and link counts.
    assert_eq!(v["context"]["scoring"], "conditional");
    assert_eq!(
        v["context"]["kinds"],
        serde_json::json!(["post", "parent", "thread", "links", "author_url"])
    );
    assert!(v["context"]["edges"][2].is_array(), "{v}");
    assert!(v["context"]["edges"][0].is_null(), "{v}");
    assert_eq!(
        v["context"]["edges"][3],
        serde_json::json!([0.5, 1.5]),
        "{v}"
    );
    assert!(v["context"]["edges"][4].is_null(), "{v}");
    assert!(v["alpha"].as_f64().unwrap() > 0.0);
    assert!(v["vectorizer"]["ngram_range"].is_array());
    assert!(v["normalizer"]["strip_html"].is_boolean());
    assert!(v["priors"].is_object() || v["priors"].is_string());
    assert_eq!(v["labels"], serde_json::json!(LABELS));
    let docs = v["class_documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d.as_u64().unwrap() > 0));
    assert!(v["n_terms"].as_u64().unwrap() > 1000);
    assert!(v["info"]["created_by"].is_string());
    assert!(
        v.get("vocabulary").is_none(),
        "the plain inspect leaves out the vocabulary"
    );
}

#[test]
fn model_inspect_json_exports_the_vocabulary() {
    let out = run(&["model", "inspect", "--json"]);
    assert_ok(&out, "model inspect --json");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one JSON object on one line");
    let v: Value = serde_json::from_str(&text).unwrap();
    let vocabulary = v["vocabulary"].as_array().expect("vocabulary array");
    assert_eq!(vocabulary.len() as u64, v["n_terms"].as_u64().unwrap());
    let n_docs: u64 = v["class_documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .sum();
    let mut previous: Option<&str> = None;
    for entry in vocabulary {
        let term = entry["term"].as_str().expect("term");
        assert!(!term.is_empty());
        if let Some(p) = previous {
            assert!(p < term, "terms sorted and distinct: {p:?} then {term:?}");
        }
        previous = Some(term);
        let df = entry["document_frequency"].as_u64().expect("df");
        assert!(df >= 1 && df <= n_docs, "{entry}");
        let counts = entry["counts"].as_array().expect("counts");
        assert_eq!(counts.len(), 3);
        assert!(
            counts
                .iter()
                .all(|c| c.as_f64().is_some_and(|c| c >= 0.0 && c.is_finite()))
        );
    }
}

#[test]
fn a_missing_model_file_exits_2() {
    let out = run(&["--model", "nonexistent.model", "classify", "hello"]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("nonexistent.model"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupted_model_file_exits_2_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = comment_sieve::Classifier::embedded_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    let path = dir.path().join("corrupt.model");
    std::fs::write(&path, &bytes).unwrap();
    for args in [&["classify", "hello"][..], &["model", "inspect"]] {
        let mut full = vec!["--model".as_ref(), path.as_os_str()];
        full.extend(args.iter().map(std::ffi::OsStr::new));
        let out = run(&full);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(out.stdout.is_empty());
        let err = stderr(&out);
        assert!(err.contains("corrupt.model"), "{err}");
        assert!(err.contains("checksum"), "{err}");
    }
    // Not a model at all.
    let text = dir.path().join("text.model");
    std::fs::write(&text, "hello").unwrap();
    let out = run(&[
        "--model".as_ref(),
        text.as_os_str(),
        "classify".as_ref(),
        "x".as_ref(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("magic"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// train and eval

#[test]
fn a_model_trained_on_a_wordpress_export_uses_its_author_urls() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("site.model");
    let out = run(&[
        "train".as_ref(),
        "fixtures/wordpress.xml".as_ref(),
        "--split".as_ref(),
        "all".as_ref(),
        "--label-from".as_ref(),
        "approved".as_ref(),
        "--label-map".as_ref(),
        "spam=off_topic,1=substantive,0=off_topic".as_ref(),
        "--min-df".as_ref(),
        "1".as_ref(),
        "-o".as_ref(),
        model.as_os_str(),
    ]);
    assert_ok(&out, "train on the WordPress fixture");
    let out = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "model".as_ref(),
        "inspect".as_ref(),
    ]);
    assert_ok(&out, "model inspect");
    let v: Value = serde_json::from_str(&stdout(&out)).expect("inspect prints JSON");
    assert_eq!(v["format_version"], 7);
    // Every comment of the export has wp:comment_author_url: the author-URL kind is on.
    assert_eq!(v["context"]["edges"][4], serde_json::json!([0.5]), "{v}");
    // The same export scores with that model: one verdict per comment.
    let out = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "score".as_ref(),
        "-q".as_ref(),
        "fixtures/wordpress.xml".as_ref(),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 13);
}

/// A small labeled corpus with train and test splits; words repeat so `min_df = 2` keeps them.
fn write_small_corpus(dir: &Path) -> PathBuf {
    let abusive = [
        "you are an idiot",
        "what a stupid moron",
        "shut up you pathetic loser",
        "nobody cares you idiot",
        "you clueless moron",
        "pathetic idiot go away",
        "stupid loser shut up",
    ];
    let off_topic = [
        "subscribe to my channel",
        "buy cheap pills online now",
        "free gift cards click here",
        "check out my channel and subscribe",
        "earn money from home click here",
        "cheap pills free gift",
        "click here to earn free money",
    ];
    let substantive = [
        "the budget cuts will hurt schools",
        "the council should publish the projections",
        "renters pay more under the new tax",
        "the projections for the budget were wrong",
        "schools need the council to fix the budget",
        "the new tax affects renters and schools",
        "publish the budget projections for renters",
    ];
    let mut out = String::new();
    let mut n = 0;
    for round in 0..3 {
        for (texts, label) in [
            (&abusive, "abusive"),
            (&off_topic, "off_topic"),
            (&substantive, "substantive"),
        ] {
            for (k, text) in texts.iter().enumerate() {
                n += 1;
                let split = if round == 2 && k % 2 == 0 {
                    "test"
                } else {
                    "train"
                };
                let text = if round == 1 {
                    format!("{text}, {}", texts[(k + 3) % texts.len()])
                } else {
                    text.to_string()
                };
                let row = serde_json::json!({
                    "id": format!("s{n}"),
                    "text": text,
                    "label": label,
                    "split": split,
                    "post_id": format!("post-{}", k % 4),
                });
                out.push_str(&row.to_string());
                out.push('\n');
            }
        }
    }
    let path = dir.join("small.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

/// `cv --tune-offsets` says which `--prior-weights` to train with: the prior weights in use
/// times `exp(offset)`, with substantive at 1 (not the offsets alone, which only fit uniform
/// priors).
#[test]
fn cv_tune_offsets_hints_prior_weights_that_include_the_priors_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_small_corpus(dir.path());
    for (priors, base) in [
        (["--prior-weights", "0.5,0.25,1"], [0.5, 0.25, 1.0]),
        (["--priors", "uniform"], [1.0, 1.0, 1.0]),
    ] {
        let mut args = vec!["cv", "--split", "train", "--folds", "3", "--tune-offsets"];
        args.extend(priors);
        let mut full: Vec<&std::ffi::OsStr> = vec![args[0].as_ref(), data.as_os_str()];
        full.extend(args[1..].iter().map(std::ffi::OsStr::new));
        let out = run(&full);
        assert_ok(&out, "cv --tune-offsets");
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with("best class offsets"))
            .unwrap_or_else(|| panic!("no hint in {err}"));
        let offsets: Vec<f64> = line
            .split_once('[')
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(list, _)| list.split(',').map(|x| x.trim().parse().unwrap()).collect())
            .unwrap_or_else(|| panic!("no offsets in {line}"));
        let weights: Vec<f64> = line
            .rsplit_once("--prior-weights ")
            .map(|(_, w)| w.split(',').map(|x| x.trim().parse().unwrap()).collect())
            .unwrap_or_else(|| panic!("no weights in {line}"));
        assert_eq!((offsets.len(), weights.len()), (3, 3), "{line}");
        for c in 0..3 {
            let expected = base[c] * offsets[c].exp() / (base[2] * offsets[2].exp());
            assert!((weights[c] - expected).abs() < 1e-4, "{priors:?}: {line}");
        }
    }
}

#[test]
fn bad_source_weights_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_small_corpus(dir.path());
    let model = dir.path().join("w.model");
    for spec in ["c3=-1", "c3=nan", "c3=inf", "c3", "balance:x"] {
        let out = run(&[
            "train".as_ref(),
            data.as_os_str(),
            "--source-weights".as_ref(),
            spec.as_ref(),
            "-o".as_ref(),
            model.as_os_str(),
        ]);
        assert_eq!(code(&out), 2, "{spec}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--source-weights"),
            "{spec}: {}",
            stderr(&out)
        );
        assert!(!model.exists(), "{spec}");
    }
}

#[test]
fn train_writes_a_model_that_classify_and_eval_use() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_small_corpus(dir.path());
    let model = dir.path().join("small.model");
    let out = run(&[
        "train".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "train".as_ref(),
        "-o".as_ref(),
        model.as_os_str(),
    ]);
    assert_ok(&out, "train");
    assert!(model.exists());
    assert!(stderr(&out).contains("trained on"), "{}", stderr(&out));
    // Only the model: no temporary file left beside it.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["small.jsonl", "small.model"]);

    let with_model = |args: &[&str]| {
        let mut full = vec!["--model".as_ref(), model.as_os_str()];
        full.extend(args.iter().map(std::ffi::OsStr::new));
        run(&full)
    };
    let out = with_model(&["classify", "--json", "what a pathetic stupid idiot"]);
    assert_ok(&out, "classify with the trained model");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["label"], "abusive", "{v}");
    let out = with_model(&["classify", "--json", "click here for cheap pills"]);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()["label"],
        "off_topic"
    );

    // The model differs from the embedded one and says what it was trained on.
    let out = with_model(&["model", "inspect"]);
    assert_ok(&out, "inspect the trained model");
    let inspect: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let training_data = inspect["info"]["training_data"].as_str().unwrap();
    assert!(training_data.contains("small.jsonl"), "{training_data}");
    assert!(training_data.contains("train"), "{training_data}");
    let train_rows: u64 = inspect["class_documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .sum();
    assert_eq!(train_rows, 63 - 12, "rows of the train split only");
    assert!(training_data.contains(&train_rows.to_string()));

    let out = with_model(&["eval", data.to_str().unwrap(), "--split", "test", "--json"]);
    assert_ok(&out, "eval --json");
    let e: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(e["n"], 12);
    for key in ["macro_f1", "accuracy"] {
        let x = e[key].as_f64().unwrap_or_else(|| panic!("{key} in {e}"));
        assert!((0.0..=1.0).contains(&x), "{key} {x}");
    }
    let mut support = 0;
    let mut f1_sum = 0.0;
    for label in LABELS {
        let c = &e["per_class"][label];
        for key in ["precision", "recall", "f1"] {
            let x = c[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{label}.{key} in {e}"));
            assert!((0.0..=1.0).contains(&x));
        }
        f1_sum += c["f1"].as_f64().unwrap();
        support += c["support"].as_u64().unwrap();
        let row = &e["confusion"][label];
        let row_sum: u64 = LABELS.iter().map(|p| row[p].as_u64().unwrap()).sum();
        assert_eq!(
            row_sum,
            c["support"].as_u64().unwrap(),
            "confusion row {label}"
        );
    }
    assert_eq!(support, 12);
    assert!((e["macro_f1"].as_f64().unwrap() - f1_sum / 3.0).abs() < 1e-9);
    // These test rows repeat training sentences: the model gets them right.
    assert!(e["accuracy"].as_f64().unwrap() > 0.9, "{e}");

    // The plain-text report.
    let out = with_model(&["eval", data.to_str().unwrap(), "--split", "test"]);
    assert_ok(&out, "eval");
    let report = stdout(&out);
    assert!(report.contains("macro-F1"), "{report}");
    assert!(report.contains("confusion"), "{report}");
}

#[test]
fn train_is_reproducible_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_small_corpus(dir.path());
    let train = |threads: &str, name: &str| {
        let model = dir.path().join(name);
        let out = run(&[
            "--threads".as_ref(),
            threads.as_ref(),
            "train".as_ref(),
            data.as_os_str(),
            "-o".as_ref(),
            model.as_os_str(),
        ]);
        assert_ok(&out, "train");
        std::fs::read(model).unwrap()
    };
    assert_eq!(train("1", "a.model"), train("2", "b.model"));
}

#[test]
fn eval_reports_a_bad_label_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-label.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "1", "text": "fine", "label": "substantive", "split": "test"}"#,
            "\n\n",
            r#"{"id": "2", "text": "buy now", "label": "spam", "split": "test"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = run(&["eval".as_ref(), path.as_os_str(), "--json".as_ref()]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("bad-label.jsonl"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("spam"), "{err}");
}

/// A labeled input row keeps its label as `input_label`; the verdict's `label` is the only
/// `label` key of the output line (a JSON object with a repeated key reads as its last value,
/// which made labeled input look perfectly classified).
#[test]
fn score_writes_an_input_label_apart_from_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labeled.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "1", "text": "You are a worthless idiot and everyone here knows it", "label": "substantive"}"#,
            "\n",
            r#"{"id": "2", "text": "The bus lane cut my commute by ten minutes", "label": "abusive", "split": "test"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = run(&["score".as_ref(), path.as_os_str(), "-q".as_ref()]);
    assert_ok(&out, "score of labeled JSONL");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for (line, given) in lines.iter().zip(["substantive", "abusive"]) {
        assert_eq!(line.matches("\"label\":").count(), 1, "{line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["input_label"], given, "{line}");
    }
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(first["label"], "abusive", "{}", lines[0]);
    assert_eq!(second["label"], "substantive", "{}", lines[1]);
    assert_eq!(second["split"], "test", "{}", lines[1]);
}

#[test]
fn eval_and_train_refuse_missing_or_empty_input() {
    let out = run(&["eval", "no-such-data.jsonl"]);
    assert_eq!(code(&out), 2);
    assert!(
        stderr(&out).contains("no-such-data.jsonl"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let data = write_small_corpus(dir.path());
    let model = dir.path().join("m.model");
    let out = run(&[
        "train".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "no-such-split".as_ref(),
        "-o".as_ref(),
        model.as_os_str(),
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no labeled rows"), "{}", stderr(&out));
    assert!(!model.exists());
}

// ---------------------------------------------------------------------------------------------
// the shared corpus, when present

/// A product requirement: the embedded model reaches macro-F1 0.74 on the corpus' test split.
#[test]
fn embedded_model_meets_the_macro_f1_target_on_the_corpus_test_split() {
    let Some(path) = corpus() else {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    };
    let out = run(&[
        "eval".as_ref(),
        path.as_os_str(),
        "--split".as_ref(),
        "test".as_ref(),
        "--json".as_ref(),
    ]);
    assert_ok(&out, "eval on the corpus");
    let e: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(e["n"].as_u64().unwrap() > 1000, "{e}");
    for label in LABELS {
        let f1 = e["per_class"][label]["f1"].as_f64();
        assert!(
            f1.is_some_and(|f| (0.0..=1.0).contains(&f)),
            "f1 of {label}: {e}"
        );
    }
    let macro_f1 = e["macro_f1"].as_f64().unwrap();
    eprintln!("macro-F1 on the corpus test split: {macro_f1:.4}");
    assert!(
        macro_f1 >= 0.74,
        "macro-F1 {macro_f1:.4} is below the 0.74 target; per class: {}",
        e["per_class"]
    );
}

/// `models/README.md` says the default model is made by
/// `train ../shared/corpus/comments.jsonl --split train -o models/default.model` and that
/// training is deterministic: doing so must give the embedded model byte for byte.
#[test]
fn training_with_defaults_reproduces_the_embedded_model() {
    let Some(path) = corpus() else {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("default.model");
    let out = run(&[
        "train".as_ref(),
        path.as_os_str(),
        "--split".as_ref(),
        "train".as_ref(),
        "-o".as_ref(),
        model.as_os_str(),
    ]);
    assert_ok(&out, "train on the corpus");
    let trained = std::fs::read(&model).unwrap();
    let embedded = comment_sieve::Classifier::embedded_bytes();
    if trained != embedded {
        let inspect = |args: &[&std::ffi::OsStr]| {
            let o = run(args);
            let mut v: Value = serde_json::from_str(&stdout(&o)).unwrap();
            v.as_object_mut().unwrap().remove("info");
            v
        };
        let ours = inspect(&[
            "--model".as_ref(),
            model.as_os_str(),
            "model".as_ref(),
            "inspect".as_ref(),
        ]);
        let theirs = inspect(&["model".as_ref(), "inspect".as_ref()]);
        panic!(
            "training with the default settings does not reproduce models/default.model\n\
             trained:  {ours}\nembedded: {theirs}"
        );
    }
}

#[test]
fn explain_lists_terms_with_their_spans() {
    let text = "Nice write-up. But you are an IDIOT if you believe it.";
    let out = run(&["explain", "--json", "--top", "5", text]);
    assert_ok(&out, "explain --json");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["label"], "abusive", "{v}");
    let evidence = v["evidence"].as_array().expect("evidence list");
    assert_eq!(evidence.len(), 5);
    for e in evidence {
        let start = e["span"]["start"].as_u64().unwrap() as usize;
        let end = e["span"]["end"].as_u64().unwrap() as usize;
        assert_eq!(e["text"], text[start..end], "{e}");
        for label in LABELS {
            assert!(
                e["log_likelihood_ratio"][label]
                    .as_f64()
                    .unwrap()
                    .is_finite()
            );
        }
    }
    let idiot = evidence
        .iter()
        .find(|e| e["term"] == "idiot")
        .expect("idiot in the top 5");
    assert_eq!(idiot["text"], "IDIOT");

    let table = run(&["explain", text]);
    assert_ok(&table, "explain");
    let shown = stdout(&table);
    assert!(shown.starts_with("abusive\n"), "{shown}");
    assert!(shown.contains("IDIOT"), "{shown}");

    // A token about the whole comment says what it means where a term shows its text.
    let spam = "Free gift cards at http://a.example and http://b.example";
    let table = run(&["explain", "--top", "0", spam]);
    assert_ok(&table, "explain");
    let line = stdout(&table)
        .lines()
        .find(|l| l.trim_start().starts_with("ctx:links:"))
        .map(str::to_owned)
        .expect("a link-count line");
    assert!(
        line.contains("ctx:links:2") && line.contains("(two links or more)"),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------------
// calibration and leave-one-source-out

/// A labeled JSONL file of `per_source` rows from each of three sources, in a temporary
/// directory; the source is in the field `field`.
fn sourced_file(dir: &Path, field: &str, per_source: usize) -> PathBuf {
    let texts = [
        ("you are an idiot and a moron", "abusive"),
        ("subscribe to my channel for free gift cards", "off_topic"),
        ("the budget cuts will hurt rural schools", "substantive"),
    ];
    let mut out = String::new();
    for source in ["blog-a", "blog-b", "blog-c"] {
        for i in 0..per_source {
            let (text, label) = texts[i % 3];
            let row = serde_json::json!({
                "id": format!("{source}-{i}"),
                "text": format!("{text} {source} {}", i % 7),
                "label": label,
                field: source,
            });
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
    let path = dir.join("sourced.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn cv_leave_one_source_out_reports_each_source() {
    let dir = tempfile::tempdir().unwrap();
    let data = sourced_file(dir.path(), "origin", 60);
    let out = run(&[
        "cv".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--leave-one-source-out".as_ref(),
        "--source-field".as_ref(),
        "origin".as_ref(),
        "--json".as_ref(),
    ]);
    assert_ok(&out, "cv --leave-one-source-out --json");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let sources = v["sources"].as_array().expect("sources");
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["blog-a", "blog-b", "blog-c"]);
    for s in sources {
        assert_eq!(s["n"], 60, "{s}");
        assert_eq!(s["train_rows"], 120, "{s}");
        let f1 = s["macro_f1_present"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1), "{s}");
        let ece = s["ece"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ece), "{s}");
        assert!(s["temperature"].as_f64().is_some_and(|t| t > 0.0), "{s}");
    }
    assert!(v["mean_macro_f1_present"].as_f64().is_some());

    let table = run(&[
        "cv".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--leave-one-source-out".as_ref(),
        "--source-field".as_ref(),
        "origin".as_ref(),
        "--no-calibration".as_ref(),
    ]);
    assert_ok(&table, "cv --leave-one-source-out");
    let text = stdout(&table);
    assert!(
        text.contains("blog-b") && text.contains("mean macro-F1*"),
        "{text}"
    );

    // With the default field name there is no source at all: a clear error.
    let none = run(&[
        "cv".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--leave-one-source-out".as_ref(),
    ]);
    assert_eq!(code(&none), 2);
    assert!(
        stderr(&none).contains("at least 2 sources"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn eval_and_cv_report_calibration_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = sourced_file(dir.path(), "source", 40);
    let out = run(&[
        "eval".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--json".as_ref(),
    ]);
    assert_ok(&out, "eval --json");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    for key in ["ece", "ece_uncalibrated"] {
        assert!(
            v[key].as_f64().is_some_and(|e| (0.0..=1.0).contains(&e)),
            "{key}: {v}"
        );
    }
    assert!(v["temperature"].as_f64().is_some(), "{v}");
    assert!(v["macro_f1"].as_f64().is_some(), "{v}");

    let text = run(&[
        "eval".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
    ]);
    assert_ok(&text, "eval");
    assert!(
        stdout(&text).contains("ECE (top-label, 15 bins)"),
        "{}",
        stdout(&text)
    );

    let cv = run(&[
        "cv".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--folds".as_ref(),
        "3".as_ref(),
        "--json".as_ref(),
        "--no-calibration".as_ref(),
    ]);
    assert_ok(&cv, "cv --json --no-calibration");
    let v: Value = serde_json::from_str(&stdout(&cv)).unwrap();
    // Without calibration the out-of-fold probabilities are the raw ones.
    assert_eq!(v["ece"], v["ece_uncalibrated"], "{v}");
}

#[test]
fn train_no_calibration_writes_a_model_without_temperature() {
    let dir = tempfile::tempdir().unwrap();
    let data = sourced_file(dir.path(), "source", 50);
    let model = dir.path().join("raw.model");
    let out = run(&[
        "train".as_ref(),
        data.as_os_str(),
        "--split".as_ref(),
        "all".as_ref(),
        "--no-calibration".as_ref(),
        "-o".as_ref(),
        model.as_os_str(),
    ]);
    assert_ok(&out, "train --no-calibration");
    let inspect = run(&[
        "--model".as_ref(),
        model.as_os_str(),
        "model".as_ref(),
        "inspect".as_ref(),
    ]);
    let v: Value = serde_json::from_str(&stdout(&inspect)).unwrap();
    assert_eq!(v["temperature"], Value::Null, "{v}");
    assert!(
        v["info"]["command"]
            .as_str()
            .unwrap()
            .ends_with("--no-calibration"),
        "{v}"
    );
}

#[test]
fn a_closed_output_pipe_ends_quietly_without_a_panic() {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(["model", "inspect"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    // Close our end at once, like `| head -0`: the program's writes then fail with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("waits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// Exports with posts and threads: one output record per input comment, in the reader's
/// order, and the same bytes with one or two threads (thread contexts come from the chunk).
#[test]
fn score_on_exports_with_posts_gives_one_record_per_comment_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // A JSONL input of interleaved threads without post text, so thread profiles are built.
    let threaded = dir.path().join("threads.jsonl");
    let mut input = String::new();
    let texts = [
        "The council should publish the budget projections for schools.",
        "Subscribe to my channel for free gift cards!!!",
        "Schools lose most under this budget, the projections show it.",
        "You are a clueless idiot.",
    ];
    for i in 0..40 {
        let row = serde_json::json!({
            "id": format!("t{i}"),
            "text": texts[i % texts.len()],
            "post_id": format!("p{}", i % 3),
            "parent_id": if i > 3 { Some(format!("t{}", i - 3)) } else { None },
        });
        input.push_str(&row.to_string());
        input.push('\n');
    }
    std::fs::write(&threaded, input).unwrap();
    let files = [
        manifest_dir().join("fixtures/wordpress.xml"),
        manifest_dir().join("fixtures/disqus.xml"),
        manifest_dir().join("fixtures/blogger.xml"),
        threaded,
    ];
    for file in files {
        let expected: Vec<String> = comment_sieve::input::open(Some(&file), &Default::default())
            .unwrap()
            .map(|r| match r {
                Ok(record) => record.comment.id.to_string(),
                Err(e) => e.id.clone().unwrap_or_default(),
            })
            .collect();
        assert!(!expected.is_empty(), "{}", file.display());
        let score = |threads: &str| {
            let out = run(&[
                "--threads".as_ref(),
                threads.as_ref(),
                "score".as_ref(),
                file.as_os_str(),
            ]);
            assert!(code(&out) <= 1, "{}: {}", file.display(), stderr(&out));
            out
        };
        let (one, two) = (score("1"), score("2"));
        assert_eq!(one.stdout, two.stdout, "{}", file.display());
        let ids: Vec<String> = json_lines(&one)
            .iter()
            .map(|v| v["id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(ids, expected, "{}", file.display());
    }
}

#[test]
fn classify_reads_dash_as_standard_input() {
    let piped = run_with_stdin(&["classify", "--json", "-"], Some(b"You are an idiot\n"));
    assert_ok(&piped, "classify -");
    let direct = run(&["classify", "--json", "You are an idiot\n"]);
    assert_eq!(stdout(&piped), stdout(&direct));
}

#[test]
fn settings_that_cannot_work_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("rows.jsonl");
    std::fs::write(
        &data,
        "{\"id\":\"1\",\"text\":\"you idiot\",\"label\":\"abusive\"}\n\
         {\"id\":\"2\",\"text\":\"buy pills here\",\"label\":\"off_topic\"}\n\
         {\"id\":\"3\",\"text\":\"a fair point on rents\",\"label\":\"substantive\"}\n",
    )
    .unwrap();
    let data = data.to_str().unwrap();
    let out_model = dir.path().join("m.model");
    let out_model = out_model.to_str().unwrap();
    for (args, says) in [
        (
            vec!["cv", data, "--split", "all", "--folds", "1"],
            "--folds",
        ),
        (vec!["--threads", "5000", "classify", "hi"], "--threads"),
        (
            vec![
                "eval",
                "fixtures/wordpress.xml",
                "--split",
                "all",
                "--label-from",
                "approved",
                "--label-map",
                "1=substantive,1=abusive",
            ],
            "maps \"1\" twice",
        ),
        (
            vec![
                "--model", out_model, "train", data, "--split", "all", "-o", out_model,
            ],
            "--model",
        ),
        (
            vec![
                "train", data, "--split", "all", "-o", out_model, "--min-df", "100",
            ],
            "no term passed",
        ),
    ] {
        let out = run(&args);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    assert!(!Path::new(out_model).exists(), "nothing written");
    // One OS error, said once.
    let out = run(&["--model", "/nonexistent/m.model", "classify", "hi"]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out).matches("No such file").count(),
        1,
        "{}",
        stderr(&out)
    );
}
