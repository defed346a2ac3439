//! The Kafka Connect REST API (axum on `listeners`, default `http://127.0.0.1:8083`): the
//! same paths, status codes and JSON bodies as Kafka Connect 3.8, errors always as
//! `{"error_code": N, "message": "..."}`, plus Prometheus text at `GET /metrics`. Handlers
//! run the worker's blocking operations off the async threads.

// Handlers answer errors as ready `Response`s; boxing them buys nothing at request rates.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};
use sluice_connectors::{ConnectorKind, Plugin};

use crate::herder::Herder;
use crate::logging::LogLevels;
use crate::status::State;
use crate::worker::{
    ApiError, ConnectorInfo, ConnectorStatus, OrderedProps, TargetState, TaskState, Worker,
};

/// Shared state of the handlers.
#[derive(Clone)]
pub struct RestState {
    /// The local worker: its config, metrics and tasks.
    pub worker: Worker,
    /// Who answers for connectors: the worker itself (standalone) or the cluster.
    pub herder: Arc<dyn Herder>,
    pub logs: LogLevels,
    cluster_id: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for RestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestState").finish_non_exhaustive()
    }
}

impl RestState {
    /// A standalone worker's REST state: the worker answers for its connectors.
    pub fn new(worker: Worker, logs: LogLevels) -> Self {
        let herder: Arc<dyn Herder> = Arc::new(worker.clone());
        Self::with_herder(worker, herder, logs)
    }

    pub fn with_herder(worker: Worker, herder: Arc<dyn Herder>, logs: LogLevels) -> Self {
        Self {
            worker,
            herder,
            logs,
            cluster_id: Arc::default(),
        }
    }
}

/// The router with every endpoint.
pub fn router(state: RestState) -> Router {
    let auth = state.worker.config().rest_auth.clone();
    let api = routes(state).layer(axum::middleware::from_fn(forwarding));
    match auth {
        Some(auth) => api.layer(axum::middleware::from_fn(move |req, next| {
            crate::rest_auth::require(auth.clone(), req, next)
        })),
        None => api,
    }
}

fn routes(state: RestState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/connectors", get(list_connectors).post(create_connector))
        .route(
            "/connectors/{c}",
            get(get_connector).delete(delete_connector),
        )
        .route(
            "/connectors/{c}/config",
            get(get_config).put(put_config).patch(patch_config),
        )
        .route("/connectors/{c}/status", get(connector_status))
        .route(
            "/connectors/{c}/tasks",
            get(task_configs).post(put_task_configs),
        )
        .route("/connectors/{c}/tasks/{t}/status", get(task_status))
        .route("/connectors/{c}/tasks/{t}/restart", post(restart_task))
        .route("/connectors/{c}/restart", post(restart_connector))
        .route("/connectors/{c}/pause", put(pause))
        .route("/connectors/{c}/resume", put(resume))
        .route("/connectors/{c}/stop", put(stop))
        .route("/connectors/{c}/topics", get(topics))
        .route("/connectors/{c}/topics/reset", put(reset_topics))
        .route(
            "/connectors/{c}/offsets",
            get(get_offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .route("/connector-plugins", get(list_plugins))
        .route("/connector-plugins/{p}/config", get(plugin_config))
        .route("/connector-plugins/{p}/config/validate", put(validate))
        .route("/admin/loggers", get(list_loggers))
        .route("/admin/loggers/{name}", get(get_logger).put(set_logger))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// Serves the API on `addr` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: RestState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

// ----- responses -----

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, body.to_string())
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = json_response(
            status,
            json!({"error_code": self.status, "message": self.message}).to_string(),
        );
        if let Some(url) = self.forward {
            r.extensions_mut().insert(ForwardTo(url));
        }
        r
    }
}

/// A handler's answer that the request belongs to another worker (distributed mode).
#[derive(Debug, Clone)]
struct ForwardTo(String);

