//! Listing a comment's distinct vocabulary columns in increasing order without comparing them.
//!
//! A [`ColumnSet`] is a two-level bitmap, a radix-64 trie: one bit per column, and above that
//! one bit per non-empty word of column bits. Inserting a column sets two bits; listing walks
//! only the words that hold columns. For the hundred or so columns of a comment spread over a
//! vocabulary of a hundred thousand, that is a few steps per column, several times fewer than a
//! comparison or bucket sort of the `(column, weight)` pairs.

/// A set of column numbers, read back in increasing order; see the module documentation.
/// Memory: one bit per column up to the largest inserted.
#[derive(Debug, Default)]
pub(crate) struct ColumnSet {
    /// Bit `j % 64` of word `j / 64` is set for column `j`.
    bits: Vec<u64>,
    /// Bit `w % 64` of word `w / 64` is set when `bits[w]` is not 0.
    words: Vec<u64>,
}

impl ColumnSet {
    /// Adds `column` (adding it twice keeps one).
    #[inline]
    pub(crate) fn insert(&mut self, column: u32) {
        let j = column as usize;
        let w = j / 64;
        if w >= self.bits.len() {
            self.grow(w);
        }
        self.bits[w] |= 1 << (j % 64);
        self.words[w / 64] |= 1 << (w % 64);
    }

    #[cold]
    fn grow(&mut self, w: usize) {
        self.bits.resize(w + 1, 0);
        self.words.resize(w / 64 + 1, 0);
    }

    /// Calls `f` with each column in increasing order, and empties the set.
    #[inline]
    pub(crate) fn drain(&mut self, mut f: impl FnMut(u32)) {
        for (upper, above) in self.words.iter_mut().enumerate() {
            let mut nonzero = std::mem::take(above);
            while nonzero != 0 {
                let w = upper * 64 + nonzero.trailing_zeros() as usize;
                nonzero &= nonzero - 1;
                let Some(word) = self.bits.get_mut(w) else {
                    continue;
                };
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    f((w * 64) as u32 + bits.trailing_zeros());
                    bits &= bits - 1;
                }
            }
        }
    }

    /// Empties the set, as [`ColumnSet::drain`] does (a drain that `f` interrupted by a panic
    /// leaves columns behind).
    pub(crate) fn clear(&mut self) {
        self.drain(|_| ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn lists_the_distinct_columns_in_increasing_order(
            rounds in proptest::collection::vec(
                proptest::collection::vec(0u32..300_000, 0..700), 1..4),
            narrow in proptest::bool::ANY,
        ) {
            let mut set = ColumnSet::default();
            for columns in rounds {
                let columns: Vec<u32> =
                    columns.iter().map(|&c| if narrow { c % 300 } else { c }).collect();
                columns.iter().for_each(|&c| set.insert(c));
                let mut expected = columns;
                expected.sort_unstable();
                expected.dedup();
                let mut listed = Vec::new();
                set.drain(|c| listed.push(c));
                proptest::prop_assert_eq!(listed, expected);
            }
        }
    }

    #[test]
    fn clear_empties_a_set_left_half_drained() {
        let mut set = ColumnSet::default();
        [3, 70, 5000, 9].into_iter().for_each(|c| set.insert(c));
        let interrupted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            set.drain(|c| assert!(c < 10, "stop in the middle"))
        }));
        assert!(interrupted.is_err());
        set.clear();
        set.insert(4);
        let mut listed = Vec::new();
        set.drain(|c| listed.push(c));
        assert_eq!(listed, [4]);
    }
}
