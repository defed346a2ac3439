//! Flatten$Key/$Value (nested structs/maps to delimiter-joined top-level fields) and
//! HeaderFrom$Key/$Value (fields to headers, `move` or `copy`).

use sluice_codecs::model::schema::validate_put;
use std::collections::HashMap;
use std::sync::Arc;

use sluice_codecs::error::ConnectError;
use sluice_codecs::model::schema::{ConnectSchema, SchemaType};
use sluice_codecs::model::value::{JavaMapInit, Struct, Value, java_hash_order};

use crate::config::Props;
use crate::record::{ConnectRecord, Header, Side};
use crate::util::{copy_basics, map_get, push_field, require_map, require_struct};

/// `Flatten`.
#[derive(Debug)]
pub struct Flatten {
    pub(crate) side: Side,
    pub(crate) delimiter: String,
}

impl Flatten {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        Ok(Self {
            side,
            delimiter: Props(props).get("delimiter").unwrap_or(".").to_string(),
        })
    }

    pub(crate) fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        const PURPOSE: &str = "flattening";
        let (schema, value) = r.side(self.side);
        if value.is_null() && schema.is_none() {
            return Ok(r);
        }
        match schema {
            None => {
                let m = require_map(value, PURPOSE)?;
                let mut out = Vec::new();
                self.flatten_map(m, "", &mut out)?;
                Ok(r.clone().with_side(self.side, None, Value::Map(out)))
            }
            // Kafka 4.x passes a null value on with its schema unchanged.
            Some(_) if value.is_null() => Ok(r),
            Some(s) => {
                require_struct(value, PURPOSE)?;
                let mut ns = copy_basics(s);
                ns.optional = false;
                let parent_default = match &s.default {
                    Some(Value::Struct(d)) => Some(d.clone()),
                    _ => None,
                };
                // The flattened struct is built afresh: required, whatever the input was
                // (its fields are optional when the input is).
                self.flatten_schema(s, "", &mut ns, s.optional, parent_default.as_ref())?;
                let ns = Arc::new(ns);
                let v = match value {
                    Value::Struct(st) => {
                        let mut values = Vec::with_capacity(ns.fields.len());
                        self.flatten_struct(st, &mut values);
                        for (f, v) in ns.fields.iter().zip(&values) {
                            validate_put(Some(&f.name), &f.schema, v)?;
                        }
                        Value::Struct(Struct {
                            schema: ns.clone(),
                            values,
                        })
                    }
                    _ => Value::Null,
                };
                Ok(r.clone().with_side(self.side, Some(ns), v))
            }
        }
    }

    fn flatten_map(
        &self,
        m: &[(Value, Value)],
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) -> Result<(), ConnectError> {
        for (k, v) in m {
            let key = match k {
                Value::String(s) => s.as_str(),
                _ => continue,
            };
            let name = self.name(prefix, key);
            match v {
                Value::Map(inner) => self.flatten_map(inner, &name, out)?,
                // `ConnectSchema.schemaType` knows no type for these classes.
                Value::Decimal { .. } | Value::Date(_) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation was passed a value of type {} which is not supported by Connect's data API",
                        v.java_class()
                    )));
                }
                Value::Struct(_) => {
                    return Err(ConnectError::data(format!(
                        "Flatten transformation does not support {} for record without schemas (for field {name}).",
                        v.java_class()
                    )));
                }
                other => Value::map_put(out, Value::String(name), other.clone()),
            }
        }
        Ok(())
    }

    pub(crate) fn flatten_schema(
        &self,
        s: &ConnectSchema,
        prefix: &str,
        out: &mut ConnectSchema,
        optional: bool,
        parent_default: Option<&Struct>,
    ) -> Result<(), ConnectError> {
        for f in &s.fields {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.optional;
            let default = f.schema.default.clone().or_else(|| {
                parent_default
                    .map(|d| d.values[f.index].clone())
                    .filter(|v| !v.is_null())
            });
            if f.schema.schema_type == SchemaType::Map {
                return Err(ConnectError::data(format!(
                    "Flatten transformation does not support MAP for record with schemas (for field {name})."
                )));
            }
            if f.schema.schema_type == SchemaType::Struct {
                let nested_default = match &default {
                    Some(Value::Struct(d)) => Some(d.clone()),
                    _ => None,
                };
                self.flatten_schema(
                    &f.schema,
                    &name,
                    out,
                    field_optional,
                    nested_default.as_ref(),
                )?;
            } else {
                let mut fs = copy_basics(&f.schema);
                fs.optional = field_optional;
                fs.default = default;
                push_field(out, &name, Arc::new(fs))?;
            }
        }
        Ok(())
    }

    fn flatten_struct(&self, st: &Struct, out: &mut Vec<Value>) {
        for f in &st.schema.fields {
            match (&f.schema.schema_type, &st.values[f.index]) {
                (SchemaType::Struct, Value::Struct(inner)) => self.flatten_struct(inner, out),
                (SchemaType::Struct, _) => {
                    // A null nested struct contributes nulls for all of its leaf fields.
                    out.extend(std::iter::repeat_n(Value::Null, leaf_count(&f.schema)));
                }
                // `Struct.get`: a null leaf reads its field's default.
                (_, Value::Null) => out.push(f.schema.default.clone().unwrap_or(Value::Null)),
                (_, v) => out.push(v.clone()),
            }
        }
    }
}

