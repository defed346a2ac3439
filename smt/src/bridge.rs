//! The bridge between batches and records: the Connect record of one batch row, one chain
//! stage run record by record over a batch whose kernel declined it, and the results written
//! back into typed columns (split where a record's schema changes), so the stages after it
//! run column-wise again.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray, DictionaryArray};
use arrow::datatypes::Int32Type;
use sluice_codecs::error::ConnectError;
use sluice_codecs::json_columnar::{Run, RunsBuilder};
use sluice_codecs::record::timestamp_type;
use sluice_codecs::{CodecError, ConnectColumn};

use crate::batch::ConnectBatch;
use crate::chain::ChainStage;
use crate::record::{ConnectRecord, Header};

/// The converted headers of each row of a batch. Rows of a batch without headers (the common
/// case) hold nothing at all; headers are small, so a row's are kept as Connect values.
#[derive(Debug, Clone)]
pub struct HeaderRows {
    rows: Option<Arc<[Vec<Header>]>>,
    offset: usize,
    len: usize,
}

impl HeaderRows {
    /// `len` rows without headers.
    pub fn none(len: usize) -> Self {
        Self {
            rows: None,
            offset: 0,
            len,
        }
    }

    /// One entry per row (an empty one for a row without headers).
    pub fn from_rows(rows: Vec<Vec<Header>>) -> Self {
        if rows.iter().all(Vec::is_empty) {
            return Self::none(rows.len());
        }
        let len = rows.len();
        Self {
            rows: Some(rows.into()),
            offset: 0,
            len,
        }
    }

    /// Whether no row has a header.
    pub fn is_empty(&self) -> bool {
        self.rows.is_none()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The headers of row `i`.
    pub fn row(&self, i: usize) -> &[Header] {
        match &self.rows {
            Some(rows) => &rows[self.offset + i],
            None => &[],
        }
    }

    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            rows: self.rows.clone(),
            offset: self.offset + offset,
            len,
        }
    }

    pub fn filter(&self, mask: &BooleanArray) -> Self {
        let kept = |i: usize| mask.is_valid(i) && mask.value(i);
        match &self.rows {
            None => Self::none((0..mask.len()).filter(|&i| kept(i)).count()),
            Some(_) => Self::from_rows(
                (0..self.len)
                    .filter(|&i| kept(i))
                    .map(|i| self.row(i).to_vec())
                    .collect(),
            ),
        }
    }
}

/// The Connect record of row `i` (Kafka's `SinkRecord`).
pub fn record_of(batch: &ConnectBatch, i: usize) -> ConnectRecord {
    let raw = &batch.raw;
    let ts = raw.timestamps();
    ConnectRecord {
        topic: raw.topic(i).to_string(),
        original_topic: batch.original_topic(i).to_string(),
        partition: raw.partitions().value(i),
        offset: raw.offsets().value(i),
        timestamp: ts.is_valid(i).then(|| ts.value(i)),
        timestamp_type: match raw.timestamp_types().value(i) {
            timestamp_type::CREATE_TIME => "CreateTime".into(),
            timestamp_type::LOG_APPEND_TIME => "LogAppendTime".into(),
            _ => "NoTimestampType".into(),
        },
        key_schema: batch.key.schema.clone(),
        key: batch.key.value(i),
        value_schema: batch.value.schema.clone(),
        value: batch.value.value(i),
        headers: batch.headers.row(i).to_vec(),
    }
}

/// A row one stage failed: its row in the stage's batch and what the stage threw.
#[derive(Debug)]
pub struct StageFailure {
    pub row: usize,
    pub error: ConnectError,
}

/// Runs `stage` record by record over `batch`. The surviving records come back as batches
/// of one key and one value schema each, in order; rows the stage drops are gone, rows it
/// fails are returned with the error.
pub(crate) fn stage_per_record(
    stage: &ChainStage,
    batch: &ConnectBatch,
) -> Result<(Vec<ConnectBatch>, Vec<StageFailure>), CodecError> {
    let n = batch.num_rows();
    let mut keep = Vec::with_capacity(n);
    let mut topics: Vec<String> = Vec::with_capacity(n);
    let mut keys = RunsBuilder::with_capacity(n);
    let mut values = RunsBuilder::with_capacity(n);
    let mut headers = Vec::with_capacity(if batch.headers.is_empty() { 0 } else { n });
    let mut failures = Vec::new();
    for i in 0..n {
        match stage.apply_record(record_of(batch, i)) {
            Ok(Some(r)) => {
                keys.push(r.key_schema, r.key);
                values.push(r.value_schema, r.value);
                topics.push(r.topic);
                // A stage that adds headers to a batch without any starts the table here.
                if headers.is_empty() && !r.headers.is_empty() {
                    headers.resize(topics.len() - 1, Vec::new());
                }
                if !headers.is_empty() || !r.headers.is_empty() {
                    headers.push(r.headers);
                }
                keep.push(true);
            }
            Ok(None) => keep.push(false),
            Err(error) => {
                failures.push(StageFailure { row: i, error });
                keep.push(false);
            }
        }
    }
    let mask = BooleanArray::from(keep);
    let kept = batch.filter(&mask)?;
    let m = kept.num_rows();
    let dict: DictionaryArray<Int32Type> = topics.iter().map(String::as_str).collect();
    let renamed = !(0..m).all(|i| kept.raw.topic(i) == topics[i]);
    let (routed, original_topics) = if renamed {
        let original = kept
            .original_topics
            .clone()
            .unwrap_or_else(|| kept.raw.topics().clone());
        (kept.raw.with_topics(dict)?, Some(original))
    } else {
        (kept.raw.clone(), kept.original_topics.clone())
    };
    let (keys, values) = (keys.finish(), values.finish());
    headers.resize(if headers.is_empty() { 0 } else { m }, Vec::new());
    let headers = if headers.is_empty() {
        HeaderRows::none(m)
    } else {
        HeaderRows::from_rows(headers)
    };
    let whole = ConnectBatch {
        raw: routed,
        key: ConnectColumn::nulls(m),
        value: ConnectColumn::nulls(m),
        headers,
        rows: kept.rows.clone(),
        original_topics,
    };
    let out = segments(&keys, &values, m)
        .into_iter()
        .map(|(start, len)| {
            let mut part = whole.slice(start, len);
            part.key = run_slice(&keys, start, len);
            part.value = run_slice(&values, start, len);
            part
        })
        .collect();
    Ok((out, failures))
}

/// (start, len) of the stretches of `n` rows where neither the key's nor the value's run
/// changes (one stretch in practice).
pub fn segments(keys: &[Run], values: &[Run], n: usize) -> Vec<(usize, usize)> {
    let mut cuts: Vec<usize> = keys
        .iter()
        .chain(values)
        .map(|r| r.start)
        .filter(|&s| s <= n)
        .chain([0, n])
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2).map(|w| (w[0], w[1] - w[0])).collect()
}

/// Rows `start..start + len` of the runs, which lie within one run.
pub fn run_slice(runs: &[Run], start: usize, len: usize) -> ConnectColumn {
    match runs.iter().rev().find(|r| r.start <= start) {
        Some(run) => run.column.slice(start - run.start, len),
        None => ConnectColumn::nulls(len),
    }
}