/// Kafka's forwarding of leader-only requests: the same method, path and body to the
/// leader, `forward=true` on the first hop and `forward=false` on a second; a third hop is
/// a conflict. The remote answer is passed through unchanged.
async fn forwarding(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return ApiError::new(400, "request body too large").into_response();
    };
    let method = parts.method.clone();
    let uri = parts.uri.clone();
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
    let resp = next.run(req).await;
    let Some(ForwardTo(url)) = resp.extensions().get::<ForwardTo>().cloned() else {
        return resp;
    };
    let mut params = query_params(&uri.query().map(str::to_string));
    let hop = params
        .iter()
        .find(|(k, _)| k == "forward")
        .map(|(_, v)| v.clone());
    let next_hop = match hop.as_deref() {
        None => "true",
        Some("true") => "false",
        Some(_) => {
            return ApiError::new(
                409,
                "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
            )
            .into_response();
        }
    };
    params.retain(|(k, _)| k != "forward");
    params.push(("forward".into(), next_hop.into()));
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let target =
        crate::distributed::http::join(&url, &format!("{}?{}", uri.path(), query.join("&")));
    let body = (!bytes.is_empty()).then(|| bytes.to_vec());
    let answer = tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = authorization
            .as_deref()
            .map(|a| vec![("Authorization", a)])
            .unwrap_or_default();
        crate::distributed::http::request(
            method.as_str(),
            &target,
            &headers,
            body.as_deref(),
            std::time::Duration::from_secs(90),
        )
    })
    .await;
    match answer {
        Ok(Ok(r)) => {
            let status =
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let keep: Vec<(header::HeaderName, HeaderValue)> =
                [header::CONTENT_TYPE, header::LOCATION]
                    .into_iter()
                    .filter_map(|name| {
                        let v = r.header(name.as_str())?;
                        Some((name, HeaderValue::from_str(v).ok()?))
                    })
                    .collect();
            let mut out = (status, r.body).into_response();
            for (name, v) in keep {
                out.headers_mut().insert(name, v);
            }
            out
        }
        Ok(Err(e)) => ApiError::new(500, format!("IO Error trying to forward REST request: {e}"))
            .into_response(),
        Err(e) => {
            ApiError::new(500, format!("Error trying to forward REST request: {e}")).into_response()
        }
    }
}

/// Jersey's own errors (unknown path, wrong method, media type) come without Content-Type.
fn jersey_error(status: StatusCode) -> Response {
    let text = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut r = (
        status,
        json!({"error_code": status.as_u16(), "message": text}).to_string(),
    )
        .into_response();
    r.headers_mut().remove(header::CONTENT_TYPE);
    r
}

async fn not_found() -> Response {
    jersey_error(StatusCode::NOT_FOUND)
}

async fn method_not_allowed() -> Response {
    jersey_error(StatusCode::METHOD_NOT_ALLOWED)
}

type Handled = Result<Response, Response>;

/// Runs a blocking worker operation on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(IntoResponse::into_response),
        Err(e) => Err(ApiError::new(500, format!("request failed: {e}")).into_response()),
    }
}

// ----- request bodies -----

