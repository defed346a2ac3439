//! Field kernels: ReplaceField, InsertField and Cast rebuild a struct column (shaped
//! schemaless or schema'd) from shared child arrays, on the key or the value.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, Int8Array, Int16Array, StringViewArray,
};
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use sluice_codecs::ConnectColumn;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::JavaMapInit;

use super::{hash_ordered, no_default_nulls, rebuild, shaped, typed, typed_column};
use crate::batch::ConnectBatch;
use crate::transforms::{Cast, InsertField, ReplaceField};
use crate::util::{copy_basics, push_field};

pub(super) fn replace_field(t: &ReplaceField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    // `getWithoutDefault` (replace.null.with.default=false) runs per record.
    if !t.replace_null_with_default {
        return None;
    }
    let st = shaped(b.side(t.side))?;
    let keep = |n: &str| {
        !t.exclude.iter().any(|e| e == n)
            && (t.include.is_empty() || t.include.iter().any(|i| i == n))
    };
    let renamed = |n: &str| {
        t.renames
            .iter()
            .find(|(a, _)| a == n)
            .map_or(n.to_string(), |(_, r)| r.clone())
    };
    let children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .filter(|(f, _)| keep(f.name()))
        .map(|(f, a)| (renamed(f.name()), a.clone()))
        .collect();
    let (fields, arrays) = hash_ordered(children, JavaMapInit::Capacity(st.num_columns()))?;
    let out = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn insert_field(t: &InsertField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if !t.replace_null_with_default {
        return None;
    }
    // A source record has no Kafka partition or offset: Kafka's handling is per record.
    if b.source && (t.partition.is_some() || t.offset.is_some()) {
        return None;
    }
    let st = shaped(b.side(t.side))?;
    let n = b.raw.num_rows();
    let mut children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .map(|(f, a)| (f.name().clone(), a.clone()))
        .collect();
    if let Some(f) = &t.topic {
        let topics: StringViewArray = (0..n).map(|i| Some(b.raw.topic(i))).collect();
        children.push((f.name.clone(), Arc::new(topics)));
    }
    if let Some(f) = &t.partition {
        children.push((f.name.clone(), Arc::new(b.raw.partitions().clone())));
    }
    if let Some(f) = &t.offset {
        children.push((f.name.clone(), Arc::new(b.raw.offsets().clone())));
    }
    if let Some(f) = &t.timestamp {
        // A record without a timestamp gets no field: another shape, so the per-record path.
        if b.raw.timestamps().null_count() > 0 {
            return None;
        }
        children.push((f.name.clone(), Arc::new(b.raw.timestamps().clone())));
    }
    if let (Some(f), Some(v)) = (&t.static_field, &t.static_value) {
        children.push((f.name.clone(), Arc::new(constant_strings(v, n)?)));
    }
    let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
    let out = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    b.set_side(t.side, out);
    Some(b)
}

/// `n` rows of `v`: the value stored once, its view repeated.
pub(super) fn constant_strings(v: &str, n: usize) -> Option<StringViewArray> {
    let one = StringViewArray::from_iter_values([v]);
    let views = arrow::buffer::ScalarBuffer::from(vec![one.views()[0]; n]);
    StringViewArray::try_new(views, one.data_buffers().to_vec(), None).ok()
}

/// Casts one shaped child the way `Cast.castValueToType` casts its Java boxed values.
fn cast_child(a: &ArrayRef, to: SchemaType) -> Option<ArrayRef> {
    if let Some(out) = cast_to_text_or_flag(a, to) {
        return Some(out);
    }
    // Narrower integers widen exactly first (Java widens the boxed value the same way).
    let widened;
    let a = match a.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => {
            widened = arrow::compute::cast(a, &DataType::Int64).ok()?;
            &widened
        }
        _ => a,
    };
    let out: ArrayRef = match (a.data_type(), to) {
        (DataType::Float64, SchemaType::Float32) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, arrow::datatypes::Float32Type>(|d| d as f32),
        ),
        (DataType::Float64, SchemaType::Float64) | (DataType::Int64, SchemaType::Int64) => {
            a.clone()
        }
        // Double.longValue()/intValue() saturate; byte and short narrow from the int.
        (DataType::Float64, SchemaType::Int64) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Int64Type>(|d| d as i64),
        ),
        (DataType::Float64, SchemaType::Int32) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Int32Type>(|d| d as i32),
        ),
        (DataType::Int64, SchemaType::Int32) => Arc::new(
            a.as_primitive::<Int64Type>()
                .unary::<_, Int32Type>(|v| v as i32),
        ),
        (DataType::Int64, SchemaType::Int16) => Arc::new(Int16Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as i16)),
        )),
        (DataType::Int64, SchemaType::Int8) => Arc::new(Int8Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as i8)),
        )),
        (DataType::Int64, SchemaType::Float64) => Arc::new(
            a.as_primitive::<Int64Type>()
                .unary::<_, Float64Type>(|v| v as f64),
        ),
        (DataType::Int64, SchemaType::Float32) => Arc::new(Float32Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as f32)),
        )),
        _ => return None,
    };
    Some(out)
}

