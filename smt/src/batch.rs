//! The transformation chain over whole batches. Kernels work column-wise on schemaless values
//! in their shaped form (an Arrow struct whose children are in Java `HashMap` order): routers
//! rewrite the dictionary-encoded topic column, field transforms rebuild the struct from
//! shared child arrays, Filter applies a predicate mask. `apply` answers `None` when a stage,
//! its predicate or the data needs the per-record reference path, which then gives the exact
//! result; the batch path is never allowed to differ from it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::UInt32Array;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, Float32Array, Int8Array, Int16Array,
    Int32Array, StringArray, StringViewArray, StructArray,
};
use arrow::datatypes::{DataType, Field, Fields, Float64Type, Int32Type, Int64Type, UInt32Type};
use sluice_codecs::arrow_map::arrow_field;
use sluice_codecs::record::RawBatch;
use sluice_codecs::schema::{ConnectSchema, SchemaType};
use sluice_codecs::value::{JavaMapInit, Value, java_hash_order};
use sluice_codecs::{CodecError, ConnectColumn};

use crate::bridge::HeaderRows;
use crate::chain::{Chain, ChainStage};
use crate::predicates::Predicate;
use crate::record::Side;
use crate::transforms::{Cast, InsertField, RegexRouter, ReplaceField, TimestampRouter, Transform};
use crate::util::{copy_basics, push_field};

/// A batch of records: raw Kafka columns, the converted key and value, the converted
/// headers, and which input row each record came from.
#[derive(Debug, Clone)]
pub struct ConnectBatch {
    /// Raw columns; routers rewrite the topic column.
    pub raw: RawBatch,
    pub key: ConnectColumn,
    pub value: ConnectColumn,
    pub headers: HeaderRows,
    /// Row of each record in the batch the pipeline was given.
    pub rows: UInt32Array,
    /// The topics as consumed, once a router has renamed them (`None`: `raw`'s topics).
    pub original_topics: Option<DictionaryArray<Int32Type>>,
}

impl ConnectBatch {
    /// A batch of rows `0..n` of `raw`, without converted headers.
    pub fn new(raw: RawBatch, key: ConnectColumn, value: ConnectColumn) -> Self {
        let rows = UInt32Array::from_iter_values(0..raw.num_rows() as u32);
        let headers = HeaderRows::none(raw.num_rows());
        Self {
            raw,
            key,
            value,
            headers,
            rows,
            original_topics: None,
        }
    }

    pub fn num_rows(&self) -> usize {
        self.raw.num_rows()
    }

    /// The topic row `i` was consumed from.
    pub fn original_topic(&self, i: usize) -> &str {
        match &self.original_topics {
            None => self.raw.topic(i),
            Some(t) => {
                let names: &StringArray = t.values().as_string::<i32>();
                names.value(t.keys().value(i) as usize)
            }
        }
    }

    /// Keeps the rows where `mask` is true, in every column.
    pub fn filter(&self, mask: &BooleanArray) -> Result<Self, CodecError> {
        Ok(Self {
            raw: self.raw.filter(mask)?,
            key: self.key.filter(mask)?,
            value: self.value.filter(mask)?,
            headers: self.headers.filter(mask),
            rows: arrow::compute::filter(&self.rows, mask)?
                .as_primitive::<UInt32Type>()
                .clone(),
            original_topics: match &self.original_topics {
                None => None,
                Some(t) => Some(
                    arrow::compute::filter(t, mask)?
                        .as_dictionary::<Int32Type>()
                        .clone(),
                ),
            },
        })
    }

    /// Rows `offset..offset + len`, sharing every buffer.
    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self {
            raw: self.raw.slice(offset, len),
            key: self.key.slice(offset, len),
            value: self.value.slice(offset, len),
            headers: self.headers.slice(offset, len),
            rows: self.rows.slice(offset, len),
            original_topics: self.original_topics.as_ref().map(|t| t.slice(offset, len)),
        }
    }
}

impl Chain {
    /// Applies the chain column-wise, or `None` when some stage needs the per-record path
    /// (the pipeline then runs that stage alone per record, see [`crate::pipeline`]).
    pub fn apply_batch(&self, mut batch: ConnectBatch) -> Option<ConnectBatch> {
        for stage in &self.stages {
            batch = stage.apply_kernel(batch)?;
        }
        Some(batch)
    }
}

