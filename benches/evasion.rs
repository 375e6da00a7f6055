//! How much abuse detection loses to obscured spellings, and how much [`fold_evasions`] wins
//! back, on a file made by `benches/evasion_robustness.py` (abusive test comments, each as is
//! and with its abusive words obscured in one of six styles).
//!
//! Run: `cargo bench --bench evasion -- FILE`. Prints, for plain and obscured comments, the
//! share the embedded model labels abusive, with the text as given and with its normalized form
//! passed through `fold_evasions` first (the model itself was trained without folding).

use comment_sieve::{Classifier, Label, fold_evasions};
use std::collections::BTreeMap;

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!(
            "usage: cargo bench --bench evasion -- FILE (from benches/evasion_robustness.py)"
        );
        return;
    };
    let classifier = Classifier::embedded().expect("embedded model");
    let text = std::fs::read_to_string(&path).expect("reading the evasion file");
    // (kind, style) -> (n, abusive as given, abusive after folding)
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
        let as_given = classifier.classify_text(text).label == Label::Abusive;
        let folded = fold_evasions(&classifier.normalizer().normalize(text));
        let after = classifier.classify_text(&folded).label == Label::Abusive;
        for key in [(kind.to_string(), -1), (kind.to_string(), style)] {
            let e = counts.entry(key).or_default();
            e.0 += 1;
            e.1 += u32::from(as_given);
            e.2 += u32::from(after);
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
        "{:<10} {:<11} {:>5} {:>10} {:>14}",
        "comments", "style", "n", "as given", "with folding"
    );
    for ((kind, style), (n, given, after)) in &counts {
        let name = usize::try_from(*style)
            .ok()
            .and_then(|s| STYLES.get(s))
            .copied()
            .unwrap_or("all");
        let pct = |k: u32| 100.0 * f64::from(k) / f64::from(*n);
        println!(
            "{kind:<10} {name:<11} {n:>5} {:>9.1}% {:>13.1}%",
            pct(*given),
            pct(*after)
        );
    }
}
