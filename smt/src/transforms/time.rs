//! TimestampRouter (topic from `topic.format` with `${topic}` and `${timestamp}`) and
//! TimestampConverter$Key/$Value (between string, unix, Date, Time and Timestamp).

use sluice_codecs::model::schema::validate_put;
use std::collections::HashMap;
use std::sync::Arc;

use sluice_codecs::error::ConnectError;
use sluice_codecs::java::simple_date_format::SimpleDateFormat;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType, logical};
use sluice_codecs::model::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::Props;
use crate::record::{ConnectRecord, Side};
use crate::util::{copy_basics, map_get, push_field, require_map, require_struct};

const DAY_MS: i64 = 86_400_000;

/// `TimestampRouter`.
#[derive(Debug)]
pub struct TimestampRouter {
    pub(crate) topic_format: String,
    /// Kafka builds the `SimpleDateFormat` on first use, so a bad pattern fails each record
    /// (IllegalArgumentException at TRANSFORMATION), not the configuration.
    pub(crate) format: Result<SimpleDateFormat, ConnectError>,
}

impl TimestampRouter {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let topic_format = p
            .get("topic.format")
            .unwrap_or("${topic}-${timestamp}")
            .to_string();
        let pattern = p.get("timestamp.format").unwrap_or("yyyyMMdd");
        let format = SimpleDateFormat::new(pattern).map_err(|e| ConnectError {
            exception: "java.lang.IllegalArgumentException",
            message: Some(e.0),
        });
        Ok(Self {
            topic_format,
            format,
        })
    }

    pub fn apply(&self, mut r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        let Some(ts) = r.timestamp else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: {}",
                r.to_java_string()
            )));
        };
        let formatted = self.format.as_ref().map_err(Clone::clone)?.format(ts);
        r.topic = self
            .topic_format
            .replace("${topic}", &r.topic)
            .replace("${timestamp}", &formatted);
        Ok(r)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// `TimestampConverter$Key/$Value`.
#[derive(Debug)]
pub struct TimestampConverter {
    pub(crate) side: Side,
    pub(crate) field: String,
    pub(crate) target: Kind,
    pub(crate) format: Option<SimpleDateFormat>,
    pub(crate) precision: Precision,
    pub(crate) replace_null_with_default: bool,
}

fn logical_schema(t: SchemaType, name: &str, optional: bool) -> Arc<ConnectSchema> {
    let mut s = ConnectSchema::new(t, optional);
    s.name = Some(name.into());
    s.version = Some(1);
    Arc::new(s)
}

