//! Arrow columns → JsonConverter bytes, a whole batch at a time. The column's encoder tree is
//! built once per batch (typed value slices, `"name":` keys rendered once), then every row is
//! written straight into one output block that the result's views point into: each output
//! byte is written once, with no per-cell type dispatch and no per-row array slicing.
//! Schemaless struct columns are written by a flat list of steps (`FlatEnc`), nested structs
//! inline.

use std::collections::HashMap;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BooleanArray, NullBufferBuilder, StringViewArray,
    builder::make_view,
};
use arrow::buffer::{Buffer, NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::columnar::col::SAMPLE_ROWS;
use crate::columnar::typed_column::Scalar;
use crate::error::{ConnectError, RowFailure, Stage};
use crate::json::connect::{self, JsonConfig};
use crate::model::column::ConnectColumn;
use crate::model::schema::ConnectSchema;
use crate::model::value::Value;

/// How one column's cells are written.
enum Node<'a> {
    Scalar(Scalar<'a>),
    List {
        offsets: &'a [i32],
        item: Box<Enc<'a>>,
    },
    /// Each field's `"name":` and its encoder.
    Struct(Vec<(Key, Enc<'a>)>),
    /// Types written by the cell-at-a-time writer (maps, decimals, anything rare).
    Cell,
}

/// The encoder of one column (and, through its children, of nested columns).
struct Enc<'a> {
    node: Node<'a>,
    nulls: Option<&'a NullBuffer>,
    array: &'a ArrayRef,
    /// `None` for schemaless columns.
    schema: Option<&'a ConnectSchema>,
}

/// A member's `"name":`, after a comma unless the field is the first.
struct Key {
    bytes: Vec<u8>,
    /// The bytes padded to 16 as a word (first byte lowest) when they fit, for one
    /// fixed-size store.
    word: Option<u128>,
}

impl Key {
    fn new(k: usize, name: &str) -> Self {
        let mut bytes = Vec::with_capacity(name.len() + 4);
        if k > 0 {
            bytes.push(b',');
        }
        crate::json::text::write_string(&mut bytes, name);
        bytes.push(b':');
        Self::of(bytes)
    }

    /// The k-th member's key with its opener: `{` for the first, `,` for the others (the
    /// direct reader's lead for the same member).
    fn member(k: usize, name: &str) -> Self {
        Self::of(crate::json::direct::lead(k, name).into_vec())
    }

    /// A struct's closing brace.
    fn close() -> Self {
        Self::of(b"}".to_vec())
    }

    fn of(bytes: Vec<u8>) -> Self {
        let word = (bytes.len() <= 16).then(|| crate::json::text::padded_word(&bytes));
        Key { bytes, word }
    }

    #[inline]
    fn write(&self, out: &mut Vec<u8>) {
        match self.word {
            Some(word) => crate::json::text::put_word(out, word, self.bytes.len()),
            None => out.extend_from_slice(&self.bytes),
        }
    }
}

impl<'a> Enc<'a> {
    fn new(array: &'a ArrayRef, schema: Option<&'a ConnectSchema>) -> Self {
        let node = match array.data_type() {
            // Logical types travel as their integer encoding, as Kafka writes them.
            _ if let Some(scalar) = Scalar::of(array, schema.is_some()) => Node::Scalar(scalar),
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                let item_schema = schema.map(|s| s.value.as_deref().unwrap_or(s));
                Node::List {
                    offsets: list.value_offsets(),
                    item: Box::new(Enc::new(list.values(), item_schema)),
                }
            }
            DataType::Struct(fields) => {
                let st = array.as_struct();
                match schema {
                    None => Node::Struct(
                        fields
                            .iter()
                            .zip(st.columns())
                            .enumerate()
                            .map(|(k, (f, c))| (Key::new(k, f.name()), Enc::new(c, None)))
                            .collect(),
                    ),
                    Some(s) if s.fields.len() == st.num_columns() => Node::Struct(
                        s.fields
                            .iter()
                            .zip(st.columns())
                            .enumerate()
                            .map(|(k, (f, c))| (Key::new(k, &f.name), Enc::new(c, Some(&f.schema))))
                            .collect(),
                    ),
                    Some(_) => Node::Cell,
                }
            }
            _ => Node::Cell,
        };
        Enc {
            node,
            nulls: array.nulls(),
            array,
            schema,
        }
    }

    /// Writes a non-null scalar cell that needs none of Kafka's special cases (ints,
    /// booleans, finite floats, strings); `false` for anything else. Structs call it for
    /// their members before the general `write`, which saves a call per cell.
    #[inline(always)]
    fn write_common(&self, row: usize, out: &mut Vec<u8>) -> bool {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            return false;
        }
        match &self.node {
            Node::Scalar(Scalar::Str(a)) => {
                if !crate::json::text::write_inline_view(out, a.views()[row]) {
                    crate::json::text::write_string_inline(out, a.value(row));
                }
                true
            }
            Node::Scalar(scalar) => scalar.write_plain(row, out),
            _ => false,
        }
    }

    fn write(&self, cfg: &JsonConfig, row: usize, out: &mut Vec<u8>) -> Result<(), ConnectError> {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            match self.schema {
                None => out.extend_from_slice(b"null"),
                // Optional fields, defaults and the error for a required field: Kafka's rules.
                Some(s) => connect::write_json(cfg, Some(s), &Value::Null, out)?,
            }
            return Ok(());
        }
        match &self.node {
            Node::Scalar(scalar) => {
                if scalar.write_plain(row, out) {
                    return Ok(());
                }
                match scalar {
                    // NaN and infinities: Jackson writes them as strings.
                    Scalar::F32(v) => {
                        connect::write_json(cfg, self.schema, &Value::F32(v[row]), out)?
                    }
                    Scalar::F64(v) => {
                        connect::write_json(cfg, self.schema, &Value::F64(v[row]), out)?
                    }
                    Scalar::Str(a) => crate::json::text::write_string(out, a.value(row)),
                    Scalar::Bytes(a) => {
                        out.push(b'"');
                        connect::base64_encode(a.value(row), out);
                        out.push(b'"');
                    }
                    _ => {}
                }
            }
            Node::List { offsets, item } => {
                out.push(b'[');
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                for j in start..end {
                    if j > start {
                        out.push(b',');
                    }
                    if !item.write_common(j, out) {
                        item.write(cfg, j, out)?;
                    }
                }
                out.push(b']');
            }
            Node::Struct(fields) => {
                out.push(b'{');
                for (key, enc) in fields {
                    key.write(out);
                    if !enc.write_common(row, out) {
                        enc.write(cfg, row, out)?;
                    }
                }
                out.push(b'}');
            }
            Node::Cell => match self.schema {
                None => crate::json::columnar::write_schemaless(self.array, row, out),
                Some(s) => crate::json::columnar::write_value(cfg, s, self.array, row, out)?,
            },
        }
        Ok(())
    }
}

