//! Post-aware features: how much a comment's vocabulary overlaps what it answers.
//!
//! A comment that shares no vocabulary with its post, or with the rest of its thread, is more
//! likely off-topic. For each comment up to three similarities are measured, each the cosine of
//! the comment's vector (as the model sees it: the vectorizer's weighted terms over the model's
//! vocabulary, idf included) with a context vector over the same vocabulary:
//!
//! - [`ContextKind::Post`]: the post's title and body, when the comment carries either;
//! - [`ContextKind::Parent`]: the comment it replies to, when that comment is in the same batch;
//! - [`ContextKind::Thread`]: when the comment carries no post text, the other comments of the
//!   same post in the same batch, as a leave-one-out profile: the sum of the unit-length vectors
//!   of the thread's comments minus the comment's own, so its own words never count as context.
//!
//! Two more kinds are not contexts but plain facts about the comment (metadata), scored the
//! same way:
//!
//! - [`ContextKind::Links`]: how many links the comment holds (the `_url_` words its normalized
//!   text has: 0, 1, or 2 or more). Spam links; arguments seldom do. Term weights can't say this
//!   well: each comment's vector has unit length, so one `_url_` in a long comment weighs
//!   almost nothing.
//! - [`ContextKind::AuthorUrl`]: whether the author gave a website (0 or 1), for comments from
//!   a source that has the field ([`Comment::author_url`]): comment spam is written for the
//!   backlink. The shared corpus has no author fields, so the default model does not use it;
//!   a model trained on a site's own export (WordPress, Blogger, or JSON/CSV with an
//!   `author_url` field) does.
//!
//! Each similarity falls into one of a few buckets, whose edges are quantiles of the training
//! similarities of that kind, and becomes a pseudo-token such as `ctx:thread:2`: one extra model
//! column per bucket, weighed by the naive Bayes model like any vocabulary term (with a fixed
//! weight instead of a tf-idf one). Without a context the tokens are absent, so a comment read
//! alone scores as before. A kind is active in a trained model only if some training comment
//! had that context: the shared corpus has no reply structure, so models trained on it have no
//! parent tokens.
//!
//! Where the context comes from:
//!
//! - [`crate::Classifier::classify`] sees one comment: post tokens, and the metadata tokens
//!   (which come from the comment alone);
//! - [`crate::Classifier::classify_batch`] and [`crate::batch::BatchScorer`] also build parent
//!   and thread contexts from the other comments in the batch (for the scorer, the same chunk).
//!   A thread split across chunks is profiled from the part in each chunk; exports list a
//!   post's comments together, so with the default chunk of 4,096 comments this only affects
//!   the posts at chunk boundaries.

