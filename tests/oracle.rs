//! linfa-bayes' `MultinomialNb` as an oracle for our sparse multinomial naive Bayes.
//!
//! On small dense count matrices, both models are fitted with the same α and learned priors;
//! their joint log-likelihoods must agree within 1e-9 and their predictions must agree wherever
//! the best class is not tied. (linfa-bayes' `fit` prints a `dbg!` to stderr; that is expected.)

use comment_sieve::{
    ClassPriors, ClassifierParams, Comment, FeatureMatrix, Label, NaiveBayes, NaiveBayesError,
    NaiveBayesKind, probabilities_from_log,
};
use linfa::ParamGuard;
use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, FitWith, Predict};
use linfa_bayes::MultinomialNb;
use linfa_bayes::NaiveBayes as LinfaNaiveBayes;
use ndarray::{Array1, Array2, s};
use proptest::prelude::*;

const TOL: f64 = 1e-9;

/// A small deterministic generator (SplitMix64), so the fixed cases need no external crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A count matrix of `rows` × `cols` with entries in `0..=max_count`, and labels in which every
/// class occurs: the first three rows are one of each, the rest random. Each class gets a
/// different "favourite" feature so that the classes are distinguishable.
fn generated(seed: u64, rows: usize, cols: usize, max_count: u64) -> (Array2<f64>, Array1<Label>) {
    assert!(rows >= 3 && cols >= 3);
    let mut rng = SplitMix(seed);
    let mut x = Array2::zeros((rows, cols));
    let mut y = Vec::with_capacity(rows);
    for i in 0..rows {
        let label = if i < 3 {
            Label::ALL[i]
        } else {
            Label::ALL[rng.below(3) as usize]
        };
        for j in 0..cols {
            // Roughly half the entries are zero, as in real bag-of-words data.
            if rng.below(2) == 0 {
                x[(i, j)] = rng.below(max_count + 1) as f64;
            }
        }
        x[(i, label.index())] += 1.0 + rng.below(3) as f64;
        y.push(label);
    }
    (x, Array1::from(y))
}

fn ours_fit(alpha: f64, x: &Array2<f64>, y: &Array1<Label>) -> NaiveBayes {
    let ds = DatasetBase::new(FeatureMatrix::from_dense(x).unwrap(), y.clone());
    NaiveBayes::params()
        .alpha(alpha)
        .fit(&ds)
        .expect("our fit succeeds")
}

fn theirs_fit(alpha: f64, x: &Array2<f64>, y: &Array1<Label>) -> MultinomialNb<f64, Label> {
    let ds = DatasetBase::new(x.clone(), y.clone());
    MultinomialNb::params()
        .alpha(alpha)
        .fit(&ds)
        .expect("linfa-bayes fit succeeds")
}

/// Their joint log-likelihood as an n × 3 array in `Label::ALL` order.
fn theirs_jll(model: &MultinomialNb<f64, Label>, x: &Array2<f64>) -> Array2<f64> {
    let map = LinfaNaiveBayes::joint_log_likelihood(model, x.view());
    assert_eq!(map.len(), Label::COUNT, "linfa-bayes saw every class");
    let mut out = Array2::zeros((x.nrows(), Label::COUNT));
    for label in Label::ALL {
        let col = map.get(&label).expect("every label has a column");
        out.column_mut(label.index()).assign(col);
    }
    out
}

fn assert_jll_close(ours: &Array2<f64>, theirs: &Array2<f64>, what: &str) {
    assert_eq!(ours.dim(), theirs.dim(), "{what}: shapes");
    for ((i, c), &a) in ours.indexed_iter() {
        let b = theirs[(i, c)];
        assert!(
            a.is_finite(),
            "{what}: our jll[{i},{c}] = {a} is not finite"
        );
        assert!(
            (a - b).abs() <= TOL,
            "{what}: jll[{i},{c}] ours {a} vs linfa-bayes {b} (diff {:e})",
            (a - b).abs()
        );
    }
}

/// Predictions must agree on every row whose best class is clear (margin above the tolerance);
/// on a tie, ours must pick the earliest tied label in `Label::ALL` (linfa-bayes breaks ties by
/// hash-map order, which is arbitrary).
fn assert_predictions_agree(jll: &Array2<f64>, ours: &Array1<Label>, theirs: &Array1<Label>) {
    assert_eq!(ours.len(), jll.nrows());
    assert_eq!(theirs.len(), jll.nrows());
    let mut clear_rows = 0;
    for (i, row) in jll.rows().into_iter().enumerate() {
        let best = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tied: Vec<Label> = Label::ALL
            .into_iter()
            .filter(|l| best - row[l.index()] <= TOL)
            .collect();
        if tied.len() == 1 {
            clear_rows += 1;
            assert_eq!(ours[i], tied[0], "row {i}: ours vs the best class");
            assert_eq!(theirs[i], tied[0], "row {i}: linfa-bayes vs the best class");
        } else {
            assert!(tied.contains(&theirs[i]), "row {i}: {tied:?}");
            assert_eq!(ours[i], tied[0], "row {i}: ties go to the earlier label");
        }
    }
    // The generated data always has some clear rows; make sure the check was not vacuous.
    assert!(clear_rows > 0, "no row had a clear winner");
}

