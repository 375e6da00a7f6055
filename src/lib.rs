//! # comment-sieve
//!
//! Moderation for blog comments: each comment is classified as **abusive**, **off-topic** or
//! **substantive** by a multinomial naive Bayes model over a sparse bag of words and word pairs.
//!
//! The pipeline is a chain of small stages, each a module with one type:
//!
//! 1. normalize with [`Normalizer`]: HTML, Unicode NFKC and case folding, placeholders for
//!    links and numbers;
//! 2. tokenize with [`Tokenizer`] into words;
//! 3. vectorize with [`Vectorizer`]: words and n-grams to a sparse [`FeatureVector`] over a
//!    [`Vocabulary`];
//! 4. score with [`NaiveBayes`], fitted with linfa's `Fit`/`FitWith` on a [`FeatureMatrix`];
//! 5. decide with [`Classifier`], which chains the above and gives a [`Verdict`] per
//!    [`Comment`];
//! 6. moderate with [`Policy`]: deny and allow lists, trusted authors and thresholds turn a
//!    verdict into a [`Decision`] (approve, review, reject) with a [`Reason`].
//!
//! ```
//! use comment_sieve::{Classifier, Comment, Label};
//!
//! let classifier = Classifier::embedded()?;
//! let comments = vec![
//!     Comment::new("a", "Subscribe to my channel for free gift cards!!! http://bit.ly/xyz"),
//!     Comment::new("b", "The article ignores how the tax change affects renters."),
//! ];
//! let verdicts = classifier.classify_batch(&comments);
//! assert_eq!(verdicts[0].label, Label::OffTopic);
//! assert_eq!(verdicts[1].label, Label::Substantive);
//! # Ok::<(), comment_sieve::ModelError>(())
//! ```
#![warn(missing_docs)]

pub mod batch;
pub mod calibrate;
mod classifier;
mod comment;
pub mod context;
pub mod corpus;
mod eval;
mod evasion;
mod explain;
mod features;
pub mod input;
mod label;
mod model;
pub mod model_file;
mod normalize;
mod policy;
mod radix;
mod scoring;
mod shared;
mod terms;
mod tokenize;
pub mod validate;
mod vectorize;

pub use calibrate::Calibration;
pub use classifier::{Classifier, ClassifierParams, Probabilities, TrainError, Verdict};
pub use comment::{Comment, Post};
pub use context::{ContextError, ContextFeatures, ContextKind, ContextParams, ContextScoring};
pub use eval::{ClassScores, Evaluation, LengthMismatch};
pub use evasion::fold_evasions;
pub use explain::Evidence;
pub use features::{FeatureMatrix, FeatureVector, InvalidRow};
pub use label::{Label, UnknownLabel};
pub use model::{
    ClassPriors, NaiveBayes, NaiveBayesError, NaiveBayesKind, NaiveBayesParams,
    NaiveBayesValidParams, WEIGHT_SCALE, probabilities_from_log,
};
pub use model_file::{ModelError, ModelInfo};
pub use normalize::{Normalizer, NormalizerConfig, Scratch};
pub use policy::{
    ClassThresholds, Decision, DenyAction, Lists, Policy, PolicyConfig, PolicyError, Reason, Ruling,
};
pub use shared::SharedClassifier;
pub use terms::{EmptyTerm, TermList};
pub use tokenize::{Tokenizer, Tokens};
pub use validate::{
    CrossValidation, LeaveOneSourceOut, SourceScores, ValidationError, cross_validate,
    cross_validate_weighted, leave_one_source_out, tune_class_offsets,
};
pub use vectorize::{
    ClassFrequencies, ClassWeighting, InvalidVocabulary, TermWeight, VectorScratch, Vectorizer,
    VectorizerConfig, VectorizerError, Vocabulary, VocabularyParams, is_second_person,
};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
