//! `Col`: a growable Arrow column for one Connect schema (the decoders' and the run
//! builder's target), the schemaless `Shape` a batch's maps share, and the checks that keep
//! a value the column cannot hold exactly out of it.

use std::sync::Arc;

use arrow::array::{ArrayRef, ListArray, MapArray, NullBufferBuilder, StructArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::datatypes::{
    Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, Time32MillisecondType, TimestampMillisecondType,
};

use crate::columnar::builders::{BinCol, BoolCol, PrimCol, StrCol};
use crate::model::arrow_map::arrow_type;
use crate::model::schema::{ConnectSchema, SchemaType, logical};
use crate::model::value::Value;

/// Rows decoded (or encoded) before list and map entries (or the output block) are sized
/// for the rest of the batch from them.
pub(crate) const SAMPLE_ROWS: usize = 64;
/// Room for list and map entries before that.
pub(crate) const SAMPLE_ENTRIES: usize = SAMPLE_ROWS * 4;

/// A builder for one Connect schema (recursively for nested types).
pub(crate) enum Col {
    Bool(BoolCol),
    I8(PrimCol<Int8Type>),
    I16(PrimCol<Int16Type>),
    I32(PrimCol<Int32Type>),
    I64(PrimCol<Int64Type>),
    F32(PrimCol<Float32Type>),
    F64(PrimCol<Float64Type>),
    Str(StrCol),
    Bin(BinCol),
    Date(PrimCol<Date32Type>),
    Time(PrimCol<Time32MillisecondType>),
    Ts(PrimCol<TimestampMillisecondType>),
    /// Values with the column's precision and scale.
    Dec(PrimCol<Decimal128Type>, u8, i8),
    List {
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        item: Box<Col>,
        field: Arc<Field>,
    },
    Map {
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        keys: Box<Col>,
        values: Box<Col>,
        entries: Arc<Field>,
    },
    Struct {
        children: Vec<Col>,
        nulls: NullBufferBuilder,
        fields: Fields,
    },
}

impl Col {
    pub(crate) fn new(s: &ConnectSchema) -> Self {
        match (s.logical(), s.schema_type) {
            (Some(logical::DECIMAL), _) => {
                let DataType::Decimal128(p, sc) = arrow_type(s) else {
                    unreachable!("decimal maps to Decimal128")
                };
                Col::Dec(PrimCol::default(), p, sc)
            }
            (Some(logical::DATE), _) => Col::Date(PrimCol::default()),
            (Some(logical::TIME), _) => Col::Time(PrimCol::default()),
            (Some(logical::TIMESTAMP), _) => Col::Ts(PrimCol::default()),
            (_, SchemaType::Boolean) => Col::Bool(BoolCol::default()),
            (_, SchemaType::Int8) => Col::I8(PrimCol::default()),
            (_, SchemaType::Int16) => Col::I16(PrimCol::default()),
            (_, SchemaType::Int32) => Col::I32(PrimCol::default()),
            (_, SchemaType::Int64) => Col::I64(PrimCol::default()),
            (_, SchemaType::Float32) => Col::F32(PrimCol::default()),
            (_, SchemaType::Float64) => Col::F64(PrimCol::default()),
            (_, SchemaType::String) => Col::Str(StrCol::new()),
            (_, SchemaType::Bytes) => Col::Bin(BinCol::new()),
            (_, SchemaType::Array) => {
                let DataType::List(field) = arrow_type(s) else {
                    unreachable!("array maps to List")
                };
                let item = Box::new(Col::new(
                    s.value
                        .as_deref()
                        .unwrap_or(&ConnectSchema::new(SchemaType::String, true)),
                ));
                Col::List {
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(0),
                    item,
                    field,
                }
            }
            (_, SchemaType::Map) => {
                let DataType::Map(entries, _) = arrow_type(s) else {
                    unreachable!("map maps to Map")
                };
                let keys = Box::new(Col::new(
                    s.key
                        .as_deref()
                        .unwrap_or(&ConnectSchema::new(SchemaType::String, false)),
                ));
                let values = Box::new(Col::new(
                    s.value
                        .as_deref()
                        .unwrap_or(&ConnectSchema::new(SchemaType::String, true)),
                ));
                Col::Map {
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(0),
                    keys,
                    values,
                    entries,
                }
            }
            (_, SchemaType::Struct) => {
                let DataType::Struct(fields) = arrow_type(s) else {
                    unreachable!("struct maps to Struct")
                };
                Col::Struct {
                    children: s.fields.iter().map(|f| Col::new(&f.schema)).collect(),
                    nulls: NullBufferBuilder::new(0),
                    fields,
                }
            }
        }
    }

    /// Makes room for `rows` more values, so builders do not grow value by value through a
    /// batch. List and map entries get room for the first rows only: `reserve_by_sample`
    /// sizes them from those (a grown buffer is copied whole, used or not).
    pub(crate) fn reserve(&mut self, rows: usize) {
        match self {
            Col::Bool(b) => b.reserve(rows),
            Col::I8(b) => b.reserve(rows),
            Col::I16(b) => b.reserve(rows),
            Col::I32(b) => b.reserve(rows),
            Col::I64(b) => b.reserve(rows),
            Col::F32(b) => b.reserve(rows),
            Col::F64(b) => b.reserve(rows),
            Col::Str(b) => b.reserve(rows),
            Col::Bin(b) => b.reserve(rows),
            Col::Date(b) => b.reserve(rows),
            Col::Time(b) => b.reserve(rows),
            Col::Ts(b) => b.reserve(rows),
            Col::Dec(b, ..) => b.reserve(rows),
            Col::List { offsets, item, .. } => {
                offsets.reserve(rows);
                item.reserve(rows.min(SAMPLE_ENTRIES));
            }
            Col::Map {
                offsets,
                keys,
                values,
                ..
            } => {
                offsets.reserve(rows);
                keys.reserve(rows.min(SAMPLE_ENTRIES));
                values.reserve(rows.min(SAMPLE_ENTRIES));
            }
            Col::Struct { children, .. } => children.iter_mut().for_each(|c| c.reserve(rows)),
        }
    }

    /// After `done` rows of a batch of `rows`, makes room for the rest of the list and map
    /// entries at the rate seen so far (and an eighth more).
    pub(crate) fn reserve_by_sample(&mut self, done: usize, rows: usize) {
        let expected = |now: usize| {
            let total = now.saturating_mul(rows) / done.max(1);
            total.saturating_add(total / 8)
        };
        match self {
            Col::List { item, .. } => {
                let now = item.len();
                let total = expected(now);
                item.reserve(total.saturating_sub(now));
                item.reserve_by_sample(now, total);
            }
            Col::Map { keys, values, .. } => {
                let now = keys.len();
                let total = expected(now);
                keys.reserve(total.saturating_sub(now));
                values.reserve(total.saturating_sub(now));
                keys.reserve_by_sample(now, total);
                values.reserve_by_sample(now, total);
            }
            Col::Struct { children, .. } => children
                .iter_mut()
                .for_each(|c| c.reserve_by_sample(done, rows)),
            _ => {}
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Col::Bool(b) => b.len(),
            Col::I8(b) => b.len(),
            Col::I16(b) => b.len(),
            Col::I32(b) => b.len(),
            Col::I64(b) => b.len(),
            Col::F32(b) => b.len(),
            Col::F64(b) => b.len(),
            Col::Str(b) => b.len(),
            Col::Bin(b) => b.len(),
            Col::Date(b) => b.len(),
            Col::Time(b) => b.len(),
            Col::Ts(b) => b.len(),
            Col::Dec(b, ..) => b.len(),
            Col::List { offsets, .. } | Col::Map { offsets, .. } => offsets.len() - 1,
            Col::Struct { nulls, .. } => nulls.len(),
        }
    }

    /// Drops the rows from `len` on, nested values included: a reader that wrote part of a
    /// row takes it back.
    pub(crate) fn truncate(&mut self, len: usize) {
        match self {
            Col::Bool(b) => b.truncate(len),
            Col::I8(b) => b.truncate(len),
            Col::I16(b) => b.truncate(len),
            Col::I32(b) => b.truncate(len),
            Col::I64(b) => b.truncate(len),
            Col::F32(b) => b.truncate(len),
            Col::F64(b) => b.truncate(len),
            Col::Str(b) => b.truncate(len),
            Col::Bin(b) => b.truncate(len),
            Col::Date(b) => b.truncate(len),
            Col::Time(b) => b.truncate(len),
            Col::Ts(b) => b.truncate(len),
            Col::Dec(b, ..) => b.truncate(len),
            Col::List {
                offsets,
                nulls,
                item,
                ..
            } => {
                offsets.truncate(len + 1);
                nulls.truncate(len);
                item.truncate(offsets.last().copied().unwrap_or(0) as usize);
            }
            Col::Map {
                offsets,
                nulls,
                keys,
                values,
                ..
            } => {
                offsets.truncate(len + 1);
                nulls.truncate(len);
                let items = offsets.last().copied().unwrap_or(0) as usize;
                keys.truncate(items);
                values.truncate(items);
            }
            Col::Struct {
                children, nulls, ..
            } => {
                children.iter_mut().for_each(|c| c.truncate(len));
                nulls.truncate(len);
            }
        }
    }

    /// Appends a JSON integer that the fast path checked fits this column.
    pub(crate) fn append_int(&mut self, v: i64) {
        match self {
            Col::I8(b) => b.append_value(v as i8),
            Col::I16(b) => b.append_value(v as i16),
            Col::I32(b) => b.append_value(v as i32),
            Col::I64(b) => b.append_value(v),
            Col::F64(b) => b.append_value(v as f64),
            Col::F32(b) => b.append_value(v as f32),
            Col::Date(b) => b.append_value(v as i32),
            Col::Time(b) => b.append_value(v as i32),
            Col::Ts(b) => b.append_value(v),
            other => other.append_null(),
        }
    }

    pub(crate) fn append_null(&mut self) {
        match self {
            Col::Bool(b) => b.append_null(),
            Col::I8(b) => b.append_null(),
            Col::I16(b) => b.append_null(),
            Col::I32(b) => b.append_null(),
            Col::I64(b) => b.append_null(),
            Col::F32(b) => b.append_null(),
            Col::F64(b) => b.append_null(),
            Col::Str(b) => b.append_null(),
            Col::Bin(b) => b.append_null(),
            Col::Date(b) => b.append_null(),
            Col::Time(b) => b.append_null(),
            Col::Ts(b) => b.append_null(),
            Col::Dec(b, ..) => b.append_null(),
            Col::List { offsets, nulls, .. } | Col::Map { offsets, nulls, .. } => {
                offsets.push(*offsets.last().unwrap_or(&0));
                nulls.append_null();
            }
            Col::Struct {
                children, nulls, ..
            } => {
                children.iter_mut().for_each(Col::append_null);
                nulls.append_null();
            }
        }
    }

    /// Appends a reference-model value that is known to fit the schema.
    pub(crate) fn append_value(&mut self, v: &Value) {
        match (self, v) {
            (c, Value::Null) => c.append_null(),
            (Col::Bool(b), Value::Bool(x)) => b.append_value(*x),
            (Col::I8(b), Value::I8(x)) => b.append_value(*x),
            (Col::I16(b), Value::I16(x)) => b.append_value(*x),
            (Col::I32(b), Value::I32(x)) => b.append_value(*x),
            (Col::I64(b), Value::I64(x)) => b.append_value(*x),
            (Col::F32(b), Value::F32(x)) => b.append_value(*x),
            (Col::F64(b), Value::F64(x)) => b.append_value(*x),
            (Col::Str(b), Value::String(x)) => b.append_value(x),
            (Col::Bin(b), Value::Bytes(x)) => b.append_value(x),
            (Col::Date(b), Value::Date(ms)) => b.append_value((ms.div_euclid(86_400_000)) as i32),
            (Col::Time(b), Value::Date(ms)) => b.append_value(*ms as i32),
            (Col::Ts(b), Value::Date(ms)) => b.append_value(*ms),
            (Col::Dec(b, _, scale), Value::Decimal { unscaled, scale: s }) => {
                // Arrow stores one scale per column: rescale exactly, or store null when the
                // value cannot be represented (the encoder reports such rows).
                match rescale(*unscaled, *s, i32::from(*scale)) {
                    Some(u) => b.append_value(u),
                    None => b.append_null(),
                }
            }
            (
                Col::List {
                    offsets,
                    nulls,
                    item,
                    ..
                },
                Value::Array(items),
            ) => {
                items.iter().for_each(|x| item.append_value(x));
                offsets.push(offsets.last().unwrap_or(&0) + items.len() as i32);
                nulls.append_non_null();
            }
            (
                Col::Map {
                    offsets,
                    nulls,
                    keys,
                    values,
                    ..
                },
                Value::Map(entries),
            ) => {
                for (k, x) in entries {
                    keys.append_value(k);
                    values.append_value(x);
                }
                offsets.push(offsets.last().unwrap_or(&0) + entries.len() as i32);
                nulls.append_non_null();
            }
            (
                Col::Struct {
                    children, nulls, ..
                },
                Value::Struct(st),
            ) => {
                for (c, x) in children.iter_mut().zip(&st.values) {
                    c.append_value(x);
                }
                nulls.append_non_null();
            }
            (c, _) => c.append_null(),
        }
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Bool(b) => Arc::new(b.finish()),
            Col::I8(b) => Arc::new(b.finish()),
            Col::I16(b) => Arc::new(b.finish()),
            Col::I32(b) => Arc::new(b.finish()),
            Col::I64(b) => Arc::new(b.finish()),
            Col::F32(b) => Arc::new(b.finish()),
            Col::F64(b) => Arc::new(b.finish()),
            Col::Str(b) => Arc::new(b.finish()),
            Col::Bin(b) => Arc::new(b.finish()),
            Col::Date(b) => Arc::new(b.finish()),
            Col::Time(b) => Arc::new(b.finish()),
            Col::Ts(b) => Arc::new(b.finish().with_timezone("+00:00")),
            Col::Dec(b, p, s) => {
                let a = b.finish();
                let len = a.len();
                // The schema mapping gives a valid precision and scale; should it not, the
                // values are nulls rather than a panic.
                Arc::new(
                    a.with_precision_and_scale(*p, *s)
                        .unwrap_or_else(|_| arrow::array::Decimal128Array::new_null(len)),
                )
            }
            Col::List {
                offsets,
                nulls,
                item,
                field,
            } => {
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(ListArray::new(
                    field.clone(),
                    offsets,
                    item.finish(),
                    nulls.finish(),
                ))
            }
            Col::Map {
                offsets,
                nulls,
                keys,
                values,
                entries,
            } => {
                let DataType::Struct(fields) = entries.data_type() else {
                    unreachable!("map entries are a struct")
                };
                let entries_array =
                    StructArray::new(fields.clone(), vec![keys.finish(), values.finish()], None);
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                Arc::new(MapArray::new(
                    entries.clone(),
                    offsets,
                    entries_array,
                    nulls.finish(),
                    false,
                ))
            }
            Col::Struct {
                children,
                nulls,
                fields,
            } => {
                let len = nulls.len();
                let arrays: Vec<ArrayRef> = children.iter_mut().map(Col::finish).collect();
                if fields.is_empty() {
                    // A struct with no fields carries its length explicitly.
                    return Arc::new(StructArray::new_empty_fields(len, nulls.finish()));
                }
                Arc::new(StructArray::new(fields.clone(), arrays, nulls.finish()))
            }
        }
    }
}

