//! Sorting the short lists of column numbers the scoring path sorts per comment: one bucket
//! pass on the top eight bits of the keys' range, then an insertion sort that only has to fix
//! the order inside buckets. For a hundred keys spread over a vocabulary that is a few hundred
//! simple steps, several times fewer than a comparison sort; long lists use the standard sort.

/// Sorts `items` by `key(item)`, stably, using `scratch` as the second buffer.
pub(crate) fn sort_by_key<T: Copy>(items: &mut [T], scratch: &mut Vec<T>, key: impl Fn(&T) -> u32) {
    let n = items.len();
    if n > 512 {
        items.sort_by_key(|t| key(t));
        return;
    }
    if n > 24 {
        let max = items.iter().map(&key).max().unwrap_or(0);
        let shift = (32 - max.leading_zeros()).saturating_sub(8);
        let mut starts = [0u16; 257];
        for t in items.iter() {
            starts[(key(t) >> shift) as usize + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        scratch.clear();
        scratch.extend_from_slice(items);
        for t in scratch.iter() {
            let bucket = (key(t) >> shift) as usize;
            items[usize::from(starts[bucket])] = *t;
            starts[bucket] += 1;
        }
    }
    // Insertion sort: moves each item past the few before it that belong after it.
    for i in 1..n {
        let item = items[i];
        let k = key(&item);
        let mut j = i;
        while j > 0 && key(&items[j - 1]) > k {
            items[j] = items[j - 1];
            j -= 1;
        }
        items[j] = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn sorts_like_the_standard_stable_sort(
            keys in proptest::collection::vec(proptest::num::u32::ANY, 0..700),
            narrow in proptest::bool::ANY,
        ) {
            let items: Vec<(u32, usize)> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| (if narrow { k % 300 } else { k }, i))
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|t| t.0);
            let mut sorted = items;
            sort_by_key(&mut sorted, &mut Vec::new(), |t| t.0);
            proptest::prop_assert_eq!(sorted, expected);
        }
    }
}
