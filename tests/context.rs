//! Post-aware context features: which comments get context tokens, leave-one-out thread
//! profiles, link-count tokens, and the features' round trip through the model file.

use comment_sieve::{
    Calibration, Classifier, ClassifierParams, Comment, ContextKind, ContextParams, ContextScoring,
    Label, VectorizerConfig, VocabularyParams,
};

const THREAD: usize = ContextKind::Thread as usize;
const POST: usize = ContextKind::Post as usize;
const LINKS: usize = ContextKind::Links as usize;

/// Small threads: substantive comments talk about their post's subject, off-topic ones don't.
fn threads() -> (Vec<Comment<'static>>, Vec<Label>) {
    let subjects = [
        ("budget", "The city budget for schools"),
        ("transit", "A new transit line downtown"),
        ("housing", "Housing costs and renters"),
        ("library", "The library opening hours"),
    ];
    let spam = [
        "subscribe to my channel for gift cards",
        "cheap pills free shipping click here",
        "earn money from home today",
    ];
    let insults = ["you are an idiot", "what a pathetic moron", "shut up loser"];
    let mut comments = Vec::new();
    let mut labels = Vec::new();
    for round in 0..6 {
        for (k, (word, title)) in subjects.iter().enumerate() {
            let post = format!("p{round}-{k}");
            let mut push = |text: String, label| {
                let n = comments.len();
                let mut c = Comment::new(format!("c{n}"), text).with_post_id(post.clone());
                if round % 2 == 0 {
                    c = c.with_post_title(title.to_string());
                }
                comments.push(c);
                labels.push(label);
            };
            push(
                format!("the {word} plan needs more money for the {word} itself"),
                Label::Substantive,
            );
            push(
                format!("I disagree, the {word} plan is fine and the {word} works"),
                Label::Substantive,
            );
            push(spam[(round + k) % spam.len()].to_string(), Label::OffTopic);
            push(
                insults[(round + k) % insults.len()].to_string(),
                Label::Abusive,
            );
        }
    }
    (comments, labels)
}

/// Context settings on the default model's, without its class weighting and targeted pairs
/// (so the model-file versions below are those of the context features alone).
fn params(post: bool, thread: bool) -> ClassifierParams {
    let defaults = ClassifierParams::default();
    ClassifierParams {
        vocabulary: VocabularyParams {
            min_df: 1,
            ..Default::default()
        },
        vectorizer: VectorizerConfig {
            target_window: 0,
            ..defaults.vectorizer
        },
        class_weighting: None,
        calibration: Calibration::None,
        context: ContextParams {
            buckets: 4,
            weight: 1.0,
            post,
            parent: true,
            thread,
            links: false,
            author_url: false,
            scoring: ContextScoring::Conditional,
        },
        ..Default::default()
    }
}

#[test]
fn a_comment_with_its_post_text_gets_post_tokens_and_one_without_does_not() {
    let (comments, labels) = threads();
    let classifier = params(true, true).train(&comments, &labels).unwrap();
    assert_eq!(
        classifier.context().kinds(),
        [true, false, true, false, false]
    );
    let with_post = Comment::new("x", "the budget plan needs money")
        .with_post_title("The city budget for schools");
    let tokens = classifier.context_tokens(&with_post);
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert!(tokens[0].starts_with("ctx:post:"), "{tokens:?}");
    // No post, or a post without text: no tokens, and the verdict of the bare text.
    for alone in [
        Comment::new("y", "the budget plan needs money"),
        Comment::new("y", "the budget plan needs money").with_post_id("p0-0"),
    ] {
        assert!(classifier.context_tokens(&alone).is_empty());
        assert_eq!(
            classifier.classify(&alone),
            classifier.classify_text(&alone.text)
        );
    }
    // Post tokens move the joint log-likelihoods, and explain lists them.
    assert_ne!(
        classifier.classify(&with_post).joint_log_likelihood,
        classifier
            .classify_text(&with_post.text)
            .joint_log_likelihood
    );
    let explained = classifier.explain(&with_post);
    assert!(
        explained
            .evidence()
            .iter()
            .any(|e| e.term.starts_with("ctx:post:") && e.span == (0..0))
    );
    assert_eq!(explained.label, classifier.classify(&with_post).label);
    // A model without the post kind gives none.
    let thread_only = params(false, true).train(&comments, &labels).unwrap();
    assert!(thread_only.context_tokens(&with_post).is_empty());
}

