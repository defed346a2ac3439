//! Kafka Connect's `Values` string forms, which `SimpleHeaderConverter` uses: parsing a
//! header string into a typed value (booleans, the smallest fitting integer, floats,
//! decimals, ISO-8601 dates/times/timestamps, arrays, maps, else the string itself) and
//! rendering any value back to a string.

use std::sync::Arc;

use crate::java;
use crate::model::schema::{ConnectSchema, SchemaType, logical};
use crate::model::value::Value;

/// A parsed value with its schema (`None` = no schema, as for null).
pub type SchemaAndValue = (Option<Arc<ConnectSchema>>, Value);

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Java's `String.trim()`: strips chars <= U+0020.
fn jtrim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// The tokenizer of `Values.Parser`: delimiters `: , { } [ ] "` unless backslash-escaped.
struct Parser<'a> {
    original: &'a str,
    index: usize,
    next_token: Option<&'a str>,
    previous: Option<&'a str>,
}

impl<'a> Parser<'a> {
    fn new(original: &'a str) -> Self {
        Self {
            original,
            index: 0,
            next_token: None,
            previous: None,
        }
    }

    fn mark(&self) -> usize {
        self.index - self.next_token.map_or(0, str::len)
    }

    fn rewind(&mut self, pos: usize) {
        self.index = pos;
        self.next_token = None;
        self.previous = None;
    }

    fn can_consume_next(&self) -> bool {
        self.index < self.original.len()
    }

    fn has_next(&self) -> bool {
        self.next_token.is_some() || self.can_consume_next()
    }

