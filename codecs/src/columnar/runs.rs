//! Runs of rows sharing one Connect schema, the unit every decoder hands on: an open run
//! appends rows to its typed column (a value Arrow cannot hold exactly goes to the side
//! table), and [`RunsBuilder`] turns per-record output back into typed runs.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::columnar::col::{Col, SAMPLE_ROWS, needs_exact};
use crate::model::column::ConnectColumn;
use crate::model::schema::{ConnectSchema, SchemaType, logical};
use crate::model::value::Value;

/// Rows `start..start + len` share `column`'s schema.
#[derive(Debug)]
pub struct Run {
    pub start: usize,
    pub column: ConnectColumn,
}

pub(crate) struct OpenRun {
    pub(crate) start: usize,
    pub(crate) schema: Option<Arc<ConnectSchema>>,
    pub(crate) col: Option<Col>,
    pub(crate) rows: usize,
    pub(crate) exact: Vec<(usize, Value)>,
}

impl OpenRun {
    /// A run from row `start` on, with room for `capacity` rows (the rest of the batch:
    /// a batch is one run in practice).
    pub(crate) fn new(start: usize, schema: Option<Arc<ConnectSchema>>, capacity: usize) -> Self {
        // A run opened mid-batch (after a tombstone or another schema) may be short: room for
        // the sample rows only, then `count_row` sizes it from them. Reserving the rest of the
        // batch for each of many short runs (deletes alternating with tombstones) allocated
        // and zeroed the batch again per run.
        let capacity = if start == 0 {
            capacity
        } else {
            capacity.min(SAMPLE_ROWS)
        };
        let col = schema.as_deref().map(|s| {
            let mut col = Col::new(s);
            col.reserve(capacity);
            col
        });
        Self {
            start,
            schema,
            col,
            rows: 0,
            exact: Vec::new(),
        }
    }

    /// Counts a row the fast path appended; `rows_left` more may follow in the batch.
    pub(crate) fn count_row(&mut self, rows_left: usize) {
        self.rows += 1;
        if self.rows == SAMPLE_ROWS
            && let Some(col) = self.col.as_mut()
        {
            col.reserve_by_sample(SAMPLE_ROWS, SAMPLE_ROWS + rows_left);
        }
    }

    pub(crate) fn same(&self, s: Option<&Arc<ConnectSchema>>) -> bool {
        match (&self.schema, s) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || **a == **b,
            _ => false,
        }
    }

    /// The open run when it has `schema`, else a new one from `row` (the old one closed).
    pub(crate) fn continue_or_start<'r>(
        run: &'r mut Option<OpenRun>,
        out: &mut Vec<Run>,
        row: usize,
        capacity: usize,
        schema: &Arc<ConnectSchema>,
    ) -> &'r mut OpenRun {
        if !run.as_ref().is_some_and(|open| open.same(Some(schema)))
            && let Some(done) = run.take()
        {
            done.close_into(out);
        }
        run.get_or_insert_with(|| OpenRun::new(row, Some(schema.clone()), capacity))
    }

    /// Closes the run into `out`; a run the fast path opened for a row that then took
    /// another schema holds no rows and is dropped.
    pub(crate) fn close_into(self, out: &mut Vec<Run>) {
        if self.rows > 0 {
            out.push(self.close());
        }
    }

    fn close(mut self) -> Run {
        let array: ArrayRef = match &mut self.col {
            Some(c) => c.finish(),
            None => arrow::array::new_null_array(&DataType::Null, self.rows),
        };
        let mut column = ConnectColumn::new(self.schema, array);
        column.exact = self.exact;
        Run {
            start: self.start,
            column,
        }
    }

    pub(crate) fn push_null(&mut self) {
        if let Some(c) = &mut self.col {
            c.append_null();
        }
        self.rows += 1;
    }

    /// Appends a value made by a per-record stage: one that does not fit the run's schema
    /// (or that Arrow cannot hold) is kept exact.
    pub(crate) fn push_any(&mut self, v: Value) {
        match self.schema.as_deref() {
            Some(s) if !value_fits(s, &v) => self.push(v, true),
            _ => self.push_value(v),
        }
    }

    /// Appends a reference value, keeping it exact where Arrow cannot.
    pub(crate) fn push_value(&mut self, v: Value) {
        let exact = match (&self.schema, &v) {
            (None, Value::Null) => false,
            (None, _) => true,
            (Some(s), _) => needs_exact(s, &v),
        };
        self.push(v, exact);
    }

    /// Appends a value to the column, or (`exact`) to the side table with a null cell.
    fn push(&mut self, v: Value, exact: bool) {
        match &mut self.col {
            Some(c) if !exact => c.append_value(&v),
            Some(c) => c.append_null(),
            None => {}
        }
        if exact {
            self.exact.push((self.rows, v));
        }
        self.rows += 1;
    }
}

