//! Errors of the codecs crate, and per-row failures as data: a converter returns the rows
//! it could not convert together with a [`Stage`] and Kafka Connect's exception class,
//! so error handling (tolerance, DLQ) can route them while the rest of the batch goes on.

use std::fmt;

use arrow::error::ArrowError;

/// Where in the pipeline a failure happened; names match Kafka's `Stage` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
    TaskPut,
    TaskPoll,
    KafkaProduce,
    KafkaConsume,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
            Stage::TaskPoll => "TASK_POLL",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
            Stage::KafkaConsume => "KAFKA_CONSUME",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Java exception class names as Kafka Connect reports them.
pub mod exception {
    pub const DATA: &str = "org.apache.kafka.connect.errors.DataException";
    pub const CONFIG: &str = "org.apache.kafka.common.config.ConfigException";
    pub const SCHEMA_BUILDER: &str = "org.apache.kafka.connect.errors.SchemaBuilderException";
    pub const SERIALIZATION: &str = "org.apache.kafka.common.errors.SerializationException";
}

/// One row that a stage could not process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// Row index in the batch the stage was given.
    pub row: usize,
    pub stage: Stage,
    /// Fully qualified Java exception class name, e.g. [`exception::DATA`].
    pub exception: &'static str,
    pub message: String,
}

impl RowFailure {
    /// The failure of row `row` at `stage` with what the stage threw.
    pub fn from_error(row: usize, stage: Stage, e: ConnectError) -> Self {
        Self {
            row,
            stage,
            exception: e.exception,
            message: e.message.unwrap_or_default(),
        }
    }

    pub fn data(row: usize, stage: Stage, message: impl Into<String>) -> Self {
        Self {
            row,
            stage,
            exception: exception::DATA,
            message: message.into(),
        }
    }
}

impl fmt::Display for RowFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {} failed in stage {}: {}: {}",
            self.row, self.stage, self.exception, self.message
        )
    }
}

/// Errors raised while configuring or running codecs.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("{key}: unknown converter class '{class}'")]
    UnknownConverter { key: String, class: String },
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    InvalidConfig {
        key: String,
        value: String,
        reason: String,
    },
    #[error("expected a {expected} batch, found {found}")]
    SchemaMismatch { expected: String, found: String },
    #[error("{converter} cannot encode a column of {found}")]
    UnsupportedColumn {
        converter: &'static str,
        found: String,
    },
    /// What a plugin's `configure` throws, exactly.
    #[error("{0}")]
    Configure(ConnectError),
    #[error(transparent)]
    Arrow(#[from] ArrowError),
}

pub type Result<T, E = CodecError> = std::result::Result<T, E>;

/// A failure with Kafka Connect's exception class and message, as a converter, transform or
/// predicate raises it for one record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{exception}: {}", message.as_deref().unwrap_or("null"))]
pub struct ConnectError {
    pub exception: &'static str,
    /// `None` when the Java exception has no message (e.g. a NullPointerException).
    pub message: Option<String>,
}

impl ConnectError {
    pub fn data(message: impl Into<String>) -> Self {
        Self {
            exception: exception::DATA,
            message: Some(message.into()),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self {
            exception: exception::CONFIG,
            message: Some(message.into()),
        }
    }

    pub fn schema_builder(message: impl Into<String>) -> Self {
        Self {
            exception: exception::SCHEMA_BUILDER,
            message: Some(message.into()),
        }
    }
}
