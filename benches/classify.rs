//! Scoring throughput of the embedded model, in comments per second.
//!
//! Texts: the `test` split of `../shared/corpus/comments.jsonl` (relative to the crate root).
//! Without that file, the texts of `fixtures/comments.jsonl` repeated to a few thousand comments
//! are used instead, and a message says so.
//!
//! Groups (criterion writes `estimates.json` under `$CARGO_TARGET_DIR/criterion/<group>/<id>/new/`):
//!
//! - `classify_batch/threads_1`, `classify_batch/threads_2`: [`Classifier::classify_batch`] on a
//!   rayon pool of 1 and 2 threads, every text once per iteration (throughput in comments/s);
//! - `classify_single/call`: one [`Classifier::classify`] call per iteration on the bench thread,
//!   cycling through the texts (the time is the single-call latency).
//!
//! Run: `cargo bench --bench classify`. `benches/compare_throughput.sh` puts these next to
//! scikit-learn's `transform` + `predict_proba`.

use comment_sieve::corpus::{SplitFilter, read_labeled};
use comment_sieve::{Classifier, Comment};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/comments.jsonl"
);
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/comments.jsonl");
/// How many comments the fixture fallback is repeated up to.
const FALLBACK_COUNT: usize = 3000;

/// The benchmark texts and a description of where they came from.
fn load_comments() -> (Vec<Comment<'static>>, String) {
    let corpus = Path::new(CORPUS);
    if corpus.is_file() {
        let rows = read_labeled(corpus, &SplitFilter::parse("test"))
            .expect("bench setup: reading the test split of the shared corpus");
        assert!(
            !rows.is_empty(),
            "bench setup: {CORPUS} has no rows in split \"test\""
        );
        let comments: Vec<Comment<'static>> = rows.into_iter().map(|(c, _)| c).collect();
        let source = format!("{} test-split comments of {CORPUS}", comments.len());
        return (comments, source);
    }
    eprintln!(
        "classify bench: {CORPUS} not found; falling back to the texts of {FIXTURE} \
         repeated to {FALLBACK_COUNT} comments (numbers are not comparable with corpus runs)"
    );
    let data = std::fs::read_to_string(FIXTURE).expect("bench setup: reading the fixture file");
    let texts: Vec<String> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).expect("bench setup: fixture line is not JSON");
            v["text"]
                .as_str()
                .expect("bench setup: fixture line has no string `text`")
                .to_owned()
        })
        .collect();
    assert!(!texts.is_empty(), "bench setup: {FIXTURE} has no texts");
    let comments: Vec<Comment<'static>> = texts
        .iter()
        .cycle()
        .take(FALLBACK_COUNT)
        .enumerate()
        .map(|(i, t)| Comment::new(i.to_string(), t.clone()))
        .collect();
    let source = format!("{} comments repeated from {FIXTURE}", comments.len());
    (comments, source)
}

fn bench_classify(c: &mut Criterion) {
    let classifier = Classifier::embedded().expect("bench setup: loading the embedded model");
    let (comments, source) = load_comments();
    eprintln!("classify bench: {source}");
    let n = comments.len() as u64;

    let mut batch = c.benchmark_group("classify_batch");
    // One batch takes tens of milliseconds: flat sampling (the same iteration count in every
    // sample) keeps the run within the measurement time.
    batch
        .throughput(Throughput::Elements(n))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("bench setup: building the rayon pool");
        batch.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| pool.install(|| classifier.classify_batch(black_box(&comments))))
        });
    }
    batch.finish();

    let mut single = c.benchmark_group("classify_single");
    single
        .throughput(Throughput::Elements(1))
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    single.bench_function("call", |b| {
        let mut next = comments.iter().cycle();
        b.iter(|| {
            let comment = next.next().expect("cycle over a non-empty list");
            classifier.classify(black_box(comment))
        })
    });
    single.finish();
}

criterion_group!(benches, bench_classify);
criterion_main!(benches);
