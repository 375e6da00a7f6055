//! `comment-sieve`: the command-line front end. The library does the work; this file parses
//! arguments, opens files and prints.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use comment_sieve::batch::{BatchScorer, Outcome, Summary};
use comment_sieve::corpus::{LabelSource, LabeledOptions, SplitFilter, read_labeled_with};
use comment_sieve::input::{
    ExportField, ExportFields, FieldMap, Format, InputOptions, Position, Skip,
};
use comment_sieve::{
    Calibration, ClassPriors, ClassWeighting, Classifier, ClassifierParams, Comment, ContextKind,
    ContextScoring, Evaluation, Label, LeaveOneSourceOut, ModelInfo, NaiveBayesKind,
    NormalizerConfig, Probabilities, TermWeight, VectorizerConfig, Verdict, calibrate,
    cross_validate_weighted, leave_one_source_out, tune_class_offsets,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `println!` that returns the write error instead of panicking, so that a closed pipe
/// (`comment-sieve model inspect | head`) ends the program quietly (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

const EXIT_OK: u8 = 0;
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// Classify blog comments as abusive, off_topic or substantive with a naive Bayes model.
///
/// Without --model, every command uses the default model compiled into this binary.
#[derive(Parser)]
#[command(name = "comment-sieve", version, after_help = EXAMPLES)]
struct Cli {
    /// Model file to use instead of the embedded default model.
    #[arg(long, global = true, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Worker threads for parallel work, 1 to 1024 (default: one per core).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  comment-sieve classify \"You are an idiot\"
  comment-sieve score fixtures/comments.jsonl > verdicts.jsonl
  comment-sieve score wordpress-export.xml.gz -o verdicts.jsonl
  comment-sieve eval ../shared/corpus/comments.jsonl --split test
  comment-sieve train ../shared/corpus/comments.jsonl --split train -o my.model
  comment-sieve model inspect --json

Exit codes: 0 success; 1 some input records failed (see the error records); 2 usage or I/O error.";

const SCORE_EXAMPLES: &str = "\
Examples:
  comment-sieve score fixtures/comments.jsonl
  comment-sieve score wordpress-export.xml disqus-export.xml.gz -o verdicts.jsonl
  comment-sieve score comments.csv --text-field body --id-field comment_id --output-format csv
  comment-sieve score RC_2019-04.zst > verdicts.jsonl      (zstd, --long=31 windows too)
  gunzip -c comments.jsonl.gz | comment-sieve score --format jsonl - > verdicts.jsonl

Exit codes: 0 every comment scored (or skipped as deleted upstream); 1 some comments could not
be read (see the error records and the summary); 2 usage error, unreadable input or model.";

#[derive(Subcommand)]
enum Command {
    /// Classify one comment given on the command line.
    Classify {
        /// The comment text; `-` reads it from standard input.
        text: String,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Classify one comment and show the terms that moved the decision most.
    ///
    /// Each line gives the term as the model knows it (a word, a word pair, `~` and a word
    /// prefix, or a token about the comment as a whole such as `ctx:links:2`), the text it came
    /// from, and its log-likelihood ratio for each label: positive values pushed the comment
    /// towards that label. With --json, each term also has its byte span in the text (empty for
    /// `ctx:` tokens).
    ///
    /// Example: comment-sieve explain "Great post. You are an idiot though."
    Explain {
        /// The comment text; `-` reads it from standard input.
        text: String,
        /// How many terms to show (all with 0).
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Print the verdict and the evidence as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score comment files: one output record per input comment, in input order.
    ///
    /// Reads JSONL, JSON arrays of objects, CSV, WordPress (WXR), Disqus and Blogger XML
    /// exports and Reddit Pushshift NDJSON, plain or gzip/zstd-compressed; the format is
    /// detected from the content. Each
    /// output record is {"id", "label", "probabilities"}, plus `post_id`, `parent_id` and the
    /// export's own moderation fields when known. A comment deleted upstream gives
    /// {"id", "skipped"}; a comment that can't be read gives {"id", "error", "source", "line" or
    /// "byte", "element"}, and the exit code is 1.
    #[command(after_help = SCORE_EXAMPLES)]
    Score {
        /// Input files; `-` or nothing reads standard input.
        inputs: Vec<PathBuf>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        output_format: OutputFormat,
        /// Input format, instead of detecting it.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// What to do with a comment that can't be read: write an error record, leave it out
        /// of the output (still counted), or stop.
        #[arg(long, value_enum, default_value = "record")]
        on_error: OnError,
        /// Also write the end-of-run summary as JSON to this file.
        #[arg(long, value_name = "FILE")]
        summary_json: Option<PathBuf>,
        /// No progress bar and no summary on standard error.
        #[arg(long, short)]
        quiet: bool,
        #[command(flatten)]
        fields: FieldArgs,
    },
    /// Evaluate a model on labeled rows: precision, recall, F1, macro-F1, confusion, and the
    /// expected calibration error (top-label, 15 bins) of its probabilities and of the raw ones.
    #[command(after_help = LABEL_EXAMPLES)]
    Eval {
        /// Labeled file: JSONL or CSV with a `label` field, or any export with --label-from.
        data: PathBuf,
        /// Which rows: a split name such as `test` or `train`, or `all`.
        #[arg(long, default_value = "test")]
        split: String,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also score the rows whose comment has a post id on their own (every row is still
        /// classified, so thread contexts see all of them).
        #[arg(long)]
        post_subset: bool,
        #[command(flatten)]
        labels: LabelArgs,
    },
    /// Train a model on labeled rows and write it to a file.
    #[command(after_help = LABEL_EXAMPLES)]
    Train {
        /// Labeled file: JSONL or CSV with a `label` field, or any export with --label-from.
        data: PathBuf,
        /// Which rows to train on: a split name or `all`.
        #[arg(long, default_value = "train")]
        split: String,
        /// Where to write the model.
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        params: TrainArgs,
        #[command(flatten)]
        labels: LabelArgs,
    },
    /// Grouped k-fold cross-validation of training settings on labeled rows, or with
    /// --leave-one-source-out, one round per source: train on the others, test on it.
    ///
    /// Reports out-of-fold scores and the expected calibration error of the out-of-fold
    /// probabilities (each fold's model fits its own temperature on its own training rows,
    /// unless --no-calibration) and of the raw ones.
    Cv {
        /// Labeled file: JSONL or CSV with a `label` field, or any export with --label-from.
        data: PathBuf,
        /// Which rows: a split name or `all`.
        #[arg(long, default_value = "train")]
        split: String,
        /// Number of folds, at least 2.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..))]
        folds: u32,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also search per-class offsets (prior weights) that maximize out-of-fold macro-F1.
        #[arg(long, conflicts_with = "leave_one_source_out")]
        tune_offsets: bool,
        /// Also score the out-of-fold predictions of rows whose comment has a post id.
        #[arg(long)]
        post_subset: bool,
        /// Hold out each source in turn instead of k folds; report per source, with macro-F1
        /// over the classes the source has.
        #[arg(long)]
        leave_one_source_out: bool,
        /// JSONL field / CSV column holding the source of a row (for --leave-one-source-out
        /// and --per-source).
        #[arg(long, default_value = "source", value_name = "NAME")]
        source_field: String,
        /// Also print, for each source, how many of its rows of each true label got each
        /// predicted label (out of fold).
        #[arg(long, conflicts_with = "leave_one_source_out")]
        per_source: bool,
        /// Write the out-of-fold joint log-likelihoods of every row (id, source, label, jll in
        /// label order) to this JSONL file.
        #[arg(long, value_name = "FILE", conflicts_with = "leave_one_source_out")]
        predictions: Option<PathBuf>,
        #[command(flatten)]
        params: TrainArgs,
        #[command(flatten)]
        labels: LabelArgs,
    },
    /// Look inside a model file.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Show a model's configuration, vocabulary size and class counts; --json exports
    /// everything, vocabulary and counts included.
    Inspect {
        /// Export the whole model as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnError {
    Record,
    Skip,
    Fail,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Jsonl,
    Json,
    Csv,
    Wxr,
    Disqus,
    Blogger,
    Reddit,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
            FormatArg::Wxr => Format::Wxr,
            FormatArg::Disqus => Format::Disqus,
            FormatArg::Blogger => Format::Blogger,
            FormatArg::Reddit => Format::Reddit,
        }
    }
}

/// Field names for JSONL and CSV input.
#[derive(Args)]
struct FieldArgs {
    /// JSONL field / CSV column holding the comment id.
    #[arg(long, default_value = "id", value_name = "NAME")]
    id_field: String,
    /// JSONL field / CSV column holding the comment text. Left at the default, an input
    /// without `text` is read from the first of `body`, `comment_text`, `comment_content`,
    /// `comment_body`, `comment`, `content`, `message`, `raw_message` it has (the other
    /// fields have such aliases too: see the README).
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_field: String,
    /// JSONL field / CSV column holding the post id.
    #[arg(long, default_value = "post_id", value_name = "NAME")]
    post_id_field: String,
    /// JSONL field / CSV column holding the post title.
    #[arg(long, default_value = "post_title", value_name = "NAME")]
    post_title_field: String,
    /// JSONL field / CSV column holding the post body.
    #[arg(long, default_value = "post_body", value_name = "NAME")]
    post_body_field: String,
    /// JSONL field / CSV column holding the parent comment id.
    #[arg(long, default_value = "parent_id", value_name = "NAME")]
    parent_id_field: String,
    /// JSONL field / CSV column holding the author.
    #[arg(long, default_value = "author", value_name = "NAME")]
    author_field: String,
    /// JSONL field / CSV column holding the website the author gave (used by models trained
    /// with `--context-kinds ...,author-url`).
    #[arg(long, default_value = "author_url", value_name = "NAME")]
    author_url_field: String,
}

impl FieldArgs {
    fn options(&self, format: Option<FormatArg>) -> InputOptions {
        InputOptions {
            format: format.map(Format::from),
            fields: FieldMap {
                id: self.id_field.clone(),
                text: self.text_field.clone(),
                post_id: self.post_id_field.clone(),
                post_title: self.post_title_field.clone(),
                post_body: self.post_body_field.clone(),
                parent_id: self.parent_id_field.clone(),
                author: self.author_field.clone(),
                author_url: self.author_url_field.clone(),
                ..FieldMap::default()
            },
        }
    }
}

const LABEL_EXAMPLES: &str = "\
Labels from an export's moderation history:
  comment-sieve eval wordpress.xml --split all --label-from approved \\
      --label-map spam=off_topic,1=substantive
  comment-sieve train disqus.xml.gz --split all --label-from is-spam \\
      --label-map true=off_topic,false=substantive -o site.model
Rows whose value is not in the map are left out and counted.";

#[derive(Clone, Copy, ValueEnum)]
enum LabelFrom {
    /// The `label` field or column.
    Label,
    /// WordPress wp:comment_approved (1, 0, spam, trash).
    Approved,
    /// WordPress akismet_result (true, false).
    AkismetResult,
    /// WordPress wp:comment_type (comment, pingback, trackback).
    CommentType,
    /// Disqus isSpam (true, false).
    IsSpam,
    /// Disqus isDeleted (true, false).
    IsDeleted,
    /// Reddit subreddit.
    Subreddit,
}

/// Where labeled rows come from.
#[derive(Args)]
struct LabelArgs {
    /// Input format, instead of detecting it.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// JSONL field / CSV column holding the label.
    #[arg(long, default_value = "label", value_name = "NAME")]
    label_field: String,
    /// JSONL field / CSV column holding the comment text. Left at the default, an input
    /// without `text` is read from the first of `body`, `comment_text`, `comment_content`,
    /// `comment_body`, `comment`, `content`, `message`, `raw_message` it has (the other
    /// fields have such aliases too: see the README).
    #[arg(long, default_value = "text", value_name = "NAME")]
    text_field: String,
    /// Take labels from this export field, through --label-map.
    #[arg(long, value_enum, default_value = "label")]
    label_from: LabelFrom,
    /// VALUE=LABEL pairs for --label-from, e.g. `spam=off_topic,1=substantive`.
    #[arg(long, value_delimiter = ',', value_name = "VALUE=LABEL")]
    label_map: Vec<String>,
}

impl LabelArgs {
    fn options(&self, split: &str) -> Result<LabeledOptions> {
        let input = InputOptions {
            format: self.format.map(Format::from),
            fields: FieldMap {
                label: self.label_field.clone(),
                text: self.text_field.clone(),
                ..FieldMap::default()
            },
        };
        let field = match self.label_from {
            LabelFrom::Label => ExportField::Label,
            LabelFrom::Approved => ExportField::Approved,
            LabelFrom::AkismetResult => ExportField::AkismetResult,
            LabelFrom::CommentType => ExportField::CommentType,
            LabelFrom::IsSpam => ExportField::IsSpam,
            LabelFrom::IsDeleted => ExportField::IsDeleted,
            LabelFrom::Subreddit => ExportField::Subreddit,
        };
        let labels = if self.label_map.is_empty() {
            if field != ExportField::Label {
                bail!("--label-from needs --label-map VALUE=LABEL,...");
            }
            LabelSource::Field
        } else {
            let map = self
                .label_map
                .iter()
                .map(|pair| {
                    let (value, label) = pair.split_once('=').with_context(|| {
                        format!("--label-map entry {pair:?} is not VALUE=LABEL")
                    })?;
                    Ok((value.to_owned(), label.parse::<Label>()?))
                })
                .collect::<Result<Vec<_>>>()?;
            for (k, (value, _)) in map.iter().enumerate() {
                if map[..k].iter().any(|(earlier, _)| earlier == value) {
                    bail!("--label-map maps {value:?} twice");
                }
            }
            LabelSource::Export { field, map }
        };
        Ok(LabeledOptions {
            input,
            split: SplitFilter::parse(split),
            labels,
        })
    }

    /// Reads the labeled rows, saying on stderr how many were left out.
    fn read(&self, data: &Path, split: &str) -> Result<Vec<(Comment<'static>, Label)>> {
        Ok(self.read_with_sources(data, split, None)?.rows)
    }

    /// Like `read`, keeping each row's source, taken from `source_field` when given.
    fn read_with_sources(
        &self,
        data: &Path,
        split: &str,
        source_field: Option<&str>,
    ) -> Result<comment_sieve::corpus::Labeled> {
        let mut options = self.options(split)?;
        if let Some(field) = source_field {
            options.input.fields.source = field.to_owned();
        }
        let labeled = read_labeled_with(data, &options)?;
        if labeled.unlabeled > 0 || labeled.skipped > 0 {
            eprintln!(
                "comment-sieve: left out {} comments without a mapped label and {} deleted upstream",
                labeled.unlabeled, labeled.skipped
            );
        }
        if labeled.rows.is_empty() {
            bail!(
                "{}: no labeled rows in split {split:?} (use --split all for files without a split field)",
                data.display()
            );
        }
        Ok(labeled)
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum WeightArg {
    Count,
    Binary,
    Sublinear,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Multinomial,
    Complement,
}

#[derive(Clone, Copy, ValueEnum)]
enum PriorsArg {
    Learned,
    Uniform,
}

/// Training settings; the defaults are those of the shipped model.
#[derive(Args)]
struct TrainArgs {
    /// Naive Bayes smoothing α (> 0).
    #[arg(long)]
    alpha: Option<f64>,
    /// Longest word n-gram (1 = words only, 2 = words and word pairs).
    #[arg(long)]
    ngram_max: Option<u8>,
    /// Add a `~prefix` term of this many characters for every word that long (0 = off).
    #[arg(long)]
    prefix_len: Option<u8>,
    /// Pair every second-person word (you, your, u, ur, ...) with each of the next this many
    /// words as a `you>word` term (0 = off).
    #[arg(long)]
    target_window: Option<u8>,
    /// Weigh training rows by their source (the `source` field): `balance[:P]` gives each
    /// class of a source the same total weight (to the power P, default 1), keeping the
    /// source's total; `equal` gives every source the same total; `NAME=W,...` multiplies the
    /// rows of the named sources (`NAME:LABEL=W`: only that source's rows of that label). Cross-validation still scores every held-out row once.
    #[arg(long, value_name = "SPEC")]
    source_weights: Option<String>,
    /// Keep terms seen in at least this many training comments.
    #[arg(long)]
    min_df: Option<u32>,
    /// Keep at most this many terms.
    #[arg(long)]
    max_features: Option<usize>,
    /// Per-comment term weight.
    #[arg(long, value_enum)]
    weight: Option<WeightArg>,
    /// Multiply weights by inverse document frequency (true/false).
    #[arg(long)]
    idf: Option<bool>,
    /// Supervised term weighting: also weigh each term by how unevenly the classes use it,
    /// `SMOOTHING,POWER` (default 2,0.75), or `off` for idf alone.
    #[arg(long, value_name = "S,P|off")]
    class_weighting: Option<String>,
    /// Scale each comment's vector to unit length (true/false).
    #[arg(long)]
    l2: Option<bool>,
    /// Class priors.
    #[arg(long, value_enum)]
    priors: Option<PriorsArg>,
    /// Naive Bayes variant.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Fixed class prior weights `abusive,off_topic,substantive` (overrides --priors).
    #[arg(long, value_delimiter = ',', value_name = "A,O,S")]
    prior_weights: Option<Vec<f64>>,
    /// Keep the raw naive Bayes probabilities: no temperature scaling fitted on out-of-fold
    /// predictions of the training rows.
    #[arg(long)]
    no_calibration: bool,
    /// Don't fold obscured spellings of abusive words (f4ck, f*ck, f u c k) before counting.
    #[arg(long)]
    no_fold_evasions: bool,
    /// Context similarity buckets per kind (0 = no post-aware features).
    #[arg(long)]
    context_buckets: Option<u8>,
    /// Weight of a context token in a comment's row.
    #[arg(long)]
    context_weight: Option<f64>,
    /// Which contexts to use: any of post, parent, thread, and the metadata links (the number
    /// of links in the comment: 0, 1, 2 or more) and author-url (whether the author gave a
    /// website, for inputs that have the field).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    context_kinds: Option<Vec<ContextKindArg>>,
    /// How context tokens are scored: conditional on the context being there, or as
    /// multinomial terms.
    #[arg(long, value_enum)]
    context_scoring: Option<ContextScoringArg>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ContextScoringArg {
    Conditional,
    Multinomial,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ContextKindArg {
    Post,
    Parent,
    Thread,
    Links,
    AuthorUrl,
}

impl TrainArgs {
    /// The training weight of each row under --source-weights, or `None` without it.
    fn row_weights(
        &self,
        sources: &[Option<String>],
        labels: &[Label],
    ) -> Result<Option<Vec<f64>>> {
        let Some(spec) = self.source_weights.as_deref() else {
            return Ok(None);
        };
        let source_of = |i: usize| sources[i].as_deref().unwrap_or("");
        let mut per_source: std::collections::BTreeMap<&str, [usize; Label::COUNT]> =
            Default::default();
        for (i, l) in labels.iter().enumerate() {
            per_source.entry(source_of(i)).or_default()[l.index()] += 1;
        }
        let n_sources = per_source.len() as f64;
        let n = labels.len() as f64;
        let weights: Vec<f64> = if let Some(power) = spec.strip_prefix("balance") {
            let power: f64 = match power.strip_prefix(':') {
                Some(p) => match p.parse::<f64>() {
                    Ok(p) if p.is_finite() => p,
                    _ => bail!("--source-weights: balance:P needs a finite number, not {p:?}"),
                },
                None if power.is_empty() => 1.0,
                None => bail!("--source-weights: unknown spec {spec:?}"),
            };
            (0..labels.len())
                .map(|i| {
                    let counts = per_source[source_of(i)];
                    let total: usize = counts.iter().sum();
                    let present = counts.iter().filter(|&&c| c > 0).count() as f64;
                    let raw = |c: usize| (total as f64 / (present * c as f64)).powf(power);
                    // Rescale so the source keeps its total weight.
                    let mass: f64 = counts
                        .iter()
                        .filter(|&&c| c > 0)
                        .map(|&c| c as f64 * raw(c))
                        .sum();
                    raw(counts[labels[i].index()]) * total as f64 / mass
                })
                .collect()
        } else if spec == "equal" {
            (0..labels.len())
                .map(|i| {
                    let total: usize = per_source[source_of(i)].iter().sum();
                    n / (n_sources * total as f64)
                })
                .collect()
        } else {
            let mut factor: std::collections::HashMap<&str, f64> = Default::default();
            for part in spec.split(',') {
                let (name, w) = part
                    .split_once('=')
                    .with_context(|| format!("--source-weights: bad part {part:?}"))?;
                let w: f64 = w
                    .parse()
                    .with_context(|| format!("--source-weights: bad weight in {part:?}"))?;
                if !(w.is_finite() && w >= 0.0) {
                    bail!("--source-weights: weight in {part:?} must be finite and non-negative");
                }
                factor.insert(name, w);
            }
            (0..labels.len())
                .map(|i| {
                    let keyed = format!("{}:{}", source_of(i), labels[i].as_str());
                    factor
                        .get(keyed.as_str())
                        .or_else(|| factor.get(source_of(i)))
                        .copied()
                        .unwrap_or(1.0)
                })
                .collect()
        };
        Ok(Some(weights))
    }

    fn params(&self) -> Result<ClassifierParams> {
        let mut p = ClassifierParams::default();
        if let Some(a) = self.alpha {
            p.alpha = a;
        }
        if let Some(n) = self.ngram_max {
            p.vectorizer.ngram_range.1 = n;
        }
        if let Some(n) = self.prefix_len {
            p.vectorizer.prefix_len = n;
        }
        if let Some(n) = self.target_window {
            p.vectorizer.target_window = n;
        }
        if let Some(m) = self.min_df {
            p.vocabulary.min_df = m;
        }
        if self.max_features.is_some() {
            p.vocabulary.max_features = self.max_features;
        }
        if let Some(w) = self.weight {
            p.vectorizer.term_weight = match w {
                WeightArg::Count => TermWeight::Count,
                WeightArg::Binary => TermWeight::Binary,
                WeightArg::Sublinear => TermWeight::Sublinear,
            };
        }
        if let Some(i) = self.idf {
            p.vectorizer.idf = i;
        }
        if let Some(spec) = &self.class_weighting {
            p.class_weighting = parse_class_weighting(spec)?;
        }
        if let Some(l) = self.l2 {
            p.vectorizer.l2_normalize = l;
        }
        if let Some(pr) = self.priors {
            p.priors = match pr {
                PriorsArg::Learned => ClassPriors::Learned,
                PriorsArg::Uniform => ClassPriors::Uniform,
            };
        }
        if let Some(k) = self.kind {
            p.kind = match k {
                KindArg::Multinomial => NaiveBayesKind::Multinomial,
                KindArg::Complement => NaiveBayesKind::Complement,
            };
        }
        if let Some(w) = &self.prior_weights {
            let [a, o, s] = w[..] else {
                bail!("--prior-weights takes three numbers: abusive,off_topic,substantive");
            };
            p.priors = ClassPriors::Fixed([a, o, s]);
        }
        if self.no_calibration {
            p.calibration = Calibration::None;
        }
        if self.no_fold_evasions {
            p.normalizer.fold_evasions = false;
        }
        if let Some(b) = self.context_buckets {
            p.context.buckets = b;
        }
        if let Some(w) = self.context_weight {
            p.context.weight = w;
        }
        if let Some(scoring) = self.context_scoring {
            p.context.scoring = match scoring {
                ContextScoringArg::Conditional => ContextScoring::Conditional,
                ContextScoringArg::Multinomial => ContextScoring::Multinomial,
            };
        }
        if let Some(kinds) = &self.context_kinds {
            p.context.post = kinds.contains(&ContextKindArg::Post);
            p.context.parent = kinds.contains(&ContextKindArg::Parent);
            p.context.thread = kinds.contains(&ContextKindArg::Thread);
            p.context.links = kinds.contains(&ContextKindArg::Links);
            p.context.author_url = kinds.contains(&ContextKindArg::AuthorUrl);
        }
        Ok(p)
    }
}

/// Tells glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel:
/// blocks up to 32 MiB come from the heap rather than from their own mappings, and the heap is
/// not trimmed below 256 MiB of free space. `score` allocates and frees a chunk's worth of
/// records, vectors and output every 4,096 comments; by default each large block was mapped,
/// faulted in page by page and unmapped again. Peak memory does not change (the heap only keeps
/// what a chunk used: 51 MB at 1,000,000 comments with and without). On a 200,000-comment dump,
/// side by side with the binary without it (hyperfine, 10 and 12 runs), `score` ran 1.08× and
/// 1.07× faster, its system time halved (0.22 s to 0.11 s). Only the binary does this: the
/// library leaves the allocator of the program that links it alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only sets allocator parameters; it is called first thing in `main`,
    // before any other thread exists. A parameter it refuses is left at its default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output went away (`| head`): stop quietly, like other Unix tools.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("comment-sieve: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `result` with `what` and the model file's path as context, unless its error already names
/// the path (an I/O error does).
fn with_model_path<T>(
    result: Result<T, comment_sieve::ModelError>,
    what: &str,
    path: &Path,
) -> Result<T> {
    result.map_err(|e| match e {
        comment_sieve::ModelError::Io { .. } => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(format!("{what} {}", path.display())),
    })
}

/// The text of a `classify` or `explain` argument: `-` reads standard input.
fn text_argument(text: &str) -> Result<String> {
    if text != "-" {
        return Ok(text.to_owned());
    }
    let mut read = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut read)
        .context("reading the comment from standard input")?;
    Ok(read)
}

fn run(cli: Cli) -> Result<u8> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .context("setting up the thread pool")?;
    }
    let load = || -> Result<Classifier> {
        match &cli.model {
            Some(path) => with_model_path(Classifier::load(path), "loading model", path),
            None => Classifier::embedded().context("loading the embedded model"),
        }
    };
    if cli.model.is_some() && matches!(cli.command, Command::Train { .. } | Command::Cv { .. }) {
        bail!(
            "--model names a model to use; train and cv make their own (train writes it with -o FILE)"
        );
    }
    match &cli.command {
        Command::Classify { text, json } => {
            let text = text_argument(text)?;
            let verdict = load()?.classify(&Comment::new("cli", text.as_str()));
            if *json {
                outln!("{}", serde_json::to_string(&verdict)?);
            } else {
                print_verdict(&verdict)?;
            }
            Ok(EXIT_OK)
        }
        Command::Explain { text, top, json } => {
            let text = text_argument(text)?;
            let verdict = load()?.explain(&Comment::new("cli", text.as_str()));
            let shown = if *top == 0 {
                verdict.evidence().len()
            } else {
                (*top).min(verdict.evidence().len())
            };
            if *json {
                let mut value = serde_json::to_value(&verdict)?;
                if let Some(list) = value.get_mut("evidence").and_then(|e| e.as_array_mut()) {
                    list.truncate(shown);
                    for (item, e) in list.iter_mut().zip(verdict.evidence()) {
                        item["text"] = text[e.span.clone()].into();
                    }
                }
                outln!("{}", serde_json::to_string(&value)?);
            } else {
                print_verdict(&verdict)?;
                print_evidence(&verdict, &text, shown)?;
            }
            Ok(EXIT_OK)
        }
        Command::Score {
            inputs,
            output,
            output_format,
            format,
            on_error,
            summary_json,
            quiet,
            fields,
        } => score(
            &load()?,
            &ScoreArgs {
                inputs,
                output: output.as_deref(),
                output_format: *output_format,
                options: fields.options(*format),
                on_error: *on_error,
                summary_json: summary_json.as_deref(),
                quiet: *quiet,
            },
        ),
        Command::Eval {
            data,
            split,
            json,
            post_subset,
            labels,
        } => {
            let classifier = load()?;
            let rows = labels.read(data, split)?;
            let comments: Vec<Comment> = rows.iter().map(|(c, _)| c.clone()).collect();
            let truth: Vec<Label> = rows.iter().map(|(_, l)| *l).collect();
            let verdicts = classifier.classify_batch(&comments);
            let predicted: Vec<Label> = verdicts.iter().map(|v| v.label).collect();
            let (ece, ece_uncalibrated) = calibrate::verdict_calibration_errors(&verdicts, &truth);
            let evaluation = Evaluation::new(&truth, &predicted)?;
            print_evaluation(
                &Scored {
                    evaluation: &evaluation,
                    ece,
                    ece_uncalibrated,
                    temperature: classifier.temperature(),
                },
                *json,
            )?;
            if *post_subset {
                print_post_subset(&comments, &truth, &predicted, *json)?;
            }
            Ok(EXIT_OK)
        }
        Command::Train {
            data,
            split,
            output,
            params,
            labels,
        } => {
            let labeled = labels.read_with_sources(data, split, Some("source"))?;
            let (comments, labels): (Vec<Comment>, Vec<Label>) = labeled.rows.into_iter().unzip();
            let weights = params.row_weights(&labeled.sources, &labels)?;
            let file_name = data
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let info = ModelInfo {
                created_by: format!("comment-sieve {}", env!("CARGO_PKG_VERSION")),
                training_data: format!("{file_name}, split {split}, {} rows", comments.len()),
                command: train_command(&file_name, split, params),
            };
            let classifier =
                params
                    .params()?
                    .train_weighted(&comments, &labels, weights.as_deref(), info)?;
            if classifier.vectorizer().vocabulary().is_empty() {
                bail!(
                    "no term passed the vocabulary settings (--min-df, --max-features, ...): a model \
                     without terms would give every comment the same verdict; nothing written"
                );
            }
            for label in Label::ALL {
                if !labels.contains(&label) {
                    eprintln!(
                        "comment-sieve: warning: no training row is labeled {label}: the model knows \
                         nothing of that class"
                    );
                }
            }
            with_model_path(classifier.save(output), "writing", output)?;
            eprintln!(
                "trained on {} comments, {} terms; wrote {}",
                comments.len(),
                classifier.vectorizer().vocabulary().len(),
                output.display()
            );
            Ok(EXIT_OK)
        }
        Command::Cv {
            data,
            split,
            folds,
            json,
            tune_offsets,
            post_subset,
            leave_one_source_out: loso,
            source_field,
            per_source,
            predictions,
            params,
            labels,
        } => {
            if *loso {
                if params.source_weights.is_some() {
                    bail!("--source-weights is not supported with --leave-one-source-out");
                }
                let labeled = labels.read_with_sources(data, split, Some(source_field))?;
                let result =
                    leave_one_source_out(&params.params()?, &labeled.rows, &labeled.sources)
                        .with_context(|| {
                            format!("leave-one-source-out on field `{source_field}`")
                        })?;
                print_loso(&result, *json)?;
                return Ok(EXIT_OK);
            }
            let labeled = labels.read_with_sources(data, split, Some(source_field))?;
            let (rows, sources) = (labeled.rows, labeled.sources);
            let folds = *folds as usize;
            if rows.len() < folds {
                bail!(
                    "{}: {} rows is fewer than {folds} folds",
                    data.display(),
                    rows.len()
                );
            }
            let classifier_params = params.params()?;
            let truth: Vec<Label> = rows.iter().map(|r| r.1).collect();
            let weights = params.row_weights(&sources, &truth)?;
            let cv = cross_validate_weighted(&classifier_params, &rows, weights.as_deref(), folds)?;
            print_evaluation(
                &Scored {
                    evaluation: &cv.evaluation,
                    ece: cv.ece(),
                    ece_uncalibrated: cv.ece_uncalibrated(),
                    temperature: None,
                },
                *json,
            )?;
            if *post_subset {
                let comments: Vec<Comment> = rows.iter().map(|(c, _)| c.clone()).collect();
                let predicted: Vec<Label> = cv
                    .joint_log_likelihoods
                    .iter()
                    .map(|j| Verdict::from_joint_log_likelihood(*j).label)
                    .collect();
                print_post_subset(&comments, &cv.truth, &predicted, *json)?;
            }
            if *per_source {
                print_per_source(&sources, &cv.truth, &cv.joint_log_likelihoods);
            }
            if let Some(path) = predictions {
                let mut out = String::new();
                for (((c, _), source), (t, j)) in rows
                    .iter()
                    .zip(&sources)
                    .zip(cv.truth.iter().zip(&cv.joint_log_likelihoods))
                {
                    out.push_str(&serde_json::to_string(&serde_json::json!({
                        "id": c.id,
                        "source": source,
                        "label": t.as_str(),
                        "jll": j,
                    }))?);
                    out.push('\n');
                }
                std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
            }
            if *tune_offsets {
                let (offsets, f1) = tune_class_offsets(&cv.joint_log_likelihoods, &cv.truth);
                match prior_weights_with_offsets(classifier_params.priors, offsets) {
                    Some(weights) => eprintln!(
                        "best class offsets {offsets:?}: macro-F1 {f1:.4}; train with --prior-weights {}",
                        weights.map(|w| format!("{w:.4}")).join(",")
                    ),
                    None => eprintln!(
                        "best class offsets {offsets:?} (to add to the learned priors' logarithms): macro-F1 {f1:.4}"
                    ),
                }
            }
            Ok(EXIT_OK)
        }
        Command::Model {
            command: ModelCommand::Inspect { json },
        } => {
            inspect(&load()?, *json)?;
            Ok(EXIT_OK)
        }
    }
}

/// The `--prior-weights` (substantive = 1) that give the joint log-likelihoods of a model
/// trained with `priors` plus `offsets`: the offsets add to the logarithms of the priors in
/// use, so the weights are those priors times `exp(offset)`. `None` for learned priors, which
/// depend on the training rows.
fn prior_weights_with_offsets(
    priors: ClassPriors,
    offsets: [f64; Label::COUNT],
) -> Option<[f64; Label::COUNT]> {
    let base = match priors {
        ClassPriors::Fixed(weights) => weights,
        ClassPriors::Uniform => [1.0; Label::COUNT],
        ClassPriors::Learned => return None,
    };
    let s = Label::Substantive.index();
    let scale = (base[s] * offsets[s].exp()).recip();
    Some(std::array::from_fn(|c| base[c] * offsets[c].exp() * scale))
}

/// Out-of-fold counts per source, true label and predicted label, on stderr.
fn print_per_source(
    sources: &[Option<String>],
    truth: &[Label],
    joint_log_likelihoods: &[[f64; Label::COUNT]],
) {
    let mut counts: std::collections::BTreeMap<(&str, &str, &str), usize> = Default::default();
    for ((source, t), j) in sources.iter().zip(truth).zip(joint_log_likelihoods) {
        let predicted = Verdict::from_joint_log_likelihood(*j).label;
        *counts
            .entry((
                source.as_deref().unwrap_or("-"),
                t.as_str(),
                predicted.as_str(),
            ))
            .or_default() += 1;
    }
    for ((source, t, p), n) in counts {
        eprintln!("per-source {source} {t} -> {p}: {n}");
    }
}

/// `--class-weighting`'s value: `off`, or `SMOOTHING,POWER`.
fn parse_class_weighting(spec: &str) -> Result<Option<ClassWeighting>> {
    if spec == "off" {
        return Ok(None);
    }
    let numbers: Vec<f64> = spec
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--class-weighting {spec:?}: expected SMOOTHING,POWER or off"))?;
    let [smoothing, power] = numbers[..] else {
        bail!("--class-weighting {spec:?}: expected two numbers SMOOTHING,POWER, or off");
    };
    let weighting = ClassWeighting { smoothing, power };
    weighting
        .validate()
        .with_context(|| format!("--class-weighting {spec:?}"))?;
    Ok(Some(weighting))
}

/// The training command as a user would retype it (settings that differ from the defaults are
/// spelled out).
fn train_command(file_name: &str, split: &str, args: &TrainArgs) -> String {
    let mut cmd = format!("comment-sieve train {file_name} --split {split} -o MODEL");
    let mut add = |flag: &str, value: Option<String>| {
        if let Some(v) = value {
            cmd.push_str(&format!(" --{flag} {v}"));
        }
    };
    add("alpha", args.alpha.map(|v| v.to_string()));
    add("ngram-max", args.ngram_max.map(|v| v.to_string()));
    add("prefix-len", args.prefix_len.map(|v| v.to_string()));
    add("target-window", args.target_window.map(|v| v.to_string()));
    add("source-weights", args.source_weights.clone());
    add("min-df", args.min_df.map(|v| v.to_string()));
    add("max-features", args.max_features.map(|v| v.to_string()));
    add(
        "weight",
        args.weight.map(|w| {
            match w {
                WeightArg::Count => "count",
                WeightArg::Binary => "binary",
                WeightArg::Sublinear => "sublinear",
            }
            .to_string()
        }),
    );
    add("idf", args.idf.map(|v| v.to_string()));
    add("class-weighting", args.class_weighting.clone());
    add("l2", args.l2.map(|v| v.to_string()));
    add(
        "priors",
        args.priors.map(|p| {
            match p {
                PriorsArg::Learned => "learned",
                PriorsArg::Uniform => "uniform",
            }
            .to_string()
        }),
    );
    add(
        "kind",
        args.kind.map(|k| {
            match k {
                KindArg::Multinomial => "multinomial",
                KindArg::Complement => "complement",
            }
            .to_string()
        }),
    );
    add(
        "prior-weights",
        args.prior_weights
            .as_ref()
            .map(|w| w.iter().map(f64::to_string).collect::<Vec<_>>().join(",")),
    );
    add(
        "context-buckets",
        args.context_buckets.map(|v| v.to_string()),
    );
    add("context-weight", args.context_weight.map(|v| v.to_string()));
    add(
        "context-scoring",
        args.context_scoring.map(|s| {
            match s {
                ContextScoringArg::Conditional => "conditional",
                ContextScoringArg::Multinomial => "multinomial",
            }
            .to_string()
        }),
    );
    add(
        "context-kinds",
        args.context_kinds.as_ref().map(|kinds| {
            kinds
                .iter()
                .map(|k| match k {
                    ContextKindArg::Post => "post",
                    ContextKindArg::Parent => "parent",
                    ContextKindArg::Thread => "thread",
                    ContextKindArg::Links => "links",
                    ContextKindArg::AuthorUrl => "author-url",
                })
                .collect::<Vec<_>>()
                .join(",")
        }),
    );
    if args.no_calibration {
        cmd.push_str(" --no-calibration");
    }
    if args.no_fold_evasions {
        cmd.push_str(" --no-fold-evasions");
    }
    cmd
}

fn print_verdict(verdict: &Verdict) -> Result<()> {
    outln!("{}", verdict.label);
    for label in Label::ALL {
        outln!(
            "  {:<12} {:.4}",
            label.as_str(),
            verdict.probabilities.get(label)
        );
    }
    Ok(())
}

/// What a `ctx:<kind>:<bucket>` token says, for the "in the text" column; `None` for a term of
/// the text.
fn context_token_meaning(term: &str) -> Option<String> {
    let (kind, bucket) = term.strip_prefix("ctx:")?.rsplit_once(':')?;
    Some(match (kind, bucket) {
        ("links", "0") => "(no link)".into(),
        ("links", "1") => "(one link)".into(),
        ("links", _) => "(two links or more)".into(),
        ("author_url", "0") => "(no author website)".into(),
        ("author_url", _) => "(author gave a website)".into(),
        (kind, bucket) => format!("({kind} similarity {bucket})"),
    })
}

fn print_evidence(verdict: &Verdict, text: &str, shown: usize) -> Result<()> {
    outln!();
    outln!(
        "  {:<22} {:<24} {:>9} {:>9} {:>11}",
        "term",
        "in the text",
        "abusive",
        "off_topic",
        "substantive"
    );
    for e in verdict.evidence().iter().take(shown) {
        let source: String = match context_token_meaning(&e.term) {
            Some(meaning) => meaning,
            None => text[e.span.clone()].chars().take(24).collect(),
        };
        let term: String = e.term.chars().take(22).collect();
        outln!(
            "  {:<22} {:<24} {:>+9.3} {:>+9.3} {:>+11.3}",
            term,
            source,
            e.ratio(Label::Abusive),
            e.ratio(Label::OffTopic),
            e.ratio(Label::Substantive)
        );
    }
    Ok(())
}

/// The evaluation of the rows whose comment has a post id.
fn print_post_subset(
    comments: &[Comment],
    truth: &[Label],
    predicted: &[Label],
    json: bool,
) -> Result<()> {
    let keep: Vec<usize> = (0..comments.len())
        .filter(|&i| comments[i].post_id().is_some())
        .collect();
    if keep.is_empty() {
        bail!("no row has a post id");
    }
    let t: Vec<Label> = keep.iter().map(|&i| truth[i]).collect();
    let p: Vec<Label> = keep.iter().map(|&i| predicted[i]).collect();
    if !json {
        println!(
            "\nrows with a post id ({} of {}):",
            keep.len(),
            comments.len()
        );
    }
    let evaluation = Evaluation::new(&t, &p)?;
    if json {
        outln!("{}", serde_json::to_string(&evaluation)?);
    } else {
        print!("{}", evaluation.report());
    }
    Ok(())
}

/// An evaluation with the calibration of the probabilities behind it.
#[derive(Serialize)]
struct Scored<'a> {
    #[serde(flatten)]
    evaluation: &'a Evaluation,
    /// Top-label expected calibration error (15 bins) of the probabilities.
    ece: f64,
    /// The same for the raw softmax of the joint log-likelihoods.
    ece_uncalibrated: f64,
    /// The model's temperature, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
}

fn print_evaluation(scored: &Scored, json: bool) -> Result<()> {
    if json {
        outln!("{}", serde_json::to_string(scored)?);
    } else {
        print!("{}", scored.evaluation.report());
        let temperature = scored
            .temperature
            .map_or_else(|| "none".to_string(), |t| format!("{t:.4}"));
        outln!(
            "\nECE (top-label, {} bins) {:.4}   uncalibrated {:.4}   temperature {temperature}",
            calibrate::ECE_BINS,
            scored.ece,
            scored.ece_uncalibrated
        );
    }
    Ok(())
}

fn print_loso(result: &LeaveOneSourceOut, json: bool) -> Result<()> {
    if json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            result: &'a LeaveOneSourceOut,
            mean_macro_f1_present: f64,
        }
        let out = Out {
            result,
            mean_macro_f1_present: result.mean_macro_f1_present(),
        };
        outln!("{}", serde_json::to_string(&out)?);
        return Ok(());
    }
    outln!(
        "{:<16} {:>6} {:>6} {:>9} {:>9} {:>9} {:>11} {:>7} {:>7} {:>7}",
        "held-out source",
        "n",
        "train",
        "macro-F1*",
        "abusive",
        "off_topic",
        "substantive",
        "ECE",
        "ECE raw",
        "T"
    );
    for s in &result.sources {
        let f1 = |label: Label| {
            let c = &s.evaluation.per_class[&label];
            if c.support > 0 {
                format!("{:.4}", c.f1)
            } else {
                "-".to_string()
            }
        };
        let t = s
            .temperature
            .map_or_else(|| "-".to_string(), |t| format!("{t:.3}"));
        outln!(
            "{:<16} {:>6} {:>6} {:>9.4} {:>9} {:>9} {:>11} {:>7.4} {:>7.4} {:>7}",
            s.source,
            s.n,
            s.train_rows,
            s.macro_f1_present,
            f1(Label::Abusive),
            f1(Label::OffTopic),
            f1(Label::Substantive),
            s.ece,
            s.ece_uncalibrated,
            t
        );
    }
    outln!(
        "\nmean macro-F1* {:.4}   (* mean F1 over the classes present in the held-out source; \
         - = class absent)",
        result.mean_macro_f1_present()
    );
    Ok(())
}

struct ScoreArgs<'a> {
    inputs: &'a [PathBuf],
    output: Option<&'a Path>,
    output_format: OutputFormat,
    options: InputOptions,
    on_error: OnError,
    summary_json: Option<&'a Path>,
    quiet: bool,
}

/// One output record: a verdict, a skipped comment or an error, flattened.
#[derive(Serialize, Default, Clone)]
struct OutputRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<Label>,
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilities: Option<Probabilities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<Skip>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    export: Option<&'a ExportFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    position: Option<&'a Position>,
}

