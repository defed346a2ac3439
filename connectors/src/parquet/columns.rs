//! Sink values as Parquet-ready Arrow columns. A struct-shaped value column (JsonConverter
//! envelopes, and schemaless JSON whose records share a shape) is used as it is: its fields
//! become the file's columns, no copy. Other schemaless values are typed by inference, widened
//! across records (int64 + float64 → float64; any other conflict → the JSON text as string),
//! and the file's batches are widened to one schema when the file is written.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int64Builder, ListArray, NullArray,
    RecordBatch, RecordBatchOptions, StringBuilder, StructArray, UInt32Array, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use sluice_codecs::ConnectColumn;
use sluice_codecs::model::value::Value;

pub use super::column_error::ColumnError;

/// The rows of `value` as a batch of columns. With `share`, rows that are one run of the batch
/// are a zero-copy slice of it (a partition's records mostly arrive as one run); otherwise they
/// are gathered into buffers of their own, so a small chunk does not keep the batch alive.
pub fn value_batch(
    value: &ConnectColumn,
    rows: &[u32],
    share: bool,
) -> Result<RecordBatch, ColumnError> {
    let contiguous = share
        && rows
            .first()
            .is_some_and(|&first| rows.iter().zip(first..).all(|(&r, want)| r == want));
    let pick = |array: &ArrayRef| -> Result<ArrayRef, ColumnError> {
        if contiguous {
            Ok(array.slice(rows[0] as usize, rows.len()))
        } else {
            let indices = UInt32Array::from(rows.to_vec());
            arrow::compute::take(array.as_ref(), &indices, None).map_err(ColumnError::from)
        }
    };
    // Rows kept in the exact side table are not in the typed array; a chunk without any
    // (the sink reports schema'd ones as errant) is taken from the array alone.
    let typed = value.exact.is_empty()
        || rows
            .iter()
            .all(|&r| value.exact_value(r as usize).is_none());
    if typed && let DataType::Struct(_) = value.array.data_type() {
        let taken = pick(&value.array)?;
        let whole = Arc::new(Field::new("value", taken.data_type().clone(), true));
        let (_, taken) = super::types::conform(&whole, &taken)?;
        let s = taken.as_struct();
        let schema = Arc::new(Schema::new(s.fields().clone()));
        return RecordBatch::try_new_with_options(
            schema,
            s.columns().to_vec(),
            &RecordBatchOptions::new().with_row_count(Some(rows.len())),
        )
        .map_err(ColumnError::from);
    }
    // A value with a schema that is not a struct (a number, a decimal, a list, ...) is one
    // column `value` of its own type: its schema says what it is, nothing is inferred.
    if typed
        && let Some(schema) = &value.schema
        && value.array.data_type() != &DataType::Null
    {
        let taken = pick(&value.array)?;
        let field = Arc::new(
            sluice_codecs::model::arrow_map::arrow_field("value", schema).with_nullable(true),
        );
        let (field, column) = super::types::conform(&field, &taken)?;
        return RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![column])
            .map_err(ColumnError::from);
    }
    // Bytes and strings (ByteArrayConverter, StringConverter) are one column `value`, as
    // inference would name it, taken without a trip through per-record values.
    if value.exact.is_empty()
        && matches!(
            value.array.data_type(),
            DataType::Binary | DataType::BinaryView | DataType::Utf8 | DataType::Utf8View
        )
    {
        let taken = pick(&value.array)?;
        let schema = Arc::new(Schema::new(vec![Field::new(
            "value",
            taken.data_type().clone(),
            true,
        )]));
        return RecordBatch::try_new(schema, vec![taken]).map_err(ColumnError::from);
    }
    // Schemaless values of mixed shape: the typed rows keep their arrays (cast to the type
    // inferred over the chunk); only the rows in the exact side table are read as values.
    let typed = pick(&value.array)?;
    let exact: Vec<(usize, &Value)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, &r)| value.exact_value(r as usize).map(|v| (i, v)))
        .collect();
    let ty = exact
        .iter()
        .map(|(_, v)| type_of(v))
        .fold(type_of_array(typed.data_type()), widen);
    let mut column = to_ty(&ty, &typed)?;
    if !exact.is_empty() {
        let refs: Vec<Option<&Value>> = exact.iter().map(|(_, v)| Some(*v)).collect();
        let side = build(&ty, &refs);
        let mut from_side = exact.iter().map(|(i, _)| *i).enumerate().peekable();
        let indices: Vec<(usize, usize)> = (0..rows.len())
            .map(|i| match from_side.next_if(|(_, at)| *at == i) {
                Some((j, _)) => (1, j),
                None => (0, i),
            })
            .collect();
        column = arrow::compute::interleave(&[column.as_ref(), side.as_ref()], &indices)
            .map_err(ColumnError::from)?;
    }
    split_columns(&ty, column, rows.len())
}

