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

/// Resolves `org.apache.kafka.connect.transforms.Cast$Value`, `Cast$Value`, `Filter`, ...
pub fn transform_class(class: &str) -> Option<TransformClass> {
    let simple = class.trim().rsplit('.').next().unwrap_or(class);
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
