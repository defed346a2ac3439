//! The fast path of AvroConverter's decode: per writer schema (and the Connect schema AvroData
//! derives from it) a read plan is compiled once; rows are then read from Avro's binary
//! encoding straight into the Arrow builders of the Connect schema, with no per-row value
//! tree. A schema the plan cannot read exactly is left to the per-record path.

use super::binary::{ReadError, Reader};
use super::data::{AVRO_TYPE_UNION, AvroDataConfig};
use super::schema::{AvroSchema, Kind, NodeId};
use crate::columnar::col::Col;
use crate::model::schema::{ConnectSchema, SchemaType, logical};

/// How one Avro node is read into its column.
#[derive(Debug, Clone)]
pub(crate) enum Plan {
    Bool,
    /// An `int` into an int8/int16/int32/Date/Time column.
    Int,
    /// A `long` into an int64/Timestamp column.
    Long,
    Float,
    Double,
    Str,
    Bytes,
    /// Bytes or fixed holding a decimal's unscaled two's-complement value.
    Decimal {
        fixed: Option<usize>,
    },
    Fixed(usize),
    Enum(Vec<String>),
    Record(Vec<Plan>),
    /// A two-member union with `null` (an optional Connect schema).
    Optional {
        null_index: i32,
        inner: Box<Plan>,
    },
    /// Any other union: member i → struct field `fields[i]` (None: the null member).
    Union {
        fields: Vec<Option<usize>>,
        plans: Vec<Option<Plan>>,
    },
    Array(Box<Plan>),
    Map(Box<Plan>),
}

/// Compiles the plan of `avro` into columns of `connect`, or `None` when a row could need
/// what only the per-record path does exactly.
pub(crate) fn compile(
    cfg: &AvroDataConfig,
    avro: &AvroSchema,
    connect: &ConnectSchema,
) -> Option<Plan> {
    if cfg.use_logical_type_converters || avro.has_recursion() {
        return None;
    }
    plan(avro, avro.root, connect)
}

/// A decimal column holds values at the schema's own scale.
fn decimal_column(s: &ConnectSchema) -> Option<()> {
    let scale = s.decimal_scale()?;
    matches!(crate::model::arrow_map::arrow_type(s), arrow::datatypes::DataType::Decimal128(_, sc) if i32::from(sc) == scale)
        .then_some(())
}

