//! Stage 5: the whole pipeline behind one type, and its verdicts.

use crate::calibrate::{Calibration, MIN_CALIBRATION_ROWS, fit_temperature, probabilities_at};
use crate::comment::Comment;
use crate::context::{
    self, ContextFeatures, ContextKind, ContextParams, ContextScoring, Similarities,
};
use crate::explain::{self, Evidence};
use crate::features::{FeatureMatrix, FeatureVector};
use crate::label::Label;
use crate::model::{NaiveBayes, NaiveBayesError, NaiveBayesParams, argmax_label};
use crate::model_file::{ModelError, ModelInfo};
use crate::normalize::{Normalizer, NormalizerConfig, Scratch};
use crate::scoring::{ScoringScratch, ScoringTable};
use crate::vectorize::{
    ClassWeighting, VectorScratch, Vectorizer, VectorizerConfig, VectorizerError, VocabularyParams,
};
use linfa::dataset::DatasetBase;
use linfa::traits::Fit;
use ndarray::Array1;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

/// The probability of each label. Finite, each in [0, 1], summing to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Probabilities {
    /// P(abusive).
    pub abusive: f64,
    /// P(off_topic).
    pub off_topic: f64,
    /// P(substantive).
    pub substantive: f64,
}

impl Probabilities {
    /// From an array indexed like [`Label::ALL`].
    pub fn from_array(p: [f64; Label::COUNT]) -> Self {
        Probabilities {
            abusive: p[0],
            off_topic: p[1],
            substantive: p[2],
        }
    }

    /// As an array indexed like [`Label::ALL`].
    pub fn to_array(&self) -> [f64; Label::COUNT] {
        [self.abusive, self.off_topic, self.substantive]
    }

    /// The probability of `label`.
    pub fn get(&self, label: Label) -> f64 {
        self.to_array()[label.index()]
    }
}

/// What the classifier says about one comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The most probable label.
    pub label: Label,
    /// Every label's probability.
    pub probabilities: Probabilities,
    /// The model's joint log-likelihood per label, indexed like [`Label::ALL`]: the unnormalized
    /// log posterior the probabilities come from.
    pub joint_log_likelihood: [f64; Label::COUNT],
    /// Filled by [`Classifier::explain`] only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<Evidence>,
}

impl Verdict {
    /// The verdict for these joint log-likelihoods (indexed like [`Label::ALL`]): the label of
    /// the largest, and their softmax as probabilities. Useful to test code that acts on
    /// verdicts, such as a [`crate::Policy`].
    ///
    /// ```
    /// use comment_sieve::{Label, Verdict};
    /// let v = Verdict::from_joint_log_likelihood([0.9f64.ln(), 0.05f64.ln(), 0.05f64.ln()]);
    /// assert_eq!(v.label, Label::Abusive);
    /// assert!((v.probabilities.abusive - 0.9).abs() < 1e-12);
    /// ```
    pub fn from_joint_log_likelihood(jll: [f64; Label::COUNT]) -> Self {
        Self::from_jll(jll, None)
    }

    /// The verdict for these joint log-likelihoods at a temperature: the label of the largest,
    /// and the softmax of `jll / temperature` as probabilities (`None` means 1). The label does
    /// not depend on the temperature.
    ///
    /// ```
    /// use comment_sieve::{Label, Verdict};
    /// let jll = [-1.0, -5.0, -3.0];
    /// let raw = Verdict::from_joint_log_likelihood(jll);
    /// let soft = Verdict::at_temperature(jll, Some(2.0));
    /// assert_eq!(soft.label, raw.label);
    /// assert!(soft.probabilities.abusive < raw.probabilities.abusive);
    /// ```
    pub fn at_temperature(jll: [f64; Label::COUNT], temperature: Option<f64>) -> Self {
        Self::from_jll(jll, temperature)
    }

    fn from_jll(jll: [f64; Label::COUNT], temperature: Option<f64>) -> Self {
        Verdict {
            label: argmax_label(&jll),
            probabilities: Probabilities::from_array(probabilities_at(&jll, temperature)),
            joint_log_likelihood: jll,
            evidence: Vec::new(),
        }
    }

    /// The terms that moved this verdict, strongest first (by the size of their
    /// log-likelihood ratio for [`Verdict::label`]). Empty unless the verdict came from
    /// [`Classifier::explain`].
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}

/// Reusable per-thread buffers, so classifying allocates nothing once warm.
#[derive(Default)]
struct Workspace {
    scratch: Scratch,
    normalized: String,
    vector_scratch: VectorScratch,
    features: FeatureVector,
    scoring_scratch: ScoringScratch,
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::default());
}