/// Typed columns from Connect values, one [`Run`] per change of schema: what a per-record
/// stage (a transformation run on the reference model) hands back, so the schema each record
/// carries reaches the sink as typed Arrow columns instead of being inferred from values.
#[derive(Default)]
pub struct RunsBuilder {
    run: Option<OpenRun>,
    runs: Vec<Run>,
    rows: usize,
    capacity: usize,
}

impl std::fmt::Debug for RunsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunsBuilder")
            .field("rows", &self.rows)
            .field("runs", &self.runs.len())
            .finish_non_exhaustive()
    }
}

impl RunsBuilder {
    /// A builder expecting about `rows` values (builders are sized once, not per value).
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            capacity: rows,
            ..Self::default()
        }
    }

    /// Appends the next row. A value that does not fit its schema (no Kafka transformation
    /// makes one, but a custom chain could) is kept exact rather than stored as a null.
    pub fn push(&mut self, schema: Option<Arc<ConnectSchema>>, value: Value) {
        if !self.run.as_ref().is_some_and(|r| r.same(schema.as_ref())) {
            if let Some(done) = self.run.take() {
                done.close_into(&mut self.runs);
            }
            let left = self.capacity.saturating_sub(self.rows);
            self.run = Some(OpenRun::new(self.rows, schema, left));
        }
        if let Some(open) = self.run.as_mut() {
            match open.schema.as_deref() {
                Some(s) if !value_fits(s, &value) => open.push(value, true),
                _ => open.push_value(value),
            }
        }
        self.rows += 1;
    }

    /// The runs, in row order (none when no row was pushed).
    pub fn finish(mut self) -> Vec<Run> {
        if let Some(done) = self.run.take() {
            done.close_into(&mut self.runs);
        }
        self.runs
    }
}

/// Whether `v` has the shape [`Col`] stores for schema `s` (a null always fits at the top:
/// the column marks it null; inside, only where the schema is optional, as the Arrow field
/// is nullable only then).
fn value_fits(s: &ConnectSchema, v: &Value) -> bool {
    let inner = |s: &ConnectSchema, v: &Value| match v {
        Value::Null => s.optional,
        v => value_fits(s, v),
    };
    match (s.logical(), v) {
        (_, Value::Null) => true,
        (Some(logical::DECIMAL), Value::Decimal { .. }) => true,
        (Some(logical::DATE | logical::TIME | logical::TIMESTAMP), Value::Date(_)) => true,
        (Some(logical::DECIMAL | logical::DATE | logical::TIME | logical::TIMESTAMP), _) => false,
        (_, v) => match (s.schema_type, v) {
            (SchemaType::Boolean, Value::Bool(_))
            | (SchemaType::Int8, Value::I8(_))
            | (SchemaType::Int16, Value::I16(_))
            | (SchemaType::Int32, Value::I32(_))
            | (SchemaType::Int64, Value::I64(_))
            | (SchemaType::Float32, Value::F32(_))
            | (SchemaType::Float64, Value::F64(_))
            | (SchemaType::String, Value::String(_) | Value::Utf16(_))
            | (SchemaType::Bytes, Value::Bytes(_)) => true,
            (SchemaType::Array, Value::Array(items)) => match s.value.as_deref() {
                Some(is) => items.iter().all(|x| inner(is, x)),
                None => false,
            },
            (SchemaType::Map, Value::Map(entries)) => {
                match (s.key.as_deref(), s.value.as_deref()) {
                    // Arrow map keys cannot be null: a null key is kept exact.
                    (Some(ks), Some(vs)) => entries
                        .iter()
                        .all(|(k, x)| !k.is_null() && inner(ks, k) && inner(vs, x)),
                    _ => false,
                }
            }
            (SchemaType::Struct, Value::Struct(st)) => {
                st.values.len() == s.fields.len()
                    && st
                        .schema
                        .fields
                        .iter()
                        .zip(&s.fields)
                        .all(|(a, b)| a.name == b.name)
                    && s.fields
                        .iter()
                        .zip(&st.values)
                        .all(|(f, x)| inner(&f.schema, x))
            }
            _ => false,
        },
    }
}
