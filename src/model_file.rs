//! The model file: a fixed header, then a postcard-encoded body.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `CSIEVEMD` |
//! | 8..10 | format version (4 to 7, the oldest that holds the model; versions 1 to 3 are still read) |
//! | 10..12 | reserved, 0 |
//! | 12..20 | body length in bytes |
//! | 20..24 | CRC-32 of the body |
//! | 24.. | body: [postcard](https://docs.rs/postcard) encoding of configs, vocabulary and counts |
//!
//! Version 2 appends to the version-1 body the postcard encoding of an `Option<f64>`: the
//! temperature of the probabilities (see [`crate::calibrate`]), `None` for an uncalibrated
//! model. A version-1 file loads as uncalibrated. The body length and checksum cover both parts.
//!
//! Version 3 appends to the version-2 body the postcard encoding of the model's
//! [`ContextFeatures`]: the context token weight, how tokens are scored, and the bucket edges
//! of each active context kind (see [`crate::context`]); the model then has one column per
//! vocabulary term followed by one per context bucket. Version-1 and version-2 files load
//! without context features.
//!
//! Version 4 appends to the version-3 body the postcard encoding of a `bool`: whether the
//! normalizer folds spellings that hide abusive words ([`crate::fold_evasions`]). Older files
//! load with folding off, as they were trained.
//!
//! Version 5 appends to the version-4 body the postcard encoding of a `u8`: the vectorizer's
//! [`VectorizerConfig::target_window`] (targeted pairs such as `you>idiot`). Older files load
//! with 0, without targeted pairs, as they were trained. The vectorizer settings inside the
//! body keep the version-4 layout (`StoredVectorizerConfig`). A model without targeted pairs is
//! still written as version 4, byte for byte as before, so older builds read it.
//!
//! Version 6 appends to the version-5 body the postcard encoding of an
//! `[Option<Vec<f64>>; 2]`: the bucket edges of the metadata tokens, link count
//! ([`crate::context::ContextKind::Links`]) and author URL
//! ([`crate::context::ContextKind::AuthorUrl`]), `None` for a kind the model does not use.
//! Older files load without them. A model without metadata tokens is still written as
//! version 5 or 4, as before.
//!
//! Version 7 appends to the version-6 body the postcard encoding of the vectorizer's
//! [`ClassFrequencies`] (supervised term weighting, see [`crate::ClassWeighting`]): the
//! smoothing and power, the training comments per class, and per term the training comments
//! of each class that hold it. Older files load without class weighting. A model without it is
//! still written as version 6, 5 or 4, as before.
//!
//! A file is refused, with the reason, if its magic, version, length or checksum is wrong, or if
//! its body does not decode into a consistent model.

use crate::classifier::Classifier;
use crate::context::ContextFeatures;
use crate::label::Label;
use crate::model::{NaiveBayes, NaiveBayesValidParams};
use crate::normalize::{Normalizer, NormalizerConfig};
use crate::vectorize::{ClassFrequencies, Vectorizer, VectorizerConfig};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"CSIEVEMD";
/// The newest model-file format version this build reads and writes (it writes the oldest
/// version that holds the model: [`FORMAT_VERSION_WITHOUT_TARGETS`] for a model without
/// targeted pairs, metadata tokens or class weighting, [`FORMAT_VERSION_WITHOUT_LINKS`] for one
/// with targeted pairs and without the other two, [`FORMAT_VERSION_WITHOUT_CLASS_WEIGHTING`]
/// for one with metadata tokens and without class weighting).
pub const FORMAT_VERSION: u16 = 7;
/// The version written for a model with metadata tokens and without class weighting.
pub const FORMAT_VERSION_WITHOUT_CLASS_WEIGHTING: u16 = 6;
/// The version written for a model with targeted pairs and without metadata tokens (link
/// count, author URL).
pub const FORMAT_VERSION_WITHOUT_LINKS: u16 = 5;
/// The version written for a model without targeted pairs.
pub const FORMAT_VERSION_WITHOUT_TARGETS: u16 = 4;
/// The oldest model-file format version this build reads.
pub const OLDEST_FORMAT_VERSION: u16 = 1;
const HEADER_LEN: usize = 24;
/// Largest body accepted, so a corrupt length can't trigger a huge allocation.
pub const MAX_BODY_LEN: u64 = 1 << 30;

/// Where a model came from; stored in the model file and shown by `model inspect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The program that wrote it, with its version.
    pub created_by: String,
    /// What it was trained on, in words (file, split, number of rows).
    pub training_data: String,
    /// The command that trained it.
    pub command: String,
}