impl<'a> OutputRecord<'a> {
    fn new(outcome: &'a Outcome) -> Self {
        let empty = OutputRecord::default();
        let with_record = |record: &'a comment_sieve::input::Record| OutputRecord {
            id: Some(&record.comment.id),
            post_id: record.comment.post_id(),
            parent_id: record.comment.parent_id.as_deref(),
            export: Some(&record.export),
            ..empty
        };
        match outcome {
            Outcome::Verdict { record, verdict } => OutputRecord {
                label: Some(verdict.label),
                probabilities: Some(verdict.probabilities),
                ..with_record(record)
            },
            Outcome::Skipped { record, skip } => OutputRecord {
                skipped: Some(*skip),
                ..with_record(record)
            },
            Outcome::Error(e) => OutputRecord {
                id: e.id.as_deref(),
                error: Some(e.to_string()),
                position: Some(&e.position),
                ..empty
            },
        }
    }
}

impl OutputRecord<'_> {
    /// Appends the record as one JSON object, byte for byte as `serde_json::to_writer` writes
    /// it. A record with no export field, error or position (every verdict of a plain dump) is
    /// written field by field, with serde_json writing each value; with `#[serde(flatten)]`,
    /// serde would write it through a generic map serializer that costs several times more.
    /// Other records go through serde.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let plain = self.error.is_none()
            && self.position.is_none()
            && self.export.is_none_or(|e| *e == ExportFields::default());
        if !plain {
            return serde_json::to_writer(out, self);
        }
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, name: &str| {
            out.extend_from_slice(if first { b"{\"" } else { b",\"" });
            first = false;
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        };
        if let Some(id) = self.id {
            key(out, "id");
            serde_json::to_writer(&mut *out, id)?;
        }
        if let Some(label) = self.label {
            key(out, "label");
            serde_json::to_writer(&mut *out, &label)?;
        }
        if let Some(p) = self.probabilities {
            key(out, "probabilities");
            out.extend_from_slice(b"{\"abusive\":");
            serde_json::to_writer(&mut *out, &p.abusive)?;
            out.extend_from_slice(b",\"off_topic\":");
            serde_json::to_writer(&mut *out, &p.off_topic)?;
            out.extend_from_slice(b",\"substantive\":");
            serde_json::to_writer(&mut *out, &p.substantive)?;
            out.push(b'}');
        }
        if let Some(skip) = self.skipped {
            key(out, "skipped");
            serde_json::to_writer(&mut *out, &skip)?;
        }
        if let Some(post_id) = self.post_id {
            key(out, "post_id");
            serde_json::to_writer(&mut *out, post_id)?;
        }
        if let Some(parent_id) = self.parent_id {
            key(out, "parent_id");
            serde_json::to_writer(&mut *out, parent_id)?;
        }
        if first {
            out.push(b'{');
        }
        out.push(b'}');
        Ok(())
    }
}

