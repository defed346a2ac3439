//! Routing, header and whole-value transformations: RegexRouter, DropHeaders, InsertHeader,
//! SetSchemaMetadata, HoistField, ExtractField, ValueToKey.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;
use sluice_codecs::error::ConnectError;
use sluice_codecs::schema::{ConnectSchema, SchemaType};
use sluice_codecs::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::Props;
use crate::predicates::full_match_regex;
use crate::record::{ConnectRecord, Header, Side};
use crate::util::{map_get, push_field, require_map, require_schema, require_struct};

/// `RegexRouter`: if the whole topic matches `regex`, replace it (Java `replaceFirst`).
#[derive(Debug)]
pub struct RegexRouter {
    pub(crate) regex: Regex,
    /// The translated replacement, or Java's error for a malformed one (raised on use).
    pub(crate) replacement: Result<String, String>,
}

/// Translates a Java replacement string (`$1`, `${name}`, `\$`) into the regex crate's syntax.
fn java_replacement(rep: &str, groups: usize) -> Result<String, String> {
    let mut out = String::with_capacity(rep.len());
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => return Err("character to be escaped is missing".into()),
            },
            '$' => {
                if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    out.push_str(&format!("${{{name}}}"));
                } else {
                    // Java takes the longest run of digits that is still a valid group number.
                    let mut n: usize = 0;
                    let mut any = false;
                    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let candidate = n * 10 + d as usize;
                        if any && candidate > groups {
                            break;
                        }
                        n = candidate;
                        any = true;
                        chars.next();
                    }
                    if any {
                        out.push_str(&format!("${{{n}}}"));
                    } else {
                        out.push_str("$$");
                    }
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

impl RegexRouter {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let regex = p.required("regex")?;
        let replacement = p.required("replacement")?;
        let regex = full_match_regex(regex, "regex")?;
        let replacement = java_replacement(replacement, regex.captures_len() - 1);
        Ok(Self { regex, replacement })
    }

    pub fn apply(&self, mut r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        if self.regex.is_match(&r.topic) {
            let replacement = self.replacement.as_deref().map_err(|m| ConnectError {
                exception: "java.lang.IllegalArgumentException",
                message: Some(m.clone()),
            })?;
            r.topic = self.regex.replace(&r.topic, replacement).into_owned();
        }
        Ok(r)
    }
}

/// `DropHeaders`: removes every header whose key is in `headers`.
#[derive(Debug)]
pub struct DropHeaders {
    pub(crate) headers: Vec<String>,
}

impl DropHeaders {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        Ok(Self {
            headers: Props(props).non_empty_list("headers")?,
        })
    }

    pub fn apply(&self, mut r: ConnectRecord) -> ConnectRecord {
        r.headers.retain(|h| !self.headers.contains(&h.key));
        r
    }
}

/// `InsertHeader`: appends header `header` with `value.literal` parsed as `Values` does.
#[derive(Debug)]
pub struct InsertHeader {
    pub(crate) header: String,
    pub(crate) schema: Option<Arc<ConnectSchema>>,
    pub(crate) value: Value,
}

impl InsertHeader {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let header = p.required("header")?.to_string();
        let literal = p.required("value.literal")?;
        let (schema, value) =
            sluice_codecs::values::parse_string(literal).unwrap_or((None, Value::Null));
        Ok(Self {
            header,
            schema,
            value,
        })
    }

    pub fn apply(&self, mut r: ConnectRecord) -> ConnectRecord {
        r.headers.push(Header {
            key: self.header.clone(),
            schema: self.schema.clone(),
            value: self.value.clone(),
        });
        r
    }
}

/// `SetSchemaMetadata$Key/$Value`: replaces the schema's name and/or version.
#[derive(Debug)]
pub struct SetSchemaMetadata {
    pub(crate) side: Side,
    pub(crate) name: Option<String>,
    pub(crate) version: Option<i32>,
}

