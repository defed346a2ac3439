//! `normalize.schemas`: Confluent's normalized form of an Avro schema (properties sorted by
//! key at every level, a valid logical type's own properties first, aliases sorted), as the
//! registry then stores it (`AvroSchema.normalize()`, re-parsed and printed).

use super::schema::{AvroSchema, Kind, SchemaNode};
use crate::json::jackson::Node as Json;

fn sorted(node: &Json) -> Json {
    match node {
        Json::Object(members) => {
            let mut m: Vec<(String, Json)> = members
                .iter()
                .map(|(k, v)| (k.clone(), sorted(v)))
                .collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(m)
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The properties Avro reads as this node's logical type, when it is a valid one.
fn logical_props(node: &SchemaNode) -> &'static [&'static str] {
    let Some(lt) = node.text_prop("logicalType") else {
        return &[];
    };
    let valid = match (&node.kind, lt) {
        (Kind::Bytes | Kind::Fixed { .. }, "decimal") => {
            let int = |k: &str| match node.prop(k) {
                Some(n @ Json::Int(_)) if n.is_int() => Some(n.int_value()),
                None if k == "scale" => Some(0),
                _ => None,
            };
            matches!((int("precision"), int("scale")), (Some(p), Some(s)) if p > 0 && s >= 0 && s <= p)
        }
        (Kind::String, "uuid")
        | (Kind::Int, "date" | "time-millis")
        | (
            Kind::Long,
            "time-micros"
            | "timestamp-millis"
            | "timestamp-micros"
            | "local-timestamp-millis"
            | "local-timestamp-micros",
        ) => true,
        _ => false,
    };
    if !valid {
        return &[];
    }
    if lt == "decimal" {
        let zero_scale = node.prop("scale").is_none_or(|s| s.int_value() == 0);
        if zero_scale {
            &["logicalType", "precision"]
        } else {
            &["logicalType", "precision", "scale"]
        }
    } else {
        &["logicalType"]
    }
}

fn sort_props(props: &[(String, Json)], first: &[&str]) -> Vec<(String, Json)> {
    let mut out: Vec<(String, Json)> = first
        .iter()
        .filter_map(|k| props.iter().find(|(p, _)| p == k).cloned())
        .collect();
    let mut rest: Vec<(String, Json)> = props
        .iter()
        .filter(|(k, _)| !first.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), sorted(v)))
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    out.extend(rest);
    out
}

/// The canonical text of the normalized schema.
pub fn normalized(schema: &AvroSchema) -> String {
    let mut s = schema.clone();
    for node in &mut s.nodes {
        let first = logical_props(node);
        node.props = sort_props(&node.props, first);
        match &mut node.kind {
            Kind::Record {
                fields, aliases, ..
            } => {
                aliases.sort_by_key(super::schema::Name::full);
                for f in fields {
                    f.props = sort_props(&f.props, &[]);
                    f.aliases.sort();
                    f.default = f.default.as_ref().map(sorted);
                }
            }
            Kind::Enum { aliases, .. } | Kind::Fixed { aliases, .. } => {
                aliases.sort_by_key(super::schema::Name::full);
            }
            _ => {}
        }
    }
    s.canonical()
}
