//! Policy: thresholds, lists and their precedence, the training guard, loading.

use comment_sieve::{
    Classifier, ClassifierParams, Comment, Decision, DenyAction, Label, Policy, PolicyError,
    Probabilities, Reason, Ruling, SharedClassifier, Verdict, VocabularyParams,
};
use std::path::Path;
use std::sync::OnceLock;

fn embedded() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| Classifier::embedded().expect("embedded model loads"))
}

fn verdict(abusive: f64, off_topic: f64, substantive: f64) -> Verdict {
    let probabilities = Probabilities {
        abusive,
        off_topic,
        substantive,
    };
    Verdict::from_joint_log_likelihood(probabilities.to_array().map(f64::ln))
}

/// Judges a verdict with the given probabilities. The verdict goes through log space and
/// back, so the probability in the reason is rounded to 12 decimals before comparison; the
/// decision itself is compared exactly.
fn judge(policy: &Policy, p: (f64, f64, f64)) -> (Decision, Reason) {
    let ruling = policy.judge(verdict(p.0, p.1, p.2));
    (ruling.decision, rounded(ruling.reason))
}

fn rounded(reason: Reason) -> Reason {
    let round = |x: f64| (x * 1e12).round() / 1e12;
    match reason {
        Reason::ClassAbove {
            label,
            probability,
            threshold,
        } => Reason::ClassAbove {
            label,
            probability: round(probability),
            threshold,
        },
        Reason::Unsure {
            label,
            probability,
            band,
        } => Reason::Unsure {
            label,
            probability: round(probability),
            band,
        },
        Reason::ConfidentSubstantive {
            probability,
            threshold,
        } => Reason::ConfidentSubstantive {
            probability: round(probability),
            threshold,
        },
        Reason::NotConfident {
            label,
            probability,
            threshold,
        } => Reason::NotConfident {
            label,
            probability: round(probability),
            threshold,
        },
        other => other,
    }
}

fn policy(toml: &str) -> Policy {
    Policy::from_toml_str(toml).unwrap_or_else(|e| panic!("{e}"))
}

fn decide(policy: &Policy, comment: &Comment<'_>, site: Option<&str>) -> Ruling {
    policy.decide(embedded(), comment, site)
}

fn deny(term: &str, site: Option<&str>) -> Reason {
    Reason::DenyTerm {
        term: term.into(),
        site: site.map(Into::into),
    }
}

fn allow(term: &str, site: Option<&str>) -> Reason {
    Reason::AllowTerm {
        term: term.into(),
        site: site.map(Into::into),
    }
}

// --- thresholds ---------------------------------------------------------------------------

#[test]
fn abusive_reject_threshold_and_unsure_band_boundaries() {
    let p = Policy::default();
    assert_eq!(
        judge(&p, (0.85, 0.0, 0.15)),
        (
            Decision::Reject,
            Reason::ClassAbove {
                label: Label::Abusive,
                probability: 0.85,
                threshold: 0.85
            }
        )
    );
    assert_eq!(
        judge(&p, (0.8499, 0.0, 0.1501)),
        (
            Decision::Review,
            Reason::Unsure {
                label: Label::Abusive,
                probability: 0.8499,
                band: [0.5, 0.85]
            }
        )
    );
    assert_eq!(
        judge(&p, (0.5, 0.0, 0.5)).0,
        Decision::Review,
        "the band includes its lower end"
    );
    assert_eq!(
        judge(&p, (0.4999, 0.0, 0.5001)),
        (
            Decision::Approve,
            Reason::ConfidentSubstantive {
                probability: 0.5001,
                threshold: 0.5
            }
        )
    );
    assert_eq!(judge(&p, (1.0, 0.0, 0.0)).0, Decision::Reject);
}

#[test]
fn off_topic_is_reviewed_never_rejected_by_default() {
    let p = Policy::default();
    assert_eq!(
        judge(&p, (0.0, 0.5, 0.5)),
        (
            Decision::Review,
            Reason::ClassAbove {
                label: Label::OffTopic,
                probability: 0.5,
                threshold: 0.5
            }
        )
    );
    assert_eq!(judge(&p, (0.0, 1.0, 0.0)).0, Decision::Review);
    assert_eq!(judge(&p, (0.0, 0.4999, 0.5001)).0, Decision::Approve);
}

#[test]
fn unflagged_but_not_substantive_enough_is_reviewed() {
    let (decision, reason) = judge(&Policy::default(), (0.45, 0.44, 0.11));
    assert_eq!(decision, Decision::Review);
    assert_eq!(
        reason,
        Reason::NotConfident {
            label: Label::Abusive,
            probability: 0.11,
            threshold: 0.5
        }
    );
}