/// The inferred type of an array's cells (a shaped schemaless column, or a typed one).
fn type_of_array(t: &DataType) -> Ty {
    match t {
        DataType::Null => Ty::Null,
        DataType::Boolean => Ty::Bool,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Ty::Int,
        DataType::Float32 | DataType::Float64 => Ty::Float,
        DataType::List(item) => Ty::List(Box::new(type_of_array(item.data_type()))),
        DataType::Struct(fields) => Ty::Struct(
            fields
                .iter()
                .map(|f| (f.name().clone(), type_of_array(f.data_type())))
                .collect(),
        ),
        _ => Ty::Str,
    }
}

/// `a` as a column of type `t` (`t` is `a`'s own inferred type widened by other rows'):
/// numbers cast, structs given the members other rows have (null here), and cells of any
/// other type than a string written as their text where `t` says string.
fn to_ty(t: &Ty, a: &ArrayRef) -> Result<ArrayRef, ColumnError> {
    let target = arrow_type(t);
    if a.data_type() == &DataType::Null {
        return Ok(new_null_array(&target, a.len()));
    }
    let mismatch = || ColumnError::Widen {
        from: a.data_type().clone(),
        to: target.clone(),
    };
    Ok(match t {
        Ty::Null => Arc::new(NullArray::new(a.len())),
        Ty::Bool | Ty::Int | Ty::Float => {
            arrow::compute::cast(a, &target).map_err(ColumnError::from)?
        }
        Ty::Str => match a.data_type() {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => {
                arrow::compute::cast(a, &target).map_err(ColumnError::from)?
            }
            _ => {
                // A cell whose type conflicts with other rows' is written as its text, as
                // a value read from it would be; only these cells are read one by one.
                let mut b = StringBuilder::with_capacity(a.len(), a.len() * 16);
                for row in 0..a.len() {
                    match sluice_codecs::model::cells::schemaless_cell(a, row) {
                        Value::Null => b.append_null(),
                        v => b.append_value(json_text(&v)),
                    }
                }
                Arc::new(b.finish())
            }
        },
        Ty::List(item) => {
            let DataType::List(_) = a.data_type() else {
                return Err(mismatch());
            };
            let l = a.as_list::<i32>();
            Arc::new(ListArray::new(
                Arc::new(Field::new("element", arrow_type(item), true)),
                l.offsets().clone(),
                to_ty(item, l.values())?,
                l.nulls().cloned(),
            ))
        }
        Ty::Struct(fields) => {
            let DataType::Struct(_) = a.data_type() else {
                return Err(mismatch());
            };
            let s = a.as_struct();
            if fields.is_empty() {
                return Ok(Arc::new(StructArray::new_empty_fields(
                    a.len(),
                    s.nulls().cloned(),
                )));
            }
            let children = fields
                .iter()
                .map(|(name, t)| match s.column_by_name(name) {
                    Some(child) => to_ty(t, child),
                    None => Ok(new_null_array(&arrow_type(t), a.len())),
                })
                .collect::<Result<Vec<_>, ColumnError>>()?;
            Arc::new(StructArray::new(
                struct_fields(fields),
                children,
                s.nulls().cloned(),
            ))
        }
    })
}

