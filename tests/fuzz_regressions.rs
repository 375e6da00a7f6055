//! Replays the minimized fuzz corpora in `tests/fuzz/corpus/<target>/` through the same code
//! as the fuzz targets in `tests/fuzz/fuzz_targets/`, so every input the fuzzer kept is a
//! regression input on stable Rust. See `tests/fuzz/README.md`.

#[path = "fuzz/checks.rs"]
mod checks;

use checks::{model_loader as load_model, normalize_tokenize as pipeline, read_all};
use comment_sieve::input::Format;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

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
    replay("normalize_tokenize", pipeline);
}

/// The `model_loader` target.
#[test]
fn model_loader() {
    replay("model_loader", load_model);
}
