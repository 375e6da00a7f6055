//! The classifier a moderation service shares between threads: the fast scoring path agrees
//! with the reference pipeline, learning is exact, and concurrent learning loses nothing.

use comment_sieve::{Classifier, Comment, Label, SharedClassifier};
use std::sync::Arc;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/comments.jsonl");

fn fixture_texts() -> Vec<String> {
    std::fs::read_to_string(FIXTURE)
        .expect("fixture")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture JSON");
            v["text"].as_str().expect("text").to_owned()
        })
        .collect()
}

/// Texts that exercise every normalizer branch: HTML, entities, links, e-mail, numbers,
/// repeats, non-ASCII, NFKC-changing characters, repeated words.
fn tricky_texts() -> Vec<String> {
    [
        "",
        "   ",
        "idiot idiot idiot IDIOT you are an idiot",
        "<p>Great <b>post</b> &amp; thanks!</p> see https://www.example.com/a?b=c",
        "mail me at someone@example.org or @handle, 1,234.5 times",
        "sooooo goooood!!! f*ck f**k don't",
        "Ｆｕｌｌｗｉｄｔｈ text… and ﬁ ligature, café naïve, Ελληνικά ΣΊΣΥΦΟΣ",
        "東京タワー 👍🏽 привет мир नमस्ते",
        "the tax the tax the tax policy policy renters renters renters renters",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `texts` as comments with ids `0`, `1`, ... and the labels in turn (abusive, off-topic,
/// substantive, abusive, ...): training data whose only point is to differ from the corpus.
fn labeled_in_turn(texts: &[String]) -> (Vec<Comment<'_>>, Vec<Label>) {
    let comments = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Comment::new(i.to_string(), t.as_str()))
        .collect();
    let labels = (0..texts.len())
        .map(|i| Label::ALL[i % Label::ALL.len()])
        .collect();
    (comments, labels)
}

fn assert_fast_path_matches_reference(classifier: &Classifier, texts: &[String]) {
    for text in texts {
        let fast = classifier.terms_joint_log_likelihood(text);
        let reference = classifier
            .model()
            .joint_log_likelihood_of(classifier.features(text).iter());
        for (f, r) in fast.iter().zip(&reference) {
            assert!(
                (f - r).abs() <= 1e-9 * r.abs().max(1.0),
                "fast {fast:?} vs reference {reference:?} for {text:?}"
            );
        }
    }
}

#[test]
fn fast_scoring_path_agrees_with_the_reference_pipeline() {
    let classifier = Classifier::embedded().expect("embedded model");
    let mut texts = fixture_texts();
    texts.extend(tricky_texts());
    assert_fast_path_matches_reference(&classifier, &texts);
}

/// Every comment of `../shared/corpus` (all splits): real text, with its HTML, links, numbers,
/// evasions and scripts, scores the same on the fast path as on the reference pipeline.
#[test]
fn fast_scoring_path_agrees_with_the_reference_pipeline_on_the_corpus() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/comments.jsonl"
    );
    let Ok(data) = std::fs::read_to_string(path) else {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    };
    let texts: Vec<String> = data
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("corpus JSON");
            v["text"].as_str().expect("text").to_owned()
        })
        .collect();
    assert!(texts.len() > 15_000, "{} corpus texts", texts.len());
    let classifier = Classifier::embedded().expect("embedded model");
    assert_fast_path_matches_reference(&classifier, &texts);
}

/// Two models with different vocabularies, used in turn on one thread (which keeps one cache
/// of word columns), each score every text as their own reference pipeline does.
#[test]
fn fast_scoring_path_agrees_for_two_models_used_in_turn() {
    let embedded = Classifier::embedded().expect("embedded model");
    let texts = fixture_texts();
    let (comments, labels) = labeled_in_turn(&texts);
    let small = comment_sieve::ClassifierParams::default()
        .train(&comments, &labels)
        .expect("train a small model on the fixture");
    assert_ne!(
        small.vectorizer().vocabulary().len(),
        embedded.vectorizer().vocabulary().len()
    );
    let mut all = texts.clone();
    all.extend(tricky_texts());
    for text in &all {
        for classifier in [&embedded, &small, &embedded] {
            assert_fast_path_matches_reference(classifier, std::slice::from_ref(text));
        }
    }
}