#[test]
fn most_severe_class_wins_and_abusive_breaks_ties() {
    let p = policy(
        r#"
        [abusive]
        review_at = 0.3
        reject_at = 0.9
        [off_topic]
        review_at = 0.3
        reject_at = 0.4
        "#,
    );
    let (decision, reason) = judge(&p, (0.35, 0.45, 0.2));
    assert_eq!(decision, Decision::Reject);
    assert!(matches!(
        reason,
        Reason::ClassAbove {
            label: Label::OffTopic,
            threshold: 0.4,
            ..
        }
    ));
    let (decision, reason) = judge(&p, (0.35, 0.35, 0.3));
    assert_eq!(decision, Decision::Review);
    assert!(matches!(
        reason,
        Reason::Unsure {
            label: Label::Abusive,
            ..
        }
    ));
}

#[test]
fn never_disables_a_threshold() {
    let p = policy("[abusive]\nreject_at = \"never\"\n");
    assert_eq!(p.config().abusive.reject_at, None);
    assert_eq!(
        judge(&p, (1.0, 0.0, 0.0)),
        (
            Decision::Review,
            Reason::ClassAbove {
                label: Label::Abusive,
                probability: 1.0,
                threshold: 0.5
            }
        )
    );
}

#[test]
fn embedded_model_comments_get_sensible_decisions() {
    let p = Policy::default();
    let abusive = Comment::new(
        "1",
        "You are a clueless idiot. Crawl back under your rock, loser.",
    );
    let substantive = Comment::new(
        "2",
        "The council should publish the ridership projections before committing another \
         $400 million.",
    );
    let spam = Comment::new(
        "3",
        "EARN $5000 A WEEK FROM HOME!!! Click here: http://quick-cash.example.biz/join now",
    );
    for (comment, expected) in [
        (&abusive, Decision::Reject),
        (&substantive, Decision::Approve),
        (&spam, Decision::Review),
    ] {
        let ruling = decide(&p, comment, None);
        assert_eq!(ruling.decision, expected, "{}: {ruling}", comment.text);
        assert!(ruling.verdict.is_some(), "the model decided");
    }
}

// --- lists ----------------------------------------------------------------------------------