impl ChainStage {
    /// This stage's batch kernel, or `None` when the stage, its predicate or the data needs
    /// the per-record path.
    pub(crate) fn apply_kernel(&self, batch: ConnectBatch) -> Option<ConnectBatch> {
        Some(match (&self.transform, &self.predicate) {
            (Transform::Filter, predicate) => filter(batch, predicate.as_ref())?,
            (_, Some(_)) => return None,
            (Transform::ReplaceField(t), None) if typed(&batch.value).is_some() => {
                typed_replace_field(t, batch)?
            }
            (Transform::InsertField(t), None) if typed(&batch.value).is_some() => {
                typed_insert_field(t, batch)?
            }
            (Transform::Cast(t), None) if typed(&batch.value).is_some() => typed_cast(t, batch)?,
            (Transform::ReplaceField(t), None) => replace_field(t, batch)?,
            (Transform::InsertField(t), None) => insert_field(t, batch)?,
            (Transform::Cast(t), None) => cast(t, batch)?,
            (Transform::TimestampRouter(t), None) => timestamp_router(t, batch)?,
            (Transform::RegexRouter(t), None) => regex_router(t, batch)?,
            _ => return None,
        })
    }
}

/// The value column as a shaped schemaless struct with no exact rows, or `None`.
fn shaped(c: &ConnectColumn) -> Option<&StructArray> {
    if c.schema.is_some() || !c.exact.is_empty() {
        return None;
    }
    match c.array.data_type() {
        DataType::Struct(_) => Some(c.array.as_struct()),
        _ => None,
    }
}

/// Reorders (name, child) pairs, given in insertion order, into Java `HashMap` order.
fn hash_ordered(
    children: Vec<(String, ArrayRef)>,
    init: JavaMapInit,
) -> Option<(Fields, Vec<ArrayRef>)> {
    let mut seen = std::collections::HashSet::new();
    if !children.iter().all(|(n, _)| seen.insert(n.clone())) {
        return None;
    }
    let entries: Vec<(Value, Value)> = children
        .iter()
        .enumerate()
        .map(|(k, (n, _))| (Value::String(n.clone()), Value::I64(k as i64)))
        .collect();
    let order = java_hash_order(entries, init);
    let mut fields = Vec::with_capacity(children.len());
    let mut arrays = Vec::with_capacity(children.len());
    for (_, k) in order {
        let Value::I64(k) = k else { return None };
        let (name, array) = &children[k as usize];
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array.clone());
    }
    Some((Fields::from(fields), arrays))
}

fn rebuild(st: &StructArray, fields: Fields, arrays: Vec<ArrayRef>) -> Option<ArrayRef> {
    StructArray::try_new(fields, arrays, st.nulls().cloned())
        .ok()
        .map(|a| Arc::new(a) as ArrayRef)
}

fn replace_field(t: &ReplaceField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value {
        return None;
    }
    let st = shaped(&b.value)?;
    let keep = |n: &str| {
        !t.exclude.iter().any(|e| e == n)
            && (t.include.is_empty() || t.include.iter().any(|i| i == n))
    };
    let renamed = |n: &str| {
        t.renames
            .iter()
            .find(|(a, _)| a == n)
            .map_or(n.to_string(), |(_, r)| r.clone())
    };
    let children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .filter(|(f, _)| keep(f.name()))
        .map(|(f, a)| (renamed(f.name()), a.clone()))
        .collect();
    let (fields, arrays) = hash_ordered(children, JavaMapInit::Capacity(st.num_columns()))?;
    b.value = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    Some(b)
}

fn insert_field(t: &InsertField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value {
        return None;
    }
    let st = shaped(&b.value)?;
    let n = b.raw.num_rows();
    let mut children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .map(|(f, a)| (f.name().clone(), a.clone()))
        .collect();
    if let Some(f) = &t.topic {
        let topics: StringViewArray = (0..n).map(|i| Some(b.raw.topic(i))).collect();
        children.push((f.name.clone(), Arc::new(topics)));
    }
    if let Some(f) = &t.partition {
        children.push((f.name.clone(), Arc::new(b.raw.partitions().clone())));
    }
    if let Some(f) = &t.offset {
        children.push((f.name.clone(), Arc::new(b.raw.offsets().clone())));
    }
    if let Some(f) = &t.timestamp {
        // A record without a timestamp gets no field: another shape, so the per-record path.
        if b.raw.timestamps().null_count() > 0 {
            return None;
        }
        children.push((f.name.clone(), Arc::new(b.raw.timestamps().clone())));
    }
    if let (Some(f), Some(v)) = (&t.static_field, &t.static_value) {
        children.push((f.name.clone(), Arc::new(constant_strings(v, n)?)));
    }
    let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
    b.value = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    Some(b)
}

