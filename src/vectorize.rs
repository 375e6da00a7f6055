//! Stage 3: words to sparse feature vectors over a fixed vocabulary.

use crate::features::FeatureVector;
use crate::label::Label;
use crate::normalize::{Normalizer, Scratch as NormalizeScratch};
use crate::tokenize::Tokenizer;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How a term's count in one comment becomes its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermWeight {
    /// The raw count.
    Count,
    /// 1 if present.
    Binary,
    /// `1 + ln(count)`.
    Sublinear,
}

/// How comments become vectors. Stored in the model file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VectorizerConfig {
    /// Smallest and largest n-gram length, in words: `(1, 2)` is words and word pairs.
    pub ngram_range: (u8, u8),
    /// Per-comment term weight.
    pub term_weight: TermWeight,
    /// Multiply by the smoothed inverse document frequency `ln((1 + n) / (1 + df)) + 1`.
    pub idf: bool,
    /// Scale each comment's vector to unit Euclidean length.
    pub l2_normalize: bool,
    /// If not 0, every word of at least this many characters also yields the term
    /// `~prefix` of its first `prefix_len` characters, so `idiot`, `idiots` and `idiotic` share
    /// evidence.
    #[serde(default)]
    pub prefix_len: u8,
    /// If not 0, every second-person word (`you`, `your`, `u`, `ur`, ...) also yields a
    /// targeted pair `you>w` with each of the next `target_window` words (at most 7), so `you are such an idiot` and `ur an idiot` both
    /// give `you>idiot`: abuse is mostly aimed at someone. Every second-person word is
    /// spelled `you` in these terms.
    #[serde(default)]
    pub target_window: u8,
}

/// The largest [`VectorizerConfig::target_window`].
pub const MAX_TARGET_WINDOW: u8 = 7;

/// Supervised term weighting: each column's weight is also multiplied by how unevenly the
/// classes of the training comments use the term, so that words every class uses (`the`,
/// `is`, `this`) count for little and words one class keeps to itself count fully.
///
/// For a term found in `d_c` training comments of class `c`, out of `n_c` comments of that
/// class, the smoothed rates `r_c = (d_c + s) / (n_c + s)` (`s` = [`smoothing`]) are scaled to
/// shares `q_c = r_c / Σ r`, and the term's factor is `(Σ q_c · ln(K · q_c) / ln K)^p` (`p` =
/// [`power`], `K` the number of classes): the Kullback-Leibler divergence of the shares from
/// the uniform ones, scaled to `[0, 1]`. It is 0 for a term all classes use at the same rate
/// and near 1 for a term only one class uses. The factors are learned once, at training, like
/// the document frequencies; `learn` and `forget` leave them as they are.
///
/// [`smoothing`]: ClassWeighting::smoothing
/// [`power`]: ClassWeighting::power
///
/// ```
/// use comment_sieve::ClassWeighting;
/// let w = ClassWeighting { smoothing: 2.0, power: 0.5 };
/// // 100 comments per class: a word in every comment of every class weighs nothing,
/// assert!(w.factor([100, 100, 100], [100, 100, 100]) < 1e-9);
/// // a word in 40 abusive comments and in no other weighs 0.82 of its idf weight.
/// assert!((w.factor([40, 0, 0], [100, 100, 100]) - 0.822).abs() < 1e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassWeighting {
    /// Comments added to every class's count of a term and to the class size (> 0).
    pub smoothing: f64,
    /// The exponent of the factor (> 0): below 1 flattens the factors towards 1.
    pub power: f64,
}

impl ClassWeighting {
    /// The factor of a term found in `documents[c]` training comments of class `c`, out of
    /// `class_sizes[c]`.
    pub fn factor(&self, documents: [u32; Label::COUNT], class_sizes: [u64; Label::COUNT]) -> f64 {
        let rates: [f64; Label::COUNT] = std::array::from_fn(|c| {
            (f64::from(documents[c]) + self.smoothing) / (class_sizes[c] as f64 + self.smoothing)
        });
        let total: f64 = rates.iter().sum();
        let k = Label::COUNT as f64;
        let divergence: f64 = rates
            .iter()
            .map(|r| {
                let q = r / total;
                q * (k * q).ln()
            })
            .sum::<f64>()
            / k.ln();
        // The divergence is never negative; rounding can make it a hair below 0.
        divergence.max(0.0).powf(self.power)
    }

    /// Checks that the smoothing and the power are positive finite numbers.
    ///
    /// ```
    /// use comment_sieve::ClassWeighting;
    /// assert!(ClassWeighting { smoothing: 2.0, power: 0.75 }.validate().is_ok());
    /// assert!(ClassWeighting { smoothing: 0.0, power: 0.75 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), VectorizerError> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if ok(self.smoothing) && ok(self.power) {
            Ok(())
        } else {
            Err(VectorizerError::ClassWeighting(*self))
        }
    }
}

/// What a vectorizer with [`ClassWeighting`] learned: the setting, the number of training
/// comments of each class, and in how many comments of each class each term occurs (the
/// model file stores these, and the factors are computed from them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassFrequencies {
    /// The setting.
    pub weighting: ClassWeighting,
    /// Training comments per class, in [`Label::ALL`] order.
    pub class_sizes: [u64; Label::COUNT],
    /// Per column, the training comments of each class that hold the term.
    pub documents: Vec<[u32; Label::COUNT]>,
}

impl Default for VectorizerConfig {
    fn default() -> Self {
        VectorizerConfig {
            ngram_range: (1, 2),
            term_weight: TermWeight::Count,
            idf: false,
            l2_normalize: false,
            prefix_len: 0,
            target_window: 0,
        }
    }
}

/// Which terms make it into the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VocabularyParams {
    /// Keep terms found in at least this many training comments.
    pub min_df: u32,
    /// Drop terms found in more than this share of training comments (0 < max_df ≤ 1).
    pub max_df: f64,
    /// Keep at most this many terms, the most frequent first (ties broken by the term).
    pub max_features: Option<usize>,
}

impl Default for VocabularyParams {
    fn default() -> Self {
        VocabularyParams {
            min_df: 1,
            max_df: 1.0,
            max_features: None,
        }
    }
}