/// A schemaless struct column's encoder as one flat list of steps (nested structs inline),
/// so a row is written in one loop: each step writes its member's key with one store, then
/// its value from a typed slice, with no per-cell dispatch through the encoder tree.
struct FlatEnc<'a> {
    steps: Vec<FlatStep<'a>>,
}

struct FlatStep<'a> {
    /// What goes before the value: `{` or `,` and the member's `"name":` (nothing for `}`).
    key: Key,
    op: FlatOp<'a>,
}

enum FlatOp<'a> {
    Str(&'a StringViewArray, Option<&'a NullBuffer>),
    I64(&'a [i64], Option<&'a NullBuffer>),
    F64(&'a [f64], Option<&'a NullBuffer>),
    Bool(&'a BooleanArray, Option<&'a NullBuffer>),
    StrList {
        offsets: &'a [i32],
        items: &'a StringViewArray,
        nulls: Option<&'a NullBuffer>,
    },
    /// A nested struct: `null` (the steps go on at `end`), or its members that follow.
    Open {
        nulls: Option<&'a NullBuffer>,
        end: usize,
    },
    /// The `}` of a struct.
    Close,
    /// Anything else, by the encoder tree.
    Other(Enc<'a>),
}

impl<'a> FlatEnc<'a> {
    /// The program for a schemaless struct column with at least one field.
    fn new(array: &'a ArrayRef) -> Option<Self> {
        let mut steps = Vec::new();
        Self::object(array, &mut steps)?;
        Some(FlatEnc { steps })
    }

