//! Word and phrase lists for moderation policies, matched on normalized words.

use crate::normalize::{Normalizer, Scratch};
use crate::tokenize::Tokenizer;
use std::collections::HashMap;

/// A list of terms: single words or phrases of several words.
///
/// Terms and texts go through the same [`Normalizer`] (default settings) and [`Tokenizer`], and
/// a term matches where its words occur in the text's words, consecutively and whole. So case,
/// punctuation, spacing, HTML and Unicode look-alikes do not matter, and a term never matches
/// inside a longer word. Links, e-mail addresses and numbers are placeholders after
/// normalization: the term `bit.ly` matches any link to bit.ly, and `_url_` any link.
///
/// ```
/// use comment_sieve::TermList;
/// let list = TermList::new(["idiot", "free money", "ass"])?;
/// assert_eq!(list.find("You IDIOT!"), Some("idiot"));
/// assert_eq!(list.find("get FREE   money!!"), Some("free money"));
/// assert_eq!(list.find("a first-class argument"), None); // "ass" is not a word of it
/// # Ok::<(), comment_sieve::EmptyTerm>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TermList {
    /// The terms as given, in order.
    terms: Vec<String>,
    /// Each term's normalized words.
    words: Vec<Vec<String>>,
    /// Term indices by their first word, in list order.
    by_first_word: HashMap<String, Vec<usize>>,
}

/// A term with no words in it, such as `"!!!"`: it could never match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("term {term:?} (entry {index}) has no words after normalization")]
pub struct EmptyTerm {
    /// The term as given.
    pub term: String,
    /// Its position in the list, from 0.
    pub index: usize,
}

impl TermList {
    /// A list of `terms`, kept in the order given. Fails on a term with no words.
    pub fn new<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> Result<Self, EmptyTerm> {
        let mut list = TermList::default();
        let mut scratch = Scratch::default();
        let mut normalized = String::new();
        for (index, term) in terms.into_iter().enumerate() {
            let term = term.as_ref();
            words_into(term, &mut scratch, &mut normalized);
            let words: Vec<String> = Tokenizer.tokenize(&normalized).map(str::to_owned).collect();
            let Some(first) = words.first() else {
                return Err(EmptyTerm {
                    term: term.to_owned(),
                    index,
                });
            };
            list.by_first_word
                .entry(first.clone())
                .or_default()
                .push(index);
            list.terms.push(term.to_owned());
            list.words.push(words);
        }
        Ok(list)
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether the list has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms as given.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The first term of the list (in list order, not text order) that occurs in `text`.
    pub fn find(&self, text: &str) -> Option<&str> {
        if self.is_empty() {
            return None;
        }
        let mut normalized = String::new();
        words_into(text, &mut Scratch::default(), &mut normalized);
        let words: Vec<&str> = Tokenizer.tokenize(&normalized).collect();
        self.find_in_words(&words)
    }

    /// Like [`TermList::find`], on words already normalized and tokenized as described above.
    pub fn find_in_words(&self, words: &[&str]) -> Option<&str> {
        let mut best: Option<usize> = None;
        for (at, word) in words.iter().enumerate() {
            let Some(candidates) = self.by_first_word.get(*word) else {
                continue;
            };
            for &index in candidates {
                if best.is_some_and(|b| b <= index) {
                    // Candidates are in list order: none later in this list can do better.
                    break;
                }
                let term = &self.words[index];
                let fits = words
                    .get(at..at + term.len())
                    .is_some_and(|window| window.iter().zip(term).all(|(w, t)| *w == t));
                if fits {
                    best = Some(index);
                    break;
                }
            }
            if best == Some(0) {
                break;
            }
        }
        best.map(|index| self.terms[index].as_str())
    }
}

/// Normalizes `text` as lists match it, into `out`.
pub(crate) fn words_into(text: &str, scratch: &mut Scratch, out: &mut String) {
    Normalizer::default().normalize_into(text, scratch, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_words_and_phrases_only() {
        let list = TermList::new(["ass", "free money", "click here now"]).unwrap();
        assert_eq!(list.find("ASS!"), Some("ass"));
        assert_eq!(list.find("class passes assess"), None);
        assert_eq!(list.find("money free"), None);
        assert_eq!(list.find("free, money"), Some("free money"));
        assert_eq!(list.find("click here"), None);
        assert_eq!(list.find("<b>Click</b> HERE now"), Some("click here now"));
    }

    #[test]
    fn reports_the_first_term_in_list_order() {
        let list = TermList::new(["spam", "idiot"]).unwrap();
        assert_eq!(list.find("idiot spam"), Some("spam"));
        let list = TermList::new(["free", "free money"]).unwrap();
        assert_eq!(list.find("free money"), Some("free"));
    }

    #[test]
    fn rejects_terms_without_words() {
        let err = TermList::new(["ok", " ?! "]).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(TermList::new(Vec::<String>::new()).unwrap().is_empty());
    }

    #[test]
    fn links_match_by_host() {
        let list = TermList::new(["bit.ly"]).unwrap();
        assert_eq!(list.find("see https://bit.ly/abc"), Some("bit.ly"));
        assert_eq!(list.find("see https://example.com/bit"), None);
    }
}