use crate::comment::{Comment, Post};
use crate::features::FeatureVector;
use crate::normalize::{Normalizer, Scratch};
use crate::vectorize::{VectorScratch, Vectorizer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a context comes from. Columns are laid out in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextKind {
    /// The post's title and body.
    Post,
    /// The parent comment, for a reply.
    Parent,
    /// The other comments of the same post (leave-one-out).
    Thread,
    /// Not a context: the number of links in the comment itself (see [`count_links`]).
    Links,
    /// Not a context: whether the comment's author gave a website (see
    /// [`author_url_value`]).
    AuthorUrl,
}

impl ContextKind {
    /// Number of kinds.
    pub const COUNT: usize = 5;

    /// Every kind, in column order.
    pub const ALL: [ContextKind; Self::COUNT] = [
        ContextKind::Post,
        ContextKind::Parent,
        ContextKind::Thread,
        ContextKind::Links,
        ContextKind::AuthorUrl,
    ];

    /// The kind's name in token names.
    pub fn as_str(self) -> &'static str {
        match self {
            ContextKind::Post => "post",
            ContextKind::Parent => "parent",
            ContextKind::Thread => "thread",
            ContextKind::Links => "links",
            ContextKind::AuthorUrl => "author_url",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How the model turns a context token into evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextScoring {
    /// Like any vocabulary term: `weight · log P(token | class)` under the multinomial model,
    /// with `P` over all of the class's training mass. Training comments without the context
    /// count against every token, so where classes differ in how often they come with a
    /// context (the corpus' off-topic rows are mostly SMS spam, with no post), the tokens mostly
    /// learn that difference.
    Multinomial,
    /// `weight · log P(bucket | class, the comment has this kind of context)`: each kind's
    /// buckets form a categorical feature estimated from the training comments that have the
    /// context (Laplace-smoothed), so having a context is no evidence by itself, only how
    /// similar the comment is to it. Counts are stored in the model's columns as for
    /// `Multinomial`.
    #[default]
    Conditional,
}

/// How context features are trained: which kinds, how many buckets, what weight.
///
/// ```
/// use comment_sieve::ContextParams;
/// let off = ContextParams::off();
/// assert_eq!(off.buckets, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContextParams {
    /// Buckets per kind (at most 64); 0 turns context features off.
    pub buckets: u8,
    /// The weight of a context token in a comment's row (finite, > 0). Text rows have unit
    /// length, so 1 weighs a token like a comment's whole vocabulary.
    pub weight: f64,
    /// Use the post's title and body.
    pub post: bool,
    /// Use the parent comment.
    pub parent: bool,
    /// Use the leave-one-out thread profile.
    pub thread: bool,
    /// Use the number of links in the comment (buckets 0, 1 and 2 or more, whatever
    /// `buckets` says).
    #[serde(default)]
    pub links: bool,
    /// Use whether the author gave a website (buckets: no, yes), for comments whose source
    /// has the field.
    #[serde(default)]
    pub author_url: bool,
    /// How tokens are scored.
    #[serde(default)]
    pub scoring: ContextScoring,
}

impl ContextParams {
    /// No context features.
    pub fn off() -> Self {
        ContextParams {
            buckets: 0,
            weight: 1.0,
            post: false,
            parent: false,
            thread: false,
            links: false,
            author_url: false,
            scoring: ContextScoring::Conditional,
        }
    }

    /// Which kinds are on, indexed like [`ContextKind::ALL`].
    pub fn kinds(&self) -> [bool; ContextKind::COUNT] {
        if self.buckets == 0 {
            return [false; ContextKind::COUNT];
        }
        [
            self.post,
            self.parent,
            self.thread,
            self.links,
            self.author_url,
        ]
    }
}

impl Default for ContextParams {
    fn default() -> Self {
        Self::off()
    }
}

/// Why context settings are unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContextError {
    /// A weight that is not finite and positive.
    #[error("context weight {0} must be finite and positive")]
    Weight(f64),
    /// Too many buckets.
    #[error("{0} context buckets; at most {MAX_BUCKETS}")]
    Buckets(usize),
    /// Bucket edges that are not finite and increasing.
    #[error("context bucket edges of {0} are not finite and non-decreasing")]
    Edges(&'static str),
}

/// The most buckets per kind.
pub const MAX_BUCKETS: usize = 64;

/// The trained context features of a model: the token weight and, per active kind, the bucket
/// edges. Stored in the model file.
///
/// ```
/// use comment_sieve::{ContextFeatures, ContextKind};
/// let ctx =
///     ContextFeatures::from_edges(1.0, [None, None, Some(vec![0.05, 0.2]), None, None]).unwrap();
/// assert_eq!(ctx.n_columns(), 3);
/// assert_eq!(ctx.bucket(ContextKind::Thread, 0.0), Some(0));
/// assert_eq!(ctx.bucket(ContextKind::Thread, 0.1), Some(1));
/// assert_eq!(ctx.bucket(ContextKind::Thread, 0.9), Some(2));
/// assert_eq!(ctx.bucket(ContextKind::Post, 0.9), None); // not active
/// assert_eq!(ctx.column_name(2), Some("ctx:thread:2".to_string()));
/// ```
///
/// Serialized (in the model file), it holds the first three kinds only, as model files of
/// version 3 to 5 do; the edges of the metadata kinds are stored after it (see
/// [`crate::model_file`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredContextFeatures", into = "StoredContextFeatures")]
pub struct ContextFeatures {
    weight: f64,
    scoring: ContextScoring,
    /// Indexed like [`ContextKind::ALL`]; `None` for a kind the model does not use.
    edges: [Option<Vec<f64>>; ContextKind::COUNT],
}

/// The serialized form of [`ContextFeatures`]: the post, parent and thread kinds.
#[derive(Clone, Serialize, Deserialize)]
struct StoredContextFeatures {
    weight: f64,
    scoring: ContextScoring,
    edges: [Option<Vec<f64>>; 3],
}

impl From<StoredContextFeatures> for ContextFeatures {
    fn from(stored: StoredContextFeatures) -> Self {
        let [post, parent, thread] = stored.edges;
        ContextFeatures {
            weight: stored.weight,
            scoring: stored.scoring,
            edges: [post, parent, thread, None, None],
        }
    }
}

impl From<ContextFeatures> for StoredContextFeatures {
    fn from(features: ContextFeatures) -> Self {
        let [post, parent, thread, _links, _author_url] = features.edges;
        StoredContextFeatures {
            weight: features.weight,
            scoring: features.scoring,
            edges: [post, parent, thread],
        }
    }
}

impl Default for ContextFeatures {
    fn default() -> Self {
        ContextFeatures {
            weight: 1.0,
            scoring: ContextScoring::Conditional,
            edges: [None, None, None, None, None],
        }
    }
}

/// The bucket edges of [`ContextKind::Links`]: no link, one, two or more.
pub const LINK_EDGES: [f64; 2] = [0.5, 1.5];

/// The bucket edges of [`ContextKind::AuthorUrl`]: no website given, one given.
pub const AUTHOR_URL_EDGES: [f64; 1] = [0.5];

impl ContextFeatures {
    /// Context features with this token weight and these bucket edges per kind (indexed like
    /// [`ContextKind::ALL`]). A similarity `s` falls into bucket `#{edges < s}`, so a kind with
    /// `n` edges has `n + 1` buckets.
    pub fn from_edges(
        weight: f64,
        edges: [Option<Vec<f64>>; ContextKind::COUNT],
    ) -> Result<Self, ContextError> {
        Self::new(weight, ContextScoring::Conditional, edges)
    }

    /// Like [`ContextFeatures::from_edges`], with a scoring.
    pub fn new(
        weight: f64,
        scoring: ContextScoring,
        edges: [Option<Vec<f64>>; ContextKind::COUNT],
    ) -> Result<Self, ContextError> {
        if !(weight.is_finite() && weight > 0.0) {
            return Err(ContextError::Weight(weight));
        }
        for (kind, e) in ContextKind::ALL.iter().zip(&edges) {
            if let Some(e) = e {
                if e.len() + 1 > MAX_BUCKETS {
                    return Err(ContextError::Buckets(e.len() + 1));
                }
                if e.iter().any(|x| !x.is_finite()) || e.windows(2).any(|w| w[0] > w[1]) {
                    return Err(ContextError::Edges(kind.as_str()));
                }
            }
        }
        Ok(ContextFeatures {
            weight,
            scoring,
            edges,
        })
    }

    /// Learns bucket edges from training similarities (per kind, indexed like
    /// [`ContextKind::ALL`]): `buckets - 1` quantiles of each kind's similarities, or the
    /// fixed [`LINK_EDGES`] and [`AUTHOR_URL_EDGES`] for the metadata kinds. A kind with no
    /// similarities stays inactive.
    pub fn learn(
        params: &ContextParams,
        similarities: &[Vec<f64>; ContextKind::COUNT],
    ) -> Result<Self, ContextError> {
        let buckets = usize::from(params.buckets);
        if buckets > MAX_BUCKETS {
            return Err(ContextError::Buckets(buckets));
        }
        let kinds = params.kinds();
        let edges = std::array::from_fn(|k| {
            let sims = &similarities[k];
            if !kinds[k] || sims.is_empty() {
                return None;
            }
            match ContextKind::ALL[k] {
                ContextKind::Links => return Some(LINK_EDGES.to_vec()),
                ContextKind::AuthorUrl => return Some(AUTHOR_URL_EDGES.to_vec()),
                _ => {}
            }
            let mut sorted = sims.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            Some(
                (1..buckets)
                    .map(|q| sorted[(q * sorted.len() / buckets).min(sorted.len() - 1)])
                    .collect(),
            )
        });
        Self::new(params.weight, params.scoring, edges)
    }

    /// Checks a decoded value as [`ContextFeatures::new`] does.
    pub(crate) fn validated(self) -> Result<Self, ContextError> {
        Self::new(self.weight, self.scoring, self.edges)
    }

    /// The same features with these edges of the metadata kinds ([`ContextKind::Links`],
    /// [`ContextKind::AuthorUrl`]; read from a model file after the other kinds), checked as
    /// [`ContextFeatures::new`] does.
    pub(crate) fn with_metadata_edges(
        self,
        [links, author_url]: [Option<Vec<f64>>; 2],
    ) -> Result<Self, ContextError> {
        let [post, parent, thread, _, _] = self.edges;
        Self::new(
            self.weight,
            self.scoring,
            [post, parent, thread, links, author_url],
        )
    }

    /// How tokens are scored.
    pub fn scoring(&self) -> ContextScoring {
        self.scoring
    }

    /// The context columns of `kind` (counted from the first context column), if active.
    pub fn kind_columns(&self, kind: ContextKind) -> Option<std::ops::Range<usize>> {
        let offset: usize = self.edges[..kind.index()]
            .iter()
            .flatten()
            .map(|e| e.len() + 1)
            .sum();
        Some(offset..offset + self.edges(kind)?.len() + 1)
    }

    /// Whether any kind is active.
    pub fn is_active(&self) -> bool {
        self.n_columns() > 0
    }

    /// Which kinds are active, indexed like [`ContextKind::ALL`].
    pub fn kinds(&self) -> [bool; ContextKind::COUNT] {
        std::array::from_fn(|k| self.edges[k].is_some())
    }

    /// The weight of a context token.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    /// The bucket edges of `kind`, if active.
    pub fn edges(&self, kind: ContextKind) -> Option<&[f64]> {
        self.edges[kind.index()].as_deref()
    }

    /// Number of model columns the context tokens take (after the vocabulary's).
    pub fn n_columns(&self) -> usize {
        self.edges.iter().flatten().map(|e| e.len() + 1).sum()
    }

    /// The bucket of similarity `s` for `kind`, if the kind is active.
    pub fn bucket(&self, kind: ContextKind, s: f64) -> Option<usize> {
        let edges = self.edges(kind)?;
        Some(edges.partition_point(|&e| e < s))
    }

    /// The context column (counted from the first context column) of similarity `s` for
    /// `kind`, if the kind is active.
    pub fn column(&self, kind: ContextKind, s: f64) -> Option<usize> {
        let offset: usize = self.edges[..kind.index()]
            .iter()
            .flatten()
            .map(|e| e.len() + 1)
            .sum();
        Some(offset + self.bucket(kind, s)?)
    }

    /// The token name of context column `column`, such as `ctx:thread:2`.
    pub fn column_name(&self, column: usize) -> Option<String> {
        let mut start = 0;
        for (kind, edges) in ContextKind::ALL.iter().zip(&self.edges) {
            if let Some(e) = edges {
                if column < start + e.len() + 1 {
                    return Some(format!("ctx:{}:{}", kind.as_str(), column - start));
                }
                start += e.len() + 1;
            }
        }
        None
    }

    /// The context columns of a comment with these similarities (indexed like
    /// [`ContextKind::ALL`]), increasing.
    pub fn columns(&self, similarities: &Similarities) -> impl Iterator<Item = usize> + '_ {
        ContextKind::ALL
            .into_iter()
            .zip(*similarities)
            .filter_map(|(kind, s)| self.column(kind, s?))
    }
}

/// A comment's similarity to each of its contexts, indexed like [`ContextKind::ALL`]; `None`
/// where it has no such context. For the metadata kinds, the comment's value instead: the
/// number of links, and 0 or 1 for [`ContextKind::AuthorUrl`] (`None` when its source has no
/// author-URL field).
pub type Similarities = [Option<f64>; ContextKind::COUNT];

/// The number of links in a normalized text: its words that are the link placeholder
/// `_url_`, as [`crate::Tokenizer`] splits it.
///
/// ```
/// use comment_sieve::{Normalizer, context::count_links};
/// let normalizer = Normalizer::default();
/// let text = normalizer.normalize("Free pills at https://pills.example.com and www.pills.net!");
/// assert_eq!(count_links(&text), 2);
/// assert_eq!(count_links(&normalizer.normalize("No link here.")), 0);
/// ```
pub fn count_links(normalized: &str) -> usize {
    crate::Tokenizer
        .tokenize(normalized)
        .filter(|w| *w == crate::normalize::URL_TOKEN)
        .count()
}

/// Whether link tokens can be counted with `vectorizer`: its vocabulary has the `_url_` word,
/// whose count the scoring pass reads as the number of links.
pub(crate) fn counts_links(vectorizer: &Vectorizer) -> bool {
    vectorizer
        .vocabulary()
        .get(crate::normalize::URL_TOKEN)
        .is_some()
}

/// Sets the metadata values of `sims` for the kinds on in `kinds`: the link count (`links`, if
/// counted) and the author-URL value of `comment`. Used alike in training and in scoring.
pub(crate) fn set_metadata(
    kinds: [bool; ContextKind::COUNT],
    sims: &mut Similarities,
    comment: &Comment<'_>,
    links: Option<usize>,
) {
    if kinds[ContextKind::Links as usize] {
        sims[ContextKind::Links as usize] = links.map(|n| n as f64);
    }
    if kinds[ContextKind::AuthorUrl as usize] {
        sims[ContextKind::AuthorUrl as usize] = author_url_value(comment);
    }
}

/// The [`ContextKind::AuthorUrl`] value of a comment: 1 if its author gave a website, 0 if the
/// source has the field but it is blank, `None` if the source has no such field.
///
/// ```
/// use comment_sieve::{Comment, context::author_url_value};
/// let c = Comment::new("1", "Great post!");
/// assert_eq!(author_url_value(&c), None);
/// assert_eq!(author_url_value(&c.clone().with_author_url("")), Some(0.0));
/// assert_eq!(author_url_value(&c.with_author_url("http://pills.example")), Some(1.0));
/// ```
pub fn author_url_value(comment: &Comment<'_>) -> Option<f64> {
    let url = comment.author_url.as_deref()?;
    Some(if url.trim().is_empty() { 0.0 } else { 1.0 })
}

/// The cosine of two sparse vectors (columns increasing); 0 if either is empty.
///
/// ```
/// use comment_sieve::{FeatureVector, context::cosine};
/// let a = FeatureVector { indices: vec![0, 2], values: vec![1.0, 1.0] };
/// let b = FeatureVector { indices: vec![2, 5], values: vec![3.0, 4.0] };
/// assert!((cosine(&a, &b) - 3.0 / (2f64.sqrt() * 5.0)).abs() < 1e-12);
/// assert_eq!(cosine(&a, &FeatureVector::default()), 0.0);
/// ```
pub fn cosine(a: &FeatureVector, b: &FeatureVector) -> f64 {
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.indices.len() && j < b.indices.len() {
        match a.indices[i].cmp(&b.indices[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a.values[i] * b.values[j];
                i += 1;
                j += 1;
            }
        }
    }
    (dot / (na * nb)).clamp(0.0, 1.0)
}

fn norm(v: &FeatureVector) -> f64 {
    v.values.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Below this, a leave-one-out difference is rounding error and counts as 0.
const EPSILON: f64 = 1e-12;

/// A thread profile: the sum of its comments' unit-length vectors, columns increasing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ThreadProfile {
    sum: FeatureVector,
    square: f64,
}

impl ThreadProfile {
    /// The profile of these comment vectors. Deterministic: sums run in the given order.
    pub fn new<'v>(members: impl IntoIterator<Item = &'v FeatureVector>) -> Self {
        let mut entries: Vec<(u32, f64)> = Vec::new();
        for v in members {
            let n = norm(v);
            if n > 0.0 {
                entries.extend(v.iter().map(|(j, x)| (j as u32, x / n)));
            }
        }
        // A stable sort keeps each column's entries in member order.
        entries.sort_by_key(|e| e.0);
        let mut sum = FeatureVector::default();
        for run in entries.chunk_by(|a, b| a.0 == b.0) {
            sum.indices.push(run[0].0);
            sum.values.push(run.iter().map(|e| e.1).sum());
        }
        let square = sum.values.iter().map(|x| x * x).sum();
        ThreadProfile { sum, square }
    }

    /// The cosine of `v` (a member's vector) with the profile minus `v`'s own unit vector: the
    /// similarity to the rest of the thread. `None` when the rest of the thread has no terms;
    /// 0 when `v` has none.
    ///
    /// ```
    /// use comment_sieve::{FeatureVector, context::ThreadProfile};
    /// let v = |i: Vec<u32>| FeatureVector { values: vec![1.0; i.len()], indices: i };
    /// let (a, b, c) = (v(vec![0, 1]), v(vec![1, 2]), v(vec![7]));
    /// let profile = ThreadProfile::new([&a, &b, &c]);
    /// // a shares column 1 with b and nothing with c; its own columns don't count.
    /// assert!(profile.leave_one_out(&a).unwrap() > 0.0);
    /// assert_eq!(profile.leave_one_out(&c), Some(0.0));
    /// assert_eq!(ThreadProfile::new([&a]).leave_one_out(&a), None);
    /// ```
    pub fn leave_one_out(&self, v: &FeatureVector) -> Option<f64> {
        leave_one_out(v, self.square, |j| {
            match self.sum.indices.binary_search(&(j as u32)) {
                Ok(k) => self.sum.values[k],
                Err(_) => 0.0,
            }
        })
    }
}

