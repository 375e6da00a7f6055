//! The scoring fast path: vectorizer weights and model log-probabilities fused into one table.
//!
//! [`Vectorizer`] and [`NaiveBayes`] stay the reference: this table is derived from them and
//! gives the same joint log-likelihoods (to rounding) as `model.joint_log_likelihood_of(
//! vectorizer.transform(text))`. It exists because scoring is bound by memory access: the
//! reference path touches a hash-table control group, a bucket, an idf entry and a model row
//! per term. Here a term costs one probe run in a compact index (8 bytes per slot) and, if
//! known, one 32-byte row holding `idf · log P(term | class)` and `idf`. A word's own terms
//! (the word and its prefix term) usually cost less: each scoring thread keeps the columns of
//! recently seen short words (a [`WordCache`]), so a frequent word skips its two hashes and
//! its two probes.
//!
//! With unit-length vectors the scale is applied once at the end:
//! `Σ (w_j / ‖w‖) · lf_j = (Σ w_j · lf_j) / ‖w‖`, so no vector is materialized.

use crate::features::FeatureVector;
use crate::label::Label;
use crate::model::NaiveBayes;
use crate::normalize::{Normalizer, Scratch as NormalizeScratch};
use crate::vectorize::{
    TermWeight, Vectorizer, is_second_person, ngram_hash, packed_short_word, target_hash,
    target_word_hash, word_term_hashes,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const K: usize = Label::COUNT;

/// Bits of an index slot that hold `column + 1`; the other 40 hold the top of the term hash.
const COLUMN_BITS: u32 = 24;
/// The most columns the compact index can address.
pub(crate) const MAX_COLUMNS: usize = (1 << COLUMN_BITS) - 2;

/// An open-addressing table from 64-bit term hash to column. A slot is `0` (empty) or
/// `(hash >> 24) << 24 | (column + 1)`; the probe starts at `hash & mask`. A lookup compares the
/// top 40 bits of the hash, so an unknown term is taken for a known one with probability about
/// `probes · 2⁻⁴⁰` (under 10⁻¹¹ at this load); the reference path compares all 64.
#[derive(Debug)]
struct TermIndex {
    slots: Box<[u64]>,
    mask: usize,
    /// Unique to this index in the process, so a [`WordCache`] knows whose columns it holds.
    id: u64,
}

/// The source of [`TermIndex::id`]s.
static NEXT_INDEX_ID: AtomicU64 = AtomicU64::new(1);

impl TermIndex {
    /// `hashes[j]` is the hash of column `j`; at most [`MAX_COLUMNS`] of them. Capacity is the
    /// power of two that keeps the load at or below 3/4. Returns `None` if two columns' hashes
    /// share their top 40 bits (then the caller keeps the reference path).
    fn build(hashes: impl ExactSizeIterator<Item = u64>) -> Option<Self> {
        let n = hashes.len();
        if n > MAX_COLUMNS {
            return None;
        }
        let capacity = (n * 4 / 3 + 1).next_power_of_two().max(16);
        let mask = capacity - 1;
        let mut slots = vec![0u64; capacity].into_boxed_slice();
        for (column, h) in hashes.enumerate() {
            let tag = h >> COLUMN_BITS;
            let mut i = (h as usize) & mask;
            loop {
                let slot = slots[i];
                if slot == 0 {
                    slots[i] = (tag << COLUMN_BITS) | (column as u64 + 1);
                    break;
                }
                if slot >> COLUMN_BITS == tag {
                    return None;
                }
                i = (i + 1) & mask;
            }
        }
        Some(TermIndex {
            slots,
            mask,
            id: NEXT_INDEX_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Asks the CPU to start loading the slot where the probe for `h` begins.
    #[inline]
    fn prefetch(&self, h: u64) {
        prefetch(self.slots.as_ptr().wrapping_add((h as usize) & self.mask));
    }

    /// `1 +` the column of the term with hash `h`, or `0` if the index does not know it.
    #[inline]
    fn column_plus_one(&self, h: u64) -> u32 {
        let tag = h >> COLUMN_BITS;
        let mut i = (h as usize) & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == 0 || slot >> COLUMN_BITS == tag {
                return (slot & ((1 << COLUMN_BITS) - 1)) as u32;
            }
            i = (i + 1) & self.mask;
        }
    }

    #[cfg(test)]
    fn get(&self, h: u64) -> Option<u32> {
        self.column_plus_one(h).checked_sub(1)
    }
}

/// The columns of a text's terms as they are found: each is written into `columns` past
/// `len` whether or not the term is known, and kept (by moving `len` on) only if it is.
struct ColumnList<'a> {
    columns: &'a mut Vec<u32>,
    len: usize,
    rows: &'a [Row],
}

impl ColumnList<'_> {
    /// Makes room for `more` terms.
    #[inline]
    fn reserve(&mut self, more: usize) {
        if self.columns.len() < self.len + more {
            self.columns.resize(self.len + more, 0);
        }
    }

    /// Keeps column `plus_one - 1`, or nothing if `plus_one` is 0 (an unknown term). Needs
    /// room (see [`ColumnList::reserve`]).
    #[inline(always)]
    fn push_plus_one(&mut self, plus_one: u32) {
        // Start loading the row now: it is read once the terms are counted. (An unknown
        // term loads row 0, which is harmless.)
        prefetch(
            self.rows
                .as_ptr()
                .wrapping_add(plus_one.saturating_sub(1) as usize),
        );
        self.columns[self.len] = plus_one.wrapping_sub(1);
        self.len += usize::from(plus_one != 0);
    }
}

/// How many lookups ahead the index and row prefetches run.
const PREFETCH_AHEAD: usize = 16;

/// A hint to load the cache line of `p`. Term lookups hit random places in tables of a few
/// megabytes, so the loads of the next few terms are started while this one is handled.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it never faults, whatever the address, and changes no
    // program state. SSE, which provides it, is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// One column's numbers: `w · log P(term | class)` per class, and `w`, the column's weight
/// (its idf, times its class factor with class weighting; 1 with neither).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct Row {
    weighted: [f64; K],
    idf: f64,
}

