//! The pipeline's stages through the public API: normalizer, tokenizer, vectorizer and
//! vocabulary, evaluation, corpus reading and cross-validation.

use comment_sieve::corpus::{SplitFilter, parse_row, read_labeled};
use comment_sieve::{
    Classifier, ClassifierParams, Comment, Evaluation, Label, Normalizer, NormalizerConfig,
    TermWeight, Tokenizer, Vectorizer, VectorizerConfig, Vocabulary, VocabularyParams,
    cross_validate,
};
use proptest::prelude::*;

fn norm(s: &str) -> String {
    Normalizer::default().normalize(s)
}

fn words(s: &str) -> Vec<&str> {
    Tokenizer.tokenize(s).collect()
}

// ---------------------------------------------------------------------------------------------
// normalizer

#[test]
fn normalizer_strips_html_and_decodes_entities() {
    for (input, expected) in [
        ("<p>Hello <b>World</b></p>", "hello world"),
        ("line<br>break<br/>here", "line break here"),
        ("<a href=\"http://spam.example.com\">click</a>", "click"),
        ("<!-- a comment --> visible", "visible"),
        ("fish &amp; chips", "fish & chips"),
        ("&lt;3 &gt;", "<_num_ >"),
        (
            "caf&eacute; caf&#233; caf&#xE9; caf&#XE9;",
            "café café café café",
        ),
        ("we&#8217;re", "we're"),
        ("a&nbsp;b", "a b"),
        ("&quot;quoted&quot;", "\"quoted\""),
        ("&unknownentity; &", "&unknownentity; &"),
        ("&#0; &#xD800;", "\u{FFFD} \u{FFFD}"),
        ("2 < 3 and 4 > 1", "_num_ < _num_ and _num_ > _num_"),
        ("<em>un</em>closed <b", "un closed <b"),
    ] {
        assert_eq!(norm(input), expected, "{input:?}");
    }
}

#[test]
fn normalizer_replaces_links_emails_mentions_and_numbers() {
    for (input, expected) in [
        (
            "see https://www.Example.com/path?q=1",
            "see _url_ _host_example_com",
        ),
        ("http://bit.ly/xyz", "_url_ _host_bit_ly"),
        ("(www.spam-site.org).", "_url_ _host_spam-site_org"),
        (
            "visit cheap-pills.net now",
            "visit _url_ _host_cheap-pills_net now",
        ),
        ("mail bob@example.org!", "mail _email_"),
        ("@alice you're right", "_mention_ you're right"),
        (
            "costs $400 million in 2019",
            "costs $_num_ million in _num_",
        ),
        ("3.5% of 1,000", "_num_% of _num_"),
        ("mp3 2nd f4ck", "mp3 2nd fuck"),
        ("file.txt e.g.", "file.txt e.g."),
    ] {
        assert_eq!(norm(input), expected, "{input:?}");
    }
}

/// A word that mixes letters and digits is kept whole (`mp3`, `2nd`; `f4ck` is leetspeak and
/// folds to `fuck`); only numbers that stand alone become `_num_`. A run of digits after letters must not be split into a
/// kept first digit and a `_num_` for the rest.
#[test]
fn normalizer_keeps_words_that_end_in_digits_whole() {
    for (input, expected) in [
        (
            "mp3 f4ck 2nd abc123def a1b2c3",
            "mp3 fuck 2nd abc123def a1b2c3",
        ),
        ("covid19", "covid19"),
        ("h264", "h264"),
        ("windows 10 and win10", "windows _num_ and win10"),
        ("mp34", "mp34"),
        ("x11", "x11"),
    ] {
        assert_eq!(norm(input), expected, "{input:?}");
    }
}

