//! Parquet column types from Connect schemas, as Confluent's Parquet format writes them (its
//! `AvroData` → Avro → parquet-avro path). In memory a Connect Decimal is `Decimal128(38, s)`
//! whatever it declares; a file gets the declared `connect.decimal.precision` (Confluent's
//! default, 64, when none is declared), and a value that does not fit it is an errant record,
//! never a truncated one. Every other Connect type already has its Parquet type in Arrow.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray};
use arrow::datatypes::{DataType, Decimal128Type, DecimalType, Field, FieldRef, Fields};
use arrow::error::ArrowError;
use sluice_codecs::model::arrow_map::META_PARAMETERS;

use super::column_error::ColumnError;

/// `connect.decimal.precision`, as Confluent's `AvroData` reads it.
pub const DECIMAL_PRECISION_PARAM: &str = "connect.decimal.precision";
/// Confluent's `AvroData.CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT`.
pub const DEFAULT_DECIMAL_PRECISION: u8 = 64;
/// The widest decimal Arrow (and so a file) can hold.
const MAX_PRECISION: u8 = 76;

/// The precision a decimal field declares (Confluent's default when it declares none).
fn declared_precision(field: &Field) -> Result<u8, ColumnError> {
    let Some(text) = field.metadata().get(META_PARAMETERS) else {
        return Ok(DEFAULT_DECIMAL_PRECISION);
    };
    let params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|source| ColumnError::Parameters {
            field: field.name().clone(),
            source,
        })?;
    match params.get(DECIMAL_PRECISION_PARAM) {
        None => Ok(DEFAULT_DECIMAL_PRECISION),
        Some(serde_json::Value::String(p)) => match p.trim().parse::<u8>() {
            Ok(p) if (1..=MAX_PRECISION).contains(&p) => Ok(p),
            _ => Err(ColumnError::Precision {
                field: field.name().clone(),
                value: p.clone(),
                max: MAX_PRECISION,
            }),
        },
        Some(other) => Err(ColumnError::PrecisionNotANumber {
            field: field.name().clone(),
            value: other.to_string(),
        }),
    }
}

fn field_error(field: &Field, source: ArrowError) -> ColumnError {
    ColumnError::Field {
        field: field.name().clone(),
        source,
    }
}

/// Whether any field under `field` needs a change of type for the file.
fn needs_conform(dt: &DataType) -> bool {
    match dt {
        DataType::Decimal128(_, _) => true,
        DataType::Struct(fields) => fields.iter().any(|f| needs_conform(f.data_type())),
        DataType::List(item) => needs_conform(item.data_type()),
        DataType::Map(entries, _) => needs_conform(entries.data_type()),
        _ => false,
    }
}

/// `array` (of `field`) with the types a file stores. The rows given were checked by
/// [`precision_failures`] first (a sliced list may still hold other rows' values, which the
/// writer never reads, so they are not checked again here).
pub fn conform(field: &FieldRef, array: &ArrayRef) -> Result<(FieldRef, ArrayRef), ColumnError> {
    if !needs_conform(field.data_type()) {
        return Ok((field.clone(), array.clone()));
    }
    let (dt, out): (DataType, ArrayRef) = match (field.data_type(), array.data_type()) {
        (DataType::Decimal128(_, scale), DataType::Decimal128(_, _)) => {
            let p = declared_precision(field)?;
            if p <= 38 {
                let a = array
                    .as_primitive::<Decimal128Type>()
                    .clone()
                    .with_precision_and_scale(p, *scale)
                    .map_err(|source| field_error(field, source))?;
                (DataType::Decimal128(p, *scale), Arc::new(a))
            } else {
                let dt = DataType::Decimal256(p, *scale);
                let a = arrow::compute::cast(array, &dt)
                    .map_err(|source| field_error(field, source))?;
                (dt, a)
            }
        }
        (DataType::Struct(_), DataType::Struct(_)) => {
            let s = array.as_struct();
            let mut fields = Vec::with_capacity(s.num_columns());
            let mut columns = Vec::with_capacity(s.num_columns());
            for (f, c) in s.fields().iter().zip(s.columns()) {
                let (f, c) = conform(f, c)?;
                fields.push(f);
                columns.push(c);
            }
            let fields = Fields::from(fields);
            let a = StructArray::try_new(fields.clone(), columns, s.nulls().cloned())
                .map_err(|source| field_error(field, source))?;
            (DataType::Struct(fields), Arc::new(a))
        }
        (DataType::List(_), DataType::List(item)) => {
            let l = array.as_list::<i32>();
            let (item, values) = conform(item, l.values())?;
            let a = ListArray::try_new(
                item.clone(),
                l.offsets().clone(),
                values,
                l.nulls().cloned(),
            )
            .map_err(|source| field_error(field, source))?;
            (DataType::List(item), Arc::new(a))
        }
        (DataType::Map(_, sorted), DataType::Map(entries, _)) => {
            let m = array.as_map();
            let entries_array: ArrayRef = Arc::new(m.entries().clone());
            let (entries, conformed) = conform(entries, &entries_array)?;
            let a = MapArray::try_new(
                entries.clone(),
                m.offsets().clone(),
                conformed.as_struct().clone(),
                m.nulls().cloned(),
                *sorted,
            )
            .map_err(|source| field_error(field, source))?;
            (DataType::Map(entries, *sorted), Arc::new(a))
        }
        _ => return Ok((field.clone(), array.clone())),
    };
    let f =
        Field::new(field.name(), dt, field.is_nullable()).with_metadata(field.metadata().clone());
    Ok((Arc::new(f), out))
}

