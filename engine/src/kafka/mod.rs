//! librdkafka client settings for tasks: Kafka Connect's fixed consumer/producer settings,
//! then the worker's `consumer.*`/`producer.*` keys, then the connector's
//! `consumer.override.*`/`producer.override.*` keys, each later layer winning; the Java
//! security keys of the result are translated by [`security`].

pub mod security;

use std::collections::BTreeMap;

use rdkafka::ClientConfig;

use crate::config::{ConnectorConfig, WorkerConfig};
pub use security::{ClientFailure, SecurityError};

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

/// Java client settings being layered, later layers winning.
#[derive(Default)]
struct Layers(BTreeMap<String, String>);

impl Layers {
    fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.0.insert(k.to_string(), v.into());
        self
    }

    fn apply<'a>(&mut self, layer: impl IntoIterator<Item = (&'a String, &'a String)>, what: &str) {
        let mut pairs: Vec<_> = layer.into_iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            if JAVA_ONLY.contains(&k.as_str()) {
                tracing::warn!(
                    "{what}{k} is a Java client setting with no librdkafka equivalent; ignored"
                );
                continue;
            }
            self.0.insert(k.clone(), v.clone());
        }
    }

    /// The librdkafka config, security keys translated (keystores read).
    fn build(&self) -> Result<ClientConfig, SecurityError> {
        let mut cfg = ClientConfig::new();
        for (k, v) in security::translate(&self.0)? {
            cfg.set(k, v);
        }
        Ok(cfg)
    }
}

/// Consumer settings of a sink task: group `connect-<name>`, manual commits, earliest reset.
pub fn sink_consumer_config(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task: usize,
) -> Result<ClientConfig, SecurityError> {
    let mut cfg = Layers::default();
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
        // librdkafka prefetches up to 64 MiB by default; a task takes batches of a few MiB,
        // so 16 MiB keeps it fed while bounding memory (RSS of the 1,000-partition case).
        .set("queued.max.messages.kbytes", "16384")
        .set("log_level", "4");
    cfg.apply(&worker.client_overrides("consumer"), "consumer.");
    cfg.apply(
        &connector.client_overrides("consumer.override"),
        "consumer.override.",
    );
    cfg.build()
}

/// Producer settings of a source task: `acks=all` with idempotence, as Kafka Connect sets.
pub fn source_producer_config(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task: usize,
) -> Result<ClientConfig, SecurityError> {
    producer_layers(
        worker,
        connector,
        format!("connector-producer-{}-{task}", connector.name),
    )
    .build()
}

fn producer_layers(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    client_id: String,
) -> Layers {
    let mut cfg = Layers::default();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("client.id", client_id)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("log_level", "4");
    cfg.apply(&worker.client_overrides("producer"), "producer.");
    cfg.apply(
        &connector.client_overrides("producer.override"),
        "producer.override.",
    );
    cfg
}

/// Producer settings of a sink task's dead letter queue: the source producer's settings
/// (worker `producer.*`, connector `producer.override.*`) under Kafka's DLQ client id.
pub fn dlq_producer_config(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task: usize,
) -> Result<ClientConfig, SecurityError> {
    producer_layers(
        worker,
        connector,
        format!("connector-dlq-producer-{}-{task}", connector.name),
    )
    .build()
}

/// Admin client settings: as Kafka's worker, its own (unprefixed) security settings, then
/// its `admin.*` keys.
pub fn admin_config(worker: &WorkerConfig) -> Result<ClientConfig, SecurityError> {
    let mut cfg = Layers::default();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("log_level", "4");
    cfg.apply(&security::security_settings(&worker.props), "");
    cfg.apply(&worker.client_overrides("admin"), "admin.");
    cfg.build()
}

/// The worker's own client settings (its internal clients: admin, cluster id, offsets):
/// bootstrap servers and the unprefixed security keys.
pub fn worker_client_config(worker: &WorkerConfig) -> Result<ClientConfig, SecurityError> {
    let mut cfg = Layers::default();
    cfg.set("bootstrap.servers", &worker.bootstrap_servers)
        .set("log_level", "3");
    cfg.apply(&security::security_settings(&worker.props), "");
    cfg.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Props;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn overrides_layer_in_connect_order() {
        let worker = WorkerConfig::parse(props(&[
            ("bootstrap.servers", "127.0.0.1:1"),
            ("consumer.fetch.min.bytes", "1000"),
            ("consumer.session.timeout.ms", "6000"),
            ("consumer.max.poll.records", "10"),
            ("producer.linger.ms", "20"),
            ("producer.compression.type", "zstd"),
        ]))
        .unwrap();
        let connector = ConnectorConfig::parse(
            props(&[
                ("name", "c"),
                ("connector.class", "FileStreamSink"),
                ("topics", "t"),
                ("consumer.override.fetch.min.bytes", "5000"),
                ("producer.override.linger.ms", "50"),
            ]),
            &worker,
            "test",
        )
        .unwrap();
        let c = sink_consumer_config(&worker, &connector, 1).unwrap();
        assert_eq!(c.get("group.id"), Some("connect-c"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
        assert_eq!(c.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(
            c.get("fetch.min.bytes"),
            Some("5000"),
            "connector override wins"
        );
        assert_eq!(
            c.get("session.timeout.ms"),
            Some("6000"),
            "worker consumer.* applies"
        );
        assert_eq!(
            c.get("max.poll.records"),
            None,
            "Java-only key not passed to librdkafka"
        );
        let p = source_producer_config(&worker, &connector, 0).unwrap();
        assert_eq!(p.get("acks"), Some("all"));
        assert_eq!(p.get("enable.idempotence"), Some("true"));
        assert_eq!(p.get("linger.ms"), Some("50"));
        assert_eq!(p.get("compression.type"), Some("zstd"));
    }
}
