//! Kafka Connect's error handling: the `errors.*` connector keys ([`ErrorsConfig`]), the
//! retry operator with exponential backoff ([`RetryPolicy`]), and the [`ErrorReporter`] that
//! takes a batch's failed rows — columnar: row, stage, class, exception — and logs them,
//! writes them to the dead letter queue, counts them, or fails the task (`errors.tolerance`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::Array;
use sluice_codecs::RawBatch;

use crate::error::{EngineError, Result};
use crate::metrics::TaskMetrics;
use crate::signal::StopSignal;
use crate::status::TaskLabel;

pub mod dlq;
pub mod policy;

use dlq::DeadLetterQueue;

pub use policy::{DlqConfig, ErrorsConfig, RetryPolicy};

/// Kafka's first retry delay (`RetryWithToleranceOperator.RETRIES_DELAY_MIN_MS`).
const RETRY_DELAY_MIN: Duration = Duration::from_millis(300);
/// At most this many failures are spelled out in one log line.
const LOGGED_PER_BATCH: usize = 20;

/// Whether a failed operation may succeed if tried again.
pub trait Retriable {
    fn is_retriable(&self) -> bool;
}

impl Retriable for sluice_connectors::ConnectorError {
    fn is_retriable(&self) -> bool {
        matches!(self, sluice_connectors::ConnectorError::Retriable { .. })
    }
}

impl RetryPolicy {
    /// Runs `op` until it succeeds, fails with a non-retriable error, the timeout has passed,
    /// or the task is stopped; every failed attempt counts in `failures`, every retry in
    /// `retries`.
    pub fn run<T, E: Retriable>(
        &self,
        stop: &StopSignal,
        metrics: &TaskMetrics,
        mut op: impl FnMut() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let start = Instant::now();
        let mut delay = RETRY_DELAY_MIN;
        loop {
            match op() {
                Ok(v) => return Ok(v),
                Err(e) => {
                    TaskMetrics::add(&metrics.record_failures, 1);
                    if !e.is_retriable() {
                        return Err(e);
                    }
                    let elapsed = start.elapsed();
                    let left = match self.timeout {
                        None => Duration::MAX,
                        Some(t) => t.saturating_sub(elapsed),
                    };
                    if left.is_zero() {
                        return Err(e);
                    }
                    let wait = delay.min(self.delay_max).min(left);
                    if stop.sleep(wait) {
                        return Err(e);
                    }
                    TaskMetrics::add(&metrics.retries, 1);
                    delay = delay.saturating_mul(2);
                }
            }
        }
    }
}

/// One failed row of a batch (the pipeline's, shared with the task runtimes).
pub use sluice_smt::pipeline::Failure;

/// Routes a task's failed rows by its `errors.*` policy.
pub struct ErrorReporter {
    config: ErrorsConfig,
    label: TaskLabel,
    dlq: Option<DeadLetterQueue>,
    metrics: Arc<TaskMetrics>,
}

impl std::fmt::Debug for ErrorReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReporter")
            .field("config", &self.config)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl ErrorReporter {
    pub fn new(
        config: ErrorsConfig,
        label: TaskLabel,
        dlq: Option<DeadLetterQueue>,
        metrics: Arc<TaskMetrics>,
    ) -> Self {
        Self {
            config,
            label,
            dlq,
            metrics,
        }
    }

    pub fn config(&self) -> &ErrorsConfig {
        &self.config
    }

    pub fn metrics(&self) -> &TaskMetrics {
        &self.metrics
    }

    /// Handles the failed rows of one batch, in row order. With `errors.tolerance=none` the
    /// first failure fails the task (nothing is logged to the DLQ, as in Kafka); with `all`
    /// each row is counted, logged (one line per batch) and sent to the DLQ.
    pub fn report(&mut self, raw: &RawBatch, failures: &mut [Failure]) -> Result<()> {
        if failures.is_empty() {
            return Ok(());
        }
        failures.sort_by_key(|f| f.row);
        let m = &self.metrics;
        TaskMetrics::add(&m.record_failures, failures.len());
        TaskMetrics::add(&m.record_errors, failures.len());
        if !self.config.tolerate_all {
            let f = &failures[0];
            return Err(EngineError::TaskFailed {
                context: self.label.to_string(),
                message: format!(
                    "org.apache.kafka.connect.errors.ConnectException: Tolerance exceeded in error handler\n\
                     \tat record {}\nCaused by: {}",
                    record_id(raw, f.row),
                    f.trace()
                ),
            });
        }
        TaskMetrics::add(&m.records_skipped, failures.len());
        if self.config.log_enable {
            self.log(raw, failures);
        }
        if let Some(dlq) = &mut self.dlq {
            dlq.send(raw, failures, &self.label)?;
            TaskMetrics::add(&m.dlq_produce_requests, failures.len());
        }
        Ok(())
    }

    fn log(&self, raw: &RawBatch, failures: &[Failure]) {
        let mut text = String::new();
        for f in failures.iter().take(LOGGED_PER_BATCH) {
            let _ = write!(
                text,
                "\n  stage '{}' with class '{}', record {}: {}",
                f.stage,
                f.class_name,
                record_id(raw, f.row),
                f.exception_line()
            );
            if self.config.log_include_messages {
                let show = |a: &arrow::array::BinaryViewArray| {
                    if a.is_null(f.row) {
                        "null".to_string()
                    } else {
                        String::from_utf8_lossy(a.value(f.row)).into_owned()
                    }
                };
                let _ = write!(
                    text,
                    " key={} value={} timestamp={}",
                    show(raw.keys()),
                    show(raw.values()),
                    raw.timestamps().value(f.row)
                );
            }
        }
        if failures.len() > LOGGED_PER_BATCH {
            let _ = write!(
                text,
                "\n  ... and {} more",
                failures.len() - LOGGED_PER_BATCH
            );
        }
        tracing::error!(
            "{} Error encountered in task {}: {} record(s) of a batch of {} failed (errors.tolerance=all, skipped):{text}",
            self.label,
            self.label.task,
            failures.len(),
            raw.num_rows()
        );
        TaskMetrics::add(&self.metrics.errors_logged, failures.len());
    }

    /// Waits until every DLQ record sent so far is acknowledged; offsets may be committed
    /// only after this returns.
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.dlq {
            None => Ok(()),
            Some(dlq) => dlq.flush(&self.label).inspect_err(|_| {
                TaskMetrics::add(&self.metrics.dlq_produce_failures, 1);
            }),
        }
    }
}