/// The cosine of `v` with a profile minus `v`'s own unit vector, given the profile's squared
/// length and its value in each column (0 where it has none). See
/// [`ThreadProfile::leave_one_out`].
fn leave_one_out(
    v: &FeatureVector,
    profile_square: f64,
    value: impl Fn(usize) -> f64,
) -> Option<f64> {
    let n = norm(v);
    if n == 0.0 {
        return (profile_square > EPSILON).then_some(0.0);
    }
    let (mut dot, mut square) = (0.0, profile_square);
    for (j, x) in v.iter() {
        let u = x / n;
        let c = value(j);
        let rest = if c - u > EPSILON { c - u } else { 0.0 };
        dot += u * rest;
        square += rest * rest - c * c;
    }
    if square <= EPSILON {
        return None;
    }
    Some((dot / square.sqrt()).clamp(0.0, 1.0))
}

thread_local! {
    static PROFILE: std::cell::RefCell<DenseProfile> = std::cell::RefCell::new(DenseProfile::default());
}

/// [`ThreadProfile`] over a dense array reused from thread to thread of comments: the same sums
/// in the same order, so the same bits, without sorting the members' entries or searching the
/// profile.
#[derive(Debug, Default)]
pub(crate) struct DenseProfile {
    /// The profile's value of each column (0 where no member has the column).
    sums: Vec<f64>,
    /// The columns with a non-zero value, increasing after [`DenseProfile::fill`].
    touched: Vec<u32>,
    /// One bit per column, set for the columns in `touched`: reading the set bits in order
    /// lists them sorted without sorting.
    marks: Vec<u64>,
    square: f64,
    /// Set while [`DenseProfile::fill`] runs: `touched` may not list every used column yet.
    filling: bool,
}

