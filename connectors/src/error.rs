//! Errors raised by connectors and their tasks.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// Mirrors Kafka's `ConfigException` for a required key with no default.
    #[error("Missing required configuration \"{key}\" which has no default value.")]
    MissingConfig { key: String },
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: String,
    },
    #[error("{key}: cannot use file {}: {source}", path.display())]
    File {
        key: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Codec(#[from] sluice_codecs::CodecError),
    /// Kafka's `RetriableException`: the operation may succeed if tried again; the runtime
    /// retries it within `errors.retry.timeout`.
    #[error("{message}")]
    Retriable { message: String },
}

pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;
