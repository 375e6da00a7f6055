//! Property tests of the embedded classifier: every input gives a well-formed verdict, batches
//! equal one-by-one classification, and nothing depends on the number of threads.

use comment_sieve::{Classifier, Comment, Label, Verdict};
use proptest::prelude::*;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::embedded().expect("the embedded model loads"))
}

/// Checks everything a verdict promises; returns a description of the first problem.
fn check_verdict(v: &Verdict) -> Result<(), String> {
    let p = v.probabilities.to_array();
    for (label, &x) in Label::ALL.iter().zip(&p) {
        if !x.is_finite() || !(0.0..=1.0).contains(&x) {
            return Err(format!("P({label}) = {x}"));
        }
    }
    let sum: f64 = p.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return Err(format!("probabilities sum to {sum}: {p:?}"));
    }
    if v.joint_log_likelihood.iter().any(|x| !x.is_finite()) {
        return Err(format!(
            "joint log-likelihood not finite: {:?}",
            v.joint_log_likelihood
        ));
    }
    let best = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.probabilities.get(v.label) != best {
        return Err(format!("label {} is not the argmax of {p:?}", v.label));
    }
    // The label is also the argmax of the joint log-likelihoods, ties to the earlier label.
    let jll = v.joint_log_likelihood;
    let first_best = Label::ALL
        .into_iter()
        .find(|l| jll[l.index()] == jll.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .unwrap();
    if v.label != first_best {
        return Err(format!("label {} but jll {jll:?}", v.label));
    }
    Ok(())
}

fn bits(v: &Verdict) -> (Label, [u64; 3], [u64; 3]) {
    (
        v.label,
        v.probabilities.to_array().map(f64::to_bits),
        v.joint_log_likelihood.map(f64::to_bits),
    )
}

/// Text mixing HTML, entities, links, e-mail, mentions, emoji, CJK, zero-width and format
/// characters, digits, punctuation and words.
const MIXED: &str = concat!(
    r"(<[a-zA-Z]{1,6}( [a-z]{1,4}=.[a-z:/.]{0,12}.)?>|</[a-z]{1,6}>|<!--|-->|<",
    r"|&[a-zA-Z]{1,8};|&#[0-9]{1,8};|&#[xX][0-9a-fA-F]{1,7};|&",
    r"|(https?|ftp)://(www\.)?[a-z0-9-]{1,10}\.(com|ly|xyz|de)(/[a-zA-Z0-9?=&%_-]{0,10})?",
    r"|www\.[a-z]{1,8}\.org|[a-z]{1,8}\.(com|net|io)/[a-z]{0,5}",
    r"|[a-z]{1,6}@[a-z]{1,6}\.[a-z]{2,3}|@[a-z_]{1,8}",
    r"|[a-zA-Z]{1,12}|[0-9]{1,9}|[0-9]{1,3}[.,][0-9]{1,3}",
    r"|[\x{1F300}-\x{1F64F}\x{1F900}-\x{1F9FF}\x{2600}-\x{27BF}]|[\x{1F3FB}-\x{1F3FF}]",
    r"|[\x{4E00}-\x{9FFF}\x{3040}-\x{30FF}\x{AC00}-\x{D7A3}]{1,4}",
    r"|[\x{200B}-\x{200F}\x{FEFF}\x{00AD}\x{2060}\x{202A}-\x{202E}\x{FE0F}]",
    r"|[\x{FF01}-\x{FF5E}]{1,4}|[àéîõüßẞςΣΟΔ]{1,4}|[\x{0300}-\x{036F}]|[\x{FB00}-\x{FB06}\x{FDFA}]",
    r"|[ \t\n\r\x{00A0}\x{3000}]|[!?.,;:*'\x{2019}\x{2018}()\x{22}#$%^-]{1,3}|\*{1,4}",
    r")*"
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string_gives_a_well_formed_verdict(text in any::<String>()) {
        let v = classifier().classify_text(&text);
        prop_assert_eq!(check_verdict(&v), Ok(()));
    }

    #[test]
    fn mixed_markup_links_emoji_and_cjk_give_a_well_formed_verdict(text in MIXED) {
        let v = classifier().classify(&Comment::new("p", text.as_str()));
        prop_assert_eq!(check_verdict(&v), Ok(()));
        // classify and classify_text agree.
        prop_assert_eq!(bits(&v), bits(&classifier().classify_text(&text)));
    }

    #[test]
    fn raw_bytes_decoded_lossily_give_a_well_formed_verdict(
        bytes in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        let text = String::from_utf8_lossy(&bytes);
        let v = classifier().classify_text(&text);
        prop_assert_eq!(check_verdict(&v), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn classify_batch_equals_classify_one_by_one(
        texts in proptest::collection::vec(
            prop_oneof![any::<String>(), MIXED.prop_map(|s| s)],
            0..40,
        )
    ) {
        let comments: Vec<Comment> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Comment::new(i.to_string(), t.as_str()))
            .collect();
        let batch = classifier().classify_batch(&comments);
        prop_assert_eq!(batch.len(), comments.len());
        for (c, v) in comments.iter().zip(&batch) {
            prop_assert_eq!(bits(v), bits(&classifier().classify(c)));
        }
    }

    #[test]
    fn verdicts_do_not_depend_on_the_thread_count(
        texts in proptest::collection::vec(MIXED, 1..64)
    ) {
        let comments: Vec<Comment> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Comment::new(i.to_string(), t.as_str()))
            .collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| classifier().classify_batch(&comments))
        };
        let one: Vec<_> = run(1).iter().map(bits).collect();
        let four: Vec<_> = run(4).iter().map(bits).collect();
        prop_assert_eq!(&one, &four);
        let sequential: Vec<_> = comments.iter().map(|c| bits(&classifier().classify(c))).collect();
        prop_assert_eq!(&one, &sequential);
    }
}

