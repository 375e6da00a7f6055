//! Calibrated probabilities: temperature scaling of the joint log-likelihoods, and the expected
//! calibration error that measures it.
//!
//! Naive Bayes is overconfident: its probabilities crowd near 0 and 1 because it counts
//! correlated words as independent evidence. Temperature scaling divides the joint
//! log-likelihoods by one number `T` before the softmax (`T > 1` softens them). The label, the
//! argmax, does not change; only how sure the model says it is.

use crate::classifier::Verdict;
use crate::label::Label;
use crate::model::{argmax_label, probabilities_from_log};
use serde::{Deserialize, Serialize};

/// Number of equal-width confidence bins of [`expected_calibration_error`].
pub const ECE_BINS: usize = 15;

/// Fewest training rows for which [`Calibration::Temperature`] fits a temperature; with fewer,
/// the out-of-fold predictions are too few to fit it and the model keeps its raw probabilities.
pub const MIN_CALIBRATION_ROWS: usize = 100;

/// Smallest and largest temperature the fit considers.
pub const TEMPERATURE_RANGE: (f64, f64) = (1.0 / 64.0, 64.0);

/// How a classifier's probabilities are calibrated when it is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Calibration {
    /// Raw naive Bayes probabilities: the softmax of the joint log-likelihoods.
    None,
    /// Temperature scaling, with `T` fitted by minimizing the negative log-likelihood of
    /// out-of-fold predictions from a grouped k-fold split of the training data (comments on
    /// the same post share a fold). Skipped (no temperature) with fewer than
    /// [`MIN_CALIBRATION_ROWS`] training rows.
    Temperature {
        /// Number of folds (at least 2).
        folds: u32,
    },
}

impl Default for Calibration {
    /// Temperature scaling on 5 folds.
    fn default() -> Self {
        Calibration::Temperature { folds: 5 }
    }
}

/// The softmax of `jll / temperature`. A temperature of `None` means 1.
///
/// ```
/// use comment_sieve::calibrate::probabilities_at;
/// let jll = [0.0, -2.0, -4.0];
/// let sharp = probabilities_at(&jll, None);
/// let soft = probabilities_at(&jll, Some(2.0));
/// assert!(soft[0] < sharp[0] && soft[0] > soft[1]);
/// assert!((soft.iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// ```
pub fn probabilities_at(
    jll: &[f64; Label::COUNT],
    temperature: Option<f64>,
) -> [f64; Label::COUNT] {
    match temperature {
        Some(t) if t.is_finite() && t > 0.0 && t != 1.0 => {
            probabilities_from_log(&jll.map(|v| v / t))
        }
        _ => probabilities_from_log(jll),
    }
}

/// Mean negative log-likelihood of the true labels under `softmax(jll / temperature)`.
pub fn negative_log_likelihood(
    joint_log_likelihoods: &[[f64; Label::COUNT]],
    truth: &[Label],
    temperature: f64,
) -> f64 {
    let n = joint_log_likelihoods.len().min(truth.len());
    if n == 0 {
        return 0.0;
    }
    let mut total = 0.0;
    for (jll, label) in joint_log_likelihoods.iter().zip(truth) {
        let z = jll.map(|v| v / temperature);
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !max.is_finite() {
            total += (Label::COUNT as f64).ln();
            continue;
        }
        let log_sum = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        total += log_sum - z[label.index()];
    }
    total / n as f64
}