fn plan(avro: &AvroSchema, id: NodeId, s: &ConnectSchema) -> Option<Plan> {
    let node = avro.node(id);
    Some(match (&node.kind, s.schema_type) {
        (Kind::Boolean, SchemaType::Boolean) => Plan::Bool,
        (Kind::Int, SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32) => Plan::Int,
        (Kind::Long, SchemaType::Int64) => Plan::Long,
        (Kind::Float, SchemaType::Float32) => Plan::Float,
        (Kind::Double, SchemaType::Float64) => Plan::Double,
        (Kind::String, SchemaType::String) => Plan::Str,
        (Kind::Enum { symbols, .. }, SchemaType::String) => Plan::Enum(symbols.clone()),
        (Kind::Bytes, SchemaType::Bytes) if s.logical() == Some(logical::DECIMAL) => {
            decimal_column(s)?;
            Plan::Decimal { fixed: None }
        }
        (Kind::Bytes, SchemaType::Bytes) => Plan::Bytes,
        (Kind::Fixed { size, .. }, SchemaType::Bytes) if s.logical() == Some(logical::DECIMAL) => {
            decimal_column(s)?;
            Plan::Decimal { fixed: Some(*size) }
        }
        (Kind::Fixed { size, .. }, SchemaType::Bytes) => Plan::Fixed(*size),
        (Kind::Record { fields, .. }, SchemaType::Struct)
            if s.name.as_deref() != Some(AVRO_TYPE_UNION) =>
        {
            if fields.len() != s.fields.len() {
                return None;
            }
            let mut plans = Vec::with_capacity(fields.len());
            for (f, cf) in fields.iter().zip(&s.fields) {
                if f.name != cf.name {
                    return None;
                }
                plans.push(plan(avro, f.schema, &cf.schema)?);
            }
            Plan::Record(plans)
        }
        (Kind::Union(types), _)
            if types.len() == 2 && s.name.as_deref() != Some(AVRO_TYPE_UNION) =>
        {
            let null_index = types
                .iter()
                .position(|t| matches!(avro.node(*t).kind, Kind::Null))?;
            let inner = plan(avro, types[1 - null_index], s)?;
            Plan::Optional {
                null_index: null_index as i32,
                inner: Box::new(inner),
            }
        }
        (Kind::Union(types), SchemaType::Struct) => {
            // AvroData matches a union value to the first field of its type: a bytes value of
            // a fixed member's size would land in that fixed field. Such unions go per record.
            let has = |k: fn(&Kind) -> bool| types.iter().any(|t| k(&avro.node(*t).kind));
            if has(|k| matches!(k, Kind::Bytes)) && has(|k| matches!(k, Kind::Fixed { .. })) {
                return None;
            }
            // Members map to the union struct's fields in order, the null member to none.
            let mut fields = Vec::with_capacity(types.len());
            let mut plans = Vec::with_capacity(types.len());
            let mut next = 0;
            for t in types {
                if matches!(avro.node(*t).kind, Kind::Null) {
                    fields.push(None);
                    plans.push(None);
                } else {
                    let f = s.fields.get(next)?;
                    fields.push(Some(next));
                    plans.push(Some(plan(avro, *t, &f.schema)?));
                    next += 1;
                }
            }
            if next != s.fields.len() {
                return None;
            }
            Plan::Union { fields, plans }
        }
        (Kind::Array(items), SchemaType::Array) => {
            Plan::Array(Box::new(plan(avro, *items, s.value.as_deref()?)?))
        }
        (Kind::Map(values), SchemaType::Map) => {
            Plan::Map(Box::new(plan(avro, *values, s.value.as_deref()?)?))
        }
        // Arrays of key/value records (maps with non-string keys) may repeat a typed key,
        // which Java's map keeps once: they go the per-record way.
        _ => return None,
    })
}

/// Why a row left the fast path.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The bytes are not a datum of the schema (the record fails).
    Failed,
    /// The row holds what only the per-record path reads exactly (a duplicate map key, a
    /// decimal outside Arrow's precision).
    PerRecord,
}

impl From<ReadError> for Stop {
    fn from(_: ReadError) -> Self {
        Stop::Failed
    }
}

fn mismatch() -> Stop {
    Stop::Failed
}

/// Reads a decimal's unscaled bytes as an i128 (Java's `new BigInteger(bytes)`), when it fits
/// a Decimal128(38) column.
fn unscaled(b: &[u8]) -> Result<i128, Stop> {
    let v = crate::json::connect::twos_complement_to_i128(b).ok_or(Stop::PerRecord)?;
    if v.unsigned_abs() >= 10u128.pow(38) {
        return Err(Stop::PerRecord);
    }
    Ok(v)
}