#[test]
fn thread_count_does_not_change_a_large_batch() {
    let words = [
        "idiot",
        "budget",
        "council",
        "subscribe",
        "http://spam.biz/x",
        "<b>bold</b>",
        "taxes",
        "moron",
        "garden",
        "tomatoes",
        "&amp;",
        "日本",
        "👍",
        "free",
        "gift",
        "cards",
        "you",
    ];
    let texts: Vec<String> = (0..3000)
        .map(|i: usize| {
            (0..(i % 23 + 1))
                .map(|k| words[(i * 7 + k * 13) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let comments: Vec<Comment> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Comment::new(i.to_string(), t.as_str()))
        .collect();
    let run = |threads: usize| -> Vec<_> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| classifier().classify_batch(&comments))
            .iter()
            .map(bits)
            .collect()
    };
    let one = run(1);
    assert_eq!(one, run(4));
    assert_eq!(one, run(3));
    // And the labels are not all the same, so the comparison means something.
    let labels: std::collections::BTreeSet<Label> = one.iter().map(|b| b.0).collect();
    assert!(labels.len() >= 2, "{labels:?}");
}

#[test]
fn workspace_reuse_does_not_leak_between_calls() {
    let c = classifier();
    let short = "Great point about the budget.";
    let fresh = bits(&c.classify_text(short));
    let long = "You are a pathetic idiot. ".repeat(5000);
    let _ = c.classify_text(&long);
    let _ = c.classify_text("日本語のコメント 👍 <b>x</b> &amp;");
    assert_eq!(bits(&c.classify_text(short)), fresh);
    // Same on another thread, whose workspace is new.
    let other = std::thread::spawn(move || bits(&classifier().classify_text(short)))
        .join()
        .unwrap();
    assert_eq!(other, fresh);
}

fn assert_large_input_ok(name: &str, text: &str, limit: Duration) -> Verdict {
    let start = Instant::now();
    let v = classifier().classify_text(text);
    let took = start.elapsed();
    assert_eq!(check_verdict(&v), Ok(()), "{name}");
    assert!(
        took < limit,
        "{name}: classifying {} bytes took {took:?} (limit {limit:?})",
        text.len()
    );
    v
}

#[test]
fn one_megabyte_of_a_repeated_word() {
    let text = "idiot ".repeat((1 << 20) / 6);
    assert!(text.len() >= 1_000_000);
    let v = assert_large_input_ok("1 MB repeated word", &text, Duration::from_secs(5));
    assert_eq!(v.label, Label::Abusive);
}

#[test]
fn five_megabytes_of_random_words() {
    let words = [
        "the",
        "council",
        "budget",
        "idiot",
        "subscribe",
        "channel",
        "tomatoes",
        "frost",
        "www.spam.biz",
        "moron",
        "taxes",
        "renters",
        "light-rail",
        "&amp;",
        "<p>",
        "</p>",
        "2024",
        "👉",
        "日本",
        "café",
        "don't",
        "f*ck",
        "@bob",
        "me@example.com",
    ];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut text = String::with_capacity(5 << 20);
    while text.len() < 5 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(words[(state % words.len() as u64) as usize]);
        text.push(' ');
    }
    assert_large_input_ok("5 MB random words", &text, Duration::from_secs(10));
}

