//! The Parquet sink end to end against the real broker: files checked by independent readers
//! (pyarrow and duckdb, installed by `scripts/test.sh`), and exactly-once output across
//! repeated `kill -9`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use rdkafka::ClientConfig;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use serde_json::{Value, json};
use sluice_codecs::events::OrderEvents;

/// Runs the independent readers over `dir`; `cols` are returned per row by both.
fn read_parquet(dir: &Path, cols: &str) -> Value {
    python_json("read_parquet.py", &[dir.as_os_str(), cols.as_ref()])
}

fn producer() -> ThreadedProducer<DefaultProducerContext> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("linger.ms", "5")
        .create()
        .unwrap()
}

fn send(p: &ThreadedProducer<DefaultProducerContext>, topic: &str, partition: i32, value: &[u8]) {
    let mut r: BaseRecord<'_, [u8], [u8]> =
        BaseRecord::to(topic).partition(partition).payload(value);
    loop {
        match p.send(r) {
            Ok(()) => return,
            Err((_, back)) => {
                r = back;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

fn worker(dir: &Path) -> std::path::PathBuf {
    let path = worker_props(dir, 500);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "value.converter.schemas.enable=true",
        "value.converter.schemas.enable=false",
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn connector(dir: &Path, name: &str, topic: &str, extra: &[(&str, &str)]) -> std::path::PathBuf {
    let mut config = json!({
        "connector.class": "io.confluent.connect.hdfs.HdfsSinkConnector",
        "format.class": "io.confluent.connect.hdfs.parquet.ParquetFormat",
        "tasks.max": "1",
        "topics": topic,
        "store.url": format!("file://{}", dir.join("out").display()),
        "transforms": "meta",
        "transforms.meta.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.meta.partition.field": "kafka_partition",
        "transforms.meta.offset.field": "kafka_offset",
        "consumer.override.session.timeout.ms": "6000",
    });
    for (k, v) in extra {
        config[*k] = json!(v);
    }
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json!({"name": name, "config": config}).to_string()).unwrap();
    path
}

#[test]
fn files_are_read_by_pyarrow_and_duckdb_with_the_input_values() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pq");
    create_topic(&topic, 3);
    // 3,000 standard order events, record i to partition i % 3 (so its offset is i / 3).
    let mut events = OrderEvents::new();
    let mut input: BTreeMap<(i64, i64), Value> = BTreeMap::new();
    let p = producer();
    for i in 0..3000i64 {
        let mut v = Vec::new();
        events.write_next(&mut v);
        input.insert((i % 3, i / 3), serde_json::from_slice(&v).unwrap());
        send(&p, &topic, (i % 3) as i32, &v);
    }
    p.flush(Duration::from_secs(30)).unwrap();
    let c = connector(
        dir.path(),
        &unique("pq"),
        &topic,
        &[
            ("flush.size", "400"),
            ("parquet.codec", "zstd"),
            ("rotate.schedule.interval.ms", "2000"),
            ("timezone", "UTC"),
        ],
    );
    let w = worker(dir.path());
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    let out = dir.path().join("out");
    let cols = "kafka_partition,kafka_offset,id,user,amount,currency,ts,country,flag";
    let mut seen = json!(null);
    wait_for(
        "3,000 rows in committed files",
        Duration::from_secs(90),
        || {
            seen = read_parquet(&out, "");
            seen["duckdb_count"].as_u64() == Some(3000)
        },
    );
    assert!(sluice.terminate().success());
    let got = read_parquet(&out, cols);
    let files = got["files"].as_array().unwrap();
    // 1,000 records per partition: two files of 400 by flush.size, one of 200 by schedule.
    assert_eq!(files.len(), 9, "{files:#?}");
    for f in files {
        let path = f["path"].as_str().unwrap();
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(parts[..2], ["topics", topic.as_str()], "{path}");
        let p: i64 = parts[2]
            .strip_prefix("partition=")
            .unwrap()
            .parse()
            .unwrap();
        let name = parts[3].strip_suffix(".parquet").unwrap();
        let fields: Vec<&str> = name.split('+').collect();
        assert_eq!(
            (fields[0], fields[1]),
            (topic.as_str(), p.to_string().as_str())
        );
        assert_eq!(fields[2].len(), 10, "zero-padded start offset");
        assert_eq!(f["codec"], "ZSTD");
        let schema = &f["schema"];
        assert_eq!(schema["id"], "int64");
        assert_eq!(schema["amount"], "double");
        assert_eq!(schema["flag"], "bool");
        assert!(
            schema["user"].as_str().unwrap().starts_with("string"),
            "{schema}"
        );
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
        assert_eq!(rows.len(), 3000, "{reader}");
        let mut keys = std::collections::BTreeSet::new();
        for r in rows {
            let key = (r[0].as_i64().unwrap(), r[1].as_i64().unwrap());
            assert!(keys.insert(key), "{reader}: duplicate {key:?}");
            let want = &input[&key];
            assert_eq!(r[2], want["id"], "{reader} {key:?}");
            assert_eq!(r[3], want["user"]);
            assert_eq!(r[4].as_f64(), want["amount"].as_f64());
            assert_eq!(r[5], want["currency"]);
            assert_eq!(r[6], want["ts"]);
            assert_eq!(r[7], want["country"]);
            assert_eq!(r[8], want["flag"]);
        }
    }
}

#[test]
fn kill_9_five_times_then_every_row_exactly_once() {
    crash_test(None);
}

#[test]
fn kill_9_five_times_then_every_row_exactly_once_on_s3() {
    let s3 = S3Server::start();
    crash_test(Some(&s3));
}

fn crash_test(s3: Option<&S3Server>) {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pqcrash");
    create_topic(&topic, 3);
    const N: i64 = 200_000;
    // The load arrives while the worker is killed and restarted.
    let producing = {
        let topic = topic.clone();
        std::thread::spawn(move || {
            let p = producer();
            let mut events = OrderEvents::new();
            let mut v = Vec::new();
            for i in 0..N {
                v.clear();
                events.write_next(&mut v);
                send(&p, &topic, (i % 3) as i32, &v);
                if i % 20_000 == 19_999 {
                    std::thread::sleep(Duration::from_millis(700));
                }
            }
            p.flush(Duration::from_secs(60)).unwrap();
        })
    };
    let mut extra: Vec<(&str, String)> = vec![
        ("flush.size", "3000".into()),
        ("rotate.schedule.interval.ms", "1000".into()),
        ("timezone", "UTC".into()),
        ("consumer.override.max.poll.interval.ms", "10000".into()),
    ];
    if let Some(s3) = s3 {
        extra.extend(s3.settings());
    }
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = connector(dir.path(), &unique("pqcrash"), &topic, &extra);
    let w = worker(dir.path());
    let out = s3.map_or_else(|| dir.path().join("out"), S3Server::data);
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for round in 0..5 {
        let s = Sluice::standalone(dir.path(), &w, &[&c]);
        // A random point of the ingest: 2.5–6 s after start (the group join takes ~3 s).
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = 2500 + (seed >> 33) % 3500;
        std::thread::sleep(Duration::from_millis(wait));
        s.kill9();
        let rows = read_parquet(&out, "")["duckdb_count"].as_u64().unwrap_or(0);
        eprintln!("kill #{} after {wait} ms: {rows} rows committed", round + 1);
    }
    producing.join().unwrap();
    let s = Sluice::standalone(dir.path(), &w, &[&c]);
    let mut last = 0;
    wait_for(
        "every record in committed files",
        Duration::from_secs(180),
        || {
            last = read_parquet(&out, "")["duckdb_count"].as_u64().unwrap_or(0);
            last >= N as u64
        },
    );
    // A duplicate, if any, would show up now.
    std::thread::sleep(Duration::from_secs(3));
    assert!(s.terminate().success());
    let got = read_parquet(&out, "kafka_partition,kafka_offset");
    let rows = got["rows"].as_array().unwrap();
    let mut keys = std::collections::BTreeSet::new();
    for r in rows {
        let key = (r[0].as_i64().unwrap(), r[1].as_i64().unwrap());
        assert!(keys.insert(key), "duplicate row {key:?}");
    }
    let expected: std::collections::BTreeSet<(i64, i64)> = (0..N).map(|i| (i % 3, i / 3)).collect();
    assert_eq!(rows.len(), N as usize, "no row lost, none twice");
    assert!(
        keys == expected,
        "exactly the input (partition, offset) pairs"
    );
    assert_eq!(got["duckdb_count"].as_u64(), Some(N as u64));
}

#[test]
fn large_files_go_up_as_multipart_uploads_on_s3() {
    require_broker();
    let s3 = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pqbig");
    create_topic(&topic, 1);
    const N: i64 = 100_000;
    let p = producer();
    let mut events = OrderEvents::new();
    let mut v = Vec::new();
    for _ in 0..N {
        v.clear();
        events.write_next(&mut v);
        send(&p, &topic, 0, &v);
    }
    p.flush(Duration::from_secs(60)).unwrap();
    let mut extra: Vec<(&str, String)> = vec![
        ("flush.size", N.to_string()),
        ("parquet.codec", "none".into()),
    ];
    extra.extend(s3.settings());
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = connector(dir.path(), &unique("pqbig"), &topic, &extra);
    let w = worker(dir.path());
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    wait_for("the 100,000-row file", Duration::from_secs(120), || {
        read_parquet(&s3.data(), "")["duckdb_count"].as_u64() == Some(N as u64)
    });
    assert!(sluice.terminate().success());
    let got = read_parquet(&s3.data(), "");
    let files = got["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    let path = s3.data().join(files[0]["path"].as_str().unwrap());
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        size > 5 << 20,
        "{size} bytes: more than one 5 MiB part, so a multipart upload"
    );
}

#[test]
fn schemaed_envelopes_keep_their_logical_types() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pqtyped");
    create_topic(&topic, 1);
    let schema = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"at"},{"type":"int32","optional":true,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"day"},{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"price"},{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"price12"},{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false,"field":"counts"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"os"}],"optional":false,"name":"Device","field":"device"},{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"}],"optional":false,"name":"T"}"#;
    let p = producer();
    for i in 0..200i64 {
        // price 123.45 = unscaled 12345 = 0x3039, base64 "MDk="
        let v = format!(
            r#"{{"schema":{schema},"payload":{{"id":{i},"at":{},"day":19723,"price":"MDk=","price12":"MDk=","counts":{{"a":{i}}},"device":{{"os":"linux"}},"tags":["x","y"]}}}}"#,
            1_704_067_200_000i64 + i
        );
        send(&p, &topic, 0, v.as_bytes());
    }
    p.flush(Duration::from_secs(30)).unwrap();
    let c = connector(
        dir.path(),
        &unique("pqtyped"),
        &topic,
        &[
            ("flush.size", "200"),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("value.converter.schemas.enable", "true"),
            ("transforms", ""),
        ],
    );
    let w = worker(dir.path());
    let sluice = Sluice::standalone(dir.path(), &w, &[&c]);
    let out = dir.path().join("out");
    wait_for("200 typed rows", Duration::from_secs(90), || {
        read_parquet(&out, "")["duckdb_count"].as_u64() == Some(200)
    });
    assert!(sluice.terminate().success());
    let got = read_parquet(&out, "id,at,day,price,counts,device,tags,price12");
    let schema = &got["files"][0]["schema"];
    assert_eq!(schema["id"], "int64");
    assert!(
        schema["at"].as_str().unwrap().starts_with("timestamp[ms"),
        "{schema}"
    );
    assert_eq!(schema["day"], "date32[day]");
    // No declared precision: Confluent's AvroData default, 64; declared: as declared.
    assert_eq!(schema["price"], "decimal256(64, 2)", "{schema}");
    assert_eq!(schema["price12"], "decimal128(12, 2)", "{schema}");
    assert!(
        schema["counts"]
            .as_str()
            .unwrap()
            .starts_with("map<string, int32"),
        "{schema}"
    );
    assert!(
        schema["device"]
            .as_str()
            .unwrap()
            .starts_with("struct<os: string"),
        "{schema}"
    );
    assert!(
        schema["tags"].as_str().unwrap().starts_with("list<"),
        "{schema}"
    );
    let rows = got["rows"].as_array().unwrap();
    let r7 = rows.iter().find(|r| r[0] == 7).unwrap();
    assert!(
        r7[1]
            .as_str()
            .unwrap()
            .starts_with("2024-01-01 00:00:00.007"),
        "{r7}"
    );
    assert_eq!(r7[2], "2024-01-01");
    assert_eq!(r7[3], "123.45");
    assert_eq!(r7[5], json!({"os": "linux"}));
    assert_eq!(r7[6], json!(["x", "y"]));
    assert_eq!(r7[7], "123.45");
    assert_eq!(got["duckdb_rows"].as_array().unwrap().len(), 200);
}
