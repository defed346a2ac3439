//! Avro schemas as Apache Avro 1.11's Java `Schema` parses and prints them: a parsed schema is
//! an arena of nodes (named types referenced by index, so recursive schemas are finite), with
//! every non-reserved property kept in order, and [`AvroSchema::canonical`] is
//! `Schema.toString()` byte for byte (what a Schema Registry stores and returns).

use std::fmt;

use crate::json::jackson::Node as Json;

/// An index into [`AvroSchema::nodes`].
pub type NodeId = usize;

/// A named type's name (`Schema.Name`): simple name and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub space: Option<String>,
}

impl Name {
    /// `new Name(name, defaultSpace)`: a dotted name carries its own namespace.
    fn new(name: &str, space: Option<&str>) -> Result<Self, SchemaParseError> {
        let (space, simple) = match name.rfind('.') {
            Some(dot) => (Some(&name[..dot]), &name[dot + 1..]),
            None => (space, name),
        };
        validate_name(simple)?;
        Ok(Self {
            name: simple.to_string(),
            space: space.filter(|s| !s.is_empty()).map(str::to_string),
        })
    }

    pub fn full(&self) -> String {
        match &self.space {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `getQualified(defaultSpace)`: the simple name when the namespace is the default one
    /// (unless the simple name is a type name), else the full name.
    fn qualified(&self, default_space: Option<&str>) -> String {
        if self.space.is_some() && self.space.as_deref() == default_space {
            const TYPE_NAMES: [&str; 14] = [
                "record", "enum", "array", "map", "union", "fixed", "string", "bytes", "int",
                "long", "float", "double", "boolean", "null",
            ];
            if !TYPE_NAMES.contains(&self.name.as_str()) {
                return self.name.clone();
            }
        }
        self.full()
    }
}

/// A record field.
#[derive(Debug, Clone, PartialEq)]
pub struct AvroField {
    pub name: String,
    pub schema: NodeId,
    pub doc: Option<String>,
    pub default: Option<Json>,
    /// `order` when not `ascending`.
    pub order: Option<String>,
    pub aliases: Vec<String>,
    pub props: Vec<(String, Json)>,
}

/// One schema node.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record {
        name: Name,
        doc: Option<String>,
        fields: Vec<AvroField>,
        aliases: Vec<Name>,
        error: bool,
    },
    Enum {
        name: Name,
        doc: Option<String>,
        symbols: Vec<String>,
        default: Option<String>,
        aliases: Vec<Name>,
    },
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Fixed {
        name: Name,
        doc: Option<String>,
        size: usize,
        aliases: Vec<Name>,
    },
}

/// A node: its kind and its own properties (`connect.*`, `logicalType`, `avro.*`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaNode {
    pub kind: Kind,
    pub props: Vec<(String, Json)>,
}

impl SchemaNode {
    pub fn prop(&self, key: &str) -> Option<&Json> {
        self.props.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `getProp(key)`: a property's value when it is a string.
    pub fn text_prop(&self, key: &str) -> Option<&str> {
        match self.prop(key)? {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// `getType().getName()`.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Record { .. } => "record",
            Kind::Enum { .. } => "enum",
            Kind::Array(_) => "array",
            Kind::Map(_) => "map",
            Kind::Union(_) => "union",
            Kind::Fixed { .. } => "fixed",
        }
    }

    pub fn name(&self) -> Option<&Name> {
        match &self.kind {
            Kind::Record { name, .. } | Kind::Enum { name, .. } | Kind::Fixed { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }

    /// `getFullName()`: the full name of a named type, else the type name.
    pub fn full_name(&self) -> String {
        self.name()
            .map_or_else(|| self.type_name().to_string(), Name::full)
    }

    pub fn doc(&self) -> Option<&str> {
        match &self.kind {
            Kind::Record { doc, .. } | Kind::Enum { doc, .. } | Kind::Fixed { doc, .. } => {
                doc.as_deref()
            }
            _ => None,
        }
    }
}

/// Why a schema text is not a valid Avro schema (Avro's `SchemaParseException` and the
/// `AvroRuntimeException`s its constructors throw).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SchemaParseError {
    /// The Java exception class.
    pub exception: &'static str,
    pub message: String,
}

pub const SCHEMA_PARSE_EXCEPTION: &str = "org.apache.avro.SchemaParseException";
pub const AVRO_RUNTIME_EXCEPTION: &str = "org.apache.avro.AvroRuntimeException";
pub const AVRO_TYPE_EXCEPTION: &str = "org.apache.avro.AvroTypeException";

fn parse_error(message: impl Into<String>) -> SchemaParseError {
    SchemaParseError {
        exception: SCHEMA_PARSE_EXCEPTION,
        message: message.into(),
    }
}

fn validate_name(name: &str) -> Result<(), SchemaParseError> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(parse_error("Empty name"));
    };
    if !(first.is_alphabetic() || first == '_') {
        return Err(parse_error(format!("Illegal initial character: {name}")));
    }
    if chars.any(|c| !(c.is_alphanumeric() || c == '_')) {
        return Err(parse_error(format!("Illegal character in: {name}")));
    }
    Ok(())
}

