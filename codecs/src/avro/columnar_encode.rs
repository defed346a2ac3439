//! The fast path of AvroConverter's encode: per Connect schema and the Avro schema written
//! for it, a write plan is compiled once and bound to each batch's Arrow arrays; rows are
//! then written from the columns straight into Avro's binary encoding. A row holding what
//! only the per-record path writes exactly (a null where the schema is required, an exact
//! side-table value, a fixed value of the wrong size) goes that way instead.

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BooleanArray, Decimal128Array, ListArray, MapArray,
    PrimitiveArray, StringViewArray, StructArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, TimestampMillisecondType,
};

use super::binary::{write_bytes, write_long};
use super::data::{AVRO_TYPE_ENUM, AVRO_TYPE_UNION, AvroDataConfig};
use super::schema::{AvroSchema, Kind, NodeId};
use crate::model::schema::{ConnectSchema, SchemaType};

/// How one Connect value is written for its Avro node.
#[derive(Debug, Clone)]
pub(crate) enum WritePlan {
    Int,
    Long,
    Float,
    Double,
    Bool,
    Str,
    Bytes,
    Decimal,
    Fixed(usize),
    /// An enum written from a string column (symbol → index).
    Enum(Vec<String>),
    Record(Vec<WritePlan>),
    /// A Connect optional value: the union index of null and of the value.
    Optional {
        null: i64,
        value: i64,
        inner: Box<WritePlan>,
    },
    /// A Connect union struct: field i is union member `members[i]`; `null` for no field set.
    Union {
        members: Vec<i64>,
        null: Option<i64>,
        plans: Vec<WritePlan>,
    },
    Array(Box<WritePlan>),
    Map(Box<WritePlan>),
}

/// Compiles the plan writing columns of `s` as node `id` of `avro`, or `None`.
pub(crate) fn compile(
    cfg: &AvroDataConfig,
    avro: &AvroSchema,
    s: &ConnectSchema,
) -> Option<WritePlan> {
    if avro.has_recursion() || matches!(avro.root_node().kind, Kind::Bytes) {
        return None;
    }
    plan(cfg, avro, avro.root, s, false)
}

fn plan(
    cfg: &AvroDataConfig,
    avro: &AvroSchema,
    id: NodeId,
    s: &ConnectSchema,
    in_union: bool,
) -> Option<WritePlan> {
    let node = avro.node(id);
    if s.optional && !in_union && s.name.as_deref() != Some(AVRO_TYPE_UNION) {
        // `["null", T]` (or `[T, "null"]` when the schema has a default).
        let Kind::Union(types) = &node.kind else {
            return None;
        };
        if types.len() != 2 {
            return None;
        }
        let null = types
            .iter()
            .position(|t| matches!(avro.node(*t).kind, Kind::Null))?;
        let inner = plan(cfg, avro, types[1 - null], s, true)?;
        return Some(WritePlan::Optional {
            null: null as i64,
            value: (1 - null) as i64,
            inner: Box::new(inner),
        });
    }
    Some(match (s.schema_type, &node.kind) {
        (SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32, Kind::Int) => WritePlan::Int,
        (SchemaType::Int64, Kind::Long) => WritePlan::Long,
        (SchemaType::Float32, Kind::Float) => WritePlan::Float,
        (SchemaType::Float64, Kind::Double) => WritePlan::Double,
        (SchemaType::Boolean, Kind::Boolean) => WritePlan::Bool,
        (SchemaType::String, Kind::String) => WritePlan::Str,
        (SchemaType::String, Kind::Enum { symbols, .. })
            if cfg.enhanced_schema_support && s.parameter(AVRO_TYPE_ENUM).is_some() =>
        {
            WritePlan::Enum(symbols.clone())
        }
        (SchemaType::Bytes, Kind::Bytes) if s.logical().is_some() => WritePlan::Decimal,
        (SchemaType::Bytes, Kind::Bytes) => WritePlan::Bytes,
        (SchemaType::Bytes, Kind::Fixed { size, .. }) if s.logical().is_none() => {
            WritePlan::Fixed(*size)
        }
        (SchemaType::Struct, Kind::Union(types)) if s.name.as_deref() == Some(AVRO_TYPE_UNION) => {
            let null = types
                .iter()
                .position(|t| matches!(avro.node(*t).kind, Kind::Null))
                .map(|n| n as i64);
            let offset = usize::from(null == Some(0));
            if null.is_some_and(|n| n != 0) || types.len() != s.fields.len() + offset {
                return None;
            }
            let mut plans = Vec::with_capacity(s.fields.len());
            let mut members = Vec::with_capacity(s.fields.len());
            for (i, f) in s.fields.iter().enumerate() {
                let mut member = (*f.schema).clone();
                member.optional = false;
                plans.push(plan(cfg, avro, types[i + offset], &member, true)?);
                members.push((i + offset) as i64);
            }
            WritePlan::Union {
                members,
                null,
                plans,
            }
        }
        (SchemaType::Struct, Kind::Record { fields, .. }) => {
            if fields.len() != s.fields.len() || cfg.scrub_invalid_names {
                return None;
            }
            let mut plans = Vec::with_capacity(fields.len());
            for (af, cf) in fields.iter().zip(&s.fields) {
                if af.name != cf.name {
                    return None;
                }
                plans.push(plan(cfg, avro, af.schema, &cf.schema, false)?);
            }
            WritePlan::Record(plans)
        }
        (SchemaType::Array, Kind::Array(items)) => WritePlan::Array(Box::new(plan(
            cfg,
            avro,
            *items,
            s.value.as_deref()?,
            false,
        )?)),
        (SchemaType::Map, Kind::Map(values)) => WritePlan::Map(Box::new(plan(
            cfg,
            avro,
            *values,
            s.value.as_deref()?,
            false,
        )?)),
        _ => return None,
    })
}

