//! Single-call latency and concurrent throughput of [`Classifier::classify`], the way a
//! moderation service calls it: one comment at a time, from one or more caller threads.
//!
//! Texts: the `test` split of `../shared/corpus/comments.jsonl`. Without that file the texts of
//! `fixtures/comments.jsonl` are used and a message says so (numbers are then not comparable).
//!
//! Prints one JSON object on stdout:
//!
//! - `latency_ns`: p50, p90, p99, p999 and max of single calls on one thread. Every text is
//!   classified once per pass, in a shuffled order that is the same in every run; the first pass
//!   is a warm-up and is not counted.
//! - `latency_by_length`: the same calls by text length in bytes (up to 256, 512, 1,024, 2,048,
//!   and longer): the time of a call grows with its text, so the longest texts set the p99.
//! - `concurrent`: for 1, 2 and 8 caller threads sharing one `Arc<Classifier>`, the total calls
//!   per second over a fixed time, and the p99 of those calls.
//! - `with_learner`: the same for 2 callers reading a [`SharedClassifier`] while a third thread
//!   feeds moderator decisions through `learn` without pause, next to the same callers with no
//!   learner; and what one `learn` costs the learner (publishing a snapshot included).
//!
//! Run: `cargo bench --bench latency` (add `-- --passes N --seconds S` to change the defaults
//! 5 and 3, and `-- --model PATH` to measure a model file instead of the embedded one).
//! `benches/latency_vs_sklearn.sh` runs it next to scikit-learn's per-call `predict_proba` on the
//! same texts.

use comment_sieve::corpus::{SplitFilter, read_labeled};
use comment_sieve::{Classifier, Comment, Label, SharedClassifier};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/comments.jsonl"
);
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/comments.jsonl");

fn load_texts() -> (Vec<(String, Label)>, String) {
    if Path::new(CORPUS).is_file() {
        let rows = read_labeled(Path::new(CORPUS), &SplitFilter::parse("test"))
            .expect("bench setup: reading the test split of the shared corpus");
        let n = rows.len();
        let texts = rows
            .into_iter()
            .map(|(c, l)| (c.text.into_owned(), l))
            .collect();
        return (texts, format!("{n} test-split comments of {CORPUS}"));
    }
    eprintln!("latency bench: {CORPUS} not found; using the texts of {FIXTURE}");
    let rows = read_labeled(Path::new(FIXTURE), &SplitFilter::All)
        .expect("bench setup: reading the fixture");
    let n = rows.len();
    let texts = rows
        .into_iter()
        .map(|(c, l)| (c.text.into_owned(), l))
        .collect();
    (texts, format!("{n} comments of {FIXTURE}"))
}

/// A fixed permutation (xorshift), so cache effects do not follow file order.
fn shuffled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

/// Upper ends (bytes) of the text-length buckets of `latency_by_length`; the last bucket is
/// open.
const LENGTH_EDGES: [usize; 4] = [256, 512, 1024, 2048];

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn summary(mut ns: Vec<u64>) -> serde_json::Value {
    ns.sort_unstable();
    serde_json::json!({
        "calls": ns.len(),
        "p50": percentile(&ns, 0.50),
        "p90": percentile(&ns, 0.90),
        "p99": percentile(&ns, 0.99),
        "p999": percentile(&ns, 0.999),
        "max": ns.last().copied().unwrap_or(0),
    })
}

