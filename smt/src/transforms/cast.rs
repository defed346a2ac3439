//! `Cast$Key/$Value`: casts fields (or the whole value) to INT8..FLOAT64, BOOLEAN or STRING,
//! with Kafka's parsing of `spec`, schema rebuilding (casted defaults, copied schema basics)
//! and `castTo*` conversions.

use sluice_codecs::model::schema::validate_put;
use std::collections::HashMap;
use std::sync::Arc;

use sluice_codecs::error::ConnectError;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType, logical};
use sluice_codecs::model::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::{Props, invalid_value};
use crate::record::{ConnectRecord, Side};
use crate::util::{copy_basics, map_get, push_field, require_map, require_struct};

const OUTPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";
const INPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";

#[derive(Debug)]
pub struct Cast {
    pub(crate) side: Side,
    pub(crate) whole: Option<SchemaType>,
    pub(crate) casts: Vec<(String, SchemaType)>,
    /// `casts` in the iteration order of the `HashMap` Kafka keeps them in: a schemaless
    /// value is cast in that order, which decides which failing cast is reported.
    hash_order: Vec<usize>,
    replace_null_with_default: bool,
}

fn type_from_name(name: &str) -> Option<SchemaType> {
    Some(match name {
        "INT8" => SchemaType::Int8,
        "INT16" => SchemaType::Int16,
        "INT32" => SchemaType::Int32,
        "INT64" => SchemaType::Int64,
        "FLOAT32" => SchemaType::Float32,
        "FLOAT64" => SchemaType::Float64,
        "BOOLEAN" => SchemaType::Boolean,
        "STRING" => SchemaType::String,
        "BYTES" => SchemaType::Bytes,
        "ARRAY" => SchemaType::Array,
        "MAP" => SchemaType::Map,
        "STRUCT" => SchemaType::Struct,
        _ => return None,
    })
}

fn valid_output(t: SchemaType) -> Result<SchemaType, ConnectError> {
    match t {
        SchemaType::Bytes | SchemaType::Array | SchemaType::Map | SchemaType::Struct => {
            Err(ConnectError::config(format!(
                "Cast transformation does not support casting to {}; supported types are {OUTPUT_TYPES}",
                t.json_name_upper()
            )))
        }
        ok => Ok(ok),
    }
}