impl SetSchemaMetadata {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        Ok(Self {
            side,
            name: p.get("schema.name").map(str::to_string),
            version: p.int("schema.version")?,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        let (schema, value) = r.side(self.side);
        if schema.is_none() && value.is_null() {
            // A schemaless tombstone passes through untouched.
            return Ok(r);
        }
        let schema = require_schema(schema, "updating schema metadata")?;
        // Kafka 3.8 rebuilds the schema with `schema.fields()`, which non-structs refuse.
        if schema.schema_type != SchemaType::Struct {
            return Err(ConnectError::data("Cannot list fields on non-struct type"));
        }
        let mut updated = (**schema).clone();
        if let Some(n) = &self.name {
            updated.name = Some(n.clone());
        }
        if let Some(v) = self.version {
            updated.version = Some(v);
        }
        let updated = Arc::new(updated);
        let value = match value {
            Value::Struct(s) => Value::Struct(Struct {
                schema: updated.clone(),
                values: s.values.clone(),
            }),
            other => other.clone(),
        };
        Ok(r.with_side(self.side, Some(updated), value))
    }
}

/// `HoistField$Key/$Value`: wraps the value in a struct (or map) with one field.
#[derive(Debug)]
pub struct HoistField {
    pub(crate) side: Side,
    pub(crate) field: String,
}

impl HoistField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        Ok(Self {
            side,
            field: Props(props).required("field")?.to_string(),
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        let (schema, value) = r.side(self.side);
        match schema {
            None => {
                let v = Value::Map(vec![(Value::String(self.field.clone()), value.clone())]);
                Ok(r.clone().with_side(self.side, None, v))
            }
            Some(s) => {
                let mut st = ConnectSchema::new(SchemaType::Struct, false);
                push_field(&mut st, &self.field, s.clone())?;
                if value.is_null() && !s.optional {
                    return Err(ConnectError::data(format!(
                        "Invalid value: null used for required field: \"{}\", schema type: {}",
                        self.field,
                        s.type_name()
                    )));
                }
                let st = Arc::new(st);
                let v = Value::Struct(Struct {
                    schema: st.clone(),
                    values: vec![value.clone()],
                });
                Ok(r.clone().with_side(self.side, Some(st), v))
            }
        }
    }
}

/// A field path of `ExtractField` (`field.syntax.version` V1: a plain name; V2: dotted path
/// with backtick quoting).
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    pub(crate) original: String,
    pub(crate) steps: Vec<String>,
    pub(crate) v2: bool,
}

fn parse_path(path: &str, v2: bool) -> Result<FieldPath, ConnectError> {
    if !v2 {
        return Ok(FieldPath {
            original: path.to_string(),
            steps: vec![path.to_string()],
            v2,
        });
    }
    // KIP-821 (Kafka's SingleFieldPath V2): steps split at dots; a step that starts with a
    // backtick ends at a backtick followed by a dot or the end of the path; a backslash before
    // such a backtick escapes it; other backticks are part of the name.
    let c: Vec<char> = path.chars().collect();
    let incomplete = |at: usize| {
        ConnectError::config(format!(
            "Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it"
        ))
    };
    let find = |from: usize, ch: char| (from..c.len()).find(|&k| c[k] == ch);
    let text = |a: usize, b: usize| c[a..b].iter().collect::<String>();
    let mut steps = Vec::new();
    let mut idx = 0;
    while idx < c.len() {
        if c[idx] != '`' {
            match find(idx, '.') {
                Some(dot) => {
                    steps.push(text(idx, dot));
                    idx = dot + 1;
                }
                None => {
                    steps.push(text(idx, c.len()));
                    idx = c.len();
                }
            }
            continue;
        }
        let backtick_at = idx;
        idx += 1;
        let (mut field, mut start) = (String::new(), idx);
        loop {
            let Some(close) = find(idx, '`') else {
                return Err(incomplete(backtick_at));
            };
            idx = close;
            let escaped = c[idx - 1] == '\\';
            if idx + 1 >= c.len() {
                if escaped {
                    return Err(incomplete(backtick_at));
                }
                field.push_str(&text(start, idx));
                steps.push(field);
                idx += 1;
                break;
            }
            if c[idx + 1] != '.' {
                idx += 1;
                continue;
            }
            if escaped {
                field.push_str(&text(start, idx - 1));
                field.push('`');
                idx += 1;
                start = idx;
                continue;
            }
            field.push_str(&text(start, idx));
            steps.push(field);
            idx += 2;
            break;
        }
    }
    if path.ends_with('.') {
        steps.push(String::new());
    }
    Ok(FieldPath {
        original: path.to_string(),
        steps,
        v2: true,
    })
}

