//! The bridge between batches and records: the Connect record of one batch row, one chain
//! stage run record by record over a batch whose kernel declined it, and the results written
//! back into typed columns (split where a record's schema changes), so the stages after it
//! run column-wise again.

use arrow::array::{Array, BooleanArray, DictionaryArray};
use arrow::datatypes::Int32Type;
use sluice_codecs::columnar::runs::{Run, RunsBuilder};
use sluice_codecs::error::ConnectError;
use sluice_codecs::model::record::timestamp_type;
use sluice_codecs::{CodecError, ConnectColumn};

use crate::batch::ConnectBatch;
use crate::chain::ChainStage;
use crate::header_rows::HeaderRows;
use crate::record::ConnectRecord;

/// The Connect record of row `i` (Kafka's `SinkRecord`).
pub fn record_of(batch: &ConnectBatch, i: usize) -> ConnectRecord {
    let raw = &batch.raw;
    let ts = raw.timestamps();
    ConnectRecord {
        topic: raw.topic(i).to_string(),
        original_topic: batch.original_topic(i).to_string(),
        partition: (!batch.source).then(|| raw.partitions().value(i)),
        offset: (!batch.source).then(|| raw.offsets().value(i)),
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
        headers: batch.headers.row(i),
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
        source: kept.source,
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
        // The whole run (the common case) is shared as it is.
        Some(run) if run.start == start && run.column.len() == len => run.column.clone(),
        Some(run) => run.column.slice(start - run.start, len),
        None => ConnectColumn::nulls(len),
    }
}
