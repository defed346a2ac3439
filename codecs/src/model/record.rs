//! The record-batch model: every chunk of Kafka records (one consumer poll, one source
//! poll) becomes one Arrow [`RecordBatch`] with a fixed schema, so every later stage is a
//! batch-in, batch-out kernel.
//!
//! | column           | Arrow type                                   | meaning                          |
//! |------------------|----------------------------------------------|----------------------------------|
//! | `topic`          | `Dictionary<Int32, Utf8>`                    | topic; routers rewrite only the dictionary |
//! | `partition`      | `Int32`                                      | Kafka partition                  |
//! | `offset`         | `Int64`                                      | Kafka offset                     |
//! | `timestamp`      | `Int64`, nullable                            | epoch ms; null = no timestamp    |
//! | `timestamp_type` | `Int8`                                       | Kafka id: -1 none, 0 CreateTime, 1 LogAppendTime |
//! | `key`            | `BinaryView`, nullable                       | raw key bytes; null = Kafka null |
//! | `value`          | `BinaryView`, nullable                       | raw value bytes; null = tombstone |
//! | `headers`        | `List<Struct<key: Utf8, value: BinaryView>>` | headers in order, duplicates kept |
//!
//! Bytes are copied exactly once: from the client's fetch buffer into the view builders'
//! data blocks. `BinaryView` stores values longer than 12 bytes as (block, offset, len)
//! views, so filtering, slicing, routing (which replaces only the `topic` column) and
//! `ByteArrayConverter`/`StringConverter` pass-through share those blocks instead of
//! copying payloads again.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BinaryViewBuilder, DictionaryArray, Int8Array,
    Int8Builder, Int32Array, Int32Builder, Int64Array, Int64Builder, ListArray, ListBuilder,
    RecordBatch, StringArray, StringBuilder, StructArray, StructBuilder,
};
use arrow::datatypes::{DataType, Field, Fields, Int32Type, Schema, SchemaRef};

/// Column positions in [`raw_schema`].
pub mod col {
    pub const TOPIC: usize = 0;
    pub const PARTITION: usize = 1;
    pub const OFFSET: usize = 2;
    pub const TIMESTAMP: usize = 3;
    pub const TIMESTAMP_TYPE: usize = 4;
    pub const KEY: usize = 5;
    pub const VALUE: usize = 6;
    pub const HEADERS: usize = 7;
}

/// Kafka's `TimestampType` ids.
pub mod timestamp_type {
    pub const NO_TIMESTAMP_TYPE: i8 = -1;
    pub const CREATE_TIME: i8 = 0;
    pub const LOG_APPEND_TIME: i8 = 1;
}

fn header_fields() -> Fields {
    Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::BinaryView, true),
    ])
}

fn header_item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Struct(header_fields()), false))
}

static RAW_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new(
            "topic",
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            false,
        ),
        Field::new("partition", DataType::Int32, false),
        Field::new("offset", DataType::Int64, false),
        Field::new("timestamp", DataType::Int64, true),
        Field::new("timestamp_type", DataType::Int8, false),
        Field::new("key", DataType::BinaryView, true),
        Field::new("value", DataType::BinaryView, true),
        Field::new("headers", DataType::List(header_item_field()), false),
    ]))
});

/// The schema every raw Kafka record batch has.
pub fn raw_schema() -> SchemaRef {
    RAW_SCHEMA.clone()
}

/// One header as borrowed from a client message.
#[derive(Debug, Clone, Copy)]
pub struct RawHeader<'a> {
    pub key: &'a str,
    pub value: Option<&'a [u8]>,
}

/// Builds a raw batch from borrowed record parts, copying each payload byte once.
pub struct RawBatchBuilder {
    /// Topic column as dictionary keys into `topic_names`: consecutive records mostly share
    /// a topic, so a record costs one comparison with the previous topic, not a hash.
    topic_keys: Int32Builder,
    topic_names: Vec<String>,
    last_topic: usize,
    partition: Int32Builder,
    offset: Int64Builder,
    timestamp: Int64Builder,
    timestamp_type: Int8Builder,
    key: BinaryViewBuilder,
    value: BinaryViewBuilder,
    headers: ListBuilder<StructBuilder>,
    rows: usize,
}

