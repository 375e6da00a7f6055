//! Explanations: which terms moved a verdict, and where they are in the original text.
//!
//! The model sees normalized text (tags stripped, case folded, links replaced...), so its words
//! have no positions in what the user wrote. To point back, the original text is cut into
//! source chunks (runs of non-space characters between spaces and HTML tags), each chunk is
//! normalized and tokenized on its own, and the resulting words are matched, in order, with
//! the words the model saw. A word's span is then the part of its chunk that spells it
//! (ignoring ASCII case), or the whole chunk when normalization changed the spelling (`ＩＤＩＯＴ`,
//! `&amp;`, a link that became `_url_`).

use crate::label::Label;
use crate::normalize::{MAX_TAG_LEN, Normalizer};
use crate::tokenize::Tokenizer;
use serde::Serialize;
use std::ops::Range;

const K: usize = Label::COUNT;

/// One vocabulary term of a comment and how much it pushed each label.
///
/// ```
/// use comment_sieve::{Classifier, Comment, Label};
/// let classifier = Classifier::embedded()?;
/// let text = "Thanks for the post. You are an IDIOT though.";
/// let verdict = classifier.explain(&Comment::new("1", text));
/// let top = &verdict.evidence()[0];
/// assert_eq!(verdict.label, Label::Abusive);
/// assert!(top.ratio(Label::Abusive) > 0.0);
/// // Spans are byte ranges of the original text.
/// let idiot = verdict.evidence().iter().find(|e| e.term == "idiot").unwrap();
/// assert_eq!(&text[idiot.span.clone()], "IDIOT");
/// # Ok::<(), comment_sieve::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The term as the model knows it: a word, two words joined by a space, or `~` and a word
    /// prefix.
    pub term: String,
    /// Byte range in the original text of the term's first occurrence.
    pub span: Range<usize>,
    /// How often the term occurs in the comment.
    pub count: u32,
    /// Per label (indexed like [`Label::ALL`]): the term's weight in this comment times
    /// `log P(term | label)` minus the mean of `log P(term | other label)` over the other
    /// labels. Positive values pushed the comment towards the label.
    #[serde(serialize_with = "serialize_per_label")]
    pub log_likelihood_ratio: [f64; K],
}

impl Evidence {
    /// The log-likelihood ratio of this term for `label`.
    pub fn ratio(&self, label: Label) -> f64 {
        self.log_likelihood_ratio[label.index()]
    }
}

fn serialize_per_label<S: serde::Serializer>(v: &[f64; K], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(K))?;
    for label in Label::ALL {
        map.serialize_entry(label.as_str(), &v[label.index()])?;
    }
    map.end()
}