const SCHEMA_RESERVED: [&str; 10] = [
    "doc",
    "fields",
    "items",
    "name",
    "namespace",
    "size",
    "symbols",
    "values",
    "type",
    "aliases",
];
const FIELD_RESERVED: [&str; 6] = ["default", "doc", "name", "order", "type", "aliases"];

/// A parsed Avro schema.
#[derive(Debug, Clone, PartialEq)]
pub struct AvroSchema {
    pub nodes: Vec<SchemaNode>,
    pub root: NodeId,
}

impl AvroSchema {
    /// `new Schema.Parser().parse(text)` (defaults not validated, as a registry client parses).
    pub fn parse(text: &str) -> Result<Self, SchemaParseError> {
        let json = crate::json::jackson::parse(text.as_bytes()).map_err(|e| {
            parse_error(format!("Invalid schema JSON at {}: {}", e.offset, e.reason))
        })?;
        let mut p = Parser {
            nodes: Vec::new(),
            names: Vec::new(),
            space: None,
        };
        let root = p.parse(&json)?;
        Ok(Self {
            nodes: p.nodes,
            root,
        })
    }

    pub fn node(&self, id: NodeId) -> &SchemaNode {
        &self.nodes[id]
    }

    pub fn root_node(&self) -> &SchemaNode {
        &self.nodes[self.root]
    }

    /// `Schema.toString()`: compact JSON, each named type written in full once and referred
    /// to by (qualified) name after that.
    pub fn canonical(&self) -> String {
        let mut out = Vec::new();
        let mut w = Writer {
            schema: self,
            written: Vec::new(),
            space: None,
        };
        w.write(&mut out, self.root);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Whether node `id` is reachable from itself (a recursive record).
    pub fn is_recursive(&self, id: NodeId) -> bool {
        let mut stack: Vec<NodeId> = self.children(id);
        let mut seen = vec![false; self.nodes.len()];
        while let Some(n) = stack.pop() {
            if n == id {
                return true;
            }
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(self.children(n));
            }
        }
        false
    }

    fn children(&self, id: NodeId) -> Vec<NodeId> {
        match &self.nodes[id].kind {
            Kind::Record { fields, .. } => fields.iter().map(|f| f.schema).collect(),
            Kind::Array(i) | Kind::Map(i) => vec![*i],
            Kind::Union(t) => t.clone(),
            _ => Vec::new(),
        }
    }

    /// Whether the schema refers to any named type from within itself.
    pub fn has_recursion(&self) -> bool {
        (0..self.nodes.len())
            .any(|i| matches!(self.nodes[i].kind, Kind::Record { .. }) && self.is_recursive(i))
    }
}

impl fmt::Display for AvroSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

struct Parser {
    nodes: Vec<SchemaNode>,
    /// Named types defined so far: full name → node.
    names: Vec<(String, NodeId)>,
    space: Option<String>,
}

fn primitive(name: &str) -> Option<Kind> {
    Some(match name {
        "null" => Kind::Null,
        "boolean" => Kind::Boolean,
        "int" => Kind::Int,
        "long" => Kind::Long,
        "float" => Kind::Float,
        "double" => Kind::Double,
        "bytes" => Kind::Bytes,
        "string" => Kind::String,
        _ => return None,
    })
}

