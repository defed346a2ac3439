//! The sink task loop: consume in group `connect-<connector>` with manual commits, build one
//! raw batch per poll burst, convert key and value column-wise, `put` the batch, and every
//! `offset.flush.interval.ms` (and on revocation and stop) flush the sink and commit exactly
//! the offsets it has flushed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::{BooleanArray, DictionaryArray};
use arrow::datatypes::Int32Type;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{Headers, Message, Timestamp};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use sluice_codecs::ConnectColumn;
use sluice_codecs::record::timestamp_type;
use sluice_codecs::reference::RefHeaderConverter;
use sluice_codecs::value::Value;
use sluice_codecs::{RawBatch, RawBatchBuilder, RawHeader};
use sluice_connectors::{SinkBatch, SinkTask};
use sluice_smt::Header;

use crate::pipeline::record_of;

use crate::config::{ConnectorConfig, TopicSelection, WorkerConfig};
use crate::error::{EngineError, Result};
use crate::kafka;
use crate::runtime::StopSignal;
use crate::status::{StatusBoard, TaskLabel};
use sluice_smt::Chain;
use sluice_smt::batch::ConnectBatch;

/// Rows per batch unless `max.poll.records` says otherwise.
const DEFAULT_BATCH_ROWS: usize = 8192;
const POLL_TIMEOUT: Duration = Duration::from_millis(100);

type Tp = (String, i32);

struct Shared {
    task: Box<dyn SinkTask>,
    /// Next offset to commit per partition, for rows already put.
    pending: HashMap<Tp, i64>,
    /// Partitions revoked since the loop last looked.
    revoked: Vec<Tp>,
    failure: Option<String>,
}

struct SinkContext {
    shared: Arc<Mutex<Shared>>,
    label: TaskLabel,
}

impl ClientContext for SinkContext {}

impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let revoked: Vec<Tp> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.revoked.extend(revoked.iter().cloned());
        if shared.failure.is_some() {
            return;
        }
        // Hand over cleanly: what was put for these partitions is flushed and committed,
        // so the next owner starts right after it.
        let to_commit: HashMap<Tp, i64> = revoked
            .iter()
            .filter_map(|tp| shared.pending.remove_entry(tp))
            .collect();
        if let Err(e) = shared.task.flush() {
            shared.failure = Some(format!("flush on partition revocation failed: {e}"));
            return;
        }
        if let Err(e) = commit(consumer, &to_commit) {
            tracing::warn!("{} offset commit on revocation failed: {e}", self.label);
        }
        tracing::info!("{} partitions revoked: {}", self.label, fmt_tps(&revoked));
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let tps: Vec<Tp> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            tracing::info!("{} partitions assigned: {}", self.label, fmt_tps(&tps));
        }
    }
}

fn fmt_tps(tps: &[Tp]) -> String {
    let mut v: Vec<String> = tps.iter().map(|(t, p)| format!("{t}-{p}")).collect();
    v.sort();
    format!("[{}]", v.join(", "))
}

fn commit(
    consumer: &BaseConsumer<SinkContext>,
    offsets: &HashMap<Tp, i64>,
) -> Result<(), rdkafka::error::KafkaError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::with_capacity(offsets.len());
    for ((t, p), o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
    }
    consumer.commit(&tpl, CommitMode::Sync)
}

/// Runs one sink task until `stop`; failures are reported on the board, never panics.
pub fn run(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    task_id: usize,
    stop: StopSignal,
    board: StatusBoard,
) {
    let label = TaskLabel {
        connector: connector.name.clone(),
        task: task_id,
    };
    super::supervise(&label, &board, || {
        run_inner(worker, connector, &label, &stop)
    });
}

