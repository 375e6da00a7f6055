//! Classifies every test-split comment of `../shared/corpus/comments.jsonl` with
//! `Classifier::classify_text`, once (or, with `--passes N`, N times), and prints the mean time
//! per comment of the fastest pass. Made for instruction counts, which a noisy machine does
//! not change:
//!
//! ```sh
//! cargo build --release --example classify_corpus
//! valgrind --tool=callgrind --toggle-collect='*Classifier::classify_text*' \
//!     target/release/examples/classify_corpus
//! ```
//!
//! `--toggle-collect` counts only the calls, not the model loading or the JSON reading. With
//! `--model PATH` it classifies with a model file instead of the embedded model, for comparing
//! the cost of training settings. With `--min-bytes N` it classifies only the texts of at least
//! N bytes: the long texts that set `classify`'s p99 latency.

use comment_sieve::Classifier;
use comment_sieve::corpus::{SplitFilter, read_labeled};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/comments.jsonl"
    );
    if !std::path::Path::new(path).exists() {
        eprintln!("classify_corpus: {path} not found (the shared corpus is needed)");
        std::process::exit(2);
    }
    // `--model PATH`: a model file instead of the embedded model.
    let model = std::env::args().skip_while(|a| a != "--model").nth(1);
    let classifier = match &model {
        Some(path) => Classifier::load(path)?,
        None => Classifier::embedded()?,
    };
    let rows = read_labeled(path.as_ref(), &SplitFilter::Named("test".into()))?;
    // `--min-bytes N`: only the texts of at least N bytes (the long texts set the p99).
    let min_bytes: usize = std::env::args()
        .skip_while(|a| a != "--min-bytes")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let texts: Vec<&str> = rows
        .iter()
        .map(|(comment, _)| &*comment.text)
        .filter(|t| t.len() >= min_bytes)
        .collect();
    // `--passes N`: classify the texts N times and report the fastest pass (a noisy machine
    // only ever slows a pass down).
    let passes: usize = std::env::args()
        .skip_while(|a| a != "--passes")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let mut abusive = 0usize;
    let mut elapsed = std::time::Duration::MAX;
    for _ in 0..passes.max(1) {
        let start = std::time::Instant::now();
        abusive = 0;
        for text in &texts {
            if classifier.classify_text(text).label == comment_sieve::Label::Abusive {
                abusive += 1;
            }
        }
        elapsed = elapsed.min(start.elapsed());
    }
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    println!(
        "{} test comments ({} bytes on average), {abusive} abusive; {:.2} µs per comment",
        texts.len(),
        bytes / texts.len().max(1),
        elapsed.as_secs_f64() * 1e6 / texts.len().max(1) as f64
    );
    Ok(())
}
