//! The REST control plane and error handling end to end: a `sluice standalone` worker with no
//! connector files, driven only over HTTP, against the real broker.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use serde_json::{Value, json};

fn worker_only(dir: &std::path::Path) -> Sluice {
    let worker = worker_props(dir, 500);
    // Schemaless JSON values and string keys, as the recorded Kafka worker used.
    let mut text = std::fs::read_to_string(&worker).unwrap();
    text = text
        .replace(
            "key.converter=org.apache.kafka.connect.json.JsonConverter",
            "key.converter=org.apache.kafka.connect.storage.StringConverter",
        )
        .replace(
            "value.converter.schemas.enable=true",
            "value.converter.schemas.enable=false",
        );
    std::fs::write(&worker, text).unwrap();
    Sluice::standalone(dir, &worker, &[])
}

fn task_state(url: &str, name: &str) -> Option<String> {
    let (status, _, body) = http("GET", &format!("{url}/connectors/{name}/status"), None);
    if status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).unwrap();
    v["tasks"][0]["state"].as_str().map(str::to_string)
}

fn wait_task_state(url: &str, name: &str, want: &str) {
    wait_for(
        &format!("{name} task {want}"),
        Duration::from_secs(60),
        || task_state(url, name).as_deref() == Some(want),
    );
}

/// The recorded scenario's input: 1000 values, 37 truncated JSON, 11 with a non-numeric amount.
fn dlq_input() -> Vec<Vec<u8>> {
    (0..1000)
        .map(|i| {
            if (3..1000).step_by(27).any(|b| b == i) {
                format!("{{\"id\": {i}, \"amount\": ").into_bytes()
            } else if (5..1000).step_by(91).any(|b| b == i) {
                format!("{{\"id\": {i}, \"amount\": \"not-a-number\"}}").into_bytes()
            } else {
                let amount = i as f64 * 1.5;
                let amount = if amount.fract() == 0.0 {
                    format!("{amount:.1}")
                } else {
                    format!("{amount}")
                };
                format!("{{\"id\": {i}, \"amount\": {amount}, \"note\": \"x\"}}").into_bytes()
            }
        })
        .collect()
}

type DlqRecord = (i64, Option<Vec<u8>>, Vec<(String, String)>, Option<i64>);

fn read_with_headers(topic: &str) -> Vec<DlqRecord> {
    read_raw(topic, usize::MAX)
        .into_iter()
        .map(|(offset, value, headers, ts)| {
            let headers = headers
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        String::from_utf8_lossy(&v.unwrap_or_default()).into_owned(),
                    )
                })
                .collect();
            (offset, value, headers, ts)
        })
        .collect()
}

type RawHeaders = Vec<(String, Option<Vec<u8>>)>;
/// (offset, value, headers as stored, timestamp)
type RawRecord = (i64, Option<Vec<u8>>, RawHeaders, Option<i64>);

/// Records of partition 0 of `topic` as (offset, value, headers as stored, timestamp), read
/// until `want` arrived or, once records came, nothing more came for 3 s; sorted by offset.
fn read_raw(topic: &str, want: usize) -> Vec<RawRecord> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    // Assigned, not subscribed: no group join to wait for.
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut idle = std::time::Instant::now();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while out.len() < want
        && (out.is_empty() || idle.elapsed() < Duration::from_secs(3))
        && std::time::Instant::now() < deadline
    {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Err(e)) => panic!("read {topic}: {e}"),
            Some(Ok(m)) => {
                let headers = m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((
                    m.offset(),
                    m.payload().map(<[u8]>::to_vec),
                    headers,
                    m.timestamp().to_millis(),
                ));
                idle = std::time::Instant::now();
            }
            None => {}
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

/// POST /connectors, which must answer 201 Created.
fn create_connector(url: &str, body: &Value) {
    let (status, _, resp) = http(
        "POST",
        &format!("{url}/connectors"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "{resp}");
}

fn sample(scrape: &prometheus_parse::Scrape, metric: &str, connector: &str) -> f64 {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && s.labels.get("connector") == Some(connector))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
        .unwrap_or_else(|| panic!("no {metric} for {connector}"))
}

fn scrape(url: &str) -> prometheus_parse::Scrape {
    let (status, headers, body) = http("GET", &format!("{url}/metrics"), None);
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain")),
        "{headers:?}"
    );
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text")
}

