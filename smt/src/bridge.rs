//! The bridge between batches and records: the Connect record of one batch row, one chain
//! stage run record by record over a batch whose kernel declined it, and the results written
//! back into typed columns (split where a record's schema changes), so the stages after it
//! run column-wise again.

use std::sync::Arc;

use arrow::array::{
    Array, AsArray, BinaryViewArray, BinaryViewBuilder, BooleanArray, DictionaryArray,
};
use arrow::datatypes::Int32Type;
use sluice_codecs::error::ConnectError;
use sluice_codecs::json_columnar::{Run, RunsBuilder};
use sluice_codecs::record::timestamp_type;
use sluice_codecs::reference::RefHeaderConverter;
use sluice_codecs::{CodecError, ConnectColumn};

use crate::batch::ConnectBatch;
use crate::chain::ChainStage;
use crate::record::{ConnectRecord, Header};

/// The converted headers of each row of a batch: the headers each row came with (kept per
/// row, and nothing at all for a batch without headers, the common case), then the header
/// columns that kernels added to every row (InsertHeader, HeaderFrom), in order.
#[derive(Debug, Clone)]
pub struct HeaderRows {
    rows: Option<Arc<[Vec<Header>]>>,
    offset: usize,
    len: usize,
    columns: Vec<HeaderColumn>,
}

/// A header as bytes: its key and its converted value.
pub type RawHeaderBytes = (String, Option<Vec<u8>>);

/// Each row's headers as bytes: the ones it came with, then the added header columns.
#[derive(Debug, Clone, Default)]
pub struct EncodedHeaders {
    /// Per row (empty when no row came with headers).
    own: Vec<Vec<RawHeaderBytes>>,
    columns: Vec<(String, BinaryViewArray)>,
}

impl EncodedHeaders {
    /// Whether no row has a header.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.own.iter().all(Vec::is_empty)
    }

    /// Row `i`'s headers in order, as (key, bytes).
    pub fn row(&self, i: usize) -> Vec<(&str, Option<&[u8]>)> {
        let mut out: Vec<(&str, Option<&[u8]>)> = match self.own.get(i) {
            Some(own) => own
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect(),
            None => Vec::new(),
        };
        for (key, bytes) in &self.columns {
            out.push((key.as_str(), bytes.is_valid(i).then(|| bytes.value(i))));
        }
        out
    }

    /// Keeps the rows where `mask` is true.
    pub fn filter(self, mask: &BooleanArray) -> Result<Self, CodecError> {
        let kept = |i: usize| mask.is_valid(i) && mask.value(i);
        let own = self
            .own
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept(*i))
            .map(|(_, h)| h)
            .collect();
        let mut columns = Vec::with_capacity(self.columns.len());
        for (key, bytes) in self.columns {
            let filtered = arrow::compute::filter(&bytes, mask)?;
            columns.push((key, filtered.as_binary_view().clone()));
        }
        Ok(Self { own, columns })
    }
}

/// A header every row of a batch has: its key, and one value per row with its schema.
#[derive(Debug, Clone)]
pub struct HeaderColumn {
    pub key: String,
    pub values: ConnectColumn,
}

impl HeaderRows {
    /// `len` rows without headers.
    pub fn none(len: usize) -> Self {
        Self {
            rows: None,
            offset: 0,
            len,
            columns: Vec::new(),
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
            columns: Vec::new(),
        }
    }