/// Casts to STRING and BOOLEAN, and from BOOLEAN, as `Cast.castValueToType` does: a number's
/// Java `toString` (`Double.toString` for doubles), `longValue() != 0`, 1 or 0.
fn cast_to_text_or_flag(a: &ArrayRef, to: SchemaType) -> Option<ArrayRef> {
    let nulls = a.logical_nulls();
    let n = a.len();
    let long = |i: usize| -> Option<i64> {
        Some(match a.data_type() {
            DataType::Int8 => i64::from(a.as_primitive::<arrow::datatypes::Int8Type>().value(i)),
            DataType::Int16 => i64::from(a.as_primitive::<arrow::datatypes::Int16Type>().value(i)),
            DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(i)),
            DataType::Int64 => a.as_primitive::<Int64Type>().value(i),
            // `longValue()` of a double saturates, NaN is 0: Rust's `as` does the same.
            DataType::Float64 => a.as_primitive::<Float64Type>().value(i) as i64,
            DataType::Float32 => a.as_primitive::<arrow::datatypes::Float32Type>().value(i) as i64,
            _ => return None,
        })
    };
    match (a.data_type(), to) {
        (DataType::Utf8View, SchemaType::String) | (DataType::Boolean, SchemaType::Boolean) => {
            Some(a.clone())
        }
        (DataType::Boolean, SchemaType::String) => {
            let flags = a.as_boolean();
            let mut out = arrow::array::StringViewBuilder::with_capacity(n);
            for i in 0..n {
                if flags.is_valid(i) {
                    out.append_value(if flags.value(i) { "true" } else { "false" });
                } else {
                    out.append_null();
                }
            }
            Some(Arc::new(out.finish()))
        }
        (
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64,
            SchemaType::String,
        ) => {
            let mut out = arrow::array::StringViewBuilder::with_capacity(n);
            let mut text = Vec::with_capacity(24);
            for i in 0..n {
                if !a.is_valid(i) {
                    out.append_null();
                    continue;
                }
                text.clear();
                match a.data_type() {
                    DataType::Float64 => sluice_codecs::java::write_double(
                        &mut text,
                        a.as_primitive::<Float64Type>().value(i),
                    ),
                    DataType::Float32 => sluice_codecs::java::write_float(
                        &mut text,
                        a.as_primitive::<arrow::datatypes::Float32Type>().value(i),
                    ),
                    _ => text.extend_from_slice(itoa::Buffer::new().format(long(i)?).as_bytes()),
                }
                out.append_value(std::str::from_utf8(&text).ok()?);
            }
            Some(Arc::new(out.finish()))
        }
        (
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64,
            SchemaType::Boolean,
        ) => {
            let mut values = arrow::array::BooleanBufferBuilder::new(n);
            for i in 0..n {
                values.append(a.is_valid(i) && long(i)? != 0);
            }
            Some(Arc::new(arrow::array::BooleanArray::new(
                values.finish(),
                nulls,
            )))
        }
        (DataType::Boolean, t) => {
            let flags = a.as_boolean();
            let one = |i: usize| i64::from(flags.value(i));
            Some(match t {
                SchemaType::Int8 => Arc::new(Int8Array::new(
                    (0..n).map(|i| one(i) as i8).collect(),
                    nulls,
                )),
                SchemaType::Int16 => Arc::new(Int16Array::new(
                    (0..n).map(|i| one(i) as i16).collect(),
                    nulls,
                )),
                SchemaType::Int32 => Arc::new(arrow::array::Int32Array::new(
                    (0..n).map(|i| one(i) as i32).collect(),
                    nulls,
                )),
                SchemaType::Int64 => Arc::new(arrow::array::Int64Array::new(
                    (0..n).map(one).collect(),
                    nulls,
                )),
                SchemaType::Float32 => Arc::new(Float32Array::new(
                    (0..n).map(|i| one(i) as f32).collect(),
                    nulls,
                )),
                SchemaType::Float64 => Arc::new(arrow::array::Float64Array::new(
                    (0..n).map(|i| one(i) as f64).collect(),
                    nulls,
                )),
                _ => return None,
            })
        }
        _ => None,
    }
}