#[test]
fn deny_terms_match_normalized_whole_words() {
    let p = policy(r#"deny = ["idiot", "free money", "ass"]"#);
    for text in ["IDIOT", "idiot!", "What an Idiot.", "<b>idiot</b>"] {
        assert_eq!(
            decide(&p, &Comment::new("1", text), None).reason,
            deny("idiot", None),
            "{text}"
        );
    }
    assert_eq!(
        decide(&p, &Comment::new("1", "FREE   money!!"), None).reason,
        deny("free money", None)
    );
    for text in [
        "a first-class argument about the bypass",
        "idiots",
        "money for free",
        "passes",
    ] {
        let ruling = decide(&p, &Comment::new("1", text), None);
        assert!(
            !matches!(ruling.reason, Reason::DenyTerm { .. }),
            "{text}: {ruling}"
        );
    }
}

#[test]
fn deny_action_can_be_review() {
    let p = policy("deny_action = \"review\"\ndeny = [\"idiot\"]\n");
    assert_eq!(p.config().deny_action, DenyAction::Review);
    let ruling = decide(&p, &Comment::new("1", "idiot"), None);
    assert_eq!(ruling.decision, Decision::Review);
    assert_eq!(ruling.reason, deny("idiot", None));
    assert!(ruling.verdict.is_none(), "lists decide before the model");
}

#[test]
fn lists_apply_deny_then_trusted_then_allow() {
    let p = policy(
        r#"
        deny = ["idiot"]
        allow = ["class action lawsuit"]
        trusted_authors = ["Alice"]
        "#,
    );
    let abusive = "You are a pathetic moron and everyone hates you";
    assert_eq!(
        decide(&p, &Comment::new("1", abusive), None).decision,
        Decision::Reject
    );
    // A trusted author is approved where the model alone would reject...
    let trusted = decide(&p, &Comment::new("1", abusive).with_author(" ALICE "), None);
    assert_eq!(trusted.decision, Decision::Approve);
    assert_eq!(
        trusted.reason,
        Reason::TrustedAuthor {
            author: "Alice".into(),
            site: None
        }
    );
    // ... and so is an allow-term match...
    let text = format!("{abusive}, file a class action lawsuit");
    assert_eq!(
        decide(&p, &Comment::new("1", text.as_str()), None).reason,
        allow("class action lawsuit", None)
    );
    // ... trusted before allow ...
    assert!(matches!(
        decide(
            &p,
            &Comment::new("1", text.as_str()).with_author("alice"),
            None
        )
        .reason,
        Reason::TrustedAuthor { .. }
    ));
    // ... but a deny term beats both.
    let denied = format!("{text}, idiot");
    let ruling = decide(
        &p,
        &Comment::new("1", denied.as_str()).with_author("Alice"),
        None,
    );
    assert_eq!(ruling.decision, Decision::Reject);
    assert_eq!(ruling.reason, deny("idiot", None));
    // An author who only contains a trusted name is not trusted.
    assert!(
        p.apply_lists(
            &Comment::new("1", "hello").with_author("Alice Cooper"),
            None
        )
        .is_none()
    );
}

#[test]
fn site_lists_layer_over_global_ones() {
    let p = policy(
        r#"
        deny = ["spam"]
        allow = ["weeds"]
        [sites.gardening]
        allow = ["kill the weeds"]
        trusted_authors = ["Head Gardener"]
        [sites.politics]
        deny = ["traitor", "weeds"]
        "#,
    );
    let traitor = Comment::new("1", "The mayor is a traitor");
    assert_eq!(
        decide(&p, &traitor, Some("politics")).reason,
        deny("traitor", Some("politics"))
    );
    // Site lists apply only on their site; an unknown site has the global lists only.
    for site in [None, Some("gardening"), Some("no-such-site")] {
        assert!(
            !matches!(decide(&p, &traitor, site).reason, Reason::DenyTerm { .. }),
            "{site:?}"
        );
    }
    // Global lists are checked before the site's.
    assert_eq!(
        decide(&p, &Comment::new("1", "spam traitor"), Some("politics")).reason,
        deny("spam", None)
    );
    let kill = Comment::new("1", "How do I kill the weeds without poison?");
    assert_eq!(
        decide(&p, &kill, Some("gardening")).reason,
        allow("weeds", None)
    );
    let kill_only = Comment::new("1", "Kill the Weeds now");
    assert_eq!(
        decide(&p, &kill_only, Some("gardening")).reason,
        allow("weeds", None)
    );
    // A site's deny term beats a global allow term.
    assert_eq!(
        decide(&p, &kill, Some("politics")).reason,
        deny("weeds", Some("politics"))
    );
    let by_gardener = Comment::new("1", "Prune in March.").with_author("head gardener");
    assert_eq!(
        decide(&p, &by_gardener, Some("gardening")).reason,
        Reason::TrustedAuthor {
            author: "Head Gardener".into(),
            site: Some("gardening".into())
        }
    );
    assert!(p.apply_lists(&by_gardener, None).is_none());
}

#[test]
fn site_allow_phrase_fires_on_its_own_site() {
    let p = policy("[sites.gardening]\nallow = [\"kill the weeds\"]\n");
    let comment = Comment::new("1", "KILL the weeds!");
    assert_eq!(
        decide(&p, &comment, Some("gardening")).reason,
        allow("kill the weeds", Some("gardening"))
    );
    assert!(p.apply_lists(&comment, None).is_none());
}

// --- training guard -------------------------------------------------------------------------

fn tiny_classifier() -> Classifier {
    let comments = [
        Comment::new("1", "you are an idiot"),
        Comment::new("2", "shut up you moron"),
        Comment::new("3", "buy cheap pills at pills.com"),
        Comment::new("4", "the budget cuts will hurt schools"),
        Comment::new("5", "schools need the budget"),
    ];
    let labels = [
        Label::Abusive,
        Label::Abusive,
        Label::OffTopic,
        Label::Substantive,
        Label::Substantive,
    ];
    let params = ClassifierParams {
        vocabulary: VocabularyParams {
            min_df: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    params.train(&comments, &labels).expect("trains")
}

#[test]
fn too_few_examples_means_review() {
    let tiny = tiny_classifier();
    let comment = Comment::new("1", "the budget cuts will hurt schools");
    let ruling = Policy::default().decide(&tiny, &comment, None);
    assert_eq!(ruling.decision, Decision::Review);
    assert_eq!(
        ruling.reason,
        Reason::TooFewExamples {
            label: Label::OffTopic,
            have: 1,
            need: 100
        }
    );
    assert!(
        ruling
            .to_string()
            .contains("1 training comments labeled off_topic")
    );
    // Exactly the minimum is enough.
    let p = policy("min_examples_per_class = 1");
    assert_eq!(p.decide(&tiny, &comment, None).decision, Decision::Approve);
    let p = policy("min_examples_per_class = 2");
    assert_eq!(p.decide(&tiny, &comment, None).decision, Decision::Review);
    // The embedded model has well over 100 of each.
    assert!(
        Policy::default()
            .check_training(embedded().model())
            .is_none()
    );
}

#[test]
fn lists_apply_before_the_training_guard() {
    let tiny = tiny_classifier();
    let p = policy("deny = [\"idiot\"]\ntrusted_authors = [\"bob\"]\n");
    assert_eq!(
        p.decide(&tiny, &Comment::new("1", "idiot"), None).reason,
        deny("idiot", None)
    );
    let by_bob = Comment::new("1", "hello").with_author("Bob");
    assert_eq!(p.decide(&tiny, &by_bob, None).decision, Decision::Approve);
}

#[test]
fn shared_classifier_decides_like_its_snapshot() {
    let shared = SharedClassifier::new(embedded().clone());
    let p = Policy::default();
    let comment = Comment::new("1", "You are a pathetic idiot and everyone hates you");
    assert_eq!(
        p.decide_shared(&shared, &comment, None),
        p.decide(embedded(), &comment, None)
    );
}

// --- loading --------------------------------------------------------------------------------

#[test]
fn example_policy_file_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policy.toml");
    let p = Policy::from_path(&path).unwrap_or_else(|e| panic!("{e}"));
    let c = p.config();
    assert_eq!(c.abusive.review_at, Some(0.5));
    assert_eq!(c.abusive.reject_at, Some(0.85));
    assert_eq!(c.off_topic.reject_at, None);
    assert_eq!(c.min_examples_per_class, 100);
    assert_eq!(c.lists.deny, ["free money", "bit.ly", "kill yourself"]);
    assert_eq!(c.sites["gardening"].allow, ["kill the weeds"]);
    // The sample states the defaults, so it decides like the default policy.
    assert_eq!(c.abusive, Policy::default().config().abusive);
    assert_eq!(c.off_topic, Policy::default().config().off_topic);
    let link = Comment::new("1", "great deals here https://bit.ly/xyz");
    assert_eq!(decide(&p, &link, None).reason, deny("bit.ly", None));
}

#[test]
fn toml_and_json_load_the_same_policy() {
    let toml = policy(
        r#"
        approve_at = 0.6
        min_examples_per_class = 7
        deny_action = "review"
        deny = ["a b"]
        allow = ["c"]
        trusted_authors = ["d"]
        [abusive]
        review_at = 0.4
        [off_topic]
        reject_at = 0.99
        [sites.s]
        deny = ["e"]
        "#,
    );
    let json = Policy::from_json_str(
        r#"{"approve_at": 0.6, "min_examples_per_class": 7, "deny_action": "review",
            "deny": ["a b"], "allow": ["c"], "trusted_authors": ["d"],
            "abusive": {"review_at": 0.4}, "off_topic": {"reject_at": 0.99},
            "sites": {"s": {"deny": ["e"]}}}"#,
    )
    .unwrap();
    assert_eq!(toml.config(), json.config());
    assert_eq!(toml.config().abusive.reject_at, Some(0.85), "default kept");
    assert_eq!(toml.config().off_topic.review_at, Some(0.5), "default kept");
    assert_eq!(
        Policy::from_toml_str("").unwrap().config(),
        Policy::default().config()
    );
    assert_eq!(
        Policy::from_json_str("{}").unwrap().config(),
        Policy::default().config()
    );
    // Integers are probabilities too.
    assert_eq!(
        policy("[abusive]\nreject_at = 1\n")
            .config()
            .abusive
            .reject_at,
        Some(1.0)
    );
}

fn toml_error(text: &str) -> String {
    match Policy::from_toml_str(text) {
        Ok(_) => panic!("{text:?} loaded"),
        Err(e) => e.to_string(),
    }
}

fn json_error(text: &str) -> String {
    match Policy::from_json_str(text) {
        Ok(_) => panic!("{text:?} loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_settings_name_the_field() {
    for (text, field) in [
        ("[abusive]\nreject_at = 1.5\n", "abusive.reject_at"),
        ("[off_topic]\nreview_at = -0.1\n", "off_topic.review_at"),
        ("approve_at = 2\n", "approve_at"),
        (
            "[abusive]\nreview_at = 0.9\nreject_at = 0.8\n",
            "abusive.review_at",
        ),
        ("deny = [\"ok\", \"?!\"]\n", "deny[1]"),
        ("[sites.blog]\nallow = [\"  \"]\n", "sites.blog.allow[0]"),
        ("trusted_authors = [\" \"]\n", "trusted_authors[0]"),
    ] {
        let message = toml_error(text);
        assert!(message.contains(field), "{text:?}: {message}");
    }
    let message = json_error(r#"{"abusive": {"review_at": 0.9, "reject_at": 0.8}}"#);
    assert!(message.contains("abusive.review_at"), "{message}");
    assert!(matches!(
        Policy::from_toml_str("approve_at = 2\n"),
        Err(PolicyError::Invalid { .. })
    ));
}

#[test]
fn unknown_fields_and_wrong_types_are_errors() {
    for (text, needle) in [
        ("rejct_at = 0.9\n", "rejct_at"),
        ("[abusive]\nreject = 0.9\n", "reject"),
        ("[sites.blog]\ndenny = [\"x\"]\n", "denny"),
        ("[abusive]\nreject_at = \"sometimes\"\n", "never"),
        ("[abusive]\nreject_at = true\n", "never"),
        ("deny_action = \"approve\"\n", "approve"),
        ("deny = \"idiot\"\n", "deny"),
        ("[abusive\n", "TOML"),
    ] {
        let message = toml_error(text);
        assert!(message.contains(needle), "{text:?}: {message}");
    }
    for (text, needle) in [
        (r#"{"abusive": {"reject": 0.9}}"#, "reject"),
        (r#"{"approve_at": "high"}"#, "at approve_at:"),
        (
            r#"{"abusive": {"reject_at": "maybe"}}"#,
            "at abusive.reject_at:",
        ),
        (r#"{"sites": {"b": {"deny": [1]}}}"#, "at sites.b.deny[0]:"),
        ("{", "JSON"),
        ("{} x", "trailing"),
    ] {
        let message = json_error(text);
        assert!(message.contains(needle), "{text:?}: {message}");
    }
}

#[test]
fn from_path_picks_the_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("p.json");
    std::fs::write(&json, r#"{"deny": ["x"]}"#).unwrap();
    assert_eq!(Policy::from_path(&json).unwrap().config().lists.deny, ["x"]);
    let toml = dir.path().join("p.TOML");
    std::fs::write(&toml, "deny = [\"y\"]").unwrap();
    assert_eq!(Policy::from_path(&toml).unwrap().config().lists.deny, ["y"]);

    let yaml = dir.path().join("p.yaml");
    std::fs::write(&yaml, "deny: [x]").unwrap();
    assert!(matches!(
        Policy::from_path(&yaml),
        Err(PolicyError::UnknownFormat { .. })
    ));
    assert!(matches!(
        Policy::from_path(dir.path().join("missing.toml")),
        Err(PolicyError::Io { .. })
    ));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[abusive]\nreject_at = 7\n").unwrap();
    let message = Policy::from_path(&bad).unwrap_err().to_string();
    assert!(
        message.contains("bad.toml") && message.contains("abusive.reject_at"),
        "{message}"
    );
}

#[test]
fn rulings_serialize_with_a_tagged_reason() {
    let p = policy("[sites.blog]\ndeny = [\"idiot\"]\n");
    let ruling = decide(&p, &Comment::new("1", "idiot"), Some("blog"));
    let json = serde_json::to_value(&ruling).unwrap();
    assert_eq!(json["decision"], "reject");
    assert_eq!(json["reason"]["kind"], "deny_term");
    assert_eq!(json["reason"]["term"], "idiot");
    assert_eq!(json["reason"]["site"], "blog");
    assert!(json["verdict"].is_null());
    assert_eq!(
        ruling.to_string(),
        "reject: deny term \"idiot\" on the deny list of site \"blog\""
    );
}

#[test]
fn a_text_with_no_known_term_goes_to_review() {
    let default = Policy::default();
    for text in ["", "   ", "<p></p>", "أنت غبي جدا ولا تفهم شيئا"] {
        let ruling = decide(&default, &Comment::new("1", text), None);
        assert_eq!(ruling.decision, Decision::Review, "{text:?}");
        assert_eq!(ruling.reason, Reason::NoKnownTerms, "{text:?}");
        assert!(ruling.verdict.is_some());
    }
    // Lists still decide first.
    let listed = policy(r#"deny = ["غبي"]"#);
    let ruling = decide(&listed, &Comment::new("2", "أنت غبي"), None);
    assert_eq!(ruling.decision, Decision::Reject);
    // One known word is enough to judge.
    let ruling = decide(&default, &Comment::new("3", "Thanks"), None);
    assert_ne!(ruling.reason, Reason::NoKnownTerms);
}