fn run_inner(
    worker: &WorkerConfig,
    connector: &ConnectorConfig,
    label: &TaskLabel,
    stop: &StopSignal,
) -> Result<()> {
    let ctx = label.to_string();
    let task = connector
        .spec
        .sink_task()
        .ok_or_else(|| EngineError::TaskFailed {
            context: ctx.clone(),
            message: "connector is not a sink".into(),
        })?
        .map_err(|source| EngineError::Task {
            context: ctx.clone(),
            source,
        })?;
    let mut key_converter = connector.key_converter.build();
    let mut value_converter = connector.value_converter.build();
    let chain_props: std::collections::HashMap<String, String> = connector
        .props
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let policy = ErrorPolicy {
        tolerate_all: connector.tolerate_all,
        log: connector.log_errors,
    };
    let chain = Chain::configure(&chain_props).map_err(|e| EngineError::TaskFailed {
        context: ctx.clone(),
        message: e.to_string(),
    })?;
    let batch_rows = connector
        .client_overrides("consumer.override")
        .get("max.poll.records")
        .cloned()
        .or_else(|| {
            worker
                .client_overrides("consumer")
                .get("max.poll.records")
                .cloned()
        })
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &usize| *n > 0)
        .unwrap_or(DEFAULT_BATCH_ROWS);

    let shared = Arc::new(Mutex::new(Shared {
        task,
        pending: HashMap::new(),
        revoked: Vec::new(),
        failure: None,
    }));
    let consumer: BaseConsumer<SinkContext> =
        kafka::sink_consumer_config(worker, connector, label.task)
            .create_with_context(SinkContext {
                shared: shared.clone(),
                label: label.clone(),
            })
            .map_err(|source| EngineError::Kafka {
                context: ctx.clone(),
                source,
            })?;
    match &connector.topics {
        Some(TopicSelection::List(topics)) => {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&topics)
        }
        Some(TopicSelection::Regex(r)) => {
            consumer.subscribe(&[&format!("^{}", r.trim_start_matches('^'))])
        }
        None => Ok(()),
    }
    .map_err(|source| EngineError::Kafka {
        context: ctx.clone(),
        source,
    })?;
    tracing::info!("{label} sink task started, batches of up to {batch_rows} records");

    let lock = || shared.lock().unwrap_or_else(PoisonError::into_inner);
    let mut builder = RawBatchBuilder::with_capacity(batch_rows);
    // (rows polled before the revocation, partitions revoked): those rows must not be put.
    let mut revocations: Vec<(usize, Vec<Tp>)> = Vec::new();
    let mut last_commit = Instant::now();
    let flush_interval = worker.offset_flush_interval;
    let result = loop {
        if stop.is_stopped() {
            break Ok(());
        }
        let mut timeout = POLL_TIMEOUT;
        while builder.len() < batch_rows {
            let polled = consumer.poll(timeout);
            timeout = Duration::ZERO;
            {
                let mut s = lock();
                if !s.revoked.is_empty() {
                    revocations.push((builder.len(), std::mem::take(&mut s.revoked)));
                }
            }
            match polled {
                None => break,
                Some(Err(e)) => {
                    tracing::warn!("{label} consumer error: {e}");
                    break;
                }
                Some(Ok(m)) => {
                    let (ts, ts_type) = match m.timestamp() {
                        Timestamp::NotAvailable => (None, timestamp_type::NO_TIMESTAMP_TYPE),
                        Timestamp::CreateTime(t) => (Some(t), timestamp_type::CREATE_TIME),
                        Timestamp::LogAppendTime(t) => (Some(t), timestamp_type::LOG_APPEND_TIME),
                    };
                    let headers = m.headers();
                    let header_iter =
                        headers
                            .into_iter()
                            .flat_map(|h| h.iter())
                            .map(|h| RawHeader {
                                key: h.key,
                                value: h.value,
                            });
                    builder.append(
                        m.topic(),
                        m.partition(),
                        m.offset(),
                        ts,
                        ts_type,
                        m.key(),
                        m.payload(),
                        header_iter,
                    );
                }
            }
        }
        if let Some(f) = lock().failure.take() {
            break Err(EngineError::TaskFailed {
                context: ctx.clone(),
                message: f,
            });
        }
        if !builder.is_empty() {
            let raw = drop_revoked(builder.finish(), &revocations)?;
            if raw.num_rows() > 0
                && let Err(e) = deliver(
                    &raw,
                    &mut *key_converter,
                    &mut *value_converter,
                    &chain,
                    policy,
                    &mut lock(),
                    &ctx,
                )
            {
                break Err(e);
            }
        }
        revocations.clear();
        if last_commit.elapsed() >= flush_interval {
            flush_and_commit(&consumer, &mut lock(), label)?;
            last_commit = Instant::now();
        }
    };
    match result {
        Ok(()) => {
            flush_and_commit(&consumer, &mut lock(), label)?;
            consumer.unsubscribe();
            lock().task.stop().map_err(|source| EngineError::Task {
                context: ctx,
                source,
            })
        }
        Err(e) => {
            consumer.unsubscribe();
            Err(e)
        }
    }
}