impl std::fmt::Debug for RawBatchBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBatchBuilder")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl Default for RawBatchBuilder {
    fn default() -> Self {
        Self::with_capacity(1024)
    }
}

impl RawBatchBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        let headers = StructBuilder::new(
            header_fields(),
            vec![
                Box::new(StringBuilder::new()),
                Box::new(BinaryViewBuilder::new()),
            ],
        );
        Self {
            topic_keys: Int32Builder::with_capacity(rows),
            topic_names: Vec::new(),
            last_topic: 0,
            partition: Int32Builder::with_capacity(rows),
            offset: Int64Builder::with_capacity(rows),
            timestamp: Int64Builder::with_capacity(rows),
            timestamp_type: Int8Builder::with_capacity(rows),
            key: BinaryViewBuilder::with_capacity(rows),
            value: BinaryViewBuilder::with_capacity(rows),
            headers: ListBuilder::new(headers).with_field(header_item_field()),
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one record. `timestamp` is `None` when the record has none.
    #[allow(clippy::too_many_arguments)]
    pub fn append<'a>(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        timestamp: Option<i64>,
        timestamp_type: i8,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: impl IntoIterator<Item = RawHeader<'a>>,
    ) {
        let topic_key = if self
            .topic_names
            .get(self.last_topic)
            .is_some_and(|t| t == topic)
        {
            self.last_topic
        } else {
            let k = match self.topic_names.iter().position(|t| t == topic) {
                Some(k) => k,
                None => {
                    self.topic_names.push(topic.to_string());
                    self.topic_names.len() - 1
                }
            };
            self.last_topic = k;
            k
        };
        self.topic_keys.append_value(topic_key as i32);
        self.partition.append_value(partition);
        self.offset.append_value(offset);
        self.timestamp.append_option(timestamp);
        self.timestamp_type.append_value(timestamp_type);
        self.key.append_option(key);
        self.value.append_option(value);
        let entries = self.headers.values();
        for h in headers {
            field_builder::<StringBuilder>(entries, 0).append_value(h.key);
            field_builder::<BinaryViewBuilder>(entries, 1).append_option(h.value);
            entries.append(true);
        }
        self.headers.append(true);
        self.rows += 1;
    }

    fn finish_topics(&mut self) -> DictionaryArray<Int32Type> {
        let names = StringArray::from_iter_values(self.topic_names.drain(..));
        self.last_topic = 0;
        // Every key was pushed as an index into `topic_names`, so they are all in range.
        DictionaryArray::try_new(self.topic_keys.finish(), Arc::new(names))
            .unwrap_or_else(|e| unreachable!("topic keys index the topic names: {e}"))
    }

    /// Finishes the batch and resets the builder for the next one.
    pub fn finish(&mut self) -> RawBatch {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.finish_topics()),
            Arc::new(self.partition.finish()),
            Arc::new(self.offset.finish()),
            Arc::new(self.timestamp.finish()),
            Arc::new(self.timestamp_type.finish()),
            Arc::new(self.key.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.headers.finish()),
        ];
        // The builders produce exactly the types of `raw_schema`, so this cannot fail;
        // a mismatch would be a programming error caught by the unit tests.
        let batch = RecordBatch::try_new(raw_schema(), columns)
            .unwrap_or_else(|e| unreachable!("raw batch columns match raw_schema: {e}"));
        RawBatch(batch)
    }
}

fn field_builder<T: arrow::array::ArrayBuilder>(s: &mut StructBuilder, i: usize) -> &mut T {
    s.field_builder::<T>(i)
        .unwrap_or_else(|| unreachable!("header struct field {i} has the builder type we made"))
}

/// A record batch known to have [`raw_schema`], with typed column accessors.
#[derive(Debug, Clone)]
pub struct RawBatch(RecordBatch);

impl RawBatch {
    /// Wraps a batch after checking its schema.
    pub fn try_new(batch: RecordBatch) -> Result<Self, crate::CodecError> {
        if batch.schema().fields() != raw_schema().fields() {
            return Err(crate::CodecError::SchemaMismatch {
                expected: "raw Kafka record batch".into(),
                found: format!("{:?}", batch.schema()),
            });
        }
        Ok(Self(batch))
    }

    pub fn batch(&self) -> &RecordBatch {
        &self.0
    }

