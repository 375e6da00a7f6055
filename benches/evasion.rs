//! How much abuse detection loses to obscured spellings, and how much [`fold_evasions`] wins
//! back, on a file made by `benches/evasion_robustness.py` (abusive test comments, each as is
//! and with its abusive words obscured in one of six styles).
//!
//! Run: `cargo bench --bench evasion -- FILE OTHER_MODEL`. Prints, for plain and obscured
//! comments, the share labeled abusive by the embedded model (which folds evasions) and by
//! `OTHER_MODEL`, for instance one trained with `train --no-fold-evasions`.

use comment_sieve::{Classifier, Label};
use std::collections::BTreeMap;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [path, other] = &args[..] else {
        eprintln!("usage: cargo bench --bench evasion -- FILE OTHER_MODEL");
        return;
    };
    let embedded = Classifier::embedded().expect("embedded model");
    let other = Classifier::load(other).expect("loading OTHER_MODEL");
    let text = std::fs::read_to_string(path).expect("reading the evasion file");
    // (kind, style) -> (n, abusive by the embedded model, abusive by the other one)
    let mut counts: BTreeMap<(String, i64), (u32, u32, u32)> = BTreeMap::new();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = row["id"].as_str().unwrap_or_default();
        let kind = if id.ends_with("-obscured") {
            "obscured"
        } else {
            "plain"
        };
        let style = row["style"].as_i64().unwrap_or(-1);
        let text = row["text"].as_str().unwrap_or_default();
        let by_embedded = embedded.classify_text(text).label == Label::Abusive;
        let by_other = other.classify_text(text).label == Label::Abusive;
        for key in [(kind.to_string(), -1), (kind.to_string(), style)] {
            let e = counts.entry(key).or_default();
            e.0 += 1;
            e.1 += u32::from(by_embedded);
            e.2 += u32::from(by_other);
        }
    }
    const STYLES: [&str; 6] = [
        "leet",
        "masked",
        "spaced",
        "dotted",
        "stretched",
        "look-alike",
    ];
    println!(
        "{:<10} {:<11} {:>5} {:>9} {:>11}",
        "comments", "style", "n", "embedded", "other model"
    );
    for ((kind, style), (n, a, b)) in &counts {
        let name = usize::try_from(*style)
            .ok()
            .and_then(|s| STYLES.get(s))
            .copied()
            .unwrap_or("all");
        let pct = |k: u32| 100.0 * f64::from(k) / f64::from(*n);
        println!(
            "{kind:<10} {name:<11} {n:>5} {:>8.1}% {:>10.1}%",
            pct(*a),
            pct(*b)
        );
    }
}
