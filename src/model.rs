//! Stage 4: multinomial naive Bayes on sparse rows, with linfa's `Fit`, `FitWith` and `Predict`.
//!
//! The parameters follow linfa's pattern: [`NaiveBayesParams`] (unchecked) →
//! [`NaiveBayesValidParams`] (checked) → fitted [`NaiveBayes`].
//!
//! Counts are kept as fixed-point integers (weight × [`WEIGHT_SCALE`]), so learning and then
//! forgetting the same comment restores the model exactly, and the model file is reproducible.

use crate::features::{FeatureMatrix, FeatureVector};
use crate::label::Label;
use linfa::ParamGuard;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::prelude::Records;
use linfa::traits::{Fit, FitWith, PredictInplace};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

const K: usize = Label::COUNT;

/// Feature weights are stored as integers in units of `1 / WEIGHT_SCALE`.
pub const WEIGHT_SCALE: f64 = 65536.0;

/// Where the class priors come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassPriors {
    /// The share of training comments in each class.
    Learned,
    /// One third each.
    Uniform,
    /// Given weights, indexed like [`Label::ALL`]; they are scaled to sum to 1.
    Fixed([f64; K]),
}

/// Which naive Bayes variant scores the counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NaiveBayesKind {
    /// Multinomial naive Bayes: a class's score rises with the evidence for it.
    #[default]
    Multinomial,
    /// Complement naive Bayes (Rennie et al. 2003): a class's score rises as the evidence for
    /// all *other* classes falls. Often better on skewed classes; the joint log-likelihoods are
    /// then `ln P(c) - Σⱼ xⱼ · ln θ̃ⱼc`, with θ̃ estimated from the other classes' counts.
    Complement,
}

/// Errors of fitting and updating the model.
#[derive(Debug, thiserror::Error)]
pub enum NaiveBayesError {
    /// Smoothing must be positive and finite.
    #[error("alpha must be a finite number > 0, got {0}")]
    InvalidAlpha(f64),
    /// Fixed priors must be positive and finite.
    #[error("fixed class priors must be finite and > 0, got {0:?}")]
    InvalidPriors([f64; K]),
    /// There is nothing to learn from.
    #[error("the dataset has no rows")]
    EmptyDataset,
    /// The dataset's width differs from the model's.
    #[error("the data has {data} features but the model has {model}")]
    FeatureMismatch {
        /// Columns in the data.
        data: usize,
        /// Columns in the model.
        model: usize,
    },
    /// Records and targets differ in length.
    #[error("{records} records but {targets} targets")]
    TargetMismatch {
        /// Number of records.
        records: usize,
        /// Number of targets.
        targets: usize,
    },
    /// Learning this row would overflow the model's 64-bit counts.
    #[error("learning this comment would overflow the model's counts")]
    Overflow,
    /// `forget` was asked to remove counts the model does not hold: the class has fewer
    /// comments, or some term fewer counts, than the comment would take away. (Counts can't
    /// tell a comment learned later from the training comments, so forgetting a comment never
    /// learned succeeds whenever the counts are large enough: forget only what was learned.)
    #[error("cannot forget a {0} comment that the model never learned")]
    NotLearned(Label),
    /// An error from linfa.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Checked hyper-parameters of [`NaiveBayes`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NaiveBayesValidParams {
    alpha: f64,
    priors: ClassPriors,
    #[serde(default)]
    kind: NaiveBayesKind,
}

impl NaiveBayesValidParams {
    /// Additive (Lidstone) smoothing.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The class priors.
    pub fn priors(&self) -> ClassPriors {
        self.priors
    }

    /// The variant.
    pub fn kind(&self) -> NaiveBayesKind {
        self.kind
    }
}

/// Hyper-parameters of [`NaiveBayes`], not yet checked.
///
/// ```
/// use comment_sieve::{ClassPriors, NaiveBayesParams};
/// use linfa::ParamGuard;
/// assert!(NaiveBayesParams::new().alpha(0.0).check().is_err());
/// assert!(NaiveBayesParams::new().alpha(f64::NAN).check().is_err());
/// let checked = NaiveBayesParams::new().alpha(0.1).priors(ClassPriors::Uniform).check().unwrap();
/// assert_eq!(checked.alpha(), 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NaiveBayesParams(NaiveBayesValidParams);