fn drop_revoked(raw: RawBatch, revocations: &[(usize, Vec<Tp>)]) -> Result<RawBatch> {
    if revocations.is_empty() {
        return Ok(raw);
    }
    let partitions = raw.partitions();
    let keep: BooleanArray = (0..raw.num_rows())
        .map(|i| {
            let revoked = revocations.iter().any(|(before, tps)| {
                i < *before
                    && tps
                        .iter()
                        .any(|(t, p)| *p == partitions.value(i) && t == raw.topic(i))
            });
            Some(!revoked)
        })
        .collect();
    raw.filter(&keep).map_err(|e| EngineError::TaskFailed {
        context: "filter".into(),
        message: e.to_string(),
    })
}

/// `errors.tolerance` and `errors.log.enable` of the connector.
#[derive(Debug, Clone, Copy)]
struct ErrorPolicy {
    tolerate_all: bool,
    log: bool,
}

fn failure_text(raw: &RawBatch, f: &sluice_codecs::RowFailure) -> String {
    format!(
        "{} failed for record {}-{}@{}: {}: {}",
        f.stage,
        raw.topic(f.row),
        raw.partitions().value(f.row),
        raw.offsets().value(f.row),
        f.exception,
        f.message
    )
}

fn deliver(
    raw: &RawBatch,
    key_converter: &mut dyn sluice_codecs::Converter,
    value_converter: &mut dyn sluice_codecs::Converter,
    chain: &Chain,
    policy: ErrorPolicy,
    shared: &mut Shared,
    ctx: &str,
) -> Result<()> {
    let key = key_converter.decode(raw.keys());
    let value = value_converter.decode(raw.values());
    // errors.tolerance=none: the first failing record fails the task, nothing of the batch
    // is put and no offset past it is committed. With `all` the failed rows are skipped and
    // the offsets move past them (one log line per batch when errors.log.enable is set).
    let mut failures: Vec<&sluice_codecs::RowFailure> =
        key.failures.iter().chain(&value.failures).collect();
    failures.sort_by_key(|f| f.row);
    if let Some(f) = failures.first() {
        if !policy.tolerate_all {
            return Err(EngineError::TaskFailed {
                context: ctx.into(),
                message: format!(
                    "Tolerance exceeded in error handler: {}",
                    failure_text(raw, f)
                ),
            });
        }
        if policy.log {
            tracing::warn!(
                "{ctx} skipped {} failed record(s) of a batch of {} (errors.tolerance=all); first: {}",
                failures.len(),
                raw.num_rows(),
                failure_text(raw, f)
            );
        }
    }
    let failed: std::collections::HashSet<usize> = failures.iter().map(|f| f.row).collect();
    // Key and value each come in runs of one schema; put the batch in segments where
    // neither changes (one segment in practice).
    let mut cuts: Vec<usize> = key
        .runs
        .iter()
        .chain(&value.runs)
        .map(|r| r.start)
        .chain([raw.num_rows()])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    for w in cuts.windows(2) {
        let (start, len) = (w[0], w[1] - w[0]);
        let segment = |runs: &[sluice_codecs::json_columnar::Run]| {
            let run = runs
                .iter()
                .rev()
                .find(|r| r.start <= start)
                .unwrap_or(&runs[0]);
            run.column.slice(start - run.start, len)
        };
        let (k, v) = (segment(&key.runs), segment(&value.runs));
        let raw_segment = if len == raw.num_rows() {
            raw.clone()
        } else {
            raw.slice(start, len)
        };
        let (raw_segment, k, v) = if (start..start + len).any(|r| failed.contains(&r)) {
            let keep =
                BooleanArray::from_iter((start..start + len).map(|r| Some(!failed.contains(&r))));
            let fail = |e: arrow::error::ArrowError| EngineError::TaskFailed {
                context: ctx.into(),
                message: e.to_string(),
            };
            (
                raw_segment
                    .filter(&keep)
                    .map_err(|e| EngineError::TaskFailed {
                        context: ctx.into(),
                        message: e.to_string(),
                    })?,
                k.filter(&keep).map_err(fail)?,
                v.filter(&keep).map_err(fail)?,
            )
        } else {
            (raw_segment, k, v)
        };
        let (raw_segment, k, v) = if chain.is_empty() {
            (raw_segment, k, v)
        } else {
            transform(chain, raw_segment, k, v, policy, ctx)?
        };
        if raw_segment.num_rows() == 0 {
            continue;
        }
        shared
            .task
            .put(&SinkBatch {
                raw: &raw_segment,
                key: &k,
                value: &v,
            })
            .map_err(|source| EngineError::Task {
                context: ctx.into(),
                source,
            })?;
    }
    for (topic, partition, max) in raw.max_offsets() {
        let slot = shared
            .pending
            .entry((topic.to_string(), partition))
            .or_insert(max + 1);
        *slot = (*slot).max(max + 1);
    }
    Ok(())
}

