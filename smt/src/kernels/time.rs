//! TimestampConverter over a column or a struct child: each cell read as epoch
//! milliseconds from its kind (unix, Timestamp, string by pattern) and written as the
//! target kind, without a Connect value per row.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringViewBuilder, Time32MillisecondArray,
    TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMillisecondType};
use sluice_codecs::ConnectColumn;
use sluice_codecs::java::simple_date_format::DayFields;
use sluice_codecs::model::value::JavaMapInit;

use super::{hash_ordered, rebuild, shaped, typed, typed_column};
use crate::batch::ConnectBatch;
use crate::transforms::TimestampConverter;
use crate::transforms::time::{Kind, Precision};
use crate::util::{copy_basics, push_field};

const DAY_MS: i64 = 86_400_000;

/// Epoch milliseconds of each cell of `a`, read as kind `from`; `None` when a cell needs the
/// per-record path (an unparsable string: its error is Kafka's).
fn millis(t: &TimestampConverter, a: &ArrayRef, from: Kind) -> Option<Vec<Option<i64>>> {
    let n = a.len();
    Some(match (from, a.data_type()) {
        (_, DataType::Null) => vec![None; n],
        (Kind::Unix, DataType::Int64) => a
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| {
                v.map(|n| match t.precision {
                    Precision::Seconds => n.saturating_mul(1000),
                    Precision::Millis => n,
                    Precision::Micros => n / 1000,
                    Precision::Nanos => n / 1_000_000,
                })
            })
            .collect(),
        (Kind::Timestamp, DataType::Timestamp(TimeUnit::Millisecond, _)) => a
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
        (Kind::String, DataType::Utf8View) => {
            let f = t.format.as_ref()?;
            let strings = a.as_string_view();
            let mut out = Vec::with_capacity(n);
            for s in strings.iter() {
                out.push(match s {
                    None => None,
                    Some(s) => Some(f.parse(s)?),
                });
            }
            out
        }
        _ => return None,
    })
}

/// The target column of the epoch milliseconds (`typed`: with the target's logical type).
fn emit(t: &TimestampConverter, raw: &[Option<i64>], typed: bool) -> Option<ArrayRef> {
    Some(match t.target {
        Kind::String => {
            let f = t.format.as_ref()?;
            let mut b = StringViewBuilder::with_capacity(raw.len());
            let mut text = String::new();
            let mut day = DayFields::of(0);
            // A pattern of the date alone reads the same all day: formatted once per day.
            let date_only = f.date_only();
            let mut formatted_day: Option<i64> = None;
            for v in raw {
                match v {
                    Some(ms) => {
                        let days = ms.div_euclid(DAY_MS);
                        if day.days != days {
                            day = DayFields::of(days);
                        }
                        if !(date_only && formatted_day == Some(days)) {
                            text.clear();
                            f.format_day_into(*ms, &day, &mut text);
                            formatted_day = Some(days);
                        }
                        b.append_value(&text);
                    }
                    None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Unix => Arc::new(Int64Array::from_iter(raw.iter().map(|v| {
            v.map(|raw| match t.precision {
                Precision::Seconds => raw / 1000,
                Precision::Millis => raw,
                Precision::Micros => raw.saturating_mul(1000),
                Precision::Nanos => raw.saturating_mul(1_000_000),
            })
        }))),
        // Schemaless dates have no column form: those go per record.
        _ if !typed => return None,
        Kind::Timestamp => Arc::new(
            TimestampMillisecondArray::from_iter(raw.iter().copied()).with_timezone("+00:00"),
        ),
        Kind::Date => {
            // A day `Date32` cannot count (beyond ±5.8 million years, where Kafka's truncation
            // can even wrap): that stage goes per record, which keeps the exact millis.
            let days: Option<Vec<Option<i32>>> = raw
                .iter()
                .map(|v| match v {
                    Some(ms) => i32::try_from(ms.div_euclid(DAY_MS)).ok().map(Some),
                    None => Some(None),
                })
                .collect();
            Arc::new(Date32Array::from_iter(days?))
        }
        Kind::Time => Arc::new(Time32MillisecondArray::from_iter(
            raw.iter().map(|v| v.map(|ms| ms.rem_euclid(DAY_MS) as i32)),
        )),
    })
}

/// The kind of a schemaless cell column, as `kind_of_value` infers it per value.
fn schemaless_kind(a: &ArrayRef) -> Option<Kind> {
    match a.data_type() {
        DataType::Int64 => Some(Kind::Unix),
        DataType::Utf8View => Some(Kind::String),
        _ => None,
    }
}

pub(super) fn timestamp_converter(
    t: &TimestampConverter,
    mut b: ConnectBatch,
) -> Option<ConnectBatch> {
    let c = b.side(t.side).clone();
    if !c.exact.is_empty() {
        return None;
    }
    let out = match (&c.schema, t.field.is_empty()) {
        (None, true) => {
            let from = schemaless_kind(&c.array)?;
            ConnectColumn::new(None, emit(t, &millis(t, &c.array, from)?, false)?)
        }
        (None, false) => {
            let st = shaped(&c)?;
            if st.null_count() > 0 {
                return None;
            }
            // A missing field is put as null: another shape, per record.
            let idx = st.fields().iter().position(|f| f.name() == &t.field)?;
            let child = st.column(idx);
            let converted = if child.data_type() == &DataType::Null {
                child.clone()
            } else {
                emit(t, &millis(t, child, schemaless_kind(child)?)?, false)?
            };
            let children: Vec<(String, ArrayRef)> = st
                .fields()
                .iter()
                .zip(st.columns())
                .enumerate()
                .map(|(k, (f, a))| {
                    (
                        f.name().clone(),
                        if k == idx {
                            converted.clone()
                        } else {
                            a.clone()
                        },
                    )
                })
                .collect();
            let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
            ConnectColumn::new(None, rebuild(st, fields, arrays)?)
        }
        (Some(s), true) => {
            let from = TimestampConverter::kind_of_schema(s).ok()?;
            let raw = millis(t, &c.array, from)?;
            ConnectColumn::new(Some(t.target_schema(s.optional)), emit(t, &raw, true)?)
        }
        (Some(_), false) => {
            let (s, st) = typed(&c)?;
            let mut schema = copy_basics(s);
            schema.optional = s.optional;
            let mut children = Vec::with_capacity(s.fields.len());
            for f in &s.fields {
                let child = st.column(f.index);
                if t.replace_null_with_default
                    && f.schema.default.is_some()
                    && child.null_count() > 0
                {
                    return None;
                }
                if f.name == t.field {
                    let target = t.target_schema(f.schema.optional);
                    if !target.optional && child.null_count() > 0 {
                        return None;
                    }
                    let from = TimestampConverter::kind_of_schema(&f.schema).ok()?;
                    children.push(emit(t, &millis(t, child, from)?, true)?);
                    push_field(&mut schema, &f.name, target).ok()?;
                } else {
                    children.push(child.clone());
                    push_field(&mut schema, &f.name, f.schema.clone()).ok()?;
                }
            }
            typed_column(schema, children)?
        }
    };
    b.set_side(t.side, out);
    Some(b)
}
