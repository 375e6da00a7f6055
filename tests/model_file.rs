//! The model file: round trips, integrity checks on corrupted files, and reproducibility.

use comment_sieve::model_file::{
    FORMAT_VERSION, FORMAT_VERSION_WITHOUT_TARGETS, MAGIC, MAX_BODY_LEN,
};
use comment_sieve::{
    ClassFrequencies, ClassPriors, Classifier, ClassifierParams, Comment, Label, ModelError,
    ModelInfo, NaiveBayesKind, NormalizerConfig, VectorizerConfig, VocabularyParams,
};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

const HEADER_LEN: usize = 24;

fn embedded() -> &'static [u8] {
    Classifier::embedded_bytes()
}

fn decode(bytes: &[u8]) -> Result<Classifier, ModelError> {
    // A panic here is a test failure with a clear message, not an abort of the whole binary.
    std::panic::catch_unwind(|| Classifier::from_bytes(bytes))
        .unwrap_or_else(|_| panic!("from_bytes panicked on {} bytes", bytes.len()))
}

fn body_len_field(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[12..20].try_into().unwrap())
}

/// A file with `body` and a correct header (version 7, the version of [`Body`]).
fn with_header(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// A mirror of the model file's version-7 body as documented in `src/model_file.rs` (postcard
/// is not self-describing, so field order and types must match): the version-1 body, then the
/// temperature, then the context features, then whether the normalizer folds evasions, then
/// the target window, then the edges of the metadata tokens (link count, author URL), then the
/// class frequencies of supervised term weighting. Used to
/// craft bodies that pass the checksum but hold inconsistent content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Body {
    info: ModelInfo,
    labels: Vec<String>,
    normalizer: NormalizerConfig,
    vectorizer: VectorizerConfig,
    n_documents: u64,
    terms: Vec<String>,
    document_frequency: Vec<u32>,
    naive_bayes: NaiveBayesMirror,
    class_documents: [u64; 3],
    feature_counts: Vec<[u64; 3]>,
    temperature: Option<f64>,
    context: ContextMirror,
    fold_evasions: bool,
    target_window: u8,
    metadata_edges: [Option<Vec<f64>>; 2],
    class_frequencies: ClassFrequencies,
}

/// The number of bytes the parts after the fold-evasions flag take in `body`.
fn bytes_after_fold_flag(body: &Body) -> usize {
    postcard::to_stdvec(&(
        body.target_window,
        &body.metadata_edges,
        &body.class_frequencies,
    ))
    .unwrap()
    .len()
}

/// The number of bytes the class frequencies (the version-7 part) take in `body`.
fn class_frequency_bytes(body: &Body) -> usize {
    postcard::to_stdvec(&body.class_frequencies).unwrap().len()
}

/// The stored [`comment_sieve::ContextFeatures`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ContextMirror {
    weight: f64,
    scoring: comment_sieve::ContextScoring,
    edges: [Option<Vec<f64>>; 3],
}

/// The version-2 body: the version-3 body without the context features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BodyV2 {
    v1: BodyV1,
    temperature: Option<f64>,
}

/// The version-1 body: the version-2 body without the temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct BodyV1 {
    info: ModelInfo,
    labels: Vec<String>,
    normalizer: NormalizerConfig,
    vectorizer: VectorizerConfig,
    n_documents: u64,
    terms: Vec<String>,
    document_frequency: Vec<u32>,
    naive_bayes: NaiveBayesMirror,
    class_documents: [u64; 3],
    feature_counts: Vec<[u64; 3]>,
}

impl From<Body> for BodyV1 {
    fn from(b: Body) -> Self {
        BodyV1 {
            info: b.info,
            labels: b.labels,
            normalizer: b.normalizer,
            vectorizer: b.vectorizer,
            n_documents: b.n_documents,
            terms: b.terms,
            document_frequency: b.document_frequency,
            naive_bayes: b.naive_bayes,
            class_documents: b.class_documents,
            feature_counts: b.feature_counts,
        }
    }
}

/// A file of format `version` with `body` and an otherwise correct header.
fn with_version(version: u16, body: &[u8]) -> Vec<u8> {
    let mut bytes = with_header(body);
    bytes[8..10].copy_from_slice(&version.to_le_bytes());
    bytes
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct NaiveBayesMirror {
    alpha: f64,
    priors: ClassPriors,
    kind: NaiveBayesKind,
}

fn embedded_body() -> Body {
    let body: Body = postcard::from_bytes(&embedded()[HEADER_LEN..]).expect("mirror decodes");
    // The mirror must be exact: re-encoding gives the original bytes.
    assert_eq!(
        postcard::to_stdvec(&body).unwrap(),
        &embedded()[HEADER_LEN..],
        "the test's mirror of the model body is out of date"
    );
    body
}

fn encode_body(body: &Body) -> Vec<u8> {
    with_header(&postcard::to_stdvec(body).unwrap())
}

// ---------------------------------------------------------------------------------------------
// (a) round trips

#[test]
fn from_bytes_then_to_bytes_is_the_identity() {
    let c = Classifier::embedded().unwrap();
    let bytes = c.to_bytes();
    assert_eq!(
        bytes,
        embedded(),
        "re-encoding the embedded model changes it"
    );
    let again = Classifier::from_bytes(&bytes).unwrap();
    assert_eq!(again.to_bytes(), bytes);
}

#[test]
fn save_then_load_gives_identical_bytes_and_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    let c = Classifier::embedded().unwrap();
    c.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), c.to_bytes());
    let loaded = Classifier::load(&path).unwrap();
    assert_eq!(loaded.to_bytes(), c.to_bytes());
    assert_eq!(loaded.info(), c.info());
    for text in [
        "You are a pathetic idiot and everyone hates you",
        "Subscribe to my channel for free gift cards!!! http://bit.ly/xyz",
        "The article ignores how the tax change affects renters.",
        "",
        "日本語 👍 <b>bold</b> &amp; 42",
    ] {
        assert_eq!(
            loaded.classify_text(text),
            c.classify_text(text),
            "{text:?}"
        );
    }
    // Only the model file is left: no temporary file beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["model.bin"]);

    // Saving again over the same path replaces it, still leaving one file.
    c.save(&path).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(std::fs::read(&path).unwrap(), c.to_bytes());
}

