//! One internal topic as a log (Kafka's `KafkaBasedLog`): created compacted if missing,
//! written with acks=all and Java's murmur2 partitioning (so a key lands where a Java worker
//! puts it), read from the beginning with Fetch ([`super::watermarks`]), and read to its end
//! by the high watermarks Fetch responses carry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};

use super::watermarks::{WatermarkError, WatermarkReader};
use crate::config::WorkerConfig;
use crate::kafka::{SecurityError, worker_client_config};

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{topic}: {context}: {source}")]
    Kafka {
        topic: String,
        context: &'static str,
        #[source]
        source: KafkaError,
    },
    #[error("{topic}: {source}")]
    Security {
        topic: String,
        #[source]
        source: SecurityError,
    },
    #[error("{topic}: reading to the end: {source}")]
    Watermark {
        topic: String,
        #[source]
        source: WatermarkError,
    },
    #[error("{topic}: not read to the end within {timeout:?}")]
    Timeout { topic: String, timeout: Duration },
    /// Kafka's message for an existing topic that is not compacted, or a config topic with
    /// more than one partition.
    #[error("{message}")]
    Topic { key: &'static str, message: String },
}

/// Which topic, and how it is created if missing.
#[derive(Debug, Clone)]
pub struct LogSpec {
    pub topic: String,
    /// -1: the broker's default.
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication: i16,
    /// Topic-level configs for creation (`config.storage.*` leftovers); `cleanup.policy`
    /// is always `compact`.
    pub settings: Vec<(String, String)>,
    /// The worker key naming the topic (`config.storage.topic`).
    pub key: &'static str,
    /// What the topic keeps, for Kafka's error messages ("connector configurations").
    pub purpose: &'static str,
    pub single_partition: bool,
}

/// A record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

type Delivery = mpsc::SyncSender<Result<(i32, i64), KafkaError>>;

/// Hands each delivery report to whoever waits for it.
pub struct Reports;

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<Delivery>;

    fn delivery(&self, result: &DeliveryResult<'_>, waiter: Self::DeliveryOpaque) {
        let r = match result {
            Ok(m) => Ok((m.partition(), m.offset())),
            Err((e, _)) => Err(e.clone()),
        };
        let _ = waiter.send(r);
    }
}