/// Writes outcomes as JSONL or CSV.
enum RecordWriter {
    Jsonl(BufWriter<Box<dyn Write>>),
    Csv(Box<csv::Writer<Box<dyn Write>>>),
}

const CSV_HEADER: [&str; 10] = [
    "id",
    "label",
    "abusive",
    "off_topic",
    "substantive",
    "post_id",
    "parent_id",
    "skipped",
    "error",
    "position",
];

impl RecordWriter {
    fn new(out: Box<dyn Write>, format: OutputFormat) -> Result<Self> {
        Ok(match format {
            OutputFormat::Jsonl => RecordWriter::Jsonl(BufWriter::with_capacity(1 << 16, out)),
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_HEADER)?;
                RecordWriter::Csv(Box::new(w))
            }
        })
    }

    fn write(&mut self, outcome: &Outcome) -> Result<()> {
        let record = OutputRecord::new(outcome);
        match self {
            RecordWriter::Jsonl(w) => {
                let mut line = Vec::with_capacity(256);
                record.write_json(&mut line)?;
                line.push(b'\n');
                w.write_all(&line)?;
            }
            RecordWriter::Csv(w) => {
                let p = record.probabilities.map(|p| p.to_array());
                let prob = |i: usize| p.map(|p| p[i].to_string()).unwrap_or_default();
                w.write_record([
                    record.id.unwrap_or_default(),
                    record.label.map(Label::as_str).unwrap_or_default(),
                    &prob(0),
                    &prob(1),
                    &prob(2),
                    record.post_id.unwrap_or_default(),
                    record.parent_id.unwrap_or_default(),
                    match record.skipped {
                        Some(Skip::Deleted) => "deleted",
                        Some(Skip::Removed) => "removed",
                        None => "",
                    },
                    record.error.as_deref().unwrap_or_default(),
                    &record.position.map(ToString::to_string).unwrap_or_default(),
                ])?;
            }
        }
        Ok(())
    }

    /// Writes an already serialized JSONL line.
    fn write_raw(&mut self, line: &[u8]) -> Result<()> {
        match self {
            RecordWriter::Jsonl(w) => w.write_all(line)?,
            RecordWriter::Csv(_) => anyhow::bail!("internal error: a JSONL line for CSV output"),
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            RecordWriter::Jsonl(mut w) => w.flush()?,
            RecordWriter::Csv(mut w) => w.flush()?,
        }
        Ok(())
    }
}