impl DenseProfile {
    /// Makes this the profile of `members` (it must be empty: new or cleared).
    pub(crate) fn fill<'v>(&mut self, members: impl IntoIterator<Item = &'v FeatureVector>) {
        self.filling = true;
        for v in members {
            let n = norm(v);
            if n <= 0.0 {
                continue;
            }
            for (j, x) in v.iter() {
                if j >= self.sums.len() {
                    self.sums.resize(j + 1, 0.0);
                    self.marks.resize(j / 64 + 1, 0);
                }
                // Weights are positive, so a column's sum is 0 only until it is first touched.
                if self.sums[j] == 0.0 {
                    self.marks[j / 64] |= 1 << (j % 64);
                }
                self.sums[j] += x / n;
            }
        }
        for (w, &word) in self.marks.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                self.touched.push((w * 64) as u32 + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        self.square = self
            .touched
            .iter()
            .map(|&j| self.sums[j as usize] * self.sums[j as usize])
            .sum();
        self.filling = false;
    }

    /// As [`ThreadProfile::leave_one_out`].
    pub(crate) fn leave_one_out(&self, v: &FeatureVector) -> Option<f64> {
        leave_one_out(v, self.square, |j| self.sums.get(j).copied().unwrap_or(0.0))
    }

    /// Empties the profile, touching only the columns it used. After a fill that stopped half
    /// way (a panic), the columns are found from the marks instead.
    pub(crate) fn clear(&mut self) {
        if self.filling {
            for (w, word) in self.marks.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    self.sums[w * 64 + bits.trailing_zeros() as usize] = 0.0;
                    bits &= bits - 1;
                }
            }
        } else {
            for &j in &self.touched {
                self.sums[j as usize] = 0.0;
                self.marks[j as usize / 64] = 0;
            }
        }
        self.touched.clear();
        self.square = 0.0;
        self.filling = false;
    }
}

