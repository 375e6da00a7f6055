//! The example moderation service, started on a loopback port and driven by a real HTTP client.

// The example's `main` and `Args` are not used here.
#[allow(dead_code)]
#[path = "../examples/moderation_service.rs"]
mod service;

use comment_sieve::{Classifier, Policy};
use serde_json::{Value, json};
use service::{AppState, app};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A running service: its runtime (dropping it stops the server) and address.
struct Server {
    _runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    agent: ureq::Agent,
}

impl Server {
    fn start(policy: Policy, save_to: Option<std::path::PathBuf>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_io()
            .build()
            .expect("runtime");
        let state = Arc::new(AppState::new(
            Classifier::embedded().expect("embedded model"),
            policy,
            save_to,
        ));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        runtime.spawn(async move { axum::serve(listener, app(state)).await });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Server {
            _runtime: runtime,
            addr,
            agent,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs JSON; returns the status and the JSON answer.
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .agent
            .post(&self.url(path))
            .send_json(body)
            .expect("request");
        read(response)
    }

    /// POSTs JSON; returns the answer's text, which must come with status 200.
    fn post_text(&self, path: &str, body: &Value) -> String {
        let mut response = self
            .agent
            .post(&self.url(path))
            .send_json(body)
            .expect("request");
        assert_eq!(response.status().as_u16(), 200);
        response.body_mut().read_to_string().expect("a text answer")
    }

    /// POSTs raw bytes as JSON.
    fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .agent
            .post(&self.url(path))
            .content_type("application/json")
            .send(body)
            .expect("request");
        read(response)
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.body_mut().read_json().expect("a JSON answer");
    (status, body)
}

const ABUSIVE: &str = "You are a clueless idiot. Crawl back under your rock, loser.";
const SUBSTANTIVE: &str = "The council should publish the ridership projections before \
                           committing another $400 million.";

#[test]
fn health_answers_ok() {
    let server = Server::start(Policy::default(), None);
    let response = server
        .agent
        .get(&server.url("/health"))
        .call()
        .expect("request");
    let (status, body) = read(response);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert!(body["class_documents"]["abusive"].as_u64().unwrap() > 100);
}

#[test]
fn classify_labels_comments() {
    let server = Server::start(Policy::default(), None);
    let (status, body) = server.post("/classify", &json!({"id": "a", "text": ABUSIVE}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "a");
    assert_eq!(body["label"], "abusive");
    assert!(body["probabilities"]["abusive"].as_f64().unwrap() > 0.9);

    let (status, body) = server.post(
        "/classify",
        &json!({"text": SUBSTANTIVE, "post_title": "Light-rail budget", "author": "x",
                "author_url": ""}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["label"], "substantive");
    assert!(body["id"].is_null());
}

#[test]
fn decide_applies_the_policy() {
    let policy = Policy::from_toml_str("[sites.blog]\ndeny = [\"ridership\"]\n").unwrap();
    let server = Server::start(policy, None);
    let (status, body) = server.post("/decide", &json!({"text": SUBSTANTIVE, "site": "blog"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "reject");
    assert_eq!(
        body["reason"],
        "deny term \"ridership\" on the deny list of site \"blog\""
    );
    assert_eq!(
        body["reason_detail"],
        json!({"kind": "deny_term", "term": "ridership", "site": "blog"})
    );
    assert!(body["probabilities"].is_null());

    let (_, body) = server.post("/decide", &json!({"text": SUBSTANTIVE}));
    assert_eq!(body["decision"], "approve", "{body}");
    assert_eq!(body["reason_detail"]["kind"], "confident_substantive");
    assert!(body["probabilities"]["substantive"].as_f64().unwrap() >= 0.5);

    let (_, body) = server.post("/decide", &json!({"text": ABUSIVE}));
    assert_eq!(body["decision"], "reject", "{body}");
    assert_eq!(body["reason_detail"]["kind"], "class_above");
}

#[test]
fn feedback_learn_then_forget_restores_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("model.bin");
    let server = Server::start(Policy::default(), Some(saved.clone()));
    let text = "buy cheap watches at my site";
    let classify = json!({"text": text});
    // Compared as text: floats are printed shortest-round-trip, so equal text is equal f64s.
    let before = server.post_text("/classify", &classify);

    let (status, body) = server.post(
        "/feedback",
        &json!({"id": "f1", "text": text, "label": "off_topic", "action": "learn"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"ok": true, "action": "learn", "label": "off_topic", "saved": true})
    );
    let learned = server.post_text("/classify", &classify);
    assert_ne!(learned, before);
    let off_topic = |body: &str| {
        serde_json::from_str::<Value>(body).unwrap()["probabilities"]["off_topic"]
            .as_f64()
            .unwrap()
    };
    assert!(off_topic(&learned) > off_topic(&before));
    let on_disk = Classifier::load(&saved).expect("saved model loads");
    assert!(
        (on_disk.classify_text(text).probabilities.off_topic - off_topic(&learned)).abs() < 1e-12
    );

    let (status, body) = server.post(
        "/feedback",
        &json!({"text": text, "label": "off_topic", "action": "forget"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        server.post_text("/classify", &classify),
        before,
        "exactly restored"
    );
    assert_eq!(
        Classifier::load(&saved).unwrap().to_bytes(),
        Classifier::embedded().unwrap().to_bytes(),
        "the saved model is the original again"
    );
}

#[test]
fn forgetting_what_was_never_learned_is_a_client_error() {
    let server = Server::start(Policy::default(), None);
    let (status, body) = server.post(
        "/feedback",
        &json!({"text": "a comment nobody taught the model, zyxwv", "label": "abusive", "action": "forget"}),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("never learned"),
        "{body}"
    );
}

#[test]
fn bad_requests_get_4xx_with_a_message() {
    let server = Server::start(Policy::default(), None);
    let (status, body) = server.post_raw("/classify", "{\"text\": ");
    assert_eq!(status, 400, "{body}");
    assert!(!body["error"].as_str().unwrap().is_empty());
    let (status, _) = server.post_raw("/decide", "not json");
    assert_eq!(status, 400);

    let (status, body) = server.post(
        "/feedback",
        &json!({"text": "x", "label": "spam", "action": "learn"}),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("spam"), "{body}");
    let (status, _) = server.post(
        "/feedback",
        &json!({"text": "x", "label": "abusive", "action": "remember"}),
    );
    assert_eq!(status, 422);
    let (status, body) = server.post("/classify", &json!({"body": "no text field"}));
    assert_eq!(status, 422, "{body}");

    let response = server
        .agent
        .post(&server.url("/classify"))
        .content_type("text/plain")
        .send("{\"text\": \"hi\"}")
        .expect("request");
    assert_eq!(read(response).0, 415);
}