fn leaf_count(s: &ConnectSchema) -> usize {
    s.fields
        .iter()
        .map(|f| {
            if f.schema.schema_type == SchemaType::Struct {
                leaf_count(&f.schema)
            } else {
                1
            }
        })
        .sum()
}

/// `HeaderFrom`.
#[derive(Debug)]
pub struct HeaderFrom {
    pub(crate) side: Side,
    pub(crate) fields: Vec<String>,
    pub(crate) headers: Vec<String>,
    pub(crate) moving: bool,
    pub(crate) replace_null_with_default: bool,
}

impl HeaderFrom {
    pub fn configure(side: Side, props: &HashMap<String, String>) -> Result<Self, ConnectError> {
        let p = Props(props);
        let fields = p.non_empty_list("fields")?;
        let headers = p.non_empty_list("headers")?;
        p.required("operation")?;
        let moving = p.one_of("operation", "", &["move", "copy"])? == "move";
        let replace_null_with_default = p.boolean("replace.null.with.default", true)?;
        if fields.len() != headers.len() {
            return Err(ConnectError::config(
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        Ok(Self {
            side,
            fields,
            headers,
            moving,
            replace_null_with_default,
        })
    }

    pub fn apply(&self, r: ConnectRecord) -> Result<ConnectRecord, ConnectError> {
        let purpose = format!("header {}", if self.moving { "move" } else { "copy" });
        let (schema, value) = r.side(self.side);
        let mut headers = r.headers.clone();
        match schema {
            None => {
                let m = require_map(value, &purpose)?;
                let mut out = m.clone();
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    let v = map_get(m, f).cloned().unwrap_or(Value::Null);
                    if self.moving {
                        out.retain(|(k, _)| !matches!(k, Value::String(s) if s == f));
                    }
                    headers.push(Header {
                        key: h.clone(),
                        schema: None,
                        value: v,
                    });
                }
                // Kafka returns `new HashMap<>(value)` for copy and move alike: its table is
                // sized for the copied map, which reorders members.
                let out = java_hash_order(out, JavaMapInit::CopyOf(m.len()));
                let mut rec = r.clone().with_side(self.side, None, Value::Map(out));
                rec.headers = headers;
                Ok(rec)
            }
            Some(s) => {
                let st = require_struct(value, &purpose)?;
                let get = |name: &str| -> Value {
                    match st.schema.field(name) {
                        None => Value::Null,
                        Some(f) => match (&st.values[f.index], self.replace_null_with_default) {
                            (Value::Null, true) => f.schema.default.clone().unwrap_or(Value::Null),
                            (v, _) => v.clone(),
                        },
                    }
                };
                let (new_schema, new_value) = if self.moving {
                    let mut ns = copy_basics(s);
                    ns.optional = false;
                    let mut values = Vec::new();
                    for f in &s.fields {
                        if !self.fields.contains(&f.name) {
                            push_field(&mut ns, &f.name, f.schema.clone())?;
                            values.push(get(&f.name));
                        }
                    }
                    let ns = Arc::new(ns);
                    (ns.clone(), Value::Struct(Struct { schema: ns, values }))
                } else {
                    (s.clone(), value.clone())
                };
                for (f, h) in self.fields.iter().zip(&self.headers) {
                    let field_schema =
                        s.field(f).map(|fd| fd.schema.clone()).ok_or(ConnectError {
                            exception: "java.lang.NullPointerException",
                            message: None,
                        })?;
                    headers.push(Header {
                        key: h.clone(),
                        schema: Some(field_schema),
                        value: get(f),
                    });
                }
                let mut rec = r.clone().with_side(self.side, Some(new_schema), new_value);
                rec.headers = headers;
                Ok(rec)
            }
        }
    }
}
