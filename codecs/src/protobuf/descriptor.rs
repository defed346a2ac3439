//! Schemas registered as a serialized `FileDescriptorProto` (base64, as Confluent's Python
//! and Go serializers send them) turned into `.proto` text, the form a registry keeps and
//! converters parse. The descriptor is read with this crate's own wire reader against the
//! part of `google/protobuf/descriptor.proto` that describes types.

use std::sync::OnceLock;

use super::schema::ProtoSchema;
use super::wire::{self, DynMsg, PValue, Slot};

/// Why a descriptor cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a serialized FileDescriptorProto: {0}")]
pub struct DescriptorError(pub String);

const DESCRIPTOR_PROTO: &str = r#"syntax = "proto2"; package google.protobuf;
message FileDescriptorProto {
  optional string name = 1; optional string package = 2; repeated string dependency = 3;
  repeated DescriptorProto message_type = 4; repeated EnumDescriptorProto enum_type = 5;
  optional string syntax = 12;
}
message DescriptorProto {
  optional string name = 1; repeated FieldDescriptorProto field = 2;
  repeated DescriptorProto nested_type = 3; repeated EnumDescriptorProto enum_type = 4;
  optional MessageOptions options = 7; repeated OneofDescriptorProto oneof_decl = 8;
}
message MessageOptions { optional bool map_entry = 7; }
message FieldDescriptorProto {
  optional string name = 1; optional int32 number = 3; optional int32 label = 4;
  optional int32 type = 5; optional string type_name = 6; optional string default_value = 7;
  optional int32 oneof_index = 9; optional bool proto3_optional = 17;
  optional FieldOptions options = 8;
}
message FieldOptions { optional Meta field_meta = 1088; }
message Meta { optional string doc = 1; repeated ParamsEntry params = 2; }
message ParamsEntry { optional string key = 1; optional string value = 2; }
message OneofDescriptorProto { optional string name = 1; }
message EnumDescriptorProto { optional string name = 1; repeated EnumValueDescriptorProto value = 2; }
message EnumValueDescriptorProto { optional string name = 1; optional int32 number = 2; }
"#;