/// The temperature that minimizes [`negative_log_likelihood`] within [`TEMPERATURE_RANGE`].
///
/// Golden-section search on `ln T` with a fixed number of steps, so the result depends on the
/// data alone. The negative log-likelihood is convex in `1/T`, hence unimodal in `ln T`, and
/// the search finds its minimum. Returns 1 for no data.
///
/// ```
/// use comment_sieve::{Label, calibrate::fit_temperature};
/// // Overconfident: always 99% sure, right 3 times out of 4.
/// let sure = [4.6, 0.0, 0.0];
/// let jll = [sure, sure, sure, sure];
/// let truth = [Label::Abusive, Label::Abusive, Label::Abusive, Label::Substantive];
/// let t = fit_temperature(&jll, &truth);
/// assert!(t > 1.0, "{t}");
/// ```
pub fn fit_temperature(joint_log_likelihoods: &[[f64; Label::COUNT]], truth: &[Label]) -> f64 {
    if joint_log_likelihoods.is_empty() || truth.is_empty() {
        return 1.0;
    }
    let f = |u: f64| negative_log_likelihood(joint_log_likelihoods, truth, u.exp());
    let (mut a, mut b) = (TEMPERATURE_RANGE.0.ln(), TEMPERATURE_RANGE.1.ln());
    let inv_phi = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - inv_phi * (b - a);
    let mut d = a + inv_phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    // 0.618^80 of a range of 8.3 is far below f64 resolution of ln T.
    for _ in 0..80 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - inv_phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + inv_phi * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

/// The expected calibration error of `verdicts` against `truth`, twice: of the verdicts'
/// probabilities as given (calibrated when the model is), and of the raw softmax of their joint
/// log-likelihoods (as without calibration). `eval` and leave-one-source-out report both.
pub fn verdict_calibration_errors(verdicts: &[Verdict], truth: &[Label]) -> (f64, f64) {
    let given: Vec<[f64; Label::COUNT]> = verdicts
        .iter()
        .map(|v| v.probabilities.to_array())
        .collect();
    let raw: Vec<[f64; Label::COUNT]> = verdicts
        .iter()
        .map(|v| probabilities_at(&v.joint_log_likelihood, None))
        .collect();
    (
        expected_calibration_error(&given, truth),
        expected_calibration_error(&raw, truth),
    )
}

/// Top-label expected calibration error over [`ECE_BINS`] equal-width confidence bins: the
/// rows are binned by the probability of their predicted label (the largest), and the ECE is
/// the row-weighted mean, over bins, of |accuracy − mean confidence|. 0 is perfect.
///
/// ```
/// use comment_sieve::{Label, calibrate::expected_calibration_error};
/// // 90% sure each time and right 9 times out of 10: calibrated.
/// let p = [[0.9, 0.05, 0.05]; 10];
/// let mut truth = [Label::Abusive; 10];
/// truth[0] = Label::Substantive;
/// assert!(expected_calibration_error(&p, &truth) < 1e-12);
/// // Right every time at 90%: under-confident by 0.1.
/// assert!((expected_calibration_error(&p, &[Label::Abusive; 10]) - 0.1).abs() < 1e-12);
/// ```
pub fn expected_calibration_error(probabilities: &[[f64; Label::COUNT]], truth: &[Label]) -> f64 {
    let mut count = [0u64; ECE_BINS];
    let mut confidence = [0.0f64; ECE_BINS];
    let mut correct = [0.0f64; ECE_BINS];
    let mut n = 0u64;
    for (p, label) in probabilities.iter().zip(truth) {
        let predicted = argmax_label(p);
        let conf = p[predicted.index()];
        if !conf.is_finite() {
            continue;
        }
        let bin = ((conf * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        count[bin] += 1;
        confidence[bin] += conf;
        if predicted == *label {
            correct[bin] += 1.0;
        }
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    (0..ECE_BINS)
        .filter(|&b| count[b] > 0)
        .map(|b| (correct[b] - confidence[b]).abs() / n as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::*;

    #[test]
    fn fitted_temperature_matches_a_fine_grid() {
        // Sure of its pick (margin 3 to 7) and right 7 times in 10: overconfident.
        let truth: Vec<Label> = (0..300).map(|i| Label::ALL[i % 3]).collect();
        let jll: Vec<[f64; 3]> = (0..300)
            .map(|i| {
                let pick = if i % 10 < 7 { i % 3 } else { (i + 1) % 3 };
                let mut j = [0.0; 3];
                j[pick] = 3.0 + f64::from((i % 5) as u32);
                j
            })
            .collect();
        let t = fit_temperature(&jll, &truth);
        assert!(t > 1.0 && t < TEMPERATURE_RANGE.1, "{t}");
        let step = (TEMPERATURE_RANGE.1.ln() - TEMPERATURE_RANGE.0.ln()) / 4000.0;
        let best_grid = (0..=4000)
            .map(|i| (TEMPERATURE_RANGE.0.ln() + f64::from(i) * step).exp())
            .min_by(|a, b| {
                negative_log_likelihood(&jll, &truth, *a)
                    .total_cmp(&negative_log_likelihood(&jll, &truth, *b))
            })
            .unwrap();
        assert!(
            negative_log_likelihood(&jll, &truth, t)
                <= negative_log_likelihood(&jll, &truth, best_grid) + 1e-12,
            "{t} vs grid {best_grid}"
        );
        assert_eq!(t, fit_temperature(&jll, &truth), "deterministic");
    }

    #[test]
    fn temperature_keeps_the_argmax() {
        let jll = [-3.0, -1.0, -2.5];
        for t in [0.1, 0.5, 1.0, 2.0, 50.0] {
            let p = probabilities_at(&jll, Some(t));
            assert_eq!(argmax_label(&p), OffTopic);
        }
        assert_eq!(
            probabilities_at(&jll, None),
            probabilities_at(&jll, Some(1.0))
        );
    }

    #[test]
    fn ece_of_nothing_is_zero_and_bins_are_clamped() {
        assert_eq!(expected_calibration_error(&[], &[]), 0.0);
        // Confidence exactly 1 falls in the last bin.
        let e = expected_calibration_error(&[[1.0, 0.0, 0.0]], &[OffTopic]);
        assert!((e - 1.0).abs() < 1e-12);
    }
}