#[test]
fn batch_thread_profiles_are_leave_one_out() {
    let (comments, labels) = threads();
    let classifier = params(false, true).train(&comments, &labels).unwrap();
    let batch = [
        // Its words appear nowhere else in the thread: similarity 0, although the profile of
        // the whole thread holds them.
        Comment::new("a", "transit transit downtown line").with_post_id("t"),
        Comment::new("b", "housing costs renters").with_post_id("t"),
        // Shares words with b.
        Comment::new("c", "renters and housing").with_post_id("t"),
        // Alone in its thread: no thread context.
        Comment::new("d", "renters and housing").with_post_id("u"),
        // No post at all.
        Comment::new("e", "renters and housing"),
    ];
    let sims = classifier.batch_similarities(&batch);
    assert_eq!(sims[0][THREAD], Some(0.0));
    assert!(sims[1][THREAD].unwrap() > 0.0);
    assert!(sims[2][THREAD].unwrap() > 0.0);
    assert_eq!(sims[3][THREAD], None);
    assert_eq!(sims[4][THREAD], None);
    assert!(sims.iter().all(|s| s[POST].is_none()));
    // Comments without context get the single-comment verdict in a batch too.
    let verdicts = classifier.classify_batch(&batch);
    for i in [3, 4] {
        assert_eq!(verdicts[i], classifier.classify(&batch[i]));
    }
    // A's verdict depends on its thread only through the bucket of its similarity: a thread
    // of three strangers gives it the same one.
    let strangers = [
        batch[0].clone(),
        Comment::new("f", "budget money schools").with_post_id("t"),
    ];
    assert_eq!(
        classifier.classify_batch(&strangers)[0],
        verdicts[0],
        "same bucket, same verdict"
    );
}

#[test]
fn post_text_takes_precedence_over_the_thread() {
    let (comments, labels) = threads();
    let classifier = params(true, true).train(&comments, &labels).unwrap();
    let batch = [
        Comment::new("a", "transit line")
            .with_post_id("t")
            .with_post_title("Transit"),
        Comment::new("b", "transit money").with_post_id("t"),
    ];
    let sims = classifier.batch_similarities(&batch);
    assert!(sims[0][POST].is_some() && sims[0][THREAD].is_none());
    assert!(sims[1][POST].is_none() && sims[1][THREAD].is_some());
    // The batch path and the single path agree on post tokens.
    assert_eq!(
        classifier.classify_batch(&batch)[0],
        classifier.classify(&batch[0])
    );
}

