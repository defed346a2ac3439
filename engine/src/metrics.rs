//! Kafka Connect's task and worker metrics, kept in atomics that task loops update once per
//! batch, rendered as Prometheus text for `GET /metrics`. A Kafka metric `sink-record-read-total`
//! of group `sink-task-metrics` becomes `kafka_connect_sink_task_sink_record_read_total`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A running count plus sum/max of a duration or size, for `*-avg`/`*-max` metrics.
#[derive(Debug, Default)]
pub struct Summary {
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

impl Summary {
    pub fn record(&self, value: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    pub fn record_duration(&self, d: Duration) {
        self.record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    fn avg(&self) -> f64 {
        let n = self.count.load(Ordering::Relaxed);
        if n == 0 {
            return 0.0;
        }
        self.sum.load(Ordering::Relaxed) as f64 / n as f64
    }

    fn max(&self) -> f64 {
        self.max.load(Ordering::Relaxed) as f64
    }
}

/// The counters of one task (sink or source; the unused half stays zero and is not shown).
#[derive(Debug, Default)]
pub struct TaskMetrics {
    pub sink_record_read: AtomicU64,
    pub sink_record_send: AtomicU64,
    /// Microseconds per `put` of a batch.
    pub put_batch_time: Summary,
    pub source_record_poll: AtomicU64,
    pub source_record_write: AtomicU64,
    /// Microseconds per source poll.
    pub poll_batch_time: Summary,
    pub offset_commit_completion: AtomicU64,
    pub offset_commit_skip: AtomicU64,
    pub offset_commit_failure: AtomicU64,
    /// Microseconds per offset commit.
    pub offset_commit_time: Summary,
    /// Records per batch.
    pub batch_size: Summary,
    pub record_errors: AtomicU64,
    pub record_failures: AtomicU64,
    pub records_skipped: AtomicU64,
    pub retries: AtomicU64,
    pub errors_logged: AtomicU64,
    pub dlq_produce_requests: AtomicU64,
    pub dlq_produce_failures: AtomicU64,
    /// Where a sink task's time goes, per stage (the benchmark harness reports it).
    pub stages: StageTimes,
    /// Per batch: from its first record fetched to its `put` done.
    pub batch_latency: LatencyHistogram,
}

impl TaskMetrics {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The stages of a sink pipeline whose time is accounted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineStage {
    /// Polling the consumer until a batch is full or the poll runs dry.
    Fetch,
    /// Key, value and header converters (bytes → Arrow).
    ConvertIn,
    /// The transformation chain.
    Transforms,
    /// Arrow → output bytes (JSON encode in the in-process cases; sinks do it inside `put`).
    ConvertOut,
    /// The sink task's `put` (for files: formatting and writing).
    Write,
    /// Flushing files and committing offsets.
    Commit,
}

impl PipelineStage {
    pub const ALL: [PipelineStage; 6] = [
        PipelineStage::Fetch,
        PipelineStage::ConvertIn,
        PipelineStage::Transforms,
        PipelineStage::ConvertOut,
        PipelineStage::Write,
        PipelineStage::Commit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PipelineStage::Fetch => "fetch",
            PipelineStage::ConvertIn => "convert_in",
            PipelineStage::Transforms => "transforms",
            PipelineStage::ConvertOut => "convert_out",
            PipelineStage::Write => "write",
            PipelineStage::Commit => "commit",
        }
    }
}

/// Wall nanoseconds spent per stage, added once per batch.
#[derive(Debug, Default)]
pub struct StageTimes([AtomicU64; 6]);

impl StageTimes {
    pub fn add(&self, stage: PipelineStage, d: Duration) {
        self.0[stage as usize].fetch_add(
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Runs `f`, adding its wall time to `stage`.
    pub fn time<T>(&self, stage: PipelineStage, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        self.add(stage, started.elapsed());
        out
    }

    /// Seconds per stage, in pipeline order.
    pub fn seconds(&self) -> Vec<(PipelineStage, f64)> {
        PipelineStage::ALL
            .iter()
            .map(|&s| (s, self.0[s as usize].load(Ordering::Relaxed) as f64 / 1e9))
            .collect()
    }
}

/// Sub-buckets per power of two: values are kept within 1/8 (12.5%) of their size.
const LATENCY_SUB_BUCKETS: usize = 8;
/// Powers of two of microseconds covered (up to ~73 minutes).
const LATENCY_OCTAVES: usize = 32;

/// A log-bucketed histogram of durations (microsecond resolution, 12.5% precision), cheap
/// enough to record every batch and bounded in memory however long the task runs.
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            buckets: (0..LATENCY_OCTAVES * LATENCY_SUB_BUCKETS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }
}

impl LatencyHistogram {
    fn bucket(micros: u64) -> usize {
        let sub = LATENCY_SUB_BUCKETS as u64;
        if micros < sub {
            return micros as usize;
        }
        let octave = 63 - micros.leading_zeros() as u64; // >= 3
        let shift = octave - 3;
        let idx = (octave - 2) * sub + ((micros >> shift) - sub);
        (idx as usize).min(LATENCY_OCTAVES * LATENCY_SUB_BUCKETS - 1)
    }

    /// The smallest value of a bucket (inverse of `bucket`).
    fn lower_bound(idx: usize) -> u64 {
        let sub = LATENCY_SUB_BUCKETS as u64;
        let idx = idx as u64;
        if idx < sub {
            return idx;
        }
        let octave = idx / sub + 2;
        (sub + idx % sub) << (octave - 3)
    }

    pub fn record(&self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(micros)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The counts so far, to merge with other tasks' or read quantiles from.
    pub fn snapshot(&self) -> LatencySnapshot {
        LatencySnapshot(
            self.buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        )
    }
}

/// Bucket counts of a [`LatencyHistogram`] at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencySnapshot(Vec<u64>);

impl LatencySnapshot {
    pub fn merge(&mut self, other: &LatencySnapshot) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += b;
        }
    }

    /// The `q` quantile (0..=1) in seconds: the middle of the bucket holding it; `None`
    /// before anything was recorded.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.0.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.0.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = LatencyHistogram::lower_bound(i) as f64;
                let hi = LatencyHistogram::lower_bound(i + 1) as f64;
                return Some((lo + hi) / 2.0 / 1e6);
            }
        }
        None
    }
}

