//! One dotted field of a sink value column (`partition.field.name`, `timestamp.field`),
//! resolved once per batch to the Arrow child array that holds it, so reading it for a row is
//! one cell, not the whole record as a value. Rows the typed array does not hold (the exact
//! side table) and fields under a Connect map are read from the row's value instead.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::DataType;
use sluice_codecs::model::value::Value;
use sluice_codecs::{ConnectColumn, ConnectSchema};

/// Where a field lives in the column: a struct child array (with the validity of every
/// struct on the way down), or nowhere the columns can say (read per row from values).
enum Leaf {
    Array {
        array: ArrayRef,
        schema: Option<Arc<ConnectSchema>>,
        valid: Option<NullBuffer>,
    },
    /// The path ends before a struct member exists for it (missing in every row).
    Missing,
    PerRow,
}

/// A field of `column` named by a dotted path, read row by row.
pub struct FieldColumn<'a> {
    column: &'a ConnectColumn,
    name: &'a str,
    leaf: Leaf,
}

impl<'a> FieldColumn<'a> {
    pub fn resolve(column: &'a ConnectColumn, name: &'a str) -> Self {
        Self {
            column,
            name,
            leaf: resolve(column, name),
        }
    }

    /// The field's value in `row`; `None` when it is missing or null (Confluent's
    /// partitioner treats both as "missing").
    pub fn get(&self, row: usize) -> Option<Value> {
        if let Some(v) = self.column.exact_value(row) {
            return field_of(v, self.name);
        }
        match &self.leaf {
            Leaf::Missing => None,
            Leaf::PerRow => field_of(&self.column.value(row), self.name),
            Leaf::Array {
                array,
                schema,
                valid,
            } => {
                if valid.as_ref().is_some_and(|v| v.is_null(row)) || array.is_null(row) {
                    return None;
                }
                let v = match schema.as_deref() {
                    Some(s) => sluice_codecs::model::cells::cell_value(s, array, row),
                    None => sluice_codecs::model::cells::schemaless_cell(array, row),
                };
                (!v.is_null()).then_some(v)
            }
        }
    }
}

fn resolve(column: &ConnectColumn, name: &str) -> Leaf {
    let mut array = column.array.clone();
    let mut schema = column.schema.clone();
    let mut valid: Option<NullBuffer> = array.logical_nulls();
    if array.data_type() == &DataType::Null {
        return Leaf::Missing;
    }
    for part in name.split('.') {
        let DataType::Struct(fields) = array.data_type() else {
            // A Connect map (or a value that is not a struct at all) on the way: the columns
            // cannot name the member, the row's value can.
            return match schema.as_deref() {
                Some(s) if s.schema_type == sluice_codecs::SchemaType::Map => Leaf::PerRow,
                _ => Leaf::Missing,
            };
        };
        let Some(index) = fields.iter().position(|f| f.name() == part) else {
            return Leaf::Missing;
        };
        let child = array.as_struct().column(index).clone();
        schema = match schema.as_deref() {
            Some(s) => match s.fields.iter().find(|f| f.name == part) {
                Some(f) => Some(f.schema.clone()),
                None => return Leaf::PerRow,
            },
            None => None,
        };
        valid = NullBuffer::union(valid.as_ref(), child.logical_nulls().as_ref());
        array = child;
        if array.data_type() == &DataType::Null {
            return Leaf::Missing;
        }
    }
    Leaf::Array {
        array,
        schema,
        valid,
    }
}

/// The member `name` (dotted: into nested structs and maps, as Confluent's field partitioner
/// reaches) of one value; `None` when missing or null.
pub fn field_of(v: &Value, name: &str) -> Option<Value> {
    let mut cur = v;
    for part in name.split('.') {
        cur = match cur {
            Value::Struct(s) => {
                let i = s.schema.fields.iter().position(|f| f.name == part)?;
                &s.values[i]
            }
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::String(s) if s == part))
                .map(|(_, v)| v)?,
            _ => return None,
        };
    }
    (!cur.is_null()).then(|| cur.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::BinaryViewArray;
    use sluice_codecs::{ConverterConfig, ConverterRole};

    /// The runs JsonConverter decodes `lines` into.
    fn columns(lines: &[&str], schemas: bool) -> Vec<ConnectColumn> {
        let props =
            std::collections::HashMap::from([("schemas.enable".to_string(), schemas.to_string())]);
        let mut conv = ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &props,
            ConverterRole::Value,
        )
        .unwrap()
        .build();
        let input = BinaryViewArray::from_iter_values(lines.iter().map(|l| l.as_bytes()));
        let decoded = conv.decode(&input);
        assert!(decoded.failures.is_empty(), "{:?}", decoded.failures);
        decoded.runs.into_iter().map(|r| r.column).collect()
    }

    #[test]
    fn reads_each_row_as_its_value_would() {
        for (lines, schemas) in [
            (
                vec![
                    r#"{"a":{"b":1,"s":"x"},"t":5}"#,
                    r#"{"a":null,"t":6}"#,
                    r#"{"a":{"b":null,"s":"y"},"t":7}"#,
                    r#"{"other":[1,2],"a":{"b":"str"}}"#,
                    r#"7"#,
                ],
                false,
            ),
            (
                vec![
                    r#"{"schema":{"type":"struct","fields":[{"field":"a","optional":true,"type":"struct","fields":[{"field":"b","type":"int32","optional":true},{"field":"s","type":"string","optional":true}]},{"field":"t","type":"int64","optional":true}]},"payload":{"a":{"b":3,"s":"q"},"t":9}}"#,
                    r#"{"schema":{"type":"struct","fields":[{"field":"a","optional":true,"type":"struct","fields":[{"field":"b","type":"int32","optional":true},{"field":"s","type":"string","optional":true}]},{"field":"t","type":"int64","optional":true}]},"payload":{"a":null,"t":10}}"#,
                    r#"{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int64"}},"payload":{"a":1,"t":2}}"#,
                ],
                true,
            ),
        ] {
            for col in columns(&lines, schemas) {
                for name in ["a.b", "a.s", "t", "a", "missing", "a.b.c", "other"] {
                    let reader = FieldColumn::resolve(&col, name);
                    for row in 0..col.len() {
                        assert_eq!(
                            reader.get(row),
                            field_of(&col.value(row), name),
                            "{name} row {row} of {lines:?}"
                        );
                    }
                }
            }
        }
    }
}
