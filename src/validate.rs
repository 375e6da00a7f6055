//! Honest validation: grouped k-fold cross-validation and class-offset tuning on held-out folds.

use crate::classifier::{ClassifierParams, TrainError};
use crate::comment::Comment;
use crate::eval::Evaluation;
use crate::label::Label;
use crate::model::argmax_label;

/// Out-of-fold results of a cross-validation.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// Scores of the pooled out-of-fold predictions.
    pub evaluation: Evaluation,
    /// Each row's joint log-likelihoods from the model that did not see its fold.
    pub joint_log_likelihoods: Vec<[f64; Label::COUNT]>,
    /// Each row's true label.
    pub truth: Vec<Label>,
}

/// The fold of a row: comments on the same post share a fold, so no post is on both sides (as
/// in the corpus' own train/test split); a comment without a post is its own group.
fn fold_of(comment: &Comment<'_>, folds: usize) -> usize {
    let group = comment.post_id().unwrap_or(&comment.id);
    // FNV-1a: fixed, so folds are the same on every machine and run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in group.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % folds as u64) as usize
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
/// ```
pub fn cross_validate(
    params: &ClassifierParams,
    data: &[(Comment<'_>, Label)],
    folds: usize,
) -> Result<CrossValidation, TrainError> {
    let folds = folds.max(2);
    let fold: Vec<usize> = data.iter().map(|(c, _)| fold_of(c, folds)).collect();
    let mut jll = vec![[0.0; Label::COUNT]; data.len()];
    for k in 0..folds {
        let (train, test): (Vec<usize>, Vec<usize>) = (0..data.len()).partition(|&i| fold[i] != k);
        if train.is_empty() || test.is_empty() {
            continue;
        }
        let comments: Vec<Comment<'_>> = train.iter().map(|&i| data[i].0.clone()).collect();
        let labels: Vec<Label> = train.iter().map(|&i| data[i].1).collect();
        let classifier = params.train(&comments, &labels)?;
        let held_out: Vec<Comment<'_>> = test.iter().map(|&i| data[i].0.clone()).collect();
        for (&i, verdict) in test.iter().zip(classifier.classify_batch(&held_out)) {
            jll[i] = verdict.joint_log_likelihood;
        }
    }
    let truth: Vec<Label> = data.iter().map(|(_, l)| *l).collect();
    let predicted: Vec<Label> = jll.iter().map(argmax_label).collect();
    Ok(CrossValidation {
        evaluation: Evaluation::score(&truth, &predicted),
        joint_log_likelihoods: jll,
        truth,
    })
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