/// A trained comment classifier: normalizer, vectorizer and naive Bayes model.
///
/// It is `Send + Sync`; share one across threads behind an `Arc` or a `&`.
///
/// ```
/// use comment_sieve::{Classifier, Comment, Label};
/// let classifier = Classifier::embedded()?;
/// let verdict = classifier.classify(&Comment::new("1", "You are a pathetic idiot and everyone hates you"));
/// assert_eq!(verdict.label, Label::Abusive);
/// let p = verdict.probabilities;
/// assert!((p.abusive + p.off_topic + p.substantive - 1.0).abs() < 1e-9);
/// # Ok::<(), comment_sieve::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Classifier {
    normalizer: Normalizer,
    /// Shared between clones: learning changes only the model's counts, so a clone (a snapshot
    /// in [`crate::SharedClassifier`]) copies the counts and not the vocabulary.
    vectorizer: Arc<Vectorizer>,
    model: NaiveBayes,
    info: ModelInfo,
    /// The fused fast path, derived from `vectorizer` and `model`; `None` only for a vocabulary
    /// the compact index can't hold, which falls back to the reference path.
    scoring: Option<ScoringTable>,
    /// Post-aware pseudo-token columns, after the vocabulary's (see [`crate::context`]).
    context: ContextFeatures,
    /// Per context column, the log-probabilities [`Classifier::context_log_p`] gives it,
    /// computed when the counts change rather than for every comment.
    context_log_p: Vec<Option<[f64; Label::COUNT]>>,
    /// Temperature of the probabilities (see [`crate::calibrate`]); `None` for raw ones.
    temperature: Option<f64>,
}

static EMBEDDED_MODEL: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/default.model"));

impl Classifier {
    /// Assembles a classifier without context features from its parts. The model must have
    /// one column per vocabulary term.
    pub fn from_parts(
        normalizer: Normalizer,
        vectorizer: Vectorizer,
        model: NaiveBayes,
        info: ModelInfo,
    ) -> Result<Self, ModelError> {
        Self::from_parts_with_context(
            normalizer,
            vectorizer,
            model,
            ContextFeatures::default(),
            info,
        )
    }

    /// Assembles a classifier from its parts. The model must have one column per vocabulary
    /// term, then one per context column ([`ContextFeatures::n_columns`]).
    pub fn from_parts_with_context(
        normalizer: Normalizer,
        vectorizer: Vectorizer,
        model: NaiveBayes,
        context: ContextFeatures,
        info: ModelInfo,
    ) -> Result<Self, ModelError> {
        let terms = vectorizer.vocabulary().len();
        if context.kinds()[ContextKind::Links as usize] && !context::counts_links(&vectorizer) {
            return Err(ModelError::Invalid(format!(
                "link tokens are on but the vocabulary has no `{}` term to count links with",
                crate::normalize::URL_TOKEN
            )));
        }
        if model.n_features() != terms + context.n_columns() {
            return Err(ModelError::Invalid(format!(
                "{} model features for {} vocabulary terms and {} context columns",
                model.n_features(),
                terms,
                context.n_columns()
            )));
        }
        let scoring = ScoringTable::build(&vectorizer, &model);
        let mut classifier = Classifier {
            normalizer,
            vectorizer: Arc::new(vectorizer),
            model,
            info,
            scoring,
            context,
            context_log_p: Vec::new(),
            temperature: None,
        };
        classifier.refresh_context_log_p();
        Ok(classifier)
    }

    /// The same classifier with its probabilities at `temperature`: the softmax of the joint
    /// log-likelihoods divided by it (`None` for the raw softmax). Labels do not change. A
    /// temperature must be finite and positive.
    pub fn with_temperature(mut self, temperature: Option<f64>) -> Result<Self, ModelError> {
        if let Some(t) = temperature
            && !(t.is_finite() && t > 0.0)
        {
            return Err(ModelError::Invalid(format!(
                "temperature {t} is not a finite positive number"
            )));
        }
        self.temperature = temperature;
        Ok(self)
    }

    /// The temperature of the probabilities, if the model is calibrated.
    pub fn temperature(&self) -> Option<f64> {
        self.temperature
    }

    /// The default model, compiled into the library from `models/default.model`.
    pub fn embedded() -> Result<Self, ModelError> {
        Self::from_bytes(EMBEDDED_MODEL)
    }