#[test]
fn save_into_a_missing_directory_is_an_io_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("model.bin");
    let err = Classifier::embedded().unwrap().save(&path).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("model.bin"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn load_of_a_missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.model");
    let err = Classifier::load(&path).unwrap_err();
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.model"), "{err}");
}

#[test]
fn load_checks_the_file_like_from_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.model");
    let mut bytes = embedded().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        Classifier::load(&path),
        Err(ModelError::Checksum { .. })
    ));
    std::fs::write(&path, b"").unwrap();
    assert!(Classifier::load(&path).is_err());
}

// ---------------------------------------------------------------------------------------------
// (b) integrity

#[test]
fn the_embedded_header_is_as_documented() {
    let b = embedded();
    assert_eq!(&b[..8], &MAGIC);
    // The default model has link tokens: version 6.
    assert_eq!(u16::from_le_bytes([b[8], b[9]]), FORMAT_VERSION);
    assert_eq!(&b[10..12], &[0, 0]);
    assert_eq!(body_len_field(b), (b.len() - HEADER_LEN) as u64);
    assert_eq!(
        u32::from_le_bytes(b[20..24].try_into().unwrap()),
        crc32fast::hash(&b[HEADER_LEN..])
    );
}

#[test]
fn empty_and_short_files_are_refused() {
    // Shorter than the magic: nothing identifies the file, so bad magic or truncated both
    // describe it; it must be one of the two.
    for len in [0, 1, 4, 7] {
        let err = decode(&embedded()[..len]).unwrap_err();
        assert!(
            matches!(err, ModelError::BadMagic | ModelError::Truncated { .. }),
            "{len} bytes: {err:?}"
        );
    }
    // The magic is there but the header is cut short.
    for len in [8, 9, 10, 12, 16, 20, 23] {
        let err = decode(&embedded()[..len]).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::Truncated {
                    expected: 24,
                    found
                } if found == len as u64
            ),
            "{len} bytes: {err:?}"
        );
    }
}

