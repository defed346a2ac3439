//! The task contracts. A source task returns whole batches of Connect data with the source
//! offsets reached at the end of the batch; a sink task takes whole batches (raw record
//! columns plus converted key/value) and is told when to make what it has taken durable.

use std::collections::HashMap;

use serde_json::{Map, Value};
use sluice_codecs::{ConnectColumn, RawBatch};

use crate::Result;

/// A source partition (`{"filename": "..."}`) and the offset reached in it
/// (`{"position": 42}`), as Kafka Connect's `SourceRecord` carries them.
pub type SourceOffsets = Vec<(Map<String, Value>, Map<String, Value>)>;

/// A batch of records produced by a source task, all to one topic.
#[derive(Debug)]
pub struct SourceBatch {
    pub topic: String,
    pub key: ConnectColumn,
    pub value: ConnectColumn,
    /// Record timestamp (epoch ms) shared by the batch; `None` lets the producer set it.
    pub timestamp: Option<i64>,
    /// For every source partition touched, the offset after the batch's last record in it.
    pub offsets: SourceOffsets,
}

impl SourceBatch {
    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Reads the committed offset of a source partition when a task starts.
pub trait OffsetReader {
    fn offset(&self, partition: &Map<String, Value>) -> Option<Map<String, Value>>;
}

pub trait SourceTask: Send {
    /// Starts the task, resuming from the committed offsets.
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<()>;
    /// The next batch, or `None` when nothing is available yet (the runtime waits briefly).
    fn poll(&mut self) -> Result<Option<SourceBatch>>;
    fn stop(&mut self) {}
}

/// A batch handed to a sink task: the raw records and their converted key and value.
#[derive(Debug)]
pub struct SinkBatch<'a> {
    pub raw: &'a RawBatch,
    pub key: &'a ConnectColumn,
    pub value: &'a ConnectColumn,
}

/// Kafka's `ErrantRecordReporter`, batch-shaped: the rows of a batch a sink task could not
/// write, each with the exception Kafka Connect would name. The runtime routes them by the
/// connector's `errors.tolerance` and dead letter queue, like converter and SMT failures.
#[derive(Debug, Default)]
pub struct ErrantRecords {
    pub rows: Vec<ErrantRecord>,
    /// Set with `errors.tolerance=none`, where Kafka's reporter throws at the first errant
    /// record: the task takes nothing of the batch after that row, so nothing after it is
    /// ever made durable.
    pub stop_at_first: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrantRecord {
    /// Row index in the [`SinkBatch`] given to `put`.
    pub row: usize,
    /// Fully qualified Java exception class, e.g. `org.apache.kafka.connect.errors.DataException`.
    pub exception: String,
    pub message: String,
}

impl ErrantRecords {
    pub fn report(&mut self, row: usize, exception: &str, message: impl Into<String>) {
        self.rows.push(ErrantRecord {
            row,
            exception: exception.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The first row the task must not take (with `stop_at_first`, once a row was reported).
    pub fn stop_row(&self) -> Option<usize> {
        if !self.stop_at_first {
            return None;
        }
        self.rows.iter().map(|r| r.row).min()
    }
}

pub trait SinkTask: Send {
    /// Takes a batch. It need not be durable until [`SinkTask::flush`] returns. Rows it
    /// cannot write go to `errant` (the rest of the batch is still taken); an `Err` fails
    /// the whole batch (retried while it is [`crate::ConnectorError::Retriable`]).
    fn put(&mut self, batch: &SinkBatch<'_>, errant: &mut ErrantRecords) -> Result<()>;
    /// Kafka's `SinkTask` class name, reported as the DLQ's `class.name` for `TASK_PUT`.
    fn class_name(&self) -> &'static str;
    /// Makes everything put so far durable; the runtime commits consumer offsets after it.
    fn flush(&mut self) -> Result<()>;
    fn stop(&mut self) -> Result<()> {
        self.flush()
    }
    /// Partitions were assigned, each with the group's committed offset; the answer lists
    /// partitions to start elsewhere (Kafka's `SinkTaskContext.offset`), e.g. after the last
    /// record already in committed output.
    fn open(
        &mut self,
        _partitions: &[(TopicPartition, Option<i64>)],
    ) -> Result<Vec<(TopicPartition, i64)>> {
        Ok(Vec::new())
    }
    /// Partitions were revoked: drop what was taken for them but not yet made durable (the
    /// next owner re-reads it from the committed offset).
    fn close(&mut self, _partitions: &[TopicPartition]) -> Result<()> {
        Ok(())
    }
    /// Kafka's `preCommit`: after `flush`, which of the offsets taken so far may be committed.
    /// A sink that keeps records open across flushes answers lower offsets.
    fn pre_commit(
        &mut self,
        offsets: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>> {
        Ok(offsets.clone())
    }
    /// Called on every loop iteration, records or not (time-based work such as scheduled
    /// file rotation).
    fn tick(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A Kafka topic and partition.
pub type TopicPartition = (String, i32);