/// A JSON value whose objects keep their member order (Kafka echoes configs in order).
#[derive(Debug, Clone)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_none<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Ordered, E> {
                serde_json::Number::from_f64(v)
                    .map(Ordered::Number)
                    .ok_or_else(|| E::custom("invalid number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::String(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
                Ok(Ordered::String(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Ordered::Array(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Ordered, A::Error> {
                let mut v: Vec<(String, Ordered)> = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Ordered>()? {
                    // A repeated member replaces the earlier one in place, as a LinkedHashMap.
                    match v.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = x,
                        None => v.push((k, x)),
                    }
                }
                Ok(Ordered::Object(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Ordered {
    fn get(&self, key: &str) -> Option<&Ordered> {
        match self {
            Ordered::Object(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Ordered::Null => Value::Null,
            Ordered::Bool(b) => Value::Bool(*b),
            Ordered::Number(n) => Value::Number(n.clone()),
            Ordered::String(s) => Value::String(s.clone()),
            Ordered::Array(a) => Value::Array(a.iter().map(Ordered::to_value).collect()),
            Ordered::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
            }
        }
    }
}

fn bad_body(message: impl Into<String>) -> Response {
    ApiError::new(400, message).into_response()
}

/// Checks the media type and parses the body (empty bodies and malformed JSON answer 400
/// with the reason; Kafka answers 500 there).
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Ordered, Response> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        if !ct.starts_with("application/json") {
            return Err(jersey_error(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_body("Request body is empty; a JSON object is required"));
    }
    serde_json::from_slice(body).map_err(|e| bad_body(format!("Invalid JSON in request body: {e}")))
}

/// A config object as `(key, value)` in order; `null` values are `None` (PATCH deletes).
fn config_members(v: &Ordered, what: &str) -> Result<Vec<(String, Option<String>)>, Response> {
    let Ordered::Object(members) = v else {
        return Err(bad_body(format!(
            "{what} must be a JSON object of string values"
        )));
    };
    members
        .iter()
        .map(|(k, v)| {
            let s = match v {
                Ordered::Null => None,
                Ordered::String(s) => Some(s.clone()),
                Ordered::Number(n) => Some(n.to_string()),
                Ordered::Bool(b) => Some(b.to_string()),
                _ => {
                    return Err(bad_body(format!(
                        "{what}: the value of \"{k}\" must be a string, not an array or object"
                    )));
                }
            };
            Ok((k.clone(), s))
        })
        .collect()
}

fn non_null(members: Vec<(String, Option<String>)>) -> OrderedProps {
    members
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// The 400 for a config whose `name` differs from the connector's name.
fn name_mismatch(config_name: &str, url_name: &str) -> Response {
    bad_body(format!(
        "Connector name configuration ({config_name}) doesn't match connector name in the URL ({url_name})"
    ))
}

/// Kafka's `putIfAbsent("name", name)`: appended when missing.
fn with_name(mut props: OrderedProps, name: &str) -> OrderedProps {
    if !props.iter().any(|(k, _)| k == "name") {
        props.push(("name".into(), name.to_string()));
    }
    props
}

// ----- JSON shapes -----

fn ordered_object(props: &[(String, String)]) -> String {
    let members: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), Value::from(v.as_str())))
        .collect();
    format!("{{{}}}", members.join(","))
}

fn kind_name(k: ConnectorKind) -> &'static str {
    match k {
        ConnectorKind::Sink => "sink",
        ConnectorKind::Source => "source",
    }
}

fn info_json(i: &ConnectorInfo) -> String {
    let tasks: Vec<String> = i
        .tasks
        .iter()
        .map(|t| json!({"connector": i.name, "task": t}).to_string())
        .collect();
    format!(
        "{{\"name\":{},\"config\":{},\"tasks\":[{}],\"type\":\"{}\"}}",
        Value::from(i.name.as_str()),
        ordered_object(&i.config),
        tasks.join(","),
        kind_name(i.kind)
    )
}

fn task_state_json(t: &TaskState, worker_id: &str) -> String {
    let mut s = format!(
        "{{\"id\":{},\"state\":\"{}\",\"worker_id\":{}",
        t.id,
        t.state,
        Value::from(t.worker_id.as_deref().unwrap_or(worker_id))
    );
    if let Some(trace) = &t.trace
        && matches!(t.state, State::Failed | State::Restarting)
    {
        s.push_str(&format!(",\"trace\":{}", Value::from(trace.as_str())));
    }
    s.push('}');
    s
}

fn status_json(st: &ConnectorStatus, worker_id: &str) -> String {
    let tasks: Vec<String> = st
        .tasks
        .iter()
        .map(|t| task_state_json(t, worker_id))
        .collect();
    format!(
        "{{\"name\":{},\"connector\":{{\"state\":\"{}\",\"worker_id\":{}}},\"tasks\":[{}],\"type\":\"{}\"}}",
        Value::from(st.name.as_str()),
        st.state,
        Value::from(st.worker_id.as_deref().unwrap_or(worker_id)),
        tasks.join(","),
        kind_name(st.kind)
    )
}

fn created(state: &RestState, headers: &HeaderMap, info: &ConnectorInfo) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| state.worker.worker_id());
    let mut r = json_response(StatusCode::CREATED, info_json(info));
    if let Ok(v) = HeaderValue::from_str(&format!("http://{host}/connectors/{}", info.name)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn query_params(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn query_bool(params: &[(String, String)], key: &str) -> Result<bool, Response> {
    match params.iter().rev().find(|(k, _)| k == key) {
        None => Ok(false),
        Some((_, v)) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some((_, v)) if v.eq_ignore_ascii_case("false") || v.is_empty() => Ok(false),
        Some((_, v)) => Err(bad_body(format!(
            "Invalid value {v} for query parameter {key}"
        ))),
    }
}

// ----- handlers -----

async fn root(AxumState(s): AxumState<RestState>) -> Response {
    let cached = s
        .cluster_id
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let cluster_id = match cached {
        Some(id) => Some(id),
        None => {
            let worker = s.worker.config().clone();
            let id = tokio::task::spawn_blocking(move || fetch_cluster_id(&worker))
                .await
                .ok()
                .flatten();
            if let Some(id) = &id {
                *s.cluster_id.lock().unwrap_or_else(PoisonError::into_inner) = Some(id.clone());
            }
            id
        }
    };
    ok(json!({
        "version": crate::KAFKA_VERSION,
        "commit": env!("SLUICE_COMMIT"),
        "kafka_cluster_id": cluster_id,
        "sluice_version": env!("CARGO_PKG_VERSION"),
    }))
}

fn fetch_cluster_id(worker: &crate::config::WorkerConfig) -> Option<String> {
    let consumer: rdkafka::consumer::BaseConsumer = crate::kafka::worker_client_config(worker)
        .ok()?
        .create()
        .ok()?;
    rdkafka::consumer::Consumer::client(&consumer)
        .fetch_cluster_id(std::time::Duration::from_secs(5))
}

async fn health(AxumState(s): AxumState<RestState>) -> Response {
    if s.herder.is_started() {
        ok(
            json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}),
        )
    } else {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "starting", "message": "Worker is still starting up."}).to_string(),
        )
    }
}

