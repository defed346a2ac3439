//! Why a benchmark could not be set up or did not finish: a bad setting, a case config the
//! pipeline refuses, a client or worker failure, or generated input that failed (it never
//! should: the events are valid by construction).

use crate::error::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A `--set` / `--sweep` setting the benchmark cannot use.
    #[error("{key}: {reason}")]
    Setting { key: String, reason: String },
    /// The case's converters or transforms refused their config.
    #[error(transparent)]
    Config(#[from] sluice_codecs::error::ConnectError),
    #[error(transparent)]
    Codec(#[from] sluice_codecs::CodecError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The worker refused the case's connector (as its REST API would answer).
    #[error(transparent)]
    Worker(#[from] crate::worker::ApiError),
    #[error("{context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Generated records failed in the pipeline or while being prepared for it.
    #[error("{count} generated records failed, first: {first}")]
    RecordsFailed { count: usize, first: String },
    /// A task of the case's connector failed during a run against the broker.
    #[error("task failed: {trace}")]
    TaskFailed { trace: String },
    #[error("not all {records} records committed within 10 minutes")]
    Timeout { records: u64 },
    #[error("{path}: {reason}")]
    Chart { path: String, reason: String },
}

impl BenchError {
    pub(super) fn setting(key: &str, reason: impl Into<String>) -> Self {
        BenchError::Setting {
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub(super) fn kafka(context: &str) -> impl FnOnce(rdkafka::error::KafkaError) -> Self {
        let context = context.to_string();
        move |source| BenchError::Kafka { context, source }
    }
}