/// The writing side, shared by threads (task status updates).
#[derive(Clone)]
pub struct LogWriter {
    topic: Arc<str>,
    producer: Arc<ThreadedProducer<Reports>>,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Writes one record (`value` `None`: a tombstone) and waits for the broker's ack;
    /// returns its partition and offset.
    pub fn send(&self, key: &[u8], value: Option<&[u8]>) -> Result<(i32, i64), LogError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let mut record =
            BaseRecord::<[u8], [u8], Box<Delivery>>::with_opaque_to(&self.topic, Box::new(tx))
                .key(key);
        if let Some(v) = value {
            record = record.payload(v);
        }
        let kafka = |source| LogError::Kafka {
            topic: self.topic.to_string(),
            context: "write",
            source,
        };
        self.producer.send(record).map_err(|(e, _)| kafka(e))?;
        match rx.recv_timeout(SEND_TIMEOUT) {
            Ok(r) => r.map_err(kafka),
            Err(_) => Err(LogError::Timeout {
                topic: self.topic.to_string(),
                timeout: SEND_TIMEOUT,
            }),
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// An internal topic: writer, reader from the beginning, read-to-end.
pub struct KafkaLog {
    topic: String,
    writer: LogWriter,
    positions: BTreeMap<i32, i64>,
    watermarks: WatermarkReader,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaLog")
            .field("topic", &self.topic)
            .field("positions", &self.positions)
            .finish_non_exhaustive()
    }
}

impl KafkaLog {
    /// Creates the topic if missing (or checks it is compacted) and opens the clients; the
    /// caller reads with [`Self::read_to_end`].
    pub fn open(worker: &WorkerConfig, spec: &LogSpec, client_id: &str) -> Result<Self, LogError> {
        let topic = spec.topic.clone();
        let security = |source| LogError::Security {
            topic: topic.clone(),
            source,
        };
        let kafka = |context, source| LogError::Kafka {
            topic: topic.clone(),
            context,
            source,
        };
        let base = worker_client_config(worker).map_err(security)?;
        if base
            .get("security.protocol")
            .is_some_and(|p| !p.eq_ignore_ascii_case("plaintext"))
        {
            return Err(LogError::Topic {
                key: spec.key,
                message: format!(
                    "distributed mode reads {} over plaintext only for now: security.protocol={} is not supported yet",
                    spec.topic,
                    base.get("security.protocol").unwrap_or_default()
                ),
            });
        }
        let partitions = ensure_topic(&base, spec).map_err(|e| match e {
            Ensure::Kafka(context, source) => kafka(context, source),
            Ensure::Topic(message) => LogError::Topic {
                key: spec.key,
                message,
            },
        })?;

        let mut p = base.clone();
        p.set("client.id", client_id)
            .set("acks", "all")
            .set("enable.idempotence", "false")
            .set("max.in.flight.requests.per.connection", "1")
            // Java's default partitioner for keyed records.
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "30000");
        let producer: ThreadedProducer<Reports> = p
            .create_with_context(Reports)
            .map_err(|e| kafka("producer", e))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                kafka(
                    "runtime",
                    KafkaError::ClientCreation(format!("cannot start a runtime: {e}")),
                )
            })?;
        let bootstrap = worker
            .bootstrap_servers
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Self {
            topic: spec.topic.clone(),
            writer: LogWriter {
                topic: Arc::from(spec.topic.as_str()),
                producer: Arc::new(producer),
            },
            positions: (0..partitions).map(|p| (p, 0)).collect(),
            watermarks: WatermarkReader::new(bootstrap, client_id),
            rt,
        })
    }

    pub fn writer(&self) -> LogWriter {
        self.writer.clone()
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn partitions(&self) -> i32 {
        i32::try_from(self.positions.len()).unwrap_or(i32::MAX)
    }

    /// The next offset to read in each partition.
    pub fn positions(&self) -> &BTreeMap<i32, i64> {
        &self.positions
    }

    /// Reads every record written before the call.
    pub fn read_to_end(&mut self, timeout: Duration) -> Result<Vec<LogRecord>, LogError> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut ends: Option<BTreeMap<i32, (i64, i64)>> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LogError::Timeout {
                    topic: self.topic.clone(),
                    timeout,
                });
            }
            let fetched = self.fetch(Duration::from_millis(10), &mut out)?;
            // The first answer's high watermarks are the end as of the call.
            let ends = ends.get_or_insert_with(|| {
                fetched
                    .iter()
                    .map(|(p, (start, end))| (*p, (*start, *end)))
                    .collect()
            });
            // A partition whose records are all gone (start == end) has nothing to read.
            let behind = ends.iter().any(|(p, (start, end))| {
                end > start && self.positions.get(p).copied().unwrap_or(0) < *end
            });
            if !behind {
                return Ok(out);
            }
        }
    }

    /// Whatever arrives within `max_wait` (one Fetch round).
    pub fn poll(&mut self, max_wait: Duration) -> Result<Vec<LogRecord>, LogError> {
        let mut out = Vec::new();
        self.fetch(max_wait, &mut out)?;
        Ok(out)
    }

    /// One Fetch round from the current positions; returns each partition's (start, end).
    fn fetch(
        &mut self,
        max_wait: Duration,
        out: &mut Vec<LogRecord>,
    ) -> Result<BTreeMap<i32, (i64, i64)>, LogError> {
        let topic = self.topic.clone();
        let positions = self.positions.clone();
        let fetched = self
            .rt
            .block_on(self.watermarks.fetch(&topic, &positions, max_wait))
            .map_err(|source| LogError::Watermark {
                topic: topic.clone(),
                source,
            })?;
        let mut bounds = BTreeMap::new();
        for (p, f) in fetched {
            for r in f.records {
                out.push(LogRecord {
                    partition: p,
                    offset: r.offset,
                    timestamp: Some(r.timestamp),
                    key: r.key,
                    value: r.value,
                });
            }
            if let Some(next) = f.next {
                let pos = self.positions.entry(p).or_insert(0);
                *pos = (*pos).max(next);
            }
            bounds.insert(p, (f.log_start, f.high_watermark));
        }
        Ok(bounds)
    }
}

