//! Batch scoring: records in, outcomes out, in input order, chunk by chunk in parallel.
//!
//! [`BatchScorer`] pulls a bounded chunk of records from any record stream, classifies the
//! chunk in parallel with rayon, and hands each [`Outcome`] to a callback in input order, so
//! memory stays bounded by the chunk size whatever the input size. It keeps a [`Summary`].
//!
//! ```
//! use comment_sieve::batch::{BatchScorer, Outcome};
//! use comment_sieve::input::{open, InputOptions};
//! use comment_sieve::Classifier;
//! let classifier = Classifier::embedded()?;
//! let input = open(Some("fixtures/comments.jsonl".as_ref()), &InputOptions::default())?;
//! let format = input.format();
//! let mut ids = Vec::new();
//! let summary = BatchScorer::new(&classifier).run(input, format, |outcome| {
//!     if let Outcome::Verdict { record, .. } = outcome {
//!         ids.push(record.comment.id.to_string());
//!     }
//!     Ok::<(), std::io::Error>(())
//! })?;
//! assert_eq!(summary.records, 10);
//! assert_eq!(ids[0], "101");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::classifier::{Classifier, Verdict};
use crate::input::{Format, Record, RecordError, RecordResult, Skip};
use crate::label::Label;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// What became of one input comment.
#[derive(Debug)]
pub enum Outcome {
    /// Classified.
    Verdict {
        /// The comment as read.
        record: Record,
        /// The classifier's verdict.
        verdict: Verdict,
    },
    /// Reported but not classified (deleted or removed upstream).
    Skipped {
        /// The comment as read.
        record: Record,
        /// Why it was not classified.
        skip: Skip,
    },
    /// Could not be read.
    Error(RecordError),
}

/// Counts over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Input comments seen: verdicts + skipped + errors.
    pub records: u64,
    /// Verdicts per label.
    pub labels: BTreeMap<Label, u64>,
    /// Comments not classified, per reason.
    pub skipped: BTreeMap<Skip, u64>,
    /// Comments that could not be read.
    pub errors: u64,
    /// Input comments per format.
    pub formats: BTreeMap<Format, u64>,
    /// Classified comments per export comment type (WordPress `comment`, `pingback`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub comment_types: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts one outcome, read from an input of `format`.
    pub fn count(&mut self, outcome: &Outcome, format: Format) {
        self.records += 1;
        *self.formats.entry(format).or_default() += 1;
        match outcome {
            Outcome::Verdict { record, verdict } => {
                *self.labels.entry(verdict.label).or_default() += 1;
                if let Some(t) = &record.export.comment_type {
                    *self.comment_types.entry(t.clone()).or_default() += 1;
                }
            }
            Outcome::Skipped { skip, .. } => *self.skipped.entry(*skip).or_default() += 1,
            Outcome::Error(_) => self.errors += 1,
        }
    }

    /// Adds another run's counts.
    pub fn merge(&mut self, other: &Summary) {
        self.records += other.records;
        self.errors += other.errors;
        for (k, v) in &other.labels {
            *self.labels.entry(*k).or_default() += v;
        }
        for (k, v) in &other.skipped {
            *self.skipped.entry(*k).or_default() += v;
        }
        for (k, v) in &other.formats {
            *self.formats.entry(*k).or_default() += v;
        }
        for (k, v) in &other.comment_types {
            *self.comment_types.entry(k.clone()).or_default() += v;
        }
    }
}

/// Scores record streams chunk by chunk; see the module documentation.
pub struct BatchScorer<'c> {
    classifier: &'c Classifier,
    chunk_size: usize,
}

impl<'c> BatchScorer<'c> {
    /// A scorer with chunks of 4,096 records.
    pub fn new(classifier: &'c Classifier) -> Self {
        BatchScorer {
            classifier,
            chunk_size: 4096,
        }
    }