    fn consume_token(&mut self) -> &'a str {
        let bytes = self.original.as_bytes();
        let start = self.index;
        let mut escaped = false;
        while self.index < bytes.len() {
            match bytes[self.index] {
                b'\\' => escaped = !escaped,
                b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"' => {
                    if !escaped {
                        if start < self.index {
                            return &self.original[start..self.index];
                        }
                        self.index += 1;
                        return &self.original[start..start + 1];
                    }
                    escaped = false;
                }
                _ => escaped = false,
            }
            // Advance by one character (delimiters are ASCII, so byte steps stay aligned
            // when we skip whole UTF-8 sequences).
            self.index += utf8_len(bytes[self.index]);
        }
        &self.original[start..self.index.min(bytes.len())]
    }

    fn next(&mut self) -> &'a str {
        let t = match self.next_token.take() {
            Some(t) => t,
            None => self.consume_token(),
        };
        self.previous = Some(t);
        t
    }

    fn next_n(&mut self, n: usize) -> Option<&'a str> {
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind(start);
                return None;
            }
            self.next();
        }
        Some(&self.original[start..self.index])
    }

    fn can_consume(&mut self, expected: &str) -> bool {
        if self.next_token.is_none() {
            if !self.has_next() {
                return false;
            }
            self.next_token = Some(self.consume_token());
        }
        while self.next_token.is_some_and(|t| jtrim(t).is_empty()) && self.can_consume_next() {
            self.next_token = Some(self.consume_token());
        }
        if self.next_token.is_some_and(|t| jtrim(t) == expected) {
            self.next_token = None;
            return true;
        }
        false
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// A parse failure that makes an array/map attempt fall back to a string.
struct ParseFail;

/// `Values.parseString`.
pub fn parse_string(value: &str) -> Option<SchemaAndValue> {
    if value.is_empty() {
        return Some((
            Some(ConnectSchema::string_required()),
            Value::String(String::new()),
        ));
    }
    let mut p = Parser::new(value);
    parse(&mut p, false).ok().flatten()
}

fn single_literal(p: &mut Parser<'_>, embedded: bool, literal: &str) -> bool {
    let start = p.mark();
    if p.can_consume(literal) && (embedded || !p.has_next()) {
        return true;
    }
    p.rewind(start);
    false
}

fn primitive(t: SchemaType) -> Arc<ConnectSchema> {
    Arc::new(ConnectSchema::new(t, false))
}

fn parse(p: &mut Parser<'_>, embedded: bool) -> Result<Option<SchemaAndValue>, ParseFail> {
    if !p.has_next() {
        return Ok(None);
    }
    if embedded && p.can_consume("\"") {
        let mut content = String::new();
        while p.has_next() {
            if p.can_consume("\"") {
                break;
            }
            content.push_str(p.next());
        }
        if let Some((Some(s), v)) = parse_string(&content)
            && matches!(
                s.logical(),
                Some(logical::DATE | logical::TIME | logical::TIMESTAMP)
            )
        {
            return Ok(Some((Some(s), v)));
        }
        return Ok(Some((
            Some(primitive(SchemaType::String)),
            Value::String(content),
        )));
    }
    if single_literal(p, embedded, "null") {
        return Ok(None);
    }
    if single_literal(p, embedded, "true") {
        return Ok(Some((
            Some(primitive(SchemaType::Boolean)),
            Value::Bool(true),
        )));
    }
    if single_literal(p, embedded, "false") {
        return Ok(Some((
            Some(primitive(SchemaType::Boolean)),
            Value::Bool(false),
        )));
    }
    let start = p.mark();
    match parse_container(p) {
        Ok(Some(v)) => return Ok(Some(v)),
        Ok(None) => {}
        Err(ParseFail) => p.rewind(start),
    }
    let raw = p.next();
    if jtrim(raw).is_empty() {
        return Ok(Some((
            Some(primitive(SchemaType::String)),
            Value::String(raw.to_string()),
        )));
    }
    let token = jtrim(raw);
    let first = token.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() {
        let pos = p.mark();
        if let Some(rest) = p.next_n(4)
            && let Some(t) = parse_temporal(&format!("{token}{rest}"))
        {
            return Ok(Some(t));
        }
        p.rewind(pos);
        if let Some(t) = parse_temporal(token) {
            return Ok(Some(t));
        }
    }
    if (first.is_ascii_digit() || first == '+' || first == '-')
        && let Some(n) = parse_number(token)
    {
        return Ok(Some(n));
    }
    if embedded {
        return Err(ParseFail);
    }
    Ok(Some((
        Some(primitive(SchemaType::String)),
        Value::String(p.original.to_string()),
    )))
}

/// Arrays and maps; `Ok(None)` when the next token opens neither.
fn parse_container(p: &mut Parser<'_>) -> Result<Option<SchemaAndValue>, ParseFail> {
    if p.can_consume("[") {
        let mut items: Vec<Value> = Vec::new();
        let mut element: Option<Arc<ConnectSchema>> = None;
        let (mut seen_schema, mut mixed) = (false, false);
        while p.has_next() {
            if p.can_consume("]") {
                // Elements without a common schema (Kafka 4.x): an array of no item schema.
                let schema = if mixed {
                    ConnectSchema::new(SchemaType::Array, false)
                } else if seen_schema {
                    let item = element.clone().ok_or(ParseFail)?;
                    let aligned = items
                        .iter()
                        .map(|v| convert_to(&item, v))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(ParseFail)?;
                    items = aligned;
                    let mut s = ConnectSchema::new(SchemaType::Array, false);
                    s.value = Some(item);
                    s
                } else {
                    ConnectSchema::new(SchemaType::Array, false)
                };
                return Ok(Some((Some(Arc::new(schema)), Value::Array(items))));
            }
            if p.can_consume(",") {
                return Err(ParseFail);
            }
            let e = parse(p, true)?;
            if let (Some((s, _)), false) = (&e, mixed) {
                element = common_schema(
                    if seen_schema { element.as_ref() } else { None },
                    s.as_ref(),
                    seen_schema,
                );
                mixed = element.is_none();
                seen_schema = true;
            }
            items.push(e.map_or(Value::Null, |(_, v)| v));
            let here = p.mark();
            if p.can_consume("]") {
                p.rewind(here);
            } else if !p.can_consume(",") {
                return Err(ParseFail);
            }
        }
        return Err(ParseFail);
    }
    if p.can_consume("{") {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        let (mut key_schema, mut value_schema): (
            Option<Arc<ConnectSchema>>,
            Option<Arc<ConnectSchema>>,
        ) = (None, None);
        let (mut seen_key, mut seen_value, mut mixed_keys) = (false, false, false);
        while p.has_next() {
            if p.can_consume("}") {
                let mut s = ConnectSchema::new(SchemaType::Map, false);
                if mixed_keys {
                    // No key schema, and the values keep what they parsed as.
                    s.value = value_schema.clone().filter(|_| seen_value);
                } else if seen_key {
                    let ks = key_schema.clone().ok_or(ParseFail)?;
                    let vs = if seen_value {
                        value_schema.clone()
                    } else {
                        None
                    };
                    entries = entries
                        .into_iter()
                        .map(|(k, v)| {
                            Some((
                                convert_to(&ks, &k)?,
                                match &vs {
                                    Some(vs) => convert_to(vs, &v)?,
                                    None => v,
                                },
                            ))
                        })
                        .collect::<Option<Vec<_>>>()
                        .ok_or(ParseFail)?;
                    s.key = Some(ks);
                    s.value = vs;
                }
                return Ok(Some((Some(Arc::new(s)), Value::Map(entries))));
            }
            if p.can_consume(",") {
                return Err(ParseFail);
            }
            let key = parse(p, true)?;
            let Some((ks, k)) = key.filter(|(_, v)| !v.is_null()) else {
                return Err(ParseFail);
            };
            if !p.can_consume(":") {
                return Err(ParseFail);
            }
            let value = parse(p, true)?;
            Value::map_put(
                &mut entries,
                k,
                value.as_ref().map_or(Value::Null, |(_, v)| v.clone()),
            );
            p.can_consume(",");
            // Keys without a common schema (Kafka 4.x): a map of no key schema.
            if !mixed_keys {
                key_schema = common_schema(
                    if seen_key { key_schema.as_ref() } else { None },
                    ks.as_ref(),
                    seen_key,
                );
                mixed_keys = key_schema.is_none();
            }
            seen_key = true;
            if let Some((vs, _)) = &value {
                value_schema = common_schema(
                    if seen_value {
                        value_schema.as_ref()
                    } else {
                        None
                    },
                    vs.as_ref(),
                    seen_value,
                );
                seen_value = value_schema.is_some();
            }
        }
        return Err(ParseFail);
    }
    Ok(None)
}

/// `commonSchemaFor`: widen numbers, keep equal schemas, else no common schema.
fn common_schema(
    previous: Option<&Arc<ConnectSchema>>,
    latest: Option<&Arc<ConnectSchema>>,
    had_previous: bool,
) -> Option<Arc<ConnectSchema>> {
    let latest = latest?;
    if !had_previous {
        return Some(latest.clone());
    }
    let previous = previous?;
    use SchemaType::*;
    let rank = |t: SchemaType| match t {
        Int8 => Some(0),
        Int16 => Some(1),
        Int32 => Some(2),
        Int64 => Some(3),
        Float32 => Some(4),
        Float64 => Some(5),
        _ => None,
    };
    if previous.schema_type != latest.schema_type {
        return match (rank(previous.schema_type), rank(latest.schema_type)) {
            (Some(a), Some(b)) if b > a => Some(latest.clone()),
            (Some(a), Some(b)) if b < a && previous.schema_type != Int8 => Some(previous.clone()),
            _ => None,
        };
    }
    if previous.optional == latest.optional || **previous == **latest {
        return Some(if previous.optional {
            previous.clone()
        } else {
            latest.clone()
        });
    }
    None
}

/// `Values.convertTo` for the primitive targets that list/map alignment needs.
fn convert_to(to: &ConnectSchema, v: &Value) -> Option<Value> {
    if v.is_null() {
        return if to.optional { Some(Value::Null) } else { None };
    }
    let as_long = |v: &Value| -> Option<i64> {
        Some(match v {
            Value::I8(x) => i64::from(*x),
            Value::I16(x) => i64::from(*x),
            Value::I32(x) => i64::from(*x),
            Value::I64(x) => *x,
            Value::F32(x) => *x as i64,
            Value::F64(x) => *x as i64,
            _ => return None,
        })
    };
    let as_double = |v: &Value| -> Option<f64> {
        Some(match v {
            Value::F32(x) => f64::from(*x),
            Value::F64(x) => *x,
            other => as_long(other)? as f64,
        })
    };
    Some(match (to.schema_type, v) {
        (SchemaType::Int8, Value::I8(_))
        | (SchemaType::Int16, Value::I16(_))
        | (SchemaType::Int32, Value::I32(_))
        | (SchemaType::Int64, Value::I64(_)) => v.clone(),
        (SchemaType::Float32, Value::F32(_)) | (SchemaType::Float64, Value::F64(_)) => v.clone(),
        (SchemaType::Int8, _) => Value::I8(as_long(v)? as i8),
        (SchemaType::Int16, _) => Value::I16(as_long(v)? as i16),
        (SchemaType::Int32, _) if to.logical().is_none() => Value::I32(as_long(v)? as i32),
        (SchemaType::Int64, _) if to.logical().is_none() => Value::I64(as_long(v)?),
        (SchemaType::Float32, _) => Value::F32(as_double(v)? as f32),
        (SchemaType::Float64, _) => Value::F64(as_double(v)?),
        _ => v.clone(),
    })
}

/// Parses a number token as `Values` does: smallest exact integer type, then float, double
/// (only when the literal has a fraction/exponent), else a Decimal.
fn parse_number(token: &str) -> Option<SchemaAndValue> {
    let (unscaled, scale) = parse_big_decimal(token)?;
    // Exact integer value (no nonzero fraction)?
    // Exact integer value (no nonzero fraction)? Too large for 128 bits is not a long either.
    let integral: Option<i128> = if scale <= 0 {
        10i128
            .checked_pow(scale.unsigned_abs())
            .and_then(|p| unscaled.checked_mul(p))
    } else {
        match 10i128.checked_pow(scale.unsigned_abs()) {
            Some(d) if unscaled % d == 0 => Some(unscaled / d),
            Some(_) => None,
            None => (unscaled == 0).then_some(0),
        }
    };
    if let Some(i) = integral {
        if let Ok(v) = i8::try_from(i) {
            return Some((Some(primitive(SchemaType::Int8)), Value::I8(v)));
        }
        if let Ok(v) = i16::try_from(i) {
            return Some((Some(primitive(SchemaType::Int16)), Value::I16(v)));
        }
        if let Ok(v) = i32::try_from(i) {
            return Some((Some(primitive(SchemaType::Int32)), Value::I32(v)));
        }
        if let Ok(v) = i64::try_from(i) {
            return Some((Some(primitive(SchemaType::Int64)), Value::I64(v)));
        }
    }
    let normalized = token.trim_start_matches('+');
    if scale != 0 {
        let f: f32 = normalized.parse().ok()?;
        if f.is_finite() {
            return Some((
                Some(primitive(SchemaType::Float32)),
                Value::F32(if f == 0.0 { 0.0 } else { f }),
            ));
        }
        let d: f64 = normalized.parse().ok()?;
        if d.is_finite() {
            return Some((
                Some(primitive(SchemaType::Float64)),
                Value::F64(if d == 0.0 { 0.0 } else { d }),
            ));
        }
    }
    let mut s = ConnectSchema::new(SchemaType::Bytes, false);
    s.name = Some(logical::DECIMAL.into());
    s.version = Some(1);
    s.parameters = Some(vec![(logical::SCALE_PARAM.into(), scale.to_string())]);
    Some((Some(Arc::new(s)), Value::Decimal { unscaled, scale }))
}

/// `new BigDecimal(token)` for values that fit 128 bits: (unscaled, scale).
fn parse_big_decimal(token: &str) -> Option<(i128, i32)> {
    let (mantissa, exp) = match token.find(['e', 'E']) {
        Some(i) => (
            &token[..i],
            token[i + 1..].trim_start_matches('+').parse::<i32>().ok()?,
        ),
        None => (token, 0),
    };
    let (sign, m) = match mantissa.as_bytes().first()? {
        b'-' => ("-", &mantissa[1..]),
        b'+' => ("", &mantissa[1..]),
        _ => ("", mantissa),
    };
    let (int_part, frac) = m.split_once('.').unwrap_or((m, ""));
    if (int_part.is_empty() && frac.is_empty())
        || !int_part
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{sign}{int_part}{frac}");
    Some((digits.parse().ok()?, frac.len() as i32 - exp))
}

/// `Values.parseAsTemporal`: a token of the length of an ISO-8601 time (13), timestamp (24)
/// or date (10) is parsed with that `SimpleDateFormat` pattern, leniently and in UTC, and is
/// that temporal when the pattern's fields all parse from its start (trailing text is
/// ignored, as `parse(text, ParsePosition)` does): `0-0-9Z9Z09` is a date.
fn parse_temporal(token: &str) -> Option<SchemaAndValue> {
    use crate::java::simple_date_format::SimpleDateFormat;
    use std::sync::OnceLock;
    static FORMATS: OnceLock<Option<[SimpleDateFormat; 3]>> = OnceLock::new();
    let [time, timestamp, date] = FORMATS
        .get_or_init(|| {
            Some([
                SimpleDateFormat::new("HH:mm:ss.SSS'Z'").ok()?,
                SimpleDateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").ok()?,
                SimpleDateFormat::new("yyyy-MM-dd").ok()?,
            ])
        })
        .as_ref()?;
    let token = token.replace("\\:", ":");
    let logical_schema = |t: SchemaType, name: &str| {
        let mut s = ConnectSchema::new(t, false);
        s.name = Some(name.into());
        s.version = Some(1);
        Some(Arc::new(s))
    };
    // Java's `String.length()`: UTF-16 units.
    let (format, schema) = match token.encode_utf16().count() {
        13 => (time, logical_schema(SchemaType::Int32, logical::TIME)),
        24 => (
            timestamp,
            logical_schema(SchemaType::Int64, logical::TIMESTAMP),
        ),
        10 => (date, logical_schema(SchemaType::Int32, logical::DATE)),
        _ => return None,
    };
    Some((schema, Value::Date(format.parse(&token)?)))
}

/// `Values.convertToString` (`append(sb, value, false)`).
pub fn convert_to_string(value: &Value) -> String {
    let mut out = String::new();
    append(&mut out, value, false);
    out
}

fn append(out: &mut String, value: &Value, embedded: bool) {
    match value {
        Value::Null => out.push_str("null"),
        Value::String(s) if embedded => {
            out.push('"');
            out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            let mut enc = Vec::new();
            crate::json::connect::base64_encode(b, &mut enc);
            let enc = String::from_utf8_lossy(&enc);
            if embedded {
                out.push('"');
                out.push_str(&enc);
                out.push('"');
            } else {
                out.push_str(&enc);
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, v, true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, k, true);
                out.push(':');
                append(out, v, true);
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push('{');
            for (i, (f, v)) in s.schema.fields.iter().zip(&s.values).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, &Value::String(f.name.clone()), true);
                out.push(':');
                // `Struct.get(field)`: a null reads as the field's default.
                let v = match (v, &f.schema.default) {
                    (Value::Null, Some(default)) => default,
                    (v, _) => v,
                };
                append(out, v, true);
            }
            out.push('}');
        }
        Value::Date(ms) => out.push_str(&format_date(*ms)),
        Value::Decimal { unscaled, scale } => {
            out.push_str(&java::big_decimal_to_string(&unscaled.to_string(), *scale))
        }
        other => out.push_str(&crate::java::java_to_string(other)),
    }
}

