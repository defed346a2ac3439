//! Batch converters between raw Kafka bytes (a `BinaryView` column of the raw batch) and
//! Connect data columns, configured from Connect's properties (`key.converter`,
//! `value.converter` and their prefixed settings). Each works on a whole column and reports
//! rows it cannot convert as [`RowFailure`]s instead of failing the batch. A decoded column
//! is split into runs of rows sharing one schema (one run in practice).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, AsArray, BinaryViewArray, BinaryViewBuilder, DictionaryArray, StringViewArray,
};
use arrow::datatypes::{DataType, Int32Type};

use crate::column::ConnectColumn;
use crate::connect_json::JsonConfig;
use crate::error::{CodecError, Result, RowFailure, Stage};
use crate::json_columnar::RunsBuilder;
use crate::json_columnar::{EnvelopeDecoder, Run, SchemalessDecoder};
use crate::reference::{Encoding, NumberKind, RefConverter, java_to_string};
use crate::schema::{ConnectSchema, SchemaType};
use crate::value::Value;

/// Whether a converter handles record keys or values; decides the failure stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterRole {
    Key,
    Value,
}

impl ConverterRole {
    pub fn stage(self) -> Stage {
        match self {
            ConverterRole::Key => Stage::KeyConverter,
            ConverterRole::Value => Stage::ValueConverter,
        }
    }
}

/// Result of decoding a column: runs of Connect data (null where a row failed) and the
/// failures.
#[derive(Debug)]
pub struct Decoded {
    pub runs: Vec<Run>,
    pub failures: Vec<RowFailure>,
}

impl Decoded {
    fn single(column: ConnectColumn, failures: Vec<RowFailure>) -> Self {
        Self {
            runs: vec![Run { start: 0, column }],
            failures,
        }
    }
}

/// Result of encoding a column: bytes (null where a row failed) and the failures.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: BinaryViewArray,
    pub failures: Vec<RowFailure>,
}

/// A batch converter: `decode` is Kafka's `toConnectData`, `encode` is
/// `fromConnectData`, both over a whole column.
pub trait Converter: Send + fmt::Debug {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded;
    fn encode(&self, column: &ConnectColumn) -> Result<Encoded>;

    /// `decode` of rows from the given topics (a Schema Registry subject names the topic).
    fn decode_from(
        &mut self,
        input: &BinaryViewArray,
        topics: &DictionaryArray<Int32Type>,
    ) -> Decoded {
        let _ = topics;
        self.decode(input)
    }

    /// `encode` of rows bound for the given topics.
    fn encode_for(
        &self,
        column: &ConnectColumn,
        topics: &DictionaryArray<Int32Type>,
    ) -> Result<Encoded> {
        let _ = topics;
        self.encode(column)
    }
}

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
            ConverterKind::Json => Box::new(JsonConverter {
                role: self.role,
                decoder: EnvelopeDecoder::new(self.json.clone()),
                schemaless: SchemalessDecoder::new(self.json.clone()),
                cfg: self.json.clone(),
            }),
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
            ConverterKind::ByteArray => Box::new(ByteArrayConverter { role: self.role }),
            ConverterKind::String
            | ConverterKind::Number(_)
            | ConverterKind::Avro
            | ConverterKind::Protobuf => Box::new(RecordwiseConverter {
                reference,
                role: self.role,
            }),
        }
    }
}

/// A converter run value by value through the per-record model: the number converters and
/// StringConverter with a charset other than UTF-8, whose values are small and fixed in
/// shape. Decoded values still land in typed columns of one schema.
#[derive(Debug)]
pub struct RecordwiseConverter {
    reference: RefConverter,
    role: ConverterRole,
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
                let written = crate::java_text::for_each_schemaless(column, |row, text| {
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
fn per_row_text(column: &ConnectColumn) -> BinaryViewArray {
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

/// `org.apache.kafka.connect.json.JsonConverter`: envelopes decode through the columnar fast
/// path; schemaless values through the reference model.
pub struct JsonConverter {
    role: ConverterRole,
    cfg: JsonConfig,
    decoder: EnvelopeDecoder,
    schemaless: SchemalessDecoder,
}

impl fmt::Debug for JsonConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonConverter")
            .field("role", &self.role)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Converter for JsonConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        let stage = self.role.stage();
        if self.cfg.schemas_enable {
            let out = self.decoder.decode(input, stage);
            return Decoded {
                runs: out.runs,
                failures: out.failures,
            };
        }
        let out = self.schemaless.decode(input, stage);
        Decoded {
            runs: out.runs,
            failures: out.failures,
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let (bytes, failures) = crate::json_columnar::encode(&self.cfg, column, self.role.stage());
        Ok(Encoded { bytes, failures })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