/// Why a model file can't be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing the file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error (in the message, so not also given as the error's source).
        error: std::io::Error,
    },
    /// Not a comment-sieve model file.
    #[error("not a comment-sieve model file (bad magic bytes)")]
    BadMagic,
    /// Written by an incompatible version.
    #[error(
        "model file format version {found} is not supported (this build reads versions {OLDEST_FORMAT_VERSION} to {supported})"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u16,
        /// Newest version this build reads.
        supported: u16,
    },
    /// Shorter than its header says.
    #[error("model file is truncated: header says {expected} bytes of body, file has {found}")]
    Truncated {
        /// Bytes promised.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// Longer than its header says.
    #[error("model file has {0} unexpected bytes after its body")]
    TrailingBytes(u64),
    /// A body larger than [`MAX_BODY_LEN`].
    #[error("model body length {0} exceeds the limit of {MAX_BODY_LEN} bytes")]
    TooLarge(u64),
    /// The body does not match its checksum.
    #[error("model file is corrupted: checksum {found:08x} does not match {expected:08x}")]
    Checksum {
        /// Checksum in the header.
        expected: u32,
        /// Checksum of the body.
        found: u32,
    },
    /// The body does not decode.
    #[error("model body does not decode: {0}")]
    Decode(#[from] postcard::Error),
    /// The body decodes but is inconsistent.
    #[error("invalid model: {0}")]
    Invalid(String),
}

/// [`VectorizerConfig`] as the body stores it: the fields of format versions 1 to 4, in their
/// order (postcard has no field names, so a new field goes after the body instead).
#[derive(Serialize, Deserialize)]
struct StoredVectorizerConfig {
    ngram_range: (u8, u8),
    term_weight: crate::vectorize::TermWeight,
    idf: bool,
    l2_normalize: bool,
    prefix_len: u8,
}

impl StoredVectorizerConfig {
    fn of(c: &VectorizerConfig) -> Self {
        StoredVectorizerConfig {
            ngram_range: c.ngram_range,
            term_weight: c.term_weight,
            idf: c.idf,
            l2_normalize: c.l2_normalize,
            prefix_len: c.prefix_len,
        }
    }

    fn with_target_window(self, target_window: u8) -> VectorizerConfig {
        VectorizerConfig {
            ngram_range: self.ngram_range,
            term_weight: self.term_weight,
            idf: self.idf,
            l2_normalize: self.l2_normalize,
            prefix_len: self.prefix_len,
            target_window,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    info: ModelInfo,
    labels: Vec<String>,
    normalizer: NormalizerConfig,
    vectorizer: StoredVectorizerConfig,
    n_documents: u64,
    terms: Vec<Box<str>>,
    document_frequency: Vec<u32>,
    naive_bayes: NaiveBayesValidParams,
    class_documents: [u64; Label::COUNT],
    feature_counts: Vec<[u64; Label::COUNT]>,
}

fn label_names() -> Vec<String> {
    Label::ALL.iter().map(|l| l.as_str().to_owned()).collect()
}

/// Encodes a classifier as model-file bytes.
pub(crate) fn encode(classifier: &Classifier) -> Vec<u8> {
    let vectorizer = classifier.vectorizer();
    let model = classifier.model();
    let body = Body {
        info: classifier.info().clone(),
        labels: label_names(),
        normalizer: classifier.normalizer().config(),
        vectorizer: StoredVectorizerConfig::of(vectorizer.config()),
        n_documents: vectorizer.n_documents(),
        terms: vectorizer.vocabulary().terms().to_vec(),
        document_frequency: vectorizer.document_frequency().to_vec(),
        naive_bayes: *model.hyper_params(),
        class_documents: model.class_documents(),
        feature_counts: model.feature_counts().to_vec(),
    };
    // Serializing plain data into a Vec cannot fail.
    let mut body = postcard::to_stdvec(&body).unwrap_or_default();
    let temperature = postcard::to_stdvec(&classifier.temperature()).unwrap_or_default();
    body.extend_from_slice(&temperature);
    let context = postcard::to_stdvec(classifier.context()).unwrap_or_default();
    body.extend_from_slice(&context);
    let fold =
        postcard::to_stdvec(&classifier.normalizer().config().fold_evasions).unwrap_or_default();
    body.extend_from_slice(&fold);
    let target_window = vectorizer.config().target_window;
    let metadata_edges = [
        crate::context::ContextKind::Links,
        crate::context::ContextKind::AuthorUrl,
    ]
    .map(|kind| classifier.context().edges(kind).map(<[f64]>::to_vec));
    let class_frequencies = vectorizer.class_frequencies();
    let version = if class_frequencies.is_some() {
        FORMAT_VERSION
    } else if metadata_edges.iter().any(Option::is_some) {
        FORMAT_VERSION_WITHOUT_CLASS_WEIGHTING
    } else if target_window != 0 {
        FORMAT_VERSION_WITHOUT_LINKS
    } else {
        FORMAT_VERSION_WITHOUT_TARGETS
    };
    if version >= FORMAT_VERSION_WITHOUT_LINKS {
        body.extend_from_slice(&postcard::to_stdvec(&target_window).unwrap_or_default());
    }
    if version >= FORMAT_VERSION_WITHOUT_CLASS_WEIGHTING {
        body.extend_from_slice(&postcard::to_stdvec(&metadata_edges).unwrap_or_default());
    }
    if let Some(frequencies) = class_frequencies {
        body.extend_from_slice(&postcard::to_stdvec(frequencies).unwrap_or_default());
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Decodes model-file bytes, checking everything.
pub(crate) fn decode(bytes: &[u8]) -> Result<Classifier, ModelError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(ModelError::BadMagic);
    }
    if bytes.len() < HEADER_LEN {
        return Err(ModelError::Truncated {
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let version = u16_at(8);
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(ModelError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[12..20]);
    let body_len = u64::from_le_bytes(len_bytes);
    let mut crc_bytes = [0u8; 4];
    crc_bytes.copy_from_slice(&bytes[20..24]);
    let expected_crc = u32::from_le_bytes(crc_bytes);
    if body_len > MAX_BODY_LEN {
        return Err(ModelError::TooLarge(body_len));
    }
    let present = (bytes.len() - HEADER_LEN) as u64;
    if present < body_len {
        return Err(ModelError::Truncated {
            expected: body_len,
            found: present,
        });
    }
    if present > body_len {
        return Err(ModelError::TrailingBytes(present - body_len));
    }
    let body = &bytes[HEADER_LEN..];
    let found_crc = crc32fast::hash(body);
    if found_crc != expected_crc {
        return Err(ModelError::Checksum {
            expected: expected_crc,
            found: found_crc,
        });
    }
    let (body, rest) = postcard::take_from_bytes::<Body>(body)?;
    let (temperature, rest) = if version == 1 {
        (None, rest)
    } else {
        postcard::take_from_bytes::<Option<f64>>(rest)?
    };
    let (context, rest) = if version <= 2 {
        (ContextFeatures::default(), rest)
    } else {
        let (context, rest) = postcard::take_from_bytes::<ContextFeatures>(rest)?;
        let context = context
            .validated()
            .map_err(|e| ModelError::Invalid(e.to_string()))?;
        (context, rest)
    };
    let (fold_evasions, rest) = if version <= 3 {
        (false, rest)
    } else {
        postcard::take_from_bytes::<bool>(rest)?
    };
    let (target_window, rest) = if version <= 4 {
        (0, rest)
    } else {
        postcard::take_from_bytes::<u8>(rest)?
    };
    let (context, rest) = if version <= 5 {
        (context, rest)
    } else {
        let (edges, rest) = postcard::take_from_bytes::<[Option<Vec<f64>>; 2]>(rest)?;
        let context = context
            .with_metadata_edges(edges)
            .map_err(|e| ModelError::Invalid(e.to_string()))?;
        (context, rest)
    };
    let (class_frequencies, rest) = if version <= 6 {
        (None, rest)
    } else {
        let (frequencies, rest) = postcard::take_from_bytes::<ClassFrequencies>(rest)?;
        (Some(frequencies), rest)
    };
    if !rest.is_empty() {
        return Err(ModelError::Invalid(format!(
            "{} unexpected bytes at the end of the body",
            rest.len()
        )));
    }
    if body.labels != label_names() {
        return Err(ModelError::Invalid(format!(
            "labels {:?} differ from {:?}",
            body.labels,
            label_names()
        )));
    }
    let params = linfa::ParamGuard::check(
        crate::model::NaiveBayesParams::new()
            .alpha(body.naive_bayes.alpha())
            .priors(body.naive_bayes.priors())
            .kind(body.naive_bayes.kind()),
    )
    .map_err(|e| ModelError::Invalid(e.to_string()))?;
    if body.feature_counts.len() != body.terms.len() + context.n_columns() {
        return Err(ModelError::Invalid(format!(
            "{} feature counts for {} terms and {} context columns",
            body.feature_counts.len(),
            body.terms.len(),
            context.n_columns()
        )));
    }
    // Every sum the model forms (per class, per feature across classes, over everything) must
    // fit in u64; checking the grand totals covers them all.
    let all_counts: u128 = body
        .feature_counts
        .iter()
        .flatten()
        .map(|&c| u128::from(c))
        .sum();
    let all_documents: u128 = body.class_documents.iter().map(|&d| u128::from(d)).sum();
    if all_counts > u128::from(u64::MAX) || all_documents > u128::from(u64::MAX) {
        return Err(ModelError::Invalid("counts overflow 64 bits".into()));
    }
    let vectorizer = Vectorizer::from_parts(
        body.vectorizer.with_target_window(target_window),
        body.terms,
        body.document_frequency,
        body.n_documents,
    )
    .and_then(|v| match class_frequencies {
        Some(frequencies) => v.with_class_frequencies(frequencies),
        None => Ok(v),
    })
    .map_err(|e| ModelError::Invalid(e.to_string()))?;
    let model = NaiveBayes::from_counts(params, body.class_documents, body.feature_counts);
    Classifier::from_parts_with_context(
        Normalizer::new(NormalizerConfig {
            fold_evasions,
            ..body.normalizer
        }),
        vectorizer,
        model,
        context,
        body.info,
    )?
    .with_temperature(temperature)
}

/// Reads and decodes a model file.
pub(crate) fn read(path: &Path) -> Result<Classifier, ModelError> {
    let io = |error| ModelError::Io {
        path: path.to_owned(),
        error,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BODY_LEN + HEADER_LEN as u64 {
        return Err(ModelError::TooLarge(len));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    decode(&bytes)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let io = |error| ModelError::Io {
        path: path.to_owned(),
        error,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io(std::io::Error::other("the path names no file")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}
