//! The Connect schema ↔ Arrow mapping: every Connect type has one Arrow type, and the
//! schema's name, version, doc, parameters and optionality travel as field metadata so a
//! round trip reproduces the Connect schema exactly.
//!
//! | Connect | Arrow |
//! |---|---|
//! | int8/16/32/64, float32/64, boolean | Int8/16/32/64, Float32/64, Boolean |
//! | string, bytes | Utf8View, BinaryView |
//! | array | List |
//! | map | Map (entries struct `key`, `value`) |
//! | struct | Struct |
//! | Decimal(scale) | Decimal128(38, scale) |
//! | Date, Time, Timestamp | Date32, Time32(ms), Timestamp(ms, "+00:00") |

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, TimeUnit};

use crate::model::schema::{ConnectSchema, SchemaType, logical};

pub const META_NAME: &str = "connect.name";
pub const META_VERSION: &str = "connect.version";
pub const META_DOC: &str = "connect.doc";
pub const META_PARAMETERS: &str = "connect.parameters";

/// The Arrow type of a Connect schema.
pub fn arrow_type(s: &ConnectSchema) -> DataType {
    match s.logical() {
        Some(logical::DECIMAL) => {
            return DataType::Decimal128(38, s.decimal_scale().unwrap_or(0).clamp(-128, 127) as i8);
        }
        Some(logical::DATE) => return DataType::Date32,
        Some(logical::TIME) => return DataType::Time32(TimeUnit::Millisecond),
        Some(logical::TIMESTAMP) => {
            return DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into()));
        }
        _ => {}
    }
    match s.schema_type {
        SchemaType::Array => DataType::List(Arc::new(arrow_field(
            "item",
            s.value
                .as_deref()
                .unwrap_or(&ConnectSchema::new(SchemaType::String, true)),
        ))),
        SchemaType::Map => {
            let key = arrow_field(
                "key",
                s.key
                    .as_deref()
                    .unwrap_or(&ConnectSchema::new(SchemaType::String, false)),
            );
            let key = Field::new("key", key.data_type().clone(), false)
                .with_metadata(key.metadata().clone());
            let value = arrow_field(
                "value",
                s.value
                    .as_deref()
                    .unwrap_or(&ConnectSchema::new(SchemaType::String, true)),
            );
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(Fields::from(vec![key, value])),
                    false,
                )),
                false,
            )
        }
        SchemaType::Struct => DataType::Struct(
            s.fields
                .iter()
                .map(|f| arrow_field(&f.name, &f.schema))
                .collect::<Vec<_>>()
                .into(),
        ),
        t => t.primitive_arrow_type().unwrap_or(DataType::Null),
    }
}

/// An Arrow field for a Connect schema, metadata included.
pub fn arrow_field(name: &str, s: &ConnectSchema) -> Field {
    let mut meta = HashMap::new();
    if let Some(n) = &s.name {
        meta.insert(META_NAME.to_string(), n.clone());
    }
    if let Some(v) = s.version {
        meta.insert(META_VERSION.to_string(), v.to_string());
    }
    if let Some(d) = &s.doc {
        meta.insert(META_DOC.to_string(), d.clone());
    }
    if let Some(p) = &s.parameters {
        let mut out = Vec::new();
        out.push(b'{');
        for (i, (k, v)) in p.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            crate::json::text::write_string(&mut out, k);
            out.push(b':');
            crate::json::text::write_string(&mut out, v);
        }
        out.push(b'}');
        meta.insert(
            META_PARAMETERS.to_string(),
            String::from_utf8_lossy(&out).into_owned(),
        );
    }
    Field::new(name, arrow_type(s), s.optional).with_metadata(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_logical_and_nested_types() {
        let cfg = crate::json::connect::JsonConfig::default();
        let node = crate::json::jackson::parse(crate::events::ORDER_SCHEMA.as_bytes()).unwrap();
        let schema = crate::json::connect::as_connect_schema(&cfg, &node)
            .unwrap()
            .unwrap();
        let f = arrow_field("value", &schema);
        assert_eq!(f.metadata()[META_NAME], "orders.Order");
        let DataType::Struct(fields) = f.data_type() else {
            panic!("struct")
        };
        assert_eq!(fields.len(), 10);
        assert!(matches!(fields[6].data_type(), DataType::List(_)));
        assert!(fields[9].is_nullable());
        let mut dec = ConnectSchema::new(SchemaType::Bytes, false);
        dec.name = Some(logical::DECIMAL.into());
        dec.parameters = Some(vec![("scale".into(), "2".into())]);
        assert_eq!(arrow_type(&dec), DataType::Decimal128(38, 2));
        assert_eq!(
            arrow_field("d", &dec).metadata()[META_PARAMETERS],
            r#"{"scale":"2"}"#
        );
    }
}
