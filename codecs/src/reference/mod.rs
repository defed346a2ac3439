//! Converters on the reference model, configured exactly like Kafka's classes: one record's
//! bytes to schema and value and back, with Kafka's exceptions. `sluice pipe` runs these;
//! the batch converters are checked against them.

pub mod values;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{ConnectError, exception};
pub use crate::java::simple_date_format::civil_from_days;
pub use crate::java::{java_date_to_string, java_to_string, utf16_lossy};
use crate::json::connect::{self, JsonConfig};
use crate::model::schema::{ConnectSchema, SchemaType};
use crate::model::value::Value;

/// A configured converter of one of Kafka's built-in classes.
#[derive(Debug, Clone)]
pub enum RefConverter {
    Json(JsonConfig),
    /// `decode` reads bytes (`deserializer.encoding`), `encode` writes them
    /// (`serializer.encoding`); both default to `converter.encoding`.
    String {
        decode: Encoding,
        encode: Encoding,
    },
    ByteArray,
    Number(NumberKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Short,
    Integer,
    Long,
    Float,
    Double,
    Boolean,
}

impl NumberKind {
    fn name(self) -> &'static str {
        match self {
            NumberKind::Short => "short",
            NumberKind::Integer => "integer",
            NumberKind::Long => "long",
            NumberKind::Float => "float",
            NumberKind::Double => "double",
            NumberKind::Boolean => "boolean",
        }
    }

    fn width(self) -> usize {
        match self {
            NumberKind::Short => 2,
            NumberKind::Integer | NumberKind::Float => 4,
            NumberKind::Long | NumberKind::Double => 8,
            NumberKind::Boolean => 1,
        }
    }

    fn schema_type(self) -> SchemaType {
        match self {
            NumberKind::Short => SchemaType::Int16,
            NumberKind::Integer => SchemaType::Int32,
            NumberKind::Long => SchemaType::Int64,
            NumberKind::Float => SchemaType::Float32,
            NumberKind::Double => SchemaType::Float64,
            NumberKind::Boolean => SchemaType::Boolean,
        }
    }
}

/// Character sets `converter.encoding` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Latin1,
    Ascii,
    Utf16Be,
    Utf16Le,
    /// `UTF-16`: big-endian with a byte-order mark when encoding.
    Utf16,
    Utf32Be,
    Utf32Le,
    /// `UTF-32`: big-endian, a byte-order mark honoured when decoding, none written.
    Utf32,
    Windows1252,
}

/// Java's UTF-32 decoder with replacement: each 4 bytes one character, U+FFFD for a
/// surrogate or a value past U+10FFFF, and for 1 to 3 bytes left at the end.
fn decode_utf32(b: &[u8], big: bool) -> String {
    let mut out = String::with_capacity(b.len() / 4);
    let mut words = b.chunks_exact(4);
    for w in words.by_ref() {
        let bytes = [w[0], w[1], w[2], w[3]];
        let u = if big {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        };
        out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
    }
    if !words.remainder().is_empty() {
        out.push('\u{FFFD}');
    }
    out
}

/// Java's UTF-8 decoder with replacement: like Rust's, except that an encoded surrogate
/// (`ED A0..BF xx`) is one malformed sequence, replaced by a single U+FFFD.
pub fn decode_utf8_like_java(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    let mut rest = b;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                out.push('\u{FFFD}');
                let skip = match bad {
                    [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] => 3,
                    _ => e.error_len().unwrap_or(bad.len()),
                };
                rest = &bad[skip..];
            }
        }
    }
}

/// The windows-1252 character of a byte (U+FFFD for its five undefined bytes).
fn windows_1252_char(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[(b - 0x80) as usize])).unwrap_or('\u{FFFD}'),
        _ => char::from(b),
    }
}

