//! `comment-sieve`: the command-line front end. The library does the work; this file parses
//! arguments, opens files and prints.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use comment_sieve::corpus::{SplitFilter, parse_row, read_labeled};
use comment_sieve::{
    ClassPriors, Classifier, ClassifierParams, Comment, Evaluation, Label, ModelInfo,
    NaiveBayesKind, NormalizerConfig, TermWeight, VectorizerConfig, Verdict, cross_validate,
    tune_class_offsets,
};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    /// Worker threads for parallel work (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  comment-sieve classify \"You are an idiot\"
  comment-sieve score fixtures/comments.jsonl > verdicts.jsonl
  comment-sieve eval ../shared/corpus/comments.jsonl --split test
  comment-sieve train ../shared/corpus/comments.jsonl --split train -o my.model
  comment-sieve model inspect --json

Exit codes: 0 success; 1 some input records failed (see the error records); 2 usage or I/O error.";

const SCORE_EXAMPLES: &str = "\
Examples:
  comment-sieve score fixtures/comments.jsonl
  comment-sieve score comments.jsonl -o verdicts.jsonl --threads 2
  cat comments.jsonl | comment-sieve score - > verdicts.jsonl

Exit codes: 0 every record scored; 1 some records failed (error records in the output);
2 usage error, unreadable input or model.";

#[derive(Subcommand)]
enum Command {
    /// Classify one comment given on the command line.
    Classify {
        /// The comment text.
        text: String,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score a JSONL file of comments: one output line per non-blank input line, in order.
    ///
    /// Each input line is a JSON object with at least `text` (and usually `id`). Each output
    /// line is {"id", "label", "probabilities"}, plus `post_id` and `parent_id` when known. A
    /// line that can't be read yields {"id", "line", "error"} instead (`id` when it could be
    /// read), and the exit code is 1. Blank lines are skipped.
    #[command(after_help = SCORE_EXAMPLES)]
    Score {
        /// Input JSONL file; `-` or nothing reads standard input.
        input: Option<PathBuf>,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Evaluate a model on labeled JSONL rows: precision, recall, F1, macro-F1, confusion.
    Eval {
        /// Labeled JSONL file (the format of the shared corpus).
        data: PathBuf,
        /// Which rows: a split name such as `test` or `train`, or `all`.
        #[arg(long, default_value = "test")]
        split: String,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Train a model on labeled JSONL rows and write it to a file.
    Train {
        /// Labeled JSONL file (the format of the shared corpus).
        data: PathBuf,
        /// Which rows to train on: a split name or `all`.
        #[arg(long, default_value = "train")]
        split: String,
        /// Where to write the model.
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        params: TrainArgs,
    },
    /// k-fold cross-validation of training settings on labeled JSONL rows.
    Cv {
        /// Labeled JSONL file.
        data: PathBuf,
        /// Which rows: a split name or `all`.
        #[arg(long, default_value = "train")]
        split: String,
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also search per-class offsets (prior weights) that maximize out-of-fold macro-F1.
        #[arg(long)]
        tune_offsets: bool,
        #[command(flatten)]
        params: TrainArgs,
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
}

impl TrainArgs {
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
        Ok(p)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("comment-sieve: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    if let Some(n) = cli.threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("setting up the thread pool")?;
    }
    let load = || -> Result<Classifier> {
        match &cli.model {
            Some(path) => {
                Classifier::load(path).with_context(|| format!("loading model {}", path.display()))
            }
            None => Classifier::embedded().context("loading the embedded model"),
        }
    };
    match &cli.command {
        Command::Classify { text, json } => {
            let verdict = load()?.classify(&Comment::new("cli", text.as_str()));
            if *json {
                println!("{}", serde_json::to_string(&verdict)?);
            } else {
                print_verdict(&verdict);
            }
            Ok(EXIT_OK)
        }
        Command::Score { input, output } => score(&load()?, input.as_deref(), output.as_deref()),
        Command::Eval { data, split, json } => {
            let classifier = load()?;
            let rows = read_labeled(data, &SplitFilter::parse(split))?;
            if rows.is_empty() {
                bail!("{}: no labeled rows in split {split:?}", data.display());
            }
            let comments: Vec<Comment> = rows.iter().map(|(c, _)| c.clone()).collect();
            let truth: Vec<Label> = rows.iter().map(|(_, l)| *l).collect();
            let predicted: Vec<Label> = classifier
                .classify_batch(&comments)
                .into_iter()
                .map(|v| v.label)
                .collect();
            let evaluation = Evaluation::new(&truth, &predicted)?;
            print_evaluation(&evaluation, *json)?;
            Ok(EXIT_OK)
        }
        Command::Train {
            data,
            split,
            output,
            params,
        } => {
            let rows = read_labeled(data, &SplitFilter::parse(split))?;
            if rows.is_empty() {
                bail!("{}: no labeled rows in split {split:?}", data.display());
            }
            let (comments, labels): (Vec<Comment>, Vec<Label>) = rows.into_iter().unzip();
            let file_name = data
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let info = ModelInfo {
                created_by: format!("comment-sieve {}", env!("CARGO_PKG_VERSION")),
                training_data: format!("{file_name}, split {split}, {} rows", comments.len()),
                command: train_command(&file_name, split, params),
            };
            let classifier = params.params()?.train_with_info(&comments, &labels, info)?;
            classifier
                .save(output)
                .with_context(|| format!("writing {}", output.display()))?;
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
            params,
        } => {
            let rows = read_labeled(data, &SplitFilter::parse(split))?;
            if rows.len() < *folds {
                bail!(
                    "{}: {} rows is fewer than {folds} folds",
                    data.display(),
                    rows.len()
                );
            }
            let cv = cross_validate(&params.params()?, &rows, *folds)?;
            print_evaluation(&cv.evaluation, *json)?;
            if *tune_offsets {
                let (offsets, f1) = tune_class_offsets(&cv.joint_log_likelihoods, &cv.truth);
                let weights: Vec<String> =
                    offsets.iter().map(|o| format!("{:.4}", o.exp())).collect();
                eprintln!(
                    "best class offsets {offsets:?}: macro-F1 {f1:.4}; train with --prior-weights {}",
                    weights.join(",")
                );
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
    cmd
}

fn print_verdict(verdict: &Verdict) {
    println!("{}", verdict.label);
    for label in Label::ALL {
        println!(
            "  {:<12} {:.4}",
            label.as_str(),
            verdict.probabilities.get(label)
        );
    }
}

fn print_evaluation(evaluation: &Evaluation, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(evaluation)?);
    } else {
        print!("{}", evaluation.report());
    }
    Ok(())
}

#[derive(Serialize)]
struct ScoreRecord<'a> {
    id: &'a str,
    label: Label,
    probabilities: comment_sieve::Probabilities,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ErrorRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    line: u64,
    error: String,
}

const CHUNK_LINES: usize = 4096;

/// Streams JSONL in, one record out per non-blank line in, in order; bounded memory.
fn score(classifier: &Classifier, input: Option<&Path>, output: Option<&Path>) -> Result<u8> {
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
        )),
    };
    let input_name = input.map_or("<stdin>".to_string(), |p| p.display().to_string());
    let mut writer: BufWriter<Box<dyn Write>> = BufWriter::with_capacity(
        1 << 16,
        match output {
            Some(p) => Box::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            ),
            None => Box::new(std::io::stdout().lock()),
        },
    );
    let mut failed = 0u64;
    let mut chunk: Vec<(u64, Vec<u8>)> = Vec::with_capacity(CHUNK_LINES);
    let mut line_no = 0u64;
    let mut lines = reader.split(b'\n');
    loop {
        chunk.clear();
        while chunk.len() < CHUNK_LINES {
            match lines.next() {
                None => break,
                Some(line) => {
                    line_no += 1;
                    let line =
                        line.with_context(|| format!("reading {input_name} at line {line_no}"))?;
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    chunk.push((line_no, line));
                }
            }
        }
        if chunk.is_empty() {
            break;
        }
        let outputs: Vec<(bool, Vec<u8>)> = chunk
            .par_iter()
            .map(|(n, bytes)| score_line(classifier, *n, bytes))
            .collect();
        for (ok, bytes) in outputs {
            if !ok {
                failed += 1;
            }
            writer.write_all(&bytes)?;
        }
    }
    writer.flush().context("writing output")?;
    if failed > 0 {
        eprintln!("comment-sieve: {failed} record(s) failed; see the error records");
        return Ok(EXIT_SOME_FAILED);
    }
    Ok(EXIT_OK)
}