fn compare(alpha: f64, x: &Array2<f64>, y: &Array1<Label>, what: &str) {
    let ours = ours_fit(alpha, x, y);
    let theirs = theirs_fit(alpha, x, y);
    let features = FeatureMatrix::from_dense(x).unwrap();
    let ours_jll = ours.joint_log_likelihood(&features);
    assert_eq!(ours_jll.dim(), (x.nrows(), Label::COUNT));
    let their_jll = theirs_jll(&theirs, x);
    assert_jll_close(&ours_jll, &their_jll, what);

    let dataset = DatasetBase::new(features.clone(), y.clone());
    let ours_pred: Array1<Label> = ours.predict(&dataset);
    let their_pred: Array1<Label> = theirs.predict(x);
    assert_predictions_agree(&ours_jll, &ours_pred, &their_pred);

    // predict_proba is the softmax of the same joint log-likelihoods.
    let proba = ours.predict_proba(&features);
    for (i, row) in proba.rows().into_iter().enumerate() {
        let jll = [ours_jll[(i, 0)], ours_jll[(i, 1)], ours_jll[(i, 2)]];
        let expected = probabilities_from_log(&jll);
        for c in 0..Label::COUNT {
            assert!((row[c] - expected[c]).abs() < 1e-12);
        }
        assert!((row.sum() - 1.0).abs() < 1e-9);
    }
}

#[test]
fn matches_linfa_bayes_on_a_hand_written_matrix() {
    let x = ndarray::array![
        [3.0, 0.0, 1.0, 0.0],
        [0.0, 2.0, 0.0, 1.0],
        [0.0, 0.0, 4.0, 2.0],
        [1.0, 0.0, 0.0, 0.0],
        [2.0, 1.0, 0.0, 0.0],
        [0.0, 3.0, 1.0, 0.0],
        [0.0, 0.0, 2.0, 5.0],
        [0.0, 0.0, 0.0, 0.0],
    ];
    let y = Array1::from(vec![
        Label::Abusive,
        Label::OffTopic,
        Label::Substantive,
        Label::Abusive,
        Label::Abusive,
        Label::OffTopic,
        Label::Substantive,
        Label::Substantive,
    ]);
    for alpha in [0.5, 1.0, 2.0] {
        compare(alpha, &x, &y, &format!("hand-written, alpha {alpha}"));
    }
}

#[test]
fn matches_linfa_bayes_on_generated_matrices() {
    let shapes = [
        (6, 4),
        (9, 5),
        (12, 7),
        (20, 10),
        (30, 12),
        (30, 4),
        (7, 12),
    ];
    for (k, &(rows, cols)) in shapes.iter().enumerate() {
        for alpha in [0.5, 1.0, 2.0, 0.05] {
            let (x, y) = generated(1000 + k as u64, rows, cols, 6);
            compare(alpha, &x, &y, &format!("{rows}x{cols}, alpha {alpha}"));
        }
    }
}

#[test]
fn matches_linfa_bayes_with_unbalanced_classes_and_large_counts() {
    // One class dominates, counts up to 200: the priors and the totals differ a lot by class.
    let (mut x, mut y) = generated(77, 25, 8, 200);
    for i in 3..y.len() {
        if i % 5 != 0 {
            y[i] = Label::Substantive;
        }
    }
    // A few all-zero rows: their joint log-likelihood is the log prior alone.
    x.row_mut(4).fill(0.0);
    x.row_mut(11).fill(0.0);
    for alpha in [0.5, 1.0, 2.0] {
        compare(alpha, &x, &y, &format!("unbalanced, alpha {alpha}"));
    }
    let ours = ours_fit(1.0, &x, &y);
    let jll = ours.joint_log_likelihood(&FeatureMatrix::from_dense(&x).unwrap());
    let n = y.len() as f64;
    for label in Label::ALL {
        let share = y.iter().filter(|&&l| l == label).count() as f64 / n;
        assert!((jll[(4, label.index())] - share.ln()).abs() < 1e-12);
    }
}