impl TimestampConverter {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let field = p.get("field").unwrap_or("").to_string();
        p.required("target.type")?;
        let target = match p.one_of(
            "target.type",
            "",
            &["string", "unix", "Date", "Time", "Timestamp"],
        )? {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            _ => Kind::Timestamp,
        };
        let precision = match p.one_of(
            "unix.precision",
            "milliseconds",
            &["nanoseconds", "microseconds", "milliseconds", "seconds"],
        )? {
            "seconds" => Precision::Seconds,
            "microseconds" => Precision::Micros,
            "nanoseconds" => Precision::Nanos,
            _ => Precision::Millis,
        };
        // ConfigDef validates every key first; the format is checked by configure() after.
        let replace_null_with_default = p.boolean("replace.null.with.default", true)?;
        let pattern = p.get("format").unwrap_or("");
        if target == Kind::String && pattern.trim().is_empty() {
            return Err(ConnectError::config(
                "TimestampConverter requires format option to be specified when using string timestamps",
            ));
        }
        let format = if pattern.trim().is_empty() {
            None
        } else {
            Some(SimpleDateFormat::new(pattern).map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value java.lang.IllegalArgumentException: {} for configuration TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}",
                    e.0
                ))
            })?)
        };
        Ok(Self {
            side,
            field,
            target,
            format,
            precision,
            replace_null_with_default,
        })
    }

    pub(crate) fn target_schema(&self, optional: bool) -> Arc<ConnectSchema> {
        match self.target {
            Kind::String => Arc::new(ConnectSchema::new(SchemaType::String, optional)),
            Kind::Unix => Arc::new(ConnectSchema::new(SchemaType::Int64, optional)),
            Kind::Date => logical_schema(SchemaType::Int32, logical::DATE, optional),
            Kind::Time => logical_schema(SchemaType::Int32, logical::TIME, optional),
            Kind::Timestamp => logical_schema(SchemaType::Int64, logical::TIMESTAMP, optional),
        }
    }

    pub(crate) fn kind_of_schema(s: &ConnectSchema) -> Result<Kind, ConnectError> {
        Ok(match (s.name.as_deref(), s.schema_type) {
            (Some(logical::TIMESTAMP), _) => Kind::Timestamp,
            (Some(logical::DATE), _) => Kind::Date,
            (Some(logical::TIME), _) => Kind::Time,
            (_, SchemaType::String) => Kind::String,
            (_, SchemaType::Int64) => Kind::Unix,
            _ => {
                return Err(ConnectError {
                    exception: "org.apache.kafka.connect.errors.ConnectException",
                    message: Some(format!(
                        "Schema {} does not correspond to a known timestamp type format",
                        crate::record::schema_to_string(Some(&Arc::new(s.clone())))
                    )),
                });
            }
        })
    }

    fn kind_of_value(v: &Value) -> Result<Kind, ConnectError> {
        Ok(match v {
            Value::Date(_) => Kind::Timestamp,
            Value::I64(_) => Kind::Unix,
            Value::String(_) => Kind::String,
            other => {
                return Err(ConnectError::data(format!(
                    "TimestampConverter does not support {} objects as timestamps",
                    other.java_class()
                )));
            }
        })
    }

    /// `convertTimestamp`: value of kind `from` (inferred when `None`) to the target kind.
    fn convert(&self, v: &Value, from: Option<Kind>) -> Result<Value, ConnectError> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let from = match from {
            Some(k) => k,
            None => Self::kind_of_value(v)?,
        };
        let raw: i64 = match from {
            Kind::String => {
                let Value::String(s) = v else {
                    return Err(ConnectError::data(format!(
                        "Expected string timestamp to be a String, but found {}",
                        v.java_class()
                    )));
                };
                // Kafka parses with its `SimpleDateFormat`, null without `format`.
                let f = self.format.as_ref().ok_or(ConnectError {
                    exception: "java.lang.NullPointerException",
                    message: None,
                })?;
                f.parse(s).ok_or_else(|| {
                    ConnectError::data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        f.pattern()
                    ))
                })?
            }
            Kind::Unix => {
                let Value::I64(n) = v else {
                    return Err(ConnectError::data(format!(
                        "Expected Unix timestamp to be a Long, but found {}",
                        v.java_class()
                    )));
                };
                match self.precision {
                    Precision::Seconds => n.saturating_mul(1000),
                    Precision::Millis => *n,
                    Precision::Micros => n / 1000,
                    Precision::Nanos => n / 1_000_000,
                }
            }
            Kind::Date | Kind::Time | Kind::Timestamp => {
                let Value::Date(ms) = v else {
                    let what = match from {
                        Kind::Date => "Date",
                        Kind::Time => "Time",
                        _ => "Timestamp",
                    };
                    return Err(ConnectError::data(format!(
                        "Expected {what} to be a java.util.Date, but found {}",
                        v.java_class()
                    )));
                };
                *ms
            }
        };
        Ok(match self.target {
            Kind::String => Value::String(
                self.format
                    .as_ref()
                    .map(|f| f.format(raw))
                    .unwrap_or_default(),
            ),
            Kind::Unix => Value::I64(match self.precision {
                Precision::Seconds => raw / 1000,
                Precision::Millis => raw,
                Precision::Micros => raw.saturating_mul(1000),
                Precision::Nanos => raw.saturating_mul(1_000_000),
            }),
            // Java long arithmetic: wraps at the far ends of the range rather than failing.
            Kind::Date => Value::Date(raw.div_euclid(DAY_MS).wrapping_mul(DAY_MS)),
            Kind::Time => Value::Date(raw.rem_euclid(DAY_MS)),
            Kind::Timestamp => Value::Date(raw),
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "converting timestamp formats";
        let (schema, value) = r.side(self.side);
        match schema {
            None => {
                if value.is_null() || self.field.is_empty() {
                    let v = self.convert(value, None)?;
                    return Ok(r.clone().with_side(self.side, None, v));
                }
                let m = require_map(value, PURPOSE)?;
                let converted =
                    self.convert(map_get(m, &self.field).unwrap_or(&Value::Null), None)?;
                let mut out = m.clone();
                Value::map_put(&mut out, Value::String(self.field.clone()), converted);
                let out = java_hash_order(out, JavaMapInit::CopyOf(m.len()));
                Ok(r.clone().with_side(self.side, None, Value::Map(out)))
            }
            Some(s) => {
                if self.field.is_empty() {
                    let from = Self::kind_of_schema(s)?;
                    let v = self.convert(value, Some(from))?;
                    return Ok(r.clone().with_side(
                        self.side,
                        Some(self.target_schema(s.optional)),
                        v,
                    ));
                }
                if !value.is_null() {
                    require_struct(value, PURPOSE)?;
                }
                if s.schema_type != SchemaType::Struct {
                    return Err(ConnectError::data("Cannot list fields on non-struct type"));
                }
                let mut ns = copy_basics(s);
                ns.optional = s.optional;
                for f in &s.fields {
                    let fs = if f.name == self.field {
                        self.target_schema(f.schema.optional)
                    } else {
                        f.schema.clone()
                    };
                    push_field(&mut ns, &f.name, fs)?;
                }
                let ns = Arc::new(ns);
                let v = match value {
                    Value::Struct(st) => Value::Struct(self.convert_struct(st, &ns)?),
                    other => other.clone(),
                };
                Ok(r.clone().with_side(self.side, Some(ns), v))
            }
        }
    }

    fn convert_struct(&self, st: &Struct, ns: &Arc<ConnectSchema>) -> Result<Struct, ConnectError> {
        let mut values = Vec::with_capacity(st.values.len());
        for f in &st.schema.fields {
            let orig = match (&st.values[f.index], self.replace_null_with_default) {
                (Value::Null, true) => f.schema.default.clone().unwrap_or(Value::Null),
                (v, _) => v.clone(),
            };
            let v = if f.name == self.field {
                self.convert(&orig, Some(Self::kind_of_schema(&f.schema)?))?
            } else {
                orig
            };
            validate_put(Some(&f.name), &ns.fields[f.index].schema, &v)?;
            values.push(v);
        }
        Ok(Struct {
            schema: ns.clone(),
            values,
        })
    }
}