fn flush_and_commit(
    consumer: &BaseConsumer<SinkContext>,
    shared: &mut Shared,
    label: &TaskLabel,
) -> Result<()> {
    shared.task.flush().map_err(|source| EngineError::Task {
        context: label.to_string(),
        source,
    })?;
    if shared.pending.is_empty() {
        return Ok(());
    }
    match commit(consumer, &shared.pending) {
        Ok(()) => {
            tracing::debug!(
                "{label} committed offsets for {} partitions",
                shared.pending.len()
            );
            shared.pending.clear();
        }
        // Kafka Connect logs and retries at the next interval; the rows stay uncommitted.
        Err(e) => tracing::warn!("{label} offset commit failed, will retry: {e}"),
    }
    Ok(())
}

/// Applies the connector's transformation chain to one segment: column-wise when the batch
/// kernels take it, otherwise record by record through the reference chain (the result then
/// carries each record's exact values). A failing transformation fails the task, as with
/// errors.tolerance=none.
fn transform(
    chain: &Chain,
    raw: RawBatch,
    key: ConnectColumn,
    value: ConnectColumn,
    policy: ErrorPolicy,
    ctx: &str,
) -> Result<(RawBatch, ConnectColumn, ConnectColumn)> {
    let batch = ConnectBatch {
        raw: raw.clone(),
        key: key.clone(),
        value: value.clone(),
    };
    if let Some(b) = chain.apply_batch(batch) {
        return Ok((b.raw, b.key, b.value));
    }
    let headers = RefHeaderConverter::Simple;
    let (mut keep, mut topics, mut keys, mut values) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..raw.num_rows() {
        let record_headers = raw
            .row_headers(i)
            .map(|h| {
                headers.to_connect(h.value).map(|(schema, value)| Header {
                    key: h.key.to_string(),
                    schema,
                    value,
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>();
        let record = record_headers.map(|headers| {
            record_of(
                &raw,
                i,
                (key.schema.clone(), key.value(i)),
                (value.schema.clone(), value.value(i)),
                headers,
            )
        });
        let (stage, outcome) = match record {
            Ok(r) => ("TRANSFORMATION", chain.apply(r)),
            Err(e) => ("HEADER_CONVERTER", Err(e)),
        };
        match outcome {
            Ok(Some(r)) => {
                keys.push((topics.len(), r.key));
                values.push((topics.len(), r.value));
                topics.push(r.topic);
                keep.push(true);
            }
            Ok(None) => keep.push(false),
            Err(e) if policy.tolerate_all => {
                if policy.log {
                    tracing::warn!(
                        "{ctx} skipped record {}-{}@{} (errors.tolerance=all): {stage} failed: {e}",
                        raw.topic(i),
                        raw.partitions().value(i),
                        raw.offsets().value(i)
                    );
                }
                keep.push(false);
            }
            Err(e) => {
                return Err(EngineError::TaskFailed {
                    context: ctx.into(),
                    message: format!(
                        "Tolerance exceeded in error handler: {stage} failed for record {}-{}@{}: {e}",
                        raw.topic(i),
                        raw.partitions().value(i),
                        raw.offsets().value(i)
                    ),
                });
            }
        }
    }
    let kept = raw
        .filter(&BooleanArray::from(keep))
        .map_err(|e| EngineError::TaskFailed {
            context: ctx.into(),
            message: e.to_string(),
        })?;
    let dict: DictionaryArray<Int32Type> = topics.iter().map(String::as_str).collect();
    let kept = kept
        .with_topics(dict)
        .map_err(|e| EngineError::TaskFailed {
            context: ctx.into(),
            message: e.to_string(),
        })?;
    let column = |exact: Vec<(usize, Value)>| {
        let mut c = ConnectColumn::nulls(kept.num_rows());
        c.exact = exact;
        c
    };
    let (keys, values) = (column(keys), column(values));
    Ok((kept, keys, values))
}