fn descriptor_schema() -> Result<&'static ProtoSchema, DescriptorError> {
    static SCHEMA: OnceLock<Result<ProtoSchema, DescriptorError>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            ProtoSchema::parse(DESCRIPTOR_PROTO).map_err(|e| DescriptorError(e.to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A message read against the descriptor schema, with accessors by field name.
struct View<'a> {
    schema: &'a ProtoSchema,
    msg: &'a DynMsg,
}

impl<'a> View<'a> {
    fn slot(&self, name: &str) -> Option<&'a Slot> {
        let fi = self.schema.messages[self.msg.message].field_by_name(name)?;
        Some(&self.msg.slots[fi])
    }

    fn str(&self, name: &str) -> Option<&'a str> {
        match self.slot(name)? {
            Slot::One(PValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn int(&self, name: &str) -> Option<i32> {
        match self.slot(name)? {
            Slot::One(PValue::I32(n)) => Some(*n),
            _ => None,
        }
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.slot(name), Some(Slot::One(PValue::Bool(true))))
    }

    fn list(&self, name: &str) -> Vec<View<'a>> {
        match self.slot(name) {
            Some(Slot::Many(items)) => items
                .iter()
                .filter_map(|v| match v {
                    PValue::Msg(m) => Some(View {
                        schema: self.schema,
                        msg: m,
                    }),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn strings(&self, name: &str) -> Vec<&'a str> {
        match self.slot(name) {
            Some(Slot::Many(items)) => items
                .iter()
                .filter_map(|v| match v {
                    PValue::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn child(&self, name: &str) -> Option<View<'a>> {
        match self.slot(name)? {
            Slot::One(PValue::Msg(m)) => Some(View {
                schema: self.schema,
                msg: m,
            }),
            _ => None,
        }
    }
}

/// The `.proto` text of a serialized `FileDescriptorProto`.
pub fn to_proto_text(bytes: &[u8]) -> Result<String, DescriptorError> {
    let schema = descriptor_schema()?;
    let file = schema
        .messages
        .iter()
        .position(|m| m.full_name == "google.protobuf.FileDescriptorProto")
        .ok_or_else(|| DescriptorError("descriptor schema".into()))?;
    let msg = wire::parse(schema, file, bytes).map_err(|e| DescriptorError(e.to_string()))?;
    let f = View { schema, msg: &msg };
    let proto3 = f.str("syntax") == Some("proto3");
    let mut out = format!(
        "syntax = \"{}\";\n",
        if proto3 { "proto3" } else { "proto2" }
    );
    if let Some(p) = f.str("package").filter(|p| !p.is_empty()) {
        out.push_str(&format!("package {p};\n"));
    }
    let deps = f.strings("dependency");
    if !deps.is_empty() {
        out.push('\n');
        for d in deps {
            out.push_str(&format!("import \"{}\";\n", escape(d)));
        }
    }
    let messages = f.list("message_type");
    let enums = f.list("enum_type");
    if !messages.is_empty() || !enums.is_empty() {
        out.push('\n');
    }
    for m in &messages {
        message(&mut out, m, proto3, 0)?;
    }
    for e in &enums {
        enumeration(&mut out, e, 0);
    }
    Ok(out)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn type_name(f: &View<'_>) -> Result<String, DescriptorError> {
    Ok(match f.int("type").unwrap_or(0) {
        1 => "double".into(),
        2 => "float".into(),
        3 => "int64".into(),
        4 => "uint64".into(),
        5 => "int32".into(),
        6 => "fixed64".into(),
        7 => "fixed32".into(),
        8 => "bool".into(),
        9 => "string".into(),
        12 => "bytes".into(),
        13 => "uint32".into(),
        15 => "sfixed32".into(),
        16 => "sfixed64".into(),
        17 => "sint32".into(),
        18 => "sint64".into(),
        11 | 14 => f
            .str("type_name")
            .map(str::to_string)
            .ok_or_else(|| DescriptorError("a message or enum field without type_name".into()))?,
        10 => return Err(DescriptorError("proto2 groups are not supported".into())),
        t => return Err(DescriptorError(format!("unknown field type {t}"))),
    })
}

fn field_line(f: &View<'_>, ty: &str, label: &str) -> String {
    let mut line = format!(
        "{label}{ty} {} = {}",
        f.str("name").unwrap_or(""),
        f.int("number").unwrap_or(0)
    );
    let mut options = Vec::new();
    if let Some(d) = f.str("default_value") {
        let value = if matches!(f.int("type"), Some(9 | 12)) {
            format!("\"{}\"", escape(d))
        } else {
            d.to_string()
        };
        options.push(format!("default = {value}"));
    }
    // Confluent's `(confluent.field_meta)`: decimal precision/scale, `connect.type`, docs.
    if let Some(meta) = f.child("options").and_then(|o| o.child("field_meta")) {
        let mut parts = Vec::new();
        if let Some(doc) = meta.str("doc") {
            parts.push(format!("doc: \"{}\"", escape(doc)));
        }
        let params: Vec<String> = meta
            .list("params")
            .iter()
            .map(|p| {
                format!(
                    "{{ key: \"{}\", value: \"{}\" }}",
                    escape(p.str("key").unwrap_or("")),
                    escape(p.str("value").unwrap_or(""))
                )
            })
            .collect();
        if !params.is_empty() {
            parts.push(format!("params: [{}]", params.join(", ")));
        }
        if !parts.is_empty() {
            options.push(format!(
                "(confluent.field_meta) = {{ {} }}",
                parts.join(", ")
            ));
        }
    }
    if !options.is_empty() {
        line.push_str(&format!(" [{}]", options.join(", ")));
    }
    line.push(';');
    line
}

fn message(
    out: &mut String,
    m: &View<'_>,
    proto3: bool,
    depth: usize,
) -> Result<(), DescriptorError> {
    let pad = "  ".repeat(depth);
    let name = m.str("name").unwrap_or("");
    out.push_str(&format!("{pad}message {name} {{\n"));
    let nested = m.list("nested_type");
    let is_entry = |t: &View<'_>| t.child("options").is_some_and(|o| o.flag("map_entry"));
    let oneofs = m.list("oneof_decl");
    let fields = m.list("field");
    // Which oneofs are synthetic (a proto3 `optional` field's).
    let synthetic: Vec<bool> = (0..oneofs.len())
        .map(|i| {
            fields
                .iter()
                .any(|f| f.int("oneof_index") == Some(i as i32) && f.flag("proto3_optional"))
        })
        .collect();
    let mut printed_oneofs = vec![false; oneofs.len()];
    for f in &fields {
        let inner = format!("{pad}  ");
        if let Some(o) = f.int("oneof_index").and_then(|o| usize::try_from(o).ok())
            && !synthetic.get(o).copied().unwrap_or(true)
        {
            if printed_oneofs[o] {
                continue;
            }
            printed_oneofs[o] = true;
            out.push_str(&format!(
                "{inner}oneof {} {{\n",
                oneofs[o].str("name").unwrap_or("")
            ));
            for member in fields
                .iter()
                .filter(|x| x.int("oneof_index") == Some(o as i32))
            {
                let ty = type_name(member)?;
                out.push_str(&format!("{inner}  {}\n", field_line(member, &ty, "")));
            }
            out.push_str(&format!("{inner}}}\n"));
            continue;
        }
        let ty = type_name(f)?;
        let label = f.int("label").unwrap_or(1);
        // A map field: a repeated reference to a nested map-entry type.
        if label == 3
            && let Some(entry) = nested
                .iter()
                .find(|t| is_entry(t) && ty.rsplit('.').next() == t.str("name"))
        {
            let parts = entry.list("field");
            let (Some(k), Some(v)) = (parts.first(), parts.get(1)) else {
                return Err(DescriptorError("a map entry without key and value".into()));
            };
            let line = format!(
                "map<{}, {}> {} = {};",
                type_name(k)?,
                type_name(v)?,
                f.str("name").unwrap_or(""),
                f.int("number").unwrap_or(0)
            );
            out.push_str(&format!("{inner}{line}\n"));
            continue;
        }
        let label = match label {
            2 => "required ",
            3 => "repeated ",
            _ if f.flag("proto3_optional") || !proto3 => "optional ",
            _ => "",
        };
        out.push_str(&format!("{inner}{}\n", field_line(f, &ty, label)));
    }
    let nested: Vec<&View<'_>> = nested.iter().filter(|t| !is_entry(t)).collect();
    let enums = m.list("enum_type");
    if (!nested.is_empty() || !enums.is_empty()) && !fields.is_empty() {
        out.push('\n');
    }
    for n in nested {
        message(out, n, proto3, depth + 1)?;
    }
    for e in &enums {
        enumeration(out, e, depth + 1);
    }
    out.push_str(&format!("{pad}}}\n"));
    Ok(())
}

fn enumeration(out: &mut String, e: &View<'_>, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&format!("{pad}enum {} {{\n", e.str("name").unwrap_or("")));
    for v in e.list("value") {
        out.push_str(&format!(
            "{pad}  {} = {};\n",
            v.str("name").unwrap_or(""),
            v.int("number").unwrap_or(0)
        ));
    }
    out.push_str(&format!("{pad}}}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protobuf::schema::FieldType;

    /// A hand-written serialized descriptor: `package p; message M { int64 id = 1;
    /// map<string, int32> m = 2; optional string note = 3; }` in proto3.
    fn descriptor() -> Vec<u8> {
        fn ld(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut v = vec![tag, body.len() as u8];
            v.extend_from_slice(body);
            v
        }
        fn field(name: &str, number: u8, label: u8, ty: u8, extra: &[u8]) -> Vec<u8> {
            let mut f = ld(0x0a, name.as_bytes());
            f.extend_from_slice(&[0x18, number, 0x20, label, 0x28, ty]);
            f.extend_from_slice(extra);
            ld(0x12, &f)
        }
        let mut entry = ld(0x0a, b"MEntry");
        entry.extend(field("key", 1, 1, 9, &[]));
        entry.extend(field("value", 2, 1, 5, &[]));
        entry.extend(ld(0x3a, &[0x38, 0x01]));
        let mut m = ld(0x0a, b"M");
        m.extend(field("id", 1, 1, 3, &[]));
        m.extend(field("m", 2, 3, 11, &ld(0x32, b".p.M.MEntry")));
        m.extend(field("note", 3, 1, 9, &[0x48, 0x00, 0x88, 0x01, 0x01]));
        m.extend(ld(0x1a, &entry));
        m.extend(ld(0x42, &ld(0x0a, b"_note")));
        let mut file = ld(0x0a, b"p.proto");
        file.extend(ld(0x12, b"p"));
        file.extend(ld(0x22, &m));
        file.extend(ld(0x62, b"proto3"));
        file
    }

    #[test]
    fn a_serialized_descriptor_becomes_proto_text() {
        let text = to_proto_text(&descriptor()).unwrap();
        assert_eq!(
            text,
            "syntax = \"proto3\";\npackage p;\n\nmessage M {\n  int64 id = 1;\n  map<string, int32> m = 2;\n  optional string note = 3;\n}\n"
        );
        let s = ProtoSchema::parse(&text).unwrap();
        let m = &s.messages[s.first_message().unwrap()];
        assert!(matches!(m.fields[1].ty, FieldType::Message(_)));
        assert!(m.fields[2].proto3_optional);
    }

    #[test]
    fn confluent_field_meta_survives() {
        fn ld(tag: &[u8], body: &[u8]) -> Vec<u8> {
            let mut v = tag.to_vec();
            v.push(body.len() as u8);
            v.extend_from_slice(body);
            v
        }
        // params { key: "scale" value: "2" }
        let mut entry = ld(&[0x0a], b"scale");
        entry.extend(ld(&[0x12], b"2"));
        let meta = ld(&[0x12], &entry);
        // FieldOptions.field_meta = 1088: tag (1088 << 3 | 2) = 8706 = 0x82 0x44.
        let options = ld(&[0x82, 0x44], &meta);
        let mut field = ld(&[0x0a], b"amount");
        field.extend_from_slice(&[0x18, 1, 0x20, 1, 0x28, 11]);
        field.extend(ld(&[0x32], b".confluent.type.Decimal"));
        field.extend(ld(&[0x42], &options));
        let mut m = ld(&[0x0a], b"P");
        m.extend(ld(&[0x12], &field));
        let mut file = ld(&[0x22], &m);
        file.extend(ld(&[0x1a], b"confluent/type/decimal.proto"));
        file.extend(ld(&[0x62], b"proto3"));
        let text = to_proto_text(&file).unwrap();
        assert!(
            text.contains(
                "[(confluent.field_meta) = { params: [{ key: \"scale\", value: \"2\" }] }]"
            ),
            "{text}"
        );
        let s = ProtoSchema::parse(&text).unwrap();
        let f = &s.messages[s.first_message().unwrap()].fields[0];
        assert_eq!(f.meta_params, [("scale".to_string(), "2".to_string())]);
    }

    #[test]
    fn text_is_not_a_descriptor() {
        assert!(to_proto_text(b"syntax = \"proto3\";").is_err());
    }
}
