//! Header kernels on the batch's header columns: DropHeaders removes keys, InsertHeader adds
//! one constant column, HeaderFrom adds the named key or value fields as columns (and, to
//! move them, drops the fields).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, UInt32Array, new_null_array};
use arrow::datatypes::DataType;
use sluice_codecs::ConnectColumn;
use sluice_codecs::columnar::runs::RunsBuilder;
use sluice_codecs::model::value::JavaMapInit;

use super::{
    fields::constant_strings, hash_ordered, no_default_nulls, rebuild, shaped, typed, typed_column,
};
use crate::batch::ConnectBatch;
use crate::header_rows::HeaderColumn;
use crate::transforms::{DropHeaders, HeaderFrom, InsertHeader};
use crate::util::{copy_basics, push_field};

pub(super) fn drop_headers(t: &DropHeaders, mut b: ConnectBatch) -> Option<ConnectBatch> {
    b.headers = b.headers.drop_keys(&t.headers);
    Some(b)
}

/// `n` rows of one Connect value: built once, repeated by index.
fn constant(
    schema: Option<Arc<sluice_codecs::ConnectSchema>>,
    value: &sluice_codecs::model::value::Value,
    n: usize,
) -> Option<ConnectColumn> {
    if let sluice_codecs::model::value::Value::String(s) = value
        && schema
            .as_deref()
            .is_some_and(|s| s.schema_type == sluice_codecs::SchemaType::String)
    {
        return Some(ConnectColumn::new(
            schema,
            Arc::new(constant_strings(s, n)?),
        ));
    }
    let mut one = RunsBuilder::with_capacity(1);
    one.push(schema, value.clone());
    let run = one.finish().pop()?;
    if !run.column.exact.is_empty() {
        return None;
    }
    let picks = UInt32Array::from(vec![0u32; n]);
    let array = arrow::compute::take(&run.column.array, &picks, None).ok()?;
    Some(ConnectColumn::new(run.column.schema, array))
}

pub(super) fn insert_header(t: &InsertHeader, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let values = constant(t.schema.clone(), &t.value, b.num_rows())?;
    b.headers.push_column(HeaderColumn {
        key: t.header.clone(),
        values,
    });
    Some(b)
}

pub(super) fn header_from(t: &HeaderFrom, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let n = b.num_rows();
    let column = b.side(t.side).clone();
    let mut added = Vec::with_capacity(t.fields.len());
    if let Some(st) = shaped(&column) {
        // Schemaless: `require_map` fails a null value, the per-record path reports it.
        if st.null_count() > 0 {
            return None;
        }
        for (f, h) in t.fields.iter().zip(&t.headers) {
            let child: ArrayRef = st
                .column_by_name(f)
                .cloned()
                .unwrap_or_else(|| new_null_array(&DataType::Null, n));
            added.push(HeaderColumn {
                key: h.clone(),
                values: ConnectColumn::new(None, child),
            });
        }
        // Kafka returns `new HashMap<>(value)` for copy and move alike: its table is sized
        // for the copied map, which reorders members.
        let children: Vec<(String, ArrayRef)> = st
            .fields()
            .iter()
            .zip(st.columns())
            .filter(|(fd, _)| !t.moving || !t.fields.iter().any(|f| f == fd.name()))
            .map(|(fd, a)| (fd.name().clone(), a.clone()))
            .collect();
        let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
        b.set_side(
            t.side,
            ConnectColumn::new(None, rebuild(st, fields, arrays)?),
        );
    } else {
        let (s, st) = typed(&column)?;
        for (f, h) in t.fields.iter().zip(&t.headers) {
            // A missing field is Kafka's NullPointerException: the per-record path has it.
            let fd = s.field(f)?;
            if t.replace_null_with_default && !no_default_nulls(s, st, fd.index) {
                return None;
            }
            added.push(HeaderColumn {
                key: h.clone(),
                values: ConnectColumn::new(Some(fd.schema.clone()), st.column(fd.index).clone()),
            });
        }
        if t.moving {
            let mut schema = copy_basics(s);
            schema.optional = false;
            let mut children = Vec::new();
            for fd in s.fields.iter().filter(|fd| !t.fields.contains(&fd.name)) {
                if t.replace_null_with_default && !no_default_nulls(s, st, fd.index) {
                    return None;
                }
                push_field(&mut schema, &fd.name, fd.schema.clone()).ok()?;
                children.push(st.column(fd.index).clone());
            }
            b.set_side(t.side, typed_column(schema, children)?);
        }
    }
    for c in added {
        b.headers.push_column(c);
    }
    Some(b)
}