fn record_id(raw: &RawBatch, row: usize) -> String {
    format!(
        "{}-{}@{}",
        raw.topic(row),
        raw.partitions().value(row),
        raw.offsets().value(row)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_codecs::{RawBatchBuilder, Stage};

    use crate::properties::Props;

    fn props(kv: &[(&str, &str)]) -> Props {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_kafka_keys_and_defaults() {
        assert_eq!(
            ErrorsConfig::parse(&Props::new()).unwrap(),
            ErrorsConfig::default()
        );
        let c = ErrorsConfig::parse(&props(&[
            ("errors.retry.timeout", "-1"),
            ("errors.retry.delay.max.ms", "1000"),
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]))
        .unwrap();
        assert_eq!(c.retry.timeout, None);
        assert_eq!(c.retry.delay_max, Duration::from_millis(1000));
        assert!(c.tolerate_all && c.log_enable && !c.log_include_messages);
        assert_eq!(
            c.dlq,
            Some(DlqConfig {
                topic: "dlq".into(),
                replication_factor: 1,
                context_headers: true
            })
        );
        let e = ErrorsConfig::parse(&props(&[("errors.tolerance", "some")])).unwrap_err();
        assert_eq!(
            e.1,
            "Invalid value some for configuration errors.tolerance: String must be one of: none, all"
        );
        let e = ErrorsConfig::parse(&props(&[("errors.retry.timeout", "x")])).unwrap_err();
        assert_eq!(e.0, "errors.retry.timeout");
    }

    #[derive(Debug)]
    struct Flaky(bool);
    impl Retriable for Flaky {
        fn is_retriable(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn retries_retriable_failures_until_success_or_timeout() {
        let metrics = TaskMetrics::default();
        let stop = StopSignal::default();
        let policy = RetryPolicy {
            timeout: Some(Duration::from_secs(5)),
            delay_max: Duration::from_millis(1),
        };
        let mut attempts = 0;
        let r = policy.run(&stop, &metrics, || {
            attempts += 1;
            if attempts < 4 {
                Err(Flaky(true))
            } else {
                Ok(attempts)
            }
        });
        assert_eq!(r.unwrap(), 4);
        assert_eq!(
            metrics.retries.load(std::sync::atomic::Ordering::Relaxed),
            3
        );
        // Not retriable: one attempt only.
        let mut attempts = 0;
        let r: std::result::Result<(), Flaky> = policy.run(&stop, &metrics, || {
            attempts += 1;
            Err(Flaky(false))
        });
        assert!(r.is_err());
        assert_eq!(attempts, 1);
        // Timeout 0 (Kafka's default): no retry.
        let none = RetryPolicy {
            timeout: Some(Duration::ZERO),
            delay_max: Duration::from_millis(1),
        };
        let mut attempts = 0;
        let r: std::result::Result<(), Flaky> = none.run(&stop, &metrics, || {
            attempts += 1;
            Err(Flaky(true))
        });
        assert!(r.is_err());
        assert_eq!(attempts, 1);
    }

    fn batch(n: i64) -> RawBatch {
        let mut b = RawBatchBuilder::with_capacity(n as usize);
        for i in 0..n {
            b.append(
                "t",
                0,
                i,
                Some(1),
                0,
                None,
                Some(format!("{i}").as_bytes()),
                std::iter::empty(),
            );
        }
        b.finish()
    }

    fn failure(row: usize) -> Failure {
        Failure {
            row,
            stage: Stage::ValueConverter,
            class_name: "org.apache.kafka.connect.json.JsonConverter".into(),
            exception: "org.apache.kafka.connect.errors.DataException".into(),
            message: Some("bad".into()),
        }
    }

    #[test]
    fn tolerance_none_fails_on_the_first_row_and_all_counts_skips() {
        let label = TaskLabel {
            connector: "c".into(),
            task: 0,
        };
        let raw = batch(10);
        let mut none =
            ErrorReporter::new(ErrorsConfig::default(), label.clone(), None, Arc::default());
        let err = none
            .report(&raw, &mut [failure(7), failure(3)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("Tolerance exceeded in error handler"), "{err}");
        assert!(err.contains("record t-0@3"), "first failing row: {err}");
        let all_cfg = ErrorsConfig {
            tolerate_all: true,
            log_enable: true,
            ..ErrorsConfig::default()
        };
        let metrics = Arc::new(TaskMetrics::default());
        let mut all = ErrorReporter::new(all_cfg, label, None, metrics.clone());
        all.report(&raw, &mut [failure(7), failure(3)]).unwrap();
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(get(&metrics.records_skipped), 2);
        assert_eq!(get(&metrics.record_errors), 2);
        assert_eq!(get(&metrics.errors_logged), 2);
    }
}
