//! Evaluation: precision, recall and F1 per class, macro-F1, accuracy and the confusion matrix,
//! computed with linfa's classification metrics.

use crate::label::Label;
use linfa::prelude::ToConfusionMatrix;
use ndarray::Array1;
use serde::Serialize;
use std::collections::BTreeMap;

/// Scores of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassScores {
    /// Share of comments predicted as this class that are this class.
    pub precision: f64,
    /// Share of comments of this class predicted as this class.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Number of comments of this class in the truth.
    pub support: u64,
}

/// The scores of a set of predictions against the truth.
///
/// ```
/// use comment_sieve::{Evaluation, Label::*};
/// let truth = [Abusive, Abusive, OffTopic, Substantive];
/// let predicted = [Abusive, Substantive, OffTopic, Substantive];
/// let e = Evaluation::new(&truth, &predicted).unwrap();
/// assert_eq!(e.accuracy, 0.75);
/// assert_eq!(e.per_class[&Abusive].recall, 0.5);
/// assert_eq!(e.per_class[&Substantive].precision, 0.5);
/// assert_eq!(e.confusion[&Abusive][&Substantive], 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Number of comments.
    pub n: u64,
    /// Unweighted mean of the F1 scores of the classes that occur in the truth or the
    /// predictions (scikit-learn's convention; on data with every class, all three).
    pub macro_f1: f64,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Scores per class.
    pub per_class: BTreeMap<Label, ClassScores>,
    /// `confusion[truth][predicted]`: number of comments.
    pub confusion: BTreeMap<Label, BTreeMap<Label, u64>>,
}

/// Truth and predictions differ in length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{truth} true labels but {predicted} predictions")]
pub struct LengthMismatch {
    /// Number of true labels.
    pub truth: usize,
    /// Number of predictions.
    pub predicted: usize,
}

fn finite_or_zero(x: f32) -> f64 {
    if x.is_finite() { f64::from(x) } else { 0.0 }
}

impl Evaluation {
    /// Scores `predicted` against `truth`.
    pub fn new(truth: &[Label], predicted: &[Label]) -> Result<Self, LengthMismatch> {
        if truth.len() != predicted.len() {
            return Err(LengthMismatch {
                truth: truth.len(),
                predicted: predicted.len(),
            });
        }
        Ok(Self::score(truth, predicted))
    }

    /// Scores two slices of equal length.
    pub(crate) fn score(truth: &[Label], predicted: &[Label]) -> Self {
        let mut confusion: BTreeMap<Label, BTreeMap<Label, u64>> = Label::ALL
            .iter()
            .map(|&t| (t, Label::ALL.iter().map(|&p| (p, 0)).collect()))
            .collect();
        for (t, p) in truth.iter().zip(predicted) {
            if let Some(n) = confusion.get_mut(t).and_then(|row| row.get_mut(p)) {
                *n += 1;
            }
        }
        let mut per_class = BTreeMap::new();
        let mut accuracy = 0.0;
        if !truth.is_empty() {
            let pred = Array1::from(predicted.to_vec());
            let gold = Array1::from(truth.to_vec());
            // linfa sorts the labels present in either array; with exactly two it reverses them.
            let mut present: Vec<Label> = truth.iter().chain(predicted).copied().collect();
            present.sort();
            present.dedup();
            if present.len() == 2 {
                present.reverse();
            }
            if let Ok(cm) = pred.confusion_matrix(&gold) {
                accuracy = f64::from(cm.accuracy());
                for (label, one_vs_all) in present.iter().zip(cm.split_one_vs_all()) {
                    // linfa's one-vs-all matrix is [[tp, fp], [fn, tn]] and its `precision()`
                    // divides by the first column, its `recall()` by the first row, which for
                    // this layout are recall and precision: swap them back.
                    let precision = finite_or_zero(one_vs_all.recall());
                    let recall = finite_or_zero(one_vs_all.precision());
                    per_class.insert(
                        *label,
                        ClassScores {
                            precision,
                            recall,
                            f1: finite_or_zero(one_vs_all.f1_score()),
                            support: 0,
                        },
                    );
                }
            }
        }
        for label in Label::ALL {
            let support = confusion[&label].values().sum();
            let entry = per_class.entry(label).or_insert(ClassScores {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
                support,
            });
            entry.support = support;
        }
        // Over the classes that occur in the truth or the predictions, as scikit-learn's
        // `f1_score(average="macro")` counts them: a class in neither says nothing of the model.
        let occurring: Vec<f64> = Label::ALL
            .iter()
            .filter(|l| truth.contains(l) || predicted.contains(l))
            .map(|l| per_class[l].f1)
            .collect();
        let macro_f1 = if occurring.is_empty() {
            0.0
        } else {
            occurring.iter().sum::<f64>() / occurring.len() as f64
        };
        Evaluation {
            n: truth.len() as u64,
            macro_f1,
            accuracy,
            per_class,
            confusion,
        }
    }

