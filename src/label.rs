//! The three moderation classes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a comment is, as far as moderation cares.
///
/// Serialized as `abusive`, `off_topic` and `substantive`.
///
/// ```
/// use comment_sieve::Label;
/// let label: Label = "off_topic".parse().unwrap();
/// assert_eq!(label, Label::OffTopic);
/// assert_eq!(label.to_string(), "off_topic");
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Insults, personal attacks, harassment, hate, threats, obscene abuse aimed at people.
    Abusive,
    /// Spam, advertising, and comments that have nothing to do with the post.
    OffTopic,
    /// Civil comments that say something about the post.
    #[default]
    Substantive,
}

impl Label {
    /// Every label, in the order used for probability and count arrays.
    pub const ALL: [Label; 3] = [Label::Abusive, Label::OffTopic, Label::Substantive];

    /// The number of labels.
    pub const COUNT: usize = 3;

    /// Position of this label in [`Label::ALL`] and in every per-class array.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The serialized name: `abusive`, `off_topic` or `substantive`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Label::Abusive => "abusive",
            Label::OffTopic => "off_topic",
            Label::Substantive => "substantive",
        }
    }
}

impl linfa::Label for Label {}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown label {0:?}: expected abusive, off_topic or substantive")]
pub struct UnknownLabel(pub String);

impl FromStr for Label {
    type Err = UnknownLabel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "abusive" => Ok(Label::Abusive),
            "off_topic" | "off-topic" | "offtopic" => Ok(Label::OffTopic),
            "substantive" => Ok(Label::Substantive),
            other => Err(UnknownLabel(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_serde_and_display() {
        for label in Label::ALL {
            let json = serde_json::to_string(&label).unwrap();
            assert_eq!(json, format!("\"{label}\""));
            assert_eq!(serde_json::from_str::<Label>(&json).unwrap(), label);
            assert_eq!(label.as_str().parse::<Label>().unwrap(), label);
            assert_eq!(Label::ALL[label.index()], label);
        }
        assert!("spam".parse::<Label>().is_err());
    }
}