fn score_line(classifier: &Classifier, line_no: u64, bytes: &[u8]) -> (bool, Vec<u8>) {
    let mut out = Vec::with_capacity(160);
    let parsed = std::str::from_utf8(bytes)
        .map_err(|e| {
            (
                None,
                format!("line {line_no}: invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })
        .and_then(|s| {
            parse_row(s.trim_end_matches('\r'), line_no).map_err(|e| (e.id.clone(), e.to_string()))
        });
    let ok = match parsed {
        Ok(row) => {
            let c = &row.comment;
            let verdict = classifier.classify(c);
            let record = ScoreRecord {
                id: &c.id,
                label: verdict.label,
                probabilities: verdict.probabilities,
                post_id: c.post_id(),
                parent_id: c.parent_id.as_deref(),
            };
            serde_json::to_writer(&mut out, &record).is_ok()
        }
        Err((id, reason)) => {
            let record = ErrorRecord {
                id: id.as_deref(),
                line: line_no,
                error: reason,
            };
            let _ = serde_json::to_writer(&mut out, &record);
            false
        }
    };
    out.push(b'\n');
    (ok, out)
}

#[derive(Serialize)]
struct Inspection<'a> {
    format_version: u16,
    info: &'a ModelInfo,
    normalizer: NormalizerConfig,
    vectorizer: &'a VectorizerConfig,
    alpha: f64,
    priors: ClassPriors,
    labels: [Label; Label::COUNT],
    class_documents: [u64; Label::COUNT],
    n_terms: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    vocabulary: Option<Vec<TermView<'a>>>,
}

#[derive(Serialize)]
struct TermView<'a> {
    term: &'a str,
    document_frequency: u32,
    /// Weighted counts per class, in the order of `labels`.
    counts: [f64; Label::COUNT],
}

fn inspect(classifier: &Classifier, json: bool) -> Result<()> {
    let v = classifier.vectorizer();
    let m = classifier.model();
    let mut view = Inspection {
        format_version: comment_sieve::model_file::FORMAT_VERSION,
        info: classifier.info(),
        normalizer: classifier.normalizer().config(),
        vectorizer: v.config(),
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
                .map(|((term, &df), counts)| TermView {
                    term,
                    document_frequency: df,
                    counts: counts.map(|q| q as f64 / comment_sieve::WEIGHT_SCALE),
                })
                .collect(),
        );
        let mut out = BufWriter::new(std::io::stdout().lock());
        serde_json::to_writer(&mut out, &view)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        println!("{}", serde_json::to_string_pretty(&view)?);
    }
    Ok(())
}