/// `ExtractField$Key/$Value`: replaces the value with one of its fields.
#[derive(Debug)]
pub struct ExtractField {
    pub(crate) side: Side,
    pub(crate) path: FieldPath,
}

impl ExtractField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let field = p.required("field")?;
        let version = p.one_of_ci("field.syntax.version", "V1", &["V1", "V2"])?;
        Ok(Self {
            side,
            path: parse_path(field, version == "V2")?,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "field extraction";
        if self.path.steps.iter().all(String::is_empty)
            && self.path.v2
            && r.side(self.side).0.is_some()
        {
            // Kafka's V2 path parser fails on an empty path when first used.
            return Err(ConnectError {
                exception: "java.lang.IllegalArgumentException",
                message: Some("fromIndex(0) > toIndex(-1)".into()),
            });
        }
        let (schema, value) = r.side(self.side);
        match schema {
            None => {
                if value.is_null() {
                    return Ok(r.clone().with_side(self.side, None, Value::Null));
                }
                let mut cur = value;
                for (i, step) in self.path.steps.iter().enumerate() {
                    if i > 0 && cur.is_null() {
                        return Ok(r.clone().with_side(self.side, None, Value::Null));
                    }
                    let purpose = if i == 0 {
                        PURPOSE
                    } else {
                        "nested field access"
                    };
                    let m = require_map(cur, purpose)?;
                    match map_get(m, step) {
                        Some(v) => cur = v,
                        None => return Ok(r.clone().with_side(self.side, None, Value::Null)),
                    }
                }
                let v = cur.clone();
                Ok(r.clone().with_side(self.side, None, v))
            }
            Some(s) => {
                if !value.is_null() {
                    require_struct(value, PURPOSE)?;
                }
                let mut field_schema = s.clone();
                let mut cur = Some(value);
                for step in &self.path.steps {
                    if field_schema.schema_type != SchemaType::Struct {
                        return Err(ConnectError::data(
                            "Cannot look up fields on non-struct type",
                        ));
                    }
                    let f = field_schema.field(step).cloned();
                    let Some(f) = f else {
                        return Err(ConnectError {
                            exception: "java.lang.IllegalArgumentException",
                            message: Some(format!("Unknown field: {}", self.path.original)),
                        });
                    };
                    cur = match cur {
                        Some(Value::Struct(st)) => Some(&st.values[f.index]),
                        _ => None,
                    };
                    field_schema = f.schema.clone();
                }
                let v = cur.cloned().unwrap_or(Value::Null);
                Ok(r.clone().with_side(self.side, Some(field_schema), v))
            }
        }
    }
}

/// `ValueToKey`: the key becomes a struct (or map) of the listed value fields.
#[derive(Debug)]
pub struct ValueToKey {
    pub(crate) fields: Vec<String>,
}

impl ValueToKey {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        Ok(Self {
            fields: Props(props).non_empty_list("fields")?,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "copying fields from value to key";
        match &r.value_schema {
            None => {
                let m = require_map(&r.value, PURPOSE)?;
                let mut key = Vec::with_capacity(self.fields.len());
                for f in &self.fields {
                    Value::map_put(
                        &mut key,
                        Value::String(f.clone()),
                        map_get(m, f).cloned().unwrap_or(Value::Null),
                    );
                }
                let key = java_hash_order(key, JavaMapInit::Default);
                Ok(r.clone().with_side(Side::Key, None, Value::Map(key)))
            }
            Some(vs) => {
                let st = require_struct(&r.value, PURPOSE)?;
                let mut ks = ConnectSchema::new(SchemaType::Struct, false);
                let mut values = Vec::with_capacity(self.fields.len());
                for f in &self.fields {
                    let field = vs
                        .field(f)
                        .ok_or_else(|| ConnectError::data(format!("Field does not exist: {f}")))?;
                    push_field(&mut ks, f, field.schema.clone())?;
                    values.push(st.values[field.index].clone());
                }
                let ks = Arc::new(ks);
                Ok(r.clone().with_side(
                    Side::Key,
                    Some(ks.clone()),
                    Value::Struct(Struct { schema: ks, values }),
                ))
            }
        }
    }
}
