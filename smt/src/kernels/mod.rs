//! The chain's batch kernels: each transformation (and predicate) column-wise over a
//! [`ConnectBatch`], on schemaless values in their shaped form (an Arrow struct whose
//! children are in Java `HashMap` order) and on schema'd structs. A kernel answers `None`
//! when the data needs the per-record reference path, which then gives the exact result for
//! that stage and batch only; a kernel is never allowed to differ from it.

mod fields;
mod headers;
mod routing;
mod structure;
mod time;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use sluice_codecs::ConnectColumn;
use sluice_codecs::model::arrow_map::arrow_field;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::{JavaMapInit, Value, java_hash_order};

use crate::batch::ConnectBatch;
use crate::chain::{Chain, ChainStage};
use crate::record::Side;
use crate::transforms::Transform;

impl Chain {
    /// Applies the chain column-wise, or `None` when some stage needs the per-record path
    /// (the pipeline then runs that stage alone per record, see [`crate::pipeline`]).
    pub fn apply_batch(&self, mut batch: ConnectBatch) -> Option<ConnectBatch> {
        for stage in &self.stages {
            batch = stage.apply_kernel(batch)?;
        }
        Some(batch)
    }
}

impl ChainStage {
    /// This stage's batch kernel, or `None` when the stage, its predicate or the data needs
    /// the per-record path.
    pub(crate) fn apply_kernel(&self, batch: ConnectBatch) -> Option<ConnectBatch> {
        match (&self.transform, &self.predicate) {
            (Transform::Filter, predicate) => routing::filter(batch, predicate.as_ref()),
            (t, None) => transform_kernel(t, batch),
            (t, Some((p, negate))) => {
                let applies = routing::predicate_mask(p, &batch)?;
                if applies.iter().all(|m| m != negate) {
                    transform_kernel(t, batch)
                } else if applies.iter().all(|m| m == negate) {
                    Some(batch)
                } else {
                    None
                }
            }
        }
    }

    /// Where this stage's predicate lets the transformation run: (start, len, applies)
    /// stretches of the batch, or `None` without a predicate or when it needs the
    /// per-record path.
    pub(crate) fn predicate_runs(&self, batch: &ConnectBatch) -> Option<Vec<(usize, usize, bool)>> {
        let (p, negate) = self.predicate.as_ref()?;
        if matches!(self.transform, Transform::Filter) {
            return None;
        }
        let mask = routing::predicate_mask(p, batch)?;
        let mut runs: Vec<(usize, usize, bool)> = Vec::new();
        for (i, m) in mask.iter().enumerate() {
            let applies = m != negate;
            match runs.last_mut() {
                Some((_, len, a)) if *a == applies => *len += 1,
                _ => runs.push((i, 1, applies)),
            }
        }
        Some(runs)
    }
}

/// The key or value column a transformation reads, if any.
pub(crate) fn operated_side(t: &Transform) -> Option<Side> {
    Some(match t {
        Transform::ReplaceField(t) => t.side,
        Transform::InsertField(t) => t.side,
        Transform::Cast(t) => t.side,
        Transform::SetSchemaMetadata(t) => t.side,
        Transform::HoistField(t) => t.side,
        Transform::ExtractField(t) => t.side,
        Transform::MaskField(t) => t.side,
        Transform::Flatten(t) => t.side,
        Transform::TimestampConverter(t) => t.side,
        Transform::HeaderFrom(t) => t.side,
        Transform::ValueToKey(_) => Side::Value,
        Transform::Filter
        | Transform::RegexRouter(_)
        | Transform::TimestampRouter(_)
        | Transform::DropHeaders(_)
        | Transform::InsertHeader(_) => return None,
    })
}