    fn object(array: &'a ArrayRef, steps: &mut Vec<FlatStep<'a>>) -> Option<()> {
        let DataType::Struct(fields) = array.data_type() else {
            return None;
        };
        if fields.is_empty() {
            return None;
        }
        let st = array.as_struct();
        for (k, (f, c)) in fields.iter().zip(st.columns()).enumerate() {
            let key = Key::member(k, f.name());
            let nulls = c.nulls();
            let op = match c.data_type() {
                DataType::Utf8View => FlatOp::Str(c.as_string_view(), nulls),
                DataType::Int64 => FlatOp::I64(c.as_primitive::<Int64Type>().values(), nulls),
                DataType::Float64 => FlatOp::F64(c.as_primitive::<Float64Type>().values(), nulls),
                DataType::Boolean => FlatOp::Bool(c.as_boolean(), nulls),
                DataType::List(item) if item.data_type() == &DataType::Utf8View => {
                    let list = c.as_list::<i32>();
                    FlatOp::StrList {
                        offsets: list.value_offsets(),
                        items: list.values().as_string_view(),
                        nulls,
                    }
                }
                DataType::Struct(inner) if !inner.is_empty() => {
                    let at = steps.len();
                    steps.push(FlatStep {
                        key,
                        op: FlatOp::Close,
                    });
                    Self::object(c, steps)?;
                    steps[at].op = FlatOp::Open {
                        nulls,
                        end: steps.len(),
                    };
                    continue;
                }
                _ => FlatOp::Other(Enc::new(c, None)),
            };
            steps.push(FlatStep { key, op });
        }
        steps.push(FlatStep {
            key: Key::close(),
            op: FlatOp::Close,
        });
        Some(())
    }

    /// Writes row `row`; `false` (with part of the row written) where a value needs Kafka's
    /// special cases (NaN, infinities) or fails, for the tree encoder to write the row again.
    fn write(&self, cfg: &JsonConfig, row: usize, out: &mut Vec<u8>) -> bool {
        let null = |nulls: Option<&NullBuffer>| nulls.is_some_and(|n| n.is_null(row));
        let mut pc = 0;
        while let Some(step) = self.steps.get(pc) {
            pc += 1;
            step.key.write(out);
            match &step.op {
                FlatOp::Open { nulls, end } => {
                    if null(*nulls) {
                        out.extend_from_slice(b"null");
                        pc = *end;
                    }
                    continue;
                }
                FlatOp::Close => continue,
                _ => {}
            }
            let done = match &step.op {
                FlatOp::Str(_, nulls)
                | FlatOp::I64(_, nulls)
                | FlatOp::F64(_, nulls)
                | FlatOp::Bool(_, nulls)
                | FlatOp::StrList { nulls, .. }
                    if null(*nulls) =>
                {
                    out.extend_from_slice(b"null");
                    true
                }
                FlatOp::Str(a, _) => {
                    if !crate::json::text::write_inline_view(out, a.views()[row]) {
                        crate::json::text::write_string_inline(out, a.value(row));
                    }
                    true
                }
                FlatOp::I64(v, _) => {
                    crate::java::write_long(out, v[row]);
                    true
                }
                FlatOp::F64(v, _) => {
                    let d = v[row];
                    if d.is_finite() {
                        crate::java::write_double(out, d);
                    }
                    d.is_finite()
                }
                FlatOp::Bool(a, _) => Scalar::Bool(a).write_plain(row, out),
                FlatOp::StrList { offsets, items, .. } => {
                    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                    let item_nulls = items.nulls();
                    out.push(b'[');
                    for j in start..end {
                        if j > start {
                            out.push(b',');
                        }
                        if item_nulls.is_some_and(|n| n.is_null(j)) {
                            out.extend_from_slice(b"null");
                        } else if !crate::json::text::write_inline_view(out, items.views()[j]) {
                            crate::json::text::write_string_inline(out, items.value(j));
                        }
                    }
                    out.push(b']');
                    true
                }
                FlatOp::Other(enc) => {
                    enc.write_common(row, out) || enc.write(cfg, row, out).is_ok()
                }
                FlatOp::Open { .. } | FlatOp::Close => true,
            };
            if !done {
                return false;
            }
        }
        true
    }
}

/// A view array being written: rows go into the current block, views point into it.
struct ViewsOut {
    blocks: Vec<Buffer>,
    data: Vec<u8>,
    views: Vec<u128>,
    nulls: NullBufferBuilder,
    row_start: usize,
    /// Rows the batch has.
    rows: usize,
}

/// A block is closed before view offsets (u32) could overflow.
const BLOCK_LIMIT: usize = 1 << 31;

impl ViewsOut {
    fn new(rows: usize, bytes_hint: usize) -> Self {
        Self {
            blocks: Vec::new(),
            data: Vec::with_capacity(bytes_hint),
            views: Vec::with_capacity(rows),
            nulls: NullBufferBuilder::new(rows),
            row_start: 0,
            rows,
        }
    }