/// Does `v` hold what its Arrow column cannot represent exactly: a decimal of another scale
/// than the column's, a string with an unpaired surrogate (not UTF-8), or a Date/Time whose
/// milliseconds are no whole day / fit no `Time32`?
pub(crate) fn needs_exact(s: &ConnectSchema, v: &Value) -> bool {
    any_value(s, v, &|s, v| {
        matches!(v, Value::Utf16(_))
            || foreign_scale(s, v)
            || holds_required_null(s, v)
            || foreign_instant(s, v)
    })
}

/// A `java.util.Date` that `Date32` / `Time32` cannot hold: Kafka keeps any millisecond
/// value (a Date truncated at the edge of the `long` range wraps to a time of day, which
/// the output converter then refuses), so it stays exact and fails where Kafka's does.
fn foreign_instant(s: &ConnectSchema, v: &Value) -> bool {
    match (s.logical(), v) {
        (Some(logical::DATE), Value::Date(ms)) => {
            ms.rem_euclid(86_400_000) != 0 || i32::try_from(ms.div_euclid(86_400_000)).is_err()
        }
        (Some(logical::TIME), Value::Date(ms)) => i32::try_from(*ms).is_err(),
        _ => false,
    }
}

/// A null directly inside `v` where its schema is required (an array item, a map key or
/// value, a struct field): Arrow's non-nullable child cannot hold it.
fn holds_required_null(s: &ConnectSchema, v: &Value) -> bool {
    let required = |s: Option<&ConnectSchema>| s.is_some_and(|s| !s.optional);
    match v {
        Value::Array(items) => {
            required(s.value.as_deref()) && items.iter().any(|x| matches!(x, Value::Null))
        }
        Value::Map(entries) => entries.iter().any(|(k, x)| {
            (required(s.key.as_deref()) && matches!(k, Value::Null))
                || (required(s.value.as_deref()) && matches!(x, Value::Null))
        }),
        Value::Struct(st) => s
            .fields
            .iter()
            .zip(&st.values)
            .any(|(f, x)| !f.schema.optional && matches!(x, Value::Null)),
        _ => false,
    }
}

