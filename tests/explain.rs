//! Explanations point at the right substrings of the original text.

use comment_sieve::{Classifier, Comment, Label, Normalizer, Tokenizer, Verdict, is_second_person};

fn classifier() -> &'static Classifier {
    static CLASSIFIER: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::embedded().expect("embedded model"))
}

fn explain(text: &str) -> Verdict {
    classifier().explain(&Comment::new("t", text))
}

/// Every evidence span, normalized on its own, gives back the term: a word or word pair
/// exactly, a prefix term as the start of the word. Context tokens (`ctx:...`, such as the
/// link count) are not words of the text: their span is empty, at the start.
fn assert_spans_spell_terms(text: &str) {
    let verdict = explain(text);
    let normalizer = Normalizer::default();
    assert!(!verdict.evidence().is_empty(), "no evidence for {text:?}");
    for e in verdict.evidence() {
        if e.term.starts_with("ctx:") {
            assert_eq!(e.span, 0..0, "{:?} in {text:?}", e.term);
            continue;
        }
        let piece = &text[e.span.clone()];
        let words: Vec<String> = Tokenizer
            .tokenize(&normalizer.normalize(piece))
            .map(str::to_owned)
            .collect();
        let joined = words.join(" ");
        if let Some((you, target)) = e.term.split_once('>') {
            // A targeted pair `you>w`: from a second-person word to `w`, a few words on.
            assert_eq!(you, "you", "{:?} in {text:?}", e.term);
            assert!(
                words.len() >= 2
                    && is_second_person(&words[0])
                    && words.last().is_some_and(|w| w == target),
                "pair {:?} has span {:?} = {piece:?} in {text:?}",
                e.term,
                e.span
            );
        } else if let Some(prefix) = e.term.strip_prefix('~') {
            assert!(
                words.iter().any(|w| w.starts_with(prefix)),
                "prefix {:?} not at the start of a word of {piece:?} in {text:?}",
                e.term
            );
        } else {
            assert!(
                joined == e.term || joined.contains(&e.term),
                "term {:?} has span {:?} = {piece:?} in {text:?}",
                e.term,
                e.span
            );
        }
    }
}

#[test]
fn spans_spell_their_terms() {
    for text in [
        "You are an IDIOT, and your post is garbage.",
        "<p>Great <b>point</b> about the tax plan &amp; renters.</p><p>Thanks!</p>",
        "Check out my channel http://bit.ly/xyz for FREE gift cards!!!",
        "idiot idiot IDIOT moron",
        "Ｆｕｌｌｗｉｄｔｈ ＩＤＩＯＴ and café naïve people… 👍",
        "  leading and trailing spaces, tabs\tand\nnewlines  ",
        "Sooooo stupid!!! 100% wrong, call 555-1234",
    ] {
        assert_spans_spell_terms(text);
    }
}

#[test]
fn evidence_explains_the_decision() {
    let text = "Thanks for sharing this. You are a pathetic idiot though.";
    let verdict = explain(text);
    assert_eq!(verdict.label, Label::Abusive);
    let top = &verdict.evidence()[0];
    assert!(top.ratio(Label::Abusive) > 0.0);
    // Sorted by the size of the ratio for the chosen label.
    let sizes: Vec<f64> = verdict
        .evidence()
        .iter()
        .map(|e| e.ratio(Label::Abusive).abs())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    // Same verdict as plain classification.
    let plain = classifier().classify(&Comment::new("t", text));
    assert_eq!(plain.probabilities, verdict.probabilities);
    assert!(plain.evidence().is_empty());
    // The word the user wrote, at its byte offsets.
    let idiot = verdict
        .evidence()
        .iter()
        .find(|e| e.term == "idiot")
        .expect("idiot is evidence");
    assert_eq!(idiot.span, 44..49);
    assert_eq!(&text[idiot.span.clone()], "idiot");
    let pair = verdict
        .evidence()
        .iter()
        .find(|e| e.term == "you are")
        .expect("the pair is evidence");
    assert_eq!(&text[pair.span.clone()], "You are");
}

#[test]
fn repeated_terms_are_counted_once_with_the_first_span() {
    let text = "moron. MORON! Moron?";
    let verdict = explain(text);
    let moron = verdict
        .evidence()
        .iter()
        .find(|e| e.term == "moron")
        .expect("moron is evidence");
    assert_eq!(moron.count, 3);
    assert_eq!(&text[moron.span.clone()], "moron");
}

#[test]
fn text_without_known_terms_has_only_its_link_count_as_evidence() {
    for text in ["", "zqxj vbnmq"] {
        let terms: Vec<String> = explain(text)
            .evidence()
            .iter()
            .map(|e| e.term.clone())
            .collect();
        assert_eq!(terms, ["ctx:links:0"], "{text:?}");
    }
}

#[test]
fn the_link_count_is_evidence_towards_off_topic() {
    let text = "Check out my channel http://bit.ly/xyz and www.example.com/free for gift cards";
    let verdict = explain(text);
    let links = verdict
        .evidence()
        .iter()
        .find(|e| e.term == "ctx:links:2")
        .expect("two links");
    let off_topic = Label::OffTopic as usize;
    assert!(
        links.log_likelihood_ratio[off_topic] > 0.0,
        "{:?}",
        links.log_likelihood_ratio
    );
}

proptest::proptest! {
    #[test]
    fn spans_are_valid_and_spell_terms_on_generated_text(
        words in proptest::collection::vec(
            "(you|are|an|idiot|great|post|thanks|the|tax|FREE|money|<b>|</b>|&amp;|!|,|[a-z]{1,6})",
            1..20,
        )
    ) {
        let text = words.join(" ");
        let verdict = explain(&text);
        for e in verdict.evidence() {
            proptest::prop_assert!(text.get(e.span.clone()).is_some());
        }
        if !verdict.evidence().is_empty() {
            assert_spans_spell_terms(&text);
        }
    }
}