/// The rows of a top-level column (of `field`) holding a decimal that does not fit its
/// declared precision, each with the reason, in row order.
pub fn precision_failures(field: &Field, array: &ArrayRef) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    if needs_conform(field.data_type()) {
        walk(field, array, None, &mut out);
        out.sort_by_key(|(r, _)| *r);
        out.dedup_by_key(|(r, _)| *r);
    }
    out
}

/// `rows[i]` is the top-level row of element `i` of `array` (`None`: the identity).
fn walk(field: &Field, array: &ArrayRef, rows: Option<&[usize]>, out: &mut Vec<(usize, String)>) {
    let top = |i: usize| rows.map_or(i, |r| r[i]);
    match array.data_type() {
        DataType::Decimal128(_, scale) => {
            let p = match declared_precision(field) {
                Ok(p) => p,
                Err(e) => {
                    if let Some(i) = (0..array.len()).find(|&i| array.is_valid(i)) {
                        out.push((top(i), e.to_string()));
                    }
                    return;
                }
            };
            if p >= 38 {
                return;
            }
            let a = array.as_primitive::<Decimal128Type>();
            for i in 0..a.len() {
                if a.is_valid(i)
                    && Decimal128Type::validate_decimal_precision(a.value(i), p, *scale).is_err()
                {
                    out.push((
                        top(i),
                        format!(
                            "Decimal value {} of field {} does not fit its declared precision {p} ({DECIMAL_PRECISION_PARAM})",
                            Decimal128Type::format_decimal(a.value(i), 38, *scale),
                            field.name()
                        ),
                    ));
                }
            }
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            for (f, c) in s.fields().iter().zip(s.columns()) {
                walk(f, c, rows, out);
            }
        }
        DataType::List(item) => {
            let l = array.as_list::<i32>();
            let child_rows = child_rows(l.value_offsets(), l.values().len(), &top);
            walk(item, l.values(), Some(&child_rows), out);
        }
        DataType::Map(entries, _) => {
            let m = array.as_map();
            let child_rows = child_rows(m.value_offsets(), m.entries().len(), &top);
            let e: ArrayRef = Arc::new(m.entries().clone());
            walk(entries, &e, Some(&child_rows), out);
        }
        _ => {}
    }
}

fn child_rows(offsets: &[i32], len: usize, top: &dyn Fn(usize) -> usize) -> Vec<usize> {
    let mut rows = vec![0; len];
    for (i, w) in offsets.windows(2).enumerate() {
        let (a, b) = (w[0].max(0) as usize, (w[1].max(0) as usize).min(len));
        for slot in rows.iter_mut().take(b).skip(a) {
            *slot = top(i);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Decimal128Array;
    use std::collections::HashMap;

    fn dec_field(params: Option<&str>) -> FieldRef {
        let mut meta = HashMap::new();
        if let Some(p) = params {
            meta.insert(META_PARAMETERS.to_string(), p.to_string());
        }
        Arc::new(Field::new("amount", DataType::Decimal128(38, 2), true).with_metadata(meta))
    }

    fn decimals(values: &[Option<i128>]) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(38, 2)
                .unwrap(),
        )
    }

    #[test]
    fn declared_precision_is_the_file_type() {
        let f = dec_field(Some(r#"{"scale":"2","connect.decimal.precision":"12"}"#));
        let a = decimals(&[Some(12345), None]);
        assert!(precision_failures(&f, &a).is_empty());
        let (f2, a2) = conform(&f, &a).unwrap();
        assert_eq!(f2.data_type(), &DataType::Decimal128(12, 2));
        assert_eq!(a2.as_primitive::<Decimal128Type>().value(0), 12345);
        assert!(a2.is_null(1));
        assert_eq!(f2.metadata(), f.metadata());
    }

    #[test]
    fn no_precision_gives_confluents_default() {
        let f = dec_field(Some(r#"{"scale":"2"}"#));
        let (f2, a2) = conform(&f, &decimals(&[Some(-5)])).unwrap();
        assert_eq!(f2.data_type(), &DataType::Decimal256(64, 2));
        assert_eq!(
            arrow::compute::cast(&a2, &DataType::Decimal128(38, 2))
                .unwrap()
                .as_primitive::<Decimal128Type>()
                .value(0),
            -5
        );
    }

    #[test]
    fn a_value_wider_than_its_precision_is_a_failure_not_a_cut() {
        let f = dec_field(Some(r#"{"scale":"2","connect.decimal.precision":"4"}"#));
        let a = decimals(&[Some(9999), Some(10000), None]);
        let failures = precision_failures(&f, &a);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, 1);
        assert!(failures[0].1.contains("100.00"), "{}", failures[0].1);
    }

    #[test]
    fn nested_decimals_are_found_and_conformed() {
        let item = dec_field(Some(r#"{"scale":"2","connect.decimal.precision":"3"}"#));
        let values = decimals(&[Some(1), Some(1000), Some(2)]);
        let list: ArrayRef = Arc::new(ListArray::new(
            item.clone(),
            arrow::buffer::OffsetBuffer::new(vec![0, 1, 3].into()),
            values,
            None,
        ));
        let f = Arc::new(Field::new("prices", list.data_type().clone(), true));
        let failures = precision_failures(&f, &list);
        assert_eq!(failures.iter().map(|f| f.0).collect::<Vec<_>>(), vec![1]);
        let ok = list.slice(0, 1);
        let (f2, _) = conform(&f, &ok).unwrap();
        let DataType::List(i) = f2.data_type() else {
            panic!("list")
        };
        assert_eq!(i.data_type(), &DataType::Decimal128(3, 2));
    }
}