impl Default for NaiveBayesParams {
    fn default() -> Self {
        Self::new()
    }
}

impl NaiveBayesParams {
    /// α = 1, learned priors.
    pub fn new() -> Self {
        NaiveBayesParams(NaiveBayesValidParams {
            alpha: 1.0,
            priors: ClassPriors::Learned,
            kind: NaiveBayesKind::Multinomial,
        })
    }

    /// Sets the variant.
    pub fn kind(mut self, kind: NaiveBayesKind) -> Self {
        self.0.kind = kind;
        self
    }

    /// Sets the smoothing α (must be > 0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.0.alpha = alpha;
        self
    }

    /// Sets the class priors.
    pub fn priors(mut self, priors: ClassPriors) -> Self {
        self.0.priors = priors;
        self
    }
}

impl ParamGuard for NaiveBayesParams {
    type Checked = NaiveBayesValidParams;
    type Error = NaiveBayesError;

    fn check_ref(&self) -> Result<&Self::Checked, Self::Error> {
        let p = &self.0;
        if !(p.alpha.is_finite() && p.alpha > 0.0) {
            return Err(NaiveBayesError::InvalidAlpha(p.alpha));
        }
        if let ClassPriors::Fixed(w) = p.priors
            && w.iter().any(|v| !(v.is_finite() && *v > 0.0))
        {
            return Err(NaiveBayesError::InvalidPriors(w));
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Self::Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted multinomial naive Bayes model over sparse weighted counts.
///
/// The joint log-likelihood of class `c` for a row `x` is
/// `ln P(c) + Σⱼ xⱼ · ln((Nⱼc + α) / (Nc + α·V))`, where `Nⱼc` is the weighted count of feature
/// `j` in class `c`, `Nc` their sum and `V` the number of features.
#[derive(Debug, Clone, PartialEq)]
pub struct NaiveBayes {
    params: NaiveBayesValidParams,
    class_documents: [u64; K],
    feature_counts: Vec<[u64; K]>,
    class_totals: [u64; K],
    log_feature: Vec<[f64; K]>,
    log_total: [f64; K],
    log_prior: [f64; K],
}

fn to_fixed(w: f64) -> u64 {
    (w * WEIGHT_SCALE).round() as u64
}

fn from_fixed(q: u64) -> f64 {
    q as f64 / WEIGHT_SCALE
}

impl NaiveBayes {
    /// The default, unchecked hyper-parameters.
    pub fn params() -> NaiveBayesParams {
        NaiveBayesParams::new()
    }

    /// An untrained model of `n_features` columns.
    pub fn empty(params: NaiveBayesValidParams, n_features: usize) -> Self {
        let mut model = NaiveBayes {
            params,
            class_documents: [0; K],
            feature_counts: vec![[0; K]; n_features],
            class_totals: [0; K],
            log_feature: Vec::new(),
            log_total: [0.0; K],
            log_prior: [0.0; K],
        };
        model.refresh_all();
        model
    }

    /// Rebuilds a model from stored counts (fixed-point, see [`WEIGHT_SCALE`]).
    pub fn from_counts(
        params: NaiveBayesValidParams,
        class_documents: [u64; K],
        feature_counts: Vec<[u64; K]>,
    ) -> Self {
        let mut model = NaiveBayes {
            params,
            class_documents,
            feature_counts,
            class_totals: [0; K],
            log_feature: Vec::new(),
            log_total: [0.0; K],
            log_prior: [0.0; K],
        };
        model.refresh_all();
        model
    }

    /// The hyper-parameters.
    pub fn hyper_params(&self) -> &NaiveBayesValidParams {
        &self.params
    }

    /// Number of training comments per class, indexed like [`Label::ALL`].
    pub fn class_documents(&self) -> [u64; K] {
        self.class_documents
    }

    /// Fixed-point weighted counts per feature and class.
    pub fn feature_counts(&self) -> &[[u64; K]] {
        &self.feature_counts
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.feature_counts.len()
    }

    /// Whether every class has seen at least `n` training comments.
    pub fn has_min_documents(&self, n: u64) -> bool {
        self.class_documents.iter().all(|&d| d >= n)
    }

    /// `log P(term | class)` before the class total is subtracted, per feature.
    pub(crate) fn log_feature(&self) -> &[[f64; K]] {
        &self.log_feature
    }

    /// The per-class log normalizer subtracted once per unit of term weight.
    pub(crate) fn log_total(&self) -> [f64; K] {
        self.log_total
    }

    /// The log class priors in use.
    pub(crate) fn log_prior(&self) -> [f64; K] {
        self.log_prior
    }

    fn refresh_all(&mut self) {
        self.class_totals = [0; K];
        for counts in &self.feature_counts {
            for (total, count) in self.class_totals.iter_mut().zip(counts) {
                *total += count;
            }
        }
        self.log_feature = self
            .feature_counts
            .iter()
            .map(|counts| self.log_feature_of(counts))
            .collect();
        self.refresh_class_terms();
    }

    /// The per-class log weights of one feature with these counts.
    fn log_feature_of(&self, counts: &[u64; K]) -> [f64; K] {
        let alpha = self.params.alpha;
        match self.params.kind {
            NaiveBayesKind::Multinomial => counts.map(|q| (from_fixed(q) + alpha).ln()),
            NaiveBayesKind::Complement => {
                let all: u64 = counts.iter().sum();
                counts.map(|q| -(from_fixed(all - q) + alpha).ln())
            }
        }
    }

    fn refresh_class_terms(&mut self) {
        let v = self.feature_counts.len() as f64;
        let alpha = self.params.alpha;
        self.log_total = match self.params.kind {
            NaiveBayesKind::Multinomial => {
                self.class_totals.map(|t| (from_fixed(t) + alpha * v).ln())
            }
            NaiveBayesKind::Complement => {
                let all: u64 = self.class_totals.iter().sum();
                self.class_totals
                    .map(|t| -(from_fixed(all - t) + alpha * v).ln())
            }
        };
        self.log_prior = match self.params.priors {
            ClassPriors::Learned => {
                let n: u64 = self.class_documents.iter().sum();
                self.class_documents
                    .map(|d| (d as f64).ln() - (n.max(1) as f64).ln())
            }
            ClassPriors::Uniform => [-(K as f64).ln(); K],
            ClassPriors::Fixed(w) => {
                let sum: f64 = w.iter().sum();
                w.map(|x| (x / sum).ln())
            }
        };
    }

    /// Joint log-likelihood of each class for one row of `(column, weight)` pairs.
    /// Columns outside the model are ignored.
    pub fn joint_log_likelihood_of(&self, row: impl IntoIterator<Item = (usize, f64)>) -> [f64; K] {
        let mut acc = [0.0; K];
        let mut mass = 0.0;
        for (j, x) in row {
            if let Some(lf) = self.log_feature.get(j) {
                for c in 0..K {
                    acc[c] += x * lf[c];
                }
                mass += x;
            }
        }
        std::array::from_fn(|c| self.log_prior[c] + acc[c] - mass * self.log_total[c])
    }

    /// Joint log-likelihoods, one row per record and one column per class ([`Label::ALL`]).
    pub fn joint_log_likelihood(&self, x: &FeatureMatrix) -> Array2<f64> {
        let mut out = Array2::zeros((x.nrows(), K));
        for (i, mut row) in out.rows_mut().into_iter().enumerate() {
            let jll = self.joint_log_likelihood_of(x.row(i));
            row.iter_mut().zip(jll).for_each(|(o, v)| *o = v);
        }
        out
    }

    /// Class probabilities, one row per record, by log-sum-exp so they stay finite.
    pub fn predict_proba(&self, x: &FeatureMatrix) -> Array2<f64> {
        let mut jll = self.joint_log_likelihood(x);
        for mut row in jll.rows_mut() {
            let p = probabilities_from_log(&[row[0], row[1], row[2]]);
            row.iter_mut().zip(p).for_each(|(o, v)| *o = v);
        }
        jll
    }

    /// Adds one labeled row to the counts.
    pub fn learn(&mut self, row: &FeatureVector, label: Label) -> Result<(), NaiveBayesError> {
        self.check_row(row)?;
        let c = label.index();
        let added: u128 = row.iter().map(|(_, x)| u128::from(to_fixed(x))).sum();
        let everything: u128 = self.class_totals.iter().map(|&t| u128::from(t)).sum();
        let documents: u128 = self.class_documents.iter().map(|&d| u128::from(d)).sum();
        if everything + added > u128::from(u64::MAX) || documents + 1 > u128::from(u64::MAX) {
            return Err(NaiveBayesError::Overflow);
        }
        for (j, x) in row.iter() {
            let q = to_fixed(x);
            self.feature_counts[j][c] += q;
            self.class_totals[c] += q;
            self.log_feature[j] = self.log_feature_of(&self.feature_counts[j]);
        }
        self.class_documents[c] += 1;
        self.refresh_class_terms();
        Ok(())
    }

    /// Removes one labeled row that was learned before; `forget` after `learn` restores the
    /// model exactly. Fails, changing nothing, if the counts were never there.
    pub fn forget(&mut self, row: &FeatureVector, label: Label) -> Result<(), NaiveBayesError> {
        self.check_row(row)?;
        let c = label.index();
        let enough = self.class_documents[c] > 0
            && row
                .iter()
                .all(|(j, x)| self.feature_counts[j][c] >= to_fixed(x));
        if !enough {
            return Err(NaiveBayesError::NotLearned(label));
        }
        for (j, x) in row.iter() {
            let q = to_fixed(x);
            self.feature_counts[j][c] -= q;
            self.class_totals[c] -= q;
            self.log_feature[j] = self.log_feature_of(&self.feature_counts[j]);
        }
        self.class_documents[c] -= 1;
        self.refresh_class_terms();
        Ok(())
    }

    fn check_row(&self, row: &FeatureVector) -> Result<(), NaiveBayesError> {
        match row.indices.last() {
            Some(&j) if j as usize >= self.n_features() => Err(NaiveBayesError::FeatureMismatch {
                data: j as usize + 1,
                model: self.n_features(),
            }),
            _ => Ok(()),
        }
    }
}

/// Turns joint log-likelihoods into probabilities with log-sum-exp. The result is finite and
/// sums to 1 whenever at least one input is finite; with none, it is uniform.
pub fn probabilities_from_log(jll: &[f64; K]) -> [f64; K] {
    let max = jll.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return [1.0 / K as f64; K];
    }
    let exp = jll.map(|v| (v - max).exp());
    let sum: f64 = exp.iter().sum();
    exp.map(|e| e / sum)
}

impl<T> Fit<FeatureMatrix, T, NaiveBayesError> for NaiveBayesValidParams
where
    T: AsSingleTargets<Elem = Label>,
{
    type Object = NaiveBayes;

    fn fit(&self, dataset: &DatasetBase<FeatureMatrix, T>) -> Result<NaiveBayes, NaiveBayesError> {
        self.fit_with(None, dataset)
    }
}

impl<'a, T> FitWith<'a, FeatureMatrix, T, NaiveBayesError> for NaiveBayesValidParams
where
    T: AsSingleTargets<Elem = Label> + 'a,
{
    type ObjectIn = Option<NaiveBayes>;
    type ObjectOut = NaiveBayes;

    fn fit_with(
        &self,
        model: Option<NaiveBayes>,
        dataset: &'a DatasetBase<FeatureMatrix, T>,
    ) -> Result<NaiveBayes, NaiveBayesError> {
        let x = dataset.records();
        let y = dataset.as_single_targets();
        if x.nsamples() != y.len() {
            return Err(NaiveBayesError::TargetMismatch {
                records: x.nsamples(),
                targets: y.len(),
            });
        }
        if x.nsamples() == 0 && model.is_none() {
            return Err(NaiveBayesError::EmptyDataset);
        }
        let mut model = match model {
            Some(mut m) => {
                m.params = *self;
                m
            }
            None => NaiveBayes::empty(*self, x.nfeatures()),
        };
        if model.n_features() != x.nfeatures() {
            return Err(NaiveBayesError::FeatureMismatch {
                data: x.nfeatures(),
                model: model.n_features(),
            });
        }
        let mut everything: u128 = model.class_totals.iter().map(|&t| u128::from(t)).sum();
        let mut documents: u128 = model.class_documents.iter().map(|&d| u128::from(d)).sum();
        for (i, label) in y.iter().enumerate() {
            let c = label.index();
            everything += x.row(i).map(|(_, w)| u128::from(to_fixed(w))).sum::<u128>();
            documents += 1;
            if everything > u128::from(u64::MAX) || documents > u128::from(u64::MAX) {
                return Err(NaiveBayesError::Overflow);
            }
            for (j, w) in x.row(i) {
                model.feature_counts[j][c] += to_fixed(w);
            }
            model.class_documents[c] += 1;
        }
        model.refresh_all();
        Ok(model)
    }
}

impl PredictInplace<FeatureMatrix, Array1<Label>> for NaiveBayes {
    fn predict_inplace(&self, x: &FeatureMatrix, y: &mut Array1<Label>) {
        for (i, out) in y.iter_mut().enumerate().take(x.nrows()) {
            *out = argmax_label(&self.joint_log_likelihood_of(x.row(i)));
        }
    }

    fn default_target(&self, x: &FeatureMatrix) -> Array1<Label> {
        Array1::from_elem(x.nrows(), Label::default())
    }
}

/// The label with the highest score; ties go to the earlier label in [`Label::ALL`].
pub fn argmax_label(scores: &[f64; K]) -> Label {
    let mut best = 0;
    for c in 1..K {
        if scores[c] > scores[best] {
            best = c;
        }
    }
    Label::ALL[best]
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Predict;
    use ndarray::array;

    fn toy() -> DatasetBase<FeatureMatrix, Array1<Label>> {
        let x = array![
            [3.0, 0.0, 1.0],
            [0.0, 2.0, 0.0],
            [0.0, 0.0, 4.0],
            [1.0, 0.0, 0.0]
        ];
        let y = array![
            Label::Abusive,
            Label::OffTopic,
            Label::Substantive,
            Label::Abusive
        ];
        DatasetBase::new(FeatureMatrix::from_dense(&x).unwrap(), y)
    }

    #[test]
    fn fits_and_predicts() {
        let ds = toy();
        let model = NaiveBayes::params().fit(&ds).unwrap();
        let pred: Array1<Label> = model.predict(&ds);
        assert_eq!(pred, ds.targets);
        let p = model.predict_proba(ds.records());
        for row in p.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn alpha_must_be_positive() {
        let ds = toy();
        for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(NaiveBayes::params().alpha(alpha).fit(&ds).is_err());
        }
    }

    #[test]
    fn fit_with_equals_fit_on_all_data() {
        let ds = toy();
        let params = NaiveBayes::params().check().unwrap();
        let full = params.fit(&ds).unwrap();
        let x = ds.records();
        let mut a = FeatureMatrix::new(3);
        let mut b = FeatureMatrix::new(3);
        for i in 0..x.nrows() {
            let row = FeatureVector {
                indices: x.row(i).map(|(j, _)| j as u32).collect(),
                values: x.row(i).map(|(_, v)| v).collect(),
            };
            if i < 2 {
                a.push(&row).unwrap()
            } else {
                b.push(&row).unwrap()
            }
        }
        let da = DatasetBase::new(a, ds.targets.slice(ndarray::s![..2]).to_owned());
        let db = DatasetBase::new(b, ds.targets.slice(ndarray::s![2..]).to_owned());
        let step = params.fit_with(None, &da).unwrap();
        let step = params.fit_with(Some(step), &db).unwrap();
        assert_eq!(step, full);
    }

    #[test]
    fn learn_then_forget_restores_the_model() {
        let ds = toy();
        let model = NaiveBayes::params().fit(&ds).unwrap();
        let mut changed = model.clone();
        let row = FeatureVector {
            indices: vec![0, 2],
            values: vec![0.3, 2.0],
        };
        changed.learn(&row, Label::OffTopic).unwrap();
        assert_ne!(changed, model);
        changed.forget(&row, Label::OffTopic).unwrap();
        assert_eq!(changed, model);
        assert!(changed.forget(&row, Label::OffTopic).is_err());
        let too_wide = FeatureVector {
            indices: vec![7],
            values: vec![1.0],
        };
        assert!(changed.learn(&too_wide, Label::Abusive).is_err());
    }

    #[test]
    fn probabilities_stay_finite_for_huge_inputs() {
        let ds = toy();
        let model = NaiveBayes::params().fit(&ds).unwrap();
        let jll = model.joint_log_likelihood_of([(0, 1e9), (1, 1e9), (2, 3e9)]);
        let p = probabilities_from_log(&jll);
        assert!(p.iter().all(|v| v.is_finite()));
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(
            probabilities_from_log(&[f64::NEG_INFINITY; 3]),
            [1.0 / 3.0; 3]
        );
    }
}