    /// Sets how many records are read, scored and written at a time (at least 1). Memory is
    /// proportional to it.
    pub fn chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.max(1);
        self
    }

    /// Scores every record of `records` (all of format `format`) and calls `emit` with each
    /// outcome, in input order. Stops at the first error `emit` returns.
    pub fn run<E>(
        &self,
        records: impl Iterator<Item = RecordResult> + Send,
        format: Format,
        mut emit: impl FnMut(Outcome) -> Result<(), E>,
    ) -> Result<Summary, E> {
        self.run_rendered(records, format, |_| (), |outcome, ()| emit(outcome))
    }

    /// Like [`BatchScorer::run`], with a `render` step (for example serializing the output
    /// record) that runs in parallel with the scoring; `emit` gets each outcome with its
    /// rendering, in input order.
    ///
    /// The work is a pipeline of three stages, each a chunk ahead of the next: reading runs on
    /// its own thread, scoring and rendering on another (fanning each chunk out to rayon's
    /// pool), and `emit` on the calling thread. So parsing and writing overlap with
    /// classification, and at most five chunks are in memory at once.
    pub fn run_rendered<R: Send, E>(
        &self,
        records: impl Iterator<Item = RecordResult> + Send,
        format: Format,
        render: impl Fn(&Outcome) -> R + Sync,
        mut emit: impl FnMut(Outcome, R) -> Result<(), E>,
    ) -> Result<Summary, E> {
        let chunk_size = self.chunk_size;
        let (read_sender, read) = std::sync::mpsc::sync_channel::<Vec<RecordResult>>(1);
        let (scored_sender, scored) = std::sync::mpsc::sync_channel::<Vec<(Outcome, R)>>(1);
        let render = &render;
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut records = records.fuse();
                loop {
                    let chunk: Vec<RecordResult> = records.by_ref().take(chunk_size).collect();
                    if chunk.is_empty() || read_sender.send(chunk).is_err() {
                        return;
                    }
                }
            });
            scope.spawn(move || {
                for chunk in read {
                    if scored_sender.send(self.score_chunk(chunk, render)).is_err() {
                        return;
                    }
                }
            });
            let mut summary = Summary::default();
            // Dropping the receiver on an early return stops the scoring thread, and with it
            // the reading thread.
            for outcomes in scored {
                for (outcome, rendered) in outcomes {
                    summary.count(&outcome, format);
                    emit(outcome, rendered)?;
                }
            }
            Ok(summary)
        })
    }

    /// Classifies one chunk of records and renders each outcome, in input order.
    fn score_chunk<R: Send>(
        &self,
        chunk: Vec<RecordResult>,
        render: &(impl Fn(&Outcome) -> R + Sync),
    ) -> Vec<(Outcome, R)> {
        // The chunk is one batch: comments get thread and parent context from the other
        // comments of the chunk (see `crate::context`).
        let comments: Vec<&crate::comment::Comment<'_>> = chunk
            .iter()
            .filter_map(|result| match result {
                Ok(record) if record.skip.is_none() => Some(&record.comment),
                _ => None,
            })
            .collect();
        let mut verdicts = self.classifier.classify_refs(&comments).into_iter();
        drop(comments);
        let outcomes: Vec<Outcome> = chunk
            .into_iter()
            .map(|result| match result {
                Ok(record) => match record.skip {
                    Some(skip) => Outcome::Skipped { record, skip },
                    None => {
                        // One verdict per unskipped record, in order; the fallback is never
                        // taken.
                        let verdict = verdicts
                            .next()
                            .unwrap_or_else(|| self.classifier.classify(&record.comment));
                        Outcome::Verdict { record, verdict }
                    }
                },
                Err(e) => Outcome::Error(e),
            })
            .collect();
        outcomes
            .into_par_iter()
            .map(|outcome| {
                let rendered = render(&outcome);
                (outcome, rendered)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{InputOptions, from_reader};

    /// `n` JSONL comments in threads of three (ids `c0`, `c1`, …), with an unreadable line
    /// after every tenth.
    fn records(n: usize) -> (Vec<RecordResult>, Format) {
        let mut text = String::new();
        for i in 0..n {
            let words = [
                "great point about the budget",
                "you are a clown",
                "buy cheap pills now",
            ];
            text.push_str(&format!(
                "{{\"id\":\"c{i}\",\"post_id\":\"p{}\",\"text\":\"{} {i}\"}}\n",
                i / 3,
                words[i % 3]
            ));
            if i % 10 == 9 {
                text.push_str("{not json\n");
            }
        }
        let input = from_reader(
            Box::new(std::io::Cursor::new(text.into_bytes())),
            "t.jsonl".into(),
            &InputOptions::default(),
        )
        .expect("open");
        let format = input.format();
        (input.collect(), format)
    }

    #[test]
    fn many_chunks_come_out_whole_and_in_order() {
        let classifier = Classifier::embedded().expect("model");
        let (input, format) = records(50);
        // What each chunk of 4 records gives when classified as one batch.
        let mut expected = Vec::new();
        for chunk in input.chunks(4) {
            let comments: Vec<_> = chunk
                .iter()
                .filter_map(|r| r.as_ref().ok().map(|r| r.comment.clone()))
                .collect();
            let mut verdicts = classifier.classify_batch(&comments).into_iter();
            for r in chunk {
                expected.push(match r {
                    Ok(r) => Ok((r.comment.id.to_string(), verdicts.next().expect("verdict"))),
                    Err(e) => Err(e.position.line),
                });
            }
        }
        let mut got = Vec::new();
        let summary = BatchScorer::new(&classifier)
            .chunk_size(4)
            .run(input.into_iter(), format, |outcome| {
                got.push(match outcome {
                    Outcome::Verdict { record, verdict } => {
                        Ok((record.comment.id.to_string(), verdict))
                    }
                    Outcome::Error(e) => Err(e.position.line),
                    Outcome::Skipped { .. } => unreachable!("no skips in this input"),
                });
                Ok::<(), ()>(())
            })
            .expect("run");
        assert_eq!(got.len(), 55);
        assert_eq!((summary.records, summary.errors), (55, 5));
        for (g, e) in got.iter().zip(&expected) {
            match (g, e) {
                (Ok((gi, gv)), Ok((ei, ev))) => {
                    assert_eq!(gi, ei);
                    assert_eq!(gv.joint_log_likelihood, ev.joint_log_likelihood, "{gi}");
                }
                (Err(gl), Err(el)) => assert_eq!(gl, el),
                _ => panic!("{g:?} against {e:?}"),
            }
        }
    }

    #[test]
    fn an_emit_error_stops_the_run_at_once() {
        let classifier = Classifier::embedded().expect("model");
        let (input, format) = records(200);
        let mut calls = 0;
        let result =
            BatchScorer::new(&classifier)
                .chunk_size(3)
                .run(input.into_iter(), format, |_| {
                    calls += 1;
                    if calls == 7 {
                        Err("output closed")
                    } else {
                        Ok(())
                    }
                });
        assert_eq!(result, Err("output closed"));
        assert_eq!(calls, 7);
    }
}