impl Cast {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let spec = p.list("spec", None)?;
        if spec.is_empty() {
            return Err(ConnectError::config(
                "Must specify at least one field to cast.",
            ));
        }
        let parse_type = |name: &str| {
            let upper = name.trim().to_uppercase();
            type_from_name(&upper).ok_or_else(|| {
                ConnectError::config(format!(
                    "Invalid value java.lang.IllegalArgumentException: No enum constant org.apache.kafka.connect.data.Schema.Type.{upper} for configuration Invalid type found in casting spec: {}",
                    name.trim()
                ))
            })
        };
        let (mut whole, mut casts) = (None, Vec::new());
        for mapping in &spec {
            // Java's `split(":")`: trailing empty parts are dropped (`a:` is `[a]`).
            let mut parts: Vec<&str> = mapping.split(':').collect();
            if !mapping.is_empty() {
                while parts.last() == Some(&"") {
                    parts.pop();
                }
            }
            match parts.as_slice() {
                [t] => whole = Some(valid_output(parse_type(t)?)?),
                [f, t] => {
                    // Kafka keeps the casts in a `HashMap`: a field named twice takes the
                    // last type but keeps its first place (its bucket chain order).
                    let (field, to) = (f.trim().to_string(), valid_output(parse_type(t)?)?);
                    match casts.iter_mut().find(|(named, _)| *named == field) {
                        Some(slot) => slot.1 = to,
                        None => casts.push((field, to)),
                    }
                }
                _ => {
                    return Err(invalid_value(
                        &format!("[{}]", spec.join(", ")),
                        "renames",
                        &format!("Invalid rename mapping: {mapping}"),
                    ));
                }
            }
        }
        if whole.is_some() && spec.len() > 1 {
            return Err(ConnectError::config(
                "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec",
            ));
        }
        let hash_order = java_hash_order(
            casts
                .iter()
                .enumerate()
                .map(|(i, (f, _))| (Value::String(f.clone()), Value::I64(i as i64)))
                .collect(),
            JavaMapInit::Default,
        )
        .into_iter()
        .filter_map(|(_, i)| match i {
            Value::I64(i) => usize::try_from(i).ok(),
            _ => None,
        })
        .collect();
        Ok(Self {
            side,
            whole,
            hash_order,
            casts,
            replace_null_with_default: p.boolean("replace.null.with.default", true)?,
        })
    }

    fn target(&self, field: &str) -> Option<SchemaType> {
        self.casts.iter().find(|(f, _)| f == field).map(|(_, t)| *t)
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "cast types";
        let (schema, value) = r.side(self.side);
        if value.is_null() {
            return Ok(r);
        }
        match schema {
            None => {
                if let Some(t) = self.whole {
                    let v = cast_value(None, value, t)?;
                    return Ok(r.clone().with_side(self.side, None, v));
                }
                let m = require_map(value, PURPOSE)?;
                let mut out = m.clone();
                for (f, t) in self.hash_order.iter().filter_map(|&i| self.casts.get(i)) {
                    let v = cast_value(None, map_get(m, f).unwrap_or(&Value::Null), *t)?;
                    Value::map_put(&mut out, Value::String(f.clone()), v);
                }
                let out = java_hash_order(out, JavaMapInit::CopyOf(m.len()));
                Ok(r.clone().with_side(self.side, None, Value::Map(out)))
            }
            Some(s) => {
                let updated = Arc::new(self.build_schema(s)?);
                if let Some(t) = self.whole {
                    let v = cast_value(Some(s), value, t)?;
                    return Ok(r.clone().with_side(self.side, Some(updated), v));
                }
                let st = require_struct(value, PURPOSE)?;
                let mut values = Vec::with_capacity(st.values.len());
                for f in &st.schema.fields {
                    let orig = match (&st.values[f.index], self.replace_null_with_default) {
                        (Value::Null, true) => f.schema.default.clone().unwrap_or(Value::Null),
                        (v, _) => v.clone(),
                    };
                    let v = match self.target(&f.name) {
                        Some(t) => cast_value(Some(&f.schema), &orig, t)?,
                        None => orig,
                    };
                    validate_put(Some(&f.name), &updated.fields[f.index].schema, &v)?;
                    values.push(v);
                }
                Ok(r.clone().with_side(
                    self.side,
                    Some(updated.clone()),
                    Value::Struct(Struct {
                        schema: updated,
                        values,
                    }),
                ))
            }
        }
    }

    pub(crate) fn build_schema(&self, s: &ConnectSchema) -> Result<ConnectSchema, ConnectError> {
        let mut out = if let Some(t) = self.whole {
            let mut o = copy_basics(s);
            o.schema_type = t;
            o.key = None;
            o.value = None;
            o.optional = false;
            o
        } else {
            if s.schema_type != SchemaType::Struct {
                return Err(ConnectError::data("Cannot list fields on non-struct type"));
            }
            let mut o = copy_basics(s);
            o.optional = false;
            for f in &s.fields {
                match self.target(&f.name) {
                    Some(t) => {
                        let mut fs = ConnectSchema::new(t, f.schema.optional);
                        if let Some(d) = &f.schema.default {
                            fs.default = Some(cast_value(Some(&f.schema), d, t)?);
                        }
                        push_field(&mut o, &f.name, Arc::new(fs))?;
                    }
                    None => push_field(&mut o, &f.name, f.schema.clone())?,
                }
            }
            o
        };
        if s.optional {
            out.optional = true;
        }
        if let Some(d) = &s.default {
            let cast = cast_value(Some(s), d, out.schema_type)?;
            // The whole-value schema keeps the input's name: a logical type's name
            // (Decimal, Date, Time, Timestamp) refuses the cast default, a plain number
            // or string, as Kafka's SchemaBuilder.defaultValue does.
            if self.whole.is_some() && out.logical().is_some() {
                return Err(ConnectError::schema_builder("Invalid default value"));
            }
            out.default = Some(cast);
        }
        Ok(out)
    }
}