/// `callers` threads call `classify` on their own stretch of the texts for `seconds`; returns
/// calls per second and the per-call latencies.
fn run_callers(
    callers: usize,
    seconds: f64,
    texts: &[(String, Label)],
    classify: &(dyn Fn(&str) -> f64 + Sync),
) -> (f64, Vec<u64>) {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let results: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|k| {
                let stop = &stop;
                s.spawn(move || {
                    let mut times = Vec::new();
                    let mut i = k * texts.len() / callers.max(1);
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        black_box(classify(black_box(&texts[i % texts.len()].0)));
                        times.push(t.elapsed().as_nanos() as u64);
                        i += 1;
                    }
                    times
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().expect("caller thread"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let all: Vec<u64> = results.into_iter().flatten().collect();
    (all.len() as f64 / elapsed, all)
}

fn main() {
    let mut passes = 5usize;
    let mut seconds = 3.0f64;
    let mut model: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--passes" => passes = args.next().and_then(|v| v.parse().ok()).unwrap_or(passes),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
            "--model" => model = args.next(),
            _ => {} // cargo bench passes `--bench`
        }
    }
    let load = || match &model {
        Some(path) => Classifier::load(path).expect("bench setup: --model"),
        None => Classifier::embedded().expect("bench setup: embedded model"),
    };
    let classifier = Arc::new(load());
    let (texts, source) = load_texts();
    eprintln!("latency bench: {source}");
    let order = shuffled(texts.len());

    // Single calls on this thread.
    let mut single = Vec::with_capacity(order.len() * passes);
    // The same calls, by text length in bytes: latency grows with length, so the long tail of
    // texts sets the p99.
    let mut by_length: Vec<Vec<u64>> = vec![Vec::new(); LENGTH_EDGES.len() + 1];
    for pass in 0..=passes {
        for &i in &order {
            let t = Instant::now();
            black_box(classifier.classify_text(black_box(&texts[i].0)));
            let ns = t.elapsed().as_nanos() as u64;
            if pass > 0 {
                single.push(ns);
                let bucket = LENGTH_EDGES
                    .iter()
                    .take_while(|&&edge| texts[i].0.len() > edge)
                    .count();
                by_length[bucket].push(ns);
            }
        }
    }

    let plain = |text: &str| classifier.classify_text(text).probabilities.abusive;
    let mut concurrent = Vec::new();
    for callers in [1usize, 2, 8] {
        let (rate, times) = run_callers(callers, seconds, &texts, &plain);
        let s = summary(times);
        concurrent.push(serde_json::json!({
            "callers": callers,
            "calls_per_s": rate.round(),
            "p99_ns": s["p99"],
        }));
    }

    // Readers of a SharedClassifier, without and with a learner feeding it decisions.
    let shared = SharedClassifier::new(load());
    let read = |text: &str| shared.classify_text(text).probabilities.abusive;
    let (rate_alone, times_alone) = run_callers(2, seconds, &texts, &read);
    let stop = AtomicBool::new(false);
    let (learns, learn_times, (rate_learning, times_learning)) = std::thread::scope(|s| {
        let learner = s.spawn(|| {
            let mut times = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let (text, label) = &texts[i % texts.len()];
                let t = Instant::now();
                shared
                    .learn(&Comment::new("bench", text.as_str()), *label)
                    .expect("learn");
                times.push(t.elapsed().as_nanos() as u64);
                i += 1;
            }
            times
        });
        let readers = run_callers(2, seconds, &texts, &read);
        stop.store(true, Ordering::Relaxed);
        let times = learner.join().expect("learner thread");
        (times.len(), times, readers)
    });

    let mut lower = 0;
    let by_length: Vec<serde_json::Value> = by_length
        .into_iter()
        .enumerate()
        .map(|(k, times)| {
            let upper = LENGTH_EDGES.get(k).copied();
            let row = serde_json::json!({
                "bytes_over": lower,
                "bytes_up_to": upper,
                "latency_ns": summary(times),
            });
            lower = upper.unwrap_or(lower);
            row
        })
        .collect();
    let report = serde_json::json!({
        "texts": source,
        "model": model.as_deref().unwrap_or("embedded"),
        "passes": passes,
        "latency_ns": summary(single),
        "latency_by_length": by_length,
        "concurrent": concurrent,
        "with_learner": {
            "readers": 2,
            "no_learner": {"calls_per_s": rate_alone.round(), "p99_ns": summary(times_alone)["p99"]},
            "learning": {"calls_per_s": rate_learning.round(), "p99_ns": summary(times_learning)["p99"]},
            "learns": learns,
            "learn_ns": summary(learn_times),
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("JSON of numbers")
    );
}
