//! `sluice schema-registry`: Confluent Schema Registry's REST API (the endpoints serializers,
//! converters and operators use) over the durable [`Store`], with Confluent's bodies, status
//! codes and error codes.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use sluice_codecs::registry::SchemaKind;

use super::store::{Compatibility, Store, StoreError, StoredSchema, Version};

type Shared = State<Arc<Store>>;

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

fn reply(status: StatusCode, body: &Json) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    r
}

fn ok(body: Json) -> Response {
    reply(StatusCode::OK, &body)
}

fn failed(e: &StoreError) -> Response {
    reply(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &e.body(),
    )
}

fn answer(r: Result<Json, StoreError>) -> Response {
    match r {
        Ok(b) => ok(b),
        Err(e) => failed(&e),
    }
}

/// The request body's schema and type (`schemaType` absent = AVRO).
fn schema_request(body: &Bytes) -> Result<(SchemaKind, String), StoreError> {
    let bad = |m: String| StoreError {
        status: 400,
        code: 400,
        message: m,
    };
    let v: Json =
        serde_json::from_slice(body).map_err(|e| bad(format!("Unrecognized request body: {e}")))?;
    let kind = match v.get("schemaType").and_then(Json::as_str) {
        None => SchemaKind::Avro,
        Some(t) => SchemaKind::parse(&t.to_ascii_uppercase()).ok_or_else(|| StoreError {
            status: 422,
            code: 42201,
            message: format!("Invalid schema type {t}"),
        })?,
    };
    let schema = v
        .get("schema")
        .and_then(Json::as_str)
        .ok_or_else(|| StoreError::invalid_schema("(empty)"))?;
    Ok((kind, schema.to_string()))
}

fn version_body(subject: &str, v: &Version, s: &StoredSchema) -> Json {
    let mut b = json!({"subject": subject, "version": v.version, "id": v.id, "schema": s.schema});
    if s.kind != SchemaKind::Avro {
        b["schemaType"] = json!(s.kind.as_str());
    }
    b
}

#[derive(serde::Deserialize, Default)]
struct DeleteQuery {
    permanent: Option<bool>,
}

async fn root() -> Response {
    ok(json!({}))
}

async fn types() -> Response {
    ok(json!(["JSON", "PROTOBUF", "AVRO"]))
}

async fn schema_by_id(State(st): Shared, Path(id): Path<i32>) -> Response {
    answer(st.schema_by_id(id).map(|s| {
        let mut b = json!({"schema": s.schema});
        if s.kind != SchemaKind::Avro {
            b["schemaType"] = json!(s.kind.as_str());
        }
        b
    }))
}

async fn raw_schema_by_id(State(st): Shared, Path(id): Path<i32>) -> Response {
    match st.schema_by_id(id) {
        Ok(s) => (StatusCode::OK, s.schema).into_response(),
        Err(e) => failed(&e),
    }
}

async fn id_versions(State(st): Shared, Path(id): Path<i32>) -> Response {
    answer(st.schema_by_id(id).map(|_| {
        Json::Array(
            st.versions_of_id(id)
                .into_iter()
                .map(|(s, v)| json!({"subject": s, "version": v}))
                .collect(),
        )
    }))
}

async fn id_subjects(State(st): Shared, Path(id): Path<i32>) -> Response {
    answer(st.schema_by_id(id).map(|_| {
        let mut subjects: Vec<String> = st.versions_of_id(id).into_iter().map(|(s, _)| s).collect();
        subjects.dedup();
        json!(subjects)
    }))
}

async fn subjects(State(st): Shared) -> Response {
    ok(json!(st.subjects()))
}

async fn register(State(st): Shared, Path(subject): Path<String>, body: Bytes) -> Response {
    answer(
        schema_request(&body)
            .and_then(|(kind, schema)| st.register(&subject, kind, &schema))
            .map(|id| json!({"id": id})),
    )
}

async fn lookup(State(st): Shared, Path(subject): Path<String>, body: Bytes) -> Response {
    answer(
        schema_request(&body)
            .and_then(|(kind, schema)| st.lookup(&subject, kind, &schema))
            .map(|(v, s)| version_body(&subject, &v, &s)),
    )
}