/// Stops a run at the first unreadable comment (`--on-error fail`).
#[derive(Debug, thiserror::Error)]
enum StopRun {
    #[error("{0}")]
    Failed(comment_sieve::input::RecordError),
    #[error(transparent)]
    Output(#[from] anyhow::Error),
}

fn progress_bar(quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    let style = ProgressStyle::with_template(
        "{spinner} {human_pos} comments scored ({per_sec}) {elapsed} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// Scores every input into one output stream, in order; bounded memory.
fn score(classifier: &Classifier, args: &ScoreArgs) -> Result<u8> {
    let out: Box<dyn Write> = match args.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = RecordWriter::new(out, args.output_format)?;
    let stdin = [PathBuf::from("-")];
    let inputs: &[PathBuf] = if args.inputs.is_empty() {
        &stdin
    } else {
        args.inputs
    };
    let bar = progress_bar(args.quiet);
    let scorer = BatchScorer::new(classifier);
    let mut summary = Summary::default();
    for path in inputs {
        let input = comment_sieve::input::open(Some(path), &args.options)?;
        if let Some(bar) = &bar {
            bar.set_message(input.source().to_string());
        }
        let format = input.format();
        // This input's outcomes so far, for the summary when `--on-error fail` stops the run.
        let mut partial = Summary::default();
        let jsonl = args.output_format == OutputFormat::Jsonl;
        // JSONL lines are serialized in the parallel stage; CSV rows in order below.
        let render = |outcome: &Outcome| -> Option<Vec<u8>> {
            if !jsonl {
                return None;
            }
            // Most lines are under 256 bytes: one allocation.
            let mut line = Vec::with_capacity(256);
            OutputRecord::new(outcome).write_json(&mut line).ok()?;
            line.push(b'\n');
            Some(line)
        };
        let run = scorer.run_rendered(input, format, render, |outcome, line| {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            if args.on_error == OnError::Fail {
                partial.count(&outcome, format);
            }
            if let Outcome::Error(e) = &outcome {
                match args.on_error {
                    OnError::Fail => return Err(StopRun::Failed(e.clone())),
                    OnError::Skip => return Ok(()),
                    OnError::Record => {}
                }
            }
            match line {
                Some(line) => writer.write_raw(&line),
                None => writer.write(&outcome),
            }
            .map_err(StopRun::Output)
        });
        match run {
            Ok(s) => summary.merge(&s),
            Err(StopRun::Failed(e)) => {
                writer.finish()?;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                eprintln!(
                    "comment-sieve: stopped at the first unreadable comment (--on-error fail): {e}"
                );
                summary.merge(&partial);
                write_summary_json(args.summary_json, &summary, Some(e.to_string()))?;
                return Ok(EXIT_SOME_FAILED);
            }
            Err(StopRun::Output(e)) => return Err(e.context("writing output")),
        }
    }
    writer.finish().context("writing output")?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if !args.quiet {
        eprintln!("{}", summary_line(&summary));
    }
    write_summary_json(args.summary_json, &summary, None)?;
    if summary.errors > 0 {
        return Ok(EXIT_SOME_FAILED);
    }
    Ok(EXIT_OK)
}

/// Writes the run's summary as JSON to `path`, if given. `stopped` is the error that ended a
/// run under `--on-error fail`: then the counts are those up to it, the error included.
fn write_summary_json(
    path: Option<&Path>,
    summary: &Summary,
    stopped: Option<String>,
) -> Result<()> {
    #[derive(Serialize)]
    struct SummaryJson<'a> {
        #[serde(flatten)]
        summary: &'a Summary,
        #[serde(skip_serializing_if = "Option::is_none")]
        stopped: Option<String>,
    }
    let Some(path) = path else {
        return Ok(());
    };
    let json = serde_json::to_string_pretty(&SummaryJson { summary, stopped })?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

fn summary_line(s: &Summary) -> String {
    let join = |parts: Vec<String>| {
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    };
    let labels = join(s.labels.iter().map(|(k, v)| format!("{k} {v}")).collect());
    let formats = join(s.formats.iter().map(|(k, v)| format!("{k} {v}")).collect());
    let skipped: u64 = s.skipped.values().sum();
    let mut line = format!(
        "comment-sieve: {} comments ({formats}): {labels}; {skipped} skipped; {} failed",
        s.records, s.errors
    );
    if s.errors > 0 {
        line.push_str(" (see the error records)");
    }
    line
}

#[derive(Serialize)]
struct Inspection<'a> {
    format_version: u16,
    info: &'a ModelInfo,
    temperature: Option<f64>,
    /// Post-aware context features: token weight, scoring, bucket edges per kind.
    context: ContextView<'a>,
    normalizer: NormalizerConfig,
    /// Whether the normalizer folds obscured spellings (stored apart from the rest of the
    /// normalizer settings, from model format 4 on).
    fold_evasions: bool,
    vectorizer: &'a VectorizerConfig,
    /// Supervised term weighting (`null`: idf alone).
    class_weighting: Option<ClassWeighting>,
    alpha: f64,
    priors: ClassPriors,
    labels: [Label; Label::COUNT],
    class_documents: [u64; Label::COUNT],
    n_terms: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    vocabulary: Option<Vec<TermView<'a>>>,
}

/// [`comment_sieve::ContextFeatures`] with every kind, links included.
#[derive(Serialize)]
struct ContextView<'a> {
    weight: f64,
    scoring: comment_sieve::ContextScoring,
    /// The kinds, in the order of `edges`.
    kinds: [&'static str; ContextKind::COUNT],
    /// Bucket edges per kind; null for a kind the model does not use.
    edges: [Option<&'a [f64]>; ContextKind::COUNT],
}

impl<'a> ContextView<'a> {
    fn of(context: &'a comment_sieve::ContextFeatures) -> Self {
        ContextView {
            weight: context.weight(),
            scoring: context.scoring(),
            kinds: ContextKind::ALL.map(ContextKind::as_str),
            edges: ContextKind::ALL.map(|k| context.edges(k)),
        }
    }
}

#[derive(Serialize)]
struct TermView<'a> {
    term: &'a str,
    document_frequency: u32,
    /// With class weighting: the training comments of each class that hold the term.
    #[serde(skip_serializing_if = "Option::is_none")]
    class_documents: Option<[u32; Label::COUNT]>,
    /// Weighted counts per class, in the order of `labels`.
    counts: [f64; Label::COUNT],
}

fn inspect(classifier: &Classifier, json: bool) -> Result<()> {
    let v = classifier.vectorizer();
    let m = classifier.model();
    let bytes_version = {
        let bytes = classifier.to_bytes();
        [bytes[8], bytes[9]]
    };
    let mut view = Inspection {
        // The version this model is written as (see `model_file`).
        format_version: u16::from_le_bytes([bytes_version[0], bytes_version[1]]),
        info: classifier.info(),
        temperature: classifier.temperature(),
        context: ContextView::of(classifier.context()),
        normalizer: classifier.normalizer().config(),
        fold_evasions: classifier.normalizer().config().fold_evasions,
        vectorizer: v.config(),
        class_weighting: v.class_frequencies().map(|f| f.weighting),
        alpha: m.hyper_params().alpha(),
        priors: m.hyper_params().priors(),
        labels: Label::ALL,
        class_documents: m.class_documents(),
        n_terms: v.vocabulary().len(),
        vocabulary: None,
    };
    if json {
        view.vocabulary = Some(
            v.vocabulary()
                .terms()
                .iter()
                .zip(v.document_frequency())
                .zip(m.feature_counts())
                .enumerate()
                .map(|(j, ((term, &df), counts))| TermView {
                    term,
                    document_frequency: df,
                    class_documents: v
                        .class_frequencies()
                        .and_then(|f| f.documents.get(j).copied()),
                    counts: counts.map(|q| q as f64 / comment_sieve::WEIGHT_SCALE),
                })
                .collect(),
        );
        let mut out = BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer(&mut out, &view)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        outln!("{}", serde_json::to_string_pretty(&view)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_weighting_flag_takes_two_positive_numbers_or_off() {
        assert_eq!(parse_class_weighting("off").unwrap(), None);
        assert_eq!(
            parse_class_weighting("2, 0.75").unwrap(),
            Some(ClassWeighting {
                smoothing: 2.0,
                power: 0.75
            })
        );
        for bad in ["", "2", "2,0.75,1", "0,1", "2,-1", "x,1", "inf,1", "2,NaN"] {
            let err = parse_class_weighting(bad).unwrap_err().to_string();
            assert!(err.contains("--class-weighting"), "{bad:?}: {err}");
        }
    }

    /// The hand-written JSON of output records is serde_json's, byte for byte.
    #[test]
    fn output_records_are_written_as_serde_writes_them() {
        let empty = OutputRecord::default();
        let export = ExportFields {
            subreddit: Some("r/x".into()),
            ..ExportFields::default()
        };
        let default_export = ExportFields::default();
        let position = Position::new("in.jsonl".into());
        let probabilities = [
            [
                0.010754561152427629,
                0.00002725401578779934,
                0.9892181848317847,
            ],
            [1.0, 0.0, 0.0],
            [1e-300, 5e-324, 1.0 - 1e-16],
            [1.0 / 3.0, 2.5e-7, 123456.789],
        ];
        let ids = [
            "c0",
            "",
            "quote \" back \\ slash",
            "tab\tnew\nline\u{1}",
            "é 😀 \u{7f}",
        ];
        let mut records = vec![empty.clone_with(|_| {})];
        for (i, id) in ids.iter().enumerate() {
            let p = probabilities[i % probabilities.len()];
            records.push(empty.clone_with(|r| {
                r.id = Some(id);
                r.label = Some(Label::ALL[i % Label::COUNT]);
                r.probabilities = Some(Probabilities::from_array(p));
                r.post_id = (i % 2 == 0).then_some(*id);
                r.parent_id = (i % 3 == 0).then_some("p\"1");
                r.export = (i % 2 == 1).then_some(&default_export);
            }));
            records.push(empty.clone_with(|r| {
                r.id = Some(id);
                r.skipped = Some(if i % 2 == 0 {
                    Skip::Deleted
                } else {
                    Skip::Removed
                });
                r.export = Some(&export);
            }));
            records.push(empty.clone_with(|r| {
                r.id = Some(id);
                r.error = Some(format!("bad {id}"));
                r.position = Some(&position);
            }));
            records.push(empty.clone_with(|r| r.parent_id = Some(id)));
        }
        for record in &records {
            let mut ours = Vec::new();
            record.write_json(&mut ours).expect("writes to memory");
            let theirs = serde_json::to_vec(record).expect("writes to memory");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
        }
    }

    impl<'a> OutputRecord<'a> {
        fn clone_with(&self, change: impl FnOnce(&mut OutputRecord<'a>)) -> Self {
            let mut copy = self.clone();
            change(&mut copy);
            copy
        }
    }
}
