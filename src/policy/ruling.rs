//! What a policy decided about one comment, and why.

use crate::classifier::Verdict;
use crate::label::Label;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happens to a comment.
///
/// Serialized as `approve`, `review` and `reject`; ordered by severity.
///
/// ```
/// use comment_sieve::Decision;
/// assert!(Decision::Reject > Decision::Review && Decision::Review > Decision::Approve);
/// assert_eq!(serde_json::to_string(&Decision::Review).unwrap(), "\"review\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Publish it.
    Approve,
    /// Hold it for a moderator.
    Review,
    /// Do not publish it.
    Reject,
}

impl Decision {
    /// The serialized name: `approve`, `review` or `reject`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Review => "review",
            Decision::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a policy decided what it did. `site` names the per-site list that fired, `None` for the
/// global one.
///
/// Serialized as an object tagged by `kind`, e.g.
/// `{"kind":"deny_term","term":"idiot","site":null}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A deny-list term occurs in the comment.
    DenyTerm {
        /// The term as written in the list.
        term: String,
        /// The site whose list holds it; `None` for the global list.
        site: Option<String>,
    },
    /// The comment's author is on a trusted-authors list.
    TrustedAuthor {
        /// The author as written in the list.
        author: String,
        /// The site whose list holds it; `None` for the global list.
        site: Option<String>,
    },
    /// An allow-list term occurs in the comment.
    AllowTerm {
        /// The term as written in the list.
        term: String,
        /// The site whose list holds it; `None` for the global list.
        site: Option<String>,
    },
    /// The model has seen too few training comments of a class to be trusted.
    TooFewExamples {
        /// The class with the fewest training comments.
        label: Label,
        /// Its number of training comments.
        have: u64,
        /// The policy's minimum.
        need: u64,
    },
    /// The text has no term the model knows (it is empty, or in a language the model never
    /// saw), so its probabilities are the class priors.
    NoKnownTerms,
    /// A class's probability reached a threshold.
    ClassAbove {
        /// The class.
        label: Label,
        /// Its probability.
        probability: f64,
        /// The threshold it reached.
        threshold: f64,
    },
    /// A class's probability fell in its unsure band `[band[0], band[1])`: above the review
    /// threshold, below the reject threshold.
    Unsure {
        /// The class.
        label: Label,
        /// Its probability.
        probability: f64,
        /// The review and reject thresholds.
        band: [f64; 2],
    },
    /// No class was flagged and the comment is substantive with enough confidence.
    ConfidentSubstantive {
        /// P(substantive).
        probability: f64,
        /// The policy's `approve_at`.
        threshold: f64,
    },
    /// No class was flagged, but P(substantive) is too low to approve unseen.
    NotConfident {
        /// The most probable label.
        label: Label,
        /// P(substantive).
        probability: f64,
        /// The policy's `approve_at`.
        threshold: f64,
    },
}

/// A probability, short: three decimals unless that would misstate the comparison `holds` or
/// show 0 or 1 for a value that is not; then more.
fn prob(p: f64, holds: impl Fn(f64) -> bool) -> String {
    for decimals in [3, 6] {
        let fixed = format!("{p:.decimals$}");
        let shown = fixed.trim_end_matches('0').trim_end_matches('.');
        let r: f64 = shown.parse().unwrap_or(f64::NAN);
        if holds(r) && (r != 0.0 || p == 0.0) && (r != 1.0 || p == 1.0) {
            return shown.to_owned();
        }
    }
    p.to_string()
}

fn list_name(list: &str, site: &Option<String>) -> String {
    match site {
        None => format!("the global {list} list"),
        Some(site) => format!("the {list} list of site {site:?}"),
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::DenyTerm { term, site } => {
                write!(f, "deny term {term:?} on {}", list_name("deny", site))
            }
            Reason::TrustedAuthor { author, site } => {
                write!(
                    f,
                    "author {author:?} on {}",
                    list_name("trusted-authors", site)
                )
            }
            Reason::AllowTerm { term, site } => {
                write!(f, "allow term {term:?} on {}", list_name("allow", site))
            }
            Reason::TooFewExamples { label, have, need } => write!(
                f,
                "the model has {have} training comments labeled {label}, fewer than the {need} required"
            ),
            Reason::NoKnownTerms => write!(
                f,
                "no word the model knows: its probabilities would only be the class priors"
            ),
            Reason::ClassAbove {
                label,
                probability,
                threshold,
            } => {
                let p = prob(*probability, |r| r >= *threshold);
                write!(f, "P({label}) = {p} ≥ {threshold}")
            }
            Reason::Unsure {
                label,
                probability,
                band,
            } => {
                let p = prob(*probability, |r| r >= band[0] && r < band[1]);
                write!(
                    f,
                    "unsure: P({label}) = {p} is in [{}, {})",
                    band[0], band[1]
                )
            }
            Reason::ConfidentSubstantive {
                probability,
                threshold,
            } => {
                let p = prob(*probability, |r| r >= *threshold);
                write!(f, "P(substantive) = {p} ≥ {threshold}")
            }
            Reason::NotConfident {
                label,
                probability,
                threshold,
            } => {
                let p = prob(*probability, |r| r < *threshold);
                write!(
                    f,
                    "no clear label: P(substantive) = {p} < {threshold}, most probable {label}"
                )
            }
        }
    }
}

/// A decision and its reason, with the classifier's verdict when the model was consulted.
///
/// ```
/// use comment_sieve::{Classifier, Comment, Decision, Policy};
/// let classifier = Classifier::embedded()?;
/// let ruling = Policy::default().decide(
///     &classifier,
///     &Comment::new("1", "You are a pathetic idiot and everyone hates you"),
///     None,
/// );
/// assert_eq!(ruling.decision, Decision::Reject);
/// assert!(ruling.to_string().starts_with("reject: P(abusive) = "));
/// # Ok::<(), comment_sieve::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ruling {
    /// What to do.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
    /// The classifier's verdict; `None` when a list or the training guard decided before the
    /// model was asked.
    pub verdict: Option<Verdict>,
}

impl Ruling {
    /// A ruling that did not consult the model.
    pub(crate) fn without_model(decision: Decision, reason: Reason) -> Self {
        Ruling {
            decision,
            reason,
            verdict: None,
        }
    }
}

impl fmt::Display for Ruling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.decision, self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsure(probability: f64) -> String {
        Reason::Unsure {
            label: Label::Abusive,
            probability,
            band: [0.5, 0.95],
        }
        .to_string()
    }

    #[test]
    fn probabilities_are_shown_short_but_never_misleading() {
        assert_eq!(
            unsure(0.7123),
            "unsure: P(abusive) = 0.712 is in [0.5, 0.95)"
        );
        assert_eq!(
            unsure(0.9499),
            "unsure: P(abusive) = 0.9499 is in [0.5, 0.95)"
        );
        assert_eq!(unsure(0.5), "unsure: P(abusive) = 0.5 is in [0.5, 0.95)");
        let above = |probability| {
            Reason::ClassAbove {
                label: Label::OffTopic,
                probability,
                threshold: 0.5,
            }
            .to_string()
        };
        assert_eq!(above(0.99975), "P(off_topic) = 0.99975 ≥ 0.5");
        assert_eq!(above(1.0), "P(off_topic) = 1 ≥ 0.5");
        assert_eq!(
            above(1.0 - 1e-12),
            format!("P(off_topic) = {} ≥ 0.5", 1.0 - 1e-12)
        );
    }
}
