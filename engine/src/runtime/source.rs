//! The source task loop: poll the task for a batch, run the connector's chain and
//! converters over it (the one pipeline), produce every record (`acks=all`, idempotent), and commit source offsets only for
//! batches whose records have all been acknowledged, in order, every
//! `offset.flush.interval.ms` and on stop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::Array;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use sluice_codecs::model::record::timestamp_type;
use sluice_codecs::{RawBatch, RawBatchBuilder};
use sluice_connectors::{SourceBatch, SourceOffsets};
use sluice_smt::Pipeline;
use sluice_smt::batch::ConnectBatch;

use crate::config::WorkerConfig;
use crate::error::{EngineError, Result};
use crate::kafka;
use crate::metrics::TaskMetrics;
use crate::offsets::FileOffsetStore;
use crate::runtime::TaskContext;
use crate::status::TaskLabel;

const IDLE_WAIT: Duration = Duration::from_millis(50);
const STOP_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Acknowledgement state of one produced batch.
#[derive(Debug)]
struct BatchAck {
    remaining: AtomicUsize,
    error: Mutex<Option<String>>,
}

impl BatchAck {
    fn done(&self) -> bool {
        self.remaining.load(Ordering::Acquire) == 0
    }

    fn error(&self) -> Option<String> {
        self.error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The producer's context: delivery reports per batch, and the error retrying cannot fix.
struct AckContext(crate::kafka::ClientFailure);

impl ClientContext for AckContext {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if !self.0.observe(&error, reason) {
            tracing::error!("producer: {error}: {reason}");
        }
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = Arc<BatchAck>;

    fn delivery(&self, result: &DeliveryResult<'_>, ack: Arc<BatchAck>) {
        if let Err((e, _)) = result {
            let mut slot = ack.error.lock().unwrap_or_else(PoisonError::into_inner);
            slot.get_or_insert_with(|| e.to_string());
        }
        ack.remaining.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs one source task until `stop`; failures are reported on the board, never panics.
pub fn run(ctx: TaskContext, store: FileOffsetStore) {
    super::supervise(&ctx.label, &ctx.board, || run_inner(&ctx, &store));
}

fn run_inner(tc: &TaskContext, store: &FileOffsetStore) -> Result<()> {
    let (worker, connector, label, stop) = (&tc.worker, &tc.connector, &tc.label, &tc.stop);
    let metrics = &tc.metrics;
    let ctx = label.to_string();
    let task_err = |source| EngineError::Task {
        context: ctx.clone(),
        source,
    };
    let mut task = connector
        .spec
        .source_task(&ctx)
        .ok_or_else(|| EngineError::TaskFailed {
            context: ctx.clone(),
            message: "connector is not a source".into(),
        })?;
    let chain = sluice_smt::Chain::configure(
        &connector
            .props
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
    .map_err(|e| EngineError::TaskFailed {
        context: ctx.clone(),
        message: e.to_string(),
    })?;
    let pipeline = Pipeline::new(connector.converters(), chain, None);
    let client_failure = crate::kafka::ClientFailure::default();
    let producer: ThreadedProducer<AckContext> =
        kafka::source_producer_config(worker, connector, label.task)
            .map_err(|source| EngineError::Security {
                context: ctx.clone(),
                source,
            })?
            .create_with_context(AckContext(client_failure.clone()))
            .map_err(|source| EngineError::Kafka {
                context: ctx.clone(),
                source,
            })?;
    task.start(&store.reader(&connector.name))
        .map_err(task_err)?;
    tracing::info!("{label} source task started");

    let mut in_flight: VecDeque<(Arc<BatchAck>, SourceOffsets)> = VecDeque::new();
    let mut last_commit = Instant::now();
    let mut paused = false;
    let outcome = loop {
        if stop.is_stopped() {
            break Ok(());
        }
        if let Some(reason) = client_failure.take() {
            break Err(EngineError::TaskFailed {
                context: ctx.clone(),
                message: format!("Kafka producer: {reason}"),
            });
        }
        if let Some(e) = in_flight.iter().find_map(|(a, _)| a.error()) {
            break Err(EngineError::TaskFailed {
                context: ctx.clone(),
                message: format!("Unrecoverable exception from producer send callback: {e}"),
            });
        }
        if tc.pause.is_paused() != paused {
            paused = !paused;
            super::report_pause(&tc.board, label, paused);
        }
        let polled_at = Instant::now();
        // A paused task does not poll; it waits and commits like an idle one.
        let polled = if paused { Ok(None) } else { task.poll() };
        let batch = match polled {
            Ok(Some(b)) if !b.is_empty() => b,
            Ok(_) => {
                stop.sleep(IDLE_WAIT);
                maybe_commit(
                    &mut in_flight,
                    store,
                    &connector.name,
                    worker,
                    &mut last_commit,
                    label,
                );
                continue;
            }
            Err(e) => break Err(task_err(e)),
        };
        metrics.poll_batch_time.record_duration(polled_at.elapsed());
        TaskMetrics::add(&metrics.source_record_poll, batch.len());
        metrics.batch_size.record(batch.len() as u64);
        tc.topics.record(&connector.name, [batch.topic.as_str()]);
        let n = batch.len();
        let encoded = match pipeline.run_source(source_batch(&batch)) {
            Ok(e) => e,
            Err(e) => {
                break Err(EngineError::TaskFailed {
                    context: ctx.clone(),
                    message: e.to_string(),
                });
            }
        };
        // Transformation and conversion failures: with errors.tolerance=none the task fails
        // (nothing of the batch is produced, its offsets are not committed); with `all` the
        // rows are skipped (counted, and logged per batch with errors.log.enable). Sources
        // have no DLQ.
        let failed = encoded.failures.len();
        if let Some(f) = encoded.failures.first() {
            TaskMetrics::add(&metrics.record_failures, failed);
            TaskMetrics::add(&metrics.record_errors, failed);
            if !connector.errors.tolerate_all {
                break Err(EngineError::TaskFailed {
                    context: ctx.clone(),
                    message: format!(
                        "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\nCaused by: {} (stage {}, class {})",
                        f.exception_line(),
                        f.stage,
                        f.class_name
                    ),
                });
            }
            TaskMetrics::add(&metrics.records_skipped, failed);
            if connector.errors.log_enable {
                tracing::error!(
                    "{label} {failed} record(s) of a batch of {n} failed in stage {} and were skipped (errors.tolerance=all); first: {}",
                    f.stage,
                    f.exception_line()
                );
                TaskMetrics::add(&metrics.errors_logged, failed);
            }
        }
        let produced: usize = encoded.batches.iter().map(|b| b.batch.num_rows()).sum();
        let ack = Arc::new(BatchAck {
            remaining: AtomicUsize::new(produced),
            error: Mutex::new(None),
        });
        for out in &encoded.batches {
            let raw = &out.batch.raw;
            for i in 0..raw.num_rows() {
                let key = out.keys.is_valid(i).then(|| out.keys.value(i));
                let value = out.values.is_valid(i).then(|| out.values.value(i));
                let mut record: BaseRecord<'_, [u8], [u8], Arc<BatchAck>> =
                    BaseRecord::with_opaque_to(raw.topic(i), ack.clone());
                if let Some(k) = key {
                    record = record.key(k);
                }
                if let Some(v) = value {
                    record = record.payload(v);
                }
                if let Some(ts) = batch.timestamp {
                    record = record.timestamp(ts);
                }
                if !out.headers.is_empty() {
                    let headers = out.headers.row(i);
                    let mut owned = OwnedHeaders::new_with_capacity(headers.len());
                    for (key, value) in headers {
                        owned = owned.insert(Header { key, value });
                    }
                    record = record.headers(owned);
                }
                send_with_backpressure(&producer, record).map_err(|source| EngineError::Kafka {
                    context: ctx.clone(),
                    source,
                })?;
            }
        }
        TaskMetrics::add(&metrics.source_record_write, produced);
        in_flight.push_back((ack, batch.offsets));
        maybe_commit(
            &mut in_flight,
            store,
            &connector.name,
            worker,
            &mut last_commit,
            label,
        );
    };
    task.stop();
    if outcome.is_ok() {
        // Graceful stop: wait for outstanding acks, then commit everything acknowledged.
        if let Err(e) = producer.flush(STOP_FLUSH_TIMEOUT) {
            tracing::warn!("{label} producer flush on stop: {e}");
        }
        commit_acked(&mut in_flight, store, &connector.name);
        store.flush()?;
        tracing::info!("{label} committed source offsets on stop");
    }
    outcome
}

/// A source batch as the chain sees it: source records (no Kafka partition or offset), the
/// task's topic and timestamp on every row.
fn source_batch(batch: &SourceBatch) -> ConnectBatch {
    let n = batch.len();
    let mut raw = RawBatchBuilder::with_capacity(n);
    for _ in 0..n {
        raw.append(
            &batch.topic,
            0,
            0,
            batch.timestamp,
            if batch.timestamp.is_some() {
                timestamp_type::CREATE_TIME
            } else {
                timestamp_type::NO_TIMESTAMP_TYPE
            },
            None,
            None,
            [],
        );
    }
    let raw: RawBatch = raw.finish();
    let mut out = ConnectBatch::new(raw, batch.key.clone(), batch.value.clone());
    out.source = true;
    out
}

fn send_with_backpressure<'a>(
    producer: &ThreadedProducer<AckContext>,
    mut record: BaseRecord<'a, [u8], [u8], Arc<BatchAck>>,
) -> Result<(), KafkaError> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                // The local queue is full: wait for deliveries rather than buffer unboundedly.
                record = r;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Moves offsets of fully acknowledged batches, oldest first, into the store.
fn commit_acked(
    in_flight: &mut VecDeque<(Arc<BatchAck>, SourceOffsets)>,
    store: &FileOffsetStore,
    connector: &str,
) -> usize {
    let mut n = 0;
    while in_flight
        .front()
        .is_some_and(|(a, _)| a.done() && a.error().is_none())
    {
        if let Some((_, offsets)) = in_flight.pop_front() {
            store.put(connector, offsets);
            n += 1;
        }
    }
    n
}

fn maybe_commit(
    in_flight: &mut VecDeque<(Arc<BatchAck>, SourceOffsets)>,
    store: &FileOffsetStore,
    connector: &str,
    worker: &WorkerConfig,
    last_commit: &mut Instant,
    label: &TaskLabel,
) {
    if last_commit.elapsed() < worker.offset_flush_interval {
        return;
    }
    *last_commit = Instant::now();
    let n = commit_acked(in_flight, store, connector);
    match store.flush() {
        Ok(()) => tracing::debug!("{label} committed source offsets of {n} batches"),
        Err(e) => tracing::warn!("{label} offset commit failed, will retry: {e}"),
    }
}