/// Whether `v` holds, anywhere within, a decimal whose scale is not its schema's (Kafka's
/// `Decimal.fromLogical` refuses one: "BigDecimal has mismatching scale value for given
/// Decimal schema").
pub fn decimal_scale_differs(s: &ConnectSchema, v: &Value) -> bool {
    any_value(s, v, &foreign_scale)
}

pub(crate) fn foreign_scale(s: &ConnectSchema, v: &Value) -> bool {
    match v {
        Value::Decimal { unscaled, scale } if s.logical() == Some(logical::DECIMAL) => {
            // Another scale than the schema's, or a value the column's Decimal128 cannot
            // hold (a scale beyond Arrow's range, more than 38 digits): kept exact.
            let column_scale = s.decimal_scale().unwrap_or(0).clamp(-128, 127);
            s.decimal_scale() != Some(*scale)
                || rescale(*unscaled, *scale, column_scale)
                    .is_none_or(|u| u.unsigned_abs() >= 10u128.pow(38))
        }
        _ => false,
    }
}

/// Whether `test` holds for `v` or any value nested in it, each with its own schema.
pub(crate) fn any_value(
    s: &ConnectSchema,
    v: &Value,
    test: &dyn Fn(&ConnectSchema, &Value) -> bool,
) -> bool {
    if test(s, v) {
        return true;
    }
    match v {
        Value::Array(items) => s
            .value
            .as_deref()
            .is_some_and(|is| items.iter().any(|x| any_value(is, x, test))),
        Value::Map(entries) => {
            let (ks, vs) = (s.key.as_deref(), s.value.as_deref());
            entries.iter().any(|(k, x)| {
                ks.is_some_and(|ks| any_value(ks, k, test))
                    || vs.is_some_and(|vs| any_value(vs, x, test))
            })
        }
        Value::Struct(st) => s
            .fields
            .iter()
            .zip(&st.values)
            .any(|(f, x)| any_value(&f.schema, x, test)),
        _ => false,
    }
}