    fn begin_row(&mut self) {
        if self.views.len() == SAMPLE_ROWS {
            self.reserve_by_sample();
        }
        if self.data.len() >= BLOCK_LIMIT {
            let full = std::mem::take(&mut self.data);
            self.blocks.push(Buffer::from_vec(full));
        }
        self.row_start = self.data.len();
    }

    /// Once the first rows are written, makes room for the rest of the batch at their
    /// average size (and an eighth more), so the block is not regrown, and copied, midway.
    #[cold]
    fn reserve_by_sample(&mut self) {
        let rows_left = self.rows.saturating_sub(self.views.len());
        let per_row = self.data.len().div_ceil(SAMPLE_ROWS);
        let wanted = rows_left.saturating_mul(per_row + per_row / 8);
        let room = self.data.capacity() - self.data.len();
        if wanted > room {
            // Exactly: the block becomes the output buffer as it is, capacity and all.
            self.data
                .reserve_exact(wanted.min(BLOCK_LIMIT.saturating_sub(self.data.len())));
        }
    }

    /// Ends the row begun last: its bytes are `data[row_start..]`.
    fn end_row(&mut self) {
        let bytes = &self.data[self.row_start..];
        // The offset fits: blocks are closed at BLOCK_LIMIT, rows start below it.
        let view = make_view(bytes, self.blocks.len() as u32, self.row_start as u32);
        if bytes.len() <= 12 {
            // Short rows live inside the view itself.
            self.data.truncate(self.row_start);
        }
        self.views.push(view);
        self.nulls.append_non_null();
    }

    /// Drops the bytes of the row begun last and makes it null.
    fn null_row(&mut self) {
        self.data.truncate(self.row_start);
        self.views.push(0);
        self.nulls.append_null();
    }

    /// The array of the rows written, with `failures`.
    fn finish(mut self, failures: Vec<RowFailure>) -> (BinaryViewArray, Vec<RowFailure>) {
        if !self.data.is_empty() {
            self.blocks.push(Buffer::from_vec(self.data));
        }
        let views = ScalarBuffer::from(self.views);
        #[allow(unsafe_code)]
        // SAFETY: what `try_new` checks holds by construction (skipping it saves 2% of
        // encode time, `json_schemaless/encode`): every view is null (0), inline (made by
        // `make_view` from at most 12 bytes) or made by `make_view` from the bytes at
        // `row_start..` of the open block, whose index is `blocks.len()` until it is pushed
        // as that element; a block is only closed between rows and rows start below
        // `BLOCK_LIMIT`, so offsets fit u32 and bytes stay where the view says; `nulls` has
        // one entry per view.
        let array = unsafe {
            BinaryViewArray::new_unchecked(views, self.blocks.into(), self.nulls.finish())
        };
        (array, failures)
    }
}

/// Bytes per row to reserve for the first rows, before anything is known about a column; most
/// records of a batch are alike, so those rows then size the block for the rest.
const ROW_BYTES_HINT: usize = 256;