async fn delete_subject(
    State(st): Shared,
    Path(subject): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    answer(
        st.delete(&subject, None, q.permanent.unwrap_or(false))
            .map(|v| json!(v)),
    )
}

async fn versions(State(st): Shared, Path(subject): Path<String>) -> Response {
    answer(st.versions(&subject).map(|v| json!(v)))
}

async fn version(State(st): Shared, Path((subject, v)): Path<(String, String)>) -> Response {
    answer(
        st.version(&subject, &v)
            .map(|(v, s)| version_body(&subject, &v, &s)),
    )
}

async fn version_schema(State(st): Shared, Path((subject, v)): Path<(String, String)>) -> Response {
    match st.version(&subject, &v) {
        Ok((_, s)) => (StatusCode::OK, s.schema).into_response(),
        Err(e) => failed(&e),
    }
}

async fn delete_version(
    State(st): Shared,
    Path((subject, v)): Path<(String, String)>,
    Query(q): Query<DeleteQuery>,
) -> Response {
    answer(
        st.delete(&subject, Some(&v), q.permanent.unwrap_or(false))
            .map(|d| json!(d.first())),
    )
}

async fn compatible(
    State(st): Shared,
    Path((subject, v)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(
        schema_request(&body)
            .and_then(|(kind, schema)| st.is_compatible(&subject, &v, kind, &schema))
            .map(|c| json!({"is_compatible": c})),
    )
}

fn level_request(body: &Bytes) -> Result<Compatibility, StoreError> {
    serde_json::from_slice::<Json>(body)
        .ok()
        .and_then(|v| {
            v.get("compatibility")
                .and_then(Json::as_str)
                .and_then(Compatibility::parse)
        })
        .ok_or_else(StoreError::invalid_compatibility)
}

async fn get_global_config(State(st): Shared) -> Response {
    ok(
        json!({"compatibilityLevel": st.compatibility(None).unwrap_or(Compatibility::Backward).as_str()}),
    )
}

async fn put_global_config(State(st): Shared, body: Bytes) -> Response {
    answer(level_request(&body).and_then(|l| {
        st.set_compatibility(None, Some(l))?;
        Ok(json!({"compatibility": l.as_str()}))
    }))
}

async fn get_subject_config(State(st): Shared, Path(subject): Path<String>) -> Response {
    match st.compatibility(Some(&subject)) {
        Some(l) => ok(json!({"compatibilityLevel": l.as_str()})),
        None => failed(&StoreError {
            status: 404,
            code: 40408,
            message: format!(
                "Subject '{subject}' does not have subject-level compatibility configured"
            ),
        }),
    }
}

async fn put_subject_config(
    State(st): Shared,
    Path(subject): Path<String>,
    body: Bytes,
) -> Response {
    answer(level_request(&body).and_then(|l| {
        st.set_compatibility(Some(&subject), Some(l))?;
        Ok(json!({"compatibility": l.as_str()}))
    }))
}

async fn delete_subject_config(State(st): Shared, Path(subject): Path<String>) -> Response {
    let Some(old) = st.compatibility(Some(&subject)) else {
        return failed(&StoreError::subject_not_found(&subject));
    };
    answer(
        st.set_compatibility(Some(&subject), None)
            .map(|()| json!({"compatibilityLevel": old.as_str()})),
    )
}

async fn mode() -> Response {
    ok(json!({"mode": "READWRITE"}))
}

async fn not_found() -> Response {
    reply(
        StatusCode::NOT_FOUND,
        &json!({"error_code": 404, "message": "HTTP 404 Not Found"}),
    )
}

async fn method_not_allowed() -> Response {
    reply(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"error_code": 405, "message": "HTTP 405 Method Not Allowed"}),
    )
}

/// The registry's routes.
pub fn router(store: Arc<Store>) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/schemas/types", get(types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(version_schema),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatible),
        )
        .route("/config", get(get_global_config).put(put_global_config))
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route("/mode", get(mode))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(store)
}

/// Serves the registry on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<Store>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}