/// Writes `classifier` to model-file bytes and reads them back: the same context features,
/// the same bytes again, the same batch verdicts on `comments`. Returns the bytes.
fn assert_survives_the_model_file(classifier: &Classifier, comments: &[Comment<'_>]) -> Vec<u8> {
    let bytes = classifier.to_bytes();
    let back = Classifier::from_bytes(&bytes).unwrap();
    assert_eq!(back.context(), classifier.context());
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(
        back.classify_batch(comments),
        classifier.classify_batch(comments)
    );
    bytes
}

/// Learning `comment` as `label` changes the model; forgetting it restores it byte for byte.
fn assert_forget_undoes_learn(classifier: &Classifier, comment: &Comment<'_>, label: Label) {
    let mut learner = classifier.clone();
    let before = learner.to_bytes();
    learner.learn(comment, label).unwrap();
    assert_ne!(learner.to_bytes(), before);
    learner.forget(comment, label).unwrap();
    assert_eq!(learner.to_bytes(), before);
}

#[test]
fn context_features_survive_the_model_file_and_training_is_reproducible() {
    let (comments, labels) = threads();
    let classifier = params(true, true).train(&comments, &labels).unwrap();
    let bytes = assert_survives_the_model_file(&classifier, &comments);
    let again = params(true, true).train(&comments, &labels).unwrap();
    assert_eq!(again.to_bytes(), bytes);
}

#[test]
fn learning_a_comment_with_its_post_then_forgetting_it_restores_the_model() {
    let (comments, labels) = threads();
    let classifier = params(true, true).train(&comments, &labels).unwrap();
    let c = Comment::new("n", "the housing plan").with_post_title("Housing costs and renters");
    assert_forget_undoes_learn(&classifier, &c, Label::Substantive);
}

#[test]
fn bad_context_settings_are_training_errors() {
    let (comments, labels) = threads();
    for weight in [0.0, -1.0, f64::NAN] {
        let mut p = params(true, true);
        p.context.weight = weight;
        assert!(p.train(&comments, &labels).is_err(), "weight {weight}");
    }
    let mut p = params(true, true);
    p.context.buckets = 65;
    assert!(p.train(&comments, &labels).is_err());
}

/// Spam with links, arguments without: the link count is worth learning.
fn linked_spam() -> (Vec<Comment<'static>>, Vec<Label>) {
    let (mut comments, mut labels) = threads();
    for (i, label) in labels.iter().enumerate() {
        if *label == Label::OffTopic {
            let text = format!("{} https://deals{i}.example.com/win", comments[i].text);
            comments[i].text = text.into();
        }
    }
    // A few substantive comments cite one source.
    for i in (0..comments.len()).step_by(9) {
        if labels[i] == Label::Substantive {
            let text = format!(
                "{} (source: www.cityreport.example/budget)",
                comments[i].text
            );
            comments[i].text = text.into();
        }
    }
    comments.push(Comment::new(
        "extra",
        "no links at all, only words about the budget",
    ));
    labels.push(Label::Substantive);
    (comments, labels)
}

fn with_links(post: bool, thread: bool) -> ClassifierParams {
    let mut p = params(post, thread);
    p.context.links = true;
    p
}

#[test]
fn every_comment_gets_a_link_count_token_in_every_path() {
    let (comments, labels) = linked_spam();
    let classifier = with_links(false, true).train(&comments, &labels).unwrap();
    assert_eq!(
        classifier.context().kinds(),
        [false, false, true, true, false]
    );
    let token = |text: &str| classifier.context_tokens(&Comment::new("x", text.to_string()));
    assert_eq!(token("just words"), ["ctx:links:0"]);
    assert_eq!(token("see http://a.example/x"), ["ctx:links:1"]);
    assert_eq!(
        token("http://a.example www.b.example and c.example.com"),
        ["ctx:links:2"]
    );
    // A comment read alone: its text and its link token, the same from classify and
    // classify_text, and different from the text's terms alone.
    let spam = Comment::new("s", "win gift cards at https://deals.example.com now");
    assert_eq!(
        classifier.classify(&spam),
        classifier.classify_text(&spam.text)
    );
    let no_links = params(false, true).train(&comments, &labels).unwrap();
    assert_ne!(
        classifier.classify(&spam).joint_log_likelihood,
        no_links.classify(&spam).joint_log_likelihood
    );
    // In a batch, a comment without a thread gets exactly what it gets alone; one in a thread
    // gets both tokens.
    let batch = [
        spam.clone(),
        Comment::new("t1", "the budget plan needs money").with_post_id("t"),
        Comment::new("t2", "money for the budget, see www.cityreport.example").with_post_id("t"),
    ];
    let verdicts = classifier.classify_batch(&batch);
    assert_eq!(verdicts[0], classifier.classify(&spam));
    let sims = classifier.batch_similarities(&batch);
    assert_eq!(sims[0][LINKS], Some(1.0));
    assert_eq!(sims[0][THREAD], None);
    assert_eq!(sims[1][LINKS], Some(0.0));
    assert_eq!(sims[2][LINKS], Some(1.0));
    assert!(sims[1][THREAD].is_some() && sims[2][THREAD].is_some());
    // Explanations name the token, with an empty span at the start.
    let explained = classifier.explain(&spam);
    assert!(
        explained
            .evidence()
            .iter()
            .any(|e| e.term == "ctx:links:1" && e.span == (0..0)),
        "{:?}",
        explained.evidence()
    );
    assert_eq!(explained.label, classifier.classify(&spam).label);
}

#[test]
fn link_tokens_learn_that_spam_links_and_survive_the_model_file() {
    let (comments, labels) = linked_spam();
    let classifier = with_links(false, true).train(&comments, &labels).unwrap();
    // The same words, with and without links: links move the verdict towards off-topic.
    let words = "the plan is fine";
    let linked = format!("{words} http://x.example/1 http://y.example/2");
    let p_off = |text: &str| {
        classifier
            .classify_text(text)
            .probabilities
            .get(Label::OffTopic)
    };
    assert!(p_off(&linked) > p_off(words));
    // The model file keeps the link edges, and a model without them still loads as before.
    let bytes = assert_survives_the_model_file(&classifier, &comments);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 6);
    let without = params(false, true).train(&comments, &labels).unwrap();
    assert_eq!(
        u16::from_le_bytes([without.to_bytes()[8], without.to_bytes()[9]]),
        4
    );
    // Learning and forgetting a comment with links restores the model exactly.
    let c = Comment::new("n", "buy now at http://x.example and http://y.example");
    assert_forget_undoes_learn(&classifier, &c, Label::OffTopic);
}