impl Encoding {
    fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "UTF-8" | "UTF8" => Encoding::Utf8,
            "ISO-8859-1" | "ISO8859_1" | "LATIN1" | "ISO-LATIN-1" | "ISO_8859_1" => {
                Encoding::Latin1
            }
            "US-ASCII" | "ASCII" => Encoding::Ascii,
            "UTF-16BE" => Encoding::Utf16Be,
            "UTF-16LE" => Encoding::Utf16Le,
            "UTF-16" | "UTF16" => Encoding::Utf16,
            "UTF-32BE" | "UTF_32BE" => Encoding::Utf32Be,
            "UTF-32LE" | "UTF_32LE" => Encoding::Utf32Le,
            "UTF-32" | "UTF32" | "UTF_32" => Encoding::Utf32,
            "WINDOWS-1252" | "CP1252" => Encoding::Windows1252,
            _ => return None,
        })
    }

    pub fn decode(self, b: &[u8]) -> String {
        let units = |be: bool, b: &[u8]| -> Vec<u16> {
            b.chunks(2)
                .map(|c| {
                    if c.len() == 2 {
                        if be {
                            u16::from_be_bytes([c[0], c[1]])
                        } else {
                            u16::from_le_bytes([c[0], c[1]])
                        }
                    } else {
                        0xFFFD
                    }
                })
                .collect()
        };
        match self {
            Encoding::Utf8 => decode_utf8_like_java(b),
            Encoding::Windows1252 => b.iter().map(|&c| windows_1252_char(c)).collect(),
            Encoding::Latin1 => b.iter().map(|&c| char::from(c)).collect(),
            Encoding::Ascii => b
                .iter()
                .map(|&c| if c < 0x80 { char::from(c) } else { '\u{FFFD}' })
                .collect(),
            Encoding::Utf16Be => String::from_utf16_lossy(&units(true, b)),
            Encoding::Utf16Le => String::from_utf16_lossy(&units(false, b)),
            Encoding::Utf16 => match b {
                [0xFE, 0xFF, rest @ ..] => String::from_utf16_lossy(&units(true, rest)),
                [0xFF, 0xFE, rest @ ..] => String::from_utf16_lossy(&units(false, rest)),
                _ => String::from_utf16_lossy(&units(true, b)),
            },
            Encoding::Utf32Be => decode_utf32(b, true),
            Encoding::Utf32Le => decode_utf32(b, false),
            Encoding::Utf32 => match b {
                [0, 0, 0xFE, 0xFF, rest @ ..] => decode_utf32(rest, true),
                [0xFF, 0xFE, 0, 0, rest @ ..] => decode_utf32(rest, false),
                _ => decode_utf32(b, true),
            },
        }
    }

    pub fn encode(self, s: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => s.as_bytes().to_vec(),
            Encoding::Windows1252 => s
                .chars()
                .map(|c| {
                    (0..=255u8)
                        .find(|&b| windows_1252_char(b) == c && c != '\u{FFFD}')
                        .unwrap_or(b'?')
                })
                .collect(),
            Encoding::Latin1 => s
                .chars()
                .map(|c| if (c as u32) < 256 { c as u8 } else { b'?' })
                .collect(),
            Encoding::Ascii => s
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
            Encoding::Utf16Be => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Encoding::Utf16Le => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            // Java writes the byte-order mark only before a first character.
            Encoding::Utf16 if s.is_empty() => Vec::new(),
            Encoding::Utf16 => [0xFE, 0xFF]
                .into_iter()
                .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
                .collect(),
            Encoding::Utf32Be | Encoding::Utf32 => {
                s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect()
            }
            Encoding::Utf32Le => s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect(),
        }
    }
}