async fn metrics(AxumState(s): AxumState<RestState>) -> Response {
    let body = s.worker.metrics().render(&s.worker.gauges());
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

async fn list_connectors(AxumState(s): AxumState<RestState>, RawQuery(q): RawQuery) -> Response {
    let params = query_params(&q);
    let expand: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.as_str())
        .collect();
    let names = s.herder.connector_names();
    if expand.is_empty() {
        return ok(json!(names));
    }
    let worker_id = s.worker.worker_id();
    let mut members = Vec::new();
    for name in names {
        let mut parts = Vec::new();
        if expand.contains(&"status")
            && let Ok(st) = s.herder.status(&name)
        {
            parts.push(format!("\"status\":{}", status_json(&st, &worker_id)));
        }
        if expand.contains(&"info")
            && let Ok(i) = s.herder.info(&name)
        {
            parts.push(format!("\"info\":{}", info_json(&i)));
        }
        members.push(format!(
            "{}:{{{}}}",
            Value::from(name.as_str()),
            parts.join(",")
        ));
    }
    json_response(StatusCode::OK, format!("{{{}}}", members.join(",")))
}

async fn create_connector(
    AxumState(s): AxumState<RestState>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let req = parse_body(&headers, &body)?;
    if !matches!(req, Ordered::Object(_)) {
        return Err(bad_body(
            "Request body must be a JSON object with \"name\" and \"config\"",
        ));
    }
    let body_name = match req.get("name") {
        None | Some(Ordered::Null) => None,
        Some(Ordered::String(n)) => Some(n.clone()),
        Some(_) => return Err(bad_body("\"name\" must be a string")),
    };
    let config = match req.get("config") {
        None | Some(Ordered::Null) => Vec::new(),
        Some(c) => non_null(config_members(c, "config")?),
    };
    let initial = match req.get("initial_state") {
        None | Some(Ordered::Null) => TargetState::Started,
        Some(Ordered::String(v)) => TargetState::parse(v).ok_or_else(|| {
            bad_body(format!(
                "Invalid initial state {v}; must be one of RUNNING, PAUSED, STOPPED"
            ))
        })?,
        Some(_) => return Err(bad_body("\"initial_state\" must be a string")),
    };
    let config_name = config
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone());
    let name = match (body_name, config_name) {
        (Some(n), Some(c)) if n != c => {
            return Err(name_mismatch(&c, &n));
        }
        (Some(n), _) => n,
        (None, Some(c)) => c,
        (None, None) => String::new(),
    };
    let name = name.trim().to_string();
    if name.contains('/') {
        return Err(bad_body(format!(
            "connector name {name} should not contain '/'"
        )));
    }
    let props = with_name(config, &name);
    let herder = s.herder.clone();
    let n = name.clone();
    let info = blocking(move || herder.create(&n, props, initial)).await?;
    Ok(created(&s, &headers, &info))
}

