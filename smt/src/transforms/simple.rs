//! Routing, header and whole-value transformations: RegexRouter, DropHeaders, InsertHeader,
//! SetSchemaMetadata, HoistField, ExtractField, ValueToKey.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;
use sluice_codecs::error::ConnectError;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::Props;
use crate::predicates::full_match_regex;
use crate::record::{ConnectRecord, Header, Side};
use crate::util::{map_get, push_field, require_map, require_schema, require_struct};

/// `RegexRouter`: if the whole topic matches `regex`, Java's `replaceFirst` with
/// `replacement` (its first match, its `$n`/`${name}` references and their errors).
#[derive(Debug)]
pub struct RegexRouter {
    /// The pattern anchored at both ends: Java's `Matcher.matches()`.
    pub(crate) regex: Regex,
    /// The pattern as written: `replaceFirst` replaces its first match, which may be
    /// shorter than the whole topic (`a|ab` on `ab` replaces `a`).
    finder: Regex,
    replacement: String,
}

fn illegal_argument(message: impl Into<String>) -> ConnectError {
    ConnectError {
        exception: "java.lang.IllegalArgumentException",
        message: Some(message.into()),
    }
}

/// Java's `Matcher.appendExpandedReplacement`: `rep` with `\x` escapes and `$n`/`${name}`
/// group references filled from `caps`, with Java's exceptions for malformed references.
fn java_expand(
    regex: &Regex,
    caps: &regex::Captures<'_>,
    rep: &str,
    out: &mut String,
) -> Result<(), ConnectError> {
    let groups = regex.captures_len() - 1;
    let rep: Vec<char> = rep.chars().collect();
    let group = |n: usize, out: &mut String| -> Result<(), ConnectError> {
        if n > groups {
            return Err(ConnectError {
                exception: "java.lang.IndexOutOfBoundsException",
                message: Some(format!("No group {n}")),
            });
        }
        if let Some(m) = caps.get(n) {
            out.push_str(m.as_str());
        }
        Ok(())
    };
    let mut i = 0;
    while i < rep.len() {
        match rep[i] {
            '\\' => {
                i += 1;
                let c = rep
                    .get(i)
                    .ok_or_else(|| illegal_argument("character to be escaped is missing"))?;
                out.push(*c);
                i += 1;
            }
            '$' => {
                i += 1;
                let c = *rep.get(i).ok_or_else(|| {
                    illegal_argument("Illegal group reference: group index is missing")
                })?;
                if c == '{' {
                    i += 1;
                    let start = i;
                    while i < rep.len() && rep[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    let name: String = rep[start..i].iter().collect();
                    if name.is_empty() {
                        return Err(illegal_argument("named capturing group has 0 length name"));
                    }
                    if rep.get(i) != Some(&'}') {
                        return Err(illegal_argument(
                            "named capturing group is missing trailing '}'",
                        ));
                    }
                    if name.starts_with(|c: char| c.is_ascii_digit()) {
                        return Err(illegal_argument(format!(
                            "capturing group name {{{name}}} starts with digit character"
                        )));
                    }
                    let n = regex
                        .capture_names()
                        .position(|g| g == Some(name.as_str()))
                        .ok_or_else(|| {
                            illegal_argument(format!("No group with name {{{name}}}"))
                        })?;
                    group(n, out)?;
                    i += 1;
                } else {
                    let mut n = c
                        .to_digit(10)
                        .ok_or_else(|| illegal_argument("Illegal group reference"))?
                        as usize;
                    i += 1;
                    // The longest run of digits that is still a group number.
                    while let Some(d) = rep.get(i).and_then(|c| c.to_digit(10)) {
                        let longer = n * 10 + d as usize;
                        if longer > groups {
                            break;
                        }
                        n = longer;
                        i += 1;
                    }
                    group(n, out)?;
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

impl RegexRouter {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        // ConfigDef order: `regex` (required, a valid regex), then `replacement`.
        let pattern = p.required("regex")?;
        let regex = full_match_regex(pattern, "regex")?;
        let replacement = p.required("replacement")?.to_string();
        let finder = Regex::new(pattern).map_err(|e| ConnectError::config(e.to_string()))?;
        Ok(Self {
            regex,
            finder,
            replacement,
        })
    }

    /// The new topic, or `None` when the whole topic does not match.
    pub fn route(&self, topic: &str) -> Result<Option<String>, ConnectError> {
        if !self.regex.is_match(topic) {
            return Ok(None);
        }
        let Some(caps) = self.finder.captures(topic) else {
            return Ok(None);
        };
        let whole = caps.get(0).map_or(0..0, |m| m.range());
        let mut out = String::with_capacity(topic.len() + self.replacement.len());
        out.push_str(&topic[..whole.start]);
        java_expand(&self.finder, &caps, &self.replacement, &mut out)?;
        out.push_str(&topic[whole.end..]);
        Ok(Some(out))
    }

    pub fn apply(&self, mut r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        if let Some(topic) = self.route(&r.topic)? {
            r.topic = topic;
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
            headers: Props(props).unique_list("headers", false)?,
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
            sluice_codecs::reference::values::parse_string(literal).unwrap_or((None, Value::Null));
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
    pub(crate) replace_null_with_default: bool,
}

impl SetSchemaMetadata {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let name = p.get("schema.name").map(str::to_string);
        let version = p.int("schema.version")?;
        let replace_null_with_default = p.boolean("replace.null.with.default", true)?;
        if name.is_none() && version.is_none() {
            return Err(ConnectError::config(
                "Neither schema name nor version configured",
            ));
        }
        Ok(Self {
            side,
            name,
            version,
            replace_null_with_default,
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
            Value::Struct(s) => {
                // Kafka puts every field into a new Struct: `Struct.put` checks each (a null
                // left in a required field by an earlier stage fails here).
                let values: Vec<Value> = (0..s.values.len())
                    .map(|i| super::fields::get_with_default(s, i, self.replace_null_with_default))
                    .collect();
                for (f, v) in updated.fields.iter().zip(&values) {
                    sluice_codecs::model::schema::validate_put(Some(&f.name), &f.schema, v)?;
                }
                Value::Struct(Struct {
                    schema: updated.clone(),
                    values,
                })
            }
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
                // Kafka's Struct.put validates the value (`ConnectSchema.validateValue`): a
                // null where the schema (or one within) is required, or a value of another
                // class than the schema's (a Decimal-named INT64 after Cast) fails.
                sluice_codecs::model::schema::validate_put(Some(&self.field), s, value)?;
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
    pub(crate) replace_null_with_default: bool,
}

impl ExtractField {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let field = p.required("field")?;
        let replace_null_with_default = p.boolean("replace.null.with.default", true)?;
        let version = p.one_of_ci("field.syntax.version", "V1", &["V1", "V2"])?;
        Ok(Self {
            side,
            path: parse_path(field, version == "V2")?,
            replace_null_with_default,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "field extraction";
        // Kafka's V2 path parser fails on a path of empty names when first used: on any
        // record with a schema; on a schemaless map only when the path is empty itself.
        let (schema, value) = r.side(self.side);
        // After Kafka's requireStructOrNull / requireMapOrNull, which come first.
        let shape_ok = match schema {
            Some(_) => value.is_null() || matches!(value, Value::Struct(_)),
            None => matches!(value, Value::Map(_)),
        };
        if self.path.steps.iter().all(String::is_empty)
            && self.path.v2
            && shape_ok
            && (schema.is_some() || self.path.original.is_empty())
        {
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
                // requireMapOrNull comes first, whatever the path (an empty one too).
                require_map(value, PURPOSE)?;
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
                // `Struct.get` (the field's default for a null) or `getWithoutDefault`.
                let v = match cur {
                    Some(Value::Null) if self.replace_null_with_default => {
                        field_schema.default.clone().unwrap_or(Value::Null)
                    }
                    other => other.cloned().unwrap_or(Value::Null),
                };
                Ok(r.clone().with_side(self.side, Some(field_schema), v))
            }
        }
    }
}

/// `ValueToKey`: the key becomes a struct (or map) of the listed value fields.
#[derive(Debug)]
pub struct ValueToKey {
    pub(crate) fields: Vec<String>,
    pub(crate) replace_null_with_default: bool,
}

impl ValueToKey {
    pub fn configure(props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        Ok(Self {
            fields: p.unique_list("fields", false)?,
            replace_null_with_default: p.boolean("replace.null.with.default", true)?,
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
                // Kafka 4.x sizes the map: `new HashMap<>(fields.size())`.
                let key = java_hash_order(key, JavaMapInit::Capacity(self.fields.len()));
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
                    values.push(super::fields::get_with_default(
                        st,
                        field.index,
                        self.replace_null_with_default,
                    ));
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