    /// The bytes of the embedded default model file.
    pub fn embedded_bytes() -> &'static [u8] {
        EMBEDDED_MODEL
    }

    /// Loads a model file written by [`Classifier::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        crate::model_file::read(path.as_ref())
    }

    /// Decodes a model from the bytes of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        crate::model_file::decode(bytes)
    }

    /// Encodes the model as model-file bytes. The same model always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::model_file::encode(self)
    }

    /// Writes the model file atomically: to a temporary file beside `path`, then renamed.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        crate::model_file::write(path.as_ref(), &self.to_bytes())
    }

    /// The normalizer.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The vectorizer and its vocabulary.
    pub fn vectorizer(&self) -> &Vectorizer {
        &self.vectorizer
    }

    /// The naive Bayes model.
    pub fn model(&self) -> &NaiveBayes {
        &self.model
    }

    /// Where the model came from.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The model's context features (inactive for a model trained without them).
    pub fn context(&self) -> &ContextFeatures {
        &self.context
    }

    /// Classifies one comment. With a model trained with context features, a comment that
    /// carries its post's title or body gets post-similarity tokens, and the metadata tokens
    /// the model has (link count; author URL when the comment's source has the field) are added
    /// (see [`crate::context`]); thread and parent contexts need
    /// [`Classifier::classify_batch`].
    ///
    /// ```
    /// use comment_sieve::{Classifier, Comment};
    /// let classifier = Classifier::embedded()?;
    /// let alone = Comment::new("1", "Rents went up 20% here since the change.");
    /// let with_post = alone.clone().with_post_title("How the tax change affects renters");
    /// // Without post text, a comment scores as its bare text.
    /// assert_eq!(classifier.classify(&alone), classifier.classify_text(&alone.text));
    /// let verdict = classifier.classify(&with_post);
    /// assert!((verdict.probabilities.to_array().iter().sum::<f64>() - 1.0).abs() < 1e-9);
    /// # Ok::<(), comment_sieve::ModelError>(())
    /// ```
    pub fn classify(&self, comment: &Comment<'_>) -> Verdict {
        Verdict::from_jll(self.comment_jll(comment), self.temperature)
    }

    /// The joint log-likelihoods of one comment read alone: its text, plus post and metadata
    /// tokens.
    fn comment_jll(&self, comment: &Comment<'_>) -> [f64; Label::COUNT] {
        let (jll, links) = self.text_jll(&comment.text);
        match self.single_similarities_with(comment, links) {
            Some(sims) => self.add_context(jll, &sims),
            None => jll,
        }
    }

    /// The similarities of a comment read alone (post context and metadata), or `None` if it
    /// has nothing the model uses.
    fn single_similarities(&self, comment: &Comment<'_>) -> Option<Similarities> {
        let links = match self.context.kinds()[ContextKind::Links as usize] {
            true => context::count_links(&self.normalizer.normalize(&comment.text)),
            false => 0,
        };
        self.single_similarities_with(comment, links)
    }

    /// [`Classifier::single_similarities`] of a comment whose text has `links` links.
    fn single_similarities_with(
        &self,
        comment: &Comment<'_>,
        links: usize,
    ) -> Option<Similarities> {
        let kinds = self.context.kinds();
        let mut sims = [None; ContextKind::COUNT];
        self.set_metadata(&mut sims, comment, links);
        if kinds[ContextKind::Post as usize]
            && comment.post.as_deref().is_some_and(context::has_text)
        {
            let vector = self.features(&comment.text);
            sims[ContextKind::Post as usize] =
                context::post_similarity(&self.normalizer, &self.vectorizer, comment, &vector);
        }
        sims.iter().any(Option::is_some).then_some(sims)
    }

    /// Sets the metadata values of `sims` (link count, author URL) for the kinds the model
    /// uses, for `comment` whose text has `links` links.
    fn set_metadata(&self, sims: &mut Similarities, comment: &Comment<'_>, links: usize) {
        context::set_metadata(self.context.kinds(), sims, comment, Some(links));
    }

    /// Adds the context tokens of `sims` to text-only joint log-likelihoods, as the model
    /// would score them in the same row as the text's terms.
    fn add_context(
        &self,
        mut jll: [f64; Label::COUNT],
        sims: &Similarities,
    ) -> [f64; Label::COUNT] {
        let w = self.context.weight();
        for column in self.context.columns(sims) {
            if let Some(Some(log_p)) = self.context_log_p.get(column) {
                for c in 0..Label::COUNT {
                    jll[c] += w * log_p[c];
                }
            }
        }
        jll
    }

    /// Recomputes [`Classifier::context_log_p`] of every context column.
    fn refresh_context_log_p(&mut self) {
        self.context_log_p = (0..self.context.n_columns())
            .map(|column| self.context_log_p(column))
            .collect();
    }

    /// Per class, the log-probability the model gives context column `column` (counted from
    /// the first context column), as [`ContextScoring`] says.
    fn context_log_p(&self, column: usize) -> Option<[f64; Label::COUNT]> {
        let base = self.vectorizer.vocabulary().len();
        match self.context.scoring() {
            ContextScoring::Multinomial => {
                let lf = self.model.log_feature().get(base + column)?;
                let log_total = self.model.log_total();
                Some(std::array::from_fn(|c| lf[c] - log_total[c]))
            }
            ContextScoring::Conditional => {
                let kind = ContextKind::ALL.into_iter().find(|&k| {
                    self.context
                        .kind_columns(k)
                        .is_some_and(|r| r.contains(&column))
                })?;
                let range = self.context.kind_columns(kind)?;
                let counts = self.model.feature_counts();
                let own = counts.get(base + column)?;
                let buckets = range.len() as f64;
                // Laplace smoothing of one comment's worth of count per bucket.
                let unit = (self.context.weight() * crate::model::WEIGHT_SCALE).round();
                Some(std::array::from_fn(|c| {
                    let all: f64 = range
                        .clone()
                        .filter_map(|j| counts.get(base + j))
                        .map(|n| n[c] as f64)
                        .sum();
                    ((own[c] as f64 + unit) / (all + unit * buckets)).ln()
                }))
            }
        }
    }

    /// The model row of a comment read alone: its text's terms, then its post tokens.
    fn comment_features(&self, comment: &Comment<'_>) -> FeatureVector {
        let mut x = self.features(&comment.text);
        if let Some(sims) = self.single_similarities(comment) {
            self.push_context(&mut x, &sims);
        }
        x
    }

    fn push_context(&self, x: &mut FeatureVector, sims: &Similarities) {
        let base = self.vectorizer.vocabulary().len();
        for column in self.context.columns(sims) {
            x.indices.push((base + column) as u32);
            x.values.push(self.context.weight());
        }
    }

    /// Classifies one bare text (with its link-count token if the model has them).
    pub fn classify_text(&self, text: &str) -> Verdict {
        let (jll, links) = self.text_jll(text);
        Verdict::from_jll(self.add_links(jll, links), self.temperature)
    }

    /// The joint log-likelihoods the model gives a text's terms alone, without any context or
    /// link-count token: what its multinomial model gives the text's vector, through the fast
    /// scoring path. For checking that path, and for tools that add their own evidence.
    ///
    /// ```
    /// use comment_sieve::Classifier;
    /// let classifier = Classifier::embedded()?;
    /// let text = "Free gift cards at http://example.com";
    /// let fast = classifier.terms_joint_log_likelihood(text);
    /// let reference = classifier.model().joint_log_likelihood_of(classifier.features(text).iter());
    /// for (f, r) in fast.iter().zip(&reference) {
    ///     assert!((f - r).abs() <= 1e-9 * r.abs());
    /// }
    /// # Ok::<(), comment_sieve::ModelError>(())
    /// ```
    pub fn terms_joint_log_likelihood(&self, text: &str) -> [f64; Label::COUNT] {
        self.text_jll(text).0
    }

    /// Adds the link-count token of a text with `links` links, if the model has them.
    fn add_links(&self, jll: [f64; Label::COUNT], links: usize) -> [f64; Label::COUNT] {
        let log_p = self
            .context
            .column(ContextKind::Links, links as f64)
            .and_then(|column| self.context_log_p.get(column)?.as_ref());
        match log_p {
            Some(log_p) => {
                let w = self.context.weight();
                std::array::from_fn(|c| jll[c] + w * log_p[c])
            }
            None => jll,
        }
    }

    /// [`Classifier::features`], the text-only joint log-likelihoods and the number of links
    /// of one text, from one pass (the same vector and the same numbers as `features` and
    /// `text_jll` give).
    fn text_features(&self, text: &str) -> (FeatureVector, [f64; Label::COUNT], usize) {
        let with = |ws: &mut Workspace| {
            let mut out = FeatureVector::default();
            let (jll, links) = match &self.scoring {
                Some(table) => table.transform_and_score(
                    &self.vectorizer,
                    &self.normalizer,
                    text,
                    &mut ws.scoring_scratch,
                    &mut out,
                ),
                None => {
                    self.normalizer
                        .normalize_into(text, &mut ws.scratch, &mut ws.normalized);
                    self.vectorizer.transform_into(
                        &ws.normalized,
                        &mut ws.vector_scratch,
                        &mut out,
                    );
                    (
                        self.model.joint_log_likelihood_of(out.iter()),
                        self.reference_links(&ws.normalized),
                    )
                }
            };
            (out, jll, links)
        };
        WORKSPACE.with(|ws| match ws.try_borrow_mut() {
            Ok(mut ws) => with(&mut ws),
            Err(_) => with(&mut Workspace::default()),
        })
    }

    /// The text-only joint log-likelihoods of one text, and its number of links.
    fn text_jll(&self, text: &str) -> ([f64; Label::COUNT], usize) {
        WORKSPACE.with(|ws| match ws.try_borrow_mut() {
            Ok(mut ws) => self.classify_with(text, &mut ws),
            Err(_) => self.classify_with(text, &mut Workspace::default()),
        })
    }

    fn classify_with(&self, text: &str, ws: &mut Workspace) -> ([f64; Label::COUNT], usize) {
        let Workspace {
            scratch,
            normalized,
            vector_scratch,
            features,
            scoring_scratch,
        } = ws;
        if let Some(table) = &self.scoring {
            return table.joint_log_likelihood(
                &self.vectorizer,
                &self.normalizer,
                text,
                scoring_scratch,
            );
        }
        self.normalizer.normalize_into(text, scratch, normalized);
        self.vectorizer
            .transform_into(normalized, vector_scratch, features);
        (
            self.model.joint_log_likelihood_of(features.iter()),
            self.reference_links(normalized),
        )
    }

    /// On the reference path, the number of links of a normalized text. Counted only when the
    /// model has link tokens, the one use of the count (0 otherwise).
    fn reference_links(&self, normalized: &str) -> usize {
        match self.context.kinds()[ContextKind::Links as usize] {
            true => context::count_links(normalized),
            false => 0,
        }
    }

    /// Classifies one comment like [`Classifier::classify`] and lists its evidence: every
    /// vocabulary term of the comment with its span in the original text and its per-label
    /// log-likelihood ratio (see [`Evidence`]). Slower than `classify`; meant for moderators
    /// and debugging.
    pub fn explain(&self, comment: &Comment<'_>) -> Verdict {
        let text: &str = &comment.text;
        let mut verdict = self.classify(comment);
        let normalized = self.normalizer.normalize(text);
        let x = self.vectorizer.transform(&normalized);
        let spans = explain::word_spans(&self.normalizer, text, &normalized);
        // First occurrence and count of each known term, in order of first occurrence.
        let mut first: Vec<(u32, std::ops::Range<usize>, u32)> = Vec::new();
        let mut position: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
        self.vectorizer
            .for_each_known_term(&normalized, |j, words, _prefix| match position.entry(j) {
                std::collections::hash_map::Entry::Occupied(e) => first[*e.get()].2 += 1,
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(first.len());
                    first.push((j, words, 1));
                }
            });
        let log_feature = self.model.log_feature();
        let log_total = self.model.log_total();
        let label = verdict.label.index();
        let ratio_of = |j: usize, weight: f64| -> Option<[f64; Label::COUNT]> {
            let lf = log_feature.get(j)?;
            let log_p: [f64; Label::COUNT] = std::array::from_fn(|c| lf[c] - log_total[c]);
            let total: f64 = log_p.iter().sum();
            let others = (Label::COUNT - 1) as f64;
            Some(std::array::from_fn(|c| {
                weight * (log_p[c] - (total - log_p[c]) / others)
            }))
        };
        let mut evidence: Vec<Evidence> = first
            .into_iter()
            .filter_map(|(j, words, count)| {
                let weight = x.indices.binary_search(&j).ok().map(|k| x.values[k])?;
                Some(Evidence {
                    term: self.vectorizer.vocabulary().terms()[j as usize].to_string(),
                    span: explain::span_of(&spans, &words),
                    count,
                    log_likelihood_ratio: ratio_of(j as usize, weight)?,
                })
            })
            .collect();
        // Context tokens have no place in the text: an empty span at its start.
        if let Some(sims) = self.single_similarities(comment) {
            for column in self.context.columns(&sims) {
                if let (Some(term), Some(log_p)) =
                    (self.context.column_name(column), self.context_log_p(column))
                {
                    let total: f64 = log_p.iter().sum();
                    let others = (Label::COUNT - 1) as f64;
                    let w = self.context.weight();
                    let ratio =
                        std::array::from_fn(|c| w * (log_p[c] - (total - log_p[c]) / others));
                    evidence.push(Evidence {
                        term,
                        span: 0..0,
                        count: 1,
                        log_likelihood_ratio: ratio,
                    });
                }
            }
        }
        evidence.sort_by(|a, b| {
            b.log_likelihood_ratio[label]
                .abs()
                .total_cmp(&a.log_likelihood_ratio[label].abs())
                .then(a.span.start.cmp(&b.span.start))
        });
        verdict.evidence = evidence;
        verdict
    }

    /// Classifies many comments in parallel (on rayon's current pool), in input order.
    ///
    /// With a model trained with context features, comments also get context from each
    /// other (see [`crate::context`]): a reply from its parent when the parent is in the
    /// batch, and a comment without post text from the other comments of its post in the
    /// batch (leave-one-out). A comment with no such context gets the same verdict as from
    /// [`Classifier::classify`].
    ///
    /// ```
    /// use comment_sieve::{Classifier, Comment};
    /// let classifier = Classifier::embedded()?;
    /// let thread = [
    ///     Comment::new("1", "The council should fund the new library.").with_post_id("p"),
    ///     Comment::new("2", "Library funding matters more than the stadium.").with_post_id("p"),
    /// ];
    /// let verdicts = classifier.classify_batch(&thread);
    /// assert_eq!(verdicts.len(), 2);
    /// # Ok::<(), comment_sieve::ModelError>(())
    /// ```
    pub fn classify_batch(&self, comments: &[Comment<'_>]) -> Vec<Verdict> {
        let refs: Vec<&Comment<'_>> = comments.iter().collect();
        self.classify_refs(&refs)
    }

    /// [`Classifier::classify_batch`] over borrowed comments.
    pub(crate) fn classify_refs(&self, comments: &[&Comment<'_>]) -> Vec<Verdict> {
        self.batch_jll(comments)
            .into_par_iter()
            .map(|jll| Verdict::from_jll(jll, self.temperature))
            .collect()
    }

    fn batch_jll(&self, comments: &[&Comment<'_>]) -> Vec<[f64; Label::COUNT]> {
        if !self.context.is_active() {
            return comments
                .par_iter()
                .map(|c| self.text_jll(&c.text).0)
                .collect();
        }
        // Only the comments that have a context in the batch, or are one, need their vector.
        let plan = context::BatchPlan::new(self.context.kinds(), comments);
        let needed = plan.needs_vector(comments.len());
        let (vectors, scores): (Vec<FeatureVector>, Vec<([f64; Label::COUNT], usize)>) = comments
            .par_iter()
            .zip(&needed)
            .map(|(c, &need)| match need {
                true => {
                    let (vector, jll, links) = self.text_features(&c.text);
                    (vector, (jll, links))
                }
                false => (FeatureVector::default(), self.text_jll(&c.text)),
            })
            .unzip();
        let mut sims = plan.similarities(&self.normalizer, &self.vectorizer, comments, &vectors);
        for ((s, &(_, links)), comment) in sims.iter_mut().zip(&scores).zip(comments) {
            self.set_metadata(s, comment, links);
        }
        scores
            .into_par_iter()
            .zip(sims)
            .map(|((jll, _), s)| self.add_context(jll, &s))
            .collect()
    }

    /// The context similarities each comment of a batch gets, as [`Classifier::classify_batch`]
    /// computes them (indexed like [`ContextKind::ALL`]; `None` where there is no such context
    /// or the model does not use it).
    pub fn batch_similarities(&self, comments: &[Comment<'_>]) -> Vec<Similarities> {
        let refs: Vec<&Comment<'_>> = comments.iter().collect();
        let (vectors, links): (Vec<FeatureVector>, Vec<usize>) = refs
            .par_iter()
            .map(|c| {
                let normalized = self.normalizer.normalize(&c.text);
                (
                    self.vectorizer.transform(&normalized),
                    self.reference_links(&normalized),
                )
            })
            .unzip();
        let mut sims = context::batch_similarities(
            &self.normalizer,
            &self.vectorizer,
            self.context.kinds(),
            &refs,
            &vectors,
        );
        for ((s, &n), comment) in sims.iter_mut().zip(&links).zip(comments) {
            self.set_metadata(s, comment, n);
        }
        sims
    }

    /// The names of the context tokens a comment read alone gets (empty without post text or
    /// with a model without context features).
    pub fn context_tokens(&self, comment: &Comment<'_>) -> Vec<String> {
        match self.single_similarities(comment) {
            Some(sims) => self
                .context
                .columns(&sims)
                .filter_map(|c| self.context.column_name(c))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The feature vector of one text, as the model sees it.
    pub fn features(&self, text: &str) -> FeatureVector {
        let normalized = self.normalizer.normalize(text);
        self.vectorizer.transform(&normalized)
    }

    /// Adds one moderated comment to the model's counts.
    pub fn learn(&mut self, comment: &Comment<'_>, label: Label) -> Result<(), NaiveBayesError> {
        let x = self.comment_features(comment);
        self.model.learn(&x, label)?;
        self.refresh_scoring(&x);
        Ok(())
    }

    /// Removes one comment learned before with the same label; undoes [`Classifier::learn`]
    /// exactly. Forget only what was learned: the counts can't tell a learned comment from the
    /// training data, so a comment never learned is refused
    /// ([`NaiveBayesError::NotLearned`]) only when the counts it would take away are not there.
    pub fn forget(&mut self, comment: &Comment<'_>, label: Label) -> Result<(), NaiveBayesError> {
        let x = self.comment_features(comment);
        self.model.forget(&x, label)?;
        self.refresh_scoring(&x);
        Ok(())
    }

    /// Brings the fast path's rows of `x`'s columns up to date with the model.
    fn refresh_scoring(&mut self, x: &FeatureVector) {
        self.refresh_context_log_p();
        if let Some(table) = &mut self.scoring {
            let columns = x.indices.iter().map(|&j| j as usize);
            table.refresh(&self.vectorizer, &self.model, columns);
        }
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Comments and labels differ in number.
    #[error("{comments} comments but {labels} labels")]
    LengthMismatch {
        /// Number of comments.
        comments: usize,
        /// Number of labels.
        labels: usize,
    },
    /// Bad vectorizer settings.
    #[error(transparent)]
    Vectorizer(#[from] VectorizerError),
    /// Bad model settings or data.
    #[error(transparent)]
    Model(#[from] NaiveBayesError),
    /// Internal inconsistency while assembling the classifier.
    #[error(transparent)]
    Assemble(#[from] ModelError),
    /// Bad context-feature settings.
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    /// Training weights and comments differ in number.
    #[error("{weights} training weights for {comments} comments")]
    WeightCount {
        /// Number of comments.
        comments: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A training weight that is negative, infinite or NaN.
    #[error("training weight {weight} of row {row} must be finite and non-negative")]
    Weight {
        /// Index of the row among the training rows.
        row: usize,
        /// The weight given.
        weight: f64,
    },
}

/// Everything that decides how a classifier is trained.
///
/// ```
/// use comment_sieve::{ClassifierParams, Comment, Label, VocabularyParams};
/// let comments = [
///     Comment::new("1", "you are an idiot"),
///     Comment::new("2", "buy cheap pills at pills.com"),
///     Comment::new("3", "the budget cuts will hurt schools"),
/// ];
/// let labels = [Label::Abusive, Label::OffTopic, Label::Substantive];
/// // The defaults drop terms seen only once; keep them for this tiny example.
/// let params = ClassifierParams {
///     vocabulary: VocabularyParams { min_df: 1, ..Default::default() },
///     ..Default::default()
/// };
/// let classifier = params.train(&comments, &labels).unwrap();
/// assert_eq!(classifier.classify(&Comment::new("4", "what an idiot")).label, Label::Abusive);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassifierParams {
    /// Normalizer settings.
    pub normalizer: NormalizerConfig,
    /// Vectorizer settings.
    pub vectorizer: VectorizerConfig,
    /// Vocabulary pruning.
    pub vocabulary: VocabularyParams,
    /// Supervised term weighting (see [`ClassWeighting`]); `None` for idf alone. A params
    /// file without this field means `None`.
    #[serde(default)]
    pub class_weighting: Option<ClassWeighting>,
    /// Naive Bayes smoothing α (> 0).
    pub alpha: f64,
    /// Class priors.
    pub priors: crate::model::ClassPriors,
    /// Naive Bayes variant.
    pub kind: crate::model::NaiveBayesKind,
    /// Post-aware context features (see [`crate::context`]).
    #[serde(default)]
    pub context: ContextParams,
    /// How the probabilities are calibrated (see [`crate::calibrate`]).
    pub calibration: Calibration,
}

/// The settings of the shipped default model, chosen by 5-fold cross-validation on the
/// corpus' train split (see `models/README.md`).
impl Default for ClassifierParams {
    fn default() -> Self {
        ClassifierParams {
            normalizer: NormalizerConfig::default(),
            vectorizer: VectorizerConfig {
                ngram_range: (1, 2),
                term_weight: crate::vectorize::TermWeight::Sublinear,
                idf: true,
                l2_normalize: true,
                prefix_len: 4,
                // Targeted pairs `you>w` over the next 4 words: with class weighting they
                // raised out-of-fold macro-F1 from 0.7943 to 0.7983.
                target_window: 4,
            },
            vocabulary: VocabularyParams {
                min_df: 2,
                max_df: 1.0,
                max_features: None,
            },
            // Chosen by grouped 5-fold CV on the train split (see `models/README.md`): out-of-fold
            // macro-F1 0.7875 to 0.7943 at tuned offsets.
            class_weighting: Some(ClassWeighting {
                smoothing: 2.0,
                power: 0.75,
            }),
            // The largest α (from 0.05 down) whose model beats scikit-learn NB on every held-out
            // source (leave-one-source-out on the train split); 0.05 lost on `sms_spam`.
            alpha: 0.04,
            // Class offsets tuned for macro-F1 on held-out folds (`cv --tune-offsets`, at
            // these settings): exp(-1.6), exp(-1.9), 1.
            priors: crate::model::ClassPriors::Fixed([0.2019, 0.1496, 1.0]),
            kind: crate::model::NaiveBayesKind::Multinomial,
            // Thread similarity and link count: post-title tokens lowered out-of-fold
            // macro-F1; link tokens raised it (0.7833 to 0.7875). Author-URL tokens where the
            // training comments have the field (the shared corpus has none, so the default
            // model has none).
            context: ContextParams {
                buckets: 5,
                weight: 1.5,
                post: false,
                parent: false,
                thread: true,
                links: true,
                author_url: true,
                scoring: crate::context::ContextScoring::Conditional,
            },
            calibration: Calibration::default(),
        }
    }
}

impl ClassifierParams {
    /// Trains on `comments` with their `labels`. Deterministic: the same input gives the same
    /// model, whatever the number of threads.
    ///
    /// With [`Calibration::Temperature`] and at least [`MIN_CALIBRATION_ROWS`] rows, this
    /// first trains one model per fold of a grouped k-fold split, fits the temperature on their
    /// out-of-fold predictions, then trains the model on everything.
    pub fn train(
        &self,
        comments: &[Comment<'_>],
        labels: &[Label],
    ) -> Result<Classifier, TrainError> {
        self.train_with_info(comments, labels, ModelInfo::default())
    }

    /// Like [`ClassifierParams::train`], recording `info` in the model.
    pub fn train_with_info(
        &self,
        comments: &[Comment<'_>],
        labels: &[Label],
        info: ModelInfo,
    ) -> Result<Classifier, TrainError> {
        self.train_weighted(comments, labels, None, info)
    }

    /// Like [`ClassifierParams::train_with_info`], with a weight per training row (`None`: all
    /// 1): a row of weight `w` counts as `w` copies of itself in the naive Bayes counts. The
    /// vocabulary, document frequencies and context bucket edges do not depend on the weights.
    pub fn train_weighted(
        &self,
        comments: &[Comment<'_>],
        labels: &[Label],
        weights: Option<&[f64]>,
        info: ModelInfo,
    ) -> Result<Classifier, TrainError> {
        if let Some(w) = weights {
            if w.len() != comments.len() {
                return Err(TrainError::WeightCount {
                    comments: comments.len(),
                    weights: w.len(),
                });
            }
            if let Some((row, &weight)) = w
                .iter()
                .enumerate()
                .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
            {
                return Err(TrainError::Weight { row, weight });
            }
        }
        if comments.len() != labels.len() {
            return Err(TrainError::LengthMismatch {
                comments: comments.len(),
                labels: labels.len(),
            });
        }
        let nb_params = NaiveBayesParams::new()
            .alpha(self.alpha)
            .priors(self.priors)
            .kind(self.kind);
        linfa::ParamGuard::check_ref(&nb_params)?;
        let temperature = match self.calibration {
            Calibration::Temperature { folds } if comments.len() >= MIN_CALIBRATION_ROWS => {
                let raw = ClassifierParams {
                    calibration: Calibration::None,
                    ..*self
                };
                let folds = usize::try_from(folds).unwrap_or(usize::MAX);
                let verdicts =
                    crate::validate::out_of_fold(&raw, comments, labels, weights, folds)?;
                let jll: Vec<[f64; Label::COUNT]> =
                    verdicts.iter().map(|v| v.joint_log_likelihood).collect();
                Some(fit_temperature(&jll, labels))
            }
            _ => None,
        };
        let normalizer = Normalizer::new(self.normalizer);
        let normalized: Vec<String> = comments
            .par_iter()
            .map_init(Scratch::default, |scratch, c| {
                let mut out = String::new();
                normalizer.normalize_into(&c.text, scratch, &mut out);
                out
            })
            .collect();
        let (vectorizer, mut rows) = match self.class_weighting {
            Some(weighting) => Vectorizer::fit_transform_labeled(
                self.vectorizer,
                self.vocabulary,
                &normalized,
                labels,
                weighting,
            )?,
            None => Vectorizer::fit_transform(self.vectorizer, self.vocabulary, &normalized)?,
        };
        // Link tokens need the `_url_` word in the vocabulary to count links with.
        let links: Vec<Option<usize>> = match self.context.kinds()[ContextKind::Links as usize]
            && context::counts_links(&vectorizer)
        {
            true => normalized
                .par_iter()
                .map(|n| Some(context::count_links(n)))
                .collect(),
            false => vec![None; normalized.len()],
        };
        drop(normalized);
        // Context similarities of the training comments, among themselves: thread profiles
        // come from training thread-mates.
        let refs: Vec<&Comment<'_>> = comments.iter().collect();
        let mut sims = context::batch_similarities(
            &normalizer,
            &vectorizer,
            self.context.kinds(),
            &refs,
            &rows,
        );
        for ((s, &n), comment) in sims.iter_mut().zip(&links).zip(comments) {
            context::set_metadata(self.context.kinds(), s, comment, n);
        }
        let per_kind: [Vec<f64>; ContextKind::COUNT] =
            std::array::from_fn(|k| sims.iter().filter_map(|s| s[k]).collect());
        let context = ContextFeatures::learn(&self.context, &per_kind)?;
        let terms = vectorizer.vocabulary().len();
        for (row, s) in rows.iter_mut().zip(&sims) {
            for column in context.columns(s) {
                row.indices.push((terms + column) as u32);
                row.values.push(context.weight());
            }
        }
        if let Some(weights) = weights {
            for (row, &w) in rows.iter_mut().zip(weights) {
                row.values.iter_mut().for_each(|v| *v *= w);
            }
        }
        let mut matrix = FeatureMatrix::new(terms + context.n_columns());
        for row in &rows {
            matrix
                .push(row)
                .map_err(|e| ModelError::Invalid(e.to_string()))?;
        }
        drop(rows);
        let dataset = DatasetBase::new(matrix, Array1::from(labels.to_vec()));
        let model = nb_params.fit(&dataset)?;
        Ok(
            Classifier::from_parts_with_context(normalizer, vectorizer, model, context, info)?
                .with_temperature(temperature)?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn classifier_is_send_and_sync() {
        assert_send_sync::<Classifier>();
    }

    /// The batch path's vectors come from the fused table; context similarities compare them
    /// bit for bit with thresholds, so they must equal the reference vectors exactly.
    #[test]
    fn fused_vectors_have_the_bits_of_the_reference_vectors() {
        let classifier = Classifier::embedded().expect("embedded model");
        let texts = [
            "",
            "You are an idiot, an idiot, an IDIOT!!! idiot idiot idiot",
            "The council should fund the new library; the library funding matters.",
            "buy buy buy cheap pills pills pills pills at pills.com now now",
            "<p>Great point about the budget.</p> great point, great point.",
            "Free followers at https://cheap.example.com and www.example.net, or bit.ly/x _url_",
            "<a href=\"http://spam.example\">click</a> http://a.b/c http://a.b/c",
        ];
        for text in texts.iter().map(|t| t.to_string()).chain([
            "word ".repeat(70),
            (0..300).map(|i| format!("term{} the ", i % 40)).collect(),
        ]) {
            let (fused, jll, links) = classifier.text_features(&text);
            let reference = classifier.features(&text);
            assert_eq!(fused.indices, reference.indices, "{text:?}");
            let bits = |v: &FeatureVector| v.values.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fused), bits(&reference), "{text:?}");
            let (alone, alone_links) = classifier.text_jll(&text);
            assert_eq!(jll.map(f64::to_bits), alone.map(f64::to_bits));
            let normalized = classifier.normalizer().normalize(&text);
            assert_eq!(links, context::count_links(&normalized), "{text:?}");
            assert_eq!(alone_links, links, "{text:?}");
        }
    }

    #[test]
    fn train_rejects_mismatched_lengths() {
        let comments = [Comment::new("1", "x")];
        assert!(matches!(
            ClassifierParams::default().train(&comments, &[]),
            Err(TrainError::LengthMismatch { .. })
        ));
        let bad_alpha = ClassifierParams {
            alpha: 0.0,
            ..Default::default()
        };
        assert!(bad_alpha.train(&comments, &[Label::Abusive]).is_err());
    }
}
