//! A Connect value read from one Arrow cell: a schema'd cell by its schema, a shaped
//! schemaless cell by its array type. The reference path for rows that leave the columns
//! (a per-record stage, a row-level sink); hot paths read the arrays directly.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;

use crate::model::schema::ConnectSchema;
use crate::model::value::Value;

/// One cell as a reference value (maps, which are rare on hot paths, and row-level sinks).
pub fn cell_value(s: &ConnectSchema, a: &ArrayRef, row: usize) -> Value {
    if a.is_null(row) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Int8 => Value::I8(a.as_primitive::<arrow::datatypes::Int8Type>().value(row)),
        DataType::Int16 => Value::I16(a.as_primitive::<arrow::datatypes::Int16Type>().value(row)),
        DataType::Int32 => Value::I32(a.as_primitive::<arrow::datatypes::Int32Type>().value(row)),
        DataType::Int64 => Value::I64(a.as_primitive::<arrow::datatypes::Int64Type>().value(row)),
        DataType::Float32 => {
            Value::F32(a.as_primitive::<arrow::datatypes::Float32Type>().value(row))
        }
        DataType::Float64 => {
            Value::F64(a.as_primitive::<arrow::datatypes::Float64Type>().value(row))
        }
        DataType::Utf8View => Value::String(a.as_string_view().value(row).to_string()),
        DataType::BinaryView => Value::Bytes(a.as_binary_view().value(row).to_vec()),
        DataType::Date32 => Value::Date(
            i64::from(a.as_primitive::<arrow::datatypes::Date32Type>().value(row)) * 86_400_000,
        ),
        DataType::Time32(_) => Value::Date(i64::from(
            a.as_primitive::<arrow::datatypes::Time32MillisecondType>()
                .value(row),
        )),
        DataType::Timestamp(_, _) => Value::Date(
            a.as_primitive::<arrow::datatypes::TimestampMillisecondType>()
                .value(row),
        ),
        DataType::Decimal128(_, sc) => Value::Decimal {
            unscaled: a
                .as_primitive::<arrow::datatypes::Decimal128Type>()
                .value(row),
            scale: i32::from(*sc),
        },
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(row);
            let is = s.value.as_deref().unwrap_or(s);
            Value::Array(
                (0..items.len())
                    .map(|j| cell_value(is, &items, j))
                    .collect(),
            )
        }
        DataType::Struct(_) => {
            let st = a.as_struct();
            Value::Struct(crate::model::value::Struct {
                schema: Arc::new(s.clone()),
                values: s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(k, f)| cell_value(&f.schema, st.column(k), row))
                    .collect(),
            })
        }
        DataType::Map(_, _) => {
            let e = a.as_map().value(row);
            let (ks, vs) = (
                s.key.as_deref().unwrap_or(s),
                s.value.as_deref().unwrap_or(s),
            );
            Value::Map(
                (0..e.len())
                    .map(|j| {
                        (
                            cell_value(ks, e.column(0), j),
                            cell_value(vs, e.column(1), j),
                        )
                    })
                    .collect(),
            )
        }
        _ => Value::Null,
    }
}

/// A shaped schemaless cell as a reference value (maps with members in array order).
pub fn schemaless_cell(a: &ArrayRef, row: usize) -> Value {
    if a.is_null(row) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Int64 => Value::I64(a.as_primitive::<arrow::datatypes::Int64Type>().value(row)),
        DataType::Float64 => {
            Value::F64(a.as_primitive::<arrow::datatypes::Float64Type>().value(row))
        }
        DataType::Float32 => {
            Value::F32(a.as_primitive::<arrow::datatypes::Float32Type>().value(row))
        }
        DataType::Int32 => Value::I32(a.as_primitive::<arrow::datatypes::Int32Type>().value(row)),
        DataType::Int16 => Value::I16(a.as_primitive::<arrow::datatypes::Int16Type>().value(row)),
        DataType::Int8 => Value::I8(a.as_primitive::<arrow::datatypes::Int8Type>().value(row)),
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Utf8View => Value::String(a.as_string_view().value(row).to_string()),
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(row);
            Value::Array(
                (0..items.len())
                    .map(|j| schemaless_cell(&items, j))
                    .collect(),
            )
        }
        DataType::Struct(fields) => {
            let st = a.as_struct();
            Value::Map(
                fields
                    .iter()
                    .enumerate()
                    .map(|(k, f)| {
                        (
                            Value::String(f.name().clone()),
                            schemaless_cell(st.column(k), row),
                        )
                    })
                    .collect(),
            )
        }
        _ => Value::Null,
    }
}