/// The fused table. Clones share the index (the vocabulary never changes after training).
#[derive(Debug, Clone)]
pub(crate) struct ScoringTable {
    index: Arc<TermIndex>,
    rows: Vec<Row>,
    log_prior: [f64; K],
    log_total: [f64; K],
    term_weight: TermWeight,
    l2_normalize: bool,
    /// `1 + ln n` for small counts `n` (from 0), the sublinear term weight, computed once.
    sublinear: [f64; SUBLINEAR_COUNTS],
    /// The column of the link placeholder word `_url_`, if the vocabulary has it: its count
    /// is the text's number of links (see [`crate::context::count_links`]).
    url_column: Option<u32>,
}

/// How many counts [`ScoringTable::sublinear`] holds.
const SUBLINEAR_COUNTS: usize = 64;

impl ScoringTable {
    /// The table of `vectorizer` and `model`, or `None` if the vocabulary doesn't fit the
    /// compact index (over [`MAX_COLUMNS`] terms, or a 40-bit tag collision).
    pub(crate) fn build(vectorizer: &Vectorizer, model: &NaiveBayes) -> Option<Self> {
        let index = TermIndex::build(vectorizer.vocabulary().column_hashes())?;
        let mut table = ScoringTable {
            index: Arc::new(index),
            rows: vec![Row::default(); model.n_features()],
            log_prior: [0.0; K],
            log_total: [0.0; K],
            term_weight: vectorizer.config().term_weight,
            l2_normalize: vectorizer.config().l2_normalize,
            sublinear: std::array::from_fn(|n| 1.0 + (n as f64).ln()),
            url_column: vectorizer.vocabulary().get(crate::normalize::URL_TOKEN),
        };
        table.refresh(vectorizer, model, 0..model.n_features());
        Some(table)
    }

    /// Recomputes the rows of `columns` and the per-class terms, after the model learned.
    pub(crate) fn refresh(
        &mut self,
        vectorizer: &Vectorizer,
        model: &NaiveBayes,
        columns: impl IntoIterator<Item = usize>,
    ) {
        let idf = vectorizer.column_weights();
        let log_feature = model.log_feature();
        for j in columns {
            if let (Some(row), Some(lf)) = (self.rows.get_mut(j), log_feature.get(j)) {
                let w = idf.get(j).copied().unwrap_or(1.0);
                *row = Row {
                    weighted: lf.map(|x| w * x),
                    idf: w,
                };
            }
        }
        self.log_prior = model.log_prior();
        self.log_total = model.log_total();
    }