pub(crate) fn rescale(u: i128, from: i32, to: i32) -> Option<i128> {
    if from == to {
        Some(u)
    } else if to > from {
        u.checked_mul(10i128.checked_pow((to - from) as u32)?)
    } else {
        let d = 10i128.checked_pow((from - to) as u32)?;
        (u % d == 0).then(|| u / d)
    }
}

/// The columnar form of schemaless JSON (`schemas.enable=false`): objects whose keys and
/// value kinds repeat across a batch become an Arrow struct (Kafka's Long → Int64, Double →
/// Float64, String, Boolean, List, nested Map → nested struct), children kept in the
/// iteration order of the Java `HashMap` Kafka builds, so encoding writes members in Kafka's
/// order straight from the array. Rows of another shape keep their exact value.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    /// The shape as a Connect schema (all fields optional), children in HashMap order.
    pub(crate) schema: ConnectSchema,
    /// For each position in a conforming row's JSON object, the child index.
    pub(crate) json_order: Vec<usize>,
    pub(crate) nested: Vec<Option<Shape>>,
    /// For each position in a conforming row's JSON object, the bytes that open the member
    /// in compact JSON: `{` or `,`, the key as Jackson spells it, and `:`.
    pub(crate) leads: Vec<Box<[u8]>>,
}
