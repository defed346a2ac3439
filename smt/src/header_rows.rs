//! The converted headers of a batch's rows: the headers each row came with (none at all for
//! a batch without headers, the common case), plus the header columns kernels add to every
//! row, and their bytes after the header converter.

use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryViewArray, BinaryViewBuilder, BooleanArray};
use sluice_codecs::error::ConnectError;
use sluice_codecs::reference::RefHeaderConverter;
use sluice_codecs::{CodecError, ConnectColumn};

use crate::record::Header;

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