async fn get_connector(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let info = s.herder.info(&c).map_err(IntoResponse::into_response)?;
    Ok(json_response(StatusCode::OK, info_json(&info)))
}

async fn delete_connector(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    blocking(move || herder.delete(&c)).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn get_config(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let props = s.herder.props(&c).map_err(IntoResponse::into_response)?;
    Ok(json_response(StatusCode::OK, ordered_object(&props)))
}

async fn put_config(
    AxumState(s): AxumState<RestState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let req = parse_body(&headers, &body)?;
    let config = non_null(config_members(&req, "connector config")?);
    if let Some((_, n)) = config.iter().find(|(k, _)| k == "name")
        && *n != c
    {
        return Err(name_mismatch(n, &c));
    }
    let props = with_name(config, &c);
    let herder = s.herder.clone();
    let (was_created, info) = blocking(move || herder.put_config(&c, props)).await?;
    if was_created {
        Ok(created(&s, &headers, &info))
    } else {
        Ok(json_response(StatusCode::OK, info_json(&info)))
    }
}

async fn patch_config(
    AxumState(s): AxumState<RestState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let req = parse_body(&headers, &body)?;
    let patch = config_members(&req, "connector config patch")?;
    let mut props = s.herder.props(&c).map_err(IntoResponse::into_response)?;
    for (k, v) in patch {
        if k == "name" && v.as_deref() != Some(c.as_str()) {
            return Err(name_mismatch(v.as_deref().unwrap_or("null"), &c));
        }
        match v {
            None => props.retain(|(key, _)| *key != k),
            Some(v) => match props.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => props.push((k, v)),
            },
        }
    }
    let herder = s.herder.clone();
    let (_, info) = blocking(move || herder.put_config(&c, props)).await?;
    Ok(json_response(StatusCode::OK, info_json(&info)))
}

async fn connector_status(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let st = s.herder.status(&c).map_err(IntoResponse::into_response)?;
    Ok(json_response(
        StatusCode::OK,
        status_json(&st, &s.worker.worker_id()),
    ))
}

async fn task_configs(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let tasks = s
        .herder
        .task_configs(&c)
        .map_err(IntoResponse::into_response)?;
    let items: Vec<String> = tasks
        .iter()
        .map(|(t, props)| {
            format!(
                "{{\"id\":{},\"config\":{}}}",
                json!({"connector": c, "task": t}),
                ordered_object(props)
            )
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        format!("[{}]", items.join(",")),
    ))
}

