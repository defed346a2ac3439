//! Batch converters between raw Kafka bytes (a `BinaryView` column of the raw batch) and
//! Connect data columns, configured from Connect's properties (`key.converter`,
//! `value.converter` and their prefixed settings). Each works on a whole column and reports
//! rows it cannot convert as [`RowFailure`]s instead of failing the batch. A decoded column
//! is split into runs of rows sharing one schema (one run in practice).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{CodecError, Result};
use crate::json::connect::JsonConfig;
use crate::reference::{Encoding, NumberKind, RefConverter};

pub mod contract;
pub mod simple;

pub use contract::{Converter, ConverterRole, Decoded, Encoded};
pub use simple::{ByteArrayConverter, RecordwiseConverter, StringConverter};

use crate::json::converter::JsonConverter;

/// Which converter a config names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterKind {
    Json,
    String,
    ByteArray,
    /// `ShortConverter` … `BooleanConverter` (`org.apache.kafka.connect.converters`).
    Number(NumberKind),
    /// Confluent's `io.confluent.connect.avro.AvroConverter`.
    Avro,
    /// Confluent's `io.confluent.connect.protobuf.ProtobufConverter`.
    Protobuf,
}

impl ConverterKind {
    /// Accepts the Java class name or the short class name.
    pub fn from_class(class: &str) -> Option<Self> {
        Some(match crate::reference::converter_class(class)? {
            "JsonConverter" => ConverterKind::Json,
            "StringConverter" => ConverterKind::String,
            "ByteArrayConverter" => ConverterKind::ByteArray,
            "ShortConverter" => ConverterKind::Number(NumberKind::Short),
            "IntegerConverter" => ConverterKind::Number(NumberKind::Integer),
            "LongConverter" => ConverterKind::Number(NumberKind::Long),
            "FloatConverter" => ConverterKind::Number(NumberKind::Float),
            "DoubleConverter" => ConverterKind::Number(NumberKind::Double),
            "BooleanConverter" => ConverterKind::Number(NumberKind::Boolean),
            "AvroConverter" => ConverterKind::Avro,
            "ProtobufConverter" => ConverterKind::Protobuf,
            _ => return None,
        })
    }

    /// Kafka's class name, as the DLQ's `__connect.errors.class.name` reports it.
    pub fn class_name(self) -> &'static str {
        match self {
            ConverterKind::Json => "org.apache.kafka.connect.json.JsonConverter",
            ConverterKind::String => "org.apache.kafka.connect.storage.StringConverter",
            ConverterKind::ByteArray => "org.apache.kafka.connect.converters.ByteArrayConverter",
            ConverterKind::Avro => crate::avro::converter::CLASS,
            ConverterKind::Protobuf => crate::protobuf::converter::CLASS,
            ConverterKind::Number(k) => match k {
                NumberKind::Short => "org.apache.kafka.connect.converters.ShortConverter",
                NumberKind::Integer => "org.apache.kafka.connect.converters.IntegerConverter",
                NumberKind::Long => "org.apache.kafka.connect.converters.LongConverter",
                NumberKind::Float => "org.apache.kafka.connect.converters.FloatConverter",
                NumberKind::Double => "org.apache.kafka.connect.converters.DoubleConverter",
                NumberKind::Boolean => "org.apache.kafka.connect.converters.BooleanConverter",
            },
        }
    }
}

/// A typed converter configuration, parsed from the un-prefixed properties.
#[derive(Debug, Clone)]
pub struct ConverterConfig {
    pub kind: ConverterKind,
    pub role: ConverterRole,
    /// The full JsonConverter settings.
    pub json: JsonConfig,
    /// The same settings as the per-record model holds them (every key Kafka's converter
    /// checks, e.g. StringConverter's encodings); `None` for Schema Registry converters.
    pub reference: Option<RefConverter>,
    /// AvroConverter's settings and the registry its `schema.registry.url` names.
    pub avro: Option<(
        crate::avro::AvroConverterConfig,
        Arc<dyn crate::registry::SchemaRegistry>,
    )>,
    /// ProtobufConverter's settings and the registry its `schema.registry.url` names.
    pub protobuf: Option<(
        crate::protobuf::ProtobufConverterConfig,
        Arc<dyn crate::registry::SchemaRegistry>,
    )>,
}

