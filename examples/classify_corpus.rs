//! Classifies every test-split comment of `../shared/corpus/comments.jsonl` once with
//! `Classifier::classify_text` and prints the mean time per comment. Made for instruction
//! counts, which a noisy machine does not change:
//!
//! ```sh
//! cargo build --release --example classify_corpus
//! valgrind --tool=callgrind --toggle-collect='*Classifier::classify_text*' \
//!     target/release/examples/classify_corpus
//! ```
//!
//! `--toggle-collect` counts only the calls, not the model loading or the JSON reading.

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
    let classifier = Classifier::embedded()?;
    let rows = read_labeled(path.as_ref(), &SplitFilter::Named("test".into()))?;
    let texts: Vec<&str> = rows.iter().map(|(comment, _)| &*comment.text).collect();
    let start = std::time::Instant::now();
    let mut abusive = 0usize;
    for text in &texts {
        if classifier.classify_text(text).label == comment_sieve::Label::Abusive {
            abusive += 1;
        }
    }
    let elapsed = start.elapsed();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    println!(
        "{} test comments ({} bytes on average), {abusive} abusive; {:.2} µs per comment",
        texts.len(),
        bytes / texts.len().max(1),
        elapsed.as_secs_f64() * 1e6 / texts.len().max(1) as f64
    );
    Ok(())
}