    /// Whether no row has a header.
    pub fn is_empty(&self) -> bool {
        self.rows.is_none() && self.columns.is_empty()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The headers row `i` came with (without the added columns).
    fn own(&self, i: usize) -> &[Header] {
        match &self.rows {
            Some(rows) => &rows[self.offset + i],
            None => &[],
        }
    }

    /// All headers of row `i`, in order.
    pub fn row(&self, i: usize) -> Vec<Header> {
        let mut out = self.own(i).to_vec();
        out.extend(self.columns.iter().map(|c| Header {
            key: c.key.clone(),
            schema: c.values.schema.clone(),
            value: c.values.value(i),
        }));
        out
    }

    /// Whether row `i` has a header `key`.
    pub fn has_key(&self, i: usize, key: &str) -> bool {
        self.columns.iter().any(|c| c.key == key) || self.own(i).iter().any(|h| h.key == key)
    }

    /// Adds a header to every row, after the ones they have.
    pub fn push_column(&mut self, column: HeaderColumn) {
        self.columns.push(column);
    }

    /// Removes every header whose key is in `keys`.
    pub fn drop_keys(&self, keys: &[String]) -> Self {
        let mut out = self.clone();
        out.columns.retain(|c| !keys.contains(&c.key));
        let touched = (0..self.len).any(|i| self.own(i).iter().any(|h| keys.contains(&h.key)));
        if touched {
            let rows: Vec<Vec<Header>> = (0..self.len)
                .map(|i| {
                    self.own(i)
                        .iter()
                        .filter(|h| !keys.contains(&h.key))
                        .cloned()
                        .collect()
                })
                .collect();
            let columns = std::mem::take(&mut out.columns);
            out = Self::from_rows(rows);
            out.columns = columns;
        }
        out
    }

    /// Every row's headers as bytes with `converter`, and the rows whose headers it cannot
    /// convert. Added columns are converted column by column: a string column under
    /// SimpleHeaderConverter is its own bytes, shared.
    pub fn encode(
        &self,
        converter: &RefHeaderConverter,
    ) -> (EncodedHeaders, Vec<(usize, ConnectError)>) {
        let mut failed = Vec::new();
        let mut own = Vec::new();
        if self.rows.is_some() {
            own.reserve(self.len);
            for i in 0..self.len {
                let mut row = Vec::with_capacity(self.own(i).len());
                for h in self.own(i) {
                    match converter.from_connect(h.schema.as_deref(), &h.value) {
                        Ok(b) => row.push((h.key.clone(), b)),
                        Err(e) => {
                            failed.push((i, e));
                            break;
                        }
                    }
                }
                own.push(row);
            }
        }
        let mut columns = Vec::with_capacity(self.columns.len());
        for c in &self.columns {
            let v = &c.values;
            let strings = v.exact.is_empty()
                && matches!(converter, RefHeaderConverter::Simple)
                && v.array.data_type() == &arrow::datatypes::DataType::Utf8View;
            let bytes = if strings {
                v.array.as_string_view().clone().to_binary_view()
            } else {
                let mut b = BinaryViewBuilder::with_capacity(self.len);
                for i in 0..self.len {
                    match converter.from_connect(v.schema.as_deref(), &v.value(i)) {
                        Ok(bytes) => b.append_option(bytes),
                        Err(e) => {
                            failed.push((i, e));
                            b.append_null();
                        }
                    }
                }
                b.finish()
            };
            columns.push((c.key.clone(), bytes));
        }
        failed.sort_by_key(|(i, _)| *i);
        (EncodedHeaders { own, columns }, failed)
    }

    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            rows: self.rows.clone(),
            offset: self.offset + offset,
            len,
            columns: self
                .columns
                .iter()
                .map(|c| HeaderColumn {
                    key: c.key.clone(),
                    values: c.values.slice(offset, len),
                })
                .collect(),
        }
    }

    pub fn filter(&self, mask: &BooleanArray) -> Result<Self, CodecError> {
        let kept = |i: usize| mask.is_valid(i) && mask.value(i);
        let mut out = match &self.rows {
            None => Self::none((0..mask.len()).filter(|&i| kept(i)).count()),
            Some(_) => Self::from_rows(
                (0..self.len)
                    .filter(|&i| kept(i))
                    .map(|i| self.own(i).to_vec())
                    .collect(),
            ),
        };
        for c in &self.columns {
            out.columns.push(HeaderColumn {
                key: c.key.clone(),
                values: c.values.filter(mask)?,
            });
        }
        Ok(out)
    }
}

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