fn text<'a>(node: &'a Json, key: &str) -> Option<&'a str> {
    match node.get(key)? {
        Json::String(s) => Some(s),
        _ => None,
    }
}

fn render(node: &Json) -> String {
    let mut out = Vec::new();
    write_json(&mut out, node);
    String::from_utf8(out).unwrap_or_default()
}

impl Parser {
    fn push(&mut self, kind: Kind) -> NodeId {
        self.nodes.push(SchemaNode {
            kind,
            props: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// `Names.get(name)`: a primitive, else a named type in the default namespace, else one
    /// with no namespace.
    fn lookup(&mut self, name: &str) -> Option<NodeId> {
        if let Some(k) = primitive(name) {
            return Some(self.push(k));
        }
        let in_space = Name::new(name, self.space.as_deref()).ok()?.full();
        let find = |full: &str| {
            self.names
                .iter()
                .find(|(n, _)| n == full)
                .map(|(_, id)| *id)
        };
        find(&in_space).or_else(|| find(name))
    }

    fn define(&mut self, name: &Name, id: NodeId) -> Result<(), SchemaParseError> {
        let full = name.full();
        if self.names.iter().any(|(n, _)| *n == full) {
            return Err(parse_error(format!("Can't redefine: {full}")));
        }
        if primitive(&full).is_some() {
            return Err(SchemaParseError {
                exception: AVRO_TYPE_EXCEPTION,
                message: format!("Schemas may not be named after primitives: {full}"),
            });
        }
        self.names.push((full, id));
        Ok(())
    }

    fn aliases(node: &Json) -> Result<Vec<String>, SchemaParseError> {
        match node.get("aliases") {
            None => Ok(Vec::new()),
            Some(Json::Array(a)) => {
                let mut out: Vec<String> = Vec::new();
                for alias in a {
                    match alias {
                        Json::String(s) => {
                            if !out.contains(s) {
                                out.push(s.clone());
                            }
                        }
                        other => {
                            return Err(parse_error(format!(
                                "alias not a string: {}",
                                render(other)
                            )));
                        }
                    }
                }
                Ok(out)
            }
            Some(_) => Err(parse_error(format!(
                "aliases not an array: {}",
                render(node)
            ))),
        }
    }

    fn parse(&mut self, json: &Json) -> Result<NodeId, SchemaParseError> {
        match json {
            Json::String(name) => self
                .lookup(name)
                .ok_or_else(|| parse_error(format!("Undefined name: {}", render(json)))),
            Json::Object(_) => self.parse_object(json),
            Json::Array(members) => {
                let mut types = Vec::with_capacity(members.len());
                for m in members {
                    types.push(self.parse(m)?);
                }
                let mut seen: Vec<String> = Vec::new();
                for t in &types {
                    if matches!(self.nodes[*t].kind, Kind::Union(_)) {
                        return Err(SchemaParseError {
                            exception: AVRO_RUNTIME_EXCEPTION,
                            message: "Nested union".into(),
                        });
                    }
                    let name = self.nodes[*t].full_name();
                    if seen.contains(&name) {
                        return Err(SchemaParseError {
                            exception: AVRO_RUNTIME_EXCEPTION,
                            message: format!("Duplicate in union:{name}"),
                        });
                    }
                    seen.push(name);
                }
                Ok(self.push(Kind::Union(types)))
            }
            _ => Err(parse_error(format!(
                "Schema not yet supported: {}",
                render(json)
            ))),
        }
    }

    fn parse_object(&mut self, json: &Json) -> Result<NodeId, SchemaParseError> {
        let Some(type_name) = text(json, "type") else {
            // `"type": {...}` nested definitions are Avro's union-with-self-reference path only
            // when textual; anything else is "No type".
            return match json.get("type") {
                Some(inner @ (Json::Object(_) | Json::Array(_))) => {
                    // Avro requires a textual type; a nested schema object is not accepted.
                    let _ = inner;
                    Err(parse_error(format!("No type: {}", render(json))))
                }
                _ => Err(parse_error(format!("No type: {}", render(json)))),
            };
        };
        let saved_space = self.space.clone();
        let named = matches!(type_name, "record" | "error" | "enum" | "fixed");
        let mut name = None;
        let doc = if named {
            text(json, "doc").map(str::to_string)
        } else {
            None
        };
        if named {
            let space = text(json, "namespace")
                .map(str::to_string)
                .or_else(|| saved_space.clone());
            let n = text(json, "name")
                .ok_or_else(|| parse_error(format!("No name in schema: {}", render(json))))?;
            let n = Name::new(n, space.as_deref())?;
            self.space = n.space.clone();
            name = Some(n);
        }
        let id = if let Some(k) = primitive(type_name) {
            self.push(k)
        } else {
            match (type_name, name.clone()) {
                ("record" | "error", Some(name)) => {
                    let id = self.push(Kind::Record {
                        name: name.clone(),
                        doc: doc.clone(),
                        fields: Vec::new(),
                        aliases: Vec::new(),
                        error: type_name == "error",
                    });
                    self.define(&name, id)?;
                    let Some(Json::Array(fields_json)) = json.get("fields") else {
                        return Err(parse_error(format!(
                            "Record has no fields: {}",
                            render(json)
                        )));
                    };
                    let mut fields = Vec::with_capacity(fields_json.len());
                    let mut field_names: Vec<String> = Vec::new();
                    for f in fields_json {
                        let fname = text(f, "name")
                            .ok_or_else(|| parse_error(format!("No field name: {}", render(f))))?;
                        let ftype = f
                            .get("type")
                            .ok_or_else(|| parse_error(format!("No field type: {}", render(f))))?;
                        if let Json::String(t) = ftype
                            && self.lookup_no_create(t).is_none()
                        {
                            return Err(parse_error(format!(
                                "{} is not a defined name. The type of the \"{fname}\" field must be a defined name or a {{\"type\": ...}} expression.",
                                render(ftype)
                            )));
                        }
                        let schema = self.parse(ftype)?;
                        validate_name(fname)?;
                        let order = match f.get("order") {
                            Some(Json::String(o)) => {
                                let upper = o.to_ascii_uppercase();
                                match upper.as_str() {
                                    "ASCENDING" => None,
                                    "DESCENDING" | "IGNORE" => Some(o.to_ascii_lowercase()),
                                    _ => {
                                        return Err(SchemaParseError {
                                            exception: "java.lang.IllegalArgumentException",
                                            message: format!(
                                                "No enum constant org.apache.avro.Schema.Field.Order.{upper}"
                                            ),
                                        });
                                    }
                                }
                            }
                            _ => None,
                        };
                        let mut default = f.get("default").cloned();
                        // Avro turns a textual default of a float/double field into a number.
                        if let Some(Json::String(s)) = &default
                            && matches!(self.nodes[schema].kind, Kind::Float | Kind::Double)
                        {
                            default = Some(match s.trim().parse::<f64>() {
                                Ok(_) => Json::Decimal(s.trim().to_string()),
                                Err(_) => {
                                    return Err(SchemaParseError {
                                        exception: "java.lang.NumberFormatException",
                                        message: format!("For input string: \"{s}\""),
                                    });
                                }
                            });
                        }
                        let props = match f {
                            Json::Object(m) => m
                                .iter()
                                .filter(|(k, _)| !FIELD_RESERVED.contains(&k.as_str()))
                                .cloned()
                                .collect(),
                            _ => Vec::new(),
                        };
                        if field_names.iter().any(|n| n == fname) {
                            return Err(parse_error(format!(
                                "Duplicate field {fname} in record {}: {}",
                                name.full(),
                                render(f)
                            )));
                        }
                        field_names.push(fname.to_string());
                        fields.push(AvroField {
                            name: fname.to_string(),
                            schema,
                            doc: text(f, "doc").map(str::to_string),
                            default,
                            order,
                            aliases: Self::aliases(f)?,
                            props,
                        });
                    }
                    if let Kind::Record { fields: slot, .. } = &mut self.nodes[id].kind {
                        *slot = fields;
                    }
                    id
                }
                ("enum", Some(name)) => {
                    let Some(Json::Array(symbols_json)) = json.get("symbols") else {
                        return Err(parse_error(format!(
                            "Enum has no symbols: {}",
                            render(json)
                        )));
                    };
                    let mut symbols: Vec<String> = Vec::new();
                    for s in symbols_json {
                        let Json::String(s) = s else {
                            return Err(parse_error("Null name"));
                        };
                        validate_name(s)?;
                        if symbols.contains(s) {
                            return Err(parse_error(format!("Duplicate enum symbol: {s}")));
                        }
                        symbols.push(s.clone());
                    }
                    let default = text(json, "default").map(str::to_string);
                    if let Some(d) = &default
                        && !symbols.contains(d)
                    {
                        return Err(parse_error(format!(
                            "The Enum Default: {d} is not in the enum symbol set: [{}]",
                            symbols.join(", ")
                        )));
                    }
                    let id = self.push(Kind::Enum {
                        name: name.clone(),
                        doc: doc.clone(),
                        symbols,
                        default,
                        aliases: Vec::new(),
                    });
                    self.define(&name, id)?;
                    id
                }
                ("array", _) => {
                    let items = json.get("items").ok_or_else(|| {
                        parse_error(format!("Array has no items type: {}", render(json)))
                    })?;
                    let items = self.parse(items)?;
                    self.push(Kind::Array(items))
                }
                ("map", _) => {
                    let values = json.get("values").ok_or_else(|| {
                        parse_error(format!("Map has no values type: {}", render(json)))
                    })?;
                    let values = self.parse(values)?;
                    self.push(Kind::Map(values))
                }
                ("fixed", Some(name)) => {
                    let size = match json.get("size") {
                        Some(n @ Json::Int(_)) if n.is_int() && n.int_value() >= 0 => {
                            n.int_value() as usize
                        }
                        _ => {
                            return Err(parse_error(format!(
                                "Invalid or no size: {}",
                                render(json)
                            )));
                        }
                    };
                    let id = self.push(Kind::Fixed {
                        name: name.clone(),
                        doc: doc.clone(),
                        size,
                        aliases: Vec::new(),
                    });
                    self.define(&name, id)?;
                    id
                }
                (other, _) => {
                    // A named type given as `{"type": "com.acme.X"}`.
                    match Name::new(other, self.space.as_deref()).ok().and_then(|n| {
                        self.names
                            .iter()
                            .find(|(f, _)| *f == n.full())
                            .map(|(_, id)| *id)
                    }) {
                        Some(existing) => {
                            self.space = saved_space;
                            return Ok(existing);
                        }
                        None => return Err(parse_error(format!("Type not supported: {other}"))),
                    }
                }
            }
        };
        let reserved_default = matches!(type_name, "enum");
        if let Json::Object(members) = json {
            for (k, v) in members {
                if SCHEMA_RESERVED.contains(&k.as_str()) || (reserved_default && k == "default") {
                    continue;
                }
                let props = &mut self.nodes[id].props;
                if !props.iter().any(|(p, _)| p == k) {
                    props.push((k.clone(), v.clone()));
                }
            }
        }
        self.space = saved_space;
        if named {
            let space = name.as_ref().and_then(|n| n.space.clone());
            let aliases = Self::aliases(json)?
                .into_iter()
                .map(|a| Name::new(&a, space.as_deref()))
                .collect::<Result<Vec<_>, _>>()?;
            match &mut self.nodes[id].kind {
                Kind::Record { aliases: slot, .. }
                | Kind::Enum { aliases: slot, .. }
                | Kind::Fixed { aliases: slot, .. } => {
                    for a in aliases {
                        if !slot.contains(&a) {
                            slot.push(a);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(id)
    }

    fn lookup_no_create(&self, name: &str) -> Option<()> {
        if primitive(name).is_some() {
            return Some(());
        }
        let in_space = Name::new(name, self.space.as_deref()).ok()?.full();
        self.names
            .iter()
            .any(|(n, _)| *n == in_space || n == name)
            .then_some(())
    }
}

struct Writer<'a> {
    schema: &'a AvroSchema,
    /// Named types written so far (full names).
    written: Vec<String>,
    space: Option<String>,
}

fn write_str_field(out: &mut Vec<u8>, key: &str, value: &str) {
    crate::json::text::write_string(out, key);
    out.push(b':');
    crate::json::text::write_string(out, value);
}

impl Writer<'_> {
    fn props(&self, out: &mut Vec<u8>, props: &[(String, Json)]) {
        for (k, v) in props {
            out.push(b',');
            crate::json::text::write_string(out, k);
            out.push(b':');
            write_json(out, v);
        }
    }

    /// Writes the `name`/`namespace` members; returns true (having written a reference) when
    /// the type was written before.
    fn name_ref(&mut self, out: &mut Vec<u8>, name: &Name) -> bool {
        let full = name.full();
        if self.written.contains(&full) {
            crate::json::text::write_string(out, &name.qualified(self.space.as_deref()));
            return true;
        }
        self.written.push(full);
        false
    }

    fn write_name(&self, out: &mut Vec<u8>, name: &Name) {
        out.push(b',');
        write_str_field(out, "name", &name.name);
        match &name.space {
            Some(s) if Some(s.as_str()) != self.space.as_deref() => {
                out.push(b',');
                write_str_field(out, "namespace", s);
            }
            None if self.space.is_some() => {
                out.push(b',');
                write_str_field(out, "namespace", "");
            }
            _ => {}
        }
    }

    fn aliases(&self, out: &mut Vec<u8>, name: &Name, aliases: &[Name]) {
        if aliases.is_empty() {
            return;
        }
        out.extend_from_slice(b",\"aliases\":[");
        for (i, a) in aliases.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            crate::json::text::write_string(out, &a.qualified(name.space.as_deref()));
        }
        out.push(b']');
    }

    fn write(&mut self, out: &mut Vec<u8>, id: NodeId) {
        let node = self.schema.node(id);
        match &node.kind {
            Kind::Record {
                name,
                doc,
                fields,
                aliases,
                error,
            } => {
                if self.name_ref(out, name) {
                    return;
                }
                let saved = self.space.clone();
                out.push(b'{');
                write_str_field(out, "type", if *error { "error" } else { "record" });
                self.write_name(out, name);
                self.space = name.space.clone();
                if let Some(d) = doc {
                    out.push(b',');
                    write_str_field(out, "doc", d);
                }
                out.extend_from_slice(b",\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.push(b'{');
                    write_str_field(out, "name", &f.name);
                    out.extend_from_slice(b",\"type\":");
                    self.write(out, f.schema);
                    if let Some(d) = &f.doc {
                        out.push(b',');
                        write_str_field(out, "doc", d);
                    }
                    if let Some(d) = &f.default {
                        out.extend_from_slice(b",\"default\":");
                        write_json(out, d);
                    }
                    if let Some(o) = &f.order {
                        out.push(b',');
                        write_str_field(out, "order", o);
                    }
                    if !f.aliases.is_empty() {
                        out.extend_from_slice(b",\"aliases\":[");
                        for (j, a) in f.aliases.iter().enumerate() {
                            if j > 0 {
                                out.push(b',');
                            }
                            crate::json::text::write_string(out, a);
                        }
                        out.push(b']');
                    }
                    self.props(out, &f.props);
                    out.push(b'}');
                }
                out.push(b']');
                self.props(out, &node.props);
                self.aliases(out, name, aliases);
                out.push(b'}');
                self.space = saved;
            }
            Kind::Enum {
                name,
                doc,
                symbols,
                default,
                aliases,
            } => {
                if self.name_ref(out, name) {
                    return;
                }
                out.push(b'{');
                write_str_field(out, "type", "enum");
                self.write_name(out, name);
                if let Some(d) = doc {
                    out.push(b',');
                    write_str_field(out, "doc", d);
                }
                out.extend_from_slice(b",\"symbols\":[");
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    crate::json::text::write_string(out, s);
                }
                out.push(b']');
                if let Some(d) = default {
                    out.push(b',');
                    write_str_field(out, "default", d);
                }
                self.props(out, &node.props);
                self.aliases(out, name, aliases);
                out.push(b'}');
            }
            Kind::Fixed {
                name,
                doc,
                size,
                aliases,
            } => {
                if self.name_ref(out, name) {
                    return;
                }
                out.push(b'{');
                write_str_field(out, "type", "fixed");
                self.write_name(out, name);
                if let Some(d) = doc {
                    out.push(b',');
                    write_str_field(out, "doc", d);
                }
                out.extend_from_slice(b",\"size\":");
                out.extend_from_slice(size.to_string().as_bytes());
                self.props(out, &node.props);
                self.aliases(out, name, aliases);
                out.push(b'}');
            }
            Kind::Array(items) => {
                out.extend_from_slice(b"{\"type\":\"array\",\"items\":");
                self.write(out, *items);
                self.props(out, &node.props);
                out.push(b'}');
            }
            Kind::Map(values) => {
                out.extend_from_slice(b"{\"type\":\"map\",\"values\":");
                self.write(out, *values);
                self.props(out, &node.props);
                out.push(b'}');
            }
            Kind::Union(types) => {
                out.push(b'[');
                for (i, t) in types.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(out, *t);
                }
                out.push(b']');
            }
            _ => {
                if node.props.is_empty() {
                    crate::json::text::write_string(out, node.type_name());
                } else {
                    out.push(b'{');
                    write_str_field(out, "type", node.type_name());
                    self.props(out, &node.props);
                    out.push(b'}');
                }
            }
        }
    }
}

/// Writes a JSON tree as Jackson writes a parsed tree: numbers as Jackson's int, long,
/// big-integer or double nodes print them.
pub fn write_json(out: &mut Vec<u8>, node: &Json) {
    match node {
        Json::Null | Json::Missing => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Int(t) => out.extend_from_slice(canonical_integer(t).as_bytes()),
        Json::Decimal(t) => {
            let d: f64 = t.parse().unwrap_or(f64::NAN);
            crate::java::write_double(out, d);
        }
        Json::String(s) => crate::json::text::write_string(out, s),
        Json::Utf16(u) => crate::json::text::write_utf16(out, u),
        Json::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, v);
            }
            out.push(b']');
        }
        Json::Object(members) => {
            out.push(b'{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::json::text::write_string(out, k);
                out.push(b':');
                write_json(out, v);
            }
            out.push(b'}');
        }
    }
}

