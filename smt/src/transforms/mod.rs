//! Kafka's single message transforms, one record at a time, with their class names
//! (`org.apache.kafka.connect.transforms.X$Key`/`$Value`), keys, defaults and exceptions.

mod cast;
mod fields;
mod simple;
mod structure;
pub(crate) mod time;

use std::collections::HashMap;

use sluice_codecs::error::ConnectError;

use crate::record::{ConnectRecord, Side};

pub use cast::Cast;
pub use fields::{InsertField, MaskField, ReplaceField};
pub use simple::{
    DropHeaders, ExtractField, HoistField, InsertHeader, RegexRouter, SetSchemaMetadata, ValueToKey,
};
pub use structure::{Flatten, HeaderFrom};
pub use time::{TimestampConverter, TimestampRouter};

/// A transformation class resolved from its name: simple name and side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransformClass {
    pub name: &'static str,
    pub side: Option<Side>,
}

const SIDED: [&str; 12] = [
    "Cast",
    "ExtractField",
    "Flatten",
    "HeaderFrom",
    "HoistField",
    "InsertField",
    "MaskField",
    "ReplaceField",
    "SetSchemaMetadata",
    "TimestampConverter",
    "ValueToKey",
    "_",
];
const UNSIDED: [&str; 5] = [
    "Filter",
    "DropHeaders",
    "InsertHeader",
    "RegexRouter",
    "TimestampRouter",
];

/// Resolves a transformation class as Kafka's plugin loader does: the fully-qualified name
/// (`org.apache.kafka.connect.transforms.Cast$Value`), or the simple name of a top-level
/// class (`Filter`; a nested class's simple name, `Value`, is ambiguous and no alias).
pub fn transform_class(class: &str) -> Option<TransformClass> {
    let class = class.trim();
    let simple = match class.strip_prefix("org.apache.kafka.connect.transforms.") {
        Some(rest) if !rest.contains('.') => rest,
        Some(_) => return None,
        None if class.contains('.') || class.contains('$') => return None,
        None => class,
    };
    let (base, side) = match simple.split_once('$') {
        Some((b, "Key")) => (b, Some(Side::Key)),
        Some((b, "Value")) => (b, Some(Side::Value)),
        Some(_) => return None,
        None => (simple, None),
    };
    match side {
        // ValueToKey has no $Key/$Value variants: it always reads the value.
        None if base == "ValueToKey" => Some(TransformClass {
            name: "ValueToKey",
            side: None,
        }),
        None => UNSIDED
            .into_iter()
            .find(|u| *u == base)
            .map(|name| TransformClass { name, side: None }),
        Some(_) => SIDED
            .into_iter()
            .find(|s| *s == base && *s != "ValueToKey")
            .map(|name| TransformClass { name, side }),
    }
}

/// Kafka's error for a `transforms.a.type` that names a class of Kafka's that is not a
/// transformation: a predicate or converter (`ClassCastException` when it is cast), or the
/// abstract outer class of a `$Key`/`$Value` pair (it cannot be instantiated).
pub fn not_a_transformation(class: &str) -> Option<ConnectError> {
    let class = class.trim();
    let full = if let Some(p) = crate::predicates::predicate_class(class) {
        format!("org.apache.kafka.connect.transforms.predicates.{p}")
    } else if let Some(c) = sluice_codecs::reference::converter_class(class) {
        let (_, full) = sluice_codecs::reference::CONVERTER_CLASSES
            .iter()
            .find(|(s, _)| *s == c)?;
        full.to_string()
    } else {
        let outer = class.strip_prefix("org.apache.kafka.connect.transforms.")?;
        return SIDED.contains(&outer).then(|| ConnectError {
            exception: "org.apache.kafka.common.KafkaException",
            message: Some(format!("Could not instantiate class {class}")),
        });
    };
    Some(ConnectError {
        exception: "java.lang.ClassCastException",
        message: Some(format!("class {full}")),
    })
}

