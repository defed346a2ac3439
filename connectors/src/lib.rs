//! Connector and task contracts ([`task`]) and the built-in connectors ([`file`]): what a
//! connector class is ([`registry`]), how its typed config is parsed and validated, and the
//! tasks that the engine's runtime drives batch by batch.

pub mod config_def;
pub mod error;
pub mod file;
pub mod parquet;
pub mod registry;
pub mod task;

pub use error::{ConnectorError, Result};
pub use registry::{ConnectorKind, ConnectorSpec, Plugin};
pub use task::{
    ErrantRecord, ErrantRecords, SinkBatch, SinkTask, SourceBatch, SourceOffsets, SourceTask,
};
