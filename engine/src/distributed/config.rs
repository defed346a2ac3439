//! The distributed worker's own keys (Kafka's `DistributedConfig`), parsed from the worker
//! properties with Kafka's defaults; errors name the key. Everything a standalone worker
//! reads (converters, listeners, security, ...) comes from [`WorkerConfig`] as before.

use std::time::Duration;

use super::protocol::Protocol;
use crate::config::{Props, WorkerConfig};
use crate::error::{EngineError, Result};

/// Keys only distributed mode reads (not "unknown" to a distributed worker).
pub const KEYS: &[&str] = &[
    "group.id",
    "config.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "status.storage.topic",
    "status.storage.partitions",
    "status.storage.replication.factor",
    "connect.protocol",
    "scheduled.rebalance.max.delay.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "inter.worker.key.generation.algorithm",
    "inter.worker.key.size",
    "inter.worker.key.ttl.ms",
    "inter.worker.signature.algorithm",
    "inter.worker.verification.algorithms",
    "exactly.once.source.support",
    "metadata.max.age.ms",
    "request.timeout.ms",
];

/// Prefixes whose keys become topic-level configs of the internal topics on creation.
pub const PREFIXES: &[&str] = &["config.storage.", "offset.storage.", "status.storage."];

/// One internal topic's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSettings {
    pub topic: String,
    pub partitions: i32,
    pub replication: i16,
    /// Topic-level configs (`<prefix>min.insync.replicas=2` ...).
    pub configs: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct DistributedConfig {
    pub group_id: String,
    pub configs: TopicSettings,
    pub offsets: TopicSettings,
    pub statuses: TopicSettings,
    pub protocol: Protocol,
    pub scheduled_rebalance_max_delay: Duration,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub rebalance_timeout: Duration,
    pub worker_sync_timeout: Duration,
    pub worker_unsync_backoff: Duration,
    pub advertised_host: Option<String>,
    pub advertised_port: Option<u16>,
    pub advertised_listener: Option<String>,
    pub key_algorithm: String,
    pub key_size_bits: Option<u32>,
    pub key_ttl: Duration,
    pub signature_algorithm: String,
    pub verification_algorithms: Vec<String>,
}

fn err(key: &str, message: String) -> EngineError {
    EngineError::Worker {
        key: key.to_string(),
        message,
    }
}

fn required(props: &Props, key: &str, what: &str) -> Result<String> {
    match props.get(key).map(|v| v.trim()) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(err(
            key,
            format!(
                "Missing required configuration \"{key}\" which has no default value. ({what})"
            ),
        )),
    }
}

fn int(props: &Props, key: &str, default: i64, min: i64, max: i64) -> Result<i64> {
    let Some(v) = props.get(key) else {
        return Ok(default);
    };
    let n: i64 = v.trim().parse().map_err(|_| {
        err(
            key,
            format!("Invalid value {v} for configuration {key}: Not a number of type INT"),
        )
    })?;
    if n < min || n > max {
        return Err(err(
            key,
            format!("Invalid value {n} for configuration {key}: Value must be at least {min}"),
        ));
    }
    Ok(n)
}

/// `-1` (the broker's default) or at least 1, as Kafka's partition and replication keys.
fn count_or_default(props: &Props, key: &str, default: i64) -> Result<i64> {
    let n = int(props, key, default, -1, i64::from(i32::MAX))?;
    if n == 0 {
        return Err(err(
            key,
            format!(
                "Invalid value 0 for configuration {key}: Value must be -1 (use the broker's default) or at least 1"
            ),
        ));
    }
    Ok(n)
}

fn ms(props: &Props, key: &str, default: i64) -> Result<Duration> {
    let n = int(props, key, default, 0, i64::from(i32::MAX))?;
    Ok(Duration::from_millis(u64::try_from(n).unwrap_or(0)))
}