/// A configured transformation.
#[derive(Debug)]
pub enum Transform {
    Filter,
    RegexRouter(RegexRouter),
    DropHeaders(DropHeaders),
    InsertHeader(InsertHeader),
    SetSchemaMetadata(SetSchemaMetadata),
    HoistField(HoistField),
    ExtractField(ExtractField),
    ValueToKey(ValueToKey),
    ReplaceField(ReplaceField),
    InsertField(InsertField),
    MaskField(MaskField),
    Cast(Cast),
    Flatten(Flatten),
    HeaderFrom(HeaderFrom),
    TimestampRouter(TimestampRouter),
    TimestampConverter(TimestampConverter),
}

impl Transform {
    pub fn configure(
        class: TransformClass,
        props: &HashMap<String, String>,
    ) -> Result<Self, ConnectError> {
        let side = class.side.unwrap_or(Side::Value);
        Ok(match class.name {
            "Filter" => Transform::Filter,
            "RegexRouter" => Transform::RegexRouter(RegexRouter::configure(props)?),
            "DropHeaders" => Transform::DropHeaders(DropHeaders::configure(props)?),
            "InsertHeader" => Transform::InsertHeader(InsertHeader::configure(props)?),
            "SetSchemaMetadata" => {
                Transform::SetSchemaMetadata(SetSchemaMetadata::configure(side, props)?)
            }
            "HoistField" => Transform::HoistField(HoistField::configure(side, props)?),
            "ExtractField" => Transform::ExtractField(ExtractField::configure(side, props)?),
            "ValueToKey" => Transform::ValueToKey(ValueToKey::configure(props)?),
            "ReplaceField" => Transform::ReplaceField(ReplaceField::configure(side, props)?),
            "InsertField" => Transform::InsertField(InsertField::configure(side, props)?),
            "MaskField" => Transform::MaskField(MaskField::configure(side, props)?),
            "Cast" => Transform::Cast(Cast::configure(side, props)?),
            "Flatten" => Transform::Flatten(Flatten::configure(side, props)?),
            "HeaderFrom" => Transform::HeaderFrom(HeaderFrom::configure(side, props)?),
            "TimestampRouter" => Transform::TimestampRouter(TimestampRouter::configure(props)?),
            "TimestampConverter" => {
                Transform::TimestampConverter(TimestampConverter::configure(side, props)?)
            }
            other => {
                return Err(ConnectError {
                    exception: "sluice.NotImplemented",
                    message: Some(format!("{other} is not implemented yet")),
                });
            }
        })
    }

    /// `apply`; `Ok(None)` drops the record.
    pub fn apply(&self, r: ConnectRecord) -> Result<Option<ConnectRecord>, ConnectError> {
        match self {
            Transform::Filter => Ok(None),
            Transform::RegexRouter(t) => t.apply(r).map(Some),
            Transform::DropHeaders(t) => Ok(Some(t.apply(r))),
            Transform::InsertHeader(t) => Ok(Some(t.apply(r))),
            Transform::SetSchemaMetadata(t) => t.apply(r).map(Some),
            Transform::HoistField(t) => t.apply(r).map(Some),
            Transform::ExtractField(t) => t.apply(r).map(Some),
            Transform::ValueToKey(t) => t.apply(r).map(Some),
            Transform::ReplaceField(t) => t.apply(r).map(Some),
            Transform::InsertField(t) => t.apply(r).map(Some),
            Transform::MaskField(t) => t.apply(r).map(Some),
            Transform::Cast(t) => t.apply(r).map(Some),
            Transform::Flatten(t) => t.apply(r).map(Some),
            Transform::HeaderFrom(t) => t.apply(r).map(Some),
            Transform::TimestampRouter(t) => t.apply(r).map(Some),
            Transform::TimestampConverter(t) => t.apply(r).map(Some),
        }
    }
}