/// Kafka's converter classes: simple and fully-qualified names.
pub const CONVERTER_CLASSES: [(&str, &str); 12] = [
    (
        "JsonConverter",
        "org.apache.kafka.connect.json.JsonConverter",
    ),
    (
        "StringConverter",
        "org.apache.kafka.connect.storage.StringConverter",
    ),
    (
        "ByteArrayConverter",
        "org.apache.kafka.connect.converters.ByteArrayConverter",
    ),
    (
        "ShortConverter",
        "org.apache.kafka.connect.converters.ShortConverter",
    ),
    (
        "IntegerConverter",
        "org.apache.kafka.connect.converters.IntegerConverter",
    ),
    (
        "LongConverter",
        "org.apache.kafka.connect.converters.LongConverter",
    ),
    (
        "FloatConverter",
        "org.apache.kafka.connect.converters.FloatConverter",
    ),
    (
        "DoubleConverter",
        "org.apache.kafka.connect.converters.DoubleConverter",
    ),
    (
        "BooleanConverter",
        "org.apache.kafka.connect.converters.BooleanConverter",
    ),
    ("AvroConverter", "io.confluent.connect.avro.AvroConverter"),
    (
        "ProtobufConverter",
        "io.confluent.connect.protobuf.ProtobufConverter",
    ),
    (
        "SimpleHeaderConverter",
        "org.apache.kafka.connect.storage.SimpleHeaderConverter",
    ),
];

/// The simple class name a `*.converter` value resolves to, as Kafka's plugin loader
/// resolves it: the fully-qualified name, the simple name, or the simple name without its
/// `Converter` suffix (`Json`); surrounding white space is ignored.
pub fn converter_class(class: &str) -> Option<&'static str> {
    let c = class.trim();
    CONVERTER_CLASSES
        .iter()
        .find(|(simple, full)| {
            c == *full
                || c == *simple
                || (*simple != "SimpleHeaderConverter"
                    && simple.strip_suffix("Converter") == Some(c))
        })
        .map(|(simple, _)| *simple)
}

impl RefConverter {
    /// Configures `class` from its un-prefixed properties; `key` names the class property
    /// for the unknown-class message.
    pub fn configure(
        key: &str,
        class: &str,
        props: &HashMap<String, String>,
    ) -> Result<Self, ConnectError> {
        let simple = converter_class(class).ok_or_else(|| {
            ConnectError::config(format!(
                "Invalid value {class} for configuration {key}: Class {class} could not be found."
            ))
        })?;
        Ok(match simple {
            "JsonConverter" => RefConverter::Json(JsonConfig::parse(props)?),
            "StringConverter" => {
                // Header converters are configured as values (isKey = false).
                let role = if key.starts_with("key") {
                    "key"
                } else {
                    "value"
                };
                let charset = |name: &str| {
                    Encoding::parse(name).ok_or_else(|| ConnectError {
                        exception: exception::SERIALIZATION,
                        message: Some(format!("Unsupported encoding {name}")),
                    })
                };
                let base = props
                    .get("converter.encoding")
                    .map_or("UTF8", String::as_str);
                let decode = props
                    .get(&format!("{role}.deserializer.encoding"))
                    .map_or(base, String::as_str);
                let encode = props
                    .get(&format!("{role}.serializer.encoding"))
                    .map_or(base, String::as_str);
                RefConverter::String {
                    decode: charset(decode)?,
                    encode: charset(encode)?,
                }
            }
            "ByteArrayConverter" => RefConverter::ByteArray,
            "ShortConverter" => RefConverter::Number(NumberKind::Short),
            "IntegerConverter" => RefConverter::Number(NumberKind::Integer),
            "LongConverter" => RefConverter::Number(NumberKind::Long),
            "FloatConverter" => RefConverter::Number(NumberKind::Float),
            "DoubleConverter" => RefConverter::Number(NumberKind::Double),
            "BooleanConverter" => RefConverter::Number(NumberKind::Boolean),
            other => {
                return Err(ConnectError::config(format!(
                    "{other} cannot be used as a key or value converter here yet"
                )));
            }
        })
    }