/// A model with targeted pairs (`you>idiot`) scores the same on both paths.
#[test]
fn fast_scoring_path_agrees_with_the_reference_pipeline_with_targeted_pairs() {
    let texts = fixture_texts();
    let (comments, labels) = labeled_in_turn(&texts);
    let mut params = comment_sieve::ClassifierParams::default();
    params.vectorizer.target_window = 4;
    params.vocabulary.min_df = 1;
    params.calibration = comment_sieve::Calibration::None;
    let classifier = params.train(&comments, &labels).expect("train");
    assert!(
        classifier
            .vectorizer()
            .vocabulary()
            .terms()
            .iter()
            .any(|t| t.starts_with("you>")),
        "the fixture has second-person words"
    );
    let mut all = texts.clone();
    all.extend(tricky_texts());
    all.extend(
        [
            "You're such an IDIOT, u know",
            "ur a moron <b>you</b> you you",
            "y'all yourselves yourself ya you've you'll you'd yours your",
            "you",
        ]
        .map(String::from),
    );
    assert_fast_path_matches_reference(&classifier, &all);
}

#[test]
fn fast_scoring_path_follows_learning() {
    let mut classifier = Classifier::embedded().expect("embedded model");
    let texts = fixture_texts();
    let (comments, labels) = labeled_in_turn(&texts);
    for (comment, &label) in comments.iter().zip(&labels) {
        classifier.learn(comment, label).expect("learn");
    }
    let mut all = texts.clone();
    all.extend(tricky_texts());
    assert_fast_path_matches_reference(&classifier, &all);
}

#[test]
fn learn_then_forget_leaves_the_model_file_byte_identical() {
    let original = Classifier::embedded().expect("embedded model").to_bytes();
    let shared = SharedClassifier::new(Classifier::from_bytes(&original).expect("load"));
    let comment = Comment::new("m1", "buy cheap replica watches at my site, best prices");
    shared.learn(&comment, Label::OffTopic).expect("learn");
    assert_ne!(shared.snapshot().to_bytes(), original);
    shared.forget(&comment, Label::OffTopic).expect("forget");
    assert_eq!(shared.snapshot().to_bytes(), original);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("after.model");
    shared.save(&path).expect("save");
    assert_eq!(std::fs::read(&path).expect("read"), original);
    // Forgetting what was never learned fails and changes nothing.
    assert!(shared.forget(&comment, Label::OffTopic).is_err());
    assert_eq!(shared.snapshot().to_bytes(), original);
}

#[test]
fn concurrent_classify_and_learn_lose_no_update() {
    let texts = fixture_texts();
    let decisions: Vec<(Comment<'static>, Label)> = (0..4)
        .flat_map(|round| {
            texts.iter().enumerate().map(move |(i, t)| {
                (
                    Comment::new(format!("{round}-{i}"), format!("{t} round {round}")),
                    Label::ALL[(i + round) % Label::ALL.len()],
                )
            })
        })
        .collect();

    // The same decisions learned one after another, on one thread.
    let mut sequential = Classifier::embedded().expect("embedded model");
    for (comment, label) in &decisions {
        sequential.learn(comment, *label).expect("learn");
    }

    let shared = Arc::new(SharedClassifier::new(
        Classifier::embedded().expect("embedded model"),
    ));
    let learners = 4;
    std::thread::scope(|s| {
        for k in 0..learners {
            let shared = &shared;
            let decisions = &decisions;
            s.spawn(move || {
                for (comment, label) in decisions.iter().skip(k).step_by(learners) {
                    shared.learn(comment, *label).expect("learn");
                }
            });
        }
        for _ in 0..2 {
            let shared = &shared;
            let texts = &texts;
            s.spawn(move || {
                for _ in 0..20 {
                    for text in texts {
                        let p = shared.classify_text(text).probabilities;
                        let sum = p.abusive + p.off_topic + p.substantive;
                        assert!((sum - 1.0).abs() < 1e-9);
                    }
                }
            });
        }
    });
    // Counts are integers, so the order of learning doesn't matter: every update is there.
    assert_eq!(shared.snapshot().to_bytes(), sequential.to_bytes());
}
