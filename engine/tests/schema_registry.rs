//! Schema Registry data end to end: `sluice schema-registry` answered as Confluent's REST API
//! (and durable across `kill -9`), Confluent's own Python `AvroSerializer` producing standard
//! events that a ParquetSink with `AvroConverter` writes (checked by pyarrow and duckdb),
//! and a FileStreamSource writing Avro that Confluent's `AvroDeserializer` reads back; a
//! mid-stream schema change that the registry accepts under BACKWARD (and an incompatible one
//! it refuses) and that the Parquet files follow as `schema.compatibility` says.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sluice_codecs::events::OrderEvents;

/// A running `sluice schema-registry`.
struct Registry {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Registry {
    fn start(data: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(data, port)
    }

    fn start_on(data: &Path, port: u16) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "schema-registry",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
            ])
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = Self {
            child,
            port,
            data: data.to_path_buf(),
        };
        wait_for("the registry to answer", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        r
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let text = body.map(|b| b.to_string());
        let (status, headers, answer) =
            http(method, &format!("{}{path}", self.url()), text.as_deref());
        if status < 300 {
            let ct = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.as_str());
            assert!(
                path.ends_with("/schema") || ct == Some("application/vnd.schemaregistry.v1+json"),
                "{path}: {ct:?}"
            );
        }
        (
            status,
            serde_json::from_str(&answer).unwrap_or(Value::String(answer)),
        )
    }

    fn kill9_and_restart(mut self) -> Self {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        Self::start_on(&self.data.clone(), self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const V1: &str =
    r#"{"type":"record","name":"E","namespace":"t","fields":[{"name":"id","type":"long"}]}"#;
const V2: &str = r#"{"type":"record","name":"E","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"note","type":["null","string"],"default":null}]}"#;
const V3_BAD: &str = r#"{"type":"record","name":"E","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"must","type":"string"}]}"#;

#[test]
fn rest_api_answers_as_confluent_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let r = Registry::start(&dir.path().join("registry"));
    assert_eq!(r.call("GET", "/subjects", None), (200, json!([])));
    assert_eq!(
        r.call(
            "POST",
            "/subjects/orders-value/versions",
            Some(json!({"schema": V1}))
        ),
        (200, json!({"id": 1}))
    );
    // The same schema again: same id, no new version; under another subject: same id.
    assert_eq!(
        r.call(
            "POST",
            "/subjects/orders-value/versions",
            Some(json!({"schema": V1}))
        ),
        (200, json!({"id": 1}))
    );
    assert_eq!(
        r.call(
            "POST",
            "/subjects/other-value/versions",
            Some(json!({"schema": V1}))
        ),
        (200, json!({"id": 1}))
    );
    assert_eq!(
        r.call(
            "POST",
            "/subjects/orders-value/versions",
            Some(json!({"schema": V2}))
        ),
        (200, json!({"id": 2}))
    );
    let (status, body) = r.call(
        "POST",
        "/subjects/orders-value/versions",
        Some(json!({"schema": V3_BAD})),
    );
    assert_eq!((status, &body["error_code"]), (409, &json!(409)), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Schema being registered is incompatible with an earlier schema for subject \"orders-value\""),
        "{body}"
    );
    assert_eq!(
        r.call("GET", "/schemas/ids/1", None),
        (200, json!({"schema": V1}))
    );
    assert_eq!(
        r.call("GET", "/schemas/ids/9", None),
        (
            404,
            json!({"error_code": 40403, "message": "Schema 9 not found"})
        )
    );
    assert_eq!(
        r.call("GET", "/subjects/orders-value/versions", None),
        (200, json!([1, 2]))
    );
    assert_eq!(
        r.call("GET", "/subjects/orders-value/versions/latest", None),
        (
            200,
            json!({"subject": "orders-value", "version": 2, "id": 2, "schema": V2})
        )
    );
    assert_eq!(
        r.call("GET", "/subjects/orders-value/versions/1/schema", None),
        (200, serde_json::from_str(V1).unwrap())
    );
    assert_eq!(
        r.call(
            "POST",
            "/subjects/orders-value",
            Some(json!({"schema": V1}))
        ),
        (
            200,
            json!({"subject": "orders-value", "version": 1, "id": 1, "schema": V1})
        )
    );
    assert_eq!(
        r.call("GET", "/subjects/nope/versions", None),
        (
            404,
            json!({"error_code": 40401, "message": "Subject 'nope' not found."})
        )
    );
    assert_eq!(
        r.call("GET", "/subjects/orders-value/versions/7", None),
        (
            404,
            json!({"error_code": 40402, "message": "Version 7 not found."})
        )
    );
    assert_eq!(
        r.call("GET", "/config", None),
        (200, json!({"compatibilityLevel": "BACKWARD"}))
    );
    assert_eq!(
        r.call(
            "PUT",
            "/config/other-value",
            Some(json!({"compatibility": "NONE"}))
        ),
        (200, json!({"compatibility": "NONE"}))
    );
    assert_eq!(
        r.call(
            "POST",
            "/compatibility/subjects/orders-value/versions/latest",
            Some(json!({"schema": V3_BAD}))
        ),
        (200, json!({"is_compatible": false}))
    );
    assert_eq!(
        r.call("GET", "/schemas/ids/1/versions", None)
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        r.call("DELETE", "/subjects/other-value", None),
        (200, json!([1]))
    );
    assert_eq!(
        r.call("GET", "/subjects", None),
        (200, json!(["orders-value"]))
    );

    // Killed without warning, restarted on the same data: everything is still there.
    let r = r.kill9_and_restart();
    assert_eq!(
        r.call("GET", "/subjects", None),
        (200, json!(["orders-value"]))
    );
    assert_eq!(
        r.call("GET", "/subjects/orders-value/versions", None),
        (200, json!([1, 2]))
    );
    assert_eq!(
        r.call("GET", "/schemas/ids/2", None),
        (200, json!({"schema": V2}))
    );
    assert_eq!(
        r.call("GET", "/config/other-value", None),
        (200, json!({"compatibilityLevel": "NONE"}))
    );
    // Ids go on from where they were.
    let v4 = r#"{"type":"record","name":"F","fields":[{"name":"x","type":"int"}]}"#;
    assert_eq!(
        r.call(
            "POST",
            "/subjects/f-value/versions",
            Some(json!({"schema": v4}))
        ),
        (200, json!({"id": 3}))
    );
}