#[test]
fn dead_letter_queue_end_to_end_and_tolerance_none() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let input = unique("dlq-in");
    let dlq = unique("dlq-out");
    create_topic(&input, 1);
    let values = dlq_input();
    produce(&input, values.iter().map(|v| (None, v.clone())));
    let worker = worker_only(dir.path());
    let url = worker.rest_url();
    let sink_file = dir.path().join("dlq-sink.txt");
    let (s1, s2) = (unique("s1"), unique("s2"));
    let body = json!({"name": s1, "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1", "topics": input, "file": sink_file,
        "transforms": "cast", "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "amount:float64", "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
        "consumer.override.session.timeout.ms": "6000"}});
    create_connector(&url, &body);
    wait_for("952 sink lines", Duration::from_secs(90), || {
        lines(&sink_file).len() >= 952
    });
    // Let a duplicate or a late record show itself before judging.
    std::thread::sleep(Duration::from_secs(2));
    let out = lines(&sink_file);
    assert_eq!(out.len(), 952, "exactly the good records reach the sink");
    assert_eq!(out[0], "{note=x, amount=0.0, id=0}");
    assert_eq!(out[3], "{note=x, amount=6.0, id=4}");
    assert_eq!(out[951], "{note=x, amount=1498.5, id=999}");

    let dead = read_with_headers(&dlq);
    let dead_offsets: Vec<String> = dead
        .iter()
        .map(|(_, _, h, _)| {
            h.iter()
                .find(|(k, _)| k == "__connect.errors.offset")
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        dead.len(),
        48,
        "37 converter + 11 transformation failures: {dead_offsets:?}"
    );
    let bad_ids: Vec<usize> = (0..1000)
        .filter(|i| {
            (3..1000).step_by(27).any(|b| b == *i) || (5..1000).step_by(91).any(|b| b == *i)
        })
        .collect();
    for ((_, value, headers, _), id) in dead.iter().zip(&bad_ids) {
        assert_eq!(
            value.as_deref(),
            Some(&values[*id][..]),
            "original bytes of id {id}"
        );
        let h = |k: &str| {
            headers
                .iter()
                .find(|(hk, _)| hk == &format!("__connect.errors.{k}"))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("header {k} missing for id {id}: {headers:?}"))
        };
        assert_eq!(h("topic"), input);
        assert_eq!(h("partition"), "0");
        assert_eq!(h("offset"), id.to_string());
        assert_eq!(h("connector.name"), s1);
        assert_eq!(h("task.id"), "0");
        assert_eq!(
            h("exception.class.name"),
            "org.apache.kafka.connect.errors.DataException"
        );
        assert!(
            h("exception.stacktrace")
                .starts_with("org.apache.kafka.connect.errors.DataException: ")
        );
        if (3..1000).step_by(27).any(|b| b == *id) {
            assert_eq!(h("stage"), "VALUE_CONVERTER");
            assert_eq!(
                h("class.name"),
                "org.apache.kafka.connect.json.JsonConverter"
            );
            assert_eq!(
                h("exception.message"),
                "Converting byte[] to Kafka Connect data failed due to serialization error: "
            );
        } else {
            assert_eq!(h("stage"), "TRANSFORMATION");
            assert_eq!(
                h("class.name"),
                "org.apache.kafka.connect.transforms.Cast$Value"
            );
            assert_eq!(
                h("exception.message"),
                "Value (not-a-number) was out of range for requested data type"
            );
        }
        assert_eq!(
            headers
                .iter()
                .filter(|(k, _)| k.starts_with("__connect.errors."))
                .count(),
            10
        );
    }

    // Offsets: everything is handled (put or in the DLQ), so the committed offset is 1000.
    wait_for("offset 1000 committed", Duration::from_secs(30), || {
        get_json(&format!("{url}/connectors/{s1}/offsets"))["offsets"][0]["offset"]["kafka_offset"]
            == json!(1000)
    });

    // Metrics count exactly what moved.
    let m = scrape(&url);
    assert_eq!(
        sample(&m, "kafka_connect_sink_task_sink_record_read_total", &s1),
        1000.0
    );
    assert_eq!(
        sample(&m, "kafka_connect_sink_task_sink_record_send_total", &s1),
        952.0
    );
    assert_eq!(
        sample(&m, "kafka_connect_task_error_total_records_skipped", &s1),
        48.0
    );
    assert_eq!(
        sample(&m, "kafka_connect_task_error_total_record_errors", &s1),
        48.0
    );
    assert_eq!(
        sample(
            &m,
            "kafka_connect_task_error_deadletterqueue_produce_requests",
            &s1
        ),
        48.0
    );
    assert_eq!(
        sample(
            &m,
            "kafka_connect_task_error_deadletterqueue_produce_failures",
            &s1
        ),
        0.0
    );
    assert_eq!(
        sample(&m, "kafka_connect_worker_connector_running_task_count", &s1),
        1.0
    );
    assert!(
        sample(
            &m,
            "kafka_connect_sink_task_offset_commit_completion_total",
            &s1
        ) >= 1.0
    );

    // errors.tolerance=none on the same topic: the task fails on offset 3, nothing is put,
    // and no offset at or past the bad record is committed; the connector stays RUNNING.
    let s2_file = dir.path().join("s2-sink.txt");
    let body = json!({"name": s2, "config": {
        "connector.class": "FileStreamSink", "tasks.max": "1", "topics": input, "file": s2_file,
        "transforms": "cast", "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.cast.spec": "amount:float64", "errors.tolerance": "none",
        "consumer.override.session.timeout.ms": "6000"}});
    create_connector(&url, &body);
    wait_task_state(&url, &s2, "FAILED");
    let st = get_json(&format!("{url}/connectors/{s2}/status"));
    assert_eq!(st["connector"]["state"], "RUNNING");
    let trace = st["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.contains("Tolerance exceeded in error handler"),
        "{trace}"
    );
    assert!(
        trace.contains("Converting byte[] to Kafka Connect data failed"),
        "{trace}"
    );
    assert!(trace.contains(&format!("{input}-0@3")), "{trace}");
    assert_eq!(
        lines(&s2_file).len(),
        0,
        "nothing of the failing batch is put"
    );
    let committed = committed_offset(&format!("connect-{s2}"), &input);
    assert!(
        committed.is_none_or(|o| o <= 3),
        "committed {committed:?} must stay below the first bad record"
    );
    let m = scrape(&url);
    assert_eq!(
        sample(&m, "kafka_connect_worker_connector_failed_task_count", &s2),
        1.0
    );
    assert!(worker.terminate().success());
}

