//! librdkafka client settings for tasks: Kafka Connect's fixed consumer/producer settings,
//! then the worker's `consumer.*`/`producer.*` keys, then the connector's
//! `consumer.override.*`/`producer.override.*` keys, each later layer winning.

use std::collections::HashMap;

use rdkafka::ClientConfig;

use crate::config::{ConnectorConfig, WorkerConfig};

/// Java client keys that have no librdkafka equivalent; passing them on would fail the
/// client, so they are dropped with a warning.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "max.poll.records",
    "max.poll.interval.ms.java",
    "buffer.memory",
    "max.block.ms",
    "delivery.timeout.ms.java",
    "interceptor.classes",
    "metric.reporters",
    "default.api.timeout.ms",
    "exclude.internal.topics",
];

fn apply(cfg: &mut ClientConfig, layer: &HashMap<String, String>, what: &str) {
    let mut keys: Vec<_> = layer.keys().collect();
    keys.sort();
    for k in keys {
        if JAVA_ONLY.contains(&k.as_str()) {
            tracing::warn!(
                "{what}{k} is a Java client setting with no librdkafka equivalent; ignored"
            );
            continue;
        }
        cfg.set(k, &layer[k]);
    }
}

/// Consumer settings of a sink task: group `connect-<name>`, manual commits, earliest reset.
pub fn sink_consumer_config(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task: usize,
) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("group.id", format!("connect-{}", connector.name))
        .set(
            "client.id",
            format!("connector-consumer-{}-{task}", connector.name),
        )
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Kafka's pre-3.0 default; the Java default of 45 s makes the first group join
        // (which waits half a session timeout on some brokers) needlessly slow.
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("log_level", "4");
    apply(&mut cfg, &worker.client_overrides("consumer"), "consumer.");
    apply(
        &mut cfg,
        &connector.client_overrides("consumer.override"),
        "consumer.override.",
    );
    cfg
}

/// Producer settings of a source task: `acks=all` with idempotence, as Kafka Connect sets.
pub fn source_producer_config(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task: usize,
) -> ClientConfig {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set(
            "client.id",
            format!("connector-producer-{}-{task}", connector.name),
        )
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("log_level", "4");
    apply(&mut cfg, &worker.client_overrides("producer"), "producer.");
    apply(
        &mut cfg,
        &connector.client_overrides("producer.override"),
        "producer.override.",
    );
    cfg
}