impl ConverterConfig {
    /// `key` is the property naming the class (for error messages), `props` the settings
    /// with the role prefix removed (`schemas.enable`, ...).
    pub fn parse(
        key: &str,
        class: &str,
        props: &HashMap<String, String>,
        role: ConverterRole,
    ) -> Result<Self> {
        let kind = ConverterKind::from_class(class.trim()).ok_or_else(|| {
            CodecError::UnknownConverter {
                key: key.to_string(),
                class: class.to_string(),
            }
        })?;
        let invalid = |e: crate::error::ConnectError| CodecError::InvalidConfig {
            key: key.to_string(),
            value: class.to_string(),
            reason: e.message.unwrap_or_default(),
        };
        // Only JsonConverter reads the JSON settings (a StringConverter ignores them, as in Kafka).
        let json = if kind == ConverterKind::Json {
            JsonConfig::parse(props).map_err(invalid)?
        } else {
            JsonConfig::default()
        };
        let registry = |urls: &[String]| {
            crate::registry::resolve(urls, props).map_err(|e| {
                CodecError::Configure(crate::error::ConnectError::config(e.to_string()))
            })
        };
        if kind == ConverterKind::Avro {
            let cfg =
                crate::avro::AvroConverterConfig::parse(props).map_err(CodecError::Configure)?;
            let registry = registry(&cfg.serde.urls)?;
            return Ok(Self {
                kind,
                role,
                json,
                reference: None,
                avro: Some((cfg, registry)),
                protobuf: None,
            });
        }
        if kind == ConverterKind::Protobuf {
            let cfg = crate::protobuf::ProtobufConverterConfig::parse(props)
                .map_err(CodecError::Configure)?;
            let registry = registry(&cfg.serde.urls)?;
            return Ok(Self {
                kind,
                role,
                json,
                reference: None,
                avro: None,
                protobuf: Some((cfg, registry)),
            });
        }
        let reference = RefConverter::configure(key, class.trim(), props).map_err(invalid)?;
        Ok(Self {
            kind,
            role,
            json,
            reference: Some(reference),
            avro: None,
            protobuf: None,
        })
    }