/// The terms a model knows, in a fixed (sorted) column order.
///
/// Lookups go through a table of 64-bit term hashes, so a lookup touches one table slot and no
/// term text: scoring is bound by memory access, and most looked-up n-grams are not in the
/// vocabulary. An unknown term is taken for a known one only if their 64-bit hashes are equal,
/// with probability `len / 2^64` per lookup (about 5·10⁻¹⁵ for 100,000 terms). Two vocabulary
/// terms with equal hashes (probability about `len² / 2^65`, 3·10⁻¹⁰ for 100,000 terms) are
/// refused when the vocabulary is built.
#[derive(Clone, Default)]
pub struct Vocabulary {
    terms: Vec<Box<str>>,
    /// `(64-bit term hash, column)`.
    index: hashbrown::HashTable<(u64, u32)>,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("len", &self.terms.len())
            .finish_non_exhaustive()
    }
}

const HASH_SEED: u64 = 0x5eed_c0de_51e7_e000;
/// Mixed into prefix-term hashes so `~abcd` never hashes like the word `abcd`.
const PREFIX_SALT: u64 = 0x7e6f_1d2c_3b4a_5968;
/// Mixed into targeted-pair hashes so `you>idiot` never hashes like the word pair `you idiot`.
const TARGET_SALT: u64 = 0x3c2d_1e0f_8a9b_4c5d;

/// The 64-bit product of `a` and `b` folded in half: the high word xor the low word. Each
/// output bit depends on most input bits, at the cost of one multiplication.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Odd constants (digits of π and e) that seed the mixing steps.
const MIX: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0xb7e1_5162_8aed_2a6b,
];

/// The fixed-seed hash of one word: its bytes, eight at a time (little-endian), folded in with
/// one multiplication each, then a final mix. The same on every platform and in every process.
/// Term hashes are never stored (a vocabulary hashes its terms when it is built), so this can
/// change without changing model files.
#[inline]
fn word_hash(word: &str) -> u64 {
    let bytes = word.as_bytes();
    let mut h = HASH_SEED ^ (bytes.len() as u64).wrapping_mul(MIX[0]);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut block = [0u8; 8];
        block.copy_from_slice(chunk);
        h = fold_mul(u64::from_le_bytes(block) ^ MIX[1], h ^ MIX[2]);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = fold_mul(tail_block(rest) ^ MIX[3], h ^ MIX[2]);
    }
    fold_mul(h ^ MIX[0], MIX[3])
}

/// The 1 to 7 bytes of `rest` as a little-endian number (the bytes zero-padded to 8), read
/// with two overlapping loads instead of a copy.
#[inline(always)]
fn tail_block(rest: &[u8]) -> u64 {
    let n = rest.len();
    debug_assert!((1..8).contains(&n));
    if n >= 4 {
        let lo = u64::from(u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]));
        let hi = u64::from(u32::from_le_bytes([
            rest[n - 4],
            rest[n - 3],
            rest[n - 2],
            rest[n - 1],
        ]));
        // `hi` holds bytes n-4..n; its top n-4 bytes are bytes 4..n.
        lo | ((hi >> (8 * (8 - n))) << 32)
    } else {
        u64::from(rest[0])
            | (u64::from(rest[n / 2]) << (8 * (n / 2)))
            | (u64::from(rest[n - 1]) << (8 * (n - 1)))
    }
}

/// The hash of the targeted pair `target>word` from the two words' hashes.
#[inline]
pub(crate) fn target_hash(target: u64, word: u64) -> u64 {
    combine(combine(TARGET_SALT, target), word)
}

/// Extends an n-gram hash by one more word's hash (order matters: `combine(a, b) !=
/// combine(b, a)` in general).
#[inline]
fn combine(acc: u64, next: u64) -> u64 {
    fold_mul(acc ^ MIX[1], next ^ MIX[3])
}

/// The hash of a term as stored in a vocabulary: a word, words joined by single spaces (an
/// n-gram: the word hashes folded with [`combine`]), or [`PREFIX_MARK`] and a word prefix. The
/// same in every process, and equal to what the term generator computes from the words
/// directly, so scoring never builds n-gram strings.
fn term_hash(term: &str) -> u64 {
    if let Some(prefix) = term.strip_prefix(PREFIX_MARK) {
        return combine(PREFIX_SALT, word_hash(prefix));
    }
    // Byte searches: the marks are ASCII, so they never fall inside a character, and a
    // vocabulary of many short terms is hashed at every model load.
    let bytes = term.as_bytes();
    if let Some(at) = bytes.iter().position(|&b| b == TARGET_MARK as u8) {
        return target_hash(word_hash(&term[..at]), word_hash(&term[at + 1..]));
    }
    let mut hash = None;
    let mut start = 0;
    for end in bytes
        .iter()
        .enumerate()
        .filter_map(|(i, &b)| (b == b' ').then_some(i))
        .chain([bytes.len()])
    {
        let h = word_hash(&term[start..end]);
        hash = Some(hash.map_or(h, |acc| combine(acc, h)));
        start = end + 1;
    }
    hash.unwrap_or_else(|| word_hash(""))
}

/// Two copies of a term in a vocabulary list, or a list too long for `u32` columns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid vocabulary: {0}")]
pub struct InvalidVocabulary(pub String);

impl Vocabulary {
    /// A vocabulary of `terms`, which must be distinct; the column of a term is its position.
    pub fn from_terms(terms: Vec<Box<str>>) -> Result<Self, InvalidVocabulary> {
        if terms.len() > u32::MAX as usize {
            return Err(InvalidVocabulary(format!("{} terms", terms.len())));
        }
        let mut index = hashbrown::HashTable::with_capacity(terms.len());
        for (i, term) in terms.iter().enumerate() {
            let h = term_hash(term);
            match index.entry(h, |e: &(u64, u32)| e.0 == h, |e| e.0) {
                hashbrown::hash_table::Entry::Occupied(e) => {
                    let other = &terms[e.get().1 as usize];
                    return Err(InvalidVocabulary(if other == term {
                        format!("term {term:?} appears twice")
                    } else {
                        format!("terms {other:?} and {term:?} have the same 64-bit hash")
                    }));
                }
                hashbrown::hash_table::Entry::Vacant(e) => {
                    e.insert((h, i as u32));
                }
            }
        }
        Ok(Vocabulary { terms, index })
    }