    /// The joint log-likelihood of each class for one raw text, normalized by `normalizer`,
    /// and the text's number of links (0 if the vocabulary has no `_url_` word).
    pub(crate) fn joint_log_likelihood(
        &self,
        vectorizer: &Vectorizer,
        normalizer: &Normalizer,
        text: &str,
        scratch: &mut ScoringScratch,
    ) -> ([f64; K], usize) {
        self.count_columns(vectorizer, normalizer, text, scratch);
        (
            self.score_counted(&scratch.tally.counted),
            self.links_counted(&scratch.tally),
        )
    }

    /// How many times the last counted text had the `_url_` word.
    fn links_counted(&self, tally: &Tally) -> usize {
        self.url_column
            .map_or(0, |column| tally.count_of(column) as usize)
    }

    /// The joint log-likelihoods of `(column, count)` pairs (see [`Tally::count`]).
    fn score_counted(&self, counted: &[(u32, u32)]) -> [f64; K] {
        self.score_weighing(counted, |_, _| ())
    }

    /// [`ScoringTable::score_counted`], also calling `weighed(column, weight)` for each pair
    /// with the weight the vectorizer gives the term before normalization: its term weight
    /// times its idf (`Vectorizer::push_weighted` computes the same product).
    #[inline(always)]
    fn score_weighing(
        &self,
        counted: &[(u32, u32)],
        mut weighed: impl FnMut(u32, f64),
    ) -> [f64; K] {
        let mut acc = [0.0; K];
        let (mut mass, mut square) = (0.0, 0.0);
        for (k, &(column, count)) in counted.iter().enumerate() {
            if let Some(&(ahead, _)) = counted.get(k + PREFETCH_AHEAD) {
                prefetch(self.rows.as_ptr().wrapping_add(ahead as usize));
            }
            let row = &self.rows[column as usize];
            let tf = match (self.term_weight, count) {
                (TermWeight::Binary, _) | (_, 1) => 1.0,
                (TermWeight::Count, n) => f64::from(n),
                (TermWeight::Sublinear, n) => match self.sublinear.get(n as usize) {
                    Some(&tf) => tf,
                    None => 1.0 + f64::from(n).ln(),
                },
            };
            for (sum, weighted) in acc.iter_mut().zip(&row.weighted) {
                *sum += tf * weighted;
            }
            let w = tf * row.idf;
            weighed(column, w);
            mass += w;
            square += w * w;
        }
        let scale = if self.l2_normalize && square > 0.0 {
            square.sqrt().recip()
        } else {
            1.0
        };
        std::array::from_fn(|c| {
            self.log_prior[c] + scale * acc[c] - scale * mass * self.log_total[c]
        })
    }
}