    pub fn into_inner(self) -> RecordBatch {
        self.0
    }

    pub fn num_rows(&self) -> usize {
        self.0.num_rows()
    }

    pub fn topics(&self) -> &DictionaryArray<Int32Type> {
        self.0.column(col::TOPIC).as_dictionary::<Int32Type>()
    }

    /// The topic of row `i`.
    pub fn topic(&self, i: usize) -> &str {
        let topics = self.topics();
        let values: &StringArray = topics.values().as_string::<i32>();
        values.value(topics.keys().value(i) as usize)
    }

    pub fn partitions(&self) -> &Int32Array {
        self.0.column(col::PARTITION).as_primitive()
    }

    pub fn offsets(&self) -> &Int64Array {
        self.0.column(col::OFFSET).as_primitive()
    }

    pub fn timestamps(&self) -> &Int64Array {
        self.0.column(col::TIMESTAMP).as_primitive()
    }

    pub fn timestamp_types(&self) -> &Int8Array {
        self.0.column(col::TIMESTAMP_TYPE).as_primitive()
    }

    pub fn keys(&self) -> &BinaryViewArray {
        self.0.column(col::KEY).as_binary_view()
    }

    pub fn values(&self) -> &BinaryViewArray {
        self.0.column(col::VALUE).as_binary_view()
    }

    pub fn headers(&self) -> &ListArray {
        self.0.column(col::HEADERS).as_list()
    }