    /// Number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The column of `term`.
    pub fn get(&self, term: &str) -> Option<u32> {
        self.get_by_hash(term_hash(term))
    }

    /// The column of the term with this hash.
    fn get_by_hash(&self, h: u64) -> Option<u32> {
        self.index.find(h, |e| e.0 == h).map(|e| e.1)
    }

    /// The terms in column order.
    pub fn terms(&self) -> &[Box<str>] {
        &self.terms
    }

    /// The 64-bit hash of each term, in column order.
    pub(crate) fn column_hashes(&self) -> std::vec::IntoIter<u64> {
        let mut hashes = vec![0; self.terms.len()];
        for &(h, j) in self.index.iter() {
            hashes[j as usize] = h;
        }
        hashes.into_iter()
    }
}

/// Turns normalized text into weighted sparse vectors over a [`Vocabulary`].
///
/// Words and n-grams outside the vocabulary are ignored.
///
/// ```
/// use comment_sieve::{Vectorizer, VectorizerConfig, VocabularyParams};
/// let docs = ["good point", "good grief", "spam spam"];
/// let v = Vectorizer::fit(VectorizerConfig::default(), VocabularyParams::default(), &docs).unwrap();
/// assert_eq!(v.vocabulary().terms().len(), 7);
/// let x = v.transform("good good point unknown");
/// let cols: Vec<&str> = x.indices.iter().map(|&j| &*v.vocabulary().terms()[j as usize]).collect();
/// assert_eq!(cols, ["good", "good point", "point"]); // "good good" and "unknown" are unknown
/// assert_eq!(x.values, [2.0, 1.0, 1.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Vectorizer {
    config: VectorizerConfig,
    vocabulary: Vocabulary,
    document_frequency: Vec<u32>,
    n_documents: u64,
    /// The class frequencies, with [`ClassWeighting`].
    class_frequencies: Option<ClassFrequencies>,
    /// The weight of each column: its idf, times its class factor with [`ClassWeighting`];
    /// empty if neither is on.
    column_weights: Vec<f64>,
}

/// Why a vectorizer can't be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VectorizerError {
    /// An n-gram range that is empty or starts at 0.
    #[error("n-gram range {0:?} must satisfy 1 <= min <= max <= 8")]
    NgramRange((u8, u8)),
    /// A target window above 7.
    #[error("target window {0} must be at most {MAX_TARGET_WINDOW}")]
    TargetWindow(u8),
    /// A `max_df` outside (0, 1].
    #[error("max_df {0} must be in (0, 1]")]
    MaxDf(f64),
    /// The vocabulary list is bad.
    #[error(transparent)]
    Vocabulary(#[from] InvalidVocabulary),
    /// The document-frequency list does not match the vocabulary.
    #[error("{0} document frequencies for {1} terms")]
    FrequencyLength(usize, usize),
    /// A class weighting with a smoothing or power that is not a positive finite number.
    #[error("class weighting {0:?} needs a positive, finite smoothing and power")]
    ClassWeighting(ClassWeighting),
    /// Class frequencies that do not fit the vocabulary or the class sizes.
    #[error("class frequencies: {0}")]
    ClassFrequencies(String),
    /// Labels for a different number of texts.
    #[error("{labels} labels for {texts} texts")]
    LabelLength {
        /// Texts given.
        texts: usize,
        /// Labels given.
        labels: usize,
    },
}

/// Reusable buffers for [`Vectorizer::transform_into`].
#[derive(Debug, Default, Clone)]
pub struct VectorScratch {
    terms: TermScratch,
    columns: Vec<u32>,
}

/// Buffers for generating the terms of one text.
#[derive(Debug, Default, Clone)]
struct TermScratch {
    /// Hash of each word.
    hashes: Vec<u64>,
    /// Hash of each prefix term, with the index of its word.
    prefixes: Vec<(u64, usize)>,
    /// Index of each second-person word (only with a target window).
    targets: Vec<usize>,
}

impl Vectorizer {
    /// Learns the vocabulary (and document frequencies) from normalized training texts.
    pub fn fit<S: AsRef<str> + Sync>(
        config: VectorizerConfig,
        params: VocabularyParams,
        normalized: &[S],
    ) -> Result<Self, VectorizerError> {
        Ok(Self::fit_transform(config, params, normalized)?.0)
    }

    /// Learns the vocabulary from normalized training texts and returns it with the vectors of
    /// those texts (equal to [`Vectorizer::transform`] of each, computed without a second pass
    /// over the text).
    ///
    /// Each text's terms are hashed once; document frequencies come from sorting the
    /// `(term hash, text)` pairs, and a term's spelling is only built for terms that are kept.
    /// Integer counts and sorted orders throughout, so the result does not depend on the
    /// number of threads.
    pub fn fit_transform<S: AsRef<str> + Sync>(
        config: VectorizerConfig,
        params: VocabularyParams,
        normalized: &[S],
    ) -> Result<(Self, Vec<FeatureVector>), VectorizerError> {
        Self::fit_transform_with(config, params, normalized, None)
    }

    /// [`Vectorizer::fit_transform`] with supervised term weighting: `labels[i]` is the class
    /// of `normalized[i]`, and each column's weight is also multiplied by its
    /// [`ClassWeighting::factor`].
    pub fn fit_transform_labeled<S: AsRef<str> + Sync>(
        config: VectorizerConfig,
        params: VocabularyParams,
        normalized: &[S],
        labels: &[Label],
        weighting: ClassWeighting,
    ) -> Result<(Self, Vec<FeatureVector>), VectorizerError> {
        if labels.len() != normalized.len() {
            return Err(VectorizerError::LabelLength {
                texts: normalized.len(),
                labels: labels.len(),
            });
        }
        weighting.validate()?;
        Self::fit_transform_with(config, params, normalized, Some((labels, weighting)))
    }

