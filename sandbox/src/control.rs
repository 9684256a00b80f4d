//! What every emulator shares: per-endpoint request counters, injected latency and faults
//! (429 with Retry-After, 500, 503, connection reset), and a concurrency limit that answers 429,
//! all driven through `/_sandbox/*` control endpoints. Benchmarks and tests read and set these.

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After`.
    TooMany,
    ServerError,
    Unavailable,
    /// The connection is dropped mid-response.
    Reset,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Added before every API request.
    pub latency_ms: u64,
    /// Share of API requests (0.0–1.0) that fail with one of `kinds`, chosen at random.
    pub error_rate: f64,
    pub kinds: Vec<FaultKind>,
    /// Seconds sent in `Retry-After` with injected 429s.
    pub retry_after_s: u64,
    /// Requests in flight beyond this answer 429 (the APIs' concurrency limits).
    pub max_concurrency: Option<usize>,
    /// The next N API requests fail with `kinds[0]` (deterministic, for tests).
    pub fail_next: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            error_rate: 0.0,
            kinds: vec![
                FaultKind::TooMany,
                FaultKind::ServerError,
                FaultKind::Unavailable,
                FaultKind::Reset,
            ],
            retry_after_s: 1,
            max_concurrency: None,
            fail_next: 0,
        }
    }
}

/// Shared by the control endpoints and the middleware of one emulator.
#[derive(Debug, Default)]
pub struct Control {
    counters: Mutex<BTreeMap<String, u64>>,
    faults: Mutex<Faults>,
    in_flight: AtomicUsize,
    injected: Mutex<BTreeMap<String, u64>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Stats {
    /// Requests per `METHOD /route/template`, counting refused and faulted ones.
    pub requests: BTreeMap<String, u64>,
    pub total: u64,
    /// Injected faults by kind.
    pub injected: BTreeMap<String, u64>,
}

impl Control {
    pub fn new() -> Arc<Self> {
        Arc::new(Control::default())
    }

    pub fn stats(&self) -> Stats {
        let requests = lock(&self.counters).clone();
        let total = requests.values().sum();
        Stats {
            requests,
            total,
            injected: lock(&self.injected).clone(),
        }
    }

    pub fn reset_stats(&self) {
        lock(&self.counters).clear();
        lock(&self.injected).clear();
    }

    pub fn set_faults(&self, f: Faults) {
        *lock(&self.faults) = f;
    }

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    fn count(&self, key: String) {
        *lock(&self.counters).entry(key).or_insert(0) += 1;
    }

    /// Decides whether this request fails, consuming `fail_next` first.
    fn pick_fault(&self) -> Option<(FaultKind, u64)> {
        let mut f = lock(&self.faults);
        let kind = if f.fail_next > 0 && !f.kinds.is_empty() {
            f.fail_next -= 1;
            Some(f.kinds[0])
        } else if f.error_rate > 0.0
            && !f.kinds.is_empty()
            && rand::thread_rng().gen_bool(f.error_rate.clamp(0.0, 1.0))
        {
            let i = rand::thread_rng().gen_range(0..f.kinds.len());
            Some(f.kinds[i])
        } else {
            None
        };
        kind.map(|k| (k, f.retry_after_s))
    }
}

/// Poisoning only follows a panic elsewhere; the counters stay usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `/_sandbox` routes: `GET stats`, `POST stats/reset`, `GET|PUT faults`.
pub fn control_routes(control: Arc<Control>) -> Router {
    Router::new()
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/stats/reset", post(reset_stats))
        .route("/_sandbox/faults", put(set_faults).get(get_faults))
        .with_state(control)
}

async fn stats(State(c): State<Arc<Control>>) -> Json<Stats> {
    Json(c.stats())
}

async fn reset_stats(State(c): State<Arc<Control>>) -> StatusCode {
    c.reset_stats();
    StatusCode::NO_CONTENT
}

async fn set_faults(State(c): State<Arc<Control>>, Json(f): Json<Faults>) -> Json<Faults> {
    c.set_faults(f);
    Json(c.faults())
}

async fn get_faults(State(c): State<Arc<Control>>) -> Json<Faults> {
    Json(c.faults())
}

/// Build a response for an injected fault. Each emulator decides the body shape of its API's
/// errors, so it passes a function that renders status + code into its own error JSON.
pub type ErrorRenderer = fn(StatusCode, &str) -> Response;

#[derive(Clone)]
pub struct FaultLayerState {
    pub control: Arc<Control>,
    pub render: ErrorRenderer,
}

/// Middleware for API routes: counts, then applies latency, concurrency limit and faults.
/// Install with `axum::middleware::from_fn_with_state(FaultLayerState{..}, sandbox::control::apply)`.
pub async fn apply(State(s): State<FaultLayerState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let method = req.method().clone();
    if route.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    // An X-HTTP-Method-Override POST counts as the method it runs.
    let effective = req
        .headers()
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| method.to_string());
    s.control.count(format!("{effective} {route}"));

    let faults = s.control.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let in_flight = s.control.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&s.control.in_flight);
    if let Some(max) = faults.max_concurrency {
        if in_flight > max {
            record_injection(&s.control, "concurrency");
            return with_retry_after((s.render)(StatusCode::TOO_MANY_REQUESTS, "concurrency"), 1);
        }
    }
    if method != Method::OPTIONS {
        if let Some((kind, retry_after)) = s.control.pick_fault() {
            record_injection(&s.control, &format!("{kind:?}"));
            return match kind {
                FaultKind::TooMany => with_retry_after(
                    (s.render)(StatusCode::TOO_MANY_REQUESTS, "too_many"),
                    retry_after,
                ),
                FaultKind::ServerError => {
                    (s.render)(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
                }
                FaultKind::Unavailable => {
                    (s.render)(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                }
                FaultKind::Reset => reset_response(),
            };
        }
    }
    next.run(req).await
}

fn record_injection(c: &Control, kind: &str) {
    *lock(&c.injected).entry(kind.to_string()).or_insert(0) += 1;
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn with_retry_after(mut r: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// Headers go out, then the body fails: the client sees the connection dropped mid-response.
fn reset_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Vec<u8>, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert("content-length", HeaderValue::from_static("1024"));
    r.into_response()
}