    /// Headers of row `i` as (key, value) pairs.
    pub fn row_headers(&self, i: usize) -> impl Iterator<Item = RawHeader<'_>> {
        let list = self.headers();
        let offsets = list.value_offsets();
        let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
        let entries: &StructArray = list.values().as_struct();
        let keys: &StringArray = entries.column(0).as_string();
        let values: &BinaryViewArray = entries.column(1).as_binary_view();
        (start..end).map(move |j| RawHeader {
            key: keys.value(j),
            value: values.is_valid(j).then(|| values.value(j)),
        })
    }

    /// Keeps the rows where `mask` is true. Payload blocks are shared, not copied.
    pub fn filter(&self, mask: &arrow::array::BooleanArray) -> Result<Self, crate::CodecError> {
        let batch = arrow::compute::filter_record_batch(&self.0, mask)?;
        Ok(Self(batch))
    }

    /// Replaces the topic column (routing); every other column is shared as is.
    pub fn with_topics(
        &self,
        topics: DictionaryArray<Int32Type>,
    ) -> Result<Self, crate::CodecError> {
        let mut columns = self.0.columns().to_vec();
        columns[col::TOPIC] = Arc::new(topics);
        Ok(Self(RecordBatch::try_new(self.0.schema(), columns)?))
    }

    /// The highest offset per (topic, partition) in the batch, without per-row allocation.
    pub fn max_offsets(&self) -> Vec<(&str, i32, i64)> {
        let topics = self.topics();
        let names: &StringArray = topics.values().as_string::<i32>();
        let (keys, partitions, offsets) = (topics.keys(), self.partitions(), self.offsets());
        // Records come in runs per partition: the map is consulted once per run.
        type Run = Option<((i32, i32), i64)>;
        fn note(max: &mut std::collections::HashMap<(i32, i32), i64>, run: Run) {
            if let Some((tp, m)) = run {
                let slot = max.entry(tp).or_insert(i64::MIN);
                *slot = (*slot).max(m);
            }
        }
        let mut max = std::collections::HashMap::new();
        let mut run: Run = None;
        for i in 0..self.num_rows() {
            let tp = (keys.value(i), partitions.value(i));
            let offset = offsets.value(i);
            match &mut run {
                Some((current, m)) if *current == tp => *m = (*m).max(offset),
                _ => note(&mut max, run.replace((tp, offset))),
            }
        }
        note(&mut max, run);
        max.into_iter()
            .map(|((k, p), o)| (names.value(k as usize), p, o))
            .collect()
    }

    pub fn slice(&self, offset: usize, len: usize) -> Self {
        Self(self.0.slice(offset, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::BooleanArray;

    #[test]
    fn topics_and_max_offsets_follow_interleaved_runs() {
        let mut b = RawBatchBuilder::with_capacity(8);
        let rows = [
            ("a", 0, 5),
            ("a", 0, 6),
            ("b", 0, 1),
            ("a", 1, 9),
            ("a", 0, 7),
            ("b", 0, 0),
        ];
        for (topic, partition, offset) in rows {
            b.append(topic, partition, offset, None, 0, None, Some(b"v"), []);
        }
        let raw = b.finish();
        let topics: Vec<&str> = (0..raw.num_rows()).map(|i| raw.topic(i)).collect();
        assert_eq!(topics, ["a", "a", "b", "a", "a", "b"]);
        assert_eq!(
            raw.topics().values().len(),
            2,
            "one dictionary entry per topic"
        );
        let mut max = raw.max_offsets();
        max.sort();
        assert_eq!(max, [("a", 0, 7), ("a", 1, 9), ("b", 0, 1)]);
        // The next batch starts a fresh dictionary.
        b.append("c", 0, 1, None, 0, None, None, []);
        let next = b.finish();
        assert_eq!(next.topic(0), "c");
        assert_eq!(next.topics().values().len(), 1);
    }

    fn sample(n: usize) -> RawBatch {
        let mut b = RawBatchBuilder::with_capacity(n);
        for i in 0..n {
            let value = format!("value number {i:05} with enough bytes to not be inlined");
            let h = [
                RawHeader {
                    key: "h",
                    value: Some(b"hv"),
                },
                RawHeader {
                    key: "n",
                    value: None,
                },
            ];
            b.append(
                if i % 2 == 0 { "even" } else { "odd" },
                (i % 3) as i32,
                i as i64,
                (i % 5 != 0).then_some(1_700_000_000_000 + i as i64),
                timestamp_type::CREATE_TIME,
                (i % 4 != 0)
                    .then_some(format!("k{i}").as_bytes())
                    .map(|k| k.to_vec())
                    .as_deref(),
                Some(value.as_bytes()),
                if i % 2 == 0 { &h[..] } else { &h[..0] }.iter().copied(),
            );
        }
        b.finish()
    }

    #[test]
    fn builds_all_columns() {
        let b = sample(10);
        assert_eq!(b.num_rows(), 10);
        assert_eq!(b.topic(3), "odd");
        assert_eq!(b.partitions().value(4), 1);
        assert_eq!(b.offsets().value(7), 7);
        assert!(b.timestamps().is_null(5));
        assert!(b.keys().is_null(4));
        assert_eq!(b.keys().value(5), b"k5");
        assert!(b.values().value(2).starts_with(b"value number 00002"));
        let h: Vec<_> = b
            .row_headers(2)
            .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
            .collect();
        assert_eq!(
            h,
            vec![("h".into(), Some(b"hv".to_vec())), ("n".into(), None)]
        );
        assert_eq!(b.row_headers(3).count(), 0);
        assert!(RawBatch::try_new(b.batch().clone()).is_ok());
    }

    #[test]
    fn filter_and_route_share_payload_buffers() {
        let b = sample(1000);
        let original = b.values().data_buffers()[0].as_ptr();
        let mask = BooleanArray::from_iter((0..1000).map(|i| Some(i % 3 == 0)));
        let filtered = b.filter(&mask).expect("filter");
        assert_eq!(filtered.num_rows(), 334);
        // Same data block: only the 16-byte views were rewritten.
        assert_eq!(filtered.values().data_buffers()[0].as_ptr(), original);
        assert_eq!(filtered.values().value(1), b.values().value(3));

        let routed_topics: DictionaryArray<Int32Type> =
            filtered
                .topics()
                .with_values(Arc::new(StringArray::from(vec![
                    "even-routed",
                    "odd-routed",
                ])));
        let routed = filtered.with_topics(routed_topics).expect("route");
        assert_eq!(routed.topic(1), "odd-routed");
        assert!(Arc::ptr_eq(
            routed.batch().column(col::VALUE),
            filtered.batch().column(col::VALUE)
        ));

        let mut max = b.max_offsets();
        max.sort();
        assert_eq!(max[0], ("even", 0, 996));
        assert_eq!(max.len(), 6);

        let sliced = routed.slice(10, 5);
        assert_eq!(sliced.values().data_buffers()[0].as_ptr(), original);
    }
}