    fn fit_transform_with<S: AsRef<str> + Sync>(
        config: VectorizerConfig,
        params: VocabularyParams,
        normalized: &[S],
        classes: Option<(&[Label], ClassWeighting)>,
    ) -> Result<(Self, Vec<FeatureVector>), VectorizerError> {
        check_config(&config)?;
        if !(params.max_df > 0.0 && params.max_df <= 1.0) {
            return Err(VectorizerError::MaxDf(params.max_df));
        }
        // 1. The distinct term hashes of every text, with their counts.
        let docs: Vec<Vec<(u64, u32, u32)>> = normalized
            .par_iter()
            .map_init(
                || (TermScratch::default(), Vec::new()),
                |(scratch, hashes), text| doc_terms(&config, text.as_ref(), scratch, hashes),
            )
            .collect();
        // 2. Document and total frequency of each hash, and the first text it occurs in.
        // (hash, text, count, locator)
        let mut pairs: Vec<(u64, u32, u32, u32)> =
            Vec::with_capacity(docs.iter().map(Vec::len).sum());
        for (d, terms) in docs.iter().enumerate() {
            pairs.extend(terms.iter().map(|&(h, tf, loc)| (h, d as u32, tf, loc)));
        }
        pairs.par_sort_unstable_by_key(|p| (p.0, p.1));
        let n = normalized.len() as u64;
        let max_df = ((params.max_df * n as f64).floor() as u64).max(1);
        // (df, tf, first text, locator in it)
        let mut kept: Vec<(u32, u64, u32, u32)> = Vec::new();
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            let df = group.len() as u32;
            if df >= params.min_df && u64::from(df) <= max_df {
                let tf = group.iter().map(|p| u64::from(p.2)).sum();
                kept.push((df, tf, group[0].1, group[0].3));
            }
        }
        drop(pairs);
        // 3. Spell out the kept terms, from the first text each occurs in.
        let mut wanted: Vec<(u32, u32, usize)> = kept
            .iter()
            .enumerate()
            .map(|(i, k)| (k.2, k.3, i))
            .collect();
        wanted.sort_unstable();
        let spelled: Vec<(usize, Box<str>)> = wanted
            .par_chunk_by(|a, b| a.0 == b.0)
            .map_init(Vec::new, |words, group| {
                let text = normalized[group[0].0 as usize].as_ref();
                let base = text.as_ptr() as usize;
                words.clear();
                words.extend(
                    Tokenizer
                        .tokenize(text)
                        .map(|w| (w.as_ptr() as usize - base, w.len())),
                );
                group
                    .iter()
                    .map(|&(_, loc, i)| {
                        (
                            i,
                            spell(text, words, loc, config.prefix_len).into_boxed_str(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .flatten()
            .collect();
        let mut names: Vec<Option<Box<str>>> = vec![None; kept.len()];
        for (i, name) in spelled {
            names[i] = Some(name);
        }
        let mut terms: Vec<(Box<str>, u32, u64)> = kept
            .iter()
            .zip(names)
            .filter_map(|(k, name)| name.map(|name| (name, k.0, k.1)))
            .collect();
        if let Some(max) = params.max_features {
            terms.sort_unstable_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
            terms.truncate(max);
        }
        terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let document_frequency = terms.iter().map(|k| k.1).collect();
        let terms = terms.into_iter().map(|k| k.0).collect();
        let mut vectorizer = Self::from_parts(config, terms, document_frequency, n)?;
        // 4. The `(column, count)` pairs of each text, from the hashes of step 1.
        let counted: Vec<Vec<(u32, u32)>> = docs
            .par_iter()
            .map(|terms| {
                let mut columns: Vec<(u32, u32)> = terms
                    .iter()
                    .filter_map(|&(h, tf, _)| vectorizer.vocabulary.get_by_hash(h).map(|j| (j, tf)))
                    .collect();
                columns.sort_unstable();
                columns
            })
            .collect();
        drop(docs);
        // 5. With class weighting, the class frequencies of each column.
        if let Some((labels, weighting)) = classes {
            let mut class_sizes = [0u64; Label::COUNT];
            let mut documents = vec![[0u32; Label::COUNT]; vectorizer.vocabulary.len()];
            for (columns, label) in counted.iter().zip(labels) {
                class_sizes[label.index()] += 1;
                for &(j, _) in columns {
                    documents[j as usize][label.index()] += 1;
                }
            }
            vectorizer = vectorizer.with_class_frequencies(ClassFrequencies {
                weighting,
                class_sizes,
                documents,
            })?;
        }
        // 6. The vectors.
        let vectors = counted
            .par_iter()
            .map(|columns| {
                let mut out = FeatureVector::default();
                vectorizer.push_weighted(columns.iter().copied(), &mut out);
                out
            })
            .collect();
        Ok((vectorizer, vectors))
    }

    /// Rebuilds a vectorizer from its stored parts.
    pub fn from_parts(
        config: VectorizerConfig,
        terms: Vec<Box<str>>,
        document_frequency: Vec<u32>,
        n_documents: u64,
    ) -> Result<Self, VectorizerError> {
        check_config(&config)?;
        if document_frequency.len() != terms.len() {
            return Err(VectorizerError::FrequencyLength(
                document_frequency.len(),
                terms.len(),
            ));
        }
        let vocabulary = Vocabulary::from_terms(terms)?;
        let column_weights = idf_weights(&config, &document_frequency, n_documents);
        Ok(Vectorizer {
            config,
            vocabulary,
            document_frequency,
            n_documents,
            class_frequencies: None,
            column_weights,
        })
    }

    /// This vectorizer with supervised term weighting from `frequencies` (see
    /// [`ClassWeighting`]), which must hold one entry per column, each count at most its
    /// class size. They replace any class frequencies the vectorizer had.
    pub fn with_class_frequencies(
        mut self,
        frequencies: ClassFrequencies,
    ) -> Result<Self, VectorizerError> {
        frequencies.weighting.validate()?;
        let columns = self.vocabulary.len();
        if frequencies.documents.len() != columns {
            return Err(VectorizerError::ClassFrequencies(format!(
                "{} entries for {columns} terms",
                frequencies.documents.len()
            )));
        }
        let sizes = frequencies.class_sizes;
        if let Some(j) = frequencies
            .documents
            .iter()
            .position(|d| (0..Label::COUNT).any(|c| u64::from(d[c]) > sizes[c]))
        {
            return Err(VectorizerError::ClassFrequencies(format!(
                "column {j} occurs in more comments of a class than the class has"
            )));
        }
        let factors = frequencies
            .documents
            .iter()
            .map(|&d| frequencies.weighting.factor(d, sizes));
        let idf = idf_weights(&self.config, &self.document_frequency, self.n_documents);
        self.column_weights = if idf.is_empty() {
            factors.collect()
        } else {
            idf.iter()
                .zip(factors)
                .map(|(idf, factor)| idf * factor)
                .collect()
        };
        self.class_frequencies = Some(frequencies);
        Ok(self)
    }

    /// The class frequencies of a vectorizer with supervised term weighting.
    pub fn class_frequencies(&self) -> Option<&ClassFrequencies> {
        self.class_frequencies.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &VectorizerConfig {
        &self.config
    }

    /// The vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// In how many training comments each term occurs, by column.
    pub fn document_frequency(&self) -> &[u32] {
        &self.document_frequency
    }

    /// How many comments the vocabulary was learned from.
    pub fn n_documents(&self) -> u64 {
        self.n_documents
    }

    /// The vector of one normalized text.
    pub fn transform(&self, normalized: &str) -> FeatureVector {
        let mut out = FeatureVector::default();
        self.transform_into(normalized, &mut VectorScratch::default(), &mut out);
        out
    }

    /// The vector of one normalized text, written into `out` (cleared first).
    pub fn transform_into(
        &self,
        normalized: &str,
        scratch: &mut VectorScratch,
        out: &mut FeatureVector,
    ) {
        out.clear();
        let VectorScratch { terms, columns, .. } = scratch;
        columns.clear();
        let vocabulary = &self.vocabulary;
        for_each_term(&self.config, normalized, terms, |h, _| {
            if let Some(j) = vocabulary.get_by_hash(h) {
                columns.push(j);
            }
        });
        columns.sort_unstable();
        let counted = columns
            .chunk_by(|a, b| a == b)
            .map(|run| (run[0], run.len() as u32));
        self.push_weighted(counted, out);
    }

    /// Calls `word` with each word of raw `text` as `normalizer` normalizes it: the words
    /// [`Tokenizer`] finds in the normalized text, in order, read from the normalizer's pieces
    /// without building the normalized string (the fast path in `scoring.rs` makes the terms
    /// of each with [`word_term_hashes`] and [`ngram_hash`]).
    pub(crate) fn for_each_word_of_text(
        &self,
        normalizer: &Normalizer,
        text: &str,
        normalize_scratch: &mut NormalizeScratch,
        mut word: impl FnMut(&str),
    ) {
        normalizer.for_each_piece_of(text, normalize_scratch, |piece, is_word| {
            if is_word {
                word(piece);
            } else {
                Tokenizer.tokenize(piece).for_each(&mut word);
            }
        });
    }

    /// Calls `f(column, words, is_prefix)` for every occurrence of a vocabulary term in
    /// `normalized`, where `words` is the range of word positions (as counted by [`Tokenizer`])
    /// the term covers. Explanations use it to point terms back at the text.
    pub(crate) fn for_each_known_term(
        &self,
        normalized: &str,
        mut f: impl FnMut(u32, std::ops::Range<usize>, bool),
    ) {
        let mut scratch = TermScratch::default();
        for_each_term(&self.config, normalized, &mut scratch, |h, term| {
            if let Some(j) = self.vocabulary.get_by_hash(h) {
                f(j, term.index..term.index + term.len, term.prefix);
            }
        });
    }

    /// The weight of each column (idf, times the class factor with [`ClassWeighting`]), or
    /// nothing if neither is on.
    pub(crate) fn column_weights(&self) -> &[f64] {
        &self.column_weights
    }

    /// Appends the weights of `(column, count)` pairs (columns increasing) to `out`, then
    /// scales to unit length if configured.
    pub(crate) fn push_weighted(
        &self,
        counted: impl Iterator<Item = (u32, u32)>,
        out: &mut FeatureVector,
    ) {
        for (j, count) in counted {
            let tf = f64::from(count);
            let mut w = match self.config.term_weight {
                TermWeight::Count => tf,
                TermWeight::Binary => 1.0,
                // Most terms occur once; skip the logarithm for them.
                TermWeight::Sublinear if count == 1 => 1.0,
                TermWeight::Sublinear => 1.0 + tf.ln(),
            };
            if let Some(column_weight) = self.column_weights.get(j as usize) {
                w *= column_weight;
            }
            out.indices.push(j);
            out.values.push(w);
        }
        if self.config.l2_normalize {
            scale_to_unit_length(&mut out.values);
        }
    }
}

/// The smoothed inverse document frequency `ln((1 + n) / (1 + df)) + 1` of each column, or
/// nothing if `config` has idf off.
fn idf_weights(
    config: &VectorizerConfig,
    document_frequency: &[u32],
    n_documents: u64,
) -> Vec<f64> {
    if !config.idf {
        return Vec::new();
    }
    document_frequency
        .iter()
        .map(|&df| ((1.0 + n_documents as f64) / (1.0 + f64::from(df))).ln() + 1.0)
        .collect()
}

/// Divides `values` by their Euclidean norm (nothing if it is 0). The scoring path's vectors
/// use it too, so that their values have the bits of [`Vectorizer::transform`]'s.
pub(crate) fn scale_to_unit_length(values: &mut [f64]) {
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        values.iter_mut().for_each(|v| *v /= norm);
    }
}

/// The distinct terms of one text: `(hash, count, locator of one occurrence)`, sorted by hash.
fn doc_terms(
    config: &VectorizerConfig,
    text: &str,
    scratch: &mut TermScratch,
    hashes: &mut Vec<(u64, u32)>,
) -> Vec<(u64, u32, u32)> {
    hashes.clear();
    for_each_term(config, text, scratch, |h, term| {
        hashes.push((h, term.locator()))
    });
    hashes.sort_unstable();
    hashes
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| (run[0].0, run.len() as u32, run[0].1))
        .collect()
}

fn check_config(config: &VectorizerConfig) -> Result<(), VectorizerError> {
    let (lo, hi) = config.ngram_range;
    if lo == 0 || lo > hi || hi > 8 {
        return Err(VectorizerError::NgramRange(config.ngram_range));
    }
    if config.target_window > MAX_TARGET_WINDOW {
        return Err(VectorizerError::TargetWindow(config.target_window));
    }
    Ok(())
}

/// Marks a word-prefix term: `idiots` gives `~idiot` with a prefix length of 5.
pub const PREFIX_MARK: char = '~';

/// Marks a targeted pair: `you>idiot` is `idiot` within the target window after a
/// second-person word.
pub const TARGET_MARK: char = '>';

/// How targeted pairs spell the second-person word they start from.
const TARGET_WORD: &str = "you";

/// The hash of [`TARGET_WORD`], the first word of every targeted pair (see [`target_hash`]).
pub(crate) fn target_word_hash() -> u64 {
    word_hash(TARGET_WORD)
}

/// Locator kinds above this are targeted pairs, at a distance of `kind - TARGET_KIND` words.
const TARGET_KIND: usize = 8;

/// Where one term of a text is; [`spell`] turns its [`TermRef::locator`] back into the term.
struct TermRef {
    /// Number of words spanned (1 for a word or a prefix; distance + 1 for a targeted pair).
    len: usize,
    /// Whether the term is a word prefix (`~` + the prefix).
    prefix: bool,
    /// Whether the term is a targeted pair (its first and last word).
    target: bool,
    /// Position of the term's first word among the text's words.
    index: usize,
}

impl TermRef {
    /// Where the term is in its text, in 32 bits: the first word's index and the n-gram length
    /// (0 for a prefix, [`TARGET_KIND`] + distance for a targeted pair). [`spell`] turns it
    /// back into the term.
    fn locator(&self) -> u32 {
        let kind = if self.prefix {
            0
        } else if self.target {
            (TARGET_KIND + self.len - 1) as u32
        } else {
            self.len as u32
        };
        ((self.index as u32) << 4) | kind
    }
}

/// Whether `w` (normalized) addresses the reader: `you`, `your`, `you're`, `u`, `ur`, ...
#[inline]
pub fn is_second_person(w: &str) -> bool {
    matches!(
        w,
        "you"
            | "your"
            | "yours"
            | "yourself"
            | "yourselves"
            | "youre"
            | "you're"
            | "you've"
            | "you'll"
            | "you'd"
            | "ur"
            | "u"
            | "ya"
            | "yall"
            | "y'all"
    )
}

/// The term at `locator` (see [`TermRef::locator`]) of a text whose words are `words`.
fn spell(normalized: &str, words: &[(usize, usize)], locator: u32, prefix_len: u8) -> String {
    let index = (locator >> 4) as usize;
    let kind = (locator & 0xF) as usize;
    let mut out = String::new();
    if kind > TARGET_KIND {
        if let Some(&(t, tlen)) = words.get(index + kind - TARGET_KIND) {
            out.push_str(TARGET_WORD);
            out.push(TARGET_MARK);
            out.push_str(&normalized[t..t + tlen]);
        }
        return out;
    }
    if kind == 0 {
        if let Some(&(s, len)) = words.get(index) {
            let w = &normalized[s..s + len];
            out.push(PREFIX_MARK);
            out.push_str(&w[..prefix_end(w, prefix_len).unwrap_or(len)]);
        }
        return out;
    }
    for (k, &(s, len)) in words.iter().skip(index).take(kind).enumerate() {
        if k > 0 {
            out.push(' ');
        }
        out.push_str(&normalized[s..s + len]);
    }
    out
}

/// Byte length of the first `prefix_len` characters of `w`, if it has that many.
#[inline]
fn prefix_end(w: &str, prefix_len: u8) -> Option<usize> {
    let prefix_len = usize::from(prefix_len);
    if prefix_len == 0 || w.len() < prefix_len {
        return None;
    }
    let bytes = w.as_bytes();
    if bytes[..prefix_len].is_ascii() {
        return Some(prefix_len);
    }
    w.char_indices()
        .nth(prefix_len - 1)
        .map(|(cut, c)| cut + c.len_utf8())
}

/// Calls `f` with the hash and a reference of every term of `normalized`: its n-grams in the
/// configured range, then, if configured, the prefix term of each long enough word. Fitting
/// and transforming both go through here, so they always agree; hashes are computed from word
/// hashes, without building n-gram strings (see [`term_hash`]).
fn for_each_term(
    config: &VectorizerConfig,
    normalized: &str,
    scratch: &mut TermScratch,
    f: impl FnMut(u64, TermRef),
) {
    scratch.clear();
    for w in Tokenizer.tokenize(normalized) {
        scratch.push_word(config, w);
    }
    emit_terms(config, scratch, f);
}

impl TermScratch {
    fn clear(&mut self) {
        self.hashes.clear();
        self.prefixes.clear();
        self.targets.clear();
    }

    /// Adds the next word of a text: its hash, and its prefix term's if it has one.
    #[inline(always)]
    fn push_word(&mut self, config: &VectorizerConfig, w: &str) {
        let index = self.hashes.len();
        let (word, prefix) = word_term_hashes(config, w);
        self.hashes.push(word);
        if let Some(prefix) = prefix {
            self.prefixes.push((prefix, index));
        }
        if config.target_window > 0 && is_second_person(w) {
            self.targets.push(index);
        }
    }
}

/// The hash of the word `w` and, if `config` gives the word a prefix term, that term's hash:
/// the terms one word adds to a text (its n-grams with other words come from [`ngram_hash`]).
#[inline(always)]
pub(crate) fn word_term_hashes(config: &VectorizerConfig, w: &str) -> (u64, Option<u64>) {
    let prefix =
        prefix_end(w, config.prefix_len).map(|end| combine(PREFIX_SALT, word_hash(&w[..end])));
    (word_hash(w), prefix)
}

/// The hash of the n-gram of the words with hashes `first`, then `rest`, in order.
#[inline(always)]
pub(crate) fn ngram_hash(first: u64, rest: impl IntoIterator<Item = u64>) -> u64 {
    rest.into_iter().fold(first, combine)
}

/// The 1 to 8 bytes of `w` as a little-endian number (zero-padded), or `None` if `w` is empty
/// or longer. With the length it identifies the word exactly.
#[inline(always)]
pub(crate) fn packed_short_word(w: &[u8]) -> Option<u64> {
    match w.len() {
        1..=7 => Some(tail_block(w)),
        8 => w.try_into().ok().map(u64::from_le_bytes),
        _ => None,
    }
}

/// Calls `f` with the hash and a reference of every term of the words in `scratch` (see
/// [`for_each_term`]).
fn emit_terms(config: &VectorizerConfig, scratch: &TermScratch, mut f: impl FnMut(u64, TermRef)) {
    let TermScratch {
        hashes,
        prefixes,
        targets,
    } = scratch;
    let (lo, hi) = config.ngram_range;
    if lo == 1 {
        for (index, &h) in hashes.iter().enumerate() {
            f(
                h,
                TermRef {
                    len: 1,
                    prefix: false,
                    target: false,
                    index,
                },
            );
        }
    }
    for n in usize::from(lo.max(2))..=usize::from(hi) {
        for (index, window) in hashes.windows(n).enumerate() {
            let h = ngram_hash(window[0], window[1..].iter().copied());
            f(
                h,
                TermRef {
                    len: n,
                    prefix: false,
                    target: false,
                    index,
                },
            );
        }
    }
    for &(h, index) in prefixes.iter() {
        f(
            h,
            TermRef {
                len: 1,
                prefix: true,
                target: false,
                index,
            },
        );
    }
    if targets.is_empty() {
        return;
    }
    let window = usize::from(config.target_window);
    let target = target_word_hash();
    for &index in targets.iter() {
        for (d, &h) in hashes.iter().skip(index + 1).take(window).enumerate() {
            f(
                target_hash(target, h),
                TermRef {
                    len: d + 2,
                    prefix: false,
                    target: true,
                    index,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_hash_splits_terms_like_str_split() {
        let by_str_split = |term: &str| {
            if let Some(prefix) = term.strip_prefix(PREFIX_MARK) {
                return combine(PREFIX_SALT, word_hash(prefix));
            }
            if let Some((target, word)) = term.split_once(TARGET_MARK) {
                return target_hash(word_hash(target), word_hash(word));
            }
            let mut words = term.split(' ');
            let first = word_hash(words.next().unwrap_or(""));
            words.fold(first, |acc, w| combine(acc, word_hash(w)))
        };
        for term in [
            "",
            " ",
            "a",
            "a b",
            "good point",
            "x  y",
            " lead",
            "trail ",
            "a b c d e f g h",
            "café au lait",
            "日本 語",
            "~idio",
            "you>idiot",
            "you>",
            ">x",
            "a>b>c",
            "_url_ _host_x",
        ] {
            assert_eq!(term_hash(term), by_str_split(term), "{term:?}");
        }
    }

    #[test]
    fn tail_block_is_the_zero_padded_bytes() {
        let bytes: Vec<u8> = (1..=7).map(|i| i * 37 + 5).collect();
        for n in 1..8 {
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(
                tail_block(&bytes[..n]),
                u64::from_le_bytes(padded),
                "{n} bytes"
            );
        }
    }

    fn fit(config: VectorizerConfig, params: VocabularyParams, docs: &[&str]) -> Vectorizer {
        Vectorizer::fit(config, params, docs).unwrap()
    }

    #[test]
    fn vocabulary_is_sorted_and_pruned() {
        let docs = ["a b c", "a b", "a d", "a e"];
        let unigrams = VectorizerConfig {
            ngram_range: (1, 1),
            ..Default::default()
        };
        let v = fit(unigrams, VocabularyParams::default(), &docs);
        assert_eq!(&*v.vocabulary().terms().join(","), "a,b,c,d,e");
        let min2 = VocabularyParams {
            min_df: 2,
            ..Default::default()
        };
        assert_eq!(
            &*fit(unigrams, min2, &docs).vocabulary().terms().join(","),
            "a,b"
        );
        let max_df = VocabularyParams {
            max_df: 0.5,
            ..Default::default()
        };
        assert_eq!(
            &*fit(unigrams, max_df, &docs).vocabulary().terms().join(","),
            "b,c,d,e"
        );
        let top2 = VocabularyParams {
            max_features: Some(2),
            ..Default::default()
        };
        assert_eq!(
            &*fit(unigrams, top2, &docs).vocabulary().terms().join(","),
            "a,b"
        );
    }

    #[test]
    fn weights_follow_the_config() {
        let docs = ["x x y", "y z"];
        let config = VectorizerConfig {
            ngram_range: (1, 1),
            term_weight: TermWeight::Sublinear,
            idf: true,
            l2_normalize: true,
            prefix_len: 0,
            target_window: 0,
        };
        let v = fit(config, VocabularyParams::default(), &docs);
        let x = v.transform("x x y");
        let wx = (1.0 + 2f64.ln()) * ((3.0f64 / 2.0).ln() + 1.0);
        let wy = 1.0 * ((3.0f64 / 3.0).ln() + 1.0);
        let norm = (wx * wx + wy * wy).sqrt();
        assert_eq!(x.indices, [0, 1]);
        assert!((x.values[0] - wx / norm).abs() < 1e-12);
        assert!((x.values[1] - wy / norm).abs() < 1e-12);
        assert!(v.transform("").values.is_empty());
    }

    #[test]
    fn rejects_bad_params() {
        let bad_range = VectorizerConfig {
            ngram_range: (2, 1),
            ..Default::default()
        };
        assert!(Vectorizer::fit(bad_range, VocabularyParams::default(), &["a"]).is_err());
        let bad_df = VocabularyParams {
            max_df: 0.0,
            ..Default::default()
        };
        assert!(Vectorizer::fit(VectorizerConfig::default(), bad_df, &["a"]).is_err());
    }

    #[test]
    fn transform_matches_fit_ngrams() {
        let docs = ["the cat sat on the mat"];
        let config = VectorizerConfig {
            ngram_range: (1, 3),
            ..Default::default()
        };
        let v = fit(config, VocabularyParams::default(), &docs);
        let x = v.transform(docs[0]);
        assert_eq!(x.values.iter().sum::<f64>(), 6.0 + 5.0 + 4.0);
        assert_eq!(v.vocabulary().len(), 5 + 5 + 4);
    }

    #[test]
    fn class_factors_run_from_0_for_even_use_to_1_for_one_class() {
        let w = ClassWeighting {
            smoothing: 2.0,
            power: 0.75,
        };
        let sizes = [100, 50, 400];
        // The same count in classes of the same size: no weight (to rounding).
        assert!(w.factor([10, 10, 10], [100, 100, 100]) < 1e-9);
        // The same rate in classes of other sizes: nearly none (the smoothing tilts it).
        assert!(w.factor([10, 5, 40], sizes) < 0.05);
        // One class only: larger the more of its comments hold it (the smoothing keeps a
        // rare word from counting as fully one-sided).
        let few = w.factor([0, 0, 20], sizes);
        let many = w.factor([0, 0, 400], sizes);
        assert!(
            few > 0.1 && few < many && many > 0.8 && many <= 1.0,
            "{few} {many}"
        );
        // Rarer in the rest means a larger factor, and the power flattens factors towards 1.
        assert!(w.factor([1, 0, 40], sizes) > w.factor([10, 0, 40], sizes));
        let flat = ClassWeighting { power: 0.25, ..w };
        assert!(flat.factor([10, 0, 40], sizes) > w.factor([10, 0, 40], sizes));
    }

    #[test]
    fn labeled_fit_vectors_equal_transform_with_class_factors() {
        let docs = [
            "you are an idiot",
            "an idiot wrote this",
            "buy cheap pills",
            "cheap pills here",
            "a fair point about the tax",
            "the tax point is fair",
        ];
        let labels = [
            Label::Abusive,
            Label::Abusive,
            Label::OffTopic,
            Label::OffTopic,
            Label::Substantive,
            Label::Substantive,
        ];
        let config = VectorizerConfig {
            term_weight: TermWeight::Sublinear,
            idf: true,
            l2_normalize: true,
            ..Default::default()
        };
        let weighting = ClassWeighting {
            smoothing: 1.0,
            power: 1.0,
        };
        let params = VocabularyParams::default();
        let (v, rows) =
            Vectorizer::fit_transform_labeled(config, params, &docs, &labels, weighting).unwrap();
        for (doc, row) in docs.iter().zip(&rows) {
            let again = v.transform(doc);
            assert_eq!(again.indices, row.indices, "{doc}");
            let bits = |x: &FeatureVector| x.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&again), bits(row), "{doc}");
        }
        // Each column's weight is its idf times its class factor.
        let frequencies = v.class_frequencies().unwrap();
        assert_eq!(frequencies.class_sizes, [2, 2, 2]);
        let col = |t: &str| v.vocabulary().get(t).unwrap() as usize;
        assert_eq!(frequencies.documents[col("idiot")], [2, 0, 0]);
        assert_eq!(frequencies.documents[col("a")], [0, 0, 1]);
        let (plain, _) = Vectorizer::fit_transform(config, params, &docs).unwrap();
        let weights = v.column_weights();
        let idf = plain.column_weights();
        for j in [col("idiot"), col("a"), col("cheap")] {
            let expected = idf[j] * weighting.factor(frequencies.documents[j], [2, 2, 2]);
            assert_eq!(weights[j], expected);
        }
        // Class frequencies given again replace the first ones; they do not compound.
        let again = v
            .clone()
            .with_class_frequencies(frequencies.clone())
            .unwrap();
        assert_eq!(again.column_weights(), v.column_weights());
        // Labels must match the texts.
        assert!(matches!(
            Vectorizer::fit_transform_labeled(config, params, &docs, &labels[1..], weighting),
            Err(VectorizerError::LabelLength {
                texts: 6,
                labels: 5
            })
        ));
        let bad = ClassWeighting {
            smoothing: -1.0,
            ..weighting
        };
        assert!(Vectorizer::fit_transform_labeled(config, params, &docs, &labels, bad).is_err());
    }

    #[test]
    fn targeted_pairs_join_second_person_words_with_the_next_words() {
        let config = VectorizerConfig {
            ngram_range: (1, 1),
            target_window: 2,
            ..Default::default()
        };
        let v = fit(
            config,
            VocabularyParams::default(),
            &["ur an idiot", "you're so dumb you"],
        );
        assert_eq!(
            &*v.vocabulary().terms().join(","),
            "an,dumb,idiot,so,ur,you,you're,you>an,you>dumb,you>idiot,you>so"
        );
        // `you>idiot` is one term whichever second-person word starts it; words beyond the
        // window are not paired.
        let x = v.transform("u idiot and you r an idiot");
        let terms: Vec<&str> = x
            .indices
            .iter()
            .map(|&j| &*v.vocabulary().terms()[j as usize])
            .collect();
        assert_eq!(terms, ["an", "idiot", "you", "you>an", "you>idiot"]);
        assert_eq!(x.values, [1.0, 2.0, 1.0, 1.0, 1.0]);
        // Explanations see the words a pair spans.
        let mut spans = Vec::new();
        v.for_each_known_term("ur an idiot", |j, words, _| {
            spans.push((v.vocabulary().terms()[j as usize].to_string(), words))
        });
        assert!(
            spans.contains(&("you>idiot".to_string(), 0..3)),
            "{spans:?}"
        );
        assert_eq!(
            term_hash("you>idiot"),
            target_hash(word_hash("you"), word_hash("idiot"))
        );
        assert_ne!(term_hash("you>idiot"), term_hash("you idiot"));
    }

    #[test]
    fn target_window_is_limited() {
        let config = VectorizerConfig {
            target_window: MAX_TARGET_WINDOW + 1,
            ..Default::default()
        };
        assert!(Vectorizer::fit(config, VocabularyParams::default(), &["a"]).is_err());
    }

    #[test]
    fn prefix_terms_join_word_forms() {
        let config = VectorizerConfig {
            ngram_range: (1, 1),
            prefix_len: 5,
            ..Default::default()
        };
        let v = fit(
            config,
            VocabularyParams::default(),
            &["idiots are idiotic", "idiot"],
        );
        assert_eq!(
            &*v.vocabulary().terms().join(","),
            "are,idiot,idiotic,idiots,~idiot"
        );
        let x = v.transform("idiot idiotic");
        assert_eq!(x.values, [1.0, 1.0, 2.0]);
    }
}