/// `POST /connectors/{c}/tasks`: task configs from the worker running the connector, to
/// the leader (distributed mode; signed under the `sessioned` protocol).
async fn put_task_configs(
    AxumState(s): AxumState<RestState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let signature = headers
        .get("X-Connect-Authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let algorithm = headers
        .get("X-Connect-Request-Signature-Algorithm")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let herder = s.herder.clone();
    blocking(move || {
        let sig = match (&algorithm, &signature) {
            (Some(a), Some(s)) => Some((a.as_str(), s.as_str())),
            _ => None,
        };
        herder.put_task_configs(&c, &body, sig)
    })
    .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

fn task_id(t: &str) -> Result<usize, Response> {
    t.parse().map_err(|_| jersey_error(StatusCode::NOT_FOUND))
}

async fn task_status(
    AxumState(s): AxumState<RestState>,
    Path((c, t)): Path<(String, String)>,
) -> Handled {
    let t = task_id(&t)?;
    let st = s
        .herder
        .task_status(&c, t)
        .map_err(IntoResponse::into_response)?;
    Ok(json_response(
        StatusCode::OK,
        task_state_json(&st, &s.worker.worker_id()),
    ))
}

async fn restart_task(
    AxumState(s): AxumState<RestState>,
    Path((c, t)): Path<(String, String)>,
) -> Handled {
    let t = task_id(&t)?;
    let herder = s.herder.clone();
    blocking(move || herder.restart_task(&c, t)).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn restart_connector(
    AxumState(s): AxumState<RestState>,
    Path(c): Path<String>,
    RawQuery(q): RawQuery,
) -> Handled {
    let params = query_params(&q);
    let include_tasks = query_bool(&params, "includeTasks")?;
    let only_failed = query_bool(&params, "onlyFailed")?;
    let herder = s.herder.clone();
    let result = blocking(move || herder.restart_connector(&c, include_tasks, only_failed)).await?;
    Ok(match result {
        None => empty(StatusCode::NO_CONTENT),
        Some(st) => json_response(
            StatusCode::ACCEPTED,
            status_json(&st, &s.worker.worker_id()),
        ),
    })
}

async fn pause(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    blocking(move || herder.pause(&c)).await?;
    Ok(empty(StatusCode::ACCEPTED))
}

async fn resume(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    blocking(move || herder.resume(&c)).await?;
    Ok(empty(StatusCode::ACCEPTED))
}

async fn stop(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    blocking(move || herder.stop_connector(&c)).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

async fn topics(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let t = s
        .herder
        .active_topics(&c)
        .map_err(IntoResponse::into_response)?;
    let mut body = Map::new();
    body.insert(c, json!({"topics": t}));
    Ok(ok(Value::Object(body)))
}

async fn reset_topics(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    s.worker
        .reset_active_topics(&c)
        .map_err(IntoResponse::into_response)?;
    Ok(empty(StatusCode::ACCEPTED))
}

async fn get_offsets(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    let offsets = blocking(move || herder.offsets(&c)).await?;
    // `partition` before `offset`, and (sorted) kafka_partition before kafka_topic, as Kafka.
    let items: Vec<String> = offsets
        .into_iter()
        .map(|(p, o)| {
            format!(
                "{{\"partition\":{},\"offset\":{}}}",
                Value::Object(p),
                Value::Object(o)
            )
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        format!("{{\"offsets\":[{}]}}", items.join(",")),
    ))
}

async fn alter_offsets(
    AxumState(s): AxumState<RestState>,
    Path(c): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let req = parse_body(&headers, &body)?.to_value();
    let Some(list) = req.get("offsets").and_then(Value::as_array) else {
        return Err(bad_body(
            "Request body must be {\"offsets\": [{\"partition\": {...}, \"offset\": {...} or null}]}",
        ));
    };
    let mut entries = Vec::with_capacity(list.len());
    for item in list {
        let partition = item
            .get("partition")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| bad_body("Every offset entry needs a \"partition\" object"))?;
        let offset = match item.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o.clone()),
            Some(_) => return Err(bad_body("\"offset\" must be an object or null")),
        };
        entries.push((partition, offset));
    }
    let herder = s.herder.clone();
    let message = blocking(move || herder.alter_offsets(&c, entries)).await?;
    Ok(ok(json!({ "message": message })))
}

async fn reset_offsets(AxumState(s): AxumState<RestState>, Path(c): Path<String>) -> Handled {
    let herder = s.herder.clone();
    let message = blocking(move || herder.reset_offsets(&c)).await?;
    Ok(ok(json!({ "message": message })))
}

const TRANSFORMS: [&str; 26] = [
    "Cast$Key",
    "Cast$Value",
    "DropHeaders",
    "ExtractField$Key",
    "ExtractField$Value",
    "Filter",
    "Flatten$Key",
    "Flatten$Value",
    "HeaderFrom$Key",
    "HeaderFrom$Value",
    "HoistField$Key",
    "HoistField$Value",
    "InsertField$Key",
    "InsertField$Value",
    "InsertHeader",
    "MaskField$Key",
    "MaskField$Value",
    "RegexRouter",
    "ReplaceField$Key",
    "ReplaceField$Value",
    "SetSchemaMetadata$Key",
    "SetSchemaMetadata$Value",
    "TimestampConverter$Key",
    "TimestampConverter$Value",
    "TimestampRouter",
    "ValueToKey",
];
const PREDICATES: [&str; 3] = ["HasHeaderKey", "RecordIsTombstone", "TopicNameMatches"];
const CONVERTERS: [&str; 9] = [
    "org.apache.kafka.connect.converters.BooleanConverter",
    "org.apache.kafka.connect.converters.ByteArrayConverter",
    "org.apache.kafka.connect.converters.DoubleConverter",
    "org.apache.kafka.connect.converters.FloatConverter",
    "org.apache.kafka.connect.converters.IntegerConverter",
    "org.apache.kafka.connect.converters.LongConverter",
    "org.apache.kafka.connect.converters.ShortConverter",
    "org.apache.kafka.connect.json.JsonConverter",
    "org.apache.kafka.connect.storage.StringConverter",
];

async fn list_plugins(RawQuery(q): RawQuery) -> Handled {
    let params = query_params(&q);
    let connectors_only = match params.iter().rev().find(|(k, _)| k == "connectorsOnly") {
        None => true,
        Some((_, v)) => !v.eq_ignore_ascii_case("false"),
    };
    let v = crate::KAFKA_VERSION;
    let mut out: Vec<Value> = Plugin::ALL
        .iter()
        .map(|p| json!({"class": p.class_name(), "type": kind_name(p.kind()), "version": v}))
        .collect();
    out.sort_by(|a, b| a["class"].as_str().cmp(&b["class"].as_str()));
    if !connectors_only {
        for t in TRANSFORMS {
            out.push(json!({"class": format!("org.apache.kafka.connect.transforms.{t}"), "type": "transformation", "version": v}));
        }
        for p in PREDICATES {
            out.push(json!({"class": format!("org.apache.kafka.connect.transforms.predicates.{p}"), "type": "predicate", "version": v}));
        }
        for c in CONVERTERS {
            out.push(json!({"class": c, "type": "converter", "version": v}));
        }
        let mut headers: Vec<&str> = CONVERTERS.to_vec();
        headers.push("org.apache.kafka.connect.storage.SimpleHeaderConverter");
        headers.sort_unstable();
        for c in headers {
            out.push(json!({"class": c, "type": "header_converter", "version": v}));
        }
    }
    Ok(ok(Value::Array(out)))
}

fn plugin_of(p: &str) -> Result<Plugin, Response> {
    Plugin::from_class(p).ok_or_else(|| {
        ApiError::new(
            404,
            format!(
                "Failed to find any class that implements Connector and which name matches {p}, available connectors are: {}",
                crate::worker::plugin_descriptions()
            ),
        )
        .into_response()
    })
}

async fn plugin_config(Path(p): Path<String>) -> Handled {
    let plugin = plugin_of(&p)?;
    let defs: Vec<Value> = crate::validate::plugin_keys(plugin)
        .iter()
        .map(crate::validate::plugin_json)
        .collect();
    Ok(ok(Value::Array(defs)))
}

async fn validate(
    AxumState(s): AxumState<RestState>,
    Path(p): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let plugin = plugin_of(&p)?;
    let req = parse_body(&headers, &body)?;
    let props: BTreeMap<String, String> = non_null(config_members(&req, "connector config")?)
        .into_iter()
        .collect();
    if let Some(class) = props.get("connector.class")
        && Plugin::from_class(class) != Some(plugin)
    {
        return Err(bad_body(format!(
            "Included connector type {class} does not match request type {p}"
        )));
    }
    let worker = s.worker.config().clone();
    // As Kafka's herder: placeholders resolve before validation (secrets show `[hidden]`).
    let props = worker
        .providers
        .resolve(&props)
        .map_err(|e| bad_body(e.to_string()))?;
    let infos = crate::validate::validate(plugin, &props, &worker);
    Ok(ok(infos))
}

async fn list_loggers(AxumState(s): AxumState<RestState>) -> Response {
    let mut body = Map::new();
    for (name, level, last) in s.logs.all() {
        body.insert(name, json!({"level": level, "last_modified": last}));
    }
    ok(Value::Object(body))
}

async fn get_logger(AxumState(s): AxumState<RestState>, Path(name): Path<String>) -> Handled {
    match s.logs.level(&name) {
        Some((level, last)) => Ok(ok(json!({"level": level, "last_modified": last}))),
        None => Err(ApiError::new(404, format!("Logger {name} not found.")).into_response()),
    }
}

async fn set_logger(
    AxumState(s): AxumState<RestState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let req = parse_body(&headers, &body)?;
    let Some(Ordered::String(level)) = req.get("level") else {
        return Err(bad_body(
            "The request body must specify a string 'level' field",
        ));
    };
    let params = query_params(&q);
    if let Some((_, scope)) = params.iter().find(|(k, _)| k == "scope")
        && !scope.eq_ignore_ascii_case("worker")
    {
        return Err(bad_body(format!(
            "Invalid scope '{scope}'; this standalone worker only supports scope 'worker'"
        )));
    }
    match s.logs.set(&name, level) {
        Some(changed) => Ok(ok(json!(changed))),
        None => Err(bad_body(format!("Invalid log level '{level}'."))),
    }
}