    pub fn build(&self) -> Box<dyn Converter> {
        if let Some((cfg, registry)) = &self.avro {
            return Box::new(crate::avro::AvroConverter::new(
                cfg.clone(),
                self.role,
                registry.clone(),
            ));
        }
        if let Some((cfg, registry)) = &self.protobuf {
            return Box::new(crate::protobuf::ProtobufConverter::new(
                cfg.clone(),
                self.role,
                registry.clone(),
            ));
        }
        let reference = self.reference.clone().unwrap_or(RefConverter::ByteArray);
        match self.kind {
            ConverterKind::Json => Box::new(JsonConverter::new(self.role, self.json.clone())),
            ConverterKind::String
                if matches!(
                    reference,
                    RefConverter::String {
                        decode: Encoding::Utf8,
                        encode: Encoding::Utf8
                    }
                ) =>
            {
                Box::new(StringConverter)
            }
            ConverterKind::ByteArray => Box::new(ByteArrayConverter::new(self.role)),
            ConverterKind::String
            | ConverterKind::Number(_)
            | ConverterKind::Avro
            | ConverterKind::Protobuf => Box::new(RecordwiseConverter::new(reference, self.role)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::simple::per_row_text;
    use super::*;
    use crate::error::Stage;
    use crate::model::column::ConnectColumn;
    use crate::model::schema::{ConnectSchema, SchemaType};
    use crate::model::value::Value;
    use arrow::array::{Array, AsArray, BinaryViewArray, StringViewArray};

    fn conv(class: &str, schemas: &str, role: ConverterRole) -> Box<dyn Converter> {
        let props = HashMap::from([("schemas.enable".to_string(), schemas.to_string())]);
        ConverterConfig::parse("value.converter", class, &props, role)
            .expect("config")
            .build()
    }

    #[test]
    fn json_envelope_round_trip_of_strings() {
        let mut c = conv(
            "org.apache.kafka.connect.json.JsonConverter",
            "true",
            ConverterRole::Value,
        );
        let col = ConnectColumn::new(
            Some(ConnectSchema::string()),
            Arc::new(StringViewArray::from(vec!["foo", "bar \"q\""])),
        );
        let enc = c.encode(&col).expect("encode");
        assert_eq!(
            enc.bytes.value(0),
            br#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#
        );
        assert_eq!(
            enc.bytes.value(1),
            br#"{"schema":{"type":"string","optional":false},"payload":"bar \"q\""}"#
        );
        let dec = c.decode(&enc.bytes);
        assert!(dec.failures.is_empty());
        assert_eq!(
            dec.runs[0].column.array.as_string_view().value(1),
            "bar \"q\""
        );
        assert_eq!(
            dec.runs[0].column.schema.as_deref().map(|s| s.schema_type),
            Some(SchemaType::String)
        );
    }

    #[test]
    fn json_failures_are_per_row() {
        let mut c = conv("JsonConverter", "true", ConverterRole::Key);
        let input = BinaryViewArray::from(vec![
            Some(&br#"{"schema":{"type":"int64","optional":false},"payload":7}"#[..]),
            Some(&b"not json"[..]),
            None,
            Some(&br#"{"payload":1}"#[..]),
        ]);
        let dec = c.decode(&input);
        assert_eq!(
            dec.failures
                .iter()
                .map(|f| (f.row, f.stage))
                .collect::<Vec<_>>(),
            vec![(1, Stage::KeyConverter), (3, Stage::KeyConverter)]
        );
        assert_eq!(dec.runs[0].column.value(0), Value::I64(7));
    }

    #[test]
    fn json_schemaless_keeps_exact_values() {
        let mut c = conv("JsonConverter", "false", ConverterRole::Value);
        let input = BinaryViewArray::from(vec![Some(&br#"{"a":1.50}"#[..]), None]);
        let dec = c.decode(&input);
        let col = &dec.runs[0].column;
        assert_eq!(
            col.value(0),
            Value::Map(vec![(Value::String("a".into()), Value::F64(1.5))])
        );
        let enc = c.encode(col).expect("encode");
        assert_eq!(enc.bytes.value(0), br#"{"a":1.5}"#);
        assert!(enc.bytes.is_null(1));
    }

    #[test]
    fn string_converter_writes_schemaless_maps_column_wise_as_the_reference() {
        let mut json = conv("JsonConverter", "false", ConverterRole::Value);
        let input = BinaryViewArray::from(vec![
            Some(&br#"{"id":1,"user":"a","amount":2.5,"tags":["x","y"],"d":{"os":"ios"}}"#[..]),
            None,
            Some(&br#"{"id":2,"user":"b","amount":0.0,"tags":[],"d":{"os":"linux"}}"#[..]),
            Some(&br#"[1,2]"#[..]),
            Some(&br#""plain""#[..]),
        ]);
        let column = json.decode(&input).runs.remove(0).column;
        let text = conv("StringConverter", "false", ConverterRole::Value)
            .encode(&column)
            .expect("encode")
            .bytes;
        let reference = per_row_text(&column);
        assert_eq!(text.len(), reference.len());
        for row in 0..text.len() {
            assert_eq!(text.is_null(row), reference.is_null(row), "row {row}");
            if !text.is_null(row) {
                assert_eq!(text.value(row), reference.value(row), "row {row}");
            }
        }
        // A Java map's toString, members in the map's iteration order.
        let first = String::from_utf8_lossy(text.value(0)).into_owned();
        assert!(
            first.starts_with('{') && first.contains("user=a") && first.contains("tags=[x, y]"),
            "{first}"
        );
        assert_eq!(text.value(3), b"[1, 2]");
        assert!(text.is_null(1));
    }

    #[test]
    fn json_null_column_encodes_to_null_bytes() {
        for schemas in ["true", "false"] {
            let enc = conv("JsonConverter", schemas, ConverterRole::Key)
                .encode(&ConnectColumn::nulls(3))
                .expect("encode");
            assert_eq!(enc.bytes.null_count(), 3);
        }
    }

    #[test]
    fn string_and_bytes_share_buffers() {
        let long = "a string long enough to live in a data block";
        let input = BinaryViewArray::from(vec![Some(long.as_bytes()), None]);
        let s = conv("StringConverter", "true", ConverterRole::Value).decode(&input);
        assert_eq!(
            s.runs[0].column.array.as_string_view().data_buffers()[0].as_ptr(),
            input.data_buffers()[0].as_ptr()
        );
        let b = conv(
            "org.apache.kafka.connect.converters.ByteArrayConverter",
            "true",
            ConverterRole::Value,
        )
        .decode(&input);
        assert_eq!(
            b.runs[0].column.array.as_binary_view().data_buffers()[0].as_ptr(),
            input.data_buffers()[0].as_ptr()
        );
    }

    #[test]
    fn unknown_class_and_bad_flag_name_the_key() {
        let e = ConverterConfig::parse(
            "value.converter",
            "com.example.Nope",
            &HashMap::new(),
            ConverterRole::Value,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("value.converter") && e.to_string().contains("com.example.Nope")
        );
        let props = HashMap::from([("schemas.enable".to_string(), "maybe".to_string())]);
        let e = ConverterConfig::parse(
            "value.converter",
            "JsonConverter",
            &props,
            ConverterRole::Value,
        )
        .unwrap_err();
        assert!(e.to_string().contains("schemas.enable"), "{e}");
    }
}
