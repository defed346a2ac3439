//! A column of Connect data: an Arrow array plus the Connect schema its values share.
//! `schema == None` is schemaless data (Connect's `null` schema).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};

use crate::model::schema::ConnectSchema;

thread_local! {
    static ROWS_MATERIALIZED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many rows this thread has read out of columns as whole Connect values
/// ([`ConnectColumn::value`]): a test of a path that must stay column-wise reads it before and
/// after. Per thread, so tests running beside it do not count.
pub fn rows_materialized() -> u64 {
    ROWS_MATERIALIZED.with(std::cell::Cell::get)
}

#[derive(Debug, Clone)]
pub struct ConnectColumn {
    pub schema: Option<Arc<ConnectSchema>>,
    pub array: ArrayRef,
    /// Rows whose exact Connect value the Arrow type cannot hold (schemaless values, decimals
    /// whose scale differs from the schema's), as (row, value) sorted by row; `array` is null
    /// there. Empty on the typed fast path.
    pub exact: Vec<(usize, crate::model::value::Value)>,
}

impl ConnectColumn {
    pub fn new(schema: Option<Arc<ConnectSchema>>, array: ArrayRef) -> Self {
        Self {
            schema,
            array,
            exact: Vec::new(),
        }
    }

    /// A column of `len` nulls with no schema (Connect's `SchemaAndValue.NULL`).
    pub fn nulls(len: usize) -> Self {
        Self {
            schema: None,
            array: arrow::array::new_null_array(&arrow::datatypes::DataType::Null, len),
            exact: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.array.len()
    }

    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// Whether row `row` holds no value (a tombstone, or a value a transformation made
    /// null). Arrow's `is_null` does not see the rows of a `Null`-typed array.
    pub fn is_null(&self, row: usize) -> bool {
        if let Some(v) = self.exact_value(row) {
            return v.is_null();
        }
        self.array.data_type() == &arrow::datatypes::DataType::Null || self.array.is_null(row)
    }

    /// The exact value kept for `row`, if any (binary search: the table is sorted by row).
    pub fn exact_value(&self, row: usize) -> Option<&crate::model::value::Value> {
        self.exact
            .binary_search_by_key(&row, |(r, _)| *r)
            .ok()
            .map(|i| &self.exact[i].1)
    }

    /// The Connect value of row `row` (from the exact side table, or the Arrow cell).
    /// Counted in [`rows_materialized`]: hot paths read the arrays instead.
    pub fn value(&self, row: usize) -> crate::model::value::Value {
        ROWS_MATERIALIZED.with(|n| n.set(n.get() + 1));
        if let Some(v) = self.exact_value(row) {
            return v.clone();
        }
        match self.schema.as_deref() {
            Some(s) => crate::model::cells::cell_value(s, &self.array, row),
            None => crate::model::cells::schemaless_cell(&self.array, row),
        }
    }

    /// Rows `offset..offset + len`; buffers are shared.
    pub fn slice(&self, offset: usize, len: usize) -> Self {
        let exact = self
            .exact
            .iter()
            .filter(|(r, _)| (offset..offset + len).contains(r))
            .map(|(r, v)| (r - offset, v.clone()))
            .collect();
        Self {
            schema: self.schema.clone(),
            array: self.array.slice(offset, len),
            exact,
        }
    }

    /// Keeps the rows where `mask` is true (buffers shared where Arrow's kernel allows).
    pub fn filter(
        &self,
        mask: &arrow::array::BooleanArray,
    ) -> Result<Self, arrow::error::ArrowError> {
        let array = arrow::compute::filter(&self.array, mask)?;
        let mut new_index = Vec::with_capacity(mask.len());
        let mut next = 0usize;
        for i in 0..mask.len() {
            new_index.push(next);
            if mask.is_valid(i) && mask.value(i) {
                next += 1;
            }
        }
        let exact = self
            .exact
            .iter()
            .filter(|(r, _)| mask.is_valid(*r) && mask.value(*r))
            .map(|(r, v)| (new_index[*r], v.clone()))
            .collect();
        Ok(Self {
            schema: self.schema.clone(),
            array,
            exact,
        })
    }
}
