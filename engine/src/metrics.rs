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
}

impl TaskMetrics {
    pub fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
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