/// `n` rows of `v`: the value stored once, its view repeated.
fn constant_strings(v: &str, n: usize) -> Option<StringViewArray> {
    let one = StringViewArray::from_iter_values([v]);
    let views = arrow::buffer::ScalarBuffer::from(vec![one.views()[0]; n]);
    StringViewArray::try_new(views, one.data_buffers().to_vec(), None).ok()
}

/// Casts one shaped child the way `Cast.castValueToType` casts its Java boxed values.
fn cast_child(a: &ArrayRef, to: SchemaType) -> Option<ArrayRef> {
    let out: ArrayRef = match (a.data_type(), to) {
        (DataType::Float64, SchemaType::Float32) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, arrow::datatypes::Float32Type>(|d| d as f32),
        ),
        (DataType::Float64, SchemaType::Float64) | (DataType::Int64, SchemaType::Int64) => {
            a.clone()
        }
        // Double.longValue()/intValue() saturate; byte and short narrow from the int.
        (DataType::Float64, SchemaType::Int64) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Int64Type>(|d| d as i64),
        ),
        (DataType::Float64, SchemaType::Int32) => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Int32Type>(|d| d as i32),
        ),
        (DataType::Int64, SchemaType::Int32) => Arc::new(
            a.as_primitive::<Int64Type>()
                .unary::<_, Int32Type>(|v| v as i32),
        ),
        (DataType::Int64, SchemaType::Int16) => Arc::new(Int16Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as i16)),
        )),
        (DataType::Int64, SchemaType::Int8) => Arc::new(Int8Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as i8)),
        )),
        (DataType::Int64, SchemaType::Float64) => Arc::new(
            a.as_primitive::<Int64Type>()
                .unary::<_, Float64Type>(|v| v as f64),
        ),
        (DataType::Int64, SchemaType::Float32) => Arc::new(Float32Array::from_iter(
            a.as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v as f32)),
        )),
        _ => return None,
    };
    Some(out)
}

fn cast(t: &Cast, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value || t.whole.is_some() {
        return None;
    }
    let st = shaped(&b.value)?;
    let mut children: Vec<(String, ArrayRef)> = st
        .fields()
        .iter()
        .zip(st.columns())
        .map(|(f, a)| (f.name().clone(), a.clone()))
        .collect();
    for (field, to) in &t.casts {
        // Kafka puts the (null) cast of an absent field: another shape, so per record.
        let slot = children.iter_mut().find(|(n, _)| n == field)?;
        slot.1 = cast_child(&slot.1, *to)?;
    }
    let (fields, arrays) = hash_ordered(children, JavaMapInit::CopyOf(st.num_columns()))?;
    b.value = ConnectColumn::new(None, rebuild(st, fields, arrays)?);
    Some(b)
}

/// Rewrites the topic column: row `i` with topic dictionary key `k` falls in `bucket(i)`, and
/// `route(topic, i)` names the new topic once per distinct (k, bucket); no per-row allocation.
fn set_topics(
    b: &mut ConnectBatch,
    bucket: impl Fn(usize) -> i64,
    mut route: impl FnMut(&str, usize) -> String,
) -> Option<()> {
    let n = b.raw.num_rows();
    let topics = b.raw.topics();
    let names: &StringArray = topics.values().as_string::<i32>();
    let mut dict: Vec<String> = Vec::new();
    let mut by_name: HashMap<String, i32> = HashMap::new();
    let mut by_bucket: HashMap<(i32, i64), i32> = HashMap::new();
    let mut keys = Vec::with_capacity(n);
    let mut last: Option<((i32, i64), i32)> = None;
    for i in 0..n {
        let slot = (topics.keys().value(i), bucket(i));
        let k = match last {
            Some((s, k)) if s == slot => k,
            _ => {
                let k = match by_bucket.get(&slot) {
                    Some(k) => *k,
                    None => {
                        let topic = route(names.value(slot.0 as usize), i);
                        let k = *by_name.entry(topic.clone()).or_insert_with(|| {
                            dict.push(topic);
                            dict.len() as i32 - 1
                        });
                        by_bucket.insert(slot, k);
                        k
                    }
                };
                last = Some((slot, k));
                k
            }
        };
        keys.push(k);
    }
    let topics = DictionaryArray::<Int32Type>::try_new(
        Int32Array::from(keys),
        Arc::new(StringArray::from(dict)),
    )
    .ok()?;
    if b.original_topics.is_none() {
        b.original_topics = Some(b.raw.topics().clone());
    }
    b.raw = b.raw.with_topics(topics).ok()?;
    Some(())
}