#[test]
fn rest_lifecycle_against_a_running_worker() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("life");
    create_topic(&topic, 1);
    let record = |i: usize| (None, format!("{{\"n\": {i}}}").into_bytes());
    produce(&topic, (0..100).map(record));
    let worker = worker_only(dir.path());
    let url = worker.rest_url();
    assert_eq!(get_json(&format!("{url}/connectors")), json!([]));
    let out = dir.path().join("out.txt");
    // Connector names (and so consumer groups) unique per run on a long-lived broker.
    let life = unique("life");
    // A short rebalance timeout: a consumer closed while its group join is still pending
    // (quick restarts) holds up the next join only this long on this broker.
    let body = json!({"name": life, "config": {
        "connector.class": "FileStreamSink", "tasks.max": "1", "topics": topic, "file": out,
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.max.poll.interval.ms": "10000"}});
    // Each (re)started task has joined the group once its partitions are assigned.
    let assigned = |n: usize| {
        wait_for(&format!("assignment #{n}"), Duration::from_secs(60), || {
            worker
                .log_lines()
                .iter()
                .filter(|l| l.contains("partitions assigned"))
                .count()
                >= n
        })
    };
    let (status, headers, _) = http(
        "POST",
        &format!("{url}/connectors"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "location" && v.ends_with(&format!("/connectors/{life}")))
    );
    wait_task_state(&url, &life, "RUNNING");
    assigned(1);
    wait_for("100 lines", Duration::from_secs(60), || {
        lines(&out).len() >= 100
    });

    // Pause: states PAUSED, and nothing moves until resumed.
    let (status, _, _) = http("PUT", &format!("{url}/connectors/{life}/pause"), None);
    assert_eq!(status, 202);
    wait_task_state(&url, &life, "PAUSED");
    assert_eq!(
        get_json(&format!("{url}/connectors/{life}/status"))["connector"]["state"],
        "PAUSED"
    );
    produce(&topic, (100..150).map(record));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(lines(&out).len(), 100, "a paused sink writes nothing");
    let (status, _, _) = http("PUT", &format!("{url}/connectors/{life}/resume"), None);
    assert_eq!(status, 202);
    wait_task_state(&url, &life, "RUNNING");
    wait_for("150 lines after resume", Duration::from_secs(60), || {
        lines(&out).len() >= 150
    });

    // Restart the task and the connector with its tasks.
    let (status, _, _) = http(
        "POST",
        &format!("{url}/connectors/{life}/tasks/0/restart"),
        None,
    );
    assert_eq!(status, 204);
    wait_task_state(&url, &life, "RUNNING");
    assigned(2);
    let (status, _, body) = http(
        "POST",
        &format!("{url}/connectors/{life}/restart?includeTasks=true"),
        None,
    );
    assert_eq!(status, 202);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["tasks"][0]["state"],
        "RESTARTING"
    );
    wait_task_state(&url, &life, "RUNNING");
    assigned(3);

    // Offsets may only change while STOPPED.
    let patch = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 140}}]});
    let (status, _, body) = http(
        "PATCH",
        &format!("{url}/connectors/{life}/offsets"),
        Some(&patch.to_string()),
    );
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = http("PUT", &format!("{url}/connectors/{life}/stop"), None);
    assert_eq!(status, 204);
    let st = get_json(&format!("{url}/connectors/{life}/status"));
    assert_eq!(st["connector"]["state"], "STOPPED");
    assert_eq!(st["tasks"], json!([]));
    assert_eq!(
        get_json(&format!("{url}/connectors/{life}/offsets")),
        json!({"offsets": [{"partition": {"kafka_partition": 0, "kafka_topic": topic}, "offset": {"kafka_offset": 150}}]})
    );
    let (status, _, body) = http(
        "PATCH",
        &format!("{url}/connectors/{life}/offsets"),
        Some(&patch.to_string()),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        get_json(&format!("{url}/connectors/{life}/offsets"))["offsets"][0]["offset"]["kafka_offset"],
        json!(140)
    );
    // Resumed from offset 140: the last ten records are written again.
    let (status, _, _) = http("PUT", &format!("{url}/connectors/{life}/resume"), None);
    assert_eq!(status, 202);
    wait_for(
        "160 lines after rewinding to 140",
        Duration::from_secs(60),
        || lines(&out).len() >= 160,
    );
    let got = lines(&out);
    assert_eq!(got[150..], got[140..150], "records 140..149 replayed once");

    // The bundled client drives the same API.
    let client = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["connectors", "--url", &url])
            .args(args)
            .output()
            .unwrap()
    };
    let out_status = client(&["status", &life]);
    assert!(out_status.status.success());
    assert!(String::from_utf8_lossy(&out_status.stdout).contains("\"state\":\"RUNNING\""));
    assert!(String::from_utf8_lossy(&client(&["list"]).stdout).contains(&life));
    assert!(
        !client(&["status", "nosuch"]).status.success(),
        "404 is a failure exit"
    );
    let (status, _, _) = http("DELETE", &format!("{url}/connectors/{life}"), None);
    assert_eq!(status, 204);
    let (status, _, body) = http("GET", &format!("{url}/connectors/{life}"), None);
    assert_eq!(status, 404);
    assert_eq!(
        body,
        format!(r#"{{"error_code":404,"message":"Connector {life} not found"}}"#)
    );
    assert!(worker.terminate().success());
}

