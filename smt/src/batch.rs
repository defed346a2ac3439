//! A batch of Connect records as the chain's kernels see it: the raw Kafka columns (topic
//! rewritten by routers), the converted key and value columns, the converted headers, and the
//! input row each record came from.

use arrow::array::{AsArray, BooleanArray, DictionaryArray, StringArray, UInt32Array};
use arrow::datatypes::{Int32Type, UInt32Type};
use sluice_codecs::model::record::RawBatch;
use sluice_codecs::{CodecError, ConnectColumn};

use crate::header_rows::HeaderRows;
use crate::record::Side;

/// A batch of records: raw Kafka columns, the converted key and value, the converted
/// headers, and which input row each record came from.
#[derive(Debug, Clone)]
pub struct ConnectBatch {
    /// Raw columns; routers rewrite the topic column.
    pub raw: RawBatch,
    pub key: ConnectColumn,
    pub value: ConnectColumn,
    pub headers: HeaderRows,
    /// Row of each record in the batch the pipeline was given.
    pub rows: UInt32Array,
    /// The topics as consumed, once a router has renamed them (`None`: `raw`'s topics).
    pub original_topics: Option<DictionaryArray<Int32Type>>,
    /// Records a source task made: no Kafka partition or offset yet (`raw`'s are unused).
    pub source: bool,
}

impl ConnectBatch {
    /// A batch of rows `0..n` of `raw`, without converted headers.
    pub fn new(raw: RawBatch, key: ConnectColumn, value: ConnectColumn) -> Self {
        let rows = UInt32Array::from_iter_values(0..raw.num_rows() as u32);
        let headers = HeaderRows::none(raw.num_rows());
        Self {
            raw,
            key,
            value,
            headers,
            rows,
            original_topics: None,
            source: false,
        }
    }

    pub fn num_rows(&self) -> usize {
        self.raw.num_rows()
    }

    /// The topic row `i` was consumed from.
    pub fn original_topic(&self, i: usize) -> &str {
        match &self.original_topics {
            None => self.raw.topic(i),
            Some(t) => {
                let names: &StringArray = t.values().as_string::<i32>();
                names.value(t.keys().value(i) as usize)
            }
        }
    }

    /// Keeps the rows where `mask` is true, in every column.
    pub fn filter(&self, mask: &BooleanArray) -> Result<Self, CodecError> {
        Ok(Self {
            raw: self.raw.filter(mask)?,
            key: self.key.filter(mask)?,
            value: self.value.filter(mask)?,
            headers: self.headers.filter(mask)?,
            rows: arrow::compute::filter(&self.rows, mask)?
                .as_primitive::<UInt32Type>()
                .clone(),
            source: self.source,
            original_topics: match &self.original_topics {
                None => None,
                Some(t) => Some(
                    arrow::compute::filter(t, mask)?
                        .as_dictionary::<Int32Type>()
                        .clone(),
                ),
            },
        })
    }

    /// Rows `offset..offset + len`, sharing every buffer.
    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            raw: self.raw.slice(offset, len),
            key: self.key.slice(offset, len),
            value: self.value.slice(offset, len),
            headers: self.headers.slice(offset, len),
            rows: self.rows.slice(offset, len),
            original_topics: self.original_topics.as_ref().map(|t| t.slice(offset, len)),
            source: self.source,
        }
    }

    /// The key or value column.
    pub fn side(&self, side: Side) -> &ConnectColumn {
        match side {
            Side::Key => &self.key,
            Side::Value => &self.value,
        }
    }

    pub fn set_side(&mut self, side: Side, column: ConnectColumn) {
        match side {
            Side::Key => self.key = column,
            Side::Value => self.value = column,
        }
    }
}