#[test]
fn a_vocabulary_without_the_link_word_turns_link_tokens_off() {
    let comments = [
        Comment::new("1", "you are an idiot"),
        Comment::new("2", "buy cheap pills"),
        Comment::new("3", "the budget cuts will hurt schools"),
    ];
    let labels = [Label::Abusive, Label::OffTopic, Label::Substantive];
    let classifier = with_links(false, true).train(&comments, &labels).unwrap();
    assert!(!classifier.context().kinds()[LINKS]);
    assert!(classifier.context_tokens(&comments[0]).is_empty());
}

/// Spam whose authors give a website, discussion whose authors mostly don't, as a WordPress
/// export has them; plus comments from a source without the field.
fn with_author_urls() -> (Vec<Comment<'static>>, Vec<Label>) {
    let (mut comments, labels) = threads();
    for (i, (c, label)) in comments.iter_mut().zip(&labels).enumerate() {
        let url = match label {
            Label::OffTopic => format!("http://deals{i}.example"),
            _ if i % 7 == 0 => "https://my-blog.example".to_string(),
            _ => String::new(),
        };
        if i % 5 != 0 {
            c.author_url = Some(url.into());
        }
    }
    (comments, labels)
}

#[test]
fn author_url_tokens_come_from_the_field_where_the_source_has_it() {
    let (comments, labels) = with_author_urls();
    let mut p = params(false, true);
    p.context.author_url = true;
    let classifier = p.train(&comments, &labels).unwrap();
    assert_eq!(
        classifier.context().kinds(),
        [false, false, true, false, true]
    );
    let c = Comment::new("x", "the budget plan needs money");
    assert!(classifier.context_tokens(&c).is_empty());
    assert_eq!(
        classifier.context_tokens(&c.clone().with_author_url("")),
        ["ctx:author_url:0"]
    );
    let spam = c.clone().with_author_url("http://pills.example");
    assert_eq!(classifier.context_tokens(&spam), ["ctx:author_url:1"]);
    // Giving a website moves the verdict towards off-topic; a comment without the field scores
    // as its bare text.
    let p_off = |c: &Comment<'_>| classifier.classify(c).probabilities.get(Label::OffTopic);
    assert!(p_off(&spam) > p_off(&c.clone().with_author_url("")));
    assert_eq!(classifier.classify(&c), classifier.classify_text(&c.text));
    // Batch and single agree for a comment without thread-mates; a thread member gets both.
    let batch = [
        spam.clone(),
        Comment::new("t1", "the budget plan")
            .with_post_id("t")
            .with_author_url(""),
        Comment::new("t2", "budget money plan").with_post_id("t"),
    ];
    assert_eq!(
        classifier.classify_batch(&batch)[0],
        classifier.classify(&spam)
    );
    let sims = classifier.batch_similarities(&batch);
    const AUTHOR_URL: usize = ContextKind::AuthorUrl as usize;
    assert_eq!(
        sims.iter().map(|s| s[AUTHOR_URL]).collect::<Vec<_>>(),
        [Some(1.0), Some(0.0), None]
    );
    assert!(sims[1][THREAD].is_some());
    // Explained, stored (format 6), learned and forgotten exactly.
    assert!(
        classifier
            .explain(&spam)
            .evidence()
            .iter()
            .any(|e| e.term == "ctx:author_url:1" && e.span == (0..0))
    );
    let bytes = assert_survives_the_model_file(&classifier, &comments);
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 6);
    assert_forget_undoes_learn(
        &Classifier::from_bytes(&bytes).unwrap(),
        &spam,
        Label::OffTopic,
    );
    // Trained on comments none of which has the field, the kind stays off.
    let (plain, plain_labels) = threads();
    let off = p.train(&plain, &plain_labels).unwrap();
    assert!(!off.context().kinds()[AUTHOR_URL]);
}
