//! A classifier that many threads read while moderator decisions update it.

use crate::classifier::{Classifier, Verdict};
use crate::comment::Comment;
use crate::label::Label;
use crate::model::NaiveBayesError;
use crate::model_file::ModelError;
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// A [`Classifier`] shared by readers and a learner, for a moderation service.
///
/// Readers classify against an immutable snapshot; they never wait for a learner and never see
/// a half-applied update. [`SharedClassifier::learn`] and [`SharedClassifier::forget`] copy the
/// current snapshot's counts (the vocabulary is shared, not copied), apply the change and
/// publish the copy. Writers take a lock, so concurrent updates are applied one after another
/// and none is lost. A snapshot copy costs about a millisecond for the default model (see
/// `benches/latency.rs`), which suits moderator feedback, not bulk training.
///
/// ```
/// use comment_sieve::{Classifier, Comment, Label, SharedClassifier};
/// let shared = SharedClassifier::new(Classifier::embedded()?);
/// let comment = Comment::new("c1", "buy cheap watches at my site");
/// let before = shared.classify(&comment).probabilities.off_topic;
/// shared.learn(&comment, Label::OffTopic)?;
/// assert!(shared.classify(&comment).probabilities.off_topic > before);
/// shared.forget(&comment, Label::OffTopic)?; // a moderator's mistake, undone exactly
/// assert_eq!(shared.classify(&comment).probabilities.off_topic, before);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SharedClassifier {
    current: ArcSwap<Classifier>,
    writer: Mutex<()>,
}

impl std::fmt::Debug for SharedClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClassifier").finish_non_exhaustive()
    }
}

impl SharedClassifier {
    /// Shares `classifier`.
    pub fn new(classifier: Classifier) -> Self {
        SharedClassifier {
            current: ArcSwap::from_pointee(classifier),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot. Later updates do not change it; use it to run several calls
    /// against one consistent model.
    pub fn snapshot(&self) -> Arc<Classifier> {
        self.current.load_full()
    }

    /// Classifies one comment with the current snapshot.
    pub fn classify(&self, comment: &Comment<'_>) -> Verdict {
        self.current.load().classify(comment)
    }

    /// Classifies one bare text with the current snapshot.
    pub fn classify_text(&self, text: &str) -> Verdict {
        self.current.load().classify_text(text)
    }

    /// Adds a moderator's decision to the counts and publishes the updated model.
    pub fn learn(&self, comment: &Comment<'_>, label: Label) -> Result<(), NaiveBayesError> {
        self.update(|c| c.learn(comment, label))
    }

    /// Takes back a decision added with [`SharedClassifier::learn`]; the counts return to
    /// exactly what they were. Fails, changing nothing, if the decision was never learned.
    pub fn forget(&self, comment: &Comment<'_>, label: Label) -> Result<(), NaiveBayesError> {
        self.update(|c| c.forget(comment, label))
    }

    /// Replaces the model, for example with a retrained one.
    pub fn replace(&self, classifier: Classifier) {
        let _writer = self.lock_writer();
        self.current.store(Arc::new(classifier));
    }

    /// Saves the current snapshot atomically (see [`Classifier::save`]).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        self.snapshot().save(path)
    }

    fn update(
        &self,
        change: impl FnOnce(&mut Classifier) -> Result<(), NaiveBayesError>,
    ) -> Result<(), NaiveBayesError> {
        let _writer = self.lock_writer();
        let mut next = Classifier::clone(&self.current.load());
        change(&mut next)?;
        self.current.store(Arc::new(next));
        Ok(())
    }

    /// The writer lock. A writer that panicked left no partial update behind (updates are
    /// published only when complete), so a poisoned lock is safe to take over.
    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl From<Classifier> for SharedClassifier {
    fn from(classifier: Classifier) -> Self {
        SharedClassifier::new(classifier)
    }
}