/// `castValueToType`.
fn cast_value(
    schema: Option<&ConnectSchema>,
    value: &Value,
    target: SchemaType,
) -> Result<Value, ConnectError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let inferred = match schema {
        Some(s) => s.schema_type,
        None => value.schema_type().ok_or_else(|| {
            ConnectError::data(format!(
                "Cast transformation was passed a value of type {} which is not supported by Connect's data API",
                value.java_class()
            ))
        })?,
    };
    if matches!(
        inferred,
        SchemaType::Array | SchemaType::Map | SchemaType::Struct
    ) {
        return Err(ConnectError::data(format!(
            "Cast transformation does not support casting from {}; supported types are {INPUT_TYPES}",
            inferred.json_name_upper()
        )));
    }
    // Logical values are cast from their internal representation, except to STRING.
    let value = match (schema.and_then(|s| s.logical()), value, target) {
        (_, v, SchemaType::String) => v.clone(),
        // Parsed as numbers or booleans, an unpaired surrogate is just a character that fails.
        (_, Value::Utf16(units), _) => {
            Value::String(sluice_codecs::reference::utf16_lossy(units, '\u{FFFD}'))
        }
        (Some(logical::DATE), Value::Date(ms), _) => Value::I32((ms / 86_400_000) as i32),
        (Some(logical::TIME), Value::Date(ms), _) => Value::I32(*ms as i32),
        (Some(logical::TIMESTAMP), Value::Date(ms), _) => Value::I64(*ms),
        (_, v, _) => v.clone(),
    };
    let out_of_range = || {
        ConnectError::data(format!(
            "Value ({}) was out of range for requested data type",
            sluice_codecs::reference::java_to_string(&value)
        ))
    };
    let unexpected = || {
        ConnectError::data(format!(
            "Unexpected type in Cast transformation: {}",
            value.java_class()
        ))
    };
    let as_long = |v: &Value| -> Option<i64> {
        Some(match v {
            Value::I8(x) => i64::from(*x),
            Value::I16(x) => i64::from(*x),
            Value::I32(x) => i64::from(*x),
            Value::I64(x) => *x,
            Value::F32(x) => *x as i64,
            Value::F64(x) => *x as i64,
            Value::Decimal { unscaled, scale } => decimal_to_long(*unscaled, *scale),
            _ => return None,
        })
    };
    let as_double = |v: &Value| -> Option<f64> {
        Some(match v {
            Value::F32(x) => f64::from(*x),
            Value::F64(x) => *x,
            Value::Decimal { unscaled, scale } => format!("{unscaled}e{}", -scale).parse().ok()?,
            other => as_long(other)? as f64,
        })
    };
    let parse_int = |s: &str, bits: u32| -> Result<i64, ConnectError> {
        // Java's Byte/Short/Integer/Long.parseX: optional sign, digits, no spaces, in range.
        let v: i64 = s.parse().map_err(|_| out_of_range())?;
        if s.starts_with('+') && s.len() == 1
            || bits < 64 && (v < -(1i64 << (bits - 1)) || v >= (1i64 << (bits - 1)))
        {
            return Err(out_of_range());
        }
        Ok(v)
    };
    Ok(match target {
        SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64 => {
            let bits = match target {
                SchemaType::Int8 => 8,
                SchemaType::Int16 => 16,
                SchemaType::Int32 => 32,
                _ => 64,
            };
            let n = match &value {
                Value::Bool(b) => i64::from(*b),
                Value::String(s) => parse_int(s, bits)?,
                // Java's Double/Float.intValue() and longValue() saturate; byte and short
                // narrow from the saturated int.
                Value::F32(x) if bits < 64 => i64::from(*x as i32),
                Value::F64(x) if bits < 64 => i64::from(*x as i32),
                other => as_long(other).ok_or_else(unexpected)?,
            };
            match target {
                SchemaType::Int8 => Value::I8(n as i8),
                SchemaType::Int16 => Value::I16(n as i16),
                SchemaType::Int32 => Value::I32(n as i32),
                _ => Value::I64(n),
            }
        }
        SchemaType::Float32 | SchemaType::Float64 => {
            let d = match &value {
                Value::Bool(b) => f64::from(u8::from(*b)),
                Value::String(s) => java_parse_double(s).ok_or_else(out_of_range)?,
                Value::F32(x) if target == SchemaType::Float32 => return Ok(Value::F32(*x)),
                other => as_double(other).ok_or_else(unexpected)?,
            };
            if target == SchemaType::Float32 {
                let f = match &value {
                    Value::String(s) => s
                        .trim()
                        .trim_end_matches(['f', 'F', 'd', 'D'])
                        .parse::<f32>()
                        .unwrap_or(d as f32),
                    Value::I8(_) | Value::I16(_) | Value::I32(_) | Value::I64(_) => {
                        as_long(&value).map_or(d as f32, |l| l as f32)
                    }
                    _ => d as f32,
                };
                Value::F32(f)
            } else {
                Value::F64(d)
            }
        }
        SchemaType::Boolean => match &value {
            Value::Bool(b) => Value::Bool(*b),
            Value::String(s) => Value::Bool(s.eq_ignore_ascii_case("true")),
            other => Value::Bool(as_long(other).ok_or_else(unexpected)? != 0),
        },
        SchemaType::String if matches!(value, Value::Utf16(_)) => value,
        SchemaType::String => Value::String(match &value {
            Value::Date(_) => sluice_codecs::reference::values::convert_to_string(&value),
            Value::Bytes(b) => {
                let mut out = Vec::new();
                sluice_codecs::json::connect::base64_encode(b, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
            other => sluice_codecs::reference::java_to_string(other),
        }),
        _ => return Err(unexpected()),
    })
}

fn decimal_to_long(unscaled: i128, scale: i32) -> i64 {
    if scale <= 0 {
        unscaled.wrapping_mul(10i128.wrapping_pow((-scale) as u32)) as i64
    } else {
        10i128.checked_pow(scale as u32).map_or(0, |d| unscaled / d) as i64
    }
}

/// `Double.parseDouble`: leading/trailing white space allowed, optional `d`/`f` suffix.
fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    match t {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => None,
        _ => t.parse().ok(),
    }
}