/// Whether a task is a sink or a source, which picks its metric group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Sink,
    Source,
}

type TaskKey = (String, usize);

/// All metrics of a worker.
#[derive(Debug, Clone, Default)]
pub struct Metrics(Arc<Mutex<TaskTable>>);

type TaskTable = BTreeMap<TaskKey, (TaskKind, Arc<TaskMetrics>)>;

impl Metrics {
    /// The metrics of one task, created on first use and kept across restarts (counters
    /// are totals over the worker's lifetime, as Kafka's are over the task's).
    pub fn task(&self, connector: &str, task: usize, kind: TaskKind) -> Arc<TaskMetrics> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry((connector.to_string(), task))
            .or_insert_with(|| (kind, Arc::default()))
            .1
            .clone()
    }

    /// Drops a deleted connector's task metrics.
    pub fn remove_connector(&self, connector: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(c, _), _| c != connector);
    }

    /// Prometheus text exposition (version 0.0.4); `workers` holds the worker-level gauges
    /// (`connector-count`, `task-count`, per-connector task counts) computed by the herder.
    pub fn render(&self, worker: &WorkerGauges) -> String {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::with_capacity(8192);
        let mut family =
            |group: &str, name: &str, kind: &str, help: &str, rows: Vec<(String, f64)>| {
                let metric = format!("kafka_connect_{}_{}", group, name.replace('-', "_"));
                let _ = writeln!(out, "# HELP {metric} {help}");
                let _ = writeln!(out, "# TYPE {metric} {kind}");
                for (labels, v) in rows {
                    let _ = writeln!(out, "{metric}{labels} {}", fmt_value(v));
                }
            };
        let labels = |(c, t): &TaskKey| format!("{{connector=\"{}\",task=\"{t}\"}}", escape(c));
        let rows =
            |kind: Option<TaskKind>, f: &dyn Fn(&TaskMetrics) -> f64| -> Vec<(String, f64)> {
                map.iter()
                    .filter(|(_, (k, _))| kind.is_none_or(|want| want == *k))
                    .map(|(key, (_, m))| (labels(key), f(m)))
                    .collect()
            };
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
        let ms = |v: f64| v / 1000.0;
        let sink = Some(TaskKind::Sink);
        let source = Some(TaskKind::Source);

        family(
            "sink_task",
            "sink-record-read-total",
            "counter",
            "Records read from Kafka by this task since it was created.",
            rows(sink, &|m| get(&m.sink_record_read)),
        );
        family(
            "sink_task",
            "sink-record-send-total",
            "counter",
            "Records output from the transformations and sent/put to this task since it was created.",
            rows(sink, &|m| get(&m.sink_record_send)),
        );
        family(
            "sink_task",
            "put-batch-avg-time-ms",
            "gauge",
            "Average time taken by this task to put a batch of sink records.",
            rows(sink, &|m| ms(m.put_batch_time.avg())),
        );
        family(
            "sink_task",
            "put-batch-max-time-ms",
            "gauge",
            "Maximum time taken by this task to put a batch of sink records.",
            rows(sink, &|m| ms(m.put_batch_time.max())),
        );
        family(
            "sink_task",
            "offset-commit-completion-total",
            "counter",
            "Offset commit completions that completed successfully.",
            rows(sink, &|m| get(&m.offset_commit_completion)),
        );
        family(
            "sink_task",
            "offset-commit-skip-total",
            "counter",
            "Offset commit completions that were received too late and skipped/ignored.",
            rows(sink, &|m| get(&m.offset_commit_skip)),
        );
        family(
            "source_task",
            "source-record-poll-total",
            "counter",
            "Records produced/polled (before transformation) by this task since it was created.",
            rows(source, &|m| get(&m.source_record_poll)),
        );
        family(
            "source_task",
            "source-record-write-total",
            "counter",
            "Records output from the transformations and written to Kafka for this task since it was created.",
            rows(source, &|m| get(&m.source_record_write)),
        );
        family(
            "source_task",
            "poll-batch-avg-time-ms",
            "gauge",
            "Average time in milliseconds taken by this task to poll for a batch of source records.",
            rows(source, &|m| ms(m.poll_batch_time.avg())),
        );
        family(
            "source_task",
            "poll-batch-max-time-ms",
            "gauge",
            "Maximum time in milliseconds taken by this task to poll for a batch of source records.",
            rows(source, &|m| ms(m.poll_batch_time.max())),
        );
        family(
            "connector_task",
            "offset-commit-avg-time-ms",
            "gauge",
            "Average time in milliseconds taken by this task to commit offsets.",
            rows(None, &|m| ms(m.offset_commit_time.avg())),
        );
        family(
            "connector_task",
            "offset-commit-max-time-ms",
            "gauge",
            "Maximum time in milliseconds taken by this task to commit offsets.",
            rows(None, &|m| ms(m.offset_commit_time.max())),
        );
        family(
            "connector_task",
            "offset-commit-failure-total",
            "counter",
            "Offset commit attempts that failed.",
            rows(None, &|m| get(&m.offset_commit_failure)),
        );
        family(
            "connector_task",
            "batch-size-avg",
            "gauge",
            "Average number of records in the batches the task has processed so far.",
            rows(None, &|m| m.batch_size.avg()),
        );
        family(
            "connector_task",
            "batch-size-max",
            "gauge",
            "Number of records in the largest batch the task has processed so far.",
            rows(None, &|m| m.batch_size.max()),
        );
        family(
            "task_error",
            "total-record-errors",
            "counter",
            "Records processed that had errors.",
            rows(None, &|m| get(&m.record_errors)),
        );
        family(
            "task_error",
            "total-record-failures",
            "counter",
            "Record processing failures (every failed attempt, retries included).",
            rows(None, &|m| get(&m.record_failures)),
        );
        family(
            "task_error",
            "total-records-skipped",
            "counter",
            "Records skipped due to errors.",
            rows(None, &|m| get(&m.records_skipped)),
        );
        family(
            "task_error",
            "total-retries",
            "counter",
            "Operations retried.",
            rows(None, &|m| get(&m.retries)),
        );
        family(
            "task_error",
            "total-errors-logged",
            "counter",
            "Errors logged.",
            rows(None, &|m| get(&m.errors_logged)),
        );
        family(
            "task_error",
            "deadletterqueue-produce-requests",
            "counter",
            "Attempted writes to the dead letter queue.",
            rows(None, &|m| get(&m.dlq_produce_requests)),
        );
        family(
            "task_error",
            "deadletterqueue-produce-failures",
            "counter",
            "Failed writes to the dead letter queue.",
            rows(None, &|m| get(&m.dlq_produce_failures)),
        );

        family(
            "worker",
            "connector-count",
            "gauge",
            "Connectors run in this worker.",
            vec![(String::new(), worker.connectors as f64)],
        );
        family(
            "worker",
            "task-count",
            "gauge",
            "Tasks run in this worker.",
            vec![(String::new(), worker.tasks as f64)],
        );
        let per_connector = |pick: fn(&ConnectorTaskCounts) -> usize| -> Vec<(String, f64)> {
            worker
                .per_connector
                .iter()
                .map(|(c, n)| (format!("{{connector=\"{}\"}}", escape(c)), pick(n) as f64))
                .collect()
        };
        family(
            "worker",
            "connector-total-task-count",
            "gauge",
            "Tasks of the connector on this worker.",
            per_connector(|n| n.total),
        );
        family(
            "worker",
            "connector-running-task-count",
            "gauge",
            "Running tasks of the connector on this worker.",
            per_connector(|n| n.running),
        );
        family(
            "worker",
            "connector-paused-task-count",
            "gauge",
            "Paused tasks of the connector on this worker.",
            per_connector(|n| n.paused),
        );
        family(
            "worker",
            "connector-failed-task-count",
            "gauge",
            "Failed tasks of the connector on this worker.",
            per_connector(|n| n.failed),
        );
        out
    }
}