/// Whether a post carries text to compare with.
pub(crate) fn has_text(post: &Post<'_>) -> bool {
    let filled =
        |s: &Option<std::borrow::Cow<'_, str>>| s.as_deref().is_some_and(|t| !t.trim().is_empty());
    filled(&post.title) || filled(&post.body)
}

/// The vector of a post's title and body.
pub(crate) fn post_vector(
    normalizer: &Normalizer,
    vectorizer: &Vectorizer,
    post: &Post<'_>,
) -> FeatureVector {
    let mut text = String::new();
    for part in [&post.title, &post.body].into_iter().flatten() {
        text.push_str(part);
        text.push('\n');
    }
    let mut normalized = String::new();
    normalizer.normalize_into(&text, &mut Scratch::default(), &mut normalized);
    let mut out = FeatureVector::default();
    vectorizer.transform_into(&normalized, &mut VectorScratch::default(), &mut out);
    out
}

/// The similarity of one comment, read alone, to its post. `None` without post text.
pub(crate) fn post_similarity(
    normalizer: &Normalizer,
    vectorizer: &Vectorizer,
    comment: &Comment<'_>,
    vector: &FeatureVector,
) -> Option<f64> {
    let post = comment.post.as_deref().filter(|p| has_text(p))?;
    let p = post_vector(normalizer, vectorizer, post);
    (!p.indices.is_empty()).then(|| cosine(vector, &p))
}