/// The byte ranges of the source chunks of `text`: runs of non-whitespace characters, with
/// HTML tags and comments (as the normalizer recognizes them) counted as whitespace.
fn source_chunks(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let tag_end = (bytes[i] == b'<').then(|| tag_end(text, i)).flatten();
        let (is_gap, next) = match tag_end {
            Some(end) => (true, end),
            None => match text[i..].chars().next() {
                Some(c) => (c.is_whitespace(), i + c.len_utf8()),
                None => break,
            },
        };
        match (is_gap, start) {
            (true, Some(s)) => {
                chunks.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
        i = next;
    }
    if let Some(s) = start {
        chunks.push(s..bytes.len());
    }
    chunks
}

/// If a tag or comment starts at `i` (a `<`), the byte after its end.
fn tag_end(text: &str, i: usize) -> Option<usize> {
    let next = *text.as_bytes().get(i + 1)?;
    if !(next.is_ascii_alphabetic() || matches!(next, b'/' | b'!' | b'?')) {
        return None;
    }
    if text[i..].starts_with("<!--") {
        return text[i + 4..].find("-->").map(|e| i + 4 + e + 3);
    }
    text[i..]
        .find('>')
        .filter(|&e| e <= MAX_TAG_LEN)
        .map(|e| i + e + 1)
}

/// Where `word` is spelled inside `chunk` (ASCII case ignored), as a range of `chunk`.
fn find_spelling(chunk: &str, word: &str) -> Option<Range<usize>> {
    if word.is_empty() || word.len() > chunk.len() {
        return None;
    }
    let (c, w) = (chunk.as_bytes(), word.as_bytes());
    (0..=c.len() - w.len())
        .filter(|&s| chunk.is_char_boundary(s) && chunk.is_char_boundary(s + w.len()))
        .find(|&s| c[s..s + w.len()].eq_ignore_ascii_case(w))
        .map(|s| s..s + w.len())
}

/// The span in `text` of each word of `normalized` (the normalizer's output for `text`), by
/// word position. Words that can't be matched get the span of the closest matched word
/// before them (or the first chunk).
pub(crate) fn word_spans(
    normalizer: &Normalizer,
    text: &str,
    normalized: &str,
) -> Vec<Range<usize>> {
    // The words of each chunk on its own, with their spans.
    let mut source: Vec<(String, Range<usize>)> = Vec::new();
    for chunk in source_chunks(text) {
        let piece = &text[chunk.clone()];
        let normalized_piece = normalizer.normalize(piece);
        for word in Tokenizer.tokenize(&normalized_piece) {
            let span = find_spelling(piece, word)
                .map(|r| chunk.start + r.start..chunk.start + r.end)
                .unwrap_or_else(|| chunk.clone());
            source.push((word.to_owned(), span));
        }
    }
    let fallback = source.first().map(|(_, s)| s.clone()).unwrap_or(0..0);
    let mut spans = Vec::new();
    let mut next = 0;
    let mut last = fallback;
    for word in Tokenizer.tokenize(normalized) {
        // Look a few source words ahead: a chunk-wise normalization rarely differs from the
        // whole-text one, and then only locally.
        let found = source
            .iter()
            .enumerate()
            .skip(next)
            .take(16)
            .find(|(_, (w, _))| w == word);
        if let Some((k, (_, span))) = found {
            next = k + 1;
            last = span.clone();
        }
        spans.push(last.clone());
    }
    spans
}

/// The span covering word positions `words` (non-empty, within `spans`).
pub(crate) fn span_of(spans: &[Range<usize>], words: &Range<usize>) -> Range<usize> {
    match (
        spans.get(words.start),
        spans.get(words.end.saturating_sub(1)),
    ) {
        (Some(first), Some(last)) => first.start.min(last.start)..first.end.max(last.end),
        _ => 0..0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_on_space_and_tags() {
        let text = "Hi <b>there</b>,  you<br/>two <!-- x y --> end";
        let pieces: Vec<&str> = source_chunks(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(pieces, ["Hi", "there", ",", "you", "two", "end"]);
        assert_eq!(source_chunks("a < b"), [0..1, 2..3, 4..5]);
    }

    #[test]
    fn spans_point_at_the_spelling() {
        let n = Normalizer::default();
        let text = "<p>You are an IDIOT,</p> read https://x.com/a café";
        let normalized = n.normalize(text);
        let spans = word_spans(&n, text, &normalized);
        let words: Vec<&str> = Tokenizer.tokenize(&normalized).collect();
        let shown: Vec<(&str, &str)> = words
            .iter()
            .zip(&spans)
            .map(|(w, s)| (*w, &text[s.clone()]))
            .collect();
        assert_eq!(
            shown,
            [
                ("you", "You"),
                ("are", "are"),
                ("an", "an"),
                ("idiot", "IDIOT"),
                ("read", "read"),
                ("_url_", "https://x.com/a"),
                ("_host_x_com", "https://x.com/a"),
                ("café", "café"),
            ]
        );
        assert_eq!(&text[span_of(&spans, &(2..4))], "an IDIOT");
    }
}
