//! Replays the minimized fuzz corpora in `tests/fuzz/corpus/<target>/` through the same code
//! as the fuzz targets in `tests/fuzz/fuzz_targets/`, so every input the fuzzer kept is a
//! regression input on stable Rust. See `tests/fuzz/README.md`.

use comment_sieve::input::{Format, InputOptions, from_reader};
use comment_sieve::model_file::{FORMAT_VERSION, MAGIC};
use comment_sieve::{Classifier, Normalizer, Tokenizer};
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const HEADER_LEN: usize = 24;

/// The corpus files of one fuzz target, sorted; fails if there are none, so a moved or emptied
/// corpus can't pass silently.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "{}: no corpus files", dir.display());
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// Runs `check` on every corpus file of `target`, then fails naming every file that panicked.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let failures: Vec<String> = corpus(target)
        .iter()
        .filter_map(|(path, bytes)| {
            catch_unwind(AssertUnwindSafe(|| check(bytes)))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: panicked on {}",
        failures.join(", ")
    );
}

/// The `jsonl`, `csv`, `wxr`, `disqus`, `blogger` and `reddit` targets.
fn read_all(format: Format, data: &[u8]) {
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

#[test]
fn jsonl() {
    replay("jsonl", |data| read_all(Format::Jsonl, data));
}

#[test]
fn csv() {
    replay("csv", |data| read_all(Format::Csv, data));
}

#[test]
fn wxr() {
    replay("wxr", |data| read_all(Format::Wxr, data));
}

#[test]
fn disqus() {
    replay("disqus", |data| read_all(Format::Disqus, data));
}

#[test]
fn blogger() {
    replay("blogger", |data| read_all(Format::Blogger, data));
}

#[test]
fn reddit() {
    replay("reddit", |data| read_all(Format::Reddit, data));
}

/// The `normalize_tokenize` target.
#[test]
fn normalize_tokenize() {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    replay("normalize_tokenize", |data| {
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
}

/// The `model_loader` target: the bytes as they are, then the bytes after the header under a
/// correct header.
#[test]
fn model_loader() {
    replay("model_loader", |data| {
        let _ = Classifier::from_bytes(data);
        if let Some(body) = data.get(HEADER_LEN..) {
            let mut file = Vec::with_capacity(data.len());
            file.extend_from_slice(&MAGIC);
            file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
            file.extend_from_slice(&[0, 0]);
            file.extend_from_slice(&(body.len() as u64).to_le_bytes());
            file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
            file.extend_from_slice(body);
            let _ = Classifier::from_bytes(&file);
        }
    });
}