#[test]
fn record_headers_reach_the_dead_letter_queue_unchanged() {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let (input, dlq) = (unique("hdr-in"), unique("hdr-dlq"));
    create_topic(&input, 1);
    // Repeated keys, a null value, bytes that are not UTF-8, and a record with no headers.
    let sent: Vec<(Vec<u8>, RawHeaders)> = vec![
        (
            b"not json 1".to_vec(),
            vec![
                ("trace".into(), Some(b"abc".to_vec())),
                ("empty".into(), None),
                ("trace".into(), Some(b"second".to_vec())),
                ("bin".into(), Some(vec![0xff, 0x00, 0x41])),
            ],
        ),
        (b"not json 2".to_vec(), vec![]),
        (b"not json 3".to_vec(), vec![("only".into(), Some(vec![]))]),
    ];
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    for (value, headers) in &sent {
        let mut owned = OwnedHeaders::new();
        for (key, v) in headers {
            owned = owned.insert(Header {
                key,
                value: v.as_deref(),
            });
        }
        producer
            .send(
                BaseRecord::<[u8], [u8]>::to(&input)
                    .payload(value)
                    .headers(owned),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();

    let worker = worker_only(dir.path());
    let url = worker.rest_url();
    let body = json!({"name": unique("hdr"), "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1", "topics": input, "file": dir.path().join("out.txt"),
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "consumer.override.session.timeout.ms": "6000"}});
    create_connector(&url, &body);
    let dead: Vec<(Vec<u8>, RawHeaders)> = read_raw(&dlq, sent.len())
        .into_iter()
        .map(|(_, value, headers, _)| (value.unwrap_or_default(), headers))
        .collect();
    assert_eq!(
        dead, sent,
        "each failed record keeps its value and headers exactly"
    );
}