#[test]
fn a_truncated_body_is_refused_as_truncated() {
    let full = embedded();
    let body_len = (full.len() - HEADER_LEN) as u64;
    for cut in [
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + 100,
        full.len() / 2,
        full.len() - 1000,
        full.len() - 1,
    ] {
        let err = decode(&full[..cut]).unwrap_err();
        match err {
            ModelError::Truncated { expected, found } => {
                assert_eq!(expected, body_len, "cut at {cut}");
                assert_eq!(found, (cut - HEADER_LEN) as u64, "cut at {cut}");
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn a_flipped_bit_in_the_body_is_a_checksum_error() {
    let full = embedded();
    let n = full.len();
    for offset in [
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + 37,
        n / 3,
        n / 2,
        2 * n / 3,
        n - 2,
        n - 1,
    ] {
        for bit in [0, 3, 7] {
            let mut bytes = full.to_vec();
            bytes[offset] ^= 1 << bit;
            let err = decode(&bytes).unwrap_err();
            assert!(
                matches!(err, ModelError::Checksum { expected, found } if expected != found),
                "offset {offset} bit {bit}: {err:?}"
            );
        }
    }
}

#[test]
fn flipped_bits_in_the_header_are_caught() {
    let full = embedded();
    let flip = |offset: usize, bit: u8| {
        let mut bytes = full.to_vec();
        bytes[offset] ^= 1 << bit;
        decode(&bytes).unwrap_err()
    };
    for offset in 0..8 {
        assert!(
            matches!(flip(offset, 2), ModelError::BadMagic),
            "magic byte {offset}"
        );
    }
    for (offset, bit) in [(8, 0), (8, 7), (9, 0), (9, 7)] {
        match flip(offset, bit) {
            ModelError::UnsupportedVersion { found, supported } => {
                assert_eq!(supported, FORMAT_VERSION);
                assert_ne!(found, FORMAT_VERSION);
            }
            // A flip to another version this build reads (7 -> 6): the body then holds the
            // class frequencies, which that version does not have.
            ModelError::Decode(_) | ModelError::Invalid(_) => {
                assert_eq!((offset, bit), (8, 0));
            }
            other => panic!("version byte {offset} bit {bit}: {other:?}"),
        }
    }
    let body_len = body_len_field(full);
    // Low bits of the length: the body is then shorter or longer than the file.
    for (offset, bit) in [(12, 0), (12, 3), (13, 1), (14, 0)] {
        let err = flip(offset, bit);
        let flipped = body_len ^ (1u64 << ((offset - 12) * 8 + bit as usize));
        if flipped > body_len {
            assert!(
                matches!(err, ModelError::Truncated { expected, .. } if expected == flipped),
                "length byte {offset} bit {bit}: {err:?}"
            );
        } else {
            assert!(
                matches!(err, ModelError::TrailingBytes(n) if n == body_len - flipped),
                "length byte {offset} bit {bit}: {err:?}"
            );
        }
    }
    // High bits of the length: larger than any body allowed.
    for (offset, bit) in [(16, 0), (19, 7)] {
        assert!(
            matches!(flip(offset, bit), ModelError::TooLarge(_)),
            "length byte {offset} bit {bit}"
        );
    }
    for offset in 20..24 {
        assert!(
            matches!(flip(offset, 5), ModelError::Checksum { .. }),
            "checksum byte {offset}"
        );
    }
}

#[test]
fn wrong_magic_is_refused() {
    for magic in [
        *b"CSIEVEMX",
        *b"csievemd",
        *b"\0\0\0\0\0\0\0\0",
        *b"PK\x03\x04abcd",
    ] {
        let mut bytes = embedded().to_vec();
        bytes[..8].copy_from_slice(&magic);
        assert!(matches!(decode(&bytes), Err(ModelError::BadMagic)));
    }
    assert!(matches!(
        decode(b"{\"not\": \"a model\"}"),
        Err(ModelError::BadMagic)
    ));
}

#[test]
fn the_embedded_model_is_calibrated() {
    let c = Classifier::embedded().unwrap();
    let t = c
        .temperature()
        .expect("the default model has a temperature");
    assert!(t.is_finite() && t > 1.0, "{t}");
    assert_eq!(embedded_body().temperature, Some(t));
}

#[test]
fn version_1_files_still_load_without_a_temperature() {
    // Version 1 has no context features: the embedded model's counts without their columns.
    let body = embedded_body();
    let v1 = BodyV1 {
        feature_counts: body.feature_counts[..body.terms.len()].to_vec(),
        ..BodyV1::from(body.clone())
    };
    let bytes = with_version(1, &postcard::to_stdvec(&v1).unwrap());
    let old = decode(&bytes).expect("a version-1 file loads");
    assert_eq!(old.temperature(), None);
    let v2 = BodyV2 {
        v1: v1.clone(),
        temperature: body.temperature,
    };
    let new = decode(&with_version(2, &postcard::to_stdvec(&v2).unwrap())).unwrap();
    for text in [
        "You are a pathetic idiot",
        "Subscribe to my channel http://spam.example",
        "The budget cuts will hurt rural schools the most.",
    ] {
        let (a, b) = (old.classify_text(text), new.classify_text(text));
        assert_eq!(a.label, b.label, "{text}");
        assert_eq!(a.joint_log_likelihood, b.joint_log_likelihood, "{text}");
        let raw = comment_sieve::probabilities_from_log(&a.joint_log_likelihood);
        assert_eq!(a.probabilities.to_array(), raw, "{text}");
    }
    // Re-encoding writes the current version for a model without targeted pairs.
    assert_eq!(
        u16::from_le_bytes(old.to_bytes()[8..10].try_into().unwrap()),
        FORMAT_VERSION_WITHOUT_TARGETS
    );
    // A version-1 body with anything after it is refused.
    let mut longer = postcard::to_stdvec(&v1).unwrap();
    longer.push(0);
    let err = decode(&with_version(1, &longer)).unwrap_err();
    assert!(matches!(err, ModelError::Invalid(_)), "{err:?}");
}

#[test]
fn a_version_2_body_without_its_temperature_is_a_decode_error() {
    let v1 = BodyV1::from(embedded_body());
    let err = decode(&with_version(2, &postcard::to_stdvec(&v1).unwrap())).unwrap_err();
    assert!(matches!(err, ModelError::Decode(_)), "{err:?}");
}

#[test]
fn bad_temperatures_and_bytes_after_the_temperature_are_invalid() {
    for t in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0, -0.0] {
        let body = Body {
            temperature: Some(t),
            ..embedded_body()
        };
        let err = decode(&encode_body(&body)).unwrap_err();
        assert!(
            matches!(err, ModelError::Invalid(_)),
            "temperature {t}: {err:?}"
        );
    }
    let uncalibrated = Body {
        temperature: None,
        ..embedded_body()
    };
    assert_eq!(
        decode(&encode_body(&uncalibrated)).unwrap().temperature(),
        None
    );
    let mut longer = postcard::to_stdvec(&embedded_body()).unwrap();
    longer.extend_from_slice(b"xyz");
    let err = decode(&with_header(&longer)).unwrap_err();
    assert!(
        matches!(&err, ModelError::Invalid(m) if m.contains("3 unexpected bytes")),
        "{err:?}"
    );
}

#[test]
fn uncalibrated_training_gives_no_temperature_and_the_same_labels() {
    let (mut comments, mut labels) = synthetic();
    let (more, more_labels) = synthetic();
    comments.extend(
        more.into_iter()
            .map(|c| Comment::new(format!("{}-again", c.id), c.text.into_owned())),
    );
    labels.extend(more_labels);
    assert!(comments.len() >= comment_sieve::calibrate::MIN_CALIBRATION_ROWS);
    let calibrated = ClassifierParams::default()
        .train(&comments, &labels)
        .unwrap();
    let raw = ClassifierParams {
        calibration: comment_sieve::Calibration::None,
        ..ClassifierParams::default()
    }
    .train(&comments, &labels)
    .unwrap();
    assert!(calibrated.temperature().is_some());
    assert_eq!(raw.temperature(), None);
    for c in &comments {
        let (a, b) = (calibrated.classify(c), raw.classify(c));
        assert_eq!(a.label, b.label);
        assert_eq!(a.joint_log_likelihood, b.joint_log_likelihood);
    }
    let back = Classifier::from_bytes(&raw.to_bytes()).unwrap();
    assert_eq!(back.temperature(), None);
}

#[test]
fn wrong_version_is_refused_with_both_versions() {
    for version in [0u16, FORMAT_VERSION + 1, 0x0100, u16::MAX] {
        let mut bytes = embedded().to_vec();
        bytes[8..10].copy_from_slice(&version.to_le_bytes());
        match decode(&bytes) {
            Err(ModelError::UnsupportedVersion { found, supported }) => {
                assert_eq!(found, version);
                assert_eq!(supported, FORMAT_VERSION);
                let msg = ModelError::UnsupportedVersion { found, supported }.to_string();
                assert!(msg.contains(&version.to_string()), "{msg}");
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
}

#[test]
fn oversized_or_wrong_body_lengths_are_refused() {
    let set_len = |len: u64| {
        let mut bytes = embedded().to_vec();
        bytes[12..20].copy_from_slice(&len.to_le_bytes());
        decode(&bytes).unwrap_err()
    };
    assert!(matches!(set_len(u64::MAX), ModelError::TooLarge(u64::MAX)));
    assert!(matches!(
        set_len(MAX_BODY_LEN + 1),
        ModelError::TooLarge(n) if n == MAX_BODY_LEN + 1
    ));
    let present = (embedded().len() - HEADER_LEN) as u64;
    // Within the limit but longer than the file.
    for len in [present + 1, present * 2, MAX_BODY_LEN] {
        match set_len(len) {
            ModelError::Truncated { expected, found } => {
                assert_eq!(expected, len);
                assert_eq!(found, present);
            }
            other => panic!("length {len}: {other:?}"),
        }
    }
    // Shorter than the body: the rest is trailing bytes.
    assert!(matches!(set_len(present - 5), ModelError::TrailingBytes(5)));
    assert!(matches!(set_len(0), ModelError::TrailingBytes(n) if n == present));
}

#[test]
fn trailing_bytes_are_refused() {
    for extra in [&b"\0"[..], b"\n", b"trailing garbage", &[0xFF; 1000]] {
        let mut bytes = embedded().to_vec();
        bytes.extend_from_slice(extra);
        assert!(
            matches!(decode(&bytes), Err(ModelError::TrailingBytes(n)) if n == extra.len() as u64),
            "{} extra bytes",
            extra.len()
        );
    }
}

#[test]
fn a_header_alone_with_an_empty_body_is_a_decode_error() {
    let err = decode(&with_header(&[])).unwrap_err();
    assert!(matches!(err, ModelError::Decode(_)), "{err:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bodies with a correct length and checksum: refused as undecodable or invalid,
    /// never a panic or a huge allocation.
    #[test]
    fn garbage_body_with_a_valid_checksum_is_a_decode_or_invalid_error(
        body in proptest::collection::vec(any::<u8>(), 0..2048)
    ) {
        match decode(&with_header(&body)) {
            Err(ModelError::Decode(_) | ModelError::Invalid(_)) => {}
            other => prop_assert!(false, "unexpected {:?}", other.map(|_| "a model")),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The real body with a few bytes overwritten, and the checksum recomputed: either refused
    /// as undecodable or invalid, or a model that classifies to finite probabilities.
    #[test]
    fn mutated_real_body_with_a_valid_checksum_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)
    ) {
        let mut body = embedded()[HEADER_LEN..].to_vec();
        for (at, value) in edits {
            let i = at.index(body.len());
            body[i] = value;
        }
        match decode(&with_header(&body)) {
            Err(ModelError::Decode(_) | ModelError::Invalid(_)) => {}
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            Ok(c) => {
                let v = c.classify_text("You idiot, subscribe to my channel about the budget");
                let sum: f64 = v.probabilities.to_array().iter().sum();
                prop_assert!(v.probabilities.to_array().iter().all(|p| p.is_finite()));
                prop_assert!((sum - 1.0).abs() < 1e-9);
            }
        }
    }
}

/// Huge declared lengths inside the body (a vector claiming billions of entries) are refused
/// without allocating for them.
#[test]
fn huge_collection_lengths_inside_a_body_are_refused() {
    // postcard varint for a length of about 2^62, followed by almost nothing.
    let mut body = vec![0u8; 3]; // empty info strings
    body.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F]);
    body.extend_from_slice(b"abc");
    let err = decode(&with_header(&body)).unwrap_err();
    assert!(
        matches!(err, ModelError::Decode(_) | ModelError::Invalid(_)),
        "{err:?}"
    );
}

#[test]
fn crafted_bodies_with_inconsistent_content_are_invalid() {
    let original = embedded_body();
    assert!(Classifier::from_bytes(&encode_body(&original)).is_ok());

    let invalid = |what: &str, body: Body| {
        let err = decode(&encode_body(&body)).unwrap_err();
        assert!(matches!(err, ModelError::Invalid(_)), "{what}: {err:?}");
        err.to_string()
    };

    let mut b = original.clone();
    b.labels.swap(0, 1);
    invalid("labels in another order", b);

    let mut b = original.clone();
    b.labels.pop();
    invalid("two labels", b);

    let mut b = original.clone();
    b.feature_counts.pop();
    invalid("one feature count missing", b);

    let mut b = original.clone();
    b.document_frequency.pop();
    invalid("one document frequency missing", b);

    let mut b = original.clone();
    let first = b.terms[0].clone();
    b.terms[1] = first;
    invalid("a duplicate term", b);

    let mut b = original.clone();
    b.vectorizer.ngram_range = (0, 2);
    invalid("n-gram range from 0", b);

    let mut b = original.clone();
    b.vectorizer.ngram_range = (3, 2);
    invalid("empty n-gram range", b);

    for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut b = original.clone();
        b.naive_bayes.alpha = alpha;
        invalid(&format!("alpha {alpha}"), b);
    }

    for weights in [[0.0, 1.0, 1.0], [f64::NAN, 1.0, 1.0], [-1.0, 2.0, 2.0]] {
        let mut b = original.clone();
        b.naive_bayes.priors = ClassPriors::Fixed(weights);
        invalid(&format!("fixed priors {weights:?}"), b);
    }

    let mut b = original.clone();
    b.feature_counts[0][1] = u64::MAX;
    let msg = invalid("a class's feature counts overflow", b);
    assert!(msg.contains("overflow"), "{msg}");
}

// The decoder refuses feature counts whose per-class sum overflows u64 ("feature counts
// overflow"). The same must hold for the other sums the model takes over stored counts: the
// number of training documents over classes (learned priors) and, for complement naive Bayes, a
// feature's count over classes and the class totals over classes. Otherwise a checksum-valid
// file panics on load in a build with overflow checks (debug), or silently loads as a nonsense
// model without them (release).

#[test]
fn crafted_class_documents_overflowing_u64_are_invalid() {
    let mut b = embedded_body();
    b.naive_bayes.priors = ClassPriors::Learned;
    b.class_documents = [u64::MAX, 2, 2];
    let result = decode(&encode_body(&b));
    assert!(
        matches!(result, Err(ModelError::Invalid(_))),
        "class documents summing past u64::MAX with learned priors: {:?}",
        result.map(|c| c.classify_text("hello").probabilities)
    );
}

#[test]
fn crafted_complement_counts_overflowing_u64_are_invalid() {
    let mut b = embedded_body();
    b.naive_bayes.kind = NaiveBayesKind::Complement;
    // Each class total stays below u64::MAX, but the feature's count over all classes does not.
    let big = u64::MAX / 2;
    for counts in b.feature_counts.iter_mut() {
        *counts = [0, 0, 0];
    }
    b.feature_counts[0] = [big, big, big];
    let result = decode(&encode_body(&b));
    assert!(
        matches!(result, Err(ModelError::Invalid(_))),
        "complement counts summing past u64::MAX: {:?}",
        result.map(|c| c.classify_text("hello").probabilities)
    );
}

// ---------------------------------------------------------------------------------------------
// (c) determinism

fn synthetic() -> (Vec<Comment<'static>>, Vec<Label>) {
    let abusive = [
        "you are an idiot",
        "what a moron you are",
        "shut up you pathetic loser",
        "nobody cares idiot",
        "you clueless moron",
        "pathetic idiot troll",
    ];
    let off_topic = [
        "subscribe to my channel",
        "buy cheap pills at pills.com",
        "free gift cards click here http://spam.biz",
        "check out my channel and subscribe",
        "earn money from home click here",
        "cheap pills free shipping",
    ];
    let substantive = [
        "the budget cuts will hurt schools",
        "the council should publish the projections",
        "renters pay more under the new tax change",
        "the projections for the budget were wrong",
        "schools need the council to act on the budget",
        "the tax change affects renters and schools",
    ];
    let mut comments = Vec::new();
    let mut labels = Vec::new();
    for round in 0..4 {
        for (texts, label) in [
            (&abusive, Label::Abusive),
            (&off_topic, Label::OffTopic),
            (&substantive, Label::Substantive),
        ] {
            for (k, text) in texts.iter().enumerate() {
                let id = format!("{label}-{round}-{k}");
                let text = if round % 2 == 0 {
                    text.to_string()
                } else {
                    format!("{text} {}", texts[(k + round) % texts.len()])
                };
                comments.push(Comment::new(id, text));
                labels.push(label);
            }
        }
    }
    (comments, labels)
}

fn train_in_pool(threads: usize, comments: &[Comment<'_>], labels: &[Label]) -> Vec<u8> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| ClassifierParams::default().train(comments, labels))
        .unwrap()
        .to_bytes()
}

#[test]
fn training_is_reproducible_byte_for_byte() {
    let (comments, labels) = synthetic();
    let a = ClassifierParams::default()
        .train(&comments, &labels)
        .unwrap()
        .to_bytes();
    let b = ClassifierParams::default()
        .train(&comments, &labels)
        .unwrap()
        .to_bytes();
    assert_eq!(a, b);
    assert_eq!(train_in_pool(1, &comments, &labels), a);
    assert_eq!(train_in_pool(2, &comments, &labels), a);
    // The model is real: it decodes and separates the classes it was trained on.
    let c = Classifier::from_bytes(&a).unwrap();
    assert!(c.vectorizer().vocabulary().len() > 10);
    assert_eq!(c.classify_text("you pathetic moron").label, Label::Abusive);
    assert_eq!(
        c.classify_text("subscribe to my channel").label,
        Label::OffTopic
    );
    assert_eq!(
        c.classify_text("the council budget for schools").label,
        Label::Substantive
    );
}

#[test]
fn training_on_more_than_one_chunk_is_reproducible_across_thread_counts() {
    // Enough rows that the vocabulary is counted in several parallel chunks.
    let (base, base_labels) = synthetic();
    let mut comments = Vec::new();
    let mut labels = Vec::new();
    for i in 0..1200 {
        let k = (i * 7) % base.len();
        comments.push(Comment::new(
            i.to_string(),
            format!("{} w{} w{}", base[k].text, i % 97, i % 13),
        ));
        labels.push(base_labels[k]);
    }
    let params = ClassifierParams {
        vocabulary: VocabularyParams {
            min_df: 2,
            max_df: 0.9,
            max_features: Some(150),
        },
        ..Default::default()
    };
    let train = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| params.train(&comments, &labels))
            .unwrap()
            .to_bytes()
    };
    let one = train(1);
    assert_eq!(train(2), one);
    assert_eq!(train(4), one);
    assert_eq!(
        Classifier::from_bytes(&one)
            .unwrap()
            .vectorizer()
            .vocabulary()
            .len(),
        150
    );
}

// ---------------------------------------------------------------------------------------------
// (d) the shared corpus, when present

fn corpus_path() -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/comments.jsonl");
    path.exists().then_some(path)
}

#[test]
fn training_on_the_corpus_is_reproducible() {
    let Some(path) = corpus_path() else {
        eprintln!("skipping: ../shared/corpus not found");
        return;
    };
    let rows = comment_sieve::corpus::read_labeled(
        &path,
        &comment_sieve::corpus::SplitFilter::parse("train"),
    )
    .unwrap();
    assert!(rows.len() > 1000, "{} train rows", rows.len());
    let (comments, labels): (Vec<Comment>, Vec<Label>) = rows.into_iter().unzip();
    let a = ClassifierParams::default()
        .train(&comments, &labels)
        .unwrap()
        .to_bytes();
    let b = train_in_pool(3, &comments, &labels);
    assert_eq!(a, b, "two trainings on the corpus differ");
    // It decodes and re-encodes to itself.
    assert_eq!(Classifier::from_bytes(&a).unwrap().to_bytes(), a);
}

// ---------------------------------------------------------------------------------------------
// (e) learn / forget

#[test]
fn learn_then_forget_restores_the_model_byte_for_byte() {
    let original = Classifier::embedded().unwrap();
    let bytes = original.to_bytes();
    let mut c = original.clone();
    let comments = [
        (
            Comment::new(
                "x1",
                "You are a clueless idiot, crawl back under your rock.",
            ),
            Label::Abusive,
        ),
        (
            Comment::new(
                "x2",
                "Check out my channel for daily vlogs www.youtube.com/c/x",
            ),
            Label::OffTopic,
        ),
        (
            Comment::new("x3", "The ridership projections were off by half in 2019."),
            Label::Substantive,
        ),
        (Comment::new("x4", ""), Label::Substantive),
        (
            Comment::new("x5", "zzzqqq unknownword only"),
            Label::Abusive,
        ),
    ];
    for (comment, label) in &comments {
        c.learn(comment, *label).unwrap();
    }
    assert_ne!(c.to_bytes(), bytes, "learning changed nothing");
    // Forget in another order than learned.
    for (comment, label) in comments.iter().rev() {
        c.forget(comment, *label).unwrap();
    }
    assert_eq!(c.to_bytes(), bytes);
    assert_eq!(c.model(), original.model());
    let text = "The ridership projections were off by half in 2019.";
    assert_eq!(c.classify_text(text), original.classify_text(text));
}

#[test]
fn forget_of_an_unlearned_comment_fails_and_changes_nothing() {
    let (comments, labels) = synthetic();
    let mut c = ClassifierParams::default()
        .train(&comments, &labels)
        .unwrap();
    let bytes = c.to_bytes();
    let stranger = Comment::new("s", "you pathetic idiot moron loser");
    // Forgetting it as a class that has never seen these words.
    assert!(c.forget(&stranger, Label::Substantive).is_err());
    assert_eq!(c.to_bytes(), bytes);
    // Learning it then forgetting it twice: the second forget fails, changing nothing.
    c.learn(&stranger, Label::Substantive).unwrap();
    c.forget(&stranger, Label::Substantive).unwrap();
    assert_eq!(c.to_bytes(), bytes);
    assert!(c.forget(&stranger, Label::Substantive).is_err());
    assert_eq!(c.to_bytes(), bytes);
}

// ---------------------------------------------------------------------------------------------
// context features (version 3)

#[test]
fn the_embedded_model_stores_its_context_features() {
    let body = embedded_body();
    let c = Classifier::embedded().unwrap();
    assert!(c.context().is_active());
    assert_eq!(body.context.weight, c.context().weight());
    let n_context = c.context().n_columns();
    assert_eq!(body.feature_counts.len(), body.terms.len() + n_context);
}

#[test]
fn version_2_files_still_load_without_context_features() {
    // A version-2 file of a model trained without context features.
    let body = embedded_body();
    let n_terms = body.terms.len();
    let v1 = BodyV1 {
        feature_counts: body.feature_counts[..n_terms].to_vec(),
        ..BodyV1::from(body.clone())
    };
    let v2 = BodyV2 {
        v1,
        temperature: body.temperature,
    };
    let old = decode(&with_version(2, &postcard::to_stdvec(&v2).unwrap())).expect("v2 loads");
    assert!(!old.context().is_active());
    assert_eq!(old.temperature(), body.temperature);
    let thread = [
        Comment::new("a", "The budget cuts will hurt schools.").with_post_id("p"),
        Comment::new("b", "Schools need the budget.").with_post_id("p"),
    ];
    // Without context features, batch and single verdicts agree.
    assert_eq!(old.classify_batch(&thread)[0], old.classify(&thread[0]));
    assert_eq!(
        u16::from_le_bytes(old.to_bytes()[8..10].try_into().unwrap()),
        FORMAT_VERSION_WITHOUT_TARGETS
    );
    // The embedded model's counts in a version-2 file: the context columns are extra.
    let mut v2_full = v2.clone();
    v2_full.v1.feature_counts = body.feature_counts.clone();
    let err = decode(&with_version(2, &postcard::to_stdvec(&v2_full).unwrap())).unwrap_err();
    assert!(
        matches!(&err, ModelError::Invalid(m) if m.contains("context columns")),
        "{err:?}"
    );
}

#[test]
fn a_version_3_body_without_its_context_features_is_a_decode_error() {
    let body = embedded_body();
    let v2 = BodyV2 {
        v1: BodyV1::from(body.clone()),
        temperature: body.temperature,
    };
    let err = decode(&with_version(3, &postcard::to_stdvec(&v2).unwrap())).unwrap_err();
    assert!(matches!(err, ModelError::Decode(_)), "{err:?}");
    // Cut inside the context part and the parts after it (every byte up to the class
    // frequencies, whose hundreds of kilobytes are cut at a sample of places).
    let full = postcard::to_stdvec(&body).unwrap();
    let v2_len = postcard::to_stdvec(&v2).unwrap().len();
    let frequencies_start = full.len() - class_frequency_bytes(&body);
    let cuts = (v2_len + 1..=frequencies_start)
        .chain((frequencies_start..full.len()).step_by(4099))
        .chain(full.len() - 3..full.len());
    for cut in cuts {
        let err = decode(&with_header(&full[..cut])).unwrap_err();
        assert!(
            matches!(err, ModelError::Decode(_) | ModelError::Invalid(_)),
            "cut at {cut}: {err:?}"
        );
    }
}

#[test]
fn bad_context_features_are_invalid() {
    let body = embedded_body();
    let edges = body.context.edges[2].clone().unwrap();
    let mut decreasing = edges.clone();
    decreasing.reverse();
    let bad = [
        ContextMirror {
            weight: 0.0,
            ..body.context.clone()
        },
        ContextMirror {
            weight: f64::NAN,
            ..body.context.clone()
        },
        ContextMirror {
            edges: [None, None, Some(decreasing)],
            ..body.context.clone()
        },
        ContextMirror {
            edges: [None, None, Some(vec![f64::INFINITY; edges.len()])],
            ..body.context.clone()
        },
        // One bucket more than the model has columns for.
        ContextMirror {
            edges: [None, None, Some([edges.clone(), vec![0.9]].concat())],
            ..body.context.clone()
        },
        // A kind the counts have no columns for.
        ContextMirror {
            edges: [Some(vec![0.1]), None, Some(edges.clone())],
            ..body.context.clone()
        },
        // Far too many buckets.
        ContextMirror {
            edges: [None, None, Some(vec![0.5; 1000])],
            ..body.context.clone()
        },
    ];
    for context in bad {
        let crafted = Body {
            context: context.clone(),
            ..body.clone()
        };
        let err = decode(&encode_body(&crafted)).unwrap_err();
        assert!(
            matches!(err, ModelError::Invalid(_)),
            "{context:?}: {err:?}"
        );
    }
    // An oversized length for the edge list is refused without a huge allocation.
    let mut bytes = postcard::to_stdvec(&Body {
        context: ContextMirror {
            edges: [None, None, Some(vec![0.5])],
            ..body.context.clone()
        },
        ..body.clone()
    })
    .unwrap();
    // The context part ends with: Some tag (1), length 1 (0x01), one f64 (8 bytes); then come
    // the fold-evasions flag (1 byte) and the later parts. Make the length a huge varint that
    // the remaining bytes can't hold.
    let len_at = bytes.len() - bytes_after_fold_flag(&body) - 1 - 9;
    assert_eq!(bytes[len_at], 1);
    bytes.splice(len_at..len_at + 1, [0xff, 0xff, 0xff, 0xff, 0x0f]);
    let err = decode(&with_header(&bytes)).unwrap_err();
    assert!(
        matches!(err, ModelError::Decode(_) | ModelError::Invalid(_)),
        "{err:?}"
    );
}

#[test]
fn a_version_4_body_stores_whether_evasions_are_folded() {
    let body = embedded_body();
    assert!(body.fold_evasions, "the default model folds evasions");
    let classifier = decode(embedded()).unwrap();
    assert!(classifier.normalizer().config().fold_evasions);
    // Off in the file, off in the loaded normalizer.
    let off = Body {
        fold_evasions: false,
        ..body.clone()
    };
    let loaded = decode(&encode_body(&off)).unwrap();
    assert!(!loaded.normalizer().config().fold_evasions);
    // A body cut before the flag is cut short; a flag byte other than 0 or 1 is refused.
    let bytes = postcard::to_stdvec(&body).unwrap();
    let flag_at = bytes.len() - bytes_after_fold_flag(&body) - 1;
    assert_eq!(bytes[flag_at], 1);
    for version in [4, FORMAT_VERSION] {
        assert!(decode(&with_version(version, &bytes[..flag_at])).is_err());
    }
    let mut bad_flag = bytes.clone();
    bad_flag[flag_at] = 7;
    assert!(decode(&with_header(&bad_flag)).is_err());
    // The same body labelled version 3 has one unexpected byte at its end.
    let full = postcard::to_stdvec(&body).unwrap();
    assert!(matches!(
        decode(&with_version(3, &full)).unwrap_err(),
        ModelError::Invalid(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// targeted pairs (version 5)

#[test]
fn a_model_with_targeted_pairs_is_written_as_version_5_and_round_trips() {
    let comments: Vec<Comment> = (0..40)
        .map(|i| {
            let text = match i % 3 {
                0 => "you are such an idiot",
                1 => "buy cheap pills now",
                _ => "your point about taxes is fair",
            };
            Comment::new(i.to_string(), text)
        })
        .collect();
    let labels: Vec<Label> = (0..40)
        .map(|i| [Label::Abusive, Label::OffTopic, Label::Substantive][i % 3])
        .collect();
    let mut params = ClassifierParams::default();
    params.vectorizer.target_window = 4;
    params.context.links = false;
    params.class_weighting = None;
    params.calibration = comment_sieve::Calibration::None;
    let classifier = params.train(&comments, &labels).unwrap();
    let terms = classifier.vectorizer().vocabulary().terms();
    assert!(terms.iter().any(|t| &**t == "you>idiot"), "{terms:?}");
    assert!(terms.iter().any(|t| &**t == "you>point"), "{terms:?}");
    let bytes = classifier.to_bytes();
    assert_eq!(
        u16::from_le_bytes(bytes[8..10].try_into().unwrap()),
        comment_sieve::model_file::FORMAT_VERSION_WITHOUT_LINKS
    );
    let loaded = decode(&bytes).unwrap();
    assert_eq!(loaded.vectorizer().config().target_window, 4);
    assert_eq!(loaded.to_bytes(), bytes);
    for text in ["ur an idiot", "you know, taxes", "u r a total idiot lol"] {
        assert_eq!(
            loaded.classify_text(text),
            classifier.classify_text(text),
            "{text}"
        );
    }
    // The same file without its last byte (the target window) does not decode as version 5;
    // a version-4 header on the full body leaves one unexpected byte.
    let body = &bytes[HEADER_LEN..];
    assert!(decode(&with_version(5, &body[..body.len() - 1])).is_err());
    assert!(matches!(
        decode(&with_version(4, body)).unwrap_err(),
        ModelError::Invalid(_)
    ));
    // A target window above the limit is refused.
    let mut too_wide = body.to_vec();
    *too_wide.last_mut().unwrap() = 8;
    assert!(matches!(
        decode(&with_version(5, &too_wide)).unwrap_err(),
        ModelError::Invalid(_)
    ));
}

// ---------------------------------------------------------------------------------------------
// link-count tokens (version 6)

#[test]
fn the_embedded_model_stores_its_link_edges_and_they_are_checked() {
    let body = embedded_body();
    assert_eq!(body.metadata_edges[0].as_deref(), Some(&[0.5, 1.5][..]));
    // The corpus has no author fields: no author-URL tokens.
    assert_eq!(body.metadata_edges[1], None);
    let c = Classifier::embedded().unwrap();
    assert_eq!(
        c.context().edges(comment_sieve::ContextKind::Links),
        Some(&[0.5, 1.5][..])
    );
    let n_links = 3;
    let bad = [
        // No link kind: the counts hold three columns too many.
        None,
        // Decreasing, or not finite.
        Some(vec![1.5, 0.5]),
        Some(vec![0.5, f64::NAN]),
        // One bucket more than the counts have columns for.
        Some(vec![0.5, 1.5, 2.5]),
        Some(vec![0.5; 64]),
    ];
    for link_edges in bad {
        let crafted = Body {
            metadata_edges: [link_edges.clone(), None],
            ..body.clone()
        };
        let err = decode(&encode_body(&crafted)).unwrap_err();
        assert!(
            matches!(err, ModelError::Invalid(_)),
            "{link_edges:?}: {err:?}"
        );
    }
    // Without the link edges and their count columns, the model loads without link tokens.
    // (Its term scores move a little too: the class totals no longer hold the link counts.)
    // Author-URL edges with no columns for them are refused too.
    let crafted = Body {
        metadata_edges: [body.metadata_edges[0].clone(), Some(vec![0.5])],
        ..body.clone()
    };
    assert!(matches!(
        decode(&encode_body(&crafted)).unwrap_err(),
        ModelError::Invalid(_)
    ));
    let without = Body {
        metadata_edges: [None, None],
        feature_counts: body.feature_counts[..body.feature_counts.len() - n_links].to_vec(),
        ..body.clone()
    };
    let old = decode(&encode_body(&without)).unwrap();
    assert!(!old.context().kinds()[comment_sieve::ContextKind::Links as usize]);
    let text = "Free followers at http://spam.example";
    assert!(old.context_tokens(&Comment::new("x", text)).is_empty());
    assert_eq!(c.context_tokens(&Comment::new("x", text)), ["ctx:links:1"]);
    assert_ne!(
        old.classify_text(text).joint_log_likelihood,
        c.classify_text(text).joint_log_likelihood
    );
    // Re-encoded, a model without link tokens is still written as version 7: it keeps its
    // class weighting (the version logic without it is tested with trained models).
    assert_eq!(
        u16::from_le_bytes(old.to_bytes()[8..10].try_into().unwrap()),
        FORMAT_VERSION
    );
    // The version-7 body under a version-6 header leaves unexpected bytes; cut inside the
    // link edges, it does not decode.
    let full = postcard::to_stdvec(&body).unwrap();
    assert!(matches!(
        decode(&with_version(6, &full)).unwrap_err(),
        ModelError::Invalid(_)
    ));
    let links_len = postcard::to_stdvec(&body.metadata_edges).unwrap().len();
    let links_end = full.len() - class_frequency_bytes(&body);
    for cut in links_end - links_len..links_end {
        assert!(decode(&with_header(&full[..cut])).is_err(), "cut at {cut}");
    }
}

// ---------------------------------------------------------------------------------------------
// supervised term weighting (version 7)

#[test]
fn a_model_with_class_weighting_stores_its_class_frequencies_and_round_trips() {
    let texts = [
        ("you are such an idiot", Label::Abusive),
        ("buy cheap pills now", Label::OffTopic),
        ("the point about taxes is fair", Label::Substantive),
        ("the idiot wrote this", Label::Abusive),
    ];
    let comments: Vec<Comment> = (0..40)
        .map(|i| Comment::new(i.to_string(), texts[i % 4].0))
        .collect();
    let labels: Vec<Label> = (0..40).map(|i| texts[i % 4].1).collect();
    let mut params = ClassifierParams::default();
    params.context.links = false;
    params.calibration = comment_sieve::Calibration::None;
    let classifier = params.train(&comments, &labels).unwrap();
    let v = classifier.vectorizer();
    let frequencies = v
        .class_frequencies()
        .expect("class weighting is on by default");
    assert_eq!(frequencies.weighting, params.class_weighting.unwrap());
    assert_eq!(frequencies.class_sizes, [20, 10, 10]);
    // Counted by hand: `idiot` is in the 20 abusive comments, `the` in 10 abusive and 10
    // substantive ones, `cheap` in the 10 off-topic ones.
    let column = |term: &str| v.vocabulary().get(term).unwrap() as usize;
    assert_eq!(frequencies.documents[column("idiot")], [20, 0, 0]);
    assert_eq!(frequencies.documents[column("the")], [10, 0, 10]);
    assert_eq!(frequencies.documents[column("cheap")], [0, 10, 0]);
    // A word only one class uses weighs more than one two classes share.
    let w = params.class_weighting.unwrap();
    assert!(w.factor([0, 10, 0], [20, 10, 10]) > w.factor([10, 0, 10], [20, 10, 10]));
    let bytes = classifier.to_bytes();
    assert_eq!(
        u16::from_le_bytes(bytes[8..10].try_into().unwrap()),
        FORMAT_VERSION
    );
    let loaded = decode(&bytes).unwrap();
    assert_eq!(loaded.vectorizer().class_frequencies(), Some(frequencies));
    assert_eq!(loaded.to_bytes(), bytes);
    for text in ["ur an idiot", "cheap taxes", "the point is fair, idiot"] {
        assert_eq!(
            loaded.classify_text(text),
            classifier.classify_text(text),
            "{text}"
        );
        assert_eq!(loaded.features(text), classifier.features(text), "{text}");
    }
    // Without class weighting the same data gives other weights and an older version.
    params.class_weighting = None;
    let plain = params.train(&comments, &labels).unwrap();
    assert!(plain.vectorizer().class_frequencies().is_none());
    assert_ne!(
        plain.features("the idiot"),
        classifier.features("the idiot")
    );
    assert!(u16::from_le_bytes(plain.to_bytes()[8..10].try_into().unwrap()) < FORMAT_VERSION);
}

#[test]
fn crafted_class_frequencies_are_invalid() {
    let body = embedded_body();
    let good = &body.class_frequencies;
    let mut short = good.clone();
    short.documents.pop();
    let mut too_many = good.clone();
    too_many.documents[0][1] = u32::try_from(good.class_sizes[1]).unwrap() + 1;
    let mut no_smoothing = good.clone();
    no_smoothing.weighting.smoothing = 0.0;
    let mut nan_power = good.clone();
    nan_power.weighting.power = f64::NAN;
    for (what, frequencies) in [
        ("one entry short", short),
        ("a count above its class size", too_many),
        ("zero smoothing", no_smoothing),
        ("a NaN power", nan_power),
    ] {
        let crafted = Body {
            class_frequencies: frequencies,
            ..body.clone()
        };
        let err = decode(&encode_body(&crafted)).unwrap_err();
        assert!(matches!(err, ModelError::Invalid(_)), "{what}: {err:?}");
    }
    // The embedded model's class sizes are the train split's labels.
    assert_eq!(good.class_sizes, [2074, 1439, 9025]);
}
