//! Avro schema resolution (`SchemaCompatibility.checkReaderWriterCompatibility`): whether data
//! written with one schema can be read with another, as the serializer checks a looked-up
//! schema (`use.latest.version`, `use.schema.id`) against the one it would write.

use super::schema::{AvroSchema, Kind, NodeId};

/// Whether `reader` can read everything `writer` writes.
pub fn can_read(reader: &AvroSchema, writer: &AvroSchema) -> bool {
    let mut seen = Vec::new();
    compatible(reader, reader.root, writer, writer.root, &mut seen)
}

fn names_match(reader: &AvroSchema, r: NodeId, writer: &AvroSchema, w: NodeId) -> bool {
    let (Some(rn), Some(wn)) = (reader.node(r).name(), writer.node(w).name()) else {
        return false;
    };
    if rn.name == wn.name {
        return true;
    }
    let aliases = match &reader.node(r).kind {
        Kind::Record { aliases, .. } | Kind::Enum { aliases, .. } | Kind::Fixed { aliases, .. } => {
            aliases
        }
        _ => return false,
    };
    aliases
        .iter()
        .any(|a| a.full() == wn.full() || a.name == wn.name)
}

fn compatible(
    reader: &AvroSchema,
    r: NodeId,
    writer: &AvroSchema,
    w: NodeId,
    seen: &mut Vec<(NodeId, NodeId)>,
) -> bool {
    if seen.contains(&(r, w)) {
        return true;
    }
    seen.push((r, w));
    let ok = check(reader, r, writer, w, seen);
    seen.retain(|p| *p != (r, w));
    ok
}

fn check(
    reader: &AvroSchema,
    r: NodeId,
    writer: &AvroSchema,
    w: NodeId,
    seen: &mut Vec<(NodeId, NodeId)>,
) -> bool {
    let rk = &reader.node(r).kind;
    let wk = &writer.node(w).kind;
    match (rk, wk) {
        (_, Kind::Union(wt)) => wt.iter().all(|t| compatible(reader, r, writer, *t, seen)),
        (Kind::Union(rt), _) => rt.iter().any(|t| compatible(reader, *t, writer, w, seen)),
        (Kind::Null, Kind::Null)
        | (Kind::Boolean, Kind::Boolean)
        | (Kind::Int, Kind::Int)
        | (Kind::Long, Kind::Int | Kind::Long)
        | (Kind::Float, Kind::Int | Kind::Long | Kind::Float)
        | (Kind::Double, Kind::Int | Kind::Long | Kind::Float | Kind::Double)
        | (Kind::Bytes, Kind::Bytes | Kind::String)
        | (Kind::String, Kind::String | Kind::Bytes) => true,
        (Kind::Array(ri), Kind::Array(wi)) => compatible(reader, *ri, writer, *wi, seen),
        (Kind::Map(rv), Kind::Map(wv)) => compatible(reader, *rv, writer, *wv, seen),
        (Kind::Fixed { size: rs, .. }, Kind::Fixed { size: ws, .. }) => {
            rs == ws && names_match(reader, r, writer, w)
        }
        (
            Kind::Enum {
                symbols: rs,
                default,
                ..
            },
            Kind::Enum { symbols: ws, .. },
        ) => {
            names_match(reader, r, writer, w)
                && (default.is_some() || ws.iter().all(|s| rs.contains(s)))
        }
        (Kind::Record { fields: rf, .. }, Kind::Record { fields: wf, .. }) => {
            names_match(reader, r, writer, w)
                && rf.iter().all(|f| {
                    let written = wf
                        .iter()
                        .find(|x| x.name == f.name || f.aliases.contains(&x.name));
                    match written {
                        Some(x) => compatible(reader, f.schema, writer, x.schema, seen),
                        None => f.default.is_some(),
                    }
                })
        }
        _ => false,
    }
}