impl ScoringTable {
    /// Counts the vocabulary columns of one raw text into `scratch.tally`, in order of first
    /// occurrence.
    ///
    /// The terms are those of `vectorizer`'s generator, in its order: the words, then the
    /// n-grams of two or more words, then the prefix terms, then the targeted pairs. A word's
    /// own columns (itself and its prefix term) come from `scratch.cache`, the [`WordCache`] of
    /// recent short words, when it has them; the other terms are looked up in the index, with
    /// the loads of later ones started early.
    fn count_columns(
        &self,
        vectorizer: &Vectorizer,
        normalizer: &Normalizer,
        text: &str,
        scratch: &mut ScoringScratch,
    ) {
        let ScoringScratch {
            normalize,
            cache,
            words,
            missed,
            targets,
            grams,
            columns,
            tally,
        } = scratch;
        let config = vectorizer.config();
        cache.claim(self.index.id);
        words.clear();
        missed.clear();
        targets.clear();
        vectorizer.for_each_word_of_text(normalizer, text, normalize, |w| {
            let second_person = match cache.find(w) {
                Ok((columns, second_person)) => {
                    words.push(columns);
                    second_person
                }
                Err(slot) => {
                    // Looked up below, once the loads started here have had time to arrive.
                    let (hash, prefix) = word_term_hashes(config, w);
                    self.index.prefetch(hash);
                    if let Some(p) = prefix {
                        self.index.prefetch(p);
                    }
                    let second_person = is_second_person(w);
                    missed.push(MissedWord {
                        at: words.len(),
                        prefix,
                        slot,
                        second_person,
                    });
                    words.push(WordColumns {
                        hash,
                        word: 0,
                        prefix: 0,
                    });
                    second_person
                }
            };
            if second_person && config.target_window > 0 {
                targets.push(words.len() - 1);
            }
        });
        let column = |h| self.index.column_plus_one(h);
        for m in missed.iter() {
            let found = &mut words[m.at];
            found.word = column(found.hash);
            found.prefix = m.prefix.map_or(0, column);
            cache.store(m.slot, *found, m.second_person);
        }
        // Columns are written with no branch on whether a term is known: each term's column
        // is written, and kept (the length moves on) only if the term is known.
        let mut list = ColumnList {
            columns,
            len: 0,
            rows: &self.rows,
        };
        let (lo, hi) = config.ngram_range;
        if lo == 1 {
            list.reserve(words.len());
            words.iter().for_each(|w| list.push_plus_one(w.word));
        }
        for n in usize::from(lo.max(2))..=usize::from(hi) {
            grams.clear();
            // Word pairs, the usual case, with their length known to the compiler.
            if n == 2 {
                grams.extend(words.windows(2).map(|w| ngram_hash(w[0].hash, [w[1].hash])));
            } else {
                grams.extend(
                    words
                        .windows(n)
                        .map(|w| ngram_hash(w[0].hash, w[1..].iter().map(|w| w.hash))),
                );
            }
            self.push_found(grams, &mut list);
        }
        list.reserve(words.len());
        words.iter().for_each(|w| list.push_plus_one(w.prefix));
        if !targets.is_empty() {
            let target = target_word_hash();
            let window = usize::from(config.target_window);
            grams.clear();
            for &t in targets.iter() {
                grams.extend(
                    words
                        .iter()
                        .skip(t + 1)
                        .take(window)
                        .map(|w| target_hash(target, w.hash)),
                );
            }
            self.push_found(grams, &mut list);
        }
        let len = list.len;
        columns.truncate(len);
        tally.count(columns);
    }

    /// Adds the column of every hash of `hashes` that the index knows to `list`, in order,
    /// starting the index loads of later hashes early.
    #[inline(always)]
    fn push_found(&self, hashes: &[u64], list: &mut ColumnList<'_>) {
        list.reserve(hashes.len());
        for (i, &h) in hashes.iter().enumerate() {
            if let Some(&ahead) = hashes.get(i + PREFETCH_AHEAD) {
                self.index.prefetch(ahead);
            }
            list.push_plus_one(self.index.column_plus_one(h));
        }
    }

    /// The vector of one raw text, equal to `vectorizer.transform(&normalizer.normalize(text))`
    /// (the same counts, weighed with the same arithmetic in the same order, so the same bits),
    /// found through this table's index, with the term weights of the scoring pass; returns
    /// the text's joint log-likelihoods and number of links, the same as
    /// [`ScoringTable::joint_log_likelihood`] gives.
    pub(crate) fn transform_and_score(
        &self,
        vectorizer: &Vectorizer,
        normalizer: &Normalizer,
        text: &str,
        scratch: &mut ScoringScratch,
        out: &mut FeatureVector,
    ) -> ([f64; K], usize) {
        self.count_columns(vectorizer, normalizer, text, scratch);
        let links = self.links_counted(&scratch.tally);
        let tally = &mut scratch.tally;
        let mut weights = std::mem::take(&mut tally.weights);
        let mut columns = std::mem::take(&mut tally.columns);
        weights.clear();
        columns.clear();
        let jll = self.score_weighing(&tally.counted, |column, w| {
            weights.push(w);
            columns.insert(column);
        });
        // The vector lists its columns in increasing order; `weights` is in counted order.
        out.clear();
        out.indices.reserve(weights.len());
        out.values.reserve(weights.len());
        columns.drain(|column| {
            if let Some(k) = tally.index_of(column) {
                out.indices.push(column);
                out.values.push(weights[k]);
            }
        });
        tally.weights = weights;
        tally.columns = columns;
        if self.l2_normalize {
            crate::vectorize::scale_to_unit_length(&mut out.values);
        }
        (jll, links)
    }
}

