//! Honest validation: grouped k-fold cross-validation, leave-one-source-out validation, and
//! class-offset tuning on held-out folds.

use crate::calibrate::{expected_calibration_error, probabilities_at, verdict_calibration_errors};
use crate::classifier::{ClassifierParams, TrainError, Verdict};
use crate::comment::Comment;
use crate::eval::Evaluation;
use crate::label::Label;
use crate::model::argmax_label;
use serde::Serialize;
use std::collections::BTreeSet;

/// Out-of-fold results of a cross-validation.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// Scores of the pooled out-of-fold predictions.
    pub evaluation: Evaluation,
    /// Each row's joint log-likelihoods from the model that did not see its fold.
    pub joint_log_likelihoods: Vec<[f64; Label::COUNT]>,
    /// Each row's probabilities from that model: calibrated when the parameters calibrate
    /// (each fold's model then fits its own temperature on its own training rows only).
    pub probabilities: Vec<[f64; Label::COUNT]>,
    /// Each row's true label.
    pub truth: Vec<Label>,
}

impl CrossValidation {
    /// Expected calibration error of the out-of-fold probabilities (see
    /// [`expected_calibration_error`]).
    pub fn ece(&self) -> f64 {
        expected_calibration_error(&self.probabilities, &self.truth)
    }

    /// Expected calibration error of the raw softmax of the out-of-fold joint log-likelihoods,
    /// as without calibration.
    pub fn ece_uncalibrated(&self) -> f64 {
        let raw: Vec<[f64; Label::COUNT]> = self
            .joint_log_likelihoods
            .iter()
            .map(|j| probabilities_at(j, None))
            .collect();
        expected_calibration_error(&raw, &self.truth)
    }
}

/// The fold of a row: comments on the same post share a fold, so no post is on both sides (as
/// in the corpus' own train/test split); a comment without a post is its own group.
pub(crate) fn fold_of(comment: &Comment<'_>, folds: usize) -> usize {
    let group = comment.post_id().unwrap_or(&comment.id);
    // FNV-1a: fixed, so folds are the same on every machine and run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in group.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % folds as u64) as usize
}

/// The verdict on every row from a model trained without its fold (grouped k-fold, see
/// [`cross_validate`]). A row whose fold is the only non-empty one gets uniform
/// probabilities.
pub(crate) fn out_of_fold(
    params: &ClassifierParams,
    comments: &[Comment<'_>],
    labels: &[Label],
    weights: Option<&[f64]>,
    folds: usize,
) -> Result<Vec<Verdict>, TrainError> {
    if comments.len() != labels.len() {
        return Err(TrainError::LengthMismatch {
            comments: comments.len(),
            labels: labels.len(),
        });
    }
    let folds = folds.max(2);
    let fold: Vec<usize> = comments.iter().map(|c| fold_of(c, folds)).collect();
    let mut verdicts =
        vec![Verdict::from_joint_log_likelihood([0.0; Label::COUNT]); comments.len()];
    for k in 0..folds {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..comments.len()).partition(|&i| fold[i] != k);
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let train_comments: Vec<Comment<'_>> = train.iter().map(|&i| comments[i].clone()).collect();
        let train_labels: Vec<Label> = train.iter().map(|&i| labels[i]).collect();
        let train_weights: Option<Vec<f64>> =
            weights.map(|w| train.iter().map(|&i| w[i]).collect());
        let classifier = params.train_weighted(
            &train_comments,
            &train_labels,
            train_weights.as_deref(),
            Default::default(),
        )?;
        drop(train_comments);
        let held_out: Vec<Comment<'_>> = test.iter().map(|&i| comments[i].clone()).collect();
        for (&i, verdict) in test.iter().zip(classifier.classify_batch(&held_out)) {
            verdicts[i] = verdict;
        }
    }
    Ok(verdicts)
}