    /// `toConnectData`.
    pub fn to_connect(
        &self,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Arc<ConnectSchema>>, Value), ConnectError> {
        match self {
            RefConverter::Json(cfg) => connect::to_connect_data(cfg, bytes),
            RefConverter::String { decode, .. } => Ok((
                Some(ConnectSchema::optional_string()),
                bytes.map_or(Value::Null, |b| Value::String(decode.decode(b))),
            )),
            RefConverter::ByteArray => Ok((
                Some(ConnectSchema::optional_bytes()),
                bytes.map_or(Value::Null, |b| Value::Bytes(b.to_vec())),
            )),
            RefConverter::Number(kind) => {
                let schema = Some(ConnectSchema::optional(kind.schema_type()));
                let Some(b) = bytes else {
                    return Ok((schema, Value::Null));
                };
                if b.len() != kind.width() {
                    return Err(ConnectError::data(format!(
                        "Failed to deserialize {}: ",
                        kind.name()
                    )));
                }
                let v = match kind {
                    NumberKind::Short => Value::I16(i16::from_be_bytes([b[0], b[1]])),
                    NumberKind::Integer => Value::I32(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    NumberKind::Long => Value::I64(i64::from_be_bytes([
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                    ])),
                    NumberKind::Float => Value::F32(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                    NumberKind::Double => Value::F64(f64::from_be_bytes([
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                    ])),
                    NumberKind::Boolean => match b[0] {
                        0 => Value::Bool(false),
                        1 => Value::Bool(true),
                        _ => {
                            return Err(ConnectError::data(format!(
                                "Failed to deserialize {}: ",
                                kind.name()
                            )));
                        }
                    },
                };
                Ok((schema, v))
            }
        }
    }

    /// `fromConnectData`.
    pub fn from_connect(
        &self,
        schema: Option<&ConnectSchema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConnectError> {
        match self {
            RefConverter::Json(cfg) => connect::from_connect_data(cfg, schema, value),
            RefConverter::String { encode, .. } => Ok(if value.is_null() {
                None
            } else {
                Some(match value {
                    // Java's UTF-16 encoders replace an unpaired surrogate with U+FFFD.
                    Value::Utf16(units)
                        if matches!(
                            encode,
                            Encoding::Utf16 | Encoding::Utf16Be | Encoding::Utf16Le
                        ) =>
                    {
                        encode.encode(&utf16_lossy(units, '\u{FFFD}'))
                    }
                    _ => encode.encode(&java_to_string(value)),
                })
            }),
            RefConverter::ByteArray => {
                if let Some(s) = schema.filter(|s| s.schema_type != SchemaType::Bytes) {
                    return Err(ConnectError::data(format!(
                        "Invalid schema type for ByteArrayConverter: {}",
                        s.type_name()
                    )));
                }
                match value {
                    Value::Null => Ok(None),
                    Value::Bytes(b) => Ok(Some(b.clone())),
                    other => Err(ConnectError::data(format!(
                        "ByteArrayConverter is not compatible with objects of type {}",
                        other.java_class()
                    ))),
                }
            }
            RefConverter::Number(NumberKind::Boolean) => {
                if let Some(s) = schema.filter(|s| s.schema_type != SchemaType::Boolean) {
                    return Err(ConnectError::data(format!(
                        "Invalid schema type for BooleanConverter: {}",
                        s.type_name()
                    )));
                }
                match value {
                    Value::Null => Ok(None),
                    Value::Bool(b) => Ok(Some(vec![u8::from(*b)])),
                    other => Err(ConnectError::data(format!(
                        "BooleanConverter is not compatible with objects of type {}",
                        other.java_class()
                    ))),
                }
            }
            RefConverter::Number(kind) => {
                let bytes = match (kind, value) {
                    // Kafka's DoubleSerializer (doubleToLongBits) gives every NaN one bit
                    // pattern; its FloatSerializer (floatToRawIntBits) keeps the payload.
                    (NumberKind::Double, Value::F64(v)) if v.is_nan() => {
                        0x7ff8_0000_0000_0000u64.to_be_bytes().to_vec()
                    }
                    (_, Value::Null) => return Ok(None),
                    (NumberKind::Short, Value::I16(v)) => v.to_be_bytes().to_vec(),
                    (NumberKind::Integer, Value::I32(v)) => v.to_be_bytes().to_vec(),
                    (NumberKind::Long, Value::I64(v)) => v.to_be_bytes().to_vec(),
                    (NumberKind::Float, Value::F32(v)) => v.to_be_bytes().to_vec(),
                    (NumberKind::Double, Value::F64(v)) => v.to_be_bytes().to_vec(),
                    (NumberKind::Boolean, Value::Bool(v)) => vec![u8::from(*v)],
                    (k, other) => {
                        return Err(ConnectError::data(format!(
                            "Failed to serialize to {} (was {}): ",
                            k.name(),
                            other.java_class()
                        )));
                    }
                };
                Ok(Some(bytes))
            }
        }
    }
}

/// A configured header converter: `SimpleHeaderConverter` or a converter class used for
/// headers (Kafka's converters implement `HeaderConverter` by delegating to their data path).
#[derive(Debug, Clone)]
pub enum RefHeaderConverter {
    Simple,
    Converter(RefConverter),
}

impl RefHeaderConverter {
    pub fn configure(class: &str, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        if converter_class(class) == Some("SimpleHeaderConverter") {
            return Ok(RefHeaderConverter::Simple);
        }
        RefConverter::configure("header.converter", class, props).map(RefHeaderConverter::Converter)
    }

    /// `toConnectHeader`, then the check `ConnectHeaders.add` makes of what it returns: a
    /// null value needs an optional schema (a JsonConverter envelope whose payload does not
    /// fit its required schema decodes to null and fails here, in the header converter's
    /// stage).
    pub fn to_connect(
        &self,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<Arc<ConnectSchema>>, Value), ConnectError> {
        match self {
            RefHeaderConverter::Converter(c) => {
                let (schema, value) = c.to_connect(bytes)?;
                if value.is_null()
                    && let Some(s) = schema.as_ref().filter(|s| !s.optional)
                {
                    return Err(ConnectError::data(format!(
                        "A null value requires an optional schema but was {}",
                        crate::model::schema::schema_to_string(Some(s))
                    )));
                }
                Ok((schema, value))
            }
            RefHeaderConverter::Simple => {
                let Some(b) = bytes else {
                    return Ok((None, Value::Null));
                };
                let text = decode_utf8_like_java(b);
                Ok(crate::reference::values::parse_string(&text).unwrap_or((None, Value::Null)))
            }
        }
    }

    /// `fromConnectHeader`.
    pub fn from_connect(
        &self,
        schema: Option<&ConnectSchema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConnectError> {
        match self {
            RefHeaderConverter::Converter(c) => c.from_connect(schema, value),
            RefHeaderConverter::Simple => Ok(if value.is_null() {
                None
            } else {
                Some(crate::reference::values::convert_to_string(value).into_bytes())
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_render_like_java() {
        assert_eq!(
            java_date_to_string(1_700_000_000_000),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
        assert_eq!(java_date_to_string(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(
            java_date_to_string(-86_400_000),
            "Wed Dec 31 00:00:00 UTC 1969"
        );
    }

    #[test]
    fn number_converters_check_width() {
        let c = RefConverter::configure(
            "value.converter",
            "org.apache.kafka.connect.converters.LongConverter",
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(
            c.to_connect(Some(&7i64.to_be_bytes())).unwrap().1,
            Value::I64(7)
        );
        assert_eq!(
            c.to_connect(Some(b"")).unwrap_err().message.as_deref(),
            Some("Failed to deserialize long: ")
        );
        assert_eq!(
            c.from_connect(None, &Value::String("x".into()))
                .unwrap_err()
                .message
                .as_deref(),
            Some("Failed to serialize to long (was class java.lang.String): ")
        );
    }
}