/// Reusable buffers for [`ScoringTable::joint_log_likelihood`].
#[derive(Debug, Default)]
pub(crate) struct ScoringScratch {
    normalize: NormalizeScratch,
    cache: WordCache,
    /// The columns of each word of the text, in order.
    words: Vec<WordColumns>,
    /// The words of the text that were not in the cache.
    missed: Vec<MissedWord>,
    /// The positions of the text's second-person words (only with targeted pairs).
    targets: Vec<usize>,
    /// The hashes of the text's n-grams of one length, or of its targeted pairs.
    grams: Vec<u64>,
    columns: Vec<u32>,
    tally: Tally,
}

/// What one word contributes on its own: its hash (for n-grams) and the columns of the word
/// and of its prefix term, each `1 +` the column, or `0` if not in the vocabulary (or, for the
/// prefix, if the word has none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct WordColumns {
    hash: u64,
    word: u32,
    prefix: u32,
}

/// Number of entries of a [`WordCache`] (a power of two).
const WORD_CACHE_SIZE: usize = 8192;

/// The [`WordColumns`] of recently seen words of up to 8 bytes, for one index: a direct-mapped
/// table keyed by the word's bytes and length. Frequent words come back in every text, and
/// each time they are found here they skip hashing and both index lookups.
#[derive(Debug, Default)]
struct WordCache {
    /// The [`TermIndex::id`] whose columns the entries hold (0: none yet).
    owner: u64,
    /// Empty until first used; an entry of length 0 is free.
    entries: Vec<CachedWord>,
}

#[derive(Debug, Clone, Copy, Default)]
struct CachedWord {
    /// The word's bytes, zero-padded (see [`packed_short_word`]).
    key: u64,
    len: u32,
    /// Whether the word addresses the reader ([`is_second_person`]), for targeted pairs.
    second_person: bool,
    columns: WordColumns,
}

impl WordCache {
    /// Makes the cache hold columns of the index `owner`, emptying it if it held another's.
    #[inline]
    fn claim(&mut self, owner: u64) {
        if self.owner != owner || self.entries.is_empty() {
            self.entries.clear();
            self.entries.resize(WORD_CACHE_SIZE, CachedWord::default());
            self.owner = owner;
        }
    }

    /// The columns of `word`, and whether it addresses the reader, if the cache has them;
    /// else where to [`WordCache::store`] them (`None` for a word too long to keep).
    #[inline(always)]
    fn find(&self, word: &str) -> Result<(WordColumns, bool), Option<CacheSlot>> {
        let Some(key) = packed_short_word(word.as_bytes()) else {
            return Err(None);
        };
        let len = word.len() as u32;
        let index = ((key ^ u64::from(len)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            >> (64 - WORD_CACHE_SIZE.trailing_zeros())) as usize;
        match self.entries.get(index) {
            Some(entry) if entry.key == key && entry.len == len => {
                Ok((entry.columns, entry.second_person))
            }
            _ => Err(Some(CacheSlot { index, key, len })),
        }
    }

    /// Keeps `columns` and `second_person` for the word that [`WordCache::find`] gave `slot`
    /// for.
    #[inline]
    fn store(&mut self, slot: Option<CacheSlot>, columns: WordColumns, second_person: bool) {
        if let Some(CacheSlot { index, key, len }) = slot
            && let Some(entry) = self.entries.get_mut(index)
        {
            *entry = CachedWord {
                key,
                len,
                second_person,
                columns,
            };
        }
    }
}

/// Where a word not found in a [`WordCache`] goes: the entry and the word's key.
#[derive(Debug, Clone, Copy)]
struct CacheSlot {
    index: usize,
    key: u64,
    len: u32,
}

/// A word of the text being scored that the cache did not have: its place in the text's
/// words, its prefix term's hash, and where to cache its columns.
#[derive(Debug, Clone, Copy)]
struct MissedWord {
    at: usize,
    prefix: Option<u64>,
    slot: Option<CacheSlot>,
    /// Whether the word addresses the reader ([`is_second_person`]).
    second_person: bool,
}

/// Counts repeated columns with a small open-addressing table that is reused between calls.
/// Each slot carries the number of the call that wrote it, so a new call starts with every
/// slot free without clearing any, and costs in proportion to its own terms. (A sparse set
/// indexed by column, with no hashing and no clearing, cut 5% of `classify`'s instructions but
/// ran slower on this machine: its table is 4 bytes per model column, and a text's columns
/// land all over it.)
#[derive(Debug, Default)]
struct Tally {
    /// Per slot: the call that last wrote it (high 32 bits) and `1 +` an index into `counted`
    /// (low 32 bits). A slot written by another call is free.
    slots: Vec<u64>,
    /// The number of the current call; never 0, which marks slots never written.
    call: u32,
    /// `(column, count)` in order of first occurrence.
    counted: Vec<(u32, u32)>,
    /// The weight of each entry of `counted`, for a text's vector.
    weights: Vec<f64>,
    /// The counted columns, for listing them in increasing order.
    columns: crate::radix::ColumnSet,
}

impl Tally {
    /// The slot `column` starts probing from, in a table of `2^bits` slots.
    #[inline(always)]
    fn home_slot(column: u32, bits: u32) -> usize {
        (u64::from(column).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - bits)) as usize
    }