fn timestamp_router(t: &TimestampRouter, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let ts = b.raw.timestamps().clone();
    if ts.null_count() > 0 {
        return None;
    }
    let by_day = t.format.date_only();
    let bucket = |i: usize| {
        if by_day {
            ts.value(i).div_euclid(86_400_000)
        } else {
            ts.value(i)
        }
    };
    set_topics(&mut b, bucket, |topic, i| {
        t.topic_format
            .replace("${topic}", topic)
            .replace("${timestamp}", &t.format.format(ts.value(i)))
    })?;
    Some(b)
}

fn regex_router(t: &RegexRouter, mut b: ConnectBatch) -> Option<ConnectBatch> {
    let replacement = t.replacement.as_ref().ok()?.clone();
    set_topics(
        &mut b,
        |_| 0,
        |topic, _| {
            if t.regex.is_match(topic) {
                t.regex.replace(topic, replacement.as_str()).into_owned()
            } else {
                topic.to_string()
            }
        },
    )?;
    Some(b)
}

fn filter(b: ConnectBatch, predicate: Option<&(Predicate, bool)>) -> Option<ConnectBatch> {
    let n = b.raw.num_rows();
    let drop: Vec<bool> = match predicate {
        None => vec![true; n],
        Some((Predicate::TopicNameMatches(re), negate)) => {
            let topics = b.raw.topics();
            let names: &StringArray = topics.values().as_string::<i32>();
            let matches: Vec<bool> = (0..names.len())
                .map(|k| re.is_match(names.value(k)))
                .collect();
            (0..n)
                .map(|i| matches[topics.keys().value(i) as usize] != *negate)
                .collect()
        }
        Some((Predicate::RecordIsTombstone, negate)) => {
            let value = &b.value;
            (0..n).map(|i| value.is_null(i) != *negate).collect()
        }
        Some(_) => return None,
    };
    if !drop.iter().any(|d| *d) {
        return Some(b);
    }
    let keep = BooleanArray::from_iter(drop.iter().map(|d| Some(!d)));
    b.filter(&keep).ok()
}

/// The value column as a schema'd struct whose rows all hold a struct (Kafka leaves null
/// values untouched, keeping their old schema, so such batches go per record), or `None`.
fn typed(c: &ConnectColumn) -> Option<(&Arc<ConnectSchema>, &StructArray)> {
    let s = c.schema.as_ref()?;
    if s.schema_type != SchemaType::Struct || !c.exact.is_empty() || c.array.null_count() > 0 {
        return None;
    }
    match c.array.data_type() {
        DataType::Struct(_) => Some((s, c.array.as_struct())),
        _ => None,
    }
}

/// `Struct.get` would substitute a field's default for a null: only safe without such nulls.
fn no_default_nulls(s: &ConnectSchema, st: &StructArray, index: usize) -> bool {
    s.fields[index].schema.default.is_none() || st.column(index).null_count() == 0
}

/// Builds the struct column for `schema` from children in field order.
fn typed_column(schema: ConnectSchema, children: Vec<ArrayRef>) -> Option<ConnectColumn> {
    let fields: Vec<Field> = schema
        .fields
        .iter()
        .map(|f| arrow_field(&f.name, &f.schema))
        .collect();
    let array = StructArray::try_new(Fields::from(fields), children, None).ok()?;
    Some(ConnectColumn::new(Some(Arc::new(schema)), Arc::new(array)))
}

