//! A small moderation service on comment-sieve: JSON over HTTP with axum.
//!
//! ```sh
//! cargo run --release --example moderation_service -- --policy examples/policy.toml
//! curl -s localhost:8080/decide -H 'content-type: application/json' \
//!      -d '{"text": "You are an idiot", "site": "blog"}'
//! ```
//!
//! | endpoint | body | answer |
//! |---|---|---|
//! | `GET /health` | | `{"status": "ok", "class_documents": {...}}` |
//! | `POST /classify` | `{id?, text, post_title?, post_body?, author?, author_url?}` | `{id, label, probabilities}` |
//! | `POST /decide` | the same, and `site?` | `{id, decision, reason, reason_detail, probabilities}` |
//! | `POST /feedback` | `{id?, text, label, action: "learn" \| "forget"}` | `{ok, action, label, saved}` |
//!
//! Errors are `{"error": "..."}` with a 4xx status: 400 for malformed JSON, 415 without a JSON
//! content type, 422 for well-formed JSON that is not a valid request (an unknown label, a
//! missing `text`), 409 for a forget the model's counts can't hold (the class, or one of the
//! comment's terms, has fewer counts than it would take away). Counts can't tell feedback from
//! training data, so forgetting a comment never learned succeeds when the counts allow it:
//! send `forget` only to undo a `learn`.
//!
//! Requests classify against a [`SharedClassifier`] snapshot, so they never wait for feedback,
//! which is applied on a blocking thread and, with `--save`, written to disk atomically.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use comment_sieve::{
    Classifier, Comment, Label, NaiveBayesError, Policy, Probabilities, SharedClassifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What every request handler shares.
pub struct AppState {
    /// The model, updated by feedback.
    pub classifier: SharedClassifier,
    /// How `/decide` turns verdicts into decisions.
    pub policy: Policy,
    /// Where to save the model after each feedback, if anywhere.
    pub save_to: Option<PathBuf>,
    /// Serializes saves, so the file always ends up with the newest model.
    save_lock: Mutex<()>,
}

impl AppState {
    /// State for a classifier and a policy; `save_to` persists the model after feedback.
    pub fn new(classifier: Classifier, policy: Policy, save_to: Option<PathBuf>) -> Self {
        AppState {
            classifier: SharedClassifier::new(classifier),
            policy,
            save_to,
            save_lock: Mutex::new(()),
        }
    }
}

/// The service's routes.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/classify", post(classify))
        .route("/decide", post(decide))
        .route("/feedback", post(feedback))
        .with_state(state)
}

/// An error answer: a status and a message, sent as `{"error": message}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// Like axum's `Json` extractor, but its rejections are JSON errors too.
pub struct JsonBody<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(rejection_error(rejection)),
        }
    }
}

fn rejection_error(rejection: JsonRejection) -> ApiError {
    ApiError(rejection.status(), rejection.body_text())
}

/// A comment as clients send it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentRequest {
    id: Option<String>,
    text: String,
    post_title: Option<String>,
    post_body: Option<String>,
    author: Option<String>,
    /// The website the commenter gave (WordPress' `comment_author_url`; may be empty). A model
    /// trained on a site's own export weighs it; the default model has no author-URL tokens.
    author_url: Option<String>,
    /// Only `/decide` uses it: the site whose lists apply.
    site: Option<String>,
}

impl CommentRequest {
    fn comment(&self) -> Comment<'_> {
        let mut comment = Comment::new(self.id.as_deref().unwrap_or(""), self.text.as_str());
        if let Some(title) = &self.post_title {
            comment = comment.with_post_title(title.as_str());
        }
        if let Some(body) = &self.post_body {
            comment = comment.with_post_body(body.as_str());
        }
        if let Some(author) = &self.author {
            comment = comment.with_author(author.as_str());
        }
        if let Some(url) = &self.author_url {
            comment = comment.with_author_url(url.as_str());
        }
        comment
    }
}

