//! Errors of the engine: configuration (reported before anything starts, exit code 2),
//! Kafka client failures and task failures.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot read {}: {source}", path.display())]
    ReadConfig {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: invalid JSON: {source}", path.display())]
    ConfigJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: {message}", path.display())]
    ConfigShape { path: PathBuf, message: String },
    #[error("worker config: {message}")]
    Worker { key: String, message: String },
    #[error("connector {connector}: {message}")]
    Connector { connector: String, message: String },
    #[error("offset store {}: {message}", path.display())]
    Offsets { path: PathBuf, message: String },
    #[error("Kafka client for {context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("Kafka client for {context}: {source}")]
    Security {
        context: String,
        #[source]
        source: crate::kafka::SecurityError,
    },
    #[error("{context}: {source}")]
    Task {
        context: String,
        #[source]
        source: sluice_connectors::ConnectorError,
    },
    #[error("{context}: {message}")]
    TaskFailed { context: String, message: String },
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
