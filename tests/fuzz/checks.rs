//! What each fuzz target checks, shared by the targets in `fuzz_targets/` (nightly) and by
//! `tests/fuzz_regressions.rs`, which replays the corpora on stable.

use comment_sieve::input::{Format, InputOptions, from_reader};
use comment_sieve::model_file::{FORMAT_VERSION, MAGIC, OLDEST_FORMAT_VERSION};
use comment_sieve::{Classifier, Normalizer, Tokenizer};
use std::io::Cursor;
use std::sync::OnceLock;

/// Length of the model-file header.
const HEADER_LEN: usize = 24;

/// The reader targets: read the bytes as `format` (forced) and drain every record.
pub fn read_all(format: Format, data: &[u8]) {
    let options = InputOptions {
        format: Some(format),
        ..Default::default()
    };
    let reader = Box::new(Cursor::new(data.to_vec()));
    if let Ok(input) = from_reader(reader, "fuzz".into(), &options) {
        for record in input {
            let _ = record;
        }
    }
}

/// The `normalize_tokenize` target: normalize, tokenize and classify the bytes as lossy
/// UTF-8; no empty token, the fast scoring path agrees with the reference pipeline, and
/// probabilities finite and summing to 1.
pub fn normalize_tokenize(data: &[u8]) {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    let text = String::from_utf8_lossy(data);
    let normalized = Normalizer::default().normalize(&text);
    for word in Tokenizer.tokenize(&normalized) {
        assert!(!word.is_empty(), "empty token from {normalized:?}");
    }
    let classifier =
        CLASSIFIER.get_or_init(|| Classifier::embedded().expect("the embedded model loads"));
    let verdict = classifier.classify_text(&text);
    // The fast path (normalized pieces, fused scoring table) agrees with the reference
    // pipeline (normalized string, tokenizer, vectorizer, model).
    let fast = classifier.terms_joint_log_likelihood(&text);
    let reference = classifier
        .model()
        .joint_log_likelihood_of(classifier.features(&text).iter());
    for (f, slow) in fast.iter().zip(&reference) {
        assert!(
            (f - slow).abs() <= 1e-9 * slow.abs().max(1.0),
            "fast path {fast:?} vs reference {reference:?}"
        );
    }
    let p = verdict.probabilities.to_array();
    assert!(
        p.iter().all(|x| x.is_finite()),
        "non-finite probabilities {p:?}"
    );
    let sum: f64 = p.iter().sum();
    assert!((sum - 1.0).abs() < 1e-9, "probabilities {p:?} sum to {sum}");
}

/// The `model_loader` target: decode the bytes as a model file, then the bytes after the
/// header under a correct header of each readable version (length and CRC-32 fixed up), so mutations reach the body
/// decoder instead of stopping at the checksum. `Ok` or `Err`, never a panic.
pub fn model_loader(data: &[u8]) {
    let _ = Classifier::from_bytes(data);
    if let Some(body) = data.get(HEADER_LEN..) {
        // Every version this build reads: their bodies decode differently.
        for version in OLDEST_FORMAT_VERSION..=FORMAT_VERSION {
            let mut file = Vec::with_capacity(data.len());
            file.extend_from_slice(&MAGIC);
            file.extend_from_slice(&version.to_le_bytes());
            file.extend_from_slice(&[0, 0]);
            file.extend_from_slice(&(body.len() as u64).to_le_bytes());
            file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
            file.extend_from_slice(body);
            let _ = Classifier::from_bytes(&file);
        }
    }
}
