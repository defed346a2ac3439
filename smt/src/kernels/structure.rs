//! Structure kernels: SetSchemaMetadata renames a schema, HoistField wraps a column in a
//! one-field struct, ExtractField takes a (nested) child, ValueToKey builds the key from
//! value children, MaskField replaces children with their type's zero or a replacement.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, StringViewArray, StructArray, new_null_array,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Fields};
use sluice_codecs::ConnectColumn;
use sluice_codecs::model::arrow_map::arrow_field;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::JavaMapInit;

use super::fields::constant_strings;
use super::{hash_ordered, no_default_nulls, rebuild, shaped, typed, typed_column};
use crate::batch::ConnectBatch;
use crate::record::Side;
use crate::transforms::{
    ExtractField, Flatten, HoistField, MaskField, SetSchemaMetadata, ValueToKey,
};
use crate::util::push_field;

pub(super) fn set_schema_metadata(
    t: &SetSchemaMetadata,
    mut b: ConnectBatch,
) -> Option<ConnectBatch> {
    if !t.replace_null_with_default {
        return None;
    }
    let c = b.side(t.side);
    let s = c.schema.as_ref()?;
    if s.schema_type != SchemaType::Struct || !c.exact.is_empty() {
        return None;
    }
    if c.array
        .as_any()
        .downcast_ref::<StructArray>()
        .is_some_and(|st| super::any_default_nulls(s, st, false))
    {
        return None;
    }
    let mut updated = (**s).clone();
    if let Some(n) = &t.name {
        updated.name = Some(n.clone());
    }
    if let Some(v) = t.version {
        updated.version = Some(v);
    }
    let out = ConnectColumn::new(Some(Arc::new(updated)), c.array.clone());
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn hoist_field(t: &HoistField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let c = b.side(t.side);
    if !c.exact.is_empty() {
        return None;
    }
    let out = match &c.schema {
        // A null is hoisted too: `{field: null}`.
        None => {
            let field = Field::new(&t.field, c.array.data_type().clone(), true);
            let st = StructArray::try_new(Fields::from(vec![field]), vec![c.array.clone()], None)
                .ok()?;
            ConnectColumn::new(None, Arc::new(st))
        }
        Some(s) => {
            // A null under a required schema is Kafka's error: per record.
            if !s.optional && c.array.null_count() > 0 {
                return None;
            }
            let mut st = ConnectSchema::new(SchemaType::Struct, false);
            push_field(&mut st, &t.field, s.clone()).ok()?;
            typed_column(st, vec![c.array.clone()])?
        }
    };
    b.set_side(t.side, out);
    Some(b)
}

/// `child` with the rows where `parent` is null made null too.
fn under(parent: Option<&NullBuffer>, child: &ArrayRef) -> Option<ArrayRef> {
    let Some(p) = parent.filter(|p| p.null_count() > 0) else {
        return Some(child.clone());
    };
    if child.data_type() == &DataType::Null {
        return Some(child.clone());
    }
    let nulls = NullBuffer::union(Some(p), child.logical_nulls().as_ref());
    let data = child.to_data().into_builder().nulls(nulls).build().ok()?;
    Some(arrow::array::make_array(data))
}

pub(super) fn extract_field(t: &ExtractField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if !t.replace_null_with_default {
        return None;
    }
    if t.path.steps.iter().all(String::is_empty) && t.path.v2 {
        return None;
    }
    let c = b.side(t.side);
    if !c.exact.is_empty() {
        return None;
    }
    let n = c.len();
    let out = match &c.schema {
        None => {
            let mut cur: ArrayRef = c.array.clone();
            if cur.null_count() == n {
                // Every value null: null out (the per-record path checks nothing else).
                ConnectColumn::new(None, new_null_array(&DataType::Null, n))
            } else {
                for step in &t.path.steps {
                    let DataType::Struct(_) = cur.data_type() else {
                        return None;
                    };
                    let st = cur.as_struct();
                    cur = match st.column_by_name(step) {
                        Some(child) => under(st.nulls(), child)?,
                        // A missing key gives null, as `Map.get`.
                        None => new_null_array(&DataType::Null, n),
                    };
                }
                ConnectColumn::new(None, cur)
            }
        }
        Some(s) => {
            if s.schema_type != SchemaType::Struct {
                return None;
            }
            let DataType::Struct(_) = c.array.data_type() else {
                return None;
            };
            let (mut schema, mut cur) = (s.clone(), c.array.clone());
            for step in &t.path.steps {
                if schema.schema_type != SchemaType::Struct {
                    return None;
                }
                let f = schema.field(step)?.clone();
                let st = cur.as_struct();
                if f.schema.default.is_some() && st.column(f.index).null_count() > 0 {
                    return None;
                }
                cur = under(st.nulls(), st.column(f.index))?;
                schema = f.schema.clone();
            }
            ConnectColumn::new(Some(schema), cur)
        }
    };
    b.set_side(t.side, out);
    Some(b)
}

pub(super) fn value_to_key(t: &ValueToKey, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if !t.replace_null_with_default {
        return None;
    }
    let n = b.num_rows();
    let key = if let Some(st) = shaped(&b.value) {
        if st.null_count() > 0 {
            return None;
        }
        let mut children = Vec::with_capacity(t.fields.len());
        for f in &t.fields {
            if children
                .iter()
                .any(|(name, _): &(String, ArrayRef)| name == f)
            {
                continue;
            }
            let child = st
                .column_by_name(f)
                .cloned()
                .unwrap_or_else(|| new_null_array(&DataType::Null, n));
            children.push((f.clone(), child));
        }
        let (fields, arrays) = hash_ordered(children, JavaMapInit::Capacity(t.fields.len()))?;
        ConnectColumn::new(
            None,
            Arc::new(StructArray::try_new(fields, arrays, None).ok()?),
        )
    } else {
        let (s, st) = typed(&b.value)?;
        let mut ks = ConnectSchema::new(SchemaType::Struct, false);
        let mut children = Vec::with_capacity(t.fields.len());
        for f in &t.fields {
            let fd = s.field(f)?;
            if !no_default_nulls(s, st, fd.index) {
                return None;
            }
            push_field(&mut ks, f, fd.schema.clone()).ok()?;
            children.push(st.column(fd.index).clone());
        }
        typed_column(ks, children)?
    };
    b.set_side(Side::Key, key);
    Some(b)
}

/// A child masked as `MaskField` masks each boxed value of its type (nulls stay null), or
/// `None` for types and replacements the per-record path handles.
fn masked(child: &ArrayRef, replacement: Option<&str>) -> Option<ArrayRef> {
    let n = child.len();
    let nulls = child.logical_nulls();
    let number = |r: &str| -> Option<(i64, f64)> {
        let t = r.trim();
        // Plain integers and decimals only: anything else takes Kafka's parsing per record.
        let d: f64 = t.parse().ok()?;
        if !t
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.'))
        {
            return None;
        }
        let l = t.split('.').next()?.parse::<i64>().ok()?;
        Some((l, d))
    };
    Some(match (child.data_type(), replacement) {
        (DataType::Null, _) => child.clone(),
        (DataType::Boolean, None) => Arc::new(BooleanArray::new(
            arrow::buffer::BooleanBuffer::new_unset(n),
            nulls,
        )),
        (DataType::Utf8View, r) => {
            let base = constant_strings(r.unwrap_or(""), n)?;
            Arc::new(
                StringViewArray::try_new(base.views().clone(), base.data_buffers().to_vec(), nulls)
                    .ok()?,
            )
        }
        (DataType::Int8, r) => Arc::new(Int8Array::new(
            vec![r.map_or(Some(0), |r| number(r).map(|x| x.0))? as i8; n].into(),
            nulls,
        )),
        (DataType::Int16, r) => Arc::new(Int16Array::new(
            vec![r.map_or(Some(0), |r| number(r).map(|x| x.0))? as i16; n].into(),
            nulls,
        )),
        (DataType::Int32, r) => Arc::new(Int32Array::new(
            vec![r.map_or(Some(0), |r| number(r).map(|x| x.0))? as i32; n].into(),
            nulls,
        )),
        (DataType::Int64, r) => Arc::new(Int64Array::new(
            vec![r.map_or(Some(0), |r| number(r).map(|x| x.0))?; n].into(),
            nulls,
        )),
        (DataType::Float32, r) => Arc::new(Float32Array::new(
            vec![r.map_or(Some(0.0), |r| number(r).map(|x| x.1))? as f32; n].into(),
            nulls,
        )),
        (DataType::Float64, r) => Arc::new(Float64Array::new(
            vec![r.map_or(Some(0.0), |r| number(r).map(|x| x.1))?; n].into(),
            nulls,
        )),
        _ => return None,
    })
}

pub(super) fn mask_field(t: &MaskField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if !t.replace_null_with_default {
        return None;
    }
    let c = b.side(t.side).clone();
    let replacement = t.replacement.as_deref();
    let out = if let Some(st) = shaped(&c) {
        if st.null_count() > 0 {
            return None;
        }
        let mut children: Vec<(String, ArrayRef)> = Vec::with_capacity(st.num_columns());
        for (fd, a) in st.fields().iter().zip(st.columns()) {
            let child = if t.fields.iter().any(|f| f == fd.name()) {
                masked(a, replacement)?
            } else {
                a.clone()
            };
            children.push((fd.name().clone(), child));
        }
        // A listed field the map lacks is put as null: another shape, per record.
        if t.fields.iter().any(|f| st.column_by_name(f).is_none()) {
            return None;
        }
        let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
        ConnectColumn::new(None, rebuild(st, fields, arrays)?)
    } else {
        let (s, st) = typed(&c)?;
        let mut children = Vec::with_capacity(s.fields.len());
        for fd in &s.fields {
            if !no_default_nulls(s, st, fd.index) {
                return None;
            }
            let a = st.column(fd.index);
            children.push(if t.fields.contains(&fd.name) {
                if fd.schema.logical().is_some() {
                    return None;
                }
                masked(a, replacement)?
            } else {
                a.clone()
            });
        }
        let fields: Vec<Field> = s
            .fields
            .iter()
            .map(|f| arrow_field(&f.name, &f.schema))
            .collect();
        let array = StructArray::try_new(Fields::from(fields), children, None).ok()?;
        ConnectColumn::new(Some(s.clone()), Arc::new(array))
    };
    b.set_side(t.side, out);
    Some(b)
}

/// Appends the leaves of shaped struct `st` under `prefix` (nested maps flattened, in the
/// order Kafka's `LinkedHashMap` gets them); `None` for a nested null map (Kafka puts the
/// null itself there: another shape) or a name met twice.
fn flatten_shaped(
    t: &Flatten,
    st: &StructArray,
    prefix: &str,
    out: &mut Vec<(String, ArrayRef)>,
) -> Option<()> {
    for (f, a) in st.fields().iter().zip(st.columns()) {
        let name = t.name(prefix, f.name());
        match a.data_type() {
            DataType::Struct(_) => {
                if a.null_count() > 0 {
                    return None;
                }
                flatten_shaped(t, a.as_struct(), &name, out)?;
            }
            _ => {
                if out.iter().any(|(n, _)| *n == name) {
                    return None;
                }
                out.push((name, a.clone()));
            }
        }
    }
    Some(())
}

/// The leaf arrays of typed struct `st` in field order, nulls of a null nested struct
/// carried down to its leaves.
fn flatten_typed(s: &ConnectSchema, st: &StructArray, out: &mut Vec<ArrayRef>) -> Option<()> {
    for f in &s.fields {
        let child = st.column(f.index);
        if f.schema.schema_type == SchemaType::Struct {
            let nested = under(None, child)?;
            let nested = nested.as_struct();
            let mut leaves = Vec::new();
            flatten_typed(&f.schema, nested, &mut leaves)?;
            for leaf in leaves {
                out.push(under(nested.nulls(), &leaf)?);
            }
        } else {
            out.push(child.clone());
        }
    }
    Some(())
}

pub(super) fn flatten(t: &Flatten, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let c = b.side(t.side).clone();
    let out = if let Some(st) = shaped(&c) {
        let mut leaves = Vec::new();
        flatten_shaped(t, st, "", &mut leaves)?;
        let fields: Vec<Field> = leaves
            .iter()
            .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
            .collect();
        let arrays = leaves.into_iter().map(|(_, a)| a).collect();
        // A null value stays null (`requireMapOrNull`).
        ConnectColumn::new(None, rebuild(st, Fields::from(fields), arrays)?)
    } else {
        let (s, st) = typed(&c)?;
        // A null value keeps its schema (Kafka 4.x), and a null field with a default reads
        // the default: such rows run per record.
        if st.null_count() > 0 || super::any_default_nulls(s, st, true) {
            return None;
        }
        let mut ns = crate::util::copy_basics(s);
        ns.optional = false;
        let parent_default = match &s.default {
            Some(sluice_codecs::model::value::Value::Struct(d)) => Some(d.clone()),
            _ => None,
        };
        t.flatten_schema(s, "", &mut ns, s.optional, parent_default.as_ref())
            .ok()?;
        let mut leaves = Vec::new();
        flatten_typed(s, st, &mut leaves)?;
        // A null in a required leaf is Kafka's error: per record.
        if ns
            .fields
            .iter()
            .zip(&leaves)
            .any(|(f, a)| !f.schema.optional && a.null_count() > 0)
        {
            return None;
        }
        typed_column(ns, leaves)?
    };
    b.set_side(t.side, out);
    Some(b)
}