/// Grouped k-fold cross-validation: every row is predicted by a model trained without its fold.
///
/// ```
/// use comment_sieve::{cross_validate, ClassifierParams, Comment, Label};
/// let data: Vec<(Comment, Label)> = (0..60)
///     .map(|i| {
///         let (text, label) = match i % 3 {
///             0 => ("you idiot moron", Label::Abusive),
///             1 => ("buy cheap pills now", Label::OffTopic),
///             _ => ("the policy raises taxes", Label::Substantive),
///         };
///         (Comment::new(i.to_string(), text), label)
///     })
///     .collect();
/// let cv = cross_validate(&ClassifierParams::default(), &data, 5).unwrap();
/// assert_eq!(cv.evaluation.macro_f1, 1.0);
/// assert!(cv.ece() <= cv.ece_uncalibrated() + 1.0);
/// ```
pub fn cross_validate(
    params: &ClassifierParams,
    data: &[(Comment<'_>, Label)],
    folds: usize,
) -> Result<CrossValidation, TrainError> {
    cross_validate_weighted(params, data, None, folds)
}

/// [`cross_validate`] with a weight per row for training (see
/// [`ClassifierParams::train_weighted`]); every held-out row still counts once in the scores.
pub fn cross_validate_weighted(
    params: &ClassifierParams,
    data: &[(Comment<'_>, Label)],
    weights: Option<&[f64]>,
    folds: usize,
) -> Result<CrossValidation, TrainError> {
    let (comments, truth): (Vec<Comment<'_>>, Vec<Label>) = data.iter().cloned().unzip();
    let verdicts = out_of_fold(params, &comments, &truth, weights, folds)?;
    let predicted: Vec<Label> = verdicts.iter().map(|v| v.label).collect();
    Ok(CrossValidation {
        evaluation: Evaluation::score(&truth, &predicted),
        joint_log_likelihoods: verdicts.iter().map(|v| v.joint_log_likelihood).collect(),
        probabilities: verdicts
            .iter()
            .map(|v| v.probabilities.to_array())
            .collect(),
        truth,
    })
}

/// The scores of one held-out source in [`leave_one_source_out`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceScores {
    /// The source held out.
    pub source: String,
    /// Rows of this source (the test rows).
    pub n: u64,
    /// Rows the model for this source was trained on (all other sources).
    pub train_rows: u64,
    /// Scores on this source's rows. Its `macro_f1` averages over the classes in the source's
    /// rows or its predictions, so a class predicted but absent scores 0; see
    /// `macro_f1_present`.
    pub evaluation: Evaluation,
    /// Mean F1 over the classes present in this source (see
    /// [`Evaluation::macro_f1_present`]).
    pub macro_f1_present: f64,
    /// Expected calibration error of the model's probabilities on this source.
    pub ece: f64,
    /// Expected calibration error of the raw softmax of the joint log-likelihoods.
    pub ece_uncalibrated: f64,
    /// The temperature the model trained without this source fitted, if it calibrates.
    pub temperature: Option<f64>,
}

/// Leave-one-source-out results: how the model does on a source it has never seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneSourceOut {
    /// One entry per source, in source-name order.
    pub sources: Vec<SourceScores>,
}

impl LeaveOneSourceOut {
    /// Unweighted mean over sources of [`SourceScores::macro_f1_present`].
    pub fn mean_macro_f1_present(&self) -> f64 {
        if self.sources.is_empty() {
            return 0.0;
        }
        self.sources.iter().map(|s| s.macro_f1_present).sum::<f64>() / self.sources.len() as f64
    }
}

/// Why a validation can't run.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// Rows and sources differ in number.
    #[error("{rows} rows but {sources} sources")]
    LengthMismatch {
        /// Number of rows.
        rows: usize,
        /// Number of sources.
        sources: usize,
    },
    /// Fewer than two distinct sources: nothing to hold out against.
    #[error("leave-one-source-out needs rows from at least 2 sources, found {0}")]
    TooFewSources(usize),
    /// Training a model failed.
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// Leave-one-source-out validation: for each source, trains on the rows of every other source
/// and scores the rows of that one. `sources[i]` is the source of `data[i]`; rows without a
/// source are never held out but are trained on in every round. Sources differ in which
/// classes they have, so each is summarized by the macro-F1 over its present classes.
///
/// ```
/// use comment_sieve::{ClassifierParams, Comment, Label, validate::leave_one_source_out};
/// let mut data = Vec::new();
/// let mut sources = Vec::new();
/// for i in 0..90 {
///     let (text, label) = match i % 3 {
///         0 => ("you idiot moron", Label::Abusive),
///         1 => ("buy cheap pills now", Label::OffTopic),
///         _ => ("the policy raises taxes", Label::Substantive),
///     };
///     data.push((Comment::new(i.to_string(), text), label));
///     sources.push(Some(if i < 45 { "a" } else { "b" }.to_string()));
/// }
/// let loso = leave_one_source_out(&ClassifierParams::default(), &data, &sources).unwrap();
/// assert_eq!(loso.sources.len(), 2);
/// assert_eq!(loso.sources[0].source, "a");
/// assert_eq!(loso.mean_macro_f1_present(), 1.0);
/// ```
pub fn leave_one_source_out(
    params: &ClassifierParams,
    data: &[(Comment<'_>, Label)],
    sources: &[Option<String>],
) -> Result<LeaveOneSourceOut, ValidationError> {
    if data.len() != sources.len() {
        return Err(ValidationError::LengthMismatch {
            rows: data.len(),
            sources: sources.len(),
        });
    }
    let names: BTreeSet<&str> = sources.iter().flatten().map(String::as_str).collect();
    if names.len() < 2 {
        return Err(ValidationError::TooFewSources(names.len()));
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let held_out = |i: usize| sources[i].as_deref() == Some(name);
        let (test, train): (Vec<usize>, Vec<usize>) = (0..data.len()).partition(|&i| held_out(i));
        let comments: Vec<Comment<'_>> = train.iter().map(|&i| data[i].0.clone()).collect();
        let labels: Vec<Label> = train.iter().map(|&i| data[i].1).collect();
        let classifier = params.train(&comments, &labels)?;
        drop(comments);
        let test_comments: Vec<Comment<'_>> = test.iter().map(|&i| data[i].0.clone()).collect();
        let truth: Vec<Label> = test.iter().map(|&i| data[i].1).collect();
        let verdicts = classifier.classify_batch(&test_comments);
        let predicted: Vec<Label> = verdicts.iter().map(|v| v.label).collect();
        let (ece, ece_uncalibrated) = verdict_calibration_errors(&verdicts, &truth);
        let evaluation = Evaluation::score(&truth, &predicted);
        out.push(SourceScores {
            source: name.to_owned(),
            n: test.len() as u64,
            train_rows: train.len() as u64,
            macro_f1_present: evaluation.macro_f1_present(),
            evaluation,
            ece,
            ece_uncalibrated,
            temperature: classifier.temperature(),
        });
    }
    Ok(LeaveOneSourceOut { sources: out })
}

/// Finds additive per-class offsets to the joint log-likelihoods that maximize macro-F1 on
/// held-out rows (the substantive offset stays 0). Returns the offsets and the macro-F1 they
/// reach. Adding offset `o` equals multiplying that class's prior by `exp(o)`.
pub fn tune_class_offsets(
    joint_log_likelihoods: &[[f64; Label::COUNT]],
    truth: &[Label],
) -> ([f64; Label::COUNT], f64) {
    let grid: Vec<f64> = (-40..=40).map(|i| f64::from(i) * 0.1).collect();
    let score = |offsets: [f64; Label::COUNT]| {
        let predicted: Vec<Label> = joint_log_likelihoods
            .iter()
            .map(|j| argmax_label(&std::array::from_fn(|c| j[c] + offsets[c])))
            .collect();
        Evaluation::score(truth, &predicted).macro_f1
    };
    let mut best = ([0.0; Label::COUNT], score([0.0; Label::COUNT]));
    // Coordinate ascent over the abusive and off-topic offsets, a few rounds.
    for _ in 0..3 {
        for c in [Label::Abusive.index(), Label::OffTopic.index()] {
            for &o in &grid {
                let mut offsets = best.0;
                offsets[c] = o;
                let f = score(offsets);
                if f > best.1 + 1e-12 {
                    best = (offsets, f);
                }
            }
        }
    }
    best
}
