//! Kafka's converters of plain values: `StringConverter`, `ByteArrayConverter`, and the
//! number converters (run through the per-record model: their values are small and fixed in
//! shape).

use std::sync::Arc;

use arrow::array::{Array, AsArray, BinaryViewArray, BinaryViewBuilder, StringViewArray};

use arrow::datatypes::DataType;

use super::contract::{Converter, ConverterRole, Decoded, Encoded};
use crate::columnar::runs::RunsBuilder;
use crate::error::{Result, RowFailure};
use crate::model::column::ConnectColumn;
use crate::model::schema::{ConnectSchema, SchemaType};
use crate::model::value::Value;
use crate::reference::{RefConverter, java_to_string};

/// A converter run value by value through the per-record model: the number converters and
/// StringConverter with a charset other than UTF-8, whose values are small and fixed in
/// shape. Decoded values still land in typed columns of one schema.
#[derive(Debug)]
pub struct RecordwiseConverter {
    reference: RefConverter,
    role: ConverterRole,
}

impl RecordwiseConverter {
    pub fn new(reference: RefConverter, role: ConverterRole) -> Self {
        Self { reference, role }
    }
}

impl Converter for RecordwiseConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        let stage = self.role.stage();
        let mut runs = RunsBuilder::with_capacity(input.len());
        let mut failures = Vec::new();
        let mut schema = None;
        for row in 0..input.len() {
            let bytes = input.is_valid(row).then(|| input.value(row));
            match self.reference.to_connect(bytes) {
                Ok((s, v)) => {
                    schema.clone_from(&s);
                    runs.push(s, v);
                }
                Err(e) => {
                    failures.push(RowFailure::from_error(row, stage, e));
                    // A failed row is a null of the run it sits in.
                    runs.push(schema.clone(), Value::Null);
                }
            }
        }
        Decoded {
            runs: runs.finish(),
            failures,
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let stage = self.role.stage();
        let mut bytes = BinaryViewBuilder::with_capacity(column.len());
        let mut failures = Vec::new();
        for row in 0..column.len() {
            match self
                .reference
                .from_connect(column.schema.as_deref(), &column.value(row))
            {
                Ok(b) => bytes.append_option(b),
                Err(e) => {
                    failures.push(RowFailure::from_error(row, stage, e));
                    bytes.append_null();
                }
            }
        }
        Ok(Encoded {
            bytes: bytes.finish(),
            failures,
        })
    }
}

/// `org.apache.kafka.connect.storage.StringConverter` (UTF-8).
#[derive(Debug)]
pub struct StringConverter;

impl Converter for StringConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        // Valid UTF-8 (the common case) is re-typed in place, sharing the data blocks;
        // otherwise Java's decoder replaces malformed input.
        let strings = match input.clone().to_string_view() {
            Ok(s) => s,
            Err(_) => input
                .iter()
                .map(|v| v.map(crate::reference::decode_utf8_like_java))
                .collect::<StringViewArray>(),
        };
        Decoded::single(
            ConnectColumn::new(Some(ConnectSchema::optional_string()), Arc::new(strings)),
            vec![],
        )
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let array = &column.array;
        let bytes = match (array.data_type(), column.exact.is_empty()) {
            (DataType::Utf8View, true) => array.as_string_view().clone().to_binary_view(),
            (DataType::Null, true) => BinaryViewArray::new_null(array.len()),
            // A schemaless map, list or number column: `String.valueOf` written column-wise.
            _ if column.schema.is_none() => {
                let mut b = BinaryViewBuilder::with_capacity(array.len());
                let written = crate::java::text::for_each_schemaless(column, |row, text| {
                    if column.is_null(row) {
                        b.append_null();
                    } else {
                        b.append_value(text);
                    }
                });
                match written {
                    Some(()) => b.finish(),
                    None => per_row_text(column),
                }
            }
            _ => per_row_text(column),
        };
        Ok(Encoded {
            bytes,
            failures: vec![],
        })
    }
}

/// `String.valueOf(value)` of each row, through the reference values.
pub(crate) fn per_row_text(column: &ConnectColumn) -> BinaryViewArray {
    let mut b = BinaryViewBuilder::with_capacity(column.len());
    for row in 0..column.len() {
        match column.value(row) {
            Value::Null => b.append_null(),
            v => b.append_value(java_to_string(&v)),
        }
    }
    b.finish()
}

/// `org.apache.kafka.connect.converters.ByteArrayConverter`: the value column is the
/// fetched bytes, shared, not copied.
#[derive(Debug)]
pub struct ByteArrayConverter {
    role: ConverterRole,
}

impl ByteArrayConverter {
    pub fn new(role: ConverterRole) -> Self {
        Self { role }
    }
}

impl Converter for ByteArrayConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        Decoded::single(
            ConnectColumn::new(
                Some(ConnectSchema::optional_bytes()),
                Arc::new(input.clone()),
            ),
            vec![],
        )
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let array = &column.array;
        let stage = self.role.stage();
        if let Some(s) = column
            .schema
            .as_deref()
            .filter(|s| s.schema_type != SchemaType::Bytes)
        {
            let message = format!(
                "Invalid schema type for ByteArrayConverter: {}",
                s.type_name()
            );
            // Kafka checks the schema before the value: a null with a schema fails too.
            let failures = (0..array.len())
                .map(|i| RowFailure::data(i, stage, message.clone()))
                .collect();
            return Ok(Encoded {
                bytes: BinaryViewArray::new_null(array.len()),
                failures,
            });
        }
        if array.data_type() == &DataType::BinaryView && column.exact.is_empty() {
            return Ok(Encoded {
                bytes: array.as_binary_view().clone(),
                failures: vec![],
            });
        }
        let mut b = BinaryViewBuilder::with_capacity(array.len());
        let mut failures = Vec::new();
        for row in 0..array.len() {
            match column.value(row) {
                Value::Null => b.append_null(),
                Value::Bytes(v) => b.append_value(&v),
                other => {
                    failures.push(RowFailure::data(
                        row,
                        stage,
                        format!(
                            "ByteArrayConverter is not compatible with objects of type {}",
                            other.java_class()
                        ),
                    ));
                    b.append_null();
                }
            }
        }
        Ok(Encoded {
            bytes: b.finish(),
            failures,
        })
    }
}
