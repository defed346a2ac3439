//! Every REST endpoint in process (the axum router called directly, the worker's tasks
//! against the real broker): status codes, headers and JSON bodies as Kafka Connect's,
//! byte for byte where the recorded transcript (`shared/reference`) shows them.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{Value, json};
use sluice_engine::config::WorkerConfig;
use sluice_engine::logging::LogLevels;
use sluice_engine::rest::{RestState, router};
use sluice_engine::worker::Worker;
use tower::ServiceExt;

struct Api {
    router: axum::Router,
    worker: Worker,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    location: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

impl Api {
    fn new() -> Self {
        Self::with(&[])
    }

    /// A worker with `extra` worker properties on top of the tests' defaults.
    fn with(extra: &[(&str, &str)]) -> Self {
        require_broker();
        let dir = tempfile::tempdir().unwrap();
        let props = [
            ("bootstrap.servers", bootstrap()),
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter".into(),
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter".into(),
            ),
            ("value.converter.schemas.enable", "false".into()),
            (
                "offset.storage.file.filename",
                dir.path().join("offsets").display().to_string(),
            ),
            ("offset.flush.interval.ms", "500".into()),
            ("consumer.session.timeout.ms", "6000".into()),
            ("listeners", "http://127.0.0.1:18083".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
        let worker = Worker::new(WorkerConfig::parse(props).unwrap()).unwrap();
        let router = router(RestState::new(worker.clone(), LogLevels::detached()));
        Self {
            router,
            worker,
            _dir: dir,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:18083");
        if let Some((ct, _)) = body {
            req = req.header("content-type", ct);
        }
        let req = req
            .body(Body::from(
                body.map(|(_, b)| b.to_string()).unwrap_or_default(),
            ))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let header = |h: &str| {
            resp.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let (status, content_type, location) =
            (resp.status(), header("content-type"), header("location"));
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        Reply {
            status,
            content_type,
            location,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn json(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.call(method, path, Some(("application/json", &body.to_string())))
            .await
    }

    async fn wait_task(&self, name: &str, state: &str) {
        for _ in 0..600 {
            let r = self
                .call("GET", &format!("/connectors/{name}/status"), None)
                .await;
            if r.status == 200 && r.json()["tasks"][0]["state"] == state {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{name} task never {state}");
    }
}

fn error_body(code: u16, message: &str) -> String {
    json!({"error_code": code, "message": message}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_health_plugins_loggers_metrics_and_unknown_paths() {
    let api = Api::new();
    let r = api.call("GET", "/", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["version"], "4.3.0");
    assert!(v["commit"].is_string());
    assert!(v["kafka_cluster_id"].is_string(), "{v}");

    let r = api.call("GET", "/health", None).await;
    assert_eq!(r.status, 503);
    api.worker.mark_started();
    let r = api.call("GET", "/health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "healthy");

    let r = api.call("GET", "/connector-plugins", None).await;
    assert_eq!(
        r.body,
        r#"[{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"4.3.0"},{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"4.3.0"},{"class":"sluice.connect.parquet.ParquetSinkConnector","type":"sink","version":"4.3.0"}]"#
    );
    let all = api
        .call("GET", "/connector-plugins?connectorsOnly=false", None)
        .await
        .json();
    let kinds = |k: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == k)
            .count()
    };
    assert_eq!(
        (
            kinds("transformation"),
            kinds("predicate"),
            kinds("converter"),
            kinds("header_converter")
        ),
        (26, 3, 9, 10)
    );
    let r = api
        .call("GET", "/connector-plugins/FileStreamSink/config", None)
        .await;
    assert_eq!(r.json()[0]["name"], "file");

    let r = api
        .json("PUT", "/connector-plugins/FileStreamSinkConnector/config/validate", &json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "name": "v1", "tasks.max": "x", "topics": "t", "file": "/tmp/v1.txt"}))
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["name"],
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
    assert_eq!(v["error_count"], 2);
    assert_eq!(
        v["groups"],
        json!(["Common", "Transforms", "Predicates", "Error Handling"])
    );
    let name_entry = &v["configs"][0];
    assert_eq!(name_entry["definition"]["name"], "name");
    assert_eq!(
        name_entry["value"],
        json!({"name":"name","value":"v1","recommended_values":[],"errors":[],"visible":true})
    );
    let r = api
        .json("PUT", "/connector-plugins/FileStreamSourceConnector/config/validate", &json!({"connector.class": "FileStreamSink", "tasks.max": "1", "topics": "t", "file": "/tmp/v2.txt"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        error_body(
            400,
            "Included connector type FileStreamSink does not match request type FileStreamSourceConnector"
        )
    );

    let r = api.call("GET", "/admin/loggers", None).await;
    assert_eq!(r.json()["root"]["level"], "INFO");
    let r = api
        .json(
            "PUT",
            "/admin/loggers/sluice_engine::runtime",
            &json!({"level": "DEBUG"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(["sluice_engine::runtime"]));
    let r = api
        .call("GET", "/admin/loggers/sluice_engine::runtime", None)
        .await;
    assert_eq!(r.json()["level"], "DEBUG");
    let r = api
        .json("PUT", "/admin/loggers/x", &json!({"level": "LOUD"}))
        .await;
    assert_eq!(r.status, 400);

    let r = api.call("GET", "/metrics", None).await;
    assert_eq!(r.status, 200);
    let scrape =
        prometheus_parse::Scrape::parse(r.body.lines().map(|l| Ok(l.to_string()))).unwrap();
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "kafka_connect_worker_connector_count")
    );

    let r = api.call("GET", "/nonexistent", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (404, r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#)
    );
    assert_eq!(r.content_type, None, "Jersey's own 404 has no Content-Type");
    let r = api.call("DELETE", "/connectors", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (
            405,
            r#"{"error_code":405,"message":"HTTP 405 Method Not Allowed"}"#
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_errors_match_kafka() {
    let api = Api::new();
    assert_eq!(api.call("GET", "/connectors", None).await.body, "[]");
    let body = r#"{"name":"s3","config":{"tasks.max":"1","topics":"t","file":"/tmp/s3.txt"}}"#;
    let r = api
        .call("POST", "/connectors", Some(("application/json", body)))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        error_body(
            400,
            "Connector config {tasks.max=1, topics=t, file=/tmp/s3.txt, name=s3} contains no connector type"
        )
    );
    let r = api.json("POST", "/connectors", &json!({"config": {"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/x.txt"}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        error_body(
            400,
            "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value  for configuration name: String may not be empty\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
        )
    );
    let r = api
        .json(
            "POST",
            "/connectors",
            &json!({"name": "s5", "config": {"connector.class": "NoSuchConnector", "topics": "t"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().starts_with("Failed to find any class that implements Connector and which name matches NoSuchConnector, available connectors are: PluginDesc{klass=class org.apache.kafka.connect.file.FileStreamSourceConnector"), "{}", r.body);
    let r = api.json("POST", "/connectors", &json!({"name": "s5", "config": {"connector.class": "FileStreamSink", "topics": "t", "tasks.max": "0"}})).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("tasks.max"), "{}", r.body);
    for (ct, body) in [
        (
            "application/json",
            r#"{"name":"bad","config":{"connector.class":"FileStreamSink","#,
        ),
        ("application/json", "not json"),
        ("application/json", ""),
        ("application/json", r#"{"name":"s5","config":"oops"}"#),
    ] {
        let r = api.call("POST", "/connectors", Some((ct, body))).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.json()["error_code"], 400);
    }
    let r = api
        .call(
            "POST",
            "/connectors",
            Some(("text/plain", r#"{"name":"s5","config":{}}"#)),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (
            415,
            r#"{"error_code":415,"message":"HTTP 415 Unsupported Media Type"}"#
        )
    );
    let r = api.json("POST", "/connectors", &json!({"name": "s6", "config": {"connector.class": "FileStreamSink", "topics": "t"}, "initial_state": "SLEEPING"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_lifecycle_endpoints() {
    let api = Api::new();
    let topic = unique("rest-in");
    tokio::task::block_in_place(|| {
        create_topic(&topic, 1);
        produce(
            &topic,
            (0..20).map(|i| (None, format!("{{\"i\":{i}}}").into_bytes())),
        );
    });
    let name = unique("s1");
    let file = api._dir.path().join("s1.txt");
    let config = json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "tasks.max": "1", "topics": topic, "file": file, "consumer.override.session.timeout.ms": "6000"});
    // Written out by hand: the member order of the request is what Kafka echoes.
    let file_json = Value::from(file.display().to_string());
    let create = format!(
        r#"{{"name":"{name}","config":{{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","tasks.max":"1","topics":"{topic}","file":{file_json},"consumer.override.session.timeout.ms":"6000"}}}}"#
    );
    let r = api
        .call("POST", "/connectors", Some(("application/json", &create)))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("http://127.0.0.1:18083/connectors/{name}").as_str())
    );
    let info = format!(
        r#"{{"name":"{name}","config":{{"connector.class":"org.apache.kafka.connect.file.FileStreamSinkConnector","tasks.max":"1","topics":"{topic}","file":{},"consumer.override.session.timeout.ms":"6000","name":"{name}"}},"tasks":[{{"connector":"{name}","task":0}}],"type":"sink"}}"#,
        Value::from(file.display().to_string())
    );
    assert_eq!(
        r.body, info,
        "config echoed in request order, name appended"
    );
    let r = api
        .call("POST", "/connectors", Some(("application/json", &create)))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (
            409,
            error_body(409, &format!("Connector {name} already exists"))
        )
    );

    assert_eq!(
        api.call("GET", &format!("/connectors/{name}"), None)
            .await
            .body,
        info
    );
    let cfg = api
        .call("GET", &format!("/connectors/{name}/config"), None)
        .await
        .json();
    assert_eq!(cfg["name"], name.as_str());
    let tasks = api
        .call("GET", &format!("/connectors/{name}/tasks"), None)
        .await
        .json();
    assert_eq!(tasks[0]["id"], json!({"connector": name, "task": 0}));
    assert_eq!(
        tasks[0]["config"]["task.class"],
        "org.apache.kafka.connect.file.FileStreamSinkTask"
    );
    api.wait_task(&name, "RUNNING").await;
    let st = api
        .call("GET", &format!("/connectors/{name}/status"), None)
        .await;
    assert_eq!(
        st.body,
        format!(
            r#"{{"name":"{name}","connector":{{"state":"RUNNING","worker_id":"127.0.0.1:18083"}},"tasks":[{{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:18083"}}],"type":"sink"}}"#
        )
    );
    let t = api
        .call("GET", &format!("/connectors/{name}/tasks/0/status"), None)
        .await;
    assert_eq!(
        t.body,
        r#"{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:18083"}"#
    );
    let t = api
        .call("GET", &format!("/connectors/{name}/tasks/7/status"), None)
        .await;
    assert_eq!(
        (t.status.as_u16(), t.body),
        (
            404,
            error_body(404, &format!("No status found for task {name}-7"))
        )
    );
    let expanded = api
        .call("GET", "/connectors?expand=status&expand=info", None)
        .await
        .json();
    assert_eq!(expanded[&name]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(expanded[&name]["info"]["type"], "sink");
    let only = api
        .call("GET", "/connectors?expand=status", None)
        .await
        .json();
    assert!(only[&name].get("info").is_none());

    // Records flow; the topic becomes active and the offsets show up.
    for _ in 0..600 {
        if lines(&file).len() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(lines(&file).len(), 20);
    let r = api
        .call("GET", &format!("/connectors/{name}/topics"), None)
        .await;
    assert_eq!(r.json(), json!({ &name: {"topics": [&topic]} }));
    let r = api
        .call("PUT", &format!("/connectors/{name}/topics/reset"), None)
        .await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (202, ""));
    assert_eq!(
        api.call("GET", &format!("/connectors/{name}/topics"), None)
            .await
            .json()[&name]["topics"],
        json!([])
    );

    // Pause and resume: 202 with an empty body.
    let r = api
        .call("PUT", &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!(
        (
            r.status.as_u16(),
            r.body.as_str(),
            r.content_type.as_deref()
        ),
        (202, "", None)
    );
    api.wait_task(&name, "PAUSED").await;
    let r = api
        .call("PUT", &format!("/connectors/{name}/resume"), None)
        .await;
    assert_eq!(r.status, 202);
    api.wait_task(&name, "RUNNING").await;
    let r = api.call("PUT", "/connectors/nosuch/pause", None).await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (404, error_body(404, "Unknown connector nosuch"))
    );

    // Restarts.
    let r = api
        .call("POST", &format!("/connectors/{name}/restart"), None)
        .await;
    assert_eq!(r.status, 204);
    let r = api
        .call(
            "POST",
            &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
            None,
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        r.json()["tasks"][0]["state"],
        "RUNNING",
        "only failed tasks restart"
    );
    let r = api
        .call("POST", &format!("/connectors/{name}/tasks/0/restart"), None)
        .await;
    assert_eq!(r.status, 204);
    let r = api
        .call("POST", &format!("/connectors/{name}/tasks/5/restart"), None)
        .await;
    assert_eq!(r.status, 404);
    api.wait_task(&name, "RUNNING").await;

    // Offsets: readable any time, changeable only when STOPPED.
    for _ in 0..100 {
        let o = api
            .call("GET", &format!("/connectors/{name}/offsets"), None)
            .await
            .json();
        if o["offsets"][0]["offset"]["kafka_offset"] == 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let o = api
        .call("GET", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(
        o.body,
        format!(
            r#"{{"offsets":[{{"partition":{{"kafka_partition":0,"kafka_topic":"{topic}"}},"offset":{{"kafka_offset":20}}}}]}}"#
        )
    );
    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (
            400,
            error_body(
                400,
                &format!(
                    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
                )
            )
        )
    );
    let r = api
        .call("PUT", &format!("/connectors/{name}/stop"), None)
        .await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (204, ""));
    let st = api
        .call("GET", &format!("/connectors/{name}/status"), None)
        .await;
    assert_eq!(
        st.body,
        format!(
            r#"{{"name":"{name}","connector":{{"state":"STOPPED","worker_id":"127.0.0.1:18083"}},"tasks":[],"type":"sink"}}"#
        )
    );
    assert_eq!(
        api.call("GET", &format!("/connectors/{name}/tasks"), None)
            .await
            .body,
        "[]"
    );
    let patch = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 7}}]});
    let r = api
        .json("PATCH", &format!("/connectors/{name}/offsets"), &patch)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (
            200,
            r#"{"message":"The offsets for this connector have been altered successfully"}"#
        )
    );
    let o = api
        .call("GET", &format!("/connectors/{name}/offsets"), None)
        .await
        .json();
    assert_eq!(o["offsets"][0]["offset"]["kafka_offset"], 7);
    let bad =
        json!({"offsets": [{"partition": {"kafka_partition": 0}, "offset": {"kafka_offset": 7}}]});
    assert_eq!(
        api.json("PATCH", &format!("/connectors/{name}/offsets"), &bad)
            .await
            .status,
        400
    );
    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (
            200,
            r#"{"message":"The offsets for this connector have been reset successfully"}"#
        )
    );
    assert_eq!(
        api.call("GET", &format!("/connectors/{name}/offsets"), None)
            .await
            .body,
        r#"{"offsets":[]}"#
    );

    // Config: PUT updates (200), PATCH merges and null deletes, a name mismatch is refused.
    let r = api
        .json("PUT", &format!("/connectors/{name}/config"), &config)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .json(
            "PATCH",
            &format!("/connectors/{name}/config"),
            &json!({"tasks.max": "2", "consumer.override.session.timeout.ms": null}),
        )
        .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["config"]["tasks.max"], "2");
    assert!(
        v["config"]
            .get("consumer.override.session.timeout.ms")
            .is_none()
    );
    assert_eq!(v["tasks"], json!([]), "still STOPPED");
    let r = api
        .json(
            "PUT",
            &format!("/connectors/{name}/config"),
            &json!({"connector.class": "FileStreamSink", "name": "other", "topics": topic}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (
            400,
            error_body(
                400,
                &format!(
                    "Connector name configuration (other) doesn't match connector name in the URL ({name})"
                )
            )
        )
    );

    let r = api
        .call("DELETE", &format!("/connectors/{name}"), None)
        .await;
    assert_eq!(r.status, 204);
    let r = api
        .call("DELETE", &format!("/connectors/{name}"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (404, error_body(404, &format!("Connector {name} not found")))
    );
    let r = api
        .call("GET", &format!("/connectors/{name}/status"), None)
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body),
        (
            404,
            error_body(404, &format!("No status found for connector {name}"))
        )
    );
    let r = api
        .call("GET", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_config_creates_and_source_offsets() {
    let api = Api::new();
    let name = unique("s4");
    let src = unique("src");
    let cfg = json!({"connector.class": "FileStreamSource", "topic": unique("out"), "file": api._dir.path().join("in.txt")});
    let r = api
        .json("PUT", &format!("/connectors/{src}/config"), &cfg)
        .await;
    assert_eq!(r.status, 201);
    assert!(
        r.location
            .clone()
            .unwrap()
            .ends_with(&format!("/connectors/{src}"))
    );
    assert_eq!(r.json()["type"], "source");
    let r = api
        .json("PUT", &format!("/connectors/{src}/config"), &cfg)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        api.call("PUT", &format!("/connectors/{src}/stop"), None)
            .await
            .status,
        204
    );
    let patch = json!({"offsets": [{"partition": {"filename": "/data/in.txt"}, "offset": {"position": 42}}]});
    let r = api
        .json("PATCH", &format!("/connectors/{src}/offsets"), &patch)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        api.call("GET", &format!("/connectors/{src}/offsets"), None)
            .await
            .body,
        r#"{"offsets":[{"partition":{"filename":"/data/in.txt"},"offset":{"position":42}}]}"#
    );
    let bad = json!({"offsets": [{"partition": {"file": "x"}, "offset": {"position": 1}}]});
    assert_eq!(
        api.json("PATCH", &format!("/connectors/{src}/offsets"), &bad)
            .await
            .status,
        400
    );
    assert_eq!(
        api.call("DELETE", &format!("/connectors/{src}/offsets"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        api.call("GET", &format!("/connectors/{src}/offsets"), None)
            .await
            .body,
        r#"{"offsets":[]}"#
    );

    // initial_state STOPPED: no tasks, status STOPPED.
    let r = api.json("POST", "/connectors", &json!({"name": name, "config": {"connector.class": "FileStreamSink", "topics": "t"}, "initial_state": "STOPPED"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["tasks"], json!([]));
    assert_eq!(
        api.call("GET", &format!("/connectors/{name}/status"), None)
            .await
            .json()["connector"]["state"],
        "STOPPED"
    );
    api.worker.shutdown().unwrap();
}

/// `connector.client.config.override.policy`: a refused override fails creation and shows
/// under its own key in validation, with Kafka's message; an allowed one passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_override_policy_refuses_with_kafkas_message() {
    let api = Api::with(&[
        ("connector.client.config.override.policy", "Allowlist"),
        ("connector.client.config.override.allowlist", "client.id"),
    ]);
    let config = json!({
        "connector.class": "FileStreamSink",
        "topics": "t",
        "file": "/tmp/policy.txt",
        "consumer.override.max.poll.records": "10",
        "consumer.override.client.id": "mine",
    });
    let r = api
        .json(
            "POST",
            "/connectors",
            &json!({"name": "pol", "config": config}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        error_body(
            400,
            "Connector configuration is invalid and contains the following 1 error(s):\nThe 'Allowlist' policy does not allow 'max.poll.records' to be overridden in the connector configuration.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
        )
    );
    let mut with_name = config.clone();
    with_name["name"] = json!("pol");
    let r = api
        .json(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            &with_name,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let infos = r.json();
    assert_eq!(infos["error_count"], 1);
    let refused = infos["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "consumer.override.max.poll.records")
        .unwrap();
    assert_eq!(
        refused["value"]["errors"][0],
        "The 'Allowlist' policy does not allow 'max.poll.records' to be overridden in the connector configuration."
    );
    // The allowed override alone is accepted.
    let mut allowed = config.clone();
    allowed
        .as_object_mut()
        .unwrap()
        .remove("consumer.override.max.poll.records");
    let r = api.json("PUT", "/connectors/pol/config", &allowed).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        api.call("DELETE", "/connectors/pol", None).await.status,
        204
    );
    api.worker.shutdown().unwrap();
}