/// How comments of one post are grouped into a thread: by post id, or by the shared post
/// object when the post has no id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ThreadKey<'s> {
    Id(&'s str),
    Shared(usize),
}

/// The similarities of a batch of comments to their contexts within the batch; `vectors[i]` is
/// `comments[i]`'s vector as the model sees it. Kinds not in `kinds` are left `None`.
/// Deterministic whatever the number of threads.
pub(crate) fn batch_similarities<'s>(
    normalizer: &Normalizer,
    vectorizer: &Vectorizer,
    kinds: [bool; ContextKind::COUNT],
    comments: &[&Comment<'s>],
    vectors: &[FeatureVector],
) -> Vec<Similarities> {
    BatchPlan::new(kinds, comments).similarities(normalizer, vectorizer, comments, vectors)
}

/// Which comments of a batch have which contexts in the batch, worked out from their posts and
/// parents alone, before any vector: a comment that is compared with nothing needs no vector.
pub(crate) struct BatchPlan<'b, 's> {
    /// With [`ContextKind::Post`]: the distinct posts with text, in order of first appearance.
    posts: Vec<&'b Arc<Post<'s>>>,
    /// With [`ContextKind::Post`]: for each comment, the index of its post in `posts` if that
    /// post has text. Empty without that kind.
    post_of: Vec<Option<usize>>,
    /// With [`ContextKind::Parent`]: `(comment, parent)` for each reply whose parent is another
    /// comment of the batch.
    replies: Vec<(usize, usize)>,
    /// With [`ContextKind::Thread`]: the comments of each post that has several in the batch,
    /// some without post text, in order of first appearance.
    threads: Vec<Vec<usize>>,
}

impl<'b, 's> BatchPlan<'b, 's> {
    /// The contexts of the kinds in `kinds` that `comments` give each other.
    pub(crate) fn new(kinds: [bool; ContextKind::COUNT], comments: &'b [&'b Comment<'s>]) -> Self {
        let mut posts: Vec<&Arc<Post<'s>>> = Vec::new();
        let mut post_of = Vec::new();
        if kinds[ContextKind::Post.index()] {
            let mut slot: HashMap<usize, usize> = HashMap::new();
            post_of = comments
                .iter()
                .map(|c| {
                    let p = c.post.as_ref().filter(|p| has_text(p))?;
                    Some(*slot.entry(Arc::as_ptr(p) as usize).or_insert_with(|| {
                        posts.push(p);
                        posts.len() - 1
                    }))
                })
                .collect();
        }
        let mut replies = Vec::new();
        if kinds[ContextKind::Parent.index()] {
            let mut by_id: HashMap<&str, usize> = HashMap::new();
            for (i, c) in comments.iter().enumerate() {
                by_id.entry(&c.id).or_insert(i);
            }
            for (i, c) in comments.iter().enumerate() {
                if let Some(&p) = c.parent_id.as_deref().and_then(|id| by_id.get(id))
                    && p != i
                {
                    replies.push((i, p));
                }
            }
        }
        let mut threads = Vec::new();
        if kinds[ContextKind::Thread.index()] {
            let with_text = |c: &Comment<'_>| c.post.as_deref().is_some_and(has_text);
            let mut by_key: HashMap<ThreadKey<'_>, usize> = HashMap::new();
            let mut members: Vec<Vec<usize>> = Vec::new();
            for (i, c) in comments.iter().enumerate() {
                let Some(post) = &c.post else { continue };
                let key = match &post.id {
                    Some(id) => ThreadKey::Id(id),
                    None => ThreadKey::Shared(Arc::as_ptr(post) as usize),
                };
                let k = *by_key.entry(key).or_insert_with(|| {
                    members.push(Vec::new());
                    members.len() - 1
                });
                members[k].push(i);
            }
            threads = members
                .into_iter()
                .filter(|g| g.len() > 1 && g.iter().any(|&i| !with_text(comments[i])))
                .collect();
        }
        BatchPlan {
            posts,
            post_of,
            replies,
            threads,
        }
    }