fn topic(
    props: &Props,
    prefix: &str,
    what: &str,
    partitions_default: Option<i64>,
) -> Result<TopicSettings> {
    let topic = required(props, &format!("{prefix}topic"), what)?;
    let partitions = match partitions_default {
        Some(d) => count_or_default(props, &format!("{prefix}partitions"), d)?,
        None => 1,
    };
    let replication = count_or_default(props, &format!("{prefix}replication.factor"), 3)?;
    let mut configs = Vec::new();
    for (k, v) in props {
        let Some(rest) = k.strip_prefix(prefix) else {
            continue;
        };
        match rest {
            "topic" | "partitions" | "replication.factor" => {}
            "cleanup.policy" => {
                tracing::warn!("Ignoring '{k}={v}' setting, since compaction is always used")
            }
            _ => configs.push((rest.to_string(), v.clone())),
        }
    }
    Ok(TopicSettings {
        topic,
        partitions: i32::try_from(partitions).unwrap_or(i32::MAX),
        replication: i16::try_from(replication).unwrap_or(i16::MAX),
        configs,
    })
}

impl DistributedConfig {
    pub fn parse(worker: &WorkerConfig) -> Result<Self> {
        let p = &worker.props;
        let group_id = required(
            p,
            "group.id",
            "A unique string that identifies the Connect cluster group this worker belongs to.",
        )?;
        let protocol_name = p
            .get("connect.protocol")
            .map(String::as_str)
            .unwrap_or("sessioned");
        let protocol = Protocol::parse(protocol_name).ok_or_else(|| {
            err(
                "connect.protocol",
                format!("Invalid value {protocol_name} for configuration connect.protocol: Invalid Connect protocol compatibility"),
            )
        })?;
        let verification: Vec<String> = p
            .get("inter.worker.verification.algorithms")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["HmacSHA256".to_string()]);
        if verification.is_empty() {
            return Err(err(
                "inter.worker.verification.algorithms",
                "At least one signature verification algorithm must be provided".into(),
            ));
        }
        let signature = p
            .get("inter.worker.signature.algorithm")
            .cloned()
            .unwrap_or_else(|| "HmacSHA256".into());
        if !verification.contains(&signature) {
            return Err(err(
                "inter.worker.signature.algorithm",
                "Signature algorithm must be present in inter.worker.verification.algorithms list"
                    .into(),
            ));
        }
        for (key, alg) in [
            ("inter.worker.signature.algorithm", signature.as_str()),
            (
                "inter.worker.key.generation.algorithm",
                p.get("inter.worker.key.generation.algorithm")
                    .map(String::as_str)
                    .unwrap_or("HmacSHA256"),
            ),
        ] {
            if alg != "HmacSHA256" {
                return Err(err(
                    key,
                    format!(
                        "Invalid value {alg} for configuration {key}: sluice supports HmacSHA256"
                    ),
                ));
            }
        }
        let eos = p
            .get("exactly.once.source.support")
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "disabled".into());
        if eos != "disabled" {
            return Err(err(
                "exactly.once.source.support",
                format!(
                    "exactly.once.source.support={eos} is not supported by sluice yet; use disabled"
                ),
            ));
        }
        let advertised_port = match p.get("rest.advertised.port") {
            None => None,
            Some(v) => Some(v.trim().parse::<u16>().map_err(|_| {
                err(
                    "rest.advertised.port",
                    format!("Invalid value {v} for configuration rest.advertised.port: Not a number of type INT"),
                )
            })?),
        };
        let key_size_bits = match p.get("inter.worker.key.size") {
            None => None,
            Some(v) => Some(v.trim().parse::<u32>().map_err(|_| {
                err(
                    "inter.worker.key.size",
                    format!("Invalid value {v} for configuration inter.worker.key.size: Not a number of type INT"),
                )
            })?),
        };
        Ok(Self {
            group_id,
            configs: topic(
                p,
                "config.storage.",
                "The name of the Kafka topic where connector configurations are stored",
                None,
            )?,
            offsets: topic(
                p,
                "offset.storage.",
                "The name of the Kafka topic where source connector offsets are stored",
                Some(25),
            )?,
            statuses: topic(
                p,
                "status.storage.",
                "The name of the Kafka topic where connector and task status are stored",
                Some(5),
            )?,
            protocol,
            scheduled_rebalance_max_delay: ms(p, "scheduled.rebalance.max.delay.ms", 300_000)?,
            session_timeout: ms(p, "session.timeout.ms", 10_000)?,
            heartbeat_interval: ms(p, "heartbeat.interval.ms", 3_000)?,
            rebalance_timeout: ms(p, "rebalance.timeout.ms", 60_000)?,
            worker_sync_timeout: ms(p, "worker.sync.timeout.ms", 3_000)?,
            worker_unsync_backoff: ms(p, "worker.unsync.backoff.ms", 300_000)?,
            advertised_host: p
                .get("rest.advertised.host.name")
                .filter(|s| !s.trim().is_empty())
                .cloned(),
            advertised_port,
            advertised_listener: p.get("rest.advertised.listener").cloned(),
            key_algorithm: "HmacSHA256".into(),
            key_size_bits,
            key_ttl: ms(p, "inter.worker.key.ttl.ms", 3_600_000)?,
            signature_algorithm: signature,
            verification_algorithms: verification,
        })
    }

    /// The REST URL other workers reach this one at (Kafka's `RestServer.advertisedUrl`):
    /// the advertised host/port when set, else the first listener's (`bound` when it asked
    /// for port 0).
    pub fn advertised_url(&self, listener: &str, bound: std::net::SocketAddr) -> String {
        let scheme = self
            .advertised_listener
            .clone()
            .or_else(|| listener.split_once("://").map(|(s, _)| s.to_string()))
            .unwrap_or_else(|| "http".into());
        let host = self.advertised_host.clone().unwrap_or_else(|| {
            let h = listener
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(listener)
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or_default();
            if h.is_empty() || h == "0.0.0.0" {
                bound.ip().to_string()
            } else {
                h
            }
        });
        let port = self.advertised_port.unwrap_or(bound.port());
        format!("{scheme}://{host}:{port}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(kv: &[(&str, &str)]) -> WorkerConfig {
        WorkerConfig::parse(
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("group.id", "connect-cluster"),
            ("config.storage.topic", "connect-configs"),
            ("offset.storage.topic", "connect-offsets"),
            ("status.storage.topic", "connect-status"),
        ]
    }

    #[test]
    fn kafkas_defaults() {
        let c = DistributedConfig::parse(&worker(&base())).unwrap();
        assert_eq!(c.protocol, Protocol::Sessioned);
        assert_eq!(c.offsets.partitions, 25);
        assert_eq!(c.statuses.partitions, 5);
        assert_eq!(c.configs.partitions, 1);
        assert_eq!(c.configs.replication, 3);
        assert_eq!(c.scheduled_rebalance_max_delay, Duration::from_secs(300));
        assert_eq!(c.session_timeout, Duration::from_secs(10));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.key_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn errors_name_the_key() {
        let mut kv = base();
        kv.retain(|(k, _)| *k != "group.id");
        let e = DistributedConfig::parse(&worker(&kv)).unwrap_err();
        assert!(
            matches!(e, EngineError::Worker { ref key, .. } if key == "group.id"),
            "{e}"
        );
        let mut kv = base();
        kv.push(("connect.protocol", "fast"));
        let e = DistributedConfig::parse(&worker(&kv)).unwrap_err();
        assert!(
            e.to_string()
                .contains("Invalid Connect protocol compatibility"),
            "{e}"
        );
        let mut kv = base();
        kv.push(("offset.storage.partitions", "0"));
        assert!(DistributedConfig::parse(&worker(&kv)).is_err());
    }

    #[test]
    fn prefixed_leftovers_are_topic_configs() {
        let mut kv = base();
        kv.push(("status.storage.min.insync.replicas", "2"));
        kv.push(("status.storage.cleanup.policy", "delete"));
        let c = DistributedConfig::parse(&worker(&kv)).unwrap();
        assert_eq!(
            c.statuses.configs,
            vec![("min.insync.replicas".to_string(), "2".to_string())]
        );
    }

    #[test]
    fn advertised_url_as_kafka() {
        let mut kv = base();
        kv.push(("rest.advertised.host.name", "127.0.0.1"));
        let c = DistributedConfig::parse(&worker(&kv)).unwrap();
        let bound: std::net::SocketAddr = "127.0.0.1:28083".parse().unwrap();
        assert_eq!(
            c.advertised_url("http://127.0.0.1:28083", bound),
            "http://127.0.0.1:28083/"
        );
    }
}
