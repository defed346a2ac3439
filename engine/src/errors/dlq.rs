//! The dead letter queue of a sink connector: failed records go to
//! `errors.deadletterqueue.topic.name` with their original raw key, value, headers and
//! timestamp, plus Kafka Connect's `__connect.errors.*` context headers when enabled. The
//! topic is created on first use, as Kafka's `DeadLetterQueueReporter` does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arrow::array::Array;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext};
use sluice_codecs::RawBatch;

use super::policy::DlqConfig;
use crate::error::{EngineError, Result};
use crate::status::TaskLabel;
use sluice_smt::Failure;

const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

pub const HEADER_PREFIX: &str = "__connect.errors.";

#[derive(Debug, Default)]
struct Acks {
    failed: AtomicU64,
    last_error: std::sync::Mutex<Option<String>>,
}

struct DlqContext(Arc<Acks>);

impl ClientContext for DlqContext {}

impl ProducerContext for DlqContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0.failed.fetch_add(1, Ordering::AcqRel);
            *self
                .0
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e.to_string());
        }
    }
}

/// A task's DLQ writer.
pub struct DeadLetterQueue {
    config: DlqConfig,
    connector: String,
    producer: ThreadedProducer<DlqContext>,
    acks: Arc<Acks>,
    checked_failures: u64,
}

impl DeadLetterQueue {
    /// Creates the topic if it does not exist (through a client made from `admin`) and the
    /// producer from `producer`; the runtime builds both from the worker's and the
    /// connector's client settings (`crate::kafka::dlq_producer_config`).
    pub fn open(
        producer: &ClientConfig,
        admin: &ClientConfig,
        config: DlqConfig,
        label: &TaskLabel,
    ) -> Result<Self> {
        let kafka_err = |source| EngineError::Kafka {
            context: format!("{label} dead letter queue"),
            source,
        };
        ensure_topic(admin, &config, label).map_err(kafka_err)?;
        let acks = Arc::new(Acks::default());
        let producer = producer
            .create_with_context(DlqContext(acks.clone()))
            .map_err(kafka_err)?;
        Ok(Self {
            config,
            connector: label.connector.clone(),
            producer,
            acks,
            checked_failures: 0,
        })
    }

    /// Sends the failed rows of `raw` (asynchronously; [`DeadLetterQueue::flush`] waits).
    pub fn send(&mut self, raw: &RawBatch, failures: &[Failure], label: &TaskLabel) -> Result<()> {
        for f in failures {
            let row = f.row;
            let mut headers = OwnedHeaders::new_with_capacity(raw.row_headers(row).count() + 10);
            for h in raw.row_headers(row) {
                headers = headers.insert(Header {
                    key: h.key,
                    value: h.value,
                });
            }
            if self.config.context_headers {
                for (k, v) in context_headers(raw, f, &self.connector, label.task) {
                    headers = headers.insert(Header {
                        key: &format!("{HEADER_PREFIX}{k}"),
                        value: Some(v.as_bytes()),
                    });
                }
            }
            let key = (!raw.keys().is_null(row)).then(|| raw.keys().value(row));
            let value = (!raw.values().is_null(row)).then(|| raw.values().value(row));
            let ts = raw.timestamps();
            let mut record: BaseRecord<'_, [u8], [u8], ()> =
                BaseRecord::with_opaque_to(&self.config.topic, ()).headers(headers);
            if let Some(k) = key {
                record = record.key(k);
            }
            if let Some(v) = value {
                record = record.payload(v);
            }
            if !ts.is_null(row) && ts.value(row) >= 0 {
                record = record.timestamp(ts.value(row));
            }
            let mut record = record;
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((e, r)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::QueueFull) => {
                        record = r;
                        self.producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => {
                        return Err(EngineError::TaskFailed {
                            context: label.to_string(),
                            message: format!(
                                "could not write to dead letter queue {}: {e}",
                                self.config.topic
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits for every record sent so far; a record the broker refused fails the task, so
    /// the consumer offsets never move past a record that is neither put nor in the DLQ.
    pub fn flush(&mut self, label: &TaskLabel) -> Result<()> {
        let fail = |message: String| EngineError::TaskFailed {
            context: label.to_string(),
            message,
        };
        self.producer.flush(FLUSH_TIMEOUT).map_err(|e| {
            fail(format!(
                "dead letter queue {} did not acknowledge in time: {e}",
                self.config.topic
            ))
        })?;
        let failed = self.acks.failed.load(Ordering::Acquire);
        if failed > self.checked_failures {
            self.checked_failures = failed;
            let last = self
                .acks
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
                .unwrap_or_default();
            return Err(fail(format!(
                "could not produce message to dead letter queue {}: {last}",
                self.config.topic
            )));
        }
        Ok(())
    }
}

/// The `__connect.errors.*` headers (without prefix) in Kafka's order; values as UTF-8 text.
pub fn context_headers(
    raw: &RawBatch,
    f: &Failure,
    connector: &str,
    task: usize,
) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("topic", raw.topic(f.row).to_string()),
        ("partition", raw.partitions().value(f.row).to_string()),
        ("offset", raw.offsets().value(f.row).to_string()),
        ("connector.name", connector.to_string()),
        ("task.id", task.to_string()),
        ("stage", f.stage.to_string()),
        ("class.name", f.class_name.clone()),
        ("exception.class.name", f.exception.clone()),
    ];
    if let Some(m) = &f.message {
        h.push(("exception.message", m.clone()));
    }
    h.push(("exception.stacktrace", f.trace()));
    h
}

fn ensure_topic(
    admin: &ClientConfig,
    config: &DlqConfig,
    label: &TaskLabel,
) -> std::result::Result<(), rdkafka::error::KafkaError> {
    let admin: AdminClient<DefaultClientContext> = admin.create()?;
    // All topics, not the one by name: a metadata request naming a missing topic may
    // auto-create it with the broker's default partition count.
    let metadata = admin.inner().fetch_metadata(None, ADMIN_TIMEOUT)?;
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == config.topic && t.error().is_none() && !t.partitions().is_empty());
    if exists {
        return Ok(());
    }
    tracing::error!(
        "{label} Topic {} doesn't exist. Will attempt to create topic.",
        config.topic
    );
    let topic = NewTopic::new(
        &config.topic,
        1,
        TopicReplication::Fixed(i32::from(config.replication_factor)),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| rdkafka::error::KafkaError::AdminOpCreation(e.to_string()))?;
    let results = rt.block_on(admin.create_topics(
        [&topic],
        &AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT)),
    ))?;
    for r in results {
        match r {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(rdkafka::error::KafkaError::AdminOp(code)),
        }
    }
    Ok(())
}