    /// Which comments' vectors [`BatchPlan::similarities`] reads, indexed like the comments
    /// (`n` of them); the others may be passed empty.
    pub(crate) fn needs_vector(&self, n: usize) -> Vec<bool> {
        let mut needed = vec![false; n];
        for (need, post) in needed.iter_mut().zip(&self.post_of) {
            *need |= post.is_some();
        }
        for &(i, p) in &self.replies {
            needed[i] = true;
            needed[p] = true;
        }
        for &i in self.threads.iter().flatten() {
            needed[i] = true;
        }
        needed
    }

    /// The similarities of the comments to their contexts; `vectors[i]` is `comments[i]`'s
    /// vector as the model sees it, at least where [`BatchPlan::needs_vector`] says so.
    /// Deterministic whatever the number of threads.
    pub(crate) fn similarities(
        &self,
        normalizer: &Normalizer,
        vectorizer: &Vectorizer,
        comments: &[&Comment<'s>],
        vectors: &[FeatureVector],
    ) -> Vec<Similarities> {
        let mut out = vec![[None; ContextKind::COUNT]; comments.len()];
        if !self.posts.is_empty() {
            let post_vectors: Vec<FeatureVector> = self
                .posts
                .par_iter()
                .map(|p| post_vector(normalizer, vectorizer, p))
                .collect();
            out.par_iter_mut().enumerate().for_each(|(i, s)| {
                if let Some(pv) = self.post_of[i].map(|k| &post_vectors[k])
                    && !pv.indices.is_empty()
                {
                    s[ContextKind::Post.index()] = Some(cosine(&vectors[i], pv));
                }
            });
        }
        for &(i, p) in &self.replies {
            if !vectors[p].indices.is_empty() {
                out[i][ContextKind::Parent.index()] = Some(cosine(&vectors[i], &vectors[p]));
            }
        }
        if !self.threads.is_empty() {
            let with_text = |c: &Comment<'_>| c.post.as_deref().is_some_and(has_text);
            let results: Vec<Vec<(usize, Option<f64>)>> = self
                .threads
                .par_iter()
                .map(|group| {
                    let similarities = |profile: &mut DenseProfile| {
                        profile.clear();
                        profile.fill(group.iter().map(|&i| &vectors[i]));
                        let found = group
                            .iter()
                            .filter(|&&i| !with_text(comments[i]))
                            .map(|&i| (i, profile.leave_one_out(&vectors[i])))
                            .collect();
                        profile.clear();
                        found
                    };
                    // One profile per thread, kept between batches: its dense array is as long
                    // as the vocabulary, and zeroing a new one costs more than a small thread.
                    PROFILE.with(|p| match p.try_borrow_mut() {
                        Ok(mut profile) => similarities(&mut profile),
                        Err(_) => similarities(&mut DenseProfile::default()),
                    })
                })
                .collect();
            for (i, s) in results.into_iter().flatten() {
                out[i][ContextKind::Thread.index()] = s;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(u32, f64)]) -> FeatureVector {
        FeatureVector {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        }
    }

    #[test]
    fn cosine_of_disjoint_equal_and_scaled_vectors() {
        let a = v(&[(1, 1.0), (3, 2.0)]);
        assert_eq!(cosine(&a, &v(&[(0, 1.0), (2, 5.0)])), 0.0);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-12);
        assert!((cosine(&a, &v(&[(1, 3.0), (3, 6.0)])) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn leave_one_out_ignores_the_comments_own_words() {
        let a = v(&[(0, 1.0), (1, 1.0)]);
        let b = v(&[(5, 1.0)]);
        // a's words appear nowhere else: 0, though the profile (which holds a) contains them.
        let profile = ThreadProfile::new([&a, &b]);
        assert_eq!(profile.leave_one_out(&a), Some(0.0));
        assert_eq!(profile.leave_one_out(&b), Some(0.0));
        // A repeat of a's words elsewhere counts, and equals the cosine with the rest.
        let c = v(&[(1, 2.0), (5, 2.0)]);
        let profile = ThreadProfile::new([&a, &b, &c]);
        let rest = ThreadProfile::new([&b, &c]).sum;
        let expected = cosine(&a, &rest);
        let got = profile.leave_one_out(&a).unwrap();
        assert!(
            expected > 0.0 && (got - expected).abs() < 1e-12,
            "{got} vs {expected}"
        );
        // Alone in its thread: no context.
        assert_eq!(ThreadProfile::new([&a]).leave_one_out(&a), None);
        // An empty comment in a thread with words: similarity 0.
        assert_eq!(profile.leave_one_out(&FeatureVector::default()), Some(0.0));
    }

    proptest::proptest! {
        #[test]
        fn dense_profile_gives_the_same_bits_as_the_sorted_one(
            members in proptest::collection::vec(
                proptest::collection::btree_map(0u32..200, 0.01f64..5.0, 0..30), 1..8)
        ) {
            let vectors: Vec<FeatureVector> = members
                .iter()
                .map(|m| FeatureVector {
                    indices: m.keys().copied().collect(),
                    values: m.values().copied().collect(),
                })
                .collect();
            let sorted = ThreadProfile::new(&vectors);
            let mut dense = DenseProfile::default();
            for _ in 0..2 {
                dense.fill(&vectors);
                for v in &vectors {
                    let (a, b) = (sorted.leave_one_out(v), dense.leave_one_out(v));
                    proptest::prop_assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
                }
                dense.clear();
            }
        }
    }

    #[test]
    fn a_profile_interrupted_while_filling_is_emptied_by_clear() {
        let v = |pairs: &[(u32, f64)]| FeatureVector {
            indices: pairs.iter().map(|p| p.0).collect(),
            values: pairs.iter().map(|p| p.1).collect(),
        };
        let (a, b) = (v(&[(3, 1.0), (70, 2.0)]), v(&[(5, 1.0), (130, 1.0)]));
        let mut profile = DenseProfile::default();
        let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            profile.fill([&a, &b].into_iter().enumerate().map(|(i, x)| {
                assert!(i < 1, "stop in the middle");
                x
            }))
        }));
        assert!(interrupted.is_err());
        profile.clear();
        assert!(profile.sums.iter().all(|&x| x == 0.0));
        assert!(profile.marks.iter().all(|&m| m == 0));
        profile.fill([&b]);
        let mut fresh = DenseProfile::default();
        fresh.fill([&b]);
        assert_eq!(profile.touched, fresh.touched);
        assert_eq!(profile.square.to_bits(), fresh.square.to_bits());
    }

    #[test]
    fn buckets_follow_quantile_edges() {
        let params = ContextParams {
            buckets: 4,
            weight: 0.5,
            post: true,
            parent: true,
            thread: true,
            links: true,
            author_url: true,
            scoring: ContextScoring::Conditional,
        };
        let sims = [
            (0..100).map(|i| f64::from(i) / 100.0).collect(),
            Vec::new(),
            vec![0.0; 10],
            vec![0.0, 0.0, 0.0, 1.0, 4.0],
            Vec::new(),
        ];
        let ctx = ContextFeatures::learn(&params, &sims).unwrap();
        assert_eq!(ctx.edges(ContextKind::Post), Some(&[0.25, 0.5, 0.75][..]));
        assert_eq!(ctx.edges(ContextKind::Parent), None);
        // No training comment had an author-URL field: that kind stays off.
        assert_eq!(ctx.kinds(), [true, false, true, true, false]);
        assert_eq!(ctx.n_columns(), 11);
        assert_eq!(ctx.bucket(ContextKind::Post, 0.25), Some(0));
        assert_eq!(ctx.bucket(ContextKind::Post, 0.26), Some(1));
        assert_eq!(ctx.bucket(ContextKind::Post, 1.0), Some(3));
        // All-zero training similarities: 0 is bucket 0, anything above is the top bucket.
        assert_eq!(ctx.column(ContextKind::Thread, 0.0), Some(4));
        assert_eq!(ctx.column(ContextKind::Thread, 0.01), Some(7));
        assert_eq!(ctx.column_name(7).as_deref(), Some("ctx:thread:3"));
        // Links have fixed buckets: none, one, two or more.
        assert_eq!(ctx.edges(ContextKind::Links), Some(&LINK_EDGES[..]));
        assert_eq!(ctx.column(ContextKind::Links, 0.0), Some(8));
        assert_eq!(ctx.column(ContextKind::Links, 1.0), Some(9));
        assert_eq!(ctx.column(ContextKind::Links, 7.0), Some(10));
        assert_eq!(ctx.column_name(10).as_deref(), Some("ctx:links:2"));
        assert_eq!(ctx.column_name(11), None);
        let cols: Vec<usize> = ctx
            .columns(&[Some(0.6), Some(0.9), Some(0.0), Some(1.0), Some(1.0)])
            .collect();
        assert_eq!(cols, [2, 4, 9]);
        assert!(
            ContextFeatures::learn(&ContextParams::off(), &sims)
                .unwrap()
                .n_columns()
                == 0
        );
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(ContextFeatures::from_edges(0.0, [None, None, None, None, None]).is_err());
        assert!(ContextFeatures::from_edges(f64::NAN, [None, None, None, None, None]).is_err());
        let first =
            |e: Vec<f64>| ContextFeatures::from_edges(1.0, [Some(e), None, None, None, None]);
        assert!(first(vec![0.5, 0.1]).is_err());
        assert!(first(vec![f64::INFINITY]).is_err());
        assert!(first(vec![0.0; 64]).is_err());
    }
}
