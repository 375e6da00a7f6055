//! Normalizes, tokenizes and classifies the fuzz bytes (as lossy UTF-8): no panic, and the
//! probabilities are finite and sum to 1.
#![no_main]

use comment_sieve::{Classifier, Normalizer, Tokenizer};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let normalized = Normalizer::default().normalize(&text);
    for word in Tokenizer.tokenize(&normalized) {
        assert!(!word.is_empty(), "empty token from {normalized:?}");
    }
    let classifier =
        CLASSIFIER.get_or_init(|| Classifier::embedded().expect("the embedded model loads"));
    let p = classifier.classify_text(&text).probabilities.to_array();
    assert!(
        p.iter().all(|x| x.is_finite()),
        "non-finite probabilities {p:?}"
    );
    let sum: f64 = p.iter().sum();
    assert!((sum - 1.0).abs() < 1e-9, "probabilities {p:?} sum to {sum}");
});
