//! The internal-topic logs against the real broker: records written in bursts are read
//! back to the end (by Fetch high watermarks, not the broker's ListOffsets), keys land on
//! the partitions Java's partitioner picks (the reference transcript's), and an existing
//! topic that is not compacted is refused with Kafka's message.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use serde_json::{Map, Value};
use sluice_engine::config::WorkerConfig;
use sluice_engine::distributed::kafka_log::{KafkaLog, LogError, LogSpec};
use sluice_engine::distributed::records::{ConfigRecord, StatusValue, offset_key, task_status_key};

fn worker() -> WorkerConfig {
    WorkerConfig::parse(
        [("bootstrap.servers".to_string(), common::bootstrap())]
            .into_iter()
            .collect(),
    )
    .unwrap()
}

fn spec(topic: &str, partitions: i32, key: &'static str) -> LogSpec {
    LogSpec {
        topic: topic.to_string(),
        partitions,
        replication: 1,
        settings: Vec::new(),
        key,
        purpose: "connector configurations",
        single_partition: key == "config.storage.topic",
    }
}

#[test]
fn config_log_reads_a_burst_back_to_the_end() {
    common::require_broker();
    let topic = common::unique("sluice-configs");
    let w = worker();
    let mut log =
        KafkaLog::open(&w, &spec(&topic, 1, "config.storage.topic"), "t-configs").unwrap();
    assert!(log.read_to_end(Duration::from_secs(20)).unwrap().is_empty());
    let props: Vec<(String, String)> = vec![
        ("connector.class".into(), "FileStreamSink".into()),
        ("name".into(), "c".into()),
    ];
    let mut records = vec![ConfigRecord::Connector {
        name: "c".into(),
        props: Some(props.clone()),
    }];
    for task in 0..5 {
        records.push(ConfigRecord::Task {
            connector: "c".into(),
            task,
            props: props.clone(),
        });
    }
    records.push(ConfigRecord::Commit {
        connector: "c".into(),
        tasks: 5,
    });
    // Written without waiting one by one, so they share batches.
    let writer = log.writer();
    let handles: Vec<_> = records
        .iter()
        .map(|r| {
            let w = writer.clone();
            let (k, v) = (r.key(), r.value());
            std::thread::spawn(move || w.send(k.as_bytes(), v.as_deref()).unwrap())
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let back = log.read_to_end(Duration::from_secs(20)).unwrap();
    assert_eq!(back.len(), records.len());
    let mut got: Vec<ConfigRecord> = back
        .iter()
        .map(|r| {
            let key = String::from_utf8(r.key.clone().unwrap()).unwrap();
            ConfigRecord::parse(&key, r.value.as_deref())
                .unwrap()
                .unwrap()
        })
        .collect();
    got.sort_by_key(ConfigRecord::key);
    records.sort_by_key(ConfigRecord::key);
    assert_eq!(got, records);
    assert_eq!(log.positions().get(&0), Some(&(records.len() as i64)));

    // A second reader of the same topic sees the same, and a tombstone reads as a delete.
    writer.send(b"connector-c", None).unwrap();
    let mut again =
        KafkaLog::open(&w, &spec(&topic, 1, "config.storage.topic"), "t-configs-2").unwrap();
    let all = again.read_to_end(Duration::from_secs(20)).unwrap();
    assert_eq!(all.len(), records.len() + 1);
    let last = all.last().unwrap();
    assert_eq!(
        ConfigRecord::parse("connector-c", last.value.as_deref()).unwrap(),
        Some(ConfigRecord::Connector {
            name: "c".into(),
            props: None
        })
    );
    common::delete_topic(&topic);
}

#[test]
fn keys_land_on_the_partitions_java_picks() {
    common::require_broker();
    let w = worker();
    // Partitions the reference transcript observed for these keys (2 status partitions).
    let status = common::unique("sluice-status");
    let log = KafkaLog::open(&w, &spec(&status, 2, "status.storage.topic"), "t-status").unwrap();
    let value = StatusValue {
        state: "RUNNING".into(),
        trace: None,
        worker_id: "127.0.0.1:1".into(),
        generation: 1,
        version: Some("4.3.0".into()),
    }
    .to_bytes();
    for (key, partition) in [
        ("status-connector-sink1".to_string(), 0),
        (task_status_key("sink1", 0), 1),
        (task_status_key("sink1", 1), 1),
        (task_status_key("sink1", 2), 0),
        ("status-connector-src1".to_string(), 1),
        (task_status_key("src1", 0), 0),
        ("status-topic-sink-in:connector-sink1".to_string(), 0),
    ] {
        let (p, _) = log.writer().send(key.as_bytes(), Some(&value)).unwrap();
        assert_eq!(p, partition, "{key}");
    }
    // 3 offsets partitions: Kafka 4.3's Java producer, run against this broker, puts this key
    // on partition 2 (murmur2); the reference transcript lists the record under p1, which
    // no key-hashing producer gives for these bytes.
    let offsets = common::unique("sluice-offsets");
    let log = KafkaLog::open(&w, &spec(&offsets, 3, "offset.storage.topic"), "t-offsets").unwrap();
    let mut part = Map::new();
    part.insert("filename".into(), Value::from("/tmp/connect-run1/src1.in"));
    let (p, _) = log
        .writer()
        .send(&offset_key("src1", &part), Some(br#"{"position":21}"#))
        .unwrap();
    assert_eq!(p, 2);
    common::delete_topic(&status);
    common::delete_topic(&offsets);
}

#[test]
fn a_config_topic_with_two_partitions_is_refused() {
    common::require_broker();
    let topic = common::unique("sluice-configs-2p");
    common::create_topic(&topic, 2);
    let err = KafkaLog::open(&worker(), &spec(&topic, 1, "config.storage.topic"), "t").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, LogError::Topic { .. }), "{message}");
    assert!(
        message.contains("is required to have") && message.contains("'config.storage.topic'"),
        "{message}"
    );
    common::delete_topic(&topic);
}