impl Plan {
    /// Reads one value into `col`. On an error the caller truncates the column back.
    pub(crate) fn read(&self, r: &mut Reader<'_>, col: &mut Col) -> Result<(), Stop> {
        match (self, col) {
            (Plan::Bool, Col::Bool(b)) => b.append_value(r.byte()? == 1),
            (Plan::Int, Col::I32(b)) => b.append_value(r.int()?),
            (Plan::Int, Col::I8(b)) => b.append_value(r.int()? as i8),
            (Plan::Int, Col::I16(b)) => b.append_value(r.int()? as i16),
            (Plan::Int, Col::Date(b)) => b.append_value(r.int()?),
            (Plan::Int, Col::Time(b)) => b.append_value(r.int()?),
            (Plan::Long, Col::I64(b)) => b.append_value(r.long()?),
            (Plan::Long, Col::Ts(b)) => b.append_value(r.long()?),
            (Plan::Float, Col::F32(b)) => {
                let x = r.take(4)?;
                b.append_value(f32::from_le_bytes([x[0], x[1], x[2], x[3]]));
            }
            (Plan::Double, Col::F64(b)) => {
                let x = r.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(x);
                b.append_value(f64::from_le_bytes(a));
            }
            (Plan::Str, Col::Str(b)) => {
                let bytes = r.bytes()?;
                match std::str::from_utf8(bytes) {
                    Ok(s) => b.append_value(s),
                    Err(_) => b.append_value(&crate::reference::decode_utf8_like_java(bytes)),
                }
            }
            (Plan::Enum(symbols), Col::Str(b)) => {
                let i = r.int()?;
                let s = usize::try_from(i)
                    .ok()
                    .and_then(|i| symbols.get(i))
                    .ok_or_else(|| {
                        ReadError(format!(
                            "Index {i} out of bounds for length {}",
                            symbols.len()
                        ))
                    })?;
                b.append_value(s);
            }
            (Plan::Bytes, Col::Bin(b)) => b.append_value(r.bytes()?),
            (Plan::Fixed(n), Col::Bin(b)) => b.append_value(r.take(*n)?),
            (Plan::Decimal { fixed }, Col::Dec(b, _, _)) => {
                let bytes = match fixed {
                    Some(n) => r.take(*n)?,
                    None => r.bytes()?,
                };
                b.append_value(unscaled(bytes)?);
            }
            (
                Plan::Record(plans),
                Col::Struct {
                    children, nulls, ..
                },
            ) => {
                for (p, c) in plans.iter().zip(children.iter_mut()) {
                    p.read(r, c)?;
                }
                nulls.append_non_null();
            }
            (Plan::Optional { null_index, inner }, col) => {
                let i = r.int()?;
                if i == *null_index {
                    col.append_null();
                } else if i == 1 - null_index {
                    inner.read(r, col)?;
                } else {
                    return Err(Stop::Failed);
                }
            }
            (
                Plan::Union { fields, plans },
                Col::Struct {
                    children, nulls, ..
                },
            ) => {
                let i = r.int()?;
                let Some(member) = usize::try_from(i).ok().filter(|i| *i < fields.len()) else {
                    return Err(Stop::Failed);
                };
                match (fields[member], &plans[member]) {
                    (Some(f), Some(p)) => {
                        for (j, c) in children.iter_mut().enumerate() {
                            if j == f {
                                p.read(r, c)?;
                            } else {
                                c.append_null();
                            }
                        }
                        nulls.append_non_null();
                    }
                    _ => {
                        children.iter_mut().for_each(Col::append_null);
                        nulls.append_null();
                    }
                }
            }
            (
                Plan::Array(item),
                Col::List {
                    offsets,
                    nulls,
                    item: items,
                    ..
                },
            ) => {
                let mut n = 0usize;
                loop {
                    let count = r.block()?;
                    if count == 0 {
                        break;
                    }
                    for _ in 0..count {
                        item.read(r, items)?;
                    }
                    n += count;
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + n as i32);
                nulls.append_non_null();
            }
            (
                Plan::Map(value),
                Col::Map {
                    offsets,
                    nulls,
                    keys,
                    values,
                    ..
                },
            ) => {
                let Col::Str(k) = keys.as_mut() else {
                    return Err(mismatch());
                };
                let mut n = 0usize;
                let mut seen: Vec<&[u8]> = Vec::new();
                loop {
                    let count = r.block()?;
                    if count == 0 {
                        break;
                    }
                    for _ in 0..count {
                        let key = r.bytes()?;
                        // Java's map keeps one entry per key: the per-record path does that.
                        if seen.contains(&key) {
                            return Err(Stop::PerRecord);
                        }
                        seen.push(key);
                        match std::str::from_utf8(key) {
                            Ok(s) => k.append_value(s),
                            Err(_) => k.append_value(&crate::reference::decode_utf8_like_java(key)),
                        }
                        value.read(r, values)?;
                    }
                    n += count;
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + n as i32);
                nulls.append_non_null();
            }
            _ => return Err(mismatch()),
        }
        Ok(())
    }
}
