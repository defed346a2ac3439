//! The sink task loop: consume in group `connect-<connector>` with manual commits, build one
//! raw batch per poll burst, convert key and value column-wise, transform, `put` the batch,
//! route failed rows by the `errors.*` policy (log, dead letter queue, or fail the task), and
//! every `offset.flush.interval.ms` (and on revocation and stop) flush the sink, wait for the
//! DLQ, and commit exactly the offsets it has flushed. A paused connector's task keeps its
//! partitions paused and stays in the group.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::{Array, BooleanArray};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use sluice_codecs::{RawBatch, RawBatchBuilder, RawHeader, Stage};
use sluice_connectors::{ErrantRecords, SinkBatch, SinkTask};
use sluice_smt::batch::ConnectBatch;
use sluice_smt::{Chain, Pipeline};

use crate::config::TopicSelection;
use crate::error::{EngineError, Result};
use crate::errors::dlq::DeadLetterQueue;
use crate::errors::{ErrorReporter, Failure};
use crate::kafka;
use crate::metrics::{PipelineStage, TaskMetrics};
use crate::runtime::TaskContext;
use crate::runtime::fetch::{FetchQueue, Fetched, ForwardTarget};
use crate::signal::StopSignal;
use crate::status::TaskLabel;

/// Rows per batch unless `max.poll.records` says otherwise.
const DEFAULT_BATCH_ROWS: usize = 8192;
const POLL_TIMEOUT: Duration = Duration::from_millis(100);
const COMMITTED_TIMEOUT: Duration = Duration::from_secs(10);

type Tp = (String, i32);

pub(crate) struct Shared {
    task: Box<dyn SinkTask>,
    /// Next offset to commit per partition, for rows already put.
    pending: HashMap<Tp, i64>,
    /// Partitions revoked since the loop last looked.
    revoked: Vec<Tp>,
    /// Positions the task asked for when partitions were assigned (`SinkTask::open`).
    seeks: Vec<(Tp, i64)>,
    failure: Option<String>,
}

struct SinkContext {
    shared: Arc<Mutex<Shared>>,
    /// Set with `Shared::revoked`, so the poll loop looks at the lock only after a revocation.
    revoked_flag: Arc<std::sync::atomic::AtomicBool>,
    /// The task's fetch queue, which newly assigned partitions are forwarded to.
    forward: Arc<ForwardTarget>,
    /// Set on assignment, so the poll loop applies the task's seeks before it reads on.
    assigned_flag: Arc<std::sync::atomic::AtomicBool>,
    label: TaskLabel,
    client_failure: crate::kafka::ClientFailure,
    /// Completed assignments (empty ones too) and revocations seen, to tell a consumer
    /// stuck joining its group from one that is idle with no partitions.
    rounds: Arc<GroupRounds>,
}

#[derive(Debug, Default)]
struct GroupRounds {
    assigned: std::sync::atomic::AtomicU64,
    revoked: std::sync::atomic::AtomicU64,
}

impl GroupRounds {
    /// Between a revocation (or the start) and the next assignment.
    fn joining(&self) -> bool {
        let a = self.assigned.load(std::sync::atomic::Ordering::Acquire);
        a == 0 || self.revoked.load(std::sync::atomic::Ordering::Acquire) >= a
    }
}

/// A sink consumer that has not completed a group join in this long starts over as a new
/// member. Works around the test broker's consumer groups that keep a departed member as
/// leader after quick task restarts and then never answer SyncGroup (broker.md); a new
/// member's join ends that state. Kafka's own groups complete a join far sooner.
const GROUP_JOIN_STALL: Duration = Duration::from_secs(45);

/// How a sink task's consumer loop ended.
enum SinkEnd {
    Stopped,
    /// The group join stalled; the task runs again with a new consumer.
    GroupStalled,
}

impl ClientContext for SinkContext {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if self.client_failure.observe(&error, reason) {
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            shared
                .failure
                .get_or_insert_with(|| format!("Kafka consumer: {reason}"));
        } else {
            tracing::error!("{} consumer: {error}: {reason}", self.label);
        }
    }
}

impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(_) = rebalance {
            self.rounds
                .revoked
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        let tpl = match rebalance {
            Rebalance::Revoke(tpl) => tpl,
            Rebalance::Assign(tpl) => {
                let tps: Vec<Tp> = tpl
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect();
                self.forward.forward(consumer, &tps);
                return;
            }
            Rebalance::Error(_) => return,
        };
        let revoked: Vec<Tp> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.revoked.extend(revoked.iter().cloned());
        self.revoked_flag
            .store(true, std::sync::atomic::Ordering::Release);
        if shared.failure.is_some() {
            return;
        }
        // Hand over cleanly: what was put for these partitions and made durable is
        // committed, so the next owner starts right after it; the rest is dropped.
        let taken: HashMap<Tp, i64> = revoked
            .iter()
            .filter_map(|tp| shared.pending.remove_entry(tp))
            .collect();
        if let Err(e) = shared.task.flush() {
            shared.failure = Some(format!("flush on partition revocation failed: {e}"));
            return;
        }
        let to_commit = match shared.task.pre_commit(&taken) {
            Ok(o) => o,
            Err(e) => {
                shared.failure = Some(format!("preCommit on partition revocation failed: {e}"));
                return;
            }
        };
        if let Err(e) = commit(consumer, &to_commit) {
            tracing::warn!("{} offset commit on revocation failed: {e}", self.label);
        }
        if let Err(e) = shared.task.close(&revoked) {
            shared.failure = Some(format!("close on partition revocation failed: {e}"));
            return;
        }
        tracing::info!("{} partitions revoked: {}", self.label, fmt_tps(&revoked));
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            self.rounds
                .assigned
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        if let Rebalance::Assign(tpl) = rebalance {
            let tps: Vec<Tp> = tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect();
            tracing::info!("{} partitions assigned: {}", self.label, fmt_tps(&tps));
            // The task learns where the group stands and may ask to start elsewhere.
            let committed: HashMap<Tp, i64> = consumer
                .committed_offsets((*tpl).clone(), COMMITTED_TIMEOUT)
                .map(|c| {
                    c.elements()
                        .iter()
                        .filter_map(|e| match e.offset() {
                            Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let opened: Vec<(Tp, Option<i64>)> = tps
                .iter()
                .map(|tp| (tp.clone(), committed.get(tp).copied()))
                .collect();
            let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
            self.assigned_flag
                .store(true, std::sync::atomic::Ordering::Release);
            match shared.task.open(&opened) {
                Ok(seeks) => shared.seeks.extend(seeks),
                Err(e) => {
                    shared.failure = Some(format!("open on partition assignment failed: {e}"))
                }
            }
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
pub fn run(ctx: TaskContext) {
    super::supervise(&ctx.label, &ctx.board, || {
        loop {
            match run_inner(&ctx)? {
                SinkEnd::Stopped => return Ok(()),
                SinkEnd::GroupStalled => tracing::warn!(
                    "{} the consumer group did not complete a join within {GROUP_JOIN_STALL:?}; rejoining as a new member (a known defect of the test broker)",
                    ctx.label
                ),
            }
        }
    });
}

/// The per-batch processing state of a sink task: the pipeline and error routing.
pub(crate) struct Deliverer {
    pub pipeline: Pipeline,
    pub reporter: ErrorReporter,
    pub stop: StopSignal,
    pub ctx: String,
}

fn run_inner(tc: &TaskContext) -> Result<SinkEnd> {
    let (connector, label, stop) = (&tc.connector, &tc.label, &tc.stop);
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
    let chain_props: HashMap<String, String> = connector
        .props
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let chain = Chain::configure(&chain_props).map_err(|e| EngineError::TaskFailed {
        context: ctx.clone(),
        message: e.to_string(),
    })?;
    let dlq = match &connector.errors.dlq {
        Some(cfg) if connector.errors.tolerate_all => Some(DeadLetterQueue::open(
            &crate::kafka::dlq_producer_config(&tc.worker, connector, label.task).map_err(
                |source| EngineError::Security {
                    context: format!("{ctx} (dead letter queue producer)"),
                    source,
                },
            )?,
            &crate::kafka::admin_config(&tc.worker).map_err(|source| EngineError::Security {
                context: format!("{ctx} (dead letter queue admin)"),
                source,
            })?,
            cfg.clone(),
            label,
        )?),
        _ => None,
    };
    let mut deliverer = Deliverer {
        pipeline: Pipeline::new(connector.converters(), chain, None),
        reporter: ErrorReporter::new(
            connector.errors.clone(),
            label.clone(),
            dlq,
            tc.metrics.clone(),
        ),
        stop: stop.clone(),
        ctx: ctx.clone(),
    };
    let batch_rows = connector
        .client_overrides("consumer.override")
        .get("max.poll.records")
        .cloned()
        .or_else(|| {
            tc.worker
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
        seeks: Vec::new(),
        failure: None,
    }));
    let revoked_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let forward = Arc::new(ForwardTarget::default());
    let assigned_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rounds = Arc::new(GroupRounds::default());
    let consumer: BaseConsumer<SinkContext> =
        kafka::sink_consumer_config(&tc.worker, connector, label.task)
            .map_err(|source| EngineError::Security {
                context: ctx.clone(),
                source,
            })?
            .create_with_context(SinkContext {
                shared: shared.clone(),
                revoked_flag: revoked_flag.clone(),
                forward: forward.clone(),
                assigned_flag: assigned_flag.clone(),
                label: label.clone(),
                client_failure: crate::kafka::ClientFailure::default(),
                rounds: rounds.clone(),
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
    // Declared after the consumer, so dropped before it, as librdkafka requires.
    let mut fetch = FetchQueue::new(&consumer, forward).ok_or_else(|| EngineError::TaskFailed {
        context: ctx.clone(),
        message: "could not create the fetch queue".into(),
    })?;
    tracing::info!("{label} sink task started, batches of up to {batch_rows} records");

    let lock = || shared.lock().unwrap_or_else(PoisonError::into_inner);
    let mut builder = RawBatchBuilder::with_capacity(batch_rows);
    // (rows polled before the revocation, partitions revoked): those rows must not be put.
    let mut revocations: Vec<(usize, Vec<Tp>)> = Vec::new();
    let mut last_commit = Instant::now();
    let mut first_fetched = Instant::now();
    let mut paused = false;
    let flush_interval = tc.worker.offset_flush_interval;
    let mut joining_since: Option<Instant> = None;
    let result = loop {
        if stop.is_stopped() {
            break Ok(SinkEnd::Stopped);
        }
        if rounds.joining() {
            let since = *joining_since.get_or_insert_with(Instant::now);
            if since.elapsed() > GROUP_JOIN_STALL {
                break Ok(SinkEnd::GroupStalled);
            }
        } else {
            joining_since = None;
        }
        if tc.pause.is_paused() != paused {
            paused = !paused;
            let assignment = consumer.assignment().unwrap_or_default();
            let switched = if paused {
                consumer.pause(&assignment)
            } else {
                consumer.resume(&assignment)
            };
            if let Err(e) = switched {
                tracing::warn!("{label} could not pause/resume partitions: {e}");
            }
            super::report_pause(&tc.board, label, paused);
        }
        if paused {
            // Stay in the group (rebalances still run here); newly assigned partitions are
            // paused too, and nothing fetched before the pause is delivered.
            if let Ok(assignment) = consumer.assignment() {
                let _ = consumer.pause(&assignment);
            }
            if consumer.poll(POLL_TIMEOUT).is_some() {
                tracing::debug!("{label} dropped a record fetched before the pause");
            }
            lock().revoked.clear();
        } else {
            let mut timeout = POLL_TIMEOUT;
            let fetch_started = Instant::now();
            while builder.len() < batch_rows {
                // Rebalances, commit results and errors arrive on the consumer queue; records
                // of partitions forwarded to the fetch queue do not.
                let polled = consumer.poll(Duration::ZERO);
                if revoked_flag.swap(false, std::sync::atomic::Ordering::AcqRel) {
                    let mut s = lock();
                    if !s.revoked.is_empty() {
                        revocations.push((builder.len(), std::mem::take(&mut s.revoked)));
                    }
                }
                match polled {
                    None => {}
                    Some(Err(e)) => tracing::warn!("{label} consumer error: {e}"),
                    Some(Ok(m)) => {
                        if builder.is_empty() {
                            first_fetched = Instant::now();
                        }
                        // A partition that could not be forwarded to the fetch queue.
                        append(&mut builder, &Fetched::polled(&m))
                    }
                }
                // Newly assigned partitions may have to start elsewhere (the task's seeks):
                // nothing more is read until those are applied, or rows read from the old
                // position would be read again after the seek.
                if assigned_flag.swap(false, std::sync::atomic::Ordering::AcqRel) {
                    break;
                }
                let room = batch_rows - builder.len();
                let consumed = fetch.consume(timeout, room, |m| match m {
                    Ok(m) => {
                        if builder.is_empty() {
                            first_fetched = Instant::now();
                        }
                        append(&mut builder, &m)
                    }
                    Err(e) => tracing::warn!("{label} consumer error: {e}"),
                });
                timeout = Duration::ZERO;
                if consumed == 0 {
                    break;
                }
            }
            // Time blocked in an empty poll is waiting for data, not fetching it.
            if !builder.is_empty() {
                tc.metrics
                    .stages
                    .add(PipelineStage::Fetch, fetch_started.elapsed());
            }
        }
        if let Some(f) = lock().failure.take() {
            break Err(EngineError::TaskFailed {
                context: ctx.clone(),
                message: f,
            });
        }
        let seeks = std::mem::take(&mut lock().seeks);
        for ((topic, partition), offset) in seeks {
            // A position inside what the task already committed; records it still gets
            // from before it are skipped by the task itself.
            match consumer.seek(
                &topic,
                partition,
                Offset::Offset(offset),
                Duration::from_secs(5),
            ) {
                Ok(()) => tracing::info!("{label} {topic}-{partition} starts at offset {offset}"),
                Err(e) => tracing::debug!("{label} seek {topic}-{partition} to {offset}: {e}"),
            }
        }
        let ticked = tc
            .metrics
            .stages
            .time(PipelineStage::Commit, || lock().task.tick());
        if let Err(e) = ticked {
            break Err(EngineError::Task {
                context: ctx.clone(),
                source: e,
            });
        }
        if !builder.is_empty() {
            let raw = drop_revoked(builder.finish(), &revocations)?;
            if raw.num_rows() > 0 {
                tc.topics.record(
                    &connector.name,
                    raw.topics()
                        .values()
                        .as_any()
                        .downcast_ref::<arrow::array::StringArray>()
                        .into_iter()
                        .flat_map(|a| a.iter().flatten()),
                );
                if let Err(e) = deliverer.deliver(&raw, &mut lock(), &tc.metrics) {
                    break Err(e);
                }
                tc.metrics.batch_latency.record(first_fetched.elapsed());
            }
        }
        revocations.clear();
        if last_commit.elapsed() >= flush_interval {
            flush_and_commit(
                &consumer,
                &mut lock(),
                &mut deliverer.reporter,
                label,
                &tc.metrics,
            )?;
            last_commit = Instant::now();
        }
    };
    match result {
        Ok(end) => {
            flush_and_commit(
                &consumer,
                &mut lock(),
                &mut deliverer.reporter,
                label,
                &tc.metrics,
            )?;
            consumer.unsubscribe();
            lock().task.stop().map_err(|source| EngineError::Task {
                context: ctx,
                source,
            })?;
            Ok(end)
        }
        Err(e) => {
            consumer.unsubscribe();
            Err(e)
        }
    }
}

fn append(builder: &mut RawBatchBuilder, m: &Fetched<'_>) {
    let (ts, ts_type) = m.timestamp();
    let headers: Vec<_> = m.headers().collect();
    builder.append(
        m.topic(),
        m.partition(),
        m.offset(),
        ts,
        ts_type,
        m.key(),
        m.payload(),
        headers
            .iter()
            .map(|(key, value)| RawHeader { key, value: *value }),
    );
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

impl Deliverer {
    /// Converts, transforms and puts one raw batch. Failed rows of every stage are routed
    /// together, before anything is put, so with `errors.tolerance=none` the first failing
    /// record (in offset order, whatever its stage) fails the task and nothing of the batch
    /// is put, as in Kafka where conversion of the whole poll precedes `put`.
    pub(crate) fn deliver(
        &mut self,
        raw: &RawBatch,
        shared: &mut Shared,
        metrics: &TaskMetrics,
    ) -> Result<()> {
        let n = raw.num_rows();
        TaskMetrics::add(&metrics.sink_record_read, n);
        metrics.batch_size.record(n as u64);
        let decoded = metrics
            .stages
            .time(PipelineStage::ConvertIn, || self.pipeline.decode(raw))
            .map_err(|e| self.fail(e))?;
        let converted = if self.pipeline.chain().is_empty() {
            decoded
        } else {
            metrics
                .stages
                .time(PipelineStage::Transforms, || {
                    self.pipeline.transform(decoded)
                })
                .map_err(|e| self.fail(e))?
        };
        let mut failures = converted.failures;
        self.reporter.report(raw, &mut failures)?;
        for batch in &converted.batches {
            self.put(raw, batch, shared, metrics)?;
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

    fn fail(&self, e: impl std::fmt::Display) -> EngineError {
        EngineError::TaskFailed {
            context: self.ctx.clone(),
            message: e.to_string(),
        }
    }

    /// `put` with `errors.retry.*` for retriable failures; rows the task reports as errant
    /// are routed like any failed row of `raw`.
    fn put(
        &mut self,
        raw: &RawBatch,
        batch: &ConnectBatch,
        shared: &mut Shared,
        metrics: &TaskMetrics,
    ) -> Result<()> {
        let put = SinkBatch {
            raw: &batch.raw,
            key: &batch.key,
            value: &batch.value,
        };
        let mut errant = ErrantRecords {
            stop_at_first: !self.reporter.config().tolerate_all,
            ..ErrantRecords::default()
        };
        let started = Instant::now();
        let retry = self.reporter.config().retry;
        retry
            .run(&self.stop, metrics, || {
                errant.rows.clear();
                shared.task.put(&put, &mut errant)
            })
            .map_err(|source| EngineError::Task {
                context: self.ctx.clone(),
                source,
            })?;
        metrics.put_batch_time.record_duration(started.elapsed());
        metrics.stages.add(PipelineStage::Write, started.elapsed());
        TaskMetrics::add(&metrics.sink_record_send, batch.num_rows());
        if errant.is_empty() {
            return Ok(());
        }
        let class = shared.task.class_name();
        let mut failures = Vec::with_capacity(errant.rows.len());
        for e in &errant.rows {
            if e.row >= batch.num_rows() {
                return Err(self.fail(format!(
                    "errant record at row {} is not in the batch",
                    e.row
                )));
            }
            failures.push(Failure {
                row: batch.rows.value(e.row) as usize,
                stage: Stage::TaskPut,
                class_name: class.to_string(),
                exception: e.exception.clone(),
                message: Some(e.message.clone()),
            });
        }
        self.reporter.report(raw, &mut failures)
    }
}

fn flush_and_commit(
    consumer: &BaseConsumer<SinkContext>,
    shared: &mut Shared,
    reporter: &mut ErrorReporter,
    label: &TaskLabel,
    metrics: &TaskMetrics,
) -> Result<()> {
    metrics.stages.time(PipelineStage::Commit, || {
        flush_and_commit_timed(consumer, shared, reporter, label, metrics)
    })
}

fn flush_and_commit_timed(
    consumer: &BaseConsumer<SinkContext>,
    shared: &mut Shared,
    reporter: &mut ErrorReporter,
    label: &TaskLabel,
    metrics: &TaskMetrics,
) -> Result<()> {
    let started = Instant::now();
    shared.task.flush().map_err(|source| EngineError::Task {
        context: label.to_string(),
        source,
    })?;
    // Records routed to the DLQ count as handled only once the DLQ has them.
    reporter.flush()?;
    if shared.pending.is_empty() {
        TaskMetrics::add(&metrics.offset_commit_skip, 1);
        return Ok(());
    }
    let offsets = shared
        .task
        .pre_commit(&shared.pending)
        .map_err(|source| EngineError::Task {
            context: label.to_string(),
            source,
        })?;
    match commit(consumer, &offsets) {
        Ok(()) => {
            tracing::debug!("{label} committed offsets for {} partitions", offsets.len());
            // Partitions the task holds back stay pending until it lets them go.
            shared
                .pending
                .retain(|tp, o| offsets.get(tp).is_some_and(|c| c < o));
            TaskMetrics::add(&metrics.offset_commit_completion, 1);
            metrics
                .offset_commit_time
                .record_duration(started.elapsed());
        }
        // Kafka Connect logs and retries at the next interval; the rows stay uncommitted.
        Err(e) => {
            TaskMetrics::add(&metrics.offset_commit_failure, 1);
            tracing::warn!("{label} offset commit failed, will retry: {e}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use sluice_codecs::reference::RefHeaderConverter;
    use sluice_codecs::{ConverterConfig, ConverterRole};
    use sluice_connectors::ConnectorError;
    use sluice_smt::pipeline::ConverterSet;

    use super::*;
    use crate::errors::ErrorsConfig;

    /// A sink that reports every row whose value contains "bad" through `ErrantRecords`.
    struct Picky(Vec<String>);

    impl SinkTask for Picky {
        fn put(
            &mut self,
            batch: &SinkBatch<'_>,
            errant: &mut ErrantRecords,
        ) -> sluice_connectors::Result<()> {
            for i in 0..batch.raw.num_rows() {
                let v = String::from_utf8_lossy(batch.raw.values().value(i)).into_owned();
                if v.contains("bad") {
                    errant.report(
                        i,
                        "org.apache.kafka.connect.errors.DataException",
                        format!("cannot write {v}"),
                    );
                } else {
                    self.0.push(v);
                }
            }
            Ok(())
        }

        fn flush(&mut self) -> sluice_connectors::Result<()> {
            Ok(())
        }

        fn class_name(&self) -> &'static str {
            "test.PickySinkTask"
        }
    }

    fn deliverer(tolerate_all: bool, metrics: Arc<TaskMetrics>) -> Deliverer {
        let conv = |role| {
            ConverterConfig::parse("value.converter", "StringConverter", &HashMap::new(), role)
                .unwrap()
        };
        Deliverer {
            pipeline: Pipeline::new(
                ConverterSet::new(
                    &conv(ConverterRole::Key),
                    &conv(ConverterRole::Value),
                    RefHeaderConverter::Simple,
                    "SimpleHeaderConverter",
                ),
                Chain::default(),
                None,
            ),
            reporter: ErrorReporter::new(
                ErrorsConfig {
                    tolerate_all,
                    ..ErrorsConfig::default()
                },
                TaskLabel {
                    connector: "c".into(),
                    task: 0,
                },
                None,
                metrics,
            ),
            stop: StopSignal::default(),
            ctx: "[c|task-0]".into(),
        }
    }

    fn batch() -> RawBatch {
        let mut b = RawBatchBuilder::with_capacity(4);
        for (i, v) in ["a", "bad-1", "b", "bad-2"].iter().enumerate() {
            b.append(
                "t",
                0,
                i as i64,
                None,
                0,
                None,
                Some(v.as_bytes()),
                std::iter::empty(),
            );
        }
        b.finish()
    }

    fn shared() -> Shared {
        Shared {
            task: Box::new(Picky(Vec::new())),
            pending: HashMap::new(),
            revoked: Vec::new(),
            seeks: Vec::new(),
            failure: None,
        }
    }

    #[test]
    fn errant_records_are_routed_like_other_failures() {
        let metrics = Arc::new(TaskMetrics::default());
        let mut d = deliverer(true, metrics.clone());
        let mut s = shared();
        d.deliver(&batch(), &mut s, &metrics).unwrap();
        assert_eq!(metrics.records_skipped.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.sink_record_send.load(Ordering::Relaxed), 4);
        assert_eq!(
            s.pending.get(&("t".to_string(), 0)),
            Some(&4),
            "all rows handled"
        );

        let mut d = deliverer(false, metrics.clone());
        let mut s = shared();
        let err = d
            .deliver(&batch(), &mut s, &metrics)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Tolerance exceeded"), "{err}");
        assert!(
            err.contains("cannot write bad-1") && err.contains("TASK_PUT"),
            "{err}"
        );
        assert!(
            s.pending.is_empty(),
            "nothing committed past the errant record"
        );
    }

    #[test]
    fn retriable_put_failures_are_retried_within_the_timeout() {
        struct Flaky(u32);
        impl SinkTask for Flaky {
            fn put(
                &mut self,
                _: &SinkBatch<'_>,
                _: &mut ErrantRecords,
            ) -> sluice_connectors::Result<()> {
                self.0 += 1;
                if self.0 < 3 {
                    Err(ConnectorError::Retriable {
                        message: "busy".into(),
                    })
                } else {
                    Ok(())
                }
            }
            fn flush(&mut self) -> sluice_connectors::Result<()> {
                Ok(())
            }
            fn class_name(&self) -> &'static str {
                "test.Flaky"
            }
        }
        let metrics = Arc::new(TaskMetrics::default());
        let mut d = deliverer(false, metrics.clone());
        d.reporter = ErrorReporter::new(
            ErrorsConfig::parse(&crate::config::Props::from([
                ("errors.retry.timeout".to_string(), "5000".to_string()),
                ("errors.retry.delay.max.ms".to_string(), "10".to_string()),
            ]))
            .unwrap(),
            TaskLabel {
                connector: "c".into(),
                task: 0,
            },
            None,
            metrics.clone(),
        );
        let mut s = shared();
        s.task = Box::new(Flaky(0));
        d.deliver(&batch(), &mut s, &metrics).unwrap();
        assert_eq!(metrics.retries.load(Ordering::Relaxed), 2);
        // Without a retry timeout (Kafka's default 0) the first failure fails the batch.
        let mut d = deliverer(false, metrics.clone());
        let mut s = shared();
        s.task = Box::new(Flaky(0));
        assert!(d.deliver(&batch(), &mut s, &metrics).is_err());
    }
}
