use comment_sieve::Classifier;
use std::time::Instant;
#[test]
fn timing() {
    let c = Classifier::embedded().unwrap();
    for (name, unit, n) in [("<a", "<a", 100_000usize), ("<a", "<a", 200_000), ("<a", "<a", 400_000), ("<!--", "<!--", 25_000), ("<!--", "<!--", 50_000), ("&x", "&aaaa", 200_000), ("<a>", "<a>", 300_000)] {
        let t = unit.repeat(n);
        let s = Instant::now();
        let _ = c.classify_text(&t);
        eprintln!("{name} x{n} ({} bytes): {:?}", t.len(), s.elapsed());
    }
    let n = comment_sieve::Normalizer::default();
    let t = "<!--".repeat(50_000);
    let s = Instant::now();
    let _ = n.normalize(&t);
    eprintln!("normalize only: {:?}", s.elapsed());
}