/// A column of inferred type `ty` as a file's batch: a struct's members are its columns,
/// anything else is one column `value`.
fn split_columns(ty: &Ty, column: ArrayRef, rows: usize) -> Result<RecordBatch, ColumnError> {
    let (fields, columns): (Vec<Field>, Vec<ArrayRef>) = match ty {
        Ty::Struct(fields) => (
            fields
                .iter()
                .map(|(k, t)| Field::new(k, arrow_type(t), true))
                .collect(),
            column.as_struct().columns().to_vec(),
        ),
        other => (
            vec![Field::new("value", arrow_type(other), true)],
            vec![column],
        ),
    };
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(ColumnError::from)
}

/// `batch` with its string and binary views copied out of buffers it shares with others:
/// a small chunk of a fetched batch (one of many partitions' files) would otherwise keep the
/// whole fetched input alive until every file holding a piece of it is committed.
pub fn compact(batch: &RecordBatch) -> Result<RecordBatch, ColumnError> {
    fn column(a: &ArrayRef) -> ArrayRef {
        match a.data_type() {
            DataType::Utf8View => Arc::new(a.as_string_view().gc()),
            DataType::BinaryView => Arc::new(a.as_binary_view().gc()),
            DataType::Struct(fields) => {
                let s = a.as_struct();
                let children = s.columns().iter().map(column).collect();
                Arc::new(StructArray::new(
                    fields.clone(),
                    children,
                    s.nulls().cloned(),
                ))
            }
            DataType::List(field) => {
                let l = a.as_list::<i32>();
                Arc::new(ListArray::new(
                    field.clone(),
                    l.offsets().clone(),
                    column(l.values()),
                    l.nulls().cloned(),
                ))
            }
            _ => a.clone(),
        }
    }
    let columns = batch.columns().iter().map(column).collect();
    RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(ColumnError::from)
}

/// An inferred column type.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Null,
    Bool,
    Int,
    Float,
    Str,
    List(Box<Ty>),
    Struct(BTreeMap<String, Ty>),
}

fn widen(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Null, t) | (t, Ty::Null) => t,
        (a, b) if a == b => a,
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
        (Ty::List(a), Ty::List(b)) => Ty::List(Box::new(widen(*a, *b))),
        (Ty::Struct(mut a), Ty::Struct(b)) => {
            for (k, t) in b {
                let merged = match a.remove(&k) {
                    Some(old) => widen(old, t),
                    None => t,
                };
                a.insert(k, merged);
            }
            Ty::Struct(a)
        }
        _ => Ty::Str,
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => sluice_codecs::reference::java_to_string(other),
    }
}

fn type_of(v: &Value) -> Ty {
    match v {
        Value::Null => Ty::Null,
        Value::Bool(_) => Ty::Bool,
        Value::I8(_) | Value::I16(_) | Value::I32(_) | Value::I64(_) | Value::Date(_) => Ty::Int,
        Value::F32(_) | Value::F64(_) => Ty::Float,
        Value::Decimal { .. } | Value::String(_) | Value::Utf16(_) | Value::Bytes(_) => Ty::Str,
        Value::Array(items) => Ty::List(Box::new(items.iter().map(type_of).fold(Ty::Null, widen))),
        Value::Map(entries) => {
            Ty::Struct(entries.iter().map(|(k, v)| (key_text(k), type_of(v))).fold(
                BTreeMap::new(),
                |mut m, (k, t)| {
                    let merged = match m.remove(&k) {
                        Some(old) => widen(old, t),
                        None => t,
                    };
                    m.insert(k, merged);
                    m
                },
            ))
        }
        Value::Struct(s) => Ty::Struct(
            s.schema
                .fields
                .iter()
                .zip(&s.values)
                .map(|(f, v)| (f.name.clone(), type_of(v)))
                .collect(),
        ),
    }
}

fn arrow_type(t: &Ty) -> DataType {
    match t {
        Ty::Null => DataType::Null,
        Ty::Bool => DataType::Boolean,
        Ty::Int => DataType::Int64,
        Ty::Float => DataType::Float64,
        Ty::Str => DataType::Utf8,
        Ty::List(item) => DataType::List(Arc::new(Field::new("element", arrow_type(item), true))),
        Ty::Struct(fields) => DataType::Struct(struct_fields(fields)),
    }
}