#[derive(Serialize)]
struct ClassifyResponse {
    id: Option<String>,
    label: Label,
    probabilities: Probabilities,
}

async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    let documents = state.classifier.snapshot().model().class_documents();
    let per_class: serde_json::Map<String, Value> = Label::ALL
        .iter()
        .map(|l| (l.to_string(), json!(documents[l.index()])))
        .collect();
    Json(json!({ "status": "ok", "class_documents": per_class }))
}

async fn classify(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<CommentRequest>,
) -> Json<ClassifyResponse> {
    let verdict = state.classifier.classify(&request.comment());
    Json(ClassifyResponse {
        id: request.id,
        label: verdict.label,
        probabilities: verdict.probabilities,
    })
}

async fn decide(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<CommentRequest>,
) -> Json<Value> {
    let ruling = state.policy.decide_shared(
        &state.classifier,
        &request.comment(),
        request.site.as_deref(),
    );
    Json(json!({
        "id": request.id,
        "decision": ruling.decision,
        "reason": ruling.reason.to_string(),
        "reason_detail": ruling.reason,
        "probabilities": ruling.verdict.map(|v| v.probabilities),
    }))
}

#[derive(Clone, Copy, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
enum FeedbackAction {
    Learn,
    Forget,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    #[allow(dead_code)] // accepted for the client's bookkeeping; the model needs only the text
    id: Option<String>,
    text: String,
    label: Label,
    action: FeedbackAction,
}

async fn feedback(
    State(state): State<Arc<AppState>>,
    JsonBody(request): JsonBody<FeedbackRequest>,
) -> Result<Json<Value>, ApiError> {
    let (action, label) = (request.action, request.label);
    // Learning copies the model's counts (about a millisecond) and saving writes a file: both
    // run off the async workers, so classify requests keep flowing.
    let saved = tokio::task::spawn_blocking(move || apply_feedback(&state, request))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(
        json!({ "ok": true, "action": action, "label": label, "saved": saved }),
    ))
}

/// Applies one feedback and saves the model if configured; returns whether it saved.
fn apply_feedback(state: &AppState, request: FeedbackRequest) -> Result<bool, ApiError> {
    let comment = Comment::new("", request.text.as_str());
    let result = match request.action {
        FeedbackAction::Learn => state.classifier.learn(&comment, request.label),
        FeedbackAction::Forget => state.classifier.forget(&comment, request.label),
    };
    result.map_err(|e| match e {
        NaiveBayesError::NotLearned(_) => ApiError(StatusCode::CONFLICT, e.to_string()),
        e => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })?;
    let Some(path) = &state.save_to else {
        return Ok(false);
    };
    let _one_saver = state.save_lock.lock().unwrap_or_else(|p| p.into_inner());
    state.classifier.save(path).map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the feedback was applied but saving the model failed: {e}"),
        )
    })?;
    Ok(true)
}

/// Serve comment moderation over HTTP.
#[derive(Parser)]
struct Args {
    /// Model file (default: the embedded model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Policy file, .toml or .json (default: the default policy).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Save the model here after every feedback (atomically).
    #[arg(long)]
    save: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match serve(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("moderation_service: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let classifier = match &args.model {
        Some(path) => Classifier::load(path)?,
        None => Classifier::embedded()?,
    };
    let policy = match &args.policy {
        Some(path) => Policy::from_path(path)?,
        None => Policy::default(),
    };
    if let Some(path) = &args.save {
        // Saving writes a temporary file beside the model, then renames it: find out now, not
        // at the first feedback, whether that directory takes files.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        tempfile::NamedTempFile::new_in(dir).map_err(|e| {
            format!(
                "--save {}: cannot write in {}: {e}",
                path.display(),
                dir.display()
            )
        })?;
    }
    let state = Arc::new(AppState::new(classifier, policy, args.save));
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(state)).await?;
    Ok(())
}
