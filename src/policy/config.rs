//! A policy's settings as written in TOML or JSON, and what can be wrong with them.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::ruling::Decision;

/// The review and reject thresholds of one flagged class (abusive or off-topic).
///
/// `None` means never. In a policy file a threshold is a number in [0, 1] or `"never"`; a
/// threshold left out keeps its default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassThresholds {
    /// Review when the class's probability is at least this.
    pub review_at: Option<f64>,
    /// Reject when the class's probability is at least this.
    pub reject_at: Option<f64>,
}

/// What a deny-list match does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyAction {
    /// Reject the comment.
    #[default]
    Reject,
    /// Hold it for a moderator.
    Review,
}

impl DenyAction {
    /// The decision it stands for.
    pub fn decision(self) -> Decision {
        match self {
            DenyAction::Reject => Decision::Reject,
            DenyAction::Review => Decision::Review,
        }
    }
}

/// Deny terms, allow terms and trusted authors: the global lists, or one site's extra lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lists {
    /// Words or phrases that always flag a comment (see [`DenyAction`]).
    pub deny: Vec<String>,
    /// Words or phrases that approve a comment unless a deny term matches.
    pub allow: Vec<String>,
    /// Authors whose comments are approved unless a deny term matches.
    pub trusted_authors: Vec<String>,
}

/// Everything a [`Policy`](super::Policy) is made of; see there for the meaning and defaults.
///
/// Deserializes from a policy file; every field is optional and unknown fields are errors.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RawPolicy")]
pub struct PolicyConfig {
    /// Thresholds on P(abusive).
    pub abusive: ClassThresholds,
    /// Thresholds on P(off_topic).
    pub off_topic: ClassThresholds,
    /// The least P(substantive) at which an unflagged comment is approved; below it, review.
    pub approve_at: f64,
    /// The least number of training comments of every class for the model to be trusted.
    pub min_examples_per_class: u64,
    /// What a deny-list match does.
    pub deny_action: DenyAction,
    /// The global lists.
    pub lists: Lists,
    /// Extra lists per site, layered over the global ones.
    pub sites: BTreeMap<String, Lists>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            abusive: ClassThresholds {
                review_at: Some(0.5),
                reject_at: Some(0.85),
            },
            off_topic: ClassThresholds {
                review_at: Some(0.5),
                reject_at: None,
            },
            approve_at: 0.5,
            min_examples_per_class: 100,
            deny_action: DenyAction::Reject,
            lists: Lists::default(),
            sites: BTreeMap::new(),
        }
    }
}

/// A threshold as written: a number, or `"never"`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Threshold(Option<f64>);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ThresholdVisitor;
        impl Visitor<'_> for ThresholdVisitor {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a probability in [0, 1] or \"never\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold(Some(v as f64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Threshold, E> {
                match v {
                    "never" => Ok(Threshold(None)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(ThresholdVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThresholds {
    review_at: Option<Threshold>,
    reject_at: Option<Threshold>,
}

impl RawThresholds {
    fn over(self, defaults: ClassThresholds) -> ClassThresholds {
        ClassThresholds {
            review_at: self.review_at.map_or(defaults.review_at, |t| t.0),
            reject_at: self.reject_at.map_or(defaults.reject_at, |t| t.0),
        }
    }
}

/// The file format: all optional, so a file states only what differs from the defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    abusive: Option<RawThresholds>,
    off_topic: Option<RawThresholds>,
    approve_at: Option<f64>,
    min_examples_per_class: Option<u64>,
    deny_action: Option<DenyAction>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    trusted_authors: Vec<String>,
    #[serde(default)]
    sites: BTreeMap<String, Lists>,
}

impl From<RawPolicy> for PolicyConfig {
    fn from(raw: RawPolicy) -> Self {
        let defaults = PolicyConfig::default();
        PolicyConfig {
            abusive: raw.abusive.unwrap_or_default().over(defaults.abusive),
            off_topic: raw.off_topic.unwrap_or_default().over(defaults.off_topic),
            approve_at: raw.approve_at.unwrap_or(defaults.approve_at),
            min_examples_per_class: raw
                .min_examples_per_class
                .unwrap_or(defaults.min_examples_per_class),
            deny_action: raw.deny_action.unwrap_or(defaults.deny_action),
            lists: Lists {
                deny: raw.deny,
                allow: raw.allow,
                trusted_authors: raw.trusted_authors,
            },
            sites: raw.sites,
        }
    }
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A setting is out of range or inconsistent; `field` is its path, such as
    /// `abusive.review_at` or `sites.blog.deny[2]`.
    #[error("policy field {field}: {message}")]
    Invalid {
        /// Where in the policy.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Not valid TOML, or not a policy (unknown field, wrong type).
    #[error("policy TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// Not valid JSON, or not a policy (unknown field, wrong type).
    #[error("policy JSON at {path}: {source}")]
    Json {
        /// Where in the document, such as `abusive.reject_at` (`.` for the top level).
        path: String,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The file could not be read.
    #[error("reading policy file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file name ends in neither `.toml` nor `.json`.
    #[error("policy file {}: expected a .toml or .json extension", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A policy file's contents are wrong.
    #[error("policy file {}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        source: Box<PolicyError>,
    },
}

impl PolicyError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks the numbers of `config`: thresholds in [0, 1], review at or below reject.
pub(super) fn check_thresholds(config: &PolicyConfig) -> Result<(), PolicyError> {
    check_probability("approve_at", Some(config.approve_at))?;
    for (name, t) in [("abusive", config.abusive), ("off_topic", config.off_topic)] {
        check_probability(&format!("{name}.review_at"), t.review_at)?;
        check_probability(&format!("{name}.reject_at"), t.reject_at)?;
        if let (Some(review), Some(reject)) = (t.review_at, t.reject_at)
            && review > reject
        {
            return Err(PolicyError::invalid(
                format!("{name}.review_at"),
                format!(
                    "{review} is above {name}.reject_at ({reject}); the unsure band must be ordered"
                ),
            ));
        }
    }
    Ok(())
}

fn check_probability(field: &str, value: Option<f64>) -> Result<(), PolicyError> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err(PolicyError::invalid(
            field,
            format!("must be a probability in [0, 1], got {v}"),
        )),
        _ => Ok(()),
    }
}