/// Worker-level gauges, computed from the herder's state when `/metrics` is read.
#[derive(Debug, Default)]
pub struct WorkerGauges {
    pub connectors: usize,
    pub tasks: usize,
    pub per_connector: BTreeMap<String, ConnectorTaskCounts>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct ConnectorTaskCounts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub failed: usize,
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn latency_histogram_buckets_are_monotonic_and_quantiles_close() {
        let mut last = 0;
        for micros in [0u64, 1, 7, 8, 9, 15, 16, 100, 1000, 12345, 10_000_000] {
            let b = LatencyHistogram::bucket(micros);
            assert!(b >= last, "{micros}");
            last = b;
            let lo = LatencyHistogram::lower_bound(b);
            assert!(lo <= micros && micros < LatencyHistogram::lower_bound(b + 1));
        }
        let h = LatencyHistogram::default();
        assert_eq!(h.snapshot().quantile(0.5), None);
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 100);
        let mut merged = LatencySnapshot::default();
        merged.merge(&h.snapshot());
        let p50 = merged.quantile(0.5).unwrap();
        let p99 = merged.quantile(0.99).unwrap();
        merged.merge(&h.snapshot());
        assert_eq!(merged.quantile(0.5), Some(p50));
        assert!((0.045..0.056).contains(&p50), "{p50}");
        assert!((0.090..0.110).contains(&p99), "{p99}");
    }

    #[test]
    fn stage_times_accumulate_per_stage() {
        let s = StageTimes::default();
        s.add(PipelineStage::Write, Duration::from_millis(3));
        s.time(PipelineStage::Write, || ());
        s.add(PipelineStage::Fetch, Duration::from_millis(1));
        let secs = s.seconds();
        assert_eq!(secs[0], (PipelineStage::Fetch, 0.001));
        assert!(secs[4].1 >= 0.003 && secs[4].1 < 0.004);
        assert_eq!(secs[1].1, 0.0);
    }

    use super::*;

    #[test]
    fn renders_parseable_prometheus_text() {
        let metrics = Metrics::default();
        let t = metrics.task("s-1", 0, TaskKind::Sink);
        metrics.task("q\"x", 0, TaskKind::Sink);
        TaskMetrics::add(&t.sink_record_read, 1000);
        t.put_batch_time.record(1500);
        t.put_batch_time.record(500);
        let text = metrics.render(&WorkerGauges {
            connectors: 1,
            tasks: 1,
            ..Default::default()
        });
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
        let read = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "kafka_connect_sink_task_sink_record_read_total"
                    && s.labels.get("connector") == Some("s-1")
            })
            .expect("read total");
        assert_eq!(read.labels.get("connector"), Some("s-1"));
        // Label values are escaped as the exposition format requires.
        assert!(text.contains("connector=\"q\\\"x\""), "{text}");
        assert_eq!(read.labels.get("task"), Some("0"));
        assert!(matches!(read.value, prometheus_parse::Value::Counter(v) if v == 1000.0));
        let avg = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "kafka_connect_sink_task_put_batch_avg_time_ms"
                    && s.labels.get("connector") == Some("s-1")
            })
            .expect("avg");
        assert!(matches!(avg.value, prometheus_parse::Value::Gauge(v) if v == 1.0));
        assert!(
            !text.contains("source_record_poll_total{"),
            "a sink task has no source rows"
        );
    }
}