/// A plan bound to one batch's arrays.
pub(crate) enum Bound<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    Date(&'a PrimitiveArray<Date32Type>),
    Time(&'a PrimitiveArray<Time32MillisecondType>),
    I64(&'a PrimitiveArray<Int64Type>),
    Ts(&'a PrimitiveArray<TimestampMillisecondType>),
    F32(&'a PrimitiveArray<Float32Type>),
    F64(&'a PrimitiveArray<Float64Type>),
    Bool(&'a BooleanArray),
    Str(&'a StringViewArray),
    Bin(&'a BinaryViewArray),
    Dec(&'a Decimal128Array),
    Fixed(&'a BinaryViewArray, usize),
    Enum(&'a StringViewArray, &'a [String]),
    Record(&'a StructArray, Vec<Bound<'a>>),
    Optional {
        array: &'a dyn Array,
        null: i64,
        value: i64,
        inner: Box<Bound<'a>>,
    },
    Union {
        array: &'a StructArray,
        members: &'a [i64],
        null: Option<i64>,
        fields: Vec<Bound<'a>>,
    },
    List(&'a ListArray, Box<Bound<'a>>),
    Map(&'a MapArray, &'a StringViewArray, Box<Bound<'a>>),
}

/// Binds `plan` to `array` (the column's Arrow layout), or `None` on a layout it does not know.
pub(crate) fn bind<'a>(plan: &'a WritePlan, array: &'a ArrayRef) -> Option<Bound<'a>> {
    bind_dyn(plan, array.as_ref())
}

fn bind_dyn<'a>(plan: &'a WritePlan, a: &'a dyn Array) -> Option<Bound<'a>> {
    Some(match (plan, a.data_type()) {
        (WritePlan::Int, DataType::Int8) => Bound::I8(a.as_primitive()),
        (WritePlan::Int, DataType::Int16) => Bound::I16(a.as_primitive()),
        (WritePlan::Int, DataType::Int32) => Bound::I32(a.as_primitive()),
        (WritePlan::Int, DataType::Date32) => Bound::Date(a.as_primitive()),
        (WritePlan::Int, DataType::Time32(arrow::datatypes::TimeUnit::Millisecond)) => {
            Bound::Time(a.as_primitive())
        }
        (WritePlan::Long, DataType::Int64) => Bound::I64(a.as_primitive()),
        (WritePlan::Long, DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, _)) => {
            Bound::Ts(a.as_primitive())
        }
        (WritePlan::Float, DataType::Float32) => Bound::F32(a.as_primitive()),
        (WritePlan::Double, DataType::Float64) => Bound::F64(a.as_primitive()),
        (WritePlan::Bool, DataType::Boolean) => Bound::Bool(a.as_boolean()),
        (WritePlan::Str, DataType::Utf8View) => Bound::Str(a.as_string_view()),
        (WritePlan::Enum(symbols), DataType::Utf8View) => Bound::Enum(a.as_string_view(), symbols),
        (WritePlan::Bytes, DataType::BinaryView) => Bound::Bin(a.as_binary_view()),
        (WritePlan::Fixed(n), DataType::BinaryView) => Bound::Fixed(a.as_binary_view(), *n),
        (WritePlan::Decimal, DataType::Decimal128(..)) => Bound::Dec(a.as_primitive()),
        (WritePlan::Record(plans), DataType::Struct(_)) => {
            let st = a.as_struct();
            Bound::Record(st, bind_fields(plans, st)?)
        }
        (WritePlan::Optional { null, value, inner }, _) => Bound::Optional {
            array: a,
            null: *null,
            value: *value,
            inner: Box::new(bind_dyn(inner, a)?),
        },
        (
            WritePlan::Union {
                members,
                null,
                plans,
            },
            DataType::Struct(_),
        ) => {
            let st = a.as_struct();
            Bound::Union {
                array: st,
                members,
                null: *null,
                fields: bind_fields(plans, st)?,
            }
        }
        (WritePlan::Array(item), DataType::List(_)) => {
            let l = a.as_list::<i32>();
            Bound::List(l, Box::new(bind_dyn(item, l.values().as_ref())?))
        }
        (WritePlan::Map(value), DataType::Map(..)) => {
            let m = a.as_map();
            if m.keys().data_type() != &DataType::Utf8View {
                return None;
            }
            Bound::Map(
                m,
                m.keys().as_string_view(),
                Box::new(bind_dyn(value, m.values().as_ref())?),
            )
        }
        _ => return None,
    })
}

/// Binds each field's plan to the struct's child column.
fn bind_fields<'a>(plans: &'a [WritePlan], st: &'a StructArray) -> Option<Vec<Bound<'a>>> {
    if st.num_columns() != plans.len() {
        return None;
    }
    plans
        .iter()
        .zip(st.columns())
        .map(|(p, c)| bind_dyn(p, c.as_ref()))
        .collect()
}

/// A row the fast path leaves to the per-record path (which then writes it, or fails it, as
/// Java does).
#[derive(Debug)]
pub(crate) struct PerRecord;

impl Bound<'_> {
    fn is_null(&self, row: usize) -> bool {
        match self {
            Bound::I8(a) => a.is_null(row),
            Bound::I16(a) => a.is_null(row),
            Bound::I32(a) => a.is_null(row),
            Bound::Date(a) => a.is_null(row),
            Bound::Time(a) => a.is_null(row),
            Bound::I64(a) => a.is_null(row),
            Bound::Ts(a) => a.is_null(row),
            Bound::F32(a) => a.is_null(row),
            Bound::F64(a) => a.is_null(row),
            Bound::Bool(a) => a.is_null(row),
            Bound::Str(a) | Bound::Enum(a, _) => a.is_null(row),
            Bound::Bin(a) | Bound::Fixed(a, _) => a.is_null(row),
            Bound::Dec(a) => a.is_null(row),
            Bound::Record(a, _) => a.is_null(row),
            Bound::Optional { array, .. } => array.is_null(row),
            Bound::Union { array, .. } => array.is_null(row),
            Bound::List(a, _) => a.is_null(row),
            Bound::Map(a, ..) => a.is_null(row),
        }
    }

    /// Writes row `row`; a required value that is null, or a value Avro cannot take as is,
    /// leaves the row to the per-record path.
    pub(crate) fn write(&self, row: usize, out: &mut Vec<u8>) -> Result<(), PerRecord> {
        if let Bound::Union { array, null, .. } = self
            && array.is_null(row)
        {
            // A null optional union: its null member.
            write_long(out, null.ok_or(PerRecord)?);
            return Ok(());
        }
        if !matches!(self, Bound::Optional { .. }) && self.is_null(row) {
            return Err(PerRecord);
        }
        match self {
            Bound::I8(a) => write_long(out, i64::from(a.value(row))),
            Bound::I16(a) => write_long(out, i64::from(a.value(row))),
            Bound::I32(a) => write_long(out, i64::from(a.value(row))),
            Bound::Date(a) => write_long(out, i64::from(a.value(row))),
            Bound::Time(a) => {
                let ms = a.value(row);
                if !(0..86_400_000).contains(&ms) {
                    return Err(PerRecord);
                }
                write_long(out, i64::from(ms));
            }
            Bound::I64(a) => write_long(out, a.value(row)),
            Bound::Ts(a) => write_long(out, a.value(row)),
            Bound::F32(a) => out.extend_from_slice(&a.value(row).to_le_bytes()),
            Bound::F64(a) => out.extend_from_slice(&a.value(row).to_le_bytes()),
            Bound::Bool(a) => out.push(u8::from(a.value(row))),
            Bound::Str(a) => write_bytes(out, a.value(row).as_bytes()),
            Bound::Enum(a, symbols) => {
                let s = a.value(row);
                let i = symbols.iter().position(|x| x == s).ok_or(PerRecord)?;
                write_long(out, i as i64);
            }
            Bound::Bin(a) => write_bytes(out, a.value(row)),
            Bound::Fixed(a, n) => {
                let b = a.value(row);
                // Java writes the first `size` bytes; a shorter value fails there.
                out.extend_from_slice(b.get(..*n).ok_or(PerRecord)?);
            }
            Bound::Dec(a) => write_bytes(
                out,
                &crate::json::connect::i128_to_twos_complement(a.value(row)),
            ),
            Bound::Record(_, fields) => {
                for f in fields {
                    f.write(row, out)?;
                }
            }
            Bound::Optional {
                array,
                null,
                value,
                inner,
            } => {
                if array.is_null(row) {
                    write_long(out, *null);
                } else {
                    write_long(out, *value);
                    inner.write(row, out)?;
                }
            }
            Bound::Union {
                members,
                null,
                fields,
                ..
            } => match fields.iter().position(|f| !f.is_null(row)) {
                Some(i) => {
                    write_long(out, members[i]);
                    fields[i].write(row, out)?;
                }
                None => write_long(out, null.ok_or(PerRecord)?),
            },
            Bound::List(l, item) => {
                let offsets = l.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                if end > start {
                    write_long(out, (end - start) as i64);
                    for i in start..end {
                        item.write(i, out)?;
                    }
                }
                out.push(0);
            }
            Bound::Map(m, keys, values) => {
                let offsets = m.value_offsets();
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                if end > start {
                    write_long(out, (end - start) as i64);
                    for i in start..end {
                        write_bytes(out, keys.value(i).as_bytes());
                        values.write(i, out)?;
                    }
                }
                out.push(0);
            }
        }
        Ok(())
    }
}