    /// Mean F1 over the classes that occur in the truth (support > 0), for data that lacks some
    /// classes: a class with no rows but some predictions has F1 0, which drags `macro_f1`
    /// down; this mean leaves it out. 0 for no rows.
    ///
    /// ```
    /// use comment_sieve::{Evaluation, Label::*};
    /// let truth = [Abusive, Abusive, Substantive, Substantive];
    /// let predicted = [Abusive, OffTopic, Substantive, Substantive];
    /// let e = Evaluation::new(&truth, &predicted).unwrap();
    /// let f1 = |l| e.per_class[&l].f1;
    /// assert!((e.macro_f1_present() - (f1(Abusive) + f1(Substantive)) / 2.0).abs() < 1e-12);
    /// assert!(e.macro_f1_present() > e.macro_f1);
    /// ```
    pub fn macro_f1_present(&self) -> f64 {
        let present: Vec<f64> = self
            .per_class
            .values()
            .filter(|c| c.support > 0)
            .map(|c| c.f1)
            .collect();
        if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        }
    }

    /// A plain-text report: the per-class table, macro-F1, accuracy and the confusion matrix.
    pub fn report(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "{:<12} {:>9} {:>9} {:>9} {:>9}\n",
            "label", "precision", "recall", "f1", "support"
        ));
        for (label, c) in &self.per_class {
            s.push_str(&format!(
                "{:<12} {:>9.4} {:>9.4} {:>9.4} {:>9}\n",
                label.as_str(),
                c.precision,
                c.recall,
                c.f1,
                c.support
            ));
        }
        s.push_str(&format!(
            "\nmacro-F1 {:.4}   accuracy {:.4}   n {}\n\n",
            self.macro_f1, self.accuracy, self.n
        ));
        s.push_str("confusion (rows: truth, columns: predicted)\n");
        s.push_str(&format!("{:<12}", ""));
        for label in Label::ALL {
            s.push_str(&format!(" {:>11}", label.as_str()));
        }
        s.push('\n');
        for (truth, row) in &self.confusion {
            s.push_str(&format!("{:<12}", truth.as_str()));
            for n in row.values() {
                s.push_str(&format!(" {:>11}", n));
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::*;

    #[test]
    fn matches_hand_computed_scores() {
        // Abusive: tp 1, fp 2, fn 0. Substantive: tp 1, fp 0, fn 2.
        let truth = [Abusive, Substantive, Substantive, Substantive];
        let pred = [Abusive, Abusive, Abusive, Substantive];
        let e = Evaluation::new(&truth, &pred).unwrap();
        let a = e.per_class[&Abusive];
        assert!((a.precision - 1.0 / 3.0).abs() < 1e-6, "{a:?}");
        assert!((a.recall - 1.0).abs() < 1e-6, "{a:?}");
        assert!((a.f1 - 0.5).abs() < 1e-6);
        let s = e.per_class[&Substantive];
        assert!((s.precision - 1.0).abs() < 1e-6, "{s:?}");
        assert!((s.recall - 1.0 / 3.0).abs() < 1e-6, "{s:?}");
        assert_eq!(e.per_class[&OffTopic].f1, 0.0);
        assert_eq!(e.per_class[&OffTopic].support, 0);
        // Off-topic is in neither truth nor predictions: the mean is over the other two, as
        // scikit-learn's `f1_score(average="macro")` gives (0.5 here).
        assert!((e.macro_f1 - 0.5).abs() < 1e-6);
        assert_eq!(e.accuracy, 0.5);
    }

    #[test]
    fn three_classes() {
        let truth = [Abusive, OffTopic, Substantive, OffTopic, Abusive];
        let pred = [Abusive, Substantive, Substantive, OffTopic, OffTopic];
        let e = Evaluation::new(&truth, &pred).unwrap();
        let o = e.per_class[&OffTopic];
        assert!((o.precision - 0.5).abs() < 1e-6 && (o.recall - 0.5).abs() < 1e-6);
        let a = e.per_class[&Abusive];
        assert!((a.precision - 1.0).abs() < 1e-6 && (a.recall - 0.5).abs() < 1e-6);
        assert_eq!(e.confusion[&Abusive][&OffTopic], 1);
        assert!(e.report().contains("macro-F1"));
    }

    #[test]
    fn empty_and_mismatched() {
        assert!(Evaluation::new(&[Abusive], &[]).is_err());
        let e = Evaluation::new(&[], &[]).unwrap();
        assert_eq!(e.n, 0);
        assert_eq!(e.macro_f1, 0.0);
    }
}