fn count_matrix() -> impl Strategy<Value = (Array2<f64>, Array1<Label>)> {
    (6usize..=30, 4usize..=12).prop_flat_map(|(rows, cols)| {
        (
            proptest::collection::vec(0u32..8, rows * cols),
            proptest::collection::vec(0usize..3, rows - 3),
        )
            .prop_map(move |(counts, labels)| {
                let x = Array2::from_shape_vec(
                    (rows, cols),
                    counts.into_iter().map(f64::from).collect(),
                )
                .unwrap();
                let y: Vec<Label> = Label::ALL
                    .into_iter()
                    .chain(labels.into_iter().map(|i| Label::ALL[i]))
                    .collect();
                (x, Array1::from(y))
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn jll_matches_linfa_bayes_on_random_counts(
        (x, y) in count_matrix(),
        alpha in prop::sample::select(vec![0.5, 1.0, 2.0, 0.1, 3.7]),
    ) {
        let ours = ours_fit(alpha, &x, &y);
        let theirs = theirs_fit(alpha, &x, &y);
        let ours_jll = ours.joint_log_likelihood(&FeatureMatrix::from_dense(&x).unwrap());
        let their_jll = theirs_jll(&theirs, &x);
        for ((i, c), &a) in ours_jll.indexed_iter() {
            let b = their_jll[(i, c)];
            prop_assert!(a.is_finite());
            prop_assert!((a - b).abs() <= TOL, "jll[{},{}]: ours {} vs linfa-bayes {}", i, c, a, b);
        }
        // Predictions on clear-cut rows.
        let dataset = DatasetBase::new(FeatureMatrix::from_dense(&x).unwrap(), y.clone());
        let ours_pred: Array1<Label> = ours.predict(&dataset);
        let their_pred: Array1<Label> = theirs.predict(&x);
        for (i, row) in ours_jll.rows().into_iter().enumerate() {
            let mut sorted = row.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            if sorted[0] - sorted[1] > TOL {
                prop_assert_eq!(ours_pred[i], their_pred[i], "row {}", i);
            }
        }
    }

    #[test]
    fn incremental_fit_matches_one_shot_fit(
        (x, y) in count_matrix(),
        split_at in 1usize..30,
        alpha in prop::sample::select(vec![0.5, 1.0, 2.0]),
    ) {
        let split_at = split_at.min(x.nrows() - 1);
        let params = NaiveBayes::params().alpha(alpha).check().unwrap();
        let full = ours_fit(alpha, &x, &y);

        let first = DatasetBase::new(
            FeatureMatrix::from_dense(&x.slice(s![..split_at, ..]).to_owned()).unwrap(),
            y.slice(s![..split_at]).to_owned(),
        );
        let second = DatasetBase::new(
            FeatureMatrix::from_dense(&x.slice(s![split_at.., ..]).to_owned()).unwrap(),
            y.slice(s![split_at..]).to_owned(),
        );
        let step = params.fit_with(None, &first).unwrap();
        let step = params.fit_with(Some(step), &second).unwrap();
        prop_assert_eq!(&step, &full);

        // linfa-bayes' own incremental fit agrees too.
        let their_params = MultinomialNb::<f64, Label>::params().alpha(alpha).check().unwrap();
        let their_first = DatasetBase::new(
            x.slice(s![..split_at, ..]).to_owned(),
            y.slice(s![..split_at]).to_owned(),
        );
        let their_second = DatasetBase::new(
            x.slice(s![split_at.., ..]).to_owned(),
            y.slice(s![split_at..]).to_owned(),
        );
        let theirs = their_params.fit_with(None, &their_first).unwrap();
        let theirs = their_params.fit_with(Some(theirs), &their_second).unwrap();
        let ours_jll = step.joint_log_likelihood(&FeatureMatrix::from_dense(&x).unwrap());
        let their_jll = theirs_jll(&theirs, &x);
        for ((i, c), &a) in ours_jll.indexed_iter() {
            prop_assert!((a - their_jll[(i, c)]).abs() <= TOL);
        }
    }
}

#[test]
fn incremental_fit_in_two_fixed_batches_equals_one_shot() {
    let (x, y) = generated(4242, 18, 6, 5);
    let params = NaiveBayes::params().alpha(1.0).check().unwrap();
    let full = params
        .fit(&DatasetBase::new(
            FeatureMatrix::from_dense(&x).unwrap(),
            y.clone(),
        ))
        .unwrap();
    // The first batch holds one class only; the second holds the rest.
    let (abusive, rest): (Vec<usize>, Vec<usize>) =
        (0..y.len()).partition(|&i| y[i] == Label::Abusive);
    let batch = |idx: &[usize]| {
        DatasetBase::new(
            FeatureMatrix::from_dense(&x.select(ndarray::Axis(0), idx)).unwrap(),
            Array1::from(idx.iter().map(|&i| y[i]).collect::<Vec<_>>()),
        )
    };
    let first = batch(&abusive);
    let second = batch(&rest);
    let step = params.fit_with(None, &first).unwrap();
    let step = params.fit_with(Some(step), &second).unwrap();
    assert_eq!(step, full);
    // Fitting an empty batch onto a model leaves it unchanged.
    let empty = DatasetBase::new(FeatureMatrix::new(x.ncols()), Array1::<Label>::from(vec![]));
    let same = params.fit_with(Some(step.clone()), &empty).unwrap();
    assert_eq!(same, step);
}

#[test]
fn fit_with_rejects_a_batch_of_another_width() {
    let (x, y) = generated(5, 10, 6, 3);
    let model = ours_fit(1.0, &x, &y);
    let (x2, y2) = generated(6, 10, 7, 3);
    let params = NaiveBayes::params().check().unwrap();
    let wider = DatasetBase::new(FeatureMatrix::from_dense(&x2).unwrap(), y2);
    assert!(matches!(
        params.fit_with(Some(model), &wider),
        Err(NaiveBayesError::FeatureMismatch { data: 7, model: 6 })
    ));
}

#[test]
fn fit_rejects_an_empty_dataset() {
    let empty = DatasetBase::new(FeatureMatrix::new(4), Array1::<Label>::from(vec![]));
    assert!(matches!(
        NaiveBayes::params().fit(&empty),
        Err(NaiveBayesError::EmptyDataset)
    ));
}

#[test]
fn non_positive_or_nan_alpha_is_an_error_never_nan_output() {
    let (x, y) = generated(9, 12, 5, 4);
    let ds = DatasetBase::new(FeatureMatrix::from_dense(&x).unwrap(), y);
    for alpha in [
        0.0,
        -0.0,
        -1e-12,
        -1.0,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let fitted = NaiveBayes::params().alpha(alpha).fit(&ds);
        assert!(
            matches!(fitted, Err(NaiveBayesError::InvalidAlpha(_))),
            "alpha {alpha}: {fitted:?}"
        );
        assert!(NaiveBayes::params().alpha(alpha).check().is_err());
        for kind in [NaiveBayesKind::Multinomial, NaiveBayesKind::Complement] {
            let params = ClassifierParams {
                alpha,
                kind,
                ..Default::default()
            };
            let comments = [Comment::new("1", "some words here")];
            assert!(
                params.train(&comments, &[Label::Substantive]).is_err(),
                "train with alpha {alpha}"
            );
        }
    }
    // Tiny but positive α is valid and gives finite output, even for features never seen in a
    // class.
    for alpha in [1e-300, f64::MIN_POSITIVE, 1e-9] {
        let model = NaiveBayes::params().alpha(alpha).fit(&ds).unwrap();
        let jll = model.joint_log_likelihood(ds.records());
        assert!(jll.iter().all(|v| v.is_finite()), "alpha {alpha}");
        let p = model.predict_proba(ds.records());
        assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    }
}

#[test]
fn fixed_and_uniform_priors_shift_the_jll_by_the_log_prior() {
    let (x, y) = generated(31, 15, 6, 4);
    let ds = DatasetBase::new(FeatureMatrix::from_dense(&x).unwrap(), y);
    let fit = |priors| {
        NaiveBayes::params()
            .priors(priors)
            .fit(&ds)
            .unwrap()
            .joint_log_likelihood(ds.records())
    };
    let learned = fit(ClassPriors::Learned);
    let uniform = fit(ClassPriors::Uniform);
    let fixed = fit(ClassPriors::Fixed([2.0, 1.0, 1.0]));
    let n = ds.targets.len() as f64;
    let log_prior: Vec<f64> = Label::ALL
        .iter()
        .map(|l| (ds.targets.iter().filter(|&t| t == l).count() as f64 / n).ln())
        .collect();
    let fixed_prior = [0.5f64.ln(), 0.25f64.ln(), 0.25f64.ln()];
    for ((i, c), &v) in learned.indexed_iter() {
        let likelihood = v - log_prior[c];
        assert!((uniform[(i, c)] - (likelihood - 3f64.ln())).abs() < 1e-9);
        assert!((fixed[(i, c)] - (likelihood + fixed_prior[c])).abs() < 1e-9);
    }
    for bad in [[0.0, 1.0, 1.0], [f64::NAN, 1.0, 1.0], [-1.0, 1.0, 1.0]] {
        assert!(
            NaiveBayes::params()
                .priors(ClassPriors::Fixed(bad))
                .fit(&ds)
                .is_err()
        );
    }
}