/// An integer literal without leading zeros (`-007` → `-7`).
fn canonical_integer(text: &str) -> String {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let trimmed = digits.trim_start_matches('0');
    match (neg, trimmed.is_empty()) {
        (_, true) => "0".into(),
        (true, false) => format!("-{trimmed}"),
        (false, false) => trimmed.to_string(),
    }
}

/// `Object.toString()` of `JacksonUtils.toObject(node)`: how AvroData renders a non-string
/// `avro*` property as a Connect parameter (Java's `Map`/`List`/number `toString`).
pub fn java_object_string(node: &Json) -> String {
    match node {
        Json::Null | Json::Missing => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Int(t) => canonical_integer(t),
        Json::Decimal(t) => crate::java::double_to_string(t.parse().unwrap_or(f64::NAN)),
        Json::String(s) => s.clone(),
        Json::Utf16(u) => crate::java::utf16_lossy(u, '\u{fffd}'),
        Json::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(java_object_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Object(members) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("{k}={}", java_object_string(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        AvroSchema::parse(text).expect("parse").canonical()
    }

    #[test]
    fn primitives_and_props_print_as_java_does() {
        assert_eq!(round("\"int\""), "\"int\"");
        assert_eq!(round(r#"{"type":"int"}"#), "\"int\"");
        assert_eq!(
            round(r#"{"type": "int", "connect.type": "int16"}"#),
            r#"{"type":"int","connect.type":"int16"}"#
        );
    }

    #[test]
    fn named_types_are_written_once_then_by_name() {
        let s = r#"{"type":"record","name":"R","namespace":"a.b","fields":[
            {"name":"x","type":{"type":"fixed","name":"F","size":2}},
            {"name":"y","type":"F","default":"ab"},
            {"name":"z","type":{"type":"enum","name":"c.E","symbols":["A"]}},
            {"name":"w","type":"c.E"}]}"#;
        assert_eq!(
            round(s),
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"x","type":{"type":"fixed","name":"F","size":2}},{"name":"y","type":"F","default":"ab"},{"name":"z","type":{"type":"enum","name":"E","namespace":"c","symbols":["A"]}},{"name":"w","type":"c.E"}]}"#
        );
    }

    #[test]
    fn recursion_is_finite_and_detected() {
        let s =
            r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
        let schema = AvroSchema::parse(s).expect("parse");
        assert!(schema.has_recursion());
        assert_eq!(schema.canonical(), s);
    }

    #[test]
    fn bad_schemas_fail_with_avro_messages() {
        let e = AvroSchema::parse(r#"["int","int"]"#).unwrap_err();
        assert_eq!(e.message, "Duplicate in union:int");
        let e = AvroSchema::parse(r#"{"type":"record","name":"1x","fields":[]}"#).unwrap_err();
        assert_eq!(e.message, "Illegal initial character: 1x");
        assert!(AvroSchema::parse(r#""Nope""#).is_err());
    }
}

/// JSON equality as Jackson's nodes compare: object members unordered.
fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && json_equal(v, v2)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Json::Int(x), Json::Int(y)) => canonical_integer(x) == canonical_integer(y),
        (Json::Decimal(x), Json::Decimal(y)) => x.parse::<f64>().ok() == y.parse::<f64>().ok(),
        _ => a == b,
    }
}

fn props_equal(a: &[(String, Json)], b: &[(String, Json)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && json_equal(v, v2)))
}

impl AvroSchema {
    /// Whether two schemas are equal as Confluent's `AvroSchema.equals` finds them: Avro's
    /// structural equality (properties unordered) plus docs and aliases.
    pub fn equivalent(&self, other: &AvroSchema) -> bool {
        let mut seen = Vec::new();
        node_equal(self, self.root, other, other.root, &mut seen)
    }
}

fn node_equal(
    a: &AvroSchema,
    x: NodeId,
    b: &AvroSchema,
    y: NodeId,
    seen: &mut Vec<(NodeId, NodeId)>,
) -> bool {
    if seen.contains(&(x, y)) {
        return true;
    }
    seen.push((x, y));
    let (p, q) = (a.node(x), b.node(y));
    if !props_equal(&p.props, &q.props) {
        return false;
    }
    match (&p.kind, &q.kind) {
        (
            Kind::Record {
                name: n1,
                doc: d1,
                fields: f1,
                aliases: a1,
                error: e1,
            },
            Kind::Record {
                name: n2,
                doc: d2,
                fields: f2,
                aliases: a2,
                error: e2,
            },
        ) => {
            n1 == n2
                && d1 == d2
                && a1 == a2
                && e1 == e2
                && f1.len() == f2.len()
                && f1.iter().zip(f2).all(|(g, h)| {
                    g.name == h.name
                        && g.doc == h.doc
                        && g.order == h.order
                        && g.aliases == h.aliases
                        && props_equal(&g.props, &h.props)
                        && match (&g.default, &h.default) {
                            (Some(u), Some(v)) => json_equal(u, v),
                            (None, None) => true,
                            _ => false,
                        }
                        && node_equal(a, g.schema, b, h.schema, seen)
                })
        }
        (Kind::Array(i), Kind::Array(j)) | (Kind::Map(i), Kind::Map(j)) => {
            node_equal(a, *i, b, *j, seen)
        }
        (Kind::Union(t1), Kind::Union(t2)) => {
            t1.len() == t2.len()
                && t1
                    .iter()
                    .zip(t2)
                    .all(|(i, j)| node_equal(a, *i, b, *j, seen))
        }
        (k1, k2) => k1 == k2,
    }
}

#[cfg(test)]
mod equality_tests {
    use super::*;

    #[test]
    fn property_order_does_not_matter() {
        let a = AvroSchema::parse(r#"{"type":"string","connect.name":"a.S","connect.version":3,"connect.doc":"d","connect.parameters":{"p1":"v1","p2":"v2"}}"#).expect("a");
        let b = AvroSchema::parse(r#"{"type":"string","connect.doc":"d","connect.version":3,"connect.parameters":{"p1":"v1","p2":"v2"},"connect.name":"a.S"}"#).expect("b");
        assert!(a.equivalent(&b));
        let c = AvroSchema::parse(r#"{"type":"string","connect.doc":"e","connect.version":3,"connect.parameters":{"p1":"v1","p2":"v2"},"connect.name":"a.S"}"#).expect("c");
        assert!(!a.equivalent(&c));
    }
}