/// Encodes a column as JsonConverter does (`fromConnectData` per row): the envelope with the
/// schema when `schemas.enable`, rows of the exact side table through the reference writer,
/// per-row failures (e.g. a null in a required field) as failed rows.
pub fn encode(
    cfg: &JsonConfig,
    column: &ConnectColumn,
    stage: Stage,
) -> (BinaryViewArray, Vec<RowFailure>) {
    let array = &column.array;
    let rows = array.len();
    // Room for the sample rows only: the rest is sized from them (a grown block is copied
    // whole, used or not).
    let mut out = ViewsOut::new(rows, rows.min(SAMPLE_ROWS) * ROW_BYTES_HINT);
    let mut failures = Vec::new();
    let exact: HashMap<usize, &Value> = column.exact.iter().map(|(r, v)| (*r, v)).collect();
    let mut fail = |row: usize, e: ConnectError, out: &mut ViewsOut| {
        failures.push(RowFailure {
            row,
            stage,
            exception: e.exception,
            message: e.message.unwrap_or_default(),
        });
        out.null_row();
    };
    let Some(schema) = column.schema.as_deref() else {
        // Schemaless: shaped rows from the array (a struct for maps, or the primitive or
        // list column a transformation extracted), others from the exact side table.
        let shaped = matches!(
            array.data_type(),
            DataType::Struct(_)
                | DataType::List(_)
                | DataType::Utf8View
                | DataType::Boolean
                | DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::Float32
                | DataType::Float64
        );
        let enc = Enc::new(array, None);
        let flat = if matches!(array.data_type(), DataType::Struct(_)) {
            FlatEnc::new(array)
        } else {
            None
        };
        for row in 0..rows {
            if !(shaped && array.is_valid(row)) || exact.contains_key(&row) {
                let value = exact.get(&row).copied().unwrap_or(&Value::Null);
                out.begin_row();
                match connect::from_connect_data(cfg, None, value) {
                    Ok(Some(b)) => {
                        out.data.extend_from_slice(&b);
                        out.end_row();
                    }
                    Ok(None) => out.null_row(),
                    Err(e) => fail(row, e, &mut out),
                }
                continue;
            }
            out.begin_row();
            if cfg.schemas_enable {
                out.data.extend_from_slice(b"{\"schema\":null,\"payload\":");
            }
            let value_start = out.data.len();
            if let Some(flat) = &flat {
                if flat.write(cfg, row, &mut out.data) {
                    if cfg.schemas_enable {
                        out.data.push(b'}');
                    }
                    out.end_row();
                    continue;
                }
                // The tree encoder writes the row again, Kafka's special cases and all.
                out.data.truncate(value_start);
            }
            match enc.write(cfg, row, &mut out.data) {
                Ok(()) => {
                    if cfg.schemas_enable {
                        out.data.push(b'}');
                    }
                    out.end_row();
                }
                Err(e) => fail(row, e, &mut out),
            }
        }
        return out.finish(failures);
    };
    let mut prefix = Vec::new();
    if cfg.schemas_enable {
        prefix.extend_from_slice(b"{\"schema\":");
        if let Err(e) = connect::write_json_schema(cfg, schema, &mut prefix) {
            for row in 0..rows {
                out.begin_row();
                fail(row, e.clone(), &mut out);
            }
            return out.finish(failures);
        }
        prefix.extend_from_slice(b",\"payload\":");
    }
    let enc = Enc::new(array, Some(schema));
    for row in 0..rows {
        out.begin_row();
        out.data.extend_from_slice(&prefix);
        let written = match exact.get(&row) {
            Some(v) => connect::write_json(cfg, Some(schema), v, &mut out.data),
            None => enc.write(cfg, row, &mut out.data),
        };
        match written {
            Ok(()) => {
                if cfg.schemas_enable {
                    out.data.push(b'}');
                }
                out.end_row();
            }
            Err(e) => fail(row, e, &mut out),
        }
    }
    out.finish(failures)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, ListArray, StructArray};
    use arrow::datatypes::{Field, Fields};

    use super::*;

    /// Rows the flat writer hands back (NaN and infinities, which Jackson writes as strings)
    /// and nulls at every level come out as Kafka writes the same values.
    #[test]
    fn flat_writer_matches_kafka_for_nulls_and_non_finite_doubles() {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let d: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(f64::NAN),
            None,
            Some(f64::NEG_INFINITY),
        ]));
        let s: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("x"),
            None,
            Some("a \"quoted\" and long enough string"),
            Some(""),
        ]));
        let tags: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1)]),
            None,
            Some(vec![]),
            Some(vec![None, Some(2)]),
        ]));
        let inner_fields = Fields::from(vec![Field::new("s", DataType::Utf8View, true)]);
        let inner: ArrayRef = Arc::new(StructArray::new(
            inner_fields.clone(),
            vec![s.clone()],
            Some(NullBuffer::from(vec![true, false, true, true])),
        ));
        let fields = Fields::from(vec![
            Field::new("d", DataType::Float64, true),
            Field::new("s", DataType::Utf8View, true),
            Field::new("l", tags.data_type().clone(), true),
            Field::new("o", DataType::Struct(inner_fields), true),
        ]);
        let array: ArrayRef = Arc::new(StructArray::new(fields, vec![d, s, tags, inner], None));
        let column = ConnectColumn::new(None, array.clone());
        let (bytes, failures) = encode(&cfg, &column, Stage::ValueConverter);
        assert!(failures.is_empty());
        for row in 0..array.len() {
            let value = crate::model::cells::schemaless_cell(&array, row);
            let expected = connect::from_connect_data(&cfg, None, &value)
                .unwrap()
                .unwrap();
            assert_eq!(
                bytes.value(row),
                expected.as_slice(),
                "row {row}: {}",
                String::from_utf8_lossy(bytes.value(row))
            );
        }
    }
}