/// `dateFormatFor(value).format(value)` in UTC.
fn format_date(ms: i64) -> String {
    let days = ms.div_euclid(MILLIS_PER_DAY);
    let tod = ms.rem_euclid(MILLIS_PER_DAY);
    let time = format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        tod / 3_600_000,
        (tod / 60_000) % 60,
        (tod / 1000) % 60,
        tod % 1000
    );
    if ms < MILLIS_PER_DAY {
        return time;
    }
    // SimpleDateFormat: Java's calendar (Julian before 1582-10-15), years of the era.
    let (y, m, d) = crate::java::simple_date_format::hybrid_from_days(days);
    let y = if y > 0 { y } else { 1 - y };
    let date = format!("{y:04}-{m:02}-{d:02}");
    if ms % MILLIS_PER_DAY == 0 {
        date
    } else {
        format!("{date}T{time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> (Option<SchemaType>, Value) {
        let (schema, v) = parse_string(s).unwrap_or((None, Value::Null));
        (schema.map(|s| s.schema_type), v)
    }

    #[test]
    fn parses_like_values() {
        assert_eq!(ty("true"), (Some(SchemaType::Boolean), Value::Bool(true)));
        assert_eq!(
            ty("true}"),
            (Some(SchemaType::String), Value::String("true}".into()))
        );
        assert_eq!(ty("42"), (Some(SchemaType::Int8), Value::I8(42)));
        assert_eq!(ty("300"), (Some(SchemaType::Int16), Value::I16(300)));
        assert_eq!(ty("1.0"), (Some(SchemaType::Int8), Value::I8(1)));
        assert_eq!(ty("1.5"), (Some(SchemaType::Float32), Value::F32(1.5)));
        assert_eq!(
            ty("hello world"),
            (
                Some(SchemaType::String),
                Value::String("hello world".into())
            )
        );
        assert_eq!(ty("null"), (None, Value::Null));
        let (s, v) = ty("[1,2,300]");
        assert_eq!(s, Some(SchemaType::Array));
        assert_eq!(
            v,
            Value::Array(vec![Value::I16(1), Value::I16(2), Value::I16(300)])
        );
        let (s, v) = ty("{\"a\":1,\"b\":2}");
        assert_eq!(s, Some(SchemaType::Map));
        assert_eq!(
            v,
            Value::Map(vec![
                (Value::String("a".into()), Value::I8(1)),
                (Value::String("b".into()), Value::I8(2))
            ])
        );
        assert_eq!(ty("2023-11-14").1, Value::Date(1_699_920_000_000));
        assert_eq!(ty("12:00:00.000Z").1, Value::Date(43_200_000));
        // Lenient, from the start, trailing text ignored: year 0, month 0, day 9 is a date.
        let (_, v) = ty("0-0-9Z9Z09");
        assert!(matches!(v, Value::Date(ms) if ms < 0), "{v:?}");
        assert_eq!(ty("0-0-9Z9Z0").1, Value::String("0-0-9Z9Z0".into()));
        assert_eq!(
            ty("[1,"),
            (Some(SchemaType::String), Value::String("[1,".into()))
        );
    }

    #[test]
    fn renders_like_values() {
        assert_eq!(
            convert_to_string(&Value::Array(vec![
                Value::String("a\"b".into()),
                Value::I32(1)
            ])),
            r#"["a\"b",1]"#
        );
        assert_eq!(
            convert_to_string(&Value::Date(1_699_920_000_000)),
            "2023-11-14"
        );
        assert_eq!(
            convert_to_string(&Value::Date(1_700_000_000_000)),
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(convert_to_string(&Value::Date(1000)), "00:00:01.000Z");
    }
}