enum Ensure {
    Kafka(&'static str, KafkaError),
    Topic(String),
}

/// Creates the topic compacted, or checks the existing one; returns its partition count.
fn ensure_topic(base: &ClientConfig, spec: &LogSpec) -> Result<i32, Ensure> {
    let admin: AdminClient<DefaultClientContext> = base
        .create()
        .map_err(|e| Ensure::Kafka("admin client", e))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Ensure::Kafka("runtime", KafkaError::AdminOpCreation(e.to_string())))?;
    let existing = |admin: &AdminClient<DefaultClientContext>| -> Result<Option<i32>, Ensure> {
        let md = admin
            .inner()
            .fetch_metadata(None, ADMIN_TIMEOUT)
            .map_err(|e| Ensure::Kafka("metadata", e))?;
        Ok(md
            .topics()
            .iter()
            .find(|t| t.name() == spec.topic && t.error().is_none() && !t.partitions().is_empty())
            .map(|t| i32::try_from(t.partitions().len()).unwrap_or(i32::MAX)))
    };
    let partitions = match existing(&admin)? {
        Some(n) => {
            check_compacted(&admin, &rt, spec)?;
            n
        }
        None => {
            let replication = if spec.replication < 0 {
                TopicReplication::Fixed(-1)
            } else {
                TopicReplication::Fixed(i32::from(spec.replication))
            };
            let mut topic = NewTopic::new(&spec.topic, spec.partitions, replication);
            for (k, v) in &spec.settings {
                topic = topic.set(k, v);
            }
            topic = topic.set("cleanup.policy", "compact");
            let results = rt
                .block_on(admin.create_topics(
                    [&topic],
                    &AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)),
                ))
                .map_err(|e| Ensure::Kafka("create topic", e))?;
            for r in results {
                match r {
                    Ok(_) => tracing::info!("Created topic {} for {}", spec.topic, spec.purpose),
                    Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => {
                        return Err(Ensure::Kafka("create topic", KafkaError::AdminOp(code)));
                    }
                }
            }
            let mut n = None;
            for _ in 0..50 {
                n = existing(&admin)?;
                if n.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            n.ok_or_else(|| {
                Ensure::Topic(format!(
                    "Could not look up partition metadata for topic '{}' in the allotted period. This could indicate a connectivity issue, unavailable topic partitions, or if this is your first use of the topic it may have taken too long to create.",
                    spec.topic
                ))
            })?
        }
    };
    if spec.single_partition && partitions > 1 {
        return Err(Ensure::Topic(format!(
            "Topic '{}' supplied via the '{}' property is required to have a single partition in order to guarantee consistency of connector configurations, but found {partitions} partitions.",
            spec.topic, spec.key
        )));
    }
    Ok(partitions)
}

/// Kafka's `verifyTopicCleanupPolicyOnlyCompact`: an existing topic must be compacted only.
fn check_compacted(
    admin: &AdminClient<DefaultClientContext>,
    rt: &tokio::runtime::Runtime,
    spec: &LogSpec,
) -> Result<(), Ensure> {
    let described = rt.block_on(admin.describe_configs(
        [&ResourceSpecifier::Topic(&spec.topic)],
        &AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT)),
    ));
    let Ok(results) = described else {
        tracing::info!(
            "cannot describe topic {}; its cleanup policy is not checked",
            spec.topic
        );
        return Ok(());
    };
    let Some(Ok(resource)) = results.into_iter().next() else {
        return Ok(());
    };
    let Some(policy) = resource.get("cleanup.policy").and_then(|e| e.value.clone()) else {
        return Ok(());
    };
    let policies: Vec<String> = policy
        .split(',')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    if policies == ["compact"] {
        return Ok(());
    }
    Err(Ensure::Topic(format!(
        "Topic '{t}' supplied via the '{k}' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of {p}, but found the topic currently has 'cleanup.policy={found}'. Continuing would likely result in eventually losing {p} and problems restarting this Connect cluster in the future. Change the '{k}' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'.",
        t = spec.topic,
        k = spec.key,
        p = spec.purpose,
        found = policies.join(","),
    )))
}