pub(super) fn cast(t: &Cast, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.whole.is_some() {
        return None;
    }
    let st = shaped(b.side(t.side))?;
    let mut children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .map(|(f, a)| (f.name().clone(), a.clone()))
        .collect();
    for (field, to) in &t.casts {
        // Kafka puts the (null) cast of an absent field: another shape, so per record.
        let slot = children.iter_mut().find(|(n, _)| n == field)?;
        slot.1 = cast_child(&slot.1, *to)?;
    }
    let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
    let out = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn typed_replace_field(t: &ReplaceField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let (s, st) = typed(b.side(t.side))?;
    let keep = |n: &str| {
        !t.exclude.iter().any(|e| e == n)
            && (t.include.is_empty() || t.include.iter().any(|i| i == n))
    };
    let renamed = |n: &str| {
        t.renames
            .iter()
            .find(|(a, _)| a == n)
            .map_or(n.to_string(), |(_, r)| r.clone())
    };
    let mut schema = copy_basics(s);
    schema.optional = false;
    let mut children = Vec::new();
    if !t.replace_null_with_default {
        return None;
    }
    for f in s.fields.iter().filter(|f| keep(&f.name)) {
        if !no_default_nulls(s, st, f.index) {
            return None;
        }
        // Kafka fills an output field from the field its name renames back to; when that
        // is not this field (a rename onto a kept name), the per-record path says why.
        let name = renamed(&f.name);
        let back = t
            .renames
            .iter()
            .find(|(_, to)| *to == name)
            .map_or(name.as_str(), |(from, _)| from.as_str());
        if back != f.name {
            return None;
        }
        // Duplicate or empty names are Kafka errors: the per-record path reports them.
        push_field(&mut schema, &name, f.schema.clone()).ok()?;
        children.push(st.column(f.index).clone());
    }
    let out = typed_column(schema, children)?;
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn typed_insert_field(t: &InsertField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    // A source record has no Kafka partition or offset: Kafka's handling is per record.
    if b.source && (t.partition.is_some() || t.offset.is_some()) {
        return None;
    }
    let (s, st) = typed(b.side(t.side))?;
    let n = b.raw.num_rows();
    let mut schema = copy_basics(s);
    schema.optional = false;
    let mut children = Vec::new();
    for f in &s.fields {
        if !no_default_nulls(s, st, f.index) {
            return None;
        }
        push_field(&mut schema, &f.name, f.schema.clone()).ok()?;
        children.push(st.column(f.index).clone());
    }
    let string = |optional: bool| Arc::new(ConnectSchema::new(SchemaType::String, optional));
    if let Some(f) = &t.topic {
        push_field(&mut schema, &f.name, string(f.optional)).ok()?;
        children.push(Arc::new(
            (0..n)
                .map(|i| Some(b.raw.topic(i)))
                .collect::<StringViewArray>(),
        ));
    }
    if let Some(f) = &t.partition {
        push_field(
            &mut schema,
            &f.name,
            Arc::new(ConnectSchema::new(SchemaType::Int32, f.optional)),
        )
        .ok()?;
        children.push(Arc::new(b.raw.partitions().clone()));
    }
    if let Some(f) = &t.offset {
        push_field(
            &mut schema,
            &f.name,
            Arc::new(ConnectSchema::new(SchemaType::Int64, f.optional)),
        )
        .ok()?;
        children.push(Arc::new(b.raw.offsets().clone()));
    }
    if let Some(f) = &t.timestamp {
        let ts = b.raw.timestamps();
        if !f.optional && ts.null_count() > 0 {
            return None;
        }
        let mut ts_schema = ConnectSchema::new(SchemaType::Int64, f.optional);
        ts_schema.name = Some(sluice_codecs::model::schema::logical::TIMESTAMP.into());
        ts_schema.version = Some(1);
        push_field(&mut schema, &f.name, Arc::new(ts_schema)).ok()?;
        let millis =
            arrow::array::TimestampMillisecondArray::new(ts.values().clone(), ts.nulls().cloned())
                .with_timezone("+00:00");
        children.push(Arc::new(millis));
    }
    if let Some(f) = &t.static_field {
        push_field(&mut schema, &f.name, string(f.optional)).ok()?;
        match &t.static_value {
            Some(v) => children.push(Arc::new(
                std::iter::repeat_n(Some(v.as_str()), n).collect::<StringViewArray>(),
            )),
            None if f.optional => children.push(Arc::new(
                std::iter::repeat_n(None::<&str>, n).collect::<StringViewArray>(),
            )),
            None => return None,
        }
    }
    let out = typed_column(schema, children)?;
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn typed_cast(t: &Cast, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.whole.is_some() {
        return None;
    }
    let (s, st) = typed(b.side(t.side))?;
    let schema = t.build_schema(s).ok()?;
    let mut children = Vec::with_capacity(s.fields.len());
    for f in &s.fields {
        let child = st.column(f.index).clone();
        match t.casts.iter().find(|(name, _)| *name == f.name) {
            None => {
                if !no_default_nulls(s, st, f.index) {
                    return None;
                }
                children.push(child);
            }
            Some((_, to)) => {
                if f.schema.logical().is_some() || f.schema.default.is_some() {
                    return None;
                }
                children.push(cast_child(&child, *to)?);
            }
        }
    }
    let out = typed_column(schema, children)?;
    b.set_side(t.side, out);
    Some(b)
}