#[test]
fn normalizer_folds_unicode_and_drops_invisible_characters() {
    for (input, expected) in [
        ("ＦＵＬＬＷＩＤＴＨ", "fullwidth"),
        ("ﬁne Straße", "fine strasse"),
        ("ΟΔΟΣ", "οδοσ"),
        (
            "in\u{200B}visible\u{FEFF} soft\u{00AD}hyphen",
            "invisible softhyphen",
        ),
        ("don\u{2019}t", "don't"),
        ("Ｈｅｌｌｏ\u{3000}world", "hello world"),
        ("Sooooo goooood", "soo good"),
        ("  many   spaces\n\tand lines  ", "many spaces and lines"),
        ("", ""),
    ] {
        assert_eq!(norm(input), expected, "{input:?}");
    }
}

#[test]
fn normalizer_switches_are_honoured() {
    let off = Normalizer::new(NormalizerConfig {
        strip_html: false,
        placeholders: false,
        squash_repeats: false,
        fold_evasions: false,
    });
    assert_eq!(
        off.normalize("<b>Sooo</b> http://x.com 42 &amp;"),
        "<b>sooo</b> http://x.com 42 &amp;"
    );
    assert_eq!(
        off.config(),
        NormalizerConfig {
            strip_html: false,
            placeholders: false,
            squash_repeats: false,
            fold_evasions: false,
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Normalized text is lower-case, single-spaced, trimmed and without zero-width characters,
    /// and normalizing it again changes nothing that matters to the model: its words.
    #[test]
    fn normalized_text_is_canonical(text in any::<String>()) {
        let once = norm(&text);
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        prop_assert!(!once.contains("  "));
        prop_assert!(!once.chars().any(|c| c.is_whitespace() && c != ' '));
        let invisible = ['\u{200B}', '\u{FEFF}', '\u{00AD}'];
        prop_assert!(!once.contains(invisible), "invisible characters kept: {:?}", once);
        prop_assert!(!once.chars().any(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn tokens_are_non_empty_slices_without_separators(text in any::<String>()) {
        let normalized = norm(&text);
        for word in words(&normalized) {
            prop_assert!(!word.is_empty());
            prop_assert!(!word.contains(char::is_whitespace));
            prop_assert!(normalized.contains(word));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tokenizer

#[test]
fn tokenizer_splits_words_keeps_placeholders_and_censored_words() {
    assert_eq!(
        words("don't _url_ _host_bit_ly (yes!) f*ck sh**"),
        ["don't", "_url_", "_host_bit_ly", "yes", "f*ck", "sh"]
    );
    assert_eq!(words("日本語 👍🏽 ok"), ["日", "本", "語", "👍", "ok"]);
    assert_eq!(words("привет, мир"), ["привет", "мир"]);
    assert_eq!(words("... --- !!!"), Vec::<&str>::new());
}

// ---------------------------------------------------------------------------------------------
// vectorizer and vocabulary

fn unigrams() -> VectorizerConfig {
    VectorizerConfig {
        ngram_range: (1, 1),
        term_weight: TermWeight::Count,
        idf: false,
        l2_normalize: false,
        prefix_len: 0,
        target_window: 0,
    }
}

#[test]
fn vectorizer_ignores_out_of_vocabulary_words() {
    let docs = ["good point about taxes", "good grief", "taxes taxes"];
    let v = Vectorizer::fit(
        VectorizerConfig::default(),
        VocabularyParams::default(),
        &docs,
    )
    .unwrap();
    let terms: Vec<&str> = v.vocabulary().terms().iter().map(|t| &**t).collect();
    assert!(terms.windows(2).all(|w| w[0] < w[1]), "sorted: {terms:?}");
    let x = v.transform("unknown good taxes zebra good unicorn");
    let cols: Vec<&str> = x
        .indices
        .iter()
        .map(|&j| &*v.vocabulary().terms()[j as usize])
        .collect();
    // "good taxes" and "taxes zebra" etc. are not in the vocabulary: only known terms count.
    assert_eq!(cols, ["good", "taxes"]);
    assert_eq!(x.values, [2.0, 1.0]);
    // Entirely unknown text gives an empty vector.
    assert_eq!(v.transform("zebra unicorn dragon").nnz(), 0);
    assert_eq!(v.transform("").nnz(), 0);
}

#[test]
fn vectorizer_weights_idf_and_l2() {
    let docs = ["a a b", "b c", "c d"];
    let config = VectorizerConfig {
        ngram_range: (1, 1),
        term_weight: TermWeight::Count,
        idf: true,
        l2_normalize: true,
        prefix_len: 0,
        target_window: 0,
    };
    let v = Vectorizer::fit(config, VocabularyParams::default(), &docs).unwrap();
    assert_eq!(v.n_documents(), 3);
    assert_eq!(v.document_frequency(), [1, 2, 2, 1]);
    let x = v.transform("a a b");
    let idf = |df: f64| ((1.0 + 3.0) / (1.0 + df)).ln() + 1.0;
    let (wa, wb) = (2.0 * idf(1.0), idf(2.0));
    let n = (wa * wa + wb * wb).sqrt();
    assert_eq!(x.indices, [0, 1]);
    assert!((x.values[0] - wa / n).abs() < 1e-12);
    assert!((x.values[1] - wb / n).abs() < 1e-12);
    let norm2: f64 = x.values.iter().map(|w| w * w).sum();
    assert!((norm2 - 1.0).abs() < 1e-12);
}

#[test]
fn vocabulary_finds_its_terms_and_nothing_else() {
    let terms: Vec<Box<str>> = ["alpha", "beta", "beta gamma", "~alph", "δ", "日"]
        .into_iter()
        .map(Into::into)
        .collect();
    let vocabulary = Vocabulary::from_terms(terms.clone()).unwrap();
    assert_eq!(vocabulary.len(), terms.len());
    for (i, t) in terms.iter().enumerate() {
        assert_eq!(vocabulary.get(t), Some(i as u32), "{t}");
    }
    for unknown in [
        "",
        "alph",
        "Beta",
        "beta  gamma",
        "gamma",
        "alpha ",
        "~alpha",
    ] {
        assert_eq!(vocabulary.get(unknown), None, "{unknown:?}");
    }
    let duplicated: Vec<Box<str>> = ["a", "b", "a"].into_iter().map(Into::into).collect();
    assert!(Vocabulary::from_terms(duplicated).is_err());
}

/// Vocabularies of a million terms are ordinary (word pairs over a large corpus with
/// `min_df = 1`). Any list of distinct terms must make a vocabulary.
#[test]
fn a_vocabulary_of_a_million_distinct_terms_builds() {
    let terms: Vec<Box<str>> = (0..1_000_000)
        .map(|i| format!("term{i}").into_boxed_str())
        .collect();
    match Vocabulary::from_terms(terms) {
        Ok(v) => assert_eq!(v.len(), 1_000_000),
        Err(e) => panic!("distinct terms refused: {e}"),
    }
}

/// Pairs of distinct words that the vocabulary's hash-fingerprint table confuses (found by
/// looking up millions of unknown words in a large vocabulary, as
/// `unknown_terms_are_not_found_in_a_large_vocabulary` does). Any two distinct terms must make
/// a vocabulary, and each must find only itself.
const LOOKALIKE_PAIRS: [(&str, &str); 3] = [
    ("kznjkb", "uryxh"),
    ("kdjul", "uhzrxe"),
    ("kxvmj", "ucjcqf"),
];

#[test]
fn two_distinct_terms_always_make_a_vocabulary() {
    let mut problems = Vec::new();
    for (a, b) in LOOKALIKE_PAIRS {
        match Vocabulary::from_terms(vec![a.into(), b.into()]) {
            Ok(v) => {
                if v.get(a) != Some(0) || v.get(b) != Some(1) {
                    problems.push(format!("{a:?} -> {:?}, {b:?} -> {:?}", v.get(a), v.get(b)));
                }
            }
            Err(e) => problems.push(format!("{a:?} and {b:?} refused: {e}")),
        }
        // Each alone: the other is unknown and must not be found.
        let alone = Vocabulary::from_terms(vec![a.into()]).unwrap();
        if let Some(j) = alone.get(b) {
            problems.push(format!(
                "{b:?} found as column {j} of the vocabulary [{a:?}]"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The user-visible side: a training set that happens to contain two such words can't be
/// trained on.
#[test]
fn training_on_lookalike_words_succeeds() {
    let (a, b) = LOOKALIKE_PAIRS[0];
    let comments = [
        Comment::new("1", format!("you idiot {a}")),
        Comment::new("2", format!("buy pills {b}")),
        Comment::new("3", "the budget for schools"),
    ];
    let labels = [Label::Abusive, Label::OffTopic, Label::Substantive];
    let params = ClassifierParams {
        vocabulary: VocabularyParams {
            min_df: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    match params.train(&comments, &labels) {
        Ok(c) => {
            let x = c.features(a);
            let cols: Vec<&str> = x
                .indices
                .iter()
                .map(|&j| &*c.vectorizer().vocabulary().terms()[j as usize])
                .collect();
            assert!(!cols.contains(&b), "{a:?} vectorized as {cols:?}");
        }
        Err(e) => panic!("training failed: {e}"),
    }
}

/// Training must not fail because two distinct n-grams happen to look alike to the vocabulary's
/// lookup table.
#[test]
fn fitting_a_large_vocabulary_succeeds() {
    let docs: Vec<String> = (0..100_000)
        .map(|i| format!("w{i} x{} y{}", i * 7 + 1, i * 13 + 2))
        .collect();
    let v = Vectorizer::fit(unigrams(), VocabularyParams::default(), &docs);
    match v {
        Ok(v) => assert!(v.vocabulary().len() >= 290_000),
        Err(e) => panic!("fit failed on distinct terms: {e}"),
    }
}

/// A term outside the vocabulary is never taken for one inside it: with a large vocabulary,
/// looking up many unknown terms finds none of them.
#[test]
fn unknown_terms_are_not_found_in_a_large_vocabulary() {
    let n = 300_000;
    let terms: Vec<Box<str>> = (0..n)
        .map(|i| format!("known{i}").into_boxed_str())
        .collect();
    let Ok(vocabulary) = Vocabulary::from_terms(terms) else {
        // Covered by `a_vocabulary_of_a_million_distinct_terms_builds`.
        return;
    };
    let false_hits: Vec<(String, u32)> = (0..2_000_000)
        .filter_map(|i| {
            let t = format!("unknown{i}");
            vocabulary.get(&t).map(|j| (t, j))
        })
        .collect();
    assert!(
        false_hits.is_empty(),
        "{} unknown terms were found in the vocabulary, e.g. {:?}",
        false_hits.len(),
        false_hits
            .iter()
            .take(3)
            .map(|(t, j)| format!(
                "{t:?} as column {j} ({:?})",
                vocabulary.terms()[*j as usize]
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn vectorizer_is_the_same_whatever_the_thread_count() {
    let docs: Vec<String> = (0..5000)
        .map(|i| format!("w{} w{} shared w{}", i % 311, i % 97, i % 13))
        .collect();
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                Vectorizer::fit(
                    VectorizerConfig::default(),
                    VocabularyParams {
                        min_df: 2,
                        max_df: 0.99,
                        max_features: Some(500),
                    },
                    &docs,
                )
                .unwrap()
            })
    };
    let one = fit(1);
    for threads in [2, 3, 8] {
        let other = fit(threads);
        assert_eq!(other.vocabulary().terms(), one.vocabulary().terms());
        assert_eq!(other.document_frequency(), one.document_frequency());
    }
    // "shared" is in every document, so max_df 0.99 drops it.
    assert_eq!(one.vocabulary().get("shared"), None);
    let len = one.vocabulary().len();
    assert!(len > 300 && len <= 500, "{len} terms");
}

#[test]
fn classifier_features_only_use_vocabulary_columns() {
    let c = Classifier::embedded().unwrap();
    let x = c.features("You are a clueless idiot zxqvbnm qqqqzzzz");
    let len = c.vectorizer().vocabulary().len() as u32;
    assert!(x.nnz() > 0);
    assert!(x.indices.iter().all(|&j| j < len));
    assert!(x.indices.windows(2).all(|w| w[0] < w[1]));
    // Adding unknown words changes nothing.
    let plain = c.features("You are a clueless idiot");
    let with_unknown = c.features("You are a clueless idiot zxqvbnm");
    assert!(
        plain
            .indices
            .iter()
            .all(|j| with_unknown.indices.contains(j))
    );
}

// ---------------------------------------------------------------------------------------------
// evaluation

#[test]
fn evaluation_json_has_the_documented_shape() {
    use Label::*;
    let truth = [
        Abusive,
        Abusive,
        OffTopic,
        Substantive,
        Substantive,
        OffTopic,
    ];
    let predicted = [
        Abusive,
        Substantive,
        OffTopic,
        Substantive,
        Abusive,
        OffTopic,
    ];
    let e = Evaluation::new(&truth, &predicted).unwrap();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["n"], 6);
    assert!((v["accuracy"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-6);
    for label in ["abusive", "off_topic", "substantive"] {
        for key in ["precision", "recall", "f1", "support"] {
            assert!(v["per_class"][label][key].is_number(), "{label}.{key}: {v}");
        }
        for predicted in ["abusive", "off_topic", "substantive"] {
            assert!(v["confusion"][label][predicted].is_u64(), "{v}");
        }
    }
    assert_eq!(v["confusion"]["abusive"]["substantive"], 1);
    assert_eq!(v["confusion"]["substantive"]["abusive"], 1);
    assert_eq!(v["per_class"]["off_topic"]["support"], 2);
    assert!((v["per_class"]["off_topic"]["f1"].as_f64().unwrap() - 1.0).abs() < 1e-6);
    let report = e.report();
    for needle in [
        "precision",
        "macro-F1",
        "accuracy",
        "confusion",
        "off_topic",
    ] {
        assert!(report.contains(needle), "{report}");
    }
    assert!(Evaluation::new(&truth, &predicted[..5]).is_err());
}

fn reference_scores(truth: &[Label], predicted: &[Label]) -> Vec<(f64, f64, f64, u64)> {
    Label::ALL
        .iter()
        .map(|&l| {
            let tp = truth
                .iter()
                .zip(predicted)
                .filter(|&(&t, &p)| t == l && p == l)
                .count() as f64;
            let support = truth.iter().filter(|&&t| t == l).count();
            let predicted_n = predicted.iter().filter(|&&p| p == l).count() as f64;
            let precision = if predicted_n > 0.0 {
                tp / predicted_n
            } else {
                0.0
            };
            let recall = if support > 0 {
                tp / support as f64
            } else {
                0.0
            };
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            (precision, recall, f1, support as u64)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Per-class precision, recall and F1, macro-F1, accuracy and confusion match a direct
    /// computation, with any subset of labels present (one, two or three).
    #[test]
    fn evaluation_matches_a_direct_computation(
        pairs in proptest::collection::vec((0usize..3, 0usize..3), 1..60),
        restrict in 0usize..4,
    ) {
        // Sometimes use only one or two labels, where linfa's label ordering differs.
        let pick = |i: usize| match restrict {
            1 => Label::ALL[0],
            2 => Label::ALL[1 + i % 2],
            3 => Label::ALL[(i % 2) * 2],
            _ => Label::ALL[i],
        };
        let truth: Vec<Label> = pairs.iter().map(|p| pick(p.0)).collect();
        let predicted: Vec<Label> = pairs.iter().map(|p| pick(p.1)).collect();
        let e = Evaluation::new(&truth, &predicted).unwrap();
        let reference = reference_scores(&truth, &predicted);
        prop_assert_eq!(e.n, truth.len() as u64);
        // Macro-F1 over the labels in the truth or the predictions (scikit-learn's default).
        let (mut f1_sum, mut occurring) = (0.0, 0.0);
        for (label, (p, r, f1, support)) in Label::ALL.iter().zip(&reference) {
            let s = e.per_class[label];
            prop_assert!((s.precision - p).abs() < 1e-6, "{} precision {} vs {}", label, s.precision, p);
            prop_assert!((s.recall - r).abs() < 1e-6, "{} recall {} vs {}", label, s.recall, r);
            prop_assert!((s.f1 - f1).abs() < 1e-6, "{} f1 {} vs {}", label, s.f1, f1);
            prop_assert_eq!(s.support, *support);
            if truth.contains(label) || predicted.contains(label) {
                f1_sum += f1;
                occurring += 1.0;
            }
            for other in Label::ALL {
                let n = truth.iter().zip(&predicted).filter(|&(&t, &q)| t == *label && q == other).count();
                prop_assert_eq!(e.confusion[label][&other], n as u64);
            }
        }
        prop_assert!((e.macro_f1 - f1_sum / occurring).abs() < 1e-6);
        let correct = truth.iter().zip(&predicted).filter(|(t, p)| t == p).count();
        prop_assert!((e.accuracy - correct as f64 / truth.len() as f64).abs() < 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// corpus reading

#[test]
fn parse_row_reads_every_field() {
    let row = parse_row(
        r#"{"id": 12, "text": "hi <b>there</b>", "label": "off-topic", "split": "test",
            "source": "s", "post_id": "p9", "post_title": "T", "post_body": "B",
            "parent_id": 11, "author": "ann", "extra": [1, 2]}"#,
        5,
    )
    .unwrap();
    assert_eq!(row.comment.id, "12");
    assert_eq!(row.comment.text, "hi <b>there</b>");
    assert_eq!(row.label, Some(Label::OffTopic));
    assert_eq!(row.split.as_deref(), Some("test"));
    assert_eq!(row.source.as_deref(), Some("s"));
    assert_eq!(row.comment.post_id(), Some("p9"));
    let post = row.comment.post.as_ref().unwrap();
    assert_eq!(post.title.as_deref(), Some("T"));
    assert_eq!(post.body.as_deref(), Some("B"));
    assert_eq!(row.comment.parent_id.as_deref(), Some("11"));
    assert_eq!(row.comment.author.as_deref(), Some("ann"));

    let bare = parse_row(r#"{"text": "x"}"#, 7).unwrap();
    assert_eq!(bare.comment.id, "line-7");
    assert_eq!(bare.label, None);
    assert!(bare.comment.post.is_none());

    for (line, needle) in [
        ("not json", "invalid JSON"),
        (r#"{"id": "x"}"#, "no text field (looked for `text`, `body`"),
        (
            r#"{"text": null}"#,
            "no text field (looked for `text`, `body`",
        ),
        (r#"{"text": 1}"#, "`text` must be a string"),
        (r#"{"text": "x", "label": "spam"}"#, "unknown label"),
        (r#"{"text": "x", "post_id": {"a": 1}}"#, "post_id"),
    ] {
        let err = parse_row(line, 3).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(err.reason.contains(needle), "{line}: {err}");
    }
}

#[test]
fn read_labeled_selects_a_split_and_reports_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"id": "a", "text": "one", "label": "abusive", "split": "train"}"#,
            "\n",
            r#"{"id": "b", "text": "two", "label": "substantive", "split": "test"}"#,
            "\n\n",
            r#"{"id": "c", "text": "three", "label": "off_topic", "split": "train"}"#,
            "\n",
        ),
    )
    .unwrap();
    let train = read_labeled(&path, &SplitFilter::parse("train")).unwrap();
    let ids: Vec<&str> = train.iter().map(|(c, _)| &*c.id).collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(train[1].1, Label::OffTopic);
    assert_eq!(read_labeled(&path, &SplitFilter::All).unwrap().len(), 3);
    assert!(
        read_labeled(&path, &SplitFilter::parse("dev"))
            .unwrap()
            .is_empty()
    );

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        b"{\"text\": \"ok\", \"label\": \"abusive\"}\n{\"text\": \"no label\"}\n",
    )
    .unwrap();
    let err = read_labeled(&bad, &SplitFilter::All).unwrap_err();
    assert!(err.to_string().contains("bad.jsonl"), "{err}");
    assert!(err.to_string().contains("line 2"), "{err}");

    let utf8 = dir.path().join("utf8.jsonl");
    std::fs::write(
        &utf8,
        b"{\"text\": \"ok\", \"label\": \"abusive\"}\n\xFF\xFE\n",
    )
    .unwrap();
    let err = read_labeled(&utf8, &SplitFilter::All).unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(err.to_string().contains("UTF-8"), "{err}");

    assert!(read_labeled(&dir.path().join("missing.jsonl"), &SplitFilter::All).is_err());
}

// ---------------------------------------------------------------------------------------------
// training and cross-validation

fn separable(n: usize) -> Vec<(Comment<'static>, Label)> {
    (0..n)
        .map(|i| {
            let (text, label) = match i % 3 {
                0 => ("you idiot moron loser", Label::Abusive),
                1 => ("buy cheap pills click here", Label::OffTopic),
                _ => ("the council budget affects schools", Label::Substantive),
            };
            (
                Comment::new(i.to_string(), format!("{text} n{}", i % 5))
                    .with_post_id(format!("p{}", i % 10)),
                label,
            )
        })
        .collect()
}

#[test]
fn cross_validation_predicts_every_row_out_of_fold() {
    let data = separable(90);
    let cv = cross_validate(&ClassifierParams::default(), &data, 5).unwrap();
    assert_eq!(cv.truth.len(), data.len());
    assert_eq!(cv.joint_log_likelihoods.len(), data.len());
    assert!(
        cv.joint_log_likelihoods
            .iter()
            .all(|j| j.iter().all(|x| x.is_finite()))
    );
    assert_eq!(cv.evaluation.n, 90);
    assert_eq!(cv.evaluation.macro_f1, 1.0);
    // Deterministic.
    let again = cross_validate(&ClassifierParams::default(), &data, 5).unwrap();
    assert_eq!(again, cv);
}

#[test]
fn training_weights_must_be_finite_and_non_negative() {
    let data = separable(12);
    let comments: Vec<Comment> = data.iter().map(|(c, _)| c.clone()).collect();
    let labels: Vec<Label> = data.iter().map(|(_, l)| *l).collect();
    let params = ClassifierParams::default();
    let info = comment_sieve::ModelInfo::default();
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let mut weights = vec![1.0; comments.len()];
        weights[7] = bad;
        let err = params
            .train_weighted(&comments, &labels, Some(&weights), info.clone())
            .expect_err("a bad weight is refused");
        assert!(err.to_string().contains("row 7"), "{err}");
    }
    let short = vec![1.0; comments.len() - 1];
    let err = params
        .train_weighted(&comments, &labels, Some(&short), info.clone())
        .expect_err("one weight short");
    assert!(
        err.to_string()
            .contains("11 training weights for 12 comments"),
        "{err}"
    );
    // Valid weights train a working model.
    let doubled = vec![2.0; comments.len()];
    let model = params
        .train_weighted(&comments, &labels, Some(&doubled), info)
        .expect("train with weights");
    assert_eq!(model.classify_text("you idiot moron").label, Label::Abusive);
}

#[test]
fn train_rejects_mismatched_inputs_and_bad_settings() {
    let data = separable(12);
    let comments: Vec<Comment> = data.iter().map(|(c, _)| c.clone()).collect();
    let labels: Vec<Label> = data.iter().map(|(_, l)| *l).collect();
    assert!(
        ClassifierParams::default()
            .train(&comments, &labels[..11])
            .is_err()
    );
    let bad_ngrams = ClassifierParams {
        vectorizer: VectorizerConfig {
            ngram_range: (2, 1),
            ..ClassifierParams::default().vectorizer
        },
        ..Default::default()
    };
    assert!(bad_ngrams.train(&comments, &labels).is_err());
    let bad_max_df = ClassifierParams {
        vocabulary: VocabularyParams {
            max_df: 1.5,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(bad_max_df.train(&comments, &labels).is_err());
    assert!(ClassifierParams::default().train(&[], &[]).is_err());
}