fn typed_replace_field(t: &ReplaceField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value {
        return None;
    }
    let (s, st) = typed(&b.value)?;
    let keep = |n: &str| {
        !t.exclude.iter().any(|e| e == n)
            && (t.include.is_empty() || t.include.iter().any(|i| i == n))
    };
    let renamed = |n: &str| {
        t.renames
            .iter()
            .find(|(a, _)| a == n)
            .map_or(n.to_string(), |(_, r)| r.clone())
    };
    let mut schema = copy_basics(s);
    schema.optional = false;
    let mut children = Vec::new();
    for f in s.fields.iter().filter(|f| keep(&f.name)) {
        if !no_default_nulls(s, st, f.index) {
            return None;
        }
        // Duplicate or empty names are Kafka errors: the per-record path reports them.
        push_field(&mut schema, &renamed(&f.name), f.schema.clone()).ok()?;
        children.push(st.column(f.index).clone());
    }
    b.value = typed_column(schema, children)?;
    Some(b)
}

fn typed_insert_field(t: &InsertField, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value {
        return None;
    }
    let (s, st) = typed(&b.value)?;
    let n = b.raw.num_rows();
    let mut schema = copy_basics(s);
    schema.optional = false;
    let mut children = Vec::new();
    for f in &s.fields {
        if !no_default_nulls(s, st, f.index) {
            return None;
        }
        push_field(&mut schema, &f.name, f.schema.clone()).ok()?;
        children.push(st.column(f.index).clone());
    }
    let string = |optional: bool| Arc::new(ConnectSchema::new(SchemaType::String, optional));
    if let Some(f) = &t.topic {
        push_field(&mut schema, &f.name, string(f.optional)).ok()?;
        children.push(Arc::new(
            (0..n)
                .map(|i| Some(b.raw.topic(i)))
                .collect::<StringViewArray>(),
        ));
    }
    if let Some(f) = &t.partition {
        push_field(
            &mut schema,
            &f.name,
            Arc::new(ConnectSchema::new(SchemaType::Int32, f.optional)),
        )
        .ok()?;
        children.push(Arc::new(b.raw.partitions().clone()));
    }
    if let Some(f) = &t.offset {
        push_field(
            &mut schema,
            &f.name,
            Arc::new(ConnectSchema::new(SchemaType::Int64, f.optional)),
        )
        .ok()?;
        children.push(Arc::new(b.raw.offsets().clone()));
    }
    if let Some(f) = &t.timestamp {
        let ts = b.raw.timestamps();
        if !f.optional && ts.null_count() > 0 {
            return None;
        }
        let mut ts_schema = ConnectSchema::new(SchemaType::Int64, f.optional);
        ts_schema.name = Some(sluice_codecs::schema::logical::TIMESTAMP.into());
        ts_schema.version = Some(1);
        push_field(&mut schema, &f.name, Arc::new(ts_schema)).ok()?;
        let millis =
            arrow::array::TimestampMillisecondArray::new(ts.values().clone(), ts.nulls().cloned())
                .with_timezone("+00:00");
        children.push(Arc::new(millis));
    }
    if let Some(f) = &t.static_field {
        push_field(&mut schema, &f.name, string(f.optional)).ok()?;
        match &t.static_value {
            Some(v) => children.push(Arc::new(
                std::iter::repeat_n(Some(v.as_str()), n).collect::<StringViewArray>(),
            )),
            None if f.optional => children.push(Arc::new(
                std::iter::repeat_n(None::<&str>, n).collect::<StringViewArray>(),
            )),
            None => return None,
        }
    }
    b.value = typed_column(schema, children)?;
    Some(b)
}

fn typed_cast(t: &Cast, mut b: ConnectBatch) -> Option<ConnectBatch> {
    if t.side != Side::Value || t.whole.is_some() {
        return None;
    }
    let (s, st) = typed(&b.value)?;
    let schema = t.build_schema(s).ok()?;
    let mut children = Vec::with_capacity(s.fields.len());
    for f in &s.fields {
        let child = st.column(f.index).clone();
        match t.casts.iter().find(|(name, _)| *name == f.name) {
            None => {
                if !no_default_nulls(s, st, f.index) {
                    return None;
                }
                children.push(child);
            }
            Some((_, to)) => {
                if f.schema.logical().is_some() || f.schema.default.is_some() {
                    return None;
                }
                children.push(cast_child(&child, *to)?);
            }
        }
    }
    b.value = typed_column(schema, children)?;
    Some(b)
}