    /// How many times the last counted columns held `column`.
    fn count_of(&self, column: u32) -> u32 {
        self.index_of(column).map_or(0, |k| self.counted[k].1)
    }

    /// Where `column` is in `counted`, if the last counted columns held it.
    #[inline]
    fn index_of(&self, column: u32) -> Option<usize> {
        // Slots exist only once `count` has run, and so given the call a number.
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = Self::home_slot(column, self.slots.len().trailing_zeros());
        loop {
            let slot = self.slots[i];
            if (slot >> 32) as u32 != self.call {
                return None;
            }
            match self.counted.get((slot as u32 as usize).wrapping_sub(1)) {
                Some(&(c, _)) if c == column => return Some(slot as u32 as usize - 1),
                Some(_) => i = (i + 1) & mask,
                None => return None,
            }
        }
    }

    /// The distinct `columns` with their counts, in order of first occurrence.
    fn count(&mut self, columns: &[u32]) {
        self.counted.clear();
        self.counted.reserve(columns.len());
        let need = (columns.len() * 2).next_power_of_two().max(64);
        self.call = self.call.wrapping_add(1);
        if self.slots.len() < need || self.call == 0 {
            // A bigger table, or the call numbers came round again: start from never-written
            // slots.
            self.slots = vec![0; need.max(self.slots.len())];
            self.call = 1;
        }
        let call = self.call;
        let stamp = u64::from(call) << 32;
        let bits = self.slots.len().trailing_zeros();
        let mask = self.slots.len() - 1;
        for &column in columns {
            let mut i = Self::home_slot(column, bits);
            loop {
                let slot = self.slots[i];
                if (slot >> 32) as u32 != call {
                    self.counted.push((column, 1));
                    self.slots[i] = stamp | self.counted.len() as u64;
                    break;
                }
                let entry = &mut self.counted[slot as u32 as usize - 1];
                if entry.0 == column {
                    entry.1 += 1;
                    break;
                }
                i = (i + 1) & mask;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_counts_in_first_seen_order_and_resets() {
        let mut tally = Tally::default();
        assert_eq!(tally.count_of(5), 0);
        tally.count(&[5, 3, 5, 9, 3, 5]);
        assert_eq!(tally.counted, [(5, 3), (3, 2), (9, 1)]);
        assert_eq!([5, 3, 9, 4].map(|c| tally.count_of(c)), [3, 2, 1, 0]);
        assert_eq!(
            [5, 3, 9, 4].map(|c| tally.index_of(c)),
            [Some(0), Some(1), Some(2), None]
        );
        tally.count(&[9]);
        assert_eq!(tally.counted, [(9, 1)]);
        assert_eq!([5, 9].map(|c| tally.count_of(c)), [0, 1]);
        tally.count(&[]);
        assert_eq!(tally.counted, []);
        assert_eq!(tally.count_of(9), 0);
        let many: Vec<u32> = (0..1000).chain(0..1000).collect();
        tally.count(&many);
        let counted = &tally.counted;
        assert_eq!(counted.len(), 1000);
        assert!(
            counted
                .iter()
                .enumerate()
                .all(|(i, &(c, n))| c == i as u32 && n == 2)
        );
        assert!((0..1000).all(|c| tally.count_of(c) == 2));
        assert_eq!(tally.count_of(1000), 0);
    }

    /// `find`, then `store` on a miss, the way `count_columns` uses the cache.
    fn columns_of(
        cache: &mut WordCache,
        word: &str,
        compute: impl FnOnce(&str) -> WordColumns,
    ) -> WordColumns {
        match cache.find(word) {
            Ok((columns, second_person)) => {
                assert_eq!(second_person, is_second_person(word));
                columns
            }
            Err(slot) => {
                let columns = compute(word);
                cache.store(slot, columns, is_second_person(word));
                columns
            }
        }
    }

    #[test]
    fn word_cache_computes_each_word_once_and_tells_words_apart() {
        let mut cache = WordCache::default();
        cache.claim(7);
        let mut computed = Vec::new();
        // Same bytes padded with a zero byte, a word of exactly 8 bytes, one of 9 (never kept).
        let words = ["ab", "ab\0", "abcdefgh", "abcdefghi"];
        let got: Vec<WordColumns> = words
            .iter()
            .chain(&words)
            .map(|w| {
                columns_of(&mut cache, w, |w| {
                    computed.push(w.to_string());
                    WordColumns {
                        hash: w.len() as u64,
                        word: w.bytes().map(u32::from).sum(),
                        prefix: 0,
                    }
                })
            })
            .collect();
        assert_eq!(got[..4], got[4..]);
        assert_ne!(got[0], got[1]);
        assert_eq!(
            computed,
            ["ab", "ab\0", "abcdefgh", "abcdefghi", "abcdefghi"]
        );
    }

    #[test]
    fn word_cache_keeps_whether_a_word_addresses_the_reader() {
        let mut cache = WordCache::default();
        cache.claim(3);
        let words = ["you", "ur", "the"];
        for word in words {
            let Err(slot) = cache.find(word) else {
                panic!("{word} found before it was stored");
            };
            cache.store(slot, WordColumns::default(), is_second_person(word));
        }
        assert_eq!(
            words.map(|w| cache.find(w).ok().map(|(_, second_person)| second_person)),
            [Some(true), Some(true), Some(false)]
        );
    }

    #[test]
    fn tally_starts_afresh_when_its_call_numbers_come_round() {
        let mut tally = Tally::default();
        tally.count(&[4, 4, 9]);
        tally.call = u32::MAX;
        tally.count(&[9, 7]);
        assert_eq!(tally.counted, [(9, 1), (7, 1)]);
        assert_eq!([4, 9, 7].map(|c| tally.count_of(c)), [0, 1, 1]);
        tally.count(&[4]);
        assert_eq!(tally.call, 2);
        assert_eq!([4, 9, 7].map(|c| tally.count_of(c)), [1, 0, 0]);
    }

    #[test]
    fn word_cache_is_emptied_for_another_index() {
        let mut cache = WordCache::default();
        let columns = |word| WordColumns {
            hash: 1,
            word,
            prefix: 0,
        };
        cache.claim(1);
        assert_eq!(columns_of(&mut cache, "word", |_| columns(5)), columns(5));
        assert_eq!(columns_of(&mut cache, "word", |_| columns(9)), columns(5));
        cache.claim(1);
        assert_eq!(columns_of(&mut cache, "word", |_| columns(9)), columns(5));
        cache.claim(2);
        assert_eq!(columns_of(&mut cache, "word", |_| columns(9)), columns(9));
    }

    #[test]
    fn index_finds_every_column_and_rejects_others() {
        let hashes: Vec<u64> = (0..5000u64)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 40))
            .collect();
        let index = TermIndex::build(hashes.iter().copied()).expect("distinct tags");
        for (j, &h) in hashes.iter().enumerate() {
            assert_eq!(index.get(h), Some(j as u32));
        }
        assert_eq!(index.get(0xdead_beef_dead_beef), None);
        assert!(TermIndex::build([7u64 << 30, 7u64 << 30].into_iter()).is_none());
    }
}