#[test]
fn one_megabyte_without_spaces() {
    // One giant "word" and one giant number.
    let text = "a".repeat(1 << 20);
    assert_large_input_ok("1 MB single letter", &text, Duration::from_secs(5));
    let text = "7".repeat(1 << 20);
    assert_large_input_ok("1 MB of digits", &text, Duration::from_secs(5));
    let text = "\u{200B}".repeat(1 << 18);
    assert_large_input_ok("zero-width only", &text, Duration::from_secs(5));
}

#[test]
fn one_megabyte_of_emoji_and_cjk() {
    let text = "東京タワー👍🏽 ".repeat((1 << 20) / 20);
    assert_large_input_ok("1 MB CJK and emoji", &text, Duration::from_secs(5));
}

#[test]
fn one_megabyte_of_closed_html_and_entities() {
    let text = "<p>hello &amp; <b>world</b> &#233;&#x1F44D; </p>".repeat((1 << 20) / 48);
    assert_large_input_ok("1 MB closed HTML", &text, Duration::from_secs(5));
}

/// Adversarial markup: many `<` that open a tag with no `>` anywhere after them, or many `<!--`
/// with no `-->`. A linear-time HTML stripper handles 1 MB of either in milliseconds; each case
/// runs on its own thread and fails if it has not finished within the limit.
#[test]
fn adversarial_unclosed_tags_stay_fast() {
    let limit = Duration::from_secs(3);
    let cases = [
        ("1 MB of unclosed tags `<a`", "<a".repeat(1 << 19)),
        ("1 MB of unclosed comments `<!--`", "<!--".repeat(1 << 18)),
        ("1 MB of `<` before letters, no `>`", "x<y ".repeat(1 << 18)),
    ];
    let pending: Vec<_> = cases
        .into_iter()
        .map(|(name, text)| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let start = Instant::now();
                let v = classifier().classify_text(&text);
                let _ = tx.send((check_verdict(&v), start.elapsed()));
            });
            (name, rx)
        })
        .collect();
    let start = Instant::now();
    let mut failures = Vec::new();
    for (name, rx) in pending {
        let left = limit.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok((check, took)) => {
                assert_eq!(check, Ok(()), "{name}");
                eprintln!("{name}: {took:?}");
            }
            Err(_) => failures.push(format!("{name}: not done after {limit:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "HTML stripping is slower than linear on unclosed markup: {failures:?}"
    );
}

#[test]
fn empty_and_blank_texts_get_the_prior() {
    for text in [
        "",
        " ",
        "\n\t",
        "\u{200B}\u{FEFF}",
        "<p></p>",
        "!!! ... ???",
    ] {
        let v = classifier().classify_text(text);
        assert_eq!(check_verdict(&v), Ok(()), "{text:?}");
    }
    // No evidence: the verdict is the prior, whatever the (empty) text.
    let a = bits(&classifier().classify_text(""));
    let b = bits(&classifier().classify_text("   "));
    assert_eq!(a, b);
}