fn struct_fields(fields: &BTreeMap<String, Ty>) -> Fields {
    fields
        .iter()
        .map(|(k, t)| Field::new(k, arrow_type(t), true))
        .collect()
}

fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| key_text(k) == name)
            .map(|(_, v)| v),
        Value::Struct(s) => s
            .schema
            .fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| &s.values[i]),
        _ => None,
    }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => sluice_codecs::reference::java_to_string(other),
    }
}

fn build(t: &Ty, values: &[Option<&Value>]) -> ArrayRef {
    match t {
        Ty::Null => Arc::new(NullArray::new(values.len())),
        Ty::Bool => {
            let mut b = BooleanBuilder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Some(Value::Bool(x)) => Some(*x),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Ty::Int => {
            let mut b = Int64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Some(Value::I8(x)) => Some(i64::from(*x)),
                    Some(Value::I16(x)) => Some(i64::from(*x)),
                    Some(Value::I32(x)) => Some(i64::from(*x)),
                    Some(Value::I64(x)) | Some(Value::Date(x)) => Some(*x),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Ty::Float => {
            let mut b = Float64Builder::with_capacity(values.len());
            for v in values {
                b.append_option(match v {
                    Some(Value::I8(x)) => Some(f64::from(*x)),
                    Some(Value::I16(x)) => Some(f64::from(*x)),
                    Some(Value::I32(x)) => Some(f64::from(*x)),
                    Some(Value::I64(x)) => Some(*x as f64),
                    Some(Value::F32(x)) => Some(f64::from(*x)),
                    Some(Value::F64(x)) => Some(*x),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Ty::Str => {
            let mut b = StringBuilder::with_capacity(values.len(), values.len() * 16);
            for v in values {
                match v {
                    None | Some(Value::Null) => b.append_null(),
                    Some(v) => b.append_value(json_text(v)),
                }
            }
            Arc::new(b.finish())
        }
        Ty::List(item) => {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            offsets.push(0i32);
            let mut flat: Vec<Option<&Value>> = Vec::new();
            let mut valid = Vec::with_capacity(values.len());
            for v in values {
                match v {
                    Some(Value::Array(items)) => {
                        flat.extend(items.iter().map(Some));
                        valid.push(true);
                    }
                    _ => valid.push(false),
                }
                offsets.push(flat.len() as i32);
            }
            let field = Arc::new(Field::new("element", arrow_type(item), true));
            Arc::new(ListArray::new(
                field,
                OffsetBuffer::new(offsets.into()),
                build(item, &flat),
                Some(NullBuffer::from(valid)),
            ))
        }
        Ty::Struct(fields) => {
            let valid: Vec<bool> = values
                .iter()
                .map(|v| matches!(v, Some(Value::Map(_)) | Some(Value::Struct(_))))
                .collect();
            let children: Vec<ArrayRef> = fields
                .iter()
                .map(|(name, t)| {
                    let col: Vec<Option<&Value>> = values
                        .iter()
                        .map(|v| v.and_then(|v| member(v, name)))
                        .collect();
                    build(t, &col)
                })
                .collect();
            if fields.is_empty() {
                return Arc::new(StructArray::new_empty_fields(
                    values.len(),
                    Some(NullBuffer::from(valid)),
                ));
            }
            Arc::new(StructArray::new(
                struct_fields(fields),
                children,
                Some(NullBuffer::from(valid)),
            ))
        }
    }
}

/// Types schemaless values by inference: top-level maps/structs become columns; any other
/// top-level value goes to one column named `value`.
pub fn infer_batch(values: &[Value]) -> Result<RecordBatch, ColumnError> {
    let ty = values.iter().map(type_of).fold(Ty::Null, widen);
    let refs: Vec<Option<&Value>> = values.iter().map(Some).collect();
    split_columns(&ty, build(&ty, &refs), values.len())
}

/// A schema every one of `schemas` can be cast to (field union; numeric widening; views
/// normalised), or `None` when two fields cannot be reconciled.
pub fn merge_schemas(schemas: &[SchemaRef]) -> Option<SchemaRef> {
    let mut fields: Vec<Field> = Vec::new();
    for s in schemas {
        for f in s.fields() {
            match fields.iter_mut().find(|g| g.name() == f.name()) {
                None => fields.push(f.as_ref().clone().with_nullable(true)),
                Some(g) => {
                    let t = merge_types(g.data_type(), f.data_type())?;
                    *g = g.clone().with_data_type(t).with_nullable(true);
                }
            }
        }
    }
    Some(Arc::new(Schema::new(fields)))
}

fn merge_types(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    Some(match (a, b) {
        (a, b) if a == b => a.clone(),
        (Null, t) | (t, Null) => t.clone(),
        (Int8 | Int16 | Int32 | Int64, Int8 | Int16 | Int32 | Int64) => Int64,
        (Int8 | Int16 | Int32 | Int64 | Float32 | Float64, Float32 | Float64)
        | (Float32 | Float64, Int8 | Int16 | Int32 | Int64) => Float64,
        (Utf8 | Utf8View, Utf8 | Utf8View) => Utf8View,
        (Binary | BinaryView, Binary | BinaryView) => BinaryView,
        (Struct(fa), Struct(fb)) => {
            let merged = merge_schemas(&[
                Arc::new(Schema::new(fa.clone())),
                Arc::new(Schema::new(fb.clone())),
            ])?;
            Struct(merged.fields().clone())
        }
        (List(fa), List(fb)) => List(Arc::new(
            fa.as_ref()
                .clone()
                .with_data_type(merge_types(fa.data_type(), fb.data_type())?),
        )),
        _ => return None,
    })
}

/// `batch` cast to `schema` (missing columns all null).
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ColumnError> {
    if batch.schema().as_ref() == schema.as_ref() {
        return Ok(batch.clone());
    }
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(c) => arrow::compute::cast(c, f.data_type()).map_err(ColumnError::from),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(ColumnError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::String(k.to_string()), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn bytes_values_are_one_binary_column_without_per_record_values() {
        let raw =
            arrow::array::BinaryViewArray::from_iter_values([b"a".as_slice(), b"\x00\xff", b""]);
        let col = ConnectColumn::new(None, Arc::new(raw));
        let batch = value_batch(&col, &[2, 0], true).unwrap();
        assert_eq!(batch.schema().field(0).name(), "value");
        assert_eq!(batch.schema().field(0).data_type(), &DataType::BinaryView);
        let v = batch.column(0).as_binary_view();
        assert_eq!((v.value(0), v.value(1)), (b"".as_slice(), b"a".as_slice()));
    }

    #[test]
    fn a_run_of_rows_is_sliced_only_when_it_may_share_the_batch() {
        let raw = arrow::array::BinaryViewArray::from_iter_values([
            b"zero".as_slice(),
            b"one",
            b"two",
            b"three",
        ]);
        let views = raw.views().inner().as_ptr();
        let col = ConnectColumn::new(None, Arc::new(raw));
        for (rows, share, sliced) in [
            (&[1u32, 2][..], true, true),
            (&[1, 2], false, false),
            (&[2, 3, 0], true, false),
        ] {
            let batch = value_batch(&col, rows, share).unwrap();
            let v = batch.column(0).as_binary_view();
            let got: Vec<&[u8]> = v.iter().flatten().collect();
            let want: Vec<&[u8]> = rows
                .iter()
                .map(|&r| [b"zero".as_slice(), b"one", b"two", b"three"][r as usize])
                .collect();
            assert_eq!(got, want, "rows {rows:?}");
            let shares = v.views().inner().as_ptr() == views.wrapping_add(16 * rows[0] as usize);
            assert_eq!(shares, sliced, "rows {rows:?} share {share}");
        }
    }

    #[test]
    fn infers_and_widens_heterogeneous_records() {
        let values = vec![
            m(&[("a", Value::I64(1)), ("b", Value::String("x".into()))]),
            m(&[
                ("a", Value::F64(2.5)),
                ("c", Value::Array(vec![Value::I64(1)])),
            ]),
            m(&[("a", Value::I64(3)), ("b", m(&[("n", Value::I64(1))]))]),
        ];
        let b = infer_batch(&values).unwrap();
        let s = b.schema();
        assert_eq!(
            s.field_with_name("a").unwrap().data_type(),
            &DataType::Float64
        );
        assert_eq!(
            s.field_with_name("b").unwrap().data_type(),
            &DataType::Utf8,
            "string vs object"
        );
        assert!(matches!(
            s.field_with_name("c").unwrap().data_type(),
            DataType::List(_)
        ));
        let a = b
            .column_by_name("a")
            .unwrap()
            .as_primitive::<arrow::datatypes::Float64Type>();
        assert_eq!(a.values().to_vec(), vec![1.0, 2.5, 3.0]);
        let bcol = b.column_by_name("b").unwrap().as_string::<i32>();
        assert_eq!(bcol.value(0), "x");
        assert_eq!(bcol.value(2), "{n=1}");
        assert!(b.column_by_name("c").unwrap().is_null(0));
    }

    #[test]
    fn merges_batches_across_a_file() {
        let b1 = infer_batch(&[m(&[("a", Value::I64(1))])]).unwrap();
        let b2 = infer_batch(&[m(&[("a", Value::F64(1.5)), ("z", Value::Bool(true))])]).unwrap();
        let merged = merge_schemas(&[b1.schema(), b2.schema()]).unwrap();
        let c1 = conform(&b1, &merged).unwrap();
        assert_eq!(c1.num_columns(), 2);
        assert!(c1.column_by_name("z").unwrap().is_null(0));
        let b3 = infer_batch(&[m(&[("a", Value::Bool(true))])]).unwrap();
        assert!(merge_schemas(&[merged, b3.schema()]).is_none());
    }

    /// Mixed-shape schemaless JSON: the column-wise inference gives what inference over
    /// every row's value gives, and reads only the side table's rows as values.
    #[test]
    fn mixed_shapes_are_inferred_from_the_arrays_as_from_values() {
        let lines = [
            r#"{"a":1,"b":"x","l":[1,2],"n":{"p":true,"q":1}}"#,
            r#"{"a":2,"b":"y","l":[3],"n":{"p":false,"q":2}}"#,
            r#"{"a":2.5,"b":{"deep":1},"l":[],"n":{"p":true,"q":3},"extra":"e"}"#,
            r#"{"a":3,"b":"z","l":[4.5],"n":null}"#,
            r#"{"a":4,"b":"w","l":[5],"n":{"p":true,"q":4.25,"r":"new"}}"#,
            r#"{"a":5,"b":"v","l":null,"n":{"p":false,"q":5}}"#,
        ];
        let mut conv = sluice_codecs::ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &std::collections::HashMap::from([("schemas.enable".to_string(), "false".to_string())]),
            sluice_codecs::ConverterRole::Value,
        )
        .unwrap()
        .build();
        let input =
            arrow::array::BinaryViewArray::from_iter_values(lines.iter().map(|l| l.as_bytes()));
        let decoded = conv.decode(&input);
        assert_eq!(decoded.runs.len(), 1);
        let col = &decoded.runs[0].column;
        assert!(!col.exact.is_empty(), "the test needs rows off the shape");
        assert!(col.exact.len() < lines.len(), "and rows on it");
        for rows in [&[0u32, 1, 2, 3, 4, 5][..], &[5, 2, 0], &[1, 2, 4], &[3, 4]] {
            let values: Vec<Value> = rows.iter().map(|&r| col.value(r as usize)).collect();
            let want = infer_batch(&values).unwrap();
            let before = sluice_codecs::model::column::rows_materialized();
            let got = value_batch(col, rows, true).unwrap();
            let read = sluice_codecs::model::column::rows_materialized() - before;
            assert_eq!(read, 0, "rows {rows:?}: whole rows were read as values");
            assert_eq!(got.schema(), want.schema(), "rows {rows:?}");
            assert_eq!(got, want, "rows {rows:?}");
        }
    }
}