/// The kernel of a transformation without its predicate, or `None`.
pub(crate) fn transform_kernel(t: &Transform, batch: ConnectBatch) -> Option<ConnectBatch> {
    match t {
        Transform::ReplaceField(t) if typed(batch.side(t.side)).is_some() => {
            fields::typed_replace_field(t, batch)
        }
        Transform::InsertField(t) if typed(batch.side(t.side)).is_some() => {
            fields::typed_insert_field(t, batch)
        }
        Transform::Cast(t) if typed(batch.side(t.side)).is_some() => fields::typed_cast(t, batch),
        Transform::ReplaceField(t) => fields::replace_field(t, batch),
        Transform::InsertField(t) => fields::insert_field(t, batch),
        Transform::Cast(t) => fields::cast(t, batch),
        Transform::TimestampRouter(t) => routing::timestamp_router(t, batch),
        Transform::RegexRouter(t) => routing::regex_router(t, batch),
        Transform::Filter => routing::filter(batch, None),
        Transform::SetSchemaMetadata(t) => structure::set_schema_metadata(t, batch),
        Transform::HoistField(t) => structure::hoist_field(t, batch),
        Transform::ExtractField(t) => structure::extract_field(t, batch),
        Transform::ValueToKey(t) => structure::value_to_key(t, batch),
        Transform::MaskField(t) => structure::mask_field(t, batch),
        Transform::Flatten(t) => structure::flatten(t, batch),
        Transform::TimestampConverter(t) => time::timestamp_converter(t, batch),
        Transform::DropHeaders(t) => headers::drop_headers(t, batch),
        Transform::InsertHeader(t) => headers::insert_header(t, batch),
        Transform::HeaderFrom(t) => headers::header_from(t, batch),
    }
}

/// A column as a shaped schemaless struct with no exact rows, or `None`.
pub(super) fn shaped(c: &ConnectColumn) -> Option<&StructArray> {
    if c.schema.is_some() || !c.exact.is_empty() {
        return None;
    }
    match c.array.data_type() {
        DataType::Struct(_) => Some(c.array.as_struct()),
        _ => None,
    }
}

/// Reorders (name, child) pairs, given in insertion order, into Java `HashMap` order.
pub(super) fn hash_ordered(
    children: Vec<(String, ArrayRef)>,
    init: JavaMapInit,
) -> Option<(Fields, Vec<ArrayRef>)> {
    let mut seen = std::collections::HashSet::new();
    if !children.iter().all(|(n, _)| seen.insert(n.clone())) {
        return None;
    }
    let entries: Vec<(Value, Value)> = children
        .iter()
        .enumerate()
        .map(|(k, (n, _))| (Value::String(n.clone()), Value::I64(k as i64)))
        .collect();
    let order = java_hash_order(entries, init);
    let mut fields = Vec::with_capacity(children.len());
    let mut arrays = Vec::with_capacity(children.len());
    for (_, k) in order {
        let Value::I64(k) = k else { return None };
        let (name, array) = &children[k as usize];
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array.clone());
    }
    Some((Fields::from(fields), arrays))
}

pub(super) fn rebuild(st: &StructArray, fields: Fields, arrays: Vec<ArrayRef>) -> Option<ArrayRef> {
    StructArray::try_new(fields, arrays, st.nulls().cloned())
        .ok()
        .map(|a| Arc::new(a) as ArrayRef)
}

/// A column as a schema'd struct whose rows all hold a struct (Kafka leaves null
/// values untouched, keeping their old schema, so such batches go per record), or `None`.
pub(super) fn typed(c: &ConnectColumn) -> Option<(&Arc<ConnectSchema>, &StructArray)> {
    let s = c.schema.as_ref()?;
    if s.schema_type != SchemaType::Struct || !c.exact.is_empty() || c.array.null_count() > 0 {
        return None;
    }
    match c.array.data_type() {
        DataType::Struct(_) => Some((s, c.array.as_struct())),
        _ => None,
    }
}

/// `Struct.get` would substitute a field's default for a null: only safe without such nulls.
pub(super) fn no_default_nulls(s: &ConnectSchema, st: &StructArray, index: usize) -> bool {
    s.fields[index].schema.default.is_none() || st.column(index).null_count() == 0
}

/// Whether some field of the struct column, at this level or (with `nested`) in a struct
/// within, has a default and a null: Kafka's `Struct.get` reads the default there, so the
/// kernel leaves such a batch to the per-record path.
pub(super) fn any_default_nulls(s: &ConnectSchema, st: &StructArray, nested: bool) -> bool {
    s.fields.iter().any(|f| {
        let column = st.column(f.index);
        (f.schema.default.is_some() && column.null_count() > 0)
            || (nested
                && f.schema.schema_type == SchemaType::Struct
                && column
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .is_some_and(|inner| any_default_nulls(&f.schema, inner, true)))
    })
}

/// Builds the struct column for `schema` from children in field order.
pub(super) fn typed_column(
    schema: ConnectSchema,
    children: Vec<ArrayRef>,
) -> Option<ConnectColumn> {
    let fields: Vec<Field> = schema
        .fields
        .iter()
        .map(|f| arrow_field(&f.name, &f.schema))
        .collect();
    let array = StructArray::try_new(Fields::from(fields), children, None).ok()?;
    Some(ConnectColumn::new(Some(Arc::new(schema)), Arc::new(array)))
}