fn connector(dir: &Path, name: &str, topic: &str, registry: &str, converter: &str) -> PathBuf {
    let config = json!({
        "connector.class": "io.confluent.connect.hdfs.HdfsSinkConnector",
        "format.class": "io.confluent.connect.hdfs.parquet.ParquetFormat",
        "tasks.max": "1",
        "topics": topic,
        "store.url": format!("file://{}", dir.join("out").display()),
        "flush.size": "50000",
        "rotate.schedule.interval.ms": "3000",
        "timezone": "UTC",
        "parquet.codec": "zstd",
        "value.converter": converter,
        "value.converter.schema.registry.url": registry,
        "consumer.override.session.timeout.ms": "6000",
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json!({"name": name, "config": config}).to_string()).unwrap();
    path
}

#[test]
fn confluent_avro_serializer_to_parquet_every_row_typed() {
    serializer_to_parquet_every_row_typed(
        "avro_orders.py",
        "io.confluent.connect.avro.AvroConverter",
        "avro-pq",
    );
}

#[test]
fn confluent_protobuf_serializer_to_parquet_every_row_typed() {
    serializer_to_parquet_every_row_typed(
        "protobuf_orders.py",
        "io.confluent.connect.protobuf.ProtobufConverter",
        "proto-pq",
    );
}

/// Confluent's Python serializer (`script`) produces 200,000 standard events through
/// sluice's registry; a ParquetSink with `converter` writes them; pyarrow and duckdb read
/// every row back typed and equal to the input.
fn serializer_to_parquet_every_row_typed(script: &str, converter: &str, prefix: &str) {
    require_broker();
    const N: usize = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(&dir.path().join("registry"));
    let topic = unique(prefix);
    create_topic(&topic, 2);
    let file = dir.path().join("events.jsonl");
    let input = events_file(&file, &mut OrderEvents::new(), N);
    let produced = python_json(
        script,
        &[
            "produce",
            &registry.url(),
            &topic,
            file.to_str().unwrap(),
            &bootstrap(),
        ],
    );
    assert_eq!(produced["produced"], json!(N));
    // Confluent's serializer registered the schema under <topic>-value.
    let (_, versions) = registry.call("GET", &format!("/subjects/{topic}-value/versions"), None);
    assert_eq!(versions, json!([1]));

    let c = connector(
        dir.path(),
        &unique(prefix),
        &topic,
        &registry.url(),
        converter,
    );
    let w = worker_props(dir.path(), 500);
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    let out = dir.path().join("out");
    let count =
        || python_json("read_parquet.py", &[out.as_os_str(), "".as_ref()])["duckdb_count"].as_u64();
    wait_for(
        "200,000 rows in committed files",
        Duration::from_secs(180),
        || count() == Some(N as u64),
    );
    assert!(sluice.terminate().success());
    let cols = "id,user,amount,currency,ts,country,tags,device,flag,note";
    let got = python_json("read_parquet.py", &[out.as_os_str(), cols.as_ref()]);
    for f in got["files"].as_array().unwrap() {
        let schema = &f["schema"];
        assert_eq!(schema["id"], "int64", "{schema}");
        assert_eq!(schema["amount"], "double");
        assert_eq!(schema["ts"], "int64");
        assert_eq!(schema["flag"], "bool");
        assert!(
            schema["tags"].as_str().unwrap().starts_with("list<"),
            "{schema}"
        );
        assert!(
            schema["device"].as_str().unwrap().starts_with("struct<"),
            "{schema}"
        );
    }
    for reader in ["rows", "duckdb_rows"] {
        let rows = got[reader].as_array().unwrap();
        assert_eq!(rows.len(), N, "{reader}");
        let mut seen = std::collections::HashSet::with_capacity(N);
        for r in rows {
            let id = r[0].as_i64().unwrap();
            assert!(seen.insert(id), "{reader}: duplicate {id}");
            let want = &input[&id];
            assert_eq!(r[1], want["user"], "{reader} {id}");
            assert_eq!(r[2].as_f64(), want["amount"].as_f64(), "{reader} {id}");
            assert_eq!(r[3], want["currency"]);
            assert_eq!(r[4], want["ts"]);
            assert_eq!(r[5], want["country"]);
            assert_eq!(r[6], want["tags"], "{reader} {id}");
            let device = match &r[7] {
                Value::String(s) => serde_json::from_str(&s.replace('\'', "\"")).unwrap(),
                v => v.clone(),
            };
            assert_eq!(
                device["os"], want["device"]["os"],
                "{reader} {id}: {device}"
            );
            assert_eq!(device["version"], want["device"]["version"]);
            assert_eq!(r[8], want["flag"]);
            assert_eq!(r[9], want["note"], "{reader} {id}");
        }
    }
}

#[test]
fn file_source_writes_avro_that_confluents_deserializer_reads() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(&dir.path().join("registry"));
    let topic = unique("avro-src");
    create_topic(&topic, 1);
    let input = dir.path().join("in.txt");
    let want: Vec<String> = (0..500).map(|i| format!("line {i} with ünïcode")).collect();
    append_lines(&input, want.clone());
    let config = json!({"name": unique("avro-src"), "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "file": input.display().to_string(),
        "topic": topic,
        "value.converter": "io.confluent.connect.avro.AvroConverter",
        "value.converter.schema.registry.url": registry.url(),
    }});
    let c = write_file(&dir.path().join("source.json"), &config.to_string());
    let w = worker_props(dir.path(), 500);
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    let got = python_json(
        "avro_orders.py",
        &["consume", &registry.url(), &topic, "500", &bootstrap()],
    );
    assert!(sluice.terminate().success());
    let records: Vec<String> = got["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(records, want);
    // AvroConverter registered the source's value schema (Connect's STRING) under <topic>-value.
    let (_, latest) = registry.call(
        "GET",
        &format!("/subjects/{topic}-value/versions/latest"),
        None,
    );
    assert_eq!(latest["schema"], json!(r#""string""#), "{latest}");
}

/// Writes `n` standard events to a JSON-lines file; returns them by id.
fn events_file(path: &Path, events: &mut OrderEvents, n: usize) -> HashMap<i64, Value> {
    let mut by_id = HashMap::with_capacity(n);
    let mut lines = Vec::new();
    for _ in 0..n {
        let mut v = Vec::new();
        events.write_next(&mut v);
        let e: Value = serde_json::from_slice(&v).unwrap();
        by_id.insert(e["id"].as_i64().unwrap(), e);
        lines.extend_from_slice(&v);
        lines.push(b'\n');
    }
    std::fs::write(path, &lines).unwrap();
    by_id
}

#[test]
fn a_mid_stream_schema_change_registers_under_backward_and_parquet_follows_compatibility() {
    require_broker();
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(&dir.path().join("registry"));
    let topic = unique("avro-evolve");
    create_topic(&topic, 1);
    let mut events = OrderEvents::new();
    let first = dir.path().join("v1.jsonl");
    let second = dir.path().join("v2.jsonl");
    let v1_ids = events_file(&first, &mut events, N);
    let v2_ids = events_file(&second, &mut events, N);
    for (file, version) in [(&first, "v1"), (&second, "v2")] {
        let produced = python_json(
            "avro_orders.py",
            &[
                "produce",
                &registry.url(),
                &topic,
                file.to_str().unwrap(),
                &bootstrap(),
                version,
            ],
        );
        assert_eq!(produced["produced"], json!(N));
    }
    // v2 (an optional field with a default) registered as version 2 under BACKWARD.
    let subject = format!("{topic}-value");
    let (_, versions) = registry.call("GET", &format!("/subjects/{subject}/versions"), None);
    assert_eq!(versions, json!([1, 2]));
    // A required field without a default cannot read v2 data: 409 with Confluent's body.
    let (_, v2) = registry.call("GET", &format!("/subjects/{subject}/versions/2"), None);
    let mut bad: Value = serde_json::from_str(v2["schema"].as_str().unwrap()).unwrap();
    bad["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "required_extra", "type": "long"}));
    let (status, body) = registry.call(
        "POST",
        &format!("/subjects/{subject}/versions"),
        Some(json!({"schema": bad.to_string()})),
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error_code"], json!(409), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Schema being registered is incompatible with an earlier schema"),
        "{body}"
    );

    // One sink per `schema.compatibility`, each into its own directory.
    let mut configs = Vec::new();
    for level in ["NONE", "BACKWARD"] {
        let name = unique(&format!("evolve-{}", level.to_lowercase()));
        let config = json!({"name": name, "config": {
            "connector.class": "io.confluent.connect.hdfs.HdfsSinkConnector",
            "format.class": "io.confluent.connect.hdfs.parquet.ParquetFormat",
            "tasks.max": "1",
            "topics": topic,
            "store.url": format!("file://{}", dir.path().join(level).display()),
            "flush.size": "100000",
            "rotate.schedule.interval.ms": "3000",
            "timezone": "UTC",
            "schema.compatibility": level,
            "value.converter": "io.confluent.connect.avro.AvroConverter",
            "value.converter.schema.registry.url": registry.url(),
            "consumer.override.session.timeout.ms": "6000",
        }});
        configs.push(write_file(
            &dir.path().join(format!("{level}.json")),
            &config.to_string(),
        ));
    }
    let w = worker_props(dir.path(), 500);
    let refs: Vec<&Path> = configs.iter().map(PathBuf::as_path).collect();
    let sluice = Sluice::standalone(dir.path(), &w, &refs);
    let count = |level: &str| {
        python_json(
            "read_parquet.py",
            &[dir.path().join(level).as_os_str(), "".as_ref()],
        )["duckdb_count"]
            .as_u64()
    };
    wait_for(
        "2,000 rows under each level",
        Duration::from_secs(120),
        || count("NONE") == Some(2 * N as u64) && count("BACKWARD") == Some(2 * N as u64),
    );
    assert!(sluice.terminate().success());

    for level in ["NONE", "BACKWARD"] {
        let got = python_json(
            "read_parquet.py",
            &[dir.path().join(level).as_os_str(), "id".as_ref()],
        );
        let files = got["files"].as_array().unwrap();
        let mut ids_seen = 0;
        for f in files {
            let has_coupon = f["schema"].get("coupon").is_some();
            let path = dir.path().join(level).join(f["path"].as_str().unwrap());
            ids_seen += f["rows"].as_u64().unwrap();
            if level == "NONE" {
                // A new file on the schema change: no file mixes the versions.
                let ids: Vec<i64> =
                    python_json("read_parquet.py", &[path.as_os_str(), "id".as_ref()])["rows"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r[0].as_i64().unwrap())
                        .collect();
                let v1 = ids.iter().filter(|id| v1_ids.contains_key(id)).count();
                let v2 = ids.iter().filter(|id| v2_ids.contains_key(id)).count();
                assert!(
                    v1 == 0 || v2 == 0,
                    "{level}: {path:?} mixes {v1} v1 and {v2} v2 rows"
                );
                assert_eq!(has_coupon, v2 > 0, "{level}: {path:?}");
            }
        }
        assert_eq!(ids_seen, 2 * N as u64, "{level}");
        if level == "NONE" {
            assert!(files.len() >= 2, "{level}: {files:?}");
        }
    }
    // Under BACKWARD every v2 row keeps its coupon, every v1 row reads it as null.
    let backward = python_json(
        "read_parquet.py",
        &[dir.path().join("BACKWARD").as_os_str(), "".as_ref()],
    );
    for f in backward["files"].as_array().unwrap() {
        let path = dir
            .path()
            .join("BACKWARD")
            .join(f["path"].as_str().unwrap());
        let cols = if f["schema"].get("coupon").is_some() {
            "id,coupon"
        } else {
            "id"
        };
        let got = python_json("read_parquet.py", &[path.as_os_str(), cols.as_ref()]);
        for r in got["rows"].as_array().unwrap() {
            let id = r[0].as_i64().unwrap();
            let coupon = r.get(1).cloned().unwrap_or(Value::Null);
            if v2_ids.contains_key(&id) {
                assert_eq!(coupon, json!(format!("c{id}")), "BACKWARD {id}");
            } else {
                assert!(v1_ids.contains_key(&id), "BACKWARD: unknown id {id}");
                assert_eq!(coupon, Value::Null, "BACKWARD {id}");
            }
        }
    }
}
