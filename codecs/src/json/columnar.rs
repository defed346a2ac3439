//! JsonConverter over whole batches: envelope values are decoded straight into Arrow
//! builders from a simd-json tape, and typed Arrow columns are encoded back to JSON bytes.
//!
//! Envelopes repeat the same schema in every record, so the `{"schema":…,"payload":` prefix
//! is looked up by its exact bytes (one memcmp against the previous record's schema on the
//! common path); only the payload is parsed. A row the fast path cannot prove it handles
//! exactly as Kafka (decimals, bytes, numbers outside the field's range, type mismatches,
//! defaults, malformed JSON…) is converted by the reference model instead, so results are
//! always Kafka's. Rows sharing a schema form a run; a batch is one run in practice.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryViewArray};
use arrow::datatypes::{DataType, Field};
use simd_json::StaticNode;
use simd_json::value::tape::Node;

use crate::columnar::builders::Source;
use crate::columnar::col::{Col, SAMPLE_ROWS, Shape};
use crate::columnar::runs::{OpenRun, Run};
use crate::error::{ConnectError, RowFailure, Stage};
use crate::json::connect::{self, JsonConfig};
use crate::json::direct::ShapeProgram;
use crate::model::arrow_map::arrow_field;
use crate::model::cells::cell_value;
use crate::model::column::ConnectColumn;
use crate::model::schema::{ConnectSchema, SchemaType, logical};
use crate::model::value::Value;

fn node_len(tape: &[Node<'_>], i: usize) -> usize {
    match tape[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// simd-json reports non-negative integers as `U64`; both mean a JSON integer.
fn int_node(n: Node<'_>) -> Node<'_> {
    match n {
        Node::Static(StaticNode::U64(u)) => match i64::try_from(u) {
            Ok(v) => Node::Static(StaticNode::I64(v)),
            Err(_) => n,
        },
        other => other,
    }
}

/// Can the fast path append the value at `tape[i]` exactly as Kafka would convert it?
fn fits(cfg: &JsonConfig, tape: &[Node<'_>], i: usize, s: &ConnectSchema) -> bool {
    match int_node(tape[i]) {
        Node::Static(StaticNode::Null) => {
            s.optional && (s.default.is_none() || !cfg.replace_null_with_default)
        }
        Node::Static(StaticNode::I64(v)) => match (s.logical(), s.schema_type) {
            (Some(logical::DATE), _) => i32::try_from(v).is_ok(),
            (Some(logical::TIME), _) => (0..=86_400_000).contains(&v),
            (Some(logical::TIMESTAMP), _) => true,
            (Some(_), _) => false,
            (None, SchemaType::Int8) => i8::try_from(v).is_ok(),
            (None, SchemaType::Int16) => i16::try_from(v).is_ok(),
            (None, SchemaType::Int32) => i32::try_from(v).is_ok(),
            (None, SchemaType::Int64) => true,
            // Exact in a double (|v| <= 2^53); larger integers take the exact slow path.
            (None, SchemaType::Float64 | SchemaType::Float32) => v.unsigned_abs() <= 1 << 53,
            _ => false,
        },
        Node::Static(StaticNode::F64(_)) => {
            s.logical().is_none() && matches!(s.schema_type, SchemaType::Float64)
        }
        Node::Static(StaticNode::Bool(_)) => {
            s.logical().is_none() && s.schema_type == SchemaType::Boolean
        }
        Node::String(_) => s.logical().is_none() && s.schema_type == SchemaType::String,
        Node::Array { len, .. } => {
            if s.logical().is_some() || s.schema_type != SchemaType::Array {
                return false;
            }
            let Some(item) = s.value.as_deref() else {
                return false;
            };
            let mut j = i + 1;
            for _ in 0..len {
                if !fits(cfg, tape, j, item) {
                    return false;
                }
                j += node_len(tape, j);
            }
            true
        }
        Node::Object { len, .. } => {
            if s.logical().is_some() || s.schema_type != SchemaType::Struct {
                return false;
            }
            // Every field must be present exactly once (no defaults, no duplicates) and fit.
            let mut seen = 0u64;
            if s.fields.len() > 64 || len != s.fields.len() {
                return false;
            }
            let mut j = i + 1;
            for _ in 0..len {
                let Node::String(key) = tape[j] else {
                    return false;
                };
                let Some(f) = s.field(key) else { return false };
                if seen & (1 << f.index) != 0 || !fits(cfg, tape, j + 1, &f.schema) {
                    return false;
                }
                seen |= 1 << f.index;
                j += 1 + node_len(tape, j + 1);
            }
            true
        }
        _ => false,
    }
}

/// Appends the value at `tape[i]`, which `fits` accepted.
fn append(tape: &[Node<'_>], i: usize, s: &ConnectSchema, col: &mut Col) {
    match (int_node(tape[i]), col) {
        (Node::Static(StaticNode::Null), c) => c.append_null(),
        (Node::Static(StaticNode::I64(v)), c) => c.append_int(v),
        // Jackson reads floats as BigDecimal, which has no negative zero: -0.0 reads as 0.0.
        (Node::Static(StaticNode::F64(d)), Col::F64(b)) => {
            b.append_value(if d == 0.0 { 0.0 } else { d })
        }
        (Node::Static(StaticNode::Bool(x)), Col::Bool(b)) => b.append_value(x),
        (Node::String(x), Col::Str(b)) => b.append_value(x),
        (
            Node::Array { len, .. },
            Col::List {
                offsets,
                nulls,
                item,
                ..
            },
        ) => {
            let item_schema = s.value.as_deref().unwrap_or(s);
            let mut j = i + 1;
            for _ in 0..len {
                append(tape, j, item_schema, item);
                j += node_len(tape, j);
            }
            offsets.push(offsets.last().unwrap_or(&0) + len as i32);
            nulls.append_non_null();
        }
        (
            Node::Object { len, .. },
            Col::Struct {
                children, nulls, ..
            },
        ) => {
            let mut j = i + 1;
            for _ in 0..len {
                if let Node::String(key) = tape[j]
                    && let Some(f) = s.field(key)
                {
                    append(tape, j + 1, &f.schema, &mut children[f.index]);
                }
                j += 1 + node_len(tape, j + 1);
            }
            nulls.append_non_null();
        }
        (_, c) => c.append_null(),
    }
}

/// Where the JSON value starting at `start` ends (exclusive), by bracket matching.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_str = false;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' if depth == 0 => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    (depth == 0 && !in_str).then_some(b.len())
}

/// Parses one JSON document at a time into a reused tape: the input is copied once into a
/// padded scratch buffer (simd-json unescapes in place) and the tape's allocation is recycled.
struct TapeParser {
    scratch: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: Option<simd_json::Tape<'static>>,
}

impl TapeParser {
    fn new() -> Self {
        Self {
            scratch: Vec::new(),
            buffers: simd_json::Buffers::new(1024),
            tape: None,
        }
    }

    /// Runs `f` on the tape of `bytes`; `None` when simd-json rejects the input.
    fn with_tape<R>(&mut self, bytes: &[u8], f: impl FnOnce(&[Node<'_>]) -> R) -> Option<R> {
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        let len = self.scratch.len();
        self.scratch.resize(len + simd_json::INPUT_PADDING, 0);
        let mut tape: simd_json::Tape<'_> = self
            .tape
            .take()
            .map_or_else(simd_json::Tape::null, simd_json::Tape::reset);
        let result =
            simd_json::fill_tape_padded(&mut self.scratch, len, &mut self.buffers, &mut tape)
                .ok()
                .map(|()| f(&tape.0));
        self.tape = Some(tape.reset());
        result
    }
}

/// Whether `b` might break a Jackson `StreamReadConstraints` limit that simd-json does not
/// have (more than 1000 digits in a number, more than 1000 nested containers): such input
/// takes the exact slow path. Cheap for ordinary records: a run of more than 1000 number
/// characters covers two of the bytes sampled every 500, and deep nesting needs 2000 bytes.
fn may_exceed_read_constraints(b: &[u8]) -> bool {
    if b.len() <= 1000 {
        return false;
    }
    let numberish = |c: u8| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-');
    let mut previous = false;
    for i in (0..b.len()).step_by(500) {
        let here = numberish(b[i]);
        if here && previous {
            return true;
        }
        previous = here;
    }
    b.len() > 2000 && b.iter().filter(|&&c| c == b'[' || c == b'{').count() > 1000
}

const SCHEMA_PREFIX: &[u8] = b"{\"schema\":";
const PAYLOAD_KEY: &[u8] = b",\"payload\":";

struct Cached {
    schema_bytes: Vec<u8>,
    schema: Option<Arc<ConnectSchema>>,
    /// How the direct reader matches the schema's keys.
    leads: Option<crate::json::direct::Leads>,
}

#[derive(Debug, Default)]
pub struct DecodedRuns {
    pub runs: Vec<Run>,
    pub failures: Vec<RowFailure>,
    /// Rows decoded by the tape fast path (the rest went through the reference model).
    pub fast_rows: usize,
}

/// Decodes JsonConverter envelope values (`schemas.enable=true`) into typed columns.
pub struct EnvelopeDecoder {
    cfg: JsonConfig,
    cache: Vec<Cached>,
    last: Option<usize>,
    parser: TapeParser,
    direct: crate::json::direct::DirectReader,
    /// Rows of the batch being decoded.
    batch_rows: usize,
}

impl std::fmt::Debug for EnvelopeDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeDecoder")
            .field("cached_schemas", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl EnvelopeDecoder {
    pub fn new(cfg: JsonConfig) -> Self {
        Self {
            cfg,
            cache: Vec::new(),
            last: None,
            parser: TapeParser::new(),
            direct: Default::default(),
            batch_rows: 0,
        }
    }

    fn lookup(&mut self, schema_bytes: &[u8]) -> Result<usize, ConnectError> {
        if let Some(i) = self
            .last
            .filter(|&i| self.cache[i].schema_bytes == schema_bytes)
        {
            return Ok(i);
        }
        if let Some(i) = self
            .cache
            .iter()
            .position(|c| c.schema_bytes == schema_bytes)
        {
            self.last = Some(i);
            return Ok(i);
        }
        let node = crate::json::jackson::parse(schema_bytes)
            .map_err(|_| ConnectError::data("unparsable schema"))?;
        let schema = connect::as_connect_schema(&self.cfg, &node)?;
        let limit = usize::try_from(self.cfg.schemas_cache_size.max(1)).unwrap_or(1);
        if self.cache.len() >= limit {
            self.cache.remove(0);
        }
        self.cache.push(Cached {
            schema_bytes: schema_bytes.to_vec(),
            leads: schema.as_deref().and_then(crate::json::direct::Leads::of),
            schema,
        });
        self.last = Some(self.cache.len() - 1);
        Ok(self.cache.len() - 1)
    }

    /// Tries the fast path for one record; `None` sends it to the reference model.
    fn fast(
        &mut self,
        bytes: &[u8],
        src: Source<'_>,
        run: &mut Option<OpenRun>,
        out: &mut Vec<Run>,
        row: usize,
    ) -> Option<()> {
        if may_exceed_read_constraints(bytes) {
            return None;
        }
        let rest = bytes.strip_prefix(SCHEMA_PREFIX)?;
        // Real topics repeat one schema: when the last schema's bytes are followed by the
        // payload key, bracket matching would end exactly there, so one memcmp stands in.
        let same_as_last = self.last.filter(|&i| {
            let last = &self.cache[i].schema_bytes;
            rest.starts_with(last) && rest[last.len()..].starts_with(PAYLOAD_KEY)
        });
        let end = match same_as_last {
            Some(i) => self.cache[i].schema_bytes.len(),
            None => value_end(rest, 0)?,
        };
        let (schema_bytes, after) = rest.split_at(end);
        let payload = after.strip_prefix(PAYLOAD_KEY)?;
        let payload = payload.strip_suffix(b"}")?;
        let idx = match same_as_last {
            Some(i) => i,
            None => self.lookup(schema_bytes).ok()?,
        };
        let cached = &self.cache[idx];
        let schema = cached.schema.clone()?;
        let cfg = &self.cfg;
        let open = OpenRun::continue_or_start(run, out, row, self.batch_rows - row, &schema);
        let src = src.advanced(payload.as_ptr() as usize - bytes.as_ptr() as usize);
        if self.direct.read_typed(
            payload,
            src,
            cfg,
            &schema,
            cached.leads.as_ref(),
            open.col.as_mut()?,
        ) {
            open.count_row(self.batch_rows - row - 1);
            return Some(());
        }
        self.parser
            .with_tape(payload, |tape| {
                if !fits(cfg, tape, 0, &schema) {
                    return None;
                }
                let open =
                    OpenRun::continue_or_start(run, out, row, self.batch_rows - row, &schema);
                append(tape, 0, &schema, open.col.as_mut()?);
                open.count_row(self.batch_rows - row - 1);
                Some(())
            })
            .flatten()
    }

    /// Decodes a column of raw values; `stage` names the failure stage (key or value).
    pub fn decode(&mut self, input: &BinaryViewArray, stage: Stage) -> DecodedRuns {
        self.batch_rows = input.len();
        let mut out = DecodedRuns::default();
        let mut run: Option<OpenRun> = None;
        for row in 0..input.len() {
            let bytes = input.is_valid(row).then(|| input.value(row));
            // A `schema.content` value is a bare payload: the envelope fast path does not apply.
            if let Some(b) = bytes
                && self.cfg.schema_content.is_none()
                && self
                    .fast(
                        b,
                        crate::json::direct::row_source(input, row),
                        &mut run,
                        &mut out.runs,
                        row,
                    )
                    .is_some()
            {
                out.fast_rows += 1;
                continue;
            }
            match connect::to_connect_data(&self.cfg, bytes) {
                Ok((schema, value)) => {
                    if !run.as_ref().is_some_and(|r| r.same(schema.as_ref())) {
                        if let Some(done) = run.take() {
                            done.close_into(&mut out.runs);
                        }
                        run = Some(OpenRun::new(row, schema, input.len() - row));
                    }
                    if let Some(open) = run.as_mut() {
                        open.push_value(value);
                    }
                }
                Err(e) => {
                    out.failures.push(RowFailure {
                        row,
                        stage,
                        exception: e.exception,
                        message: e.message.unwrap_or_default(),
                    });
                    run.get_or_insert_with(|| OpenRun::new(row, None, 0))
                        .push_null();
                }
            }
        }
        if let Some(done) = run {
            done.close_into(&mut out.runs);
        }
        out
    }
}

pub(crate) fn write_value(
    cfg: &JsonConfig,
    s: &ConnectSchema,
    a: &ArrayRef,
    row: usize,
    out: &mut Vec<u8>,
) -> Result<(), ConnectError> {
    use std::io::Write;
    if a.is_null(row) {
        return connect::write_json(cfg, Some(s), &Value::Null, out);
    }
    match a.data_type() {
        DataType::Boolean => out.extend_from_slice(if a.as_boolean().value(row) {
            b"true"
        } else {
            b"false"
        }),
        DataType::Int8 => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Int8Type>().value(row)
        )
        .unwrap_or(()),
        DataType::Int16 => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Int16Type>().value(row)
        )
        .unwrap_or(()),
        DataType::Int32 => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Int32Type>().value(row)
        )
        .unwrap_or(()),
        DataType::Int64 => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Int64Type>().value(row)
        )
        .unwrap_or(()),
        DataType::Float32 => {
            let v = a.as_primitive::<arrow::datatypes::Float32Type>().value(row);
            connect::write_json(cfg, Some(s), &Value::F32(v), out)?;
        }
        DataType::Float64 => {
            let v = a.as_primitive::<arrow::datatypes::Float64Type>().value(row);
            connect::write_json(cfg, Some(s), &Value::F64(v), out)?;
        }
        DataType::Utf8View => crate::json::text::write_string(out, a.as_string_view().value(row)),
        DataType::BinaryView => {
            out.push(b'"');
            connect::base64_encode(a.as_binary_view().value(row), out);
            out.push(b'"');
        }
        DataType::Date32 => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Date32Type>().value(row)
        )
        .unwrap_or(()),
        DataType::Time32(_) => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::Time32MillisecondType>()
                .value(row)
        )
        .unwrap_or(()),
        DataType::Timestamp(_, _) => write!(
            out,
            "{}",
            a.as_primitive::<arrow::datatypes::TimestampMillisecondType>()
                .value(row)
        )
        .unwrap_or(()),
        DataType::Decimal128(_, scale) => {
            let v = Value::Decimal {
                unscaled: a
                    .as_primitive::<arrow::datatypes::Decimal128Type>()
                    .value(row),
                scale: i32::from(*scale),
            };
            connect::write_json(cfg, Some(s), &v, out)?;
        }
        DataType::List(_) => {
            let list = a.as_list::<i32>();
            let items = list.value(row);
            let item_schema = s.value.as_deref().unwrap_or(s);
            out.push(b'[');
            for j in 0..items.len() {
                if j > 0 {
                    out.push(b',');
                }
                write_value(cfg, item_schema, &items, j, out)?;
            }
            out.push(b']');
        }
        DataType::Struct(_) => {
            let st = a.as_struct();
            out.push(b'{');
            for (k, f) in s.fields.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                crate::json::text::write_string(out, &f.name);
                out.push(b':');
                write_value(cfg, &f.schema, st.column(k), row, out)?;
            }
            out.push(b'}');
        }
        DataType::Map(_, _) => {
            // Maps go through the reference writer (member order and key rendering rules).
            let m = a.as_map();
            let entries = m.value(row);
            let (ks, vs) = (
                s.key.as_deref().unwrap_or(s),
                s.value.as_deref().unwrap_or(s),
            );
            let mut pairs = Vec::with_capacity(entries.len());
            for j in 0..entries.len() {
                pairs.push((
                    cell_value(ks, entries.column(0), j),
                    cell_value(vs, entries.column(1), j),
                ));
            }
            connect::write_json(cfg, Some(s), &Value::Map(pairs), out)?;
        }
        _ => {
            return Err(ConnectError::data(format!(
                "unsupported column type {}",
                a.data_type()
            )));
        }
    }
    Ok(())
}

/// The Arrow field for a decoded column (name `value` or `key`).
pub fn column_field(name: &str, c: &ConnectColumn) -> Field {
    match &c.schema {
        Some(s) => arrow_field(name, s),
        None => Field::new(name, DataType::Null, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::OrderEvents;
    use crate::json::encode::encode;

    fn envelopes(n: usize) -> BinaryViewArray {
        let mut g = OrderEvents::new();
        let mut b = arrow::array::BinaryViewBuilder::new();
        for _ in 0..n {
            let mut v = Vec::new();
            g.write_next_envelope(&mut v);
            b.append_value(&v);
        }
        b.finish()
    }

    #[test]
    fn envelope_keys_match_as_json_spells_them() {
        let cfg = JsonConfig::default();
        let schema = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"a\"b"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"c"}],"optional":false,"field":"d"}],"optional":false}"#;
        let payloads = [
            r#"{"a\"b":1,"d":{"c":"x"}}"#,
            r#" { "a\"b" : 2 , "d" : { "c" : "y" } } "#,
            // A raw quote inside a key is not JSON.
            r#"{"a"b":3,"d":{"c":"z"}}"#,
            r#"{"a\u0022b":4,"d":{"c":"w"}}"#,
        ];
        let rows: Vec<String> = payloads
            .iter()
            .map(|p| format!(r#"{{"schema":{schema},"payload":{p}}}"#))
            .collect();
        let input = BinaryViewArray::from_iter_values(rows.iter().map(String::as_bytes));
        let out = EnvelopeDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
        let failed: Vec<usize> = out.failures.iter().map(|f| f.row).collect();
        assert_eq!(failed, vec![2]);
        // The compact row takes the direct reader; the others, the general path.
        assert!(out.fast_rows >= 1);
        let mut decoded = vec![Vec::new(); rows.len()];
        for run in &out.runs {
            let (bytes, _) = encode(&cfg, &run.column, Stage::ValueConverter);
            for i in 0..bytes.len() {
                decoded[run.start + i] = bytes.value(i).to_vec();
            }
        }
        for row in [0, 1, 3] {
            let (s, v) = connect::to_connect_data(&cfg, Some(rows[row].as_bytes())).unwrap();
            let expected = connect::from_connect_data(&cfg, s.as_deref(), &v)
                .unwrap()
                .unwrap();
            assert_eq!(decoded[row], expected, "row {row}");
        }
    }

    #[test]
    fn envelope_round_trip_is_byte_exact_and_uses_the_fast_path() {
        let cfg = JsonConfig::default();
        let input = envelopes(500);
        let mut dec = EnvelopeDecoder::new(cfg.clone());
        let out = dec.decode(&input, Stage::ValueConverter);
        assert!(out.failures.is_empty());
        assert_eq!(out.runs.len(), 1);
        assert_eq!(out.fast_rows, 500);
        let (bytes, failures) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
        assert!(failures.is_empty());
        for i in 0..input.len() {
            // Kafka re-encodes amounts such as 5.0 as "5.0"; the generator writes "5.00".
            let expected = crate::reference::RefConverter::Json(cfg.clone())
                .from_connect(
                    connect::to_connect_data(&cfg, Some(input.value(i)))
                        .unwrap()
                        .0
                        .as_deref(),
                    &connect::to_connect_data(&cfg, Some(input.value(i)))
                        .unwrap()
                        .1,
                )
                .unwrap()
                .unwrap();
            assert_eq!(bytes.value(i), expected.as_slice(), "row {i}");
        }
    }

    #[test]
    fn unpaired_surrogates_survive_a_round_trip_and_print_as_java_does() {
        let schemaless = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let cases: [(&JsonConfig, &[u8], &[u8]); 4] = [
            (&schemaless, br#""\ud800 lone""#, br#""\uD800 lone""#),
            (
                &schemaless,
                br#"{"a":["x\udc00y\ud83d\ude00"],"b":1}"#,
                br#"{"a":["x\uDC00y\uD83D\uDE00"],"b":1}"#,
            ),
            (
                &JsonConfig::default(),
                br#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"s"}],"optional":false},"payload":{"s":"\ud83d!"}}"#,
                br#"{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"s"}],"optional":false},"payload":{"s":"\uD83D!"}}"#,
            ),
            // A key is a Rust string: its unpaired surrogate becomes U+FFFD.
            (&schemaless, br#"{"k\ud800":1}"#, "{\"k\u{FFFD}\":1}".as_bytes()),
        ];
        for (cfg, input, expected) in cases {
            let rows = BinaryViewArray::from_iter_values([input]);
            let out = if cfg.schemas_enable {
                EnvelopeDecoder::new(cfg.clone()).decode(&rows, Stage::ValueConverter)
            } else {
                SchemalessDecoder::new(cfg.clone()).decode(&rows, Stage::ValueConverter)
            };
            assert!(out.failures.is_empty());
            let column = &out.runs[0].column;
            let (bytes, failures) = encode(cfg, column, Stage::ValueConverter);
            assert!(failures.is_empty());
            assert_eq!(
                String::from_utf8_lossy(bytes.value(0)),
                String::from_utf8_lossy(expected)
            );
        }
        // Written as UTF-8 text (StringConverter, files), Java's encoder puts `?` there.
        let rows = BinaryViewArray::from_iter_values([br#""a\ud800b""#]);
        let out = SchemalessDecoder::new(schemaless).decode(&rows, Stage::ValueConverter);
        assert_eq!(
            crate::reference::java_to_string(&out.runs[0].column.value(0)),
            "a?b"
        );
    }

    #[test]
    fn odd_rows_fall_back_and_failures_are_per_row() {
        let cfg = JsonConfig::default();
        let rows: Vec<Option<&[u8]>> = vec![
            Some(br#"{"schema":{"type":"int32","optional":false},"payload":7}"#),
            Some(br#"{"schema":{"type":"int32","optional":false},"payload":"x"}"#),
            Some(b"not json"),
            None,
            Some(br#"{"payload":1,"schema":{"type":"int32","optional":false}}"#),
        ];
        let input = BinaryViewArray::from(rows);
        let out = EnvelopeDecoder::new(cfg).decode(&input, Stage::ValueConverter);
        assert_eq!(out.fast_rows, 1);
        assert_eq!(
            out.failures.iter().map(|f| f.row).collect::<Vec<_>>(),
            vec![2]
        );
        // Runs: int32 rows 0-2 (the failed row 2 is a null there), the tombstone row 3 (no
        // schema), int32 row 4.
        let starts: Vec<usize> = out.runs.iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![0, 3, 4]);
        assert_eq!(out.runs[0].column.len(), 3);
        assert!(out.runs[0].column.array.is_null(2));
        let first = out.runs[0]
            .column
            .array
            .as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!(
            (first.value(0), first.value(1)),
            (7, 0),
            "a string for int32 reads as 0, as Jackson's intValue()"
        );
    }
}

fn infer_shape(tape: &[Node<'_>], i: usize) -> Option<Shape> {
    let Node::Object { len, .. } = tape[i] else {
        return None;
    };
    let mut names = Vec::with_capacity(len);
    let mut kinds: Vec<(ConnectSchema, Option<Shape>)> = Vec::with_capacity(len);
    let mut j = i + 1;
    for _ in 0..len {
        let Node::String(key) = tape[j] else {
            return None;
        };
        if names.iter().any(|n: &String| n == key) {
            return None;
        }
        names.push(key.to_string());
        kinds.push(infer_kind(tape, j + 1)?);
        j += 1 + node_len(tape, j + 1);
    }
    // Children in the order Java's HashMap iterates these keys.
    let entries: Vec<(Value, Value)> = names
        .iter()
        .enumerate()
        .map(|(k, n)| (Value::String(n.clone()), Value::I64(k as i64)))
        .collect();
    let order: Vec<usize> =
        crate::model::value::java_hash_order(entries, crate::model::value::JavaMapInit::Default)
            .into_iter()
            .map(|(_, v)| if let Value::I64(k) = v { k as usize } else { 0 })
            .collect();
    let mut schema = ConnectSchema::new(SchemaType::Struct, true);
    let mut nested = Vec::with_capacity(len);
    let mut json_order = vec![0; len];
    for (child, &k) in order.iter().enumerate() {
        json_order[k] = child;
        let (s, n) = kinds[k].clone();
        schema.fields.push(crate::model::schema::Field {
            name: names[k].clone(),
            index: child,
            schema: Arc::new(s),
        });
        nested.push(n);
    }
    let leads = names
        .iter()
        .enumerate()
        .map(|(k, name)| crate::json::direct::lead(k, name))
        .collect();
    Some(Shape {
        schema,
        json_order,
        nested,
        leads,
    })
}

fn infer_kind(tape: &[Node<'_>], i: usize) -> Option<(ConnectSchema, Option<Shape>)> {
    let t = |t: SchemaType| Some((ConnectSchema::new(t, true), None));
    match int_node(tape[i]) {
        Node::Static(StaticNode::I64(_)) => t(SchemaType::Int64),
        Node::Static(StaticNode::F64(_)) => t(SchemaType::Float64),
        Node::Static(StaticNode::Bool(_)) => t(SchemaType::Boolean),
        // An unknown kind: later rows with a value there keep their exact value.
        Node::Static(StaticNode::Null) | Node::String(_) => t(SchemaType::String),
        Node::Array { len, .. } => {
            let item = if len == 0 {
                (ConnectSchema::new(SchemaType::String, true), None)
            } else {
                infer_kind(tape, i + 1)?
            };
            if item.1.is_some() {
                return None;
            }
            let mut s = ConnectSchema::new(SchemaType::Array, true);
            s.value = Some(Arc::new(item.0));
            Some((s, None))
        }
        Node::Object { .. } => {
            let shape = infer_shape(tape, i)?;
            Some((shape.schema.clone(), Some(shape)))
        }
        _ => None,
    }
}

/// Does the value at `tape[i]` conform to `kind` (exact Kafka semantics preserved)?
fn shape_fits(tape: &[Node<'_>], i: usize, kind: &ConnectSchema, nested: Option<&Shape>) -> bool {
    match int_node(tape[i]) {
        Node::Static(StaticNode::Null) => true,
        Node::Static(StaticNode::I64(_)) => kind.schema_type == SchemaType::Int64,
        // Negative zero is accepted: append stores it as 0.0, as BigDecimal reads it.
        Node::Static(StaticNode::F64(_)) => kind.schema_type == SchemaType::Float64,
        Node::Static(StaticNode::Bool(_)) => kind.schema_type == SchemaType::Boolean,
        Node::String(_) => kind.schema_type == SchemaType::String,
        Node::Array { len, .. } => {
            let Some(item) = kind
                .value
                .as_deref()
                .filter(|_| kind.schema_type == SchemaType::Array)
            else {
                return false;
            };
            let mut j = i + 1;
            for _ in 0..len {
                if !shape_fits(tape, j, item, None) {
                    return false;
                }
                j += node_len(tape, j);
            }
            true
        }
        Node::Object { len, .. } => {
            let Some(shape) = nested else { return false };
            if len != shape.json_order.len() {
                return false;
            }
            let mut j = i + 1;
            for k in 0..len {
                let child = shape.json_order[k];
                let f = &shape.schema.fields[child];
                if !matches!(tape[j], Node::String(key) if key == f.name)
                    || !shape_fits(tape, j + 1, &f.schema, shape.nested[child].as_ref())
                {
                    return false;
                }
                j += 1 + node_len(tape, j + 1);
            }
            true
        }
        _ => false,
    }
}

fn shape_append(tape: &[Node<'_>], i: usize, shape: &Shape, col: &mut Col) {
    let (
        Node::Object { len, .. },
        Col::Struct {
            children, nulls, ..
        },
    ) = (tape[i], &mut *col)
    else {
        col.append_null();
        return;
    };
    let mut j = i + 1;
    for k in 0..len {
        let child = shape.json_order[k];
        let f = &shape.schema.fields[child];
        match &shape.nested[child] {
            Some(inner) if matches!(tape[j + 1], Node::Object { .. }) => {
                shape_append(tape, j + 1, inner, &mut children[child])
            }
            _ => append(tape, j + 1, &f.schema, &mut children[child]),
        }
        j += 1 + node_len(tape, j + 1);
    }
    nulls.append_non_null();
}

/// Decodes schemaless JSON values (`schemas.enable=false`) into one shaped column.
pub struct SchemalessDecoder {
    cfg: JsonConfig,
    parser: TapeParser,
}

impl std::fmt::Debug for SchemalessDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemalessDecoder").finish_non_exhaustive()
    }
}

impl SchemalessDecoder {
    pub fn new(cfg: JsonConfig) -> Self {
        Self {
            cfg,
            parser: TapeParser::new(),
        }
    }

    pub fn decode(&mut self, input: &BinaryViewArray, stage: Stage) -> DecodedRuns {
        let mut out = DecodedRuns::default();
        let mut shape: Option<Shape> = None;
        let mut col: Option<Col> = None;
        // The shape's direct reader; it holds the columns while rows take it.
        let mut program: Option<ShapeProgram> = None;
        let mut exact = Vec::new();
        let mut failures = Vec::new();
        for row in 0..input.len() {
            if row == SAMPLE_ROWS
                && let Some(c) = col.as_mut()
            {
                if let Some(p) = program.as_mut() {
                    p.restore(c);
                }
                c.reserve_by_sample(row, input.len());
            }
            let bytes = input.is_valid(row).then(|| input.value(row));
            // Input past Jackson's read limits takes the exact path (the reference model).
            let fast_bytes = bytes.filter(|b| !may_exceed_read_constraints(b));
            if let (Some(b), Some(p), Some(c)) = (fast_bytes, program.as_mut(), col.as_mut())
                && p.lend(c)
                && p.read(b, crate::json::direct::row_source(input, row), row)
            {
                out.fast_rows += 1;
                continue;
            }
            if let (Some(p), Some(c)) = (program.as_mut(), col.as_mut()) {
                p.restore(c);
            }
            if let Some(b) = fast_bytes {
                let fast = self.parser.with_tape(b, |tape| {
                    if shape.is_none()
                        && col.is_none()
                        && let Some(s) = infer_shape(tape, 0)
                    {
                        let mut c = Col::new(&s.schema);
                        c.reserve(input.len());
                        (0..row).for_each(|_| c.append_null());
                        col = Some(c);
                        program = Some(ShapeProgram::new(&s));
                        shape = Some(s);
                    }
                    match (&shape, col.as_mut()) {
                        (Some(s), Some(c)) if shape_fits(tape, 0, &s.schema, Some(s)) => {
                            shape_append(tape, 0, s, c);
                            true
                        }
                        _ => false,
                    }
                });
                if fast == Some(true) {
                    out.fast_rows += 1;
                    continue;
                }
            }
            match connect::to_connect_data(&self.cfg, bytes) {
                Ok((_, Value::Null)) => {}
                Ok((_, v)) => exact.push((row, v)),
                Err(e) => failures.push(RowFailure {
                    row,
                    stage,
                    exception: e.exception,
                    message: e.message.unwrap_or_default(),
                }),
            }
            if let Some(c) = col.as_mut() {
                c.append_null();
            }
        }
        if let (Some(p), Some(c)) = (program.as_mut(), col.as_mut()) {
            p.restore(c);
        }
        let array: ArrayRef = match col.as_mut() {
            Some(c) => c.finish(),
            None => arrow::array::new_null_array(&DataType::Null, input.len()),
        };
        let mut column = ConnectColumn::new(None, array);
        column.exact = exact;
        out.runs.push(Run { start: 0, column });
        out.failures = failures;
        out
    }
}

/// Writes a shaped schemaless cell as Kafka writes the map/list/primitive it stands for.
pub(crate) fn write_schemaless(a: &ArrayRef, row: usize, out: &mut Vec<u8>) {
    use std::io::Write;
    if a.is_null(row) {
        out.extend_from_slice(b"null");
        return;
    }
    match a.data_type() {
        DataType::Int64 => {
            let _ = write!(
                out,
                "{}",
                a.as_primitive::<arrow::datatypes::Int64Type>().value(row)
            );
        }
        DataType::Float64 => {
            let d = a.as_primitive::<arrow::datatypes::Float64Type>().value(row);
            if d.is_finite() {
                crate::java::write_double(out, d);
            } else {
                let _ = connect::write_json(&JsonConfig::default(), None, &Value::F64(d), out);
            }
        }
        DataType::Float32 => {
            let d = a.as_primitive::<arrow::datatypes::Float32Type>().value(row);
            let _ = connect::write_json(&JsonConfig::default(), None, &Value::F32(d), out);
        }
        DataType::Int32 => {
            let _ = write!(
                out,
                "{}",
                a.as_primitive::<arrow::datatypes::Int32Type>().value(row)
            );
        }
        DataType::Int16 => {
            let _ = write!(
                out,
                "{}",
                a.as_primitive::<arrow::datatypes::Int16Type>().value(row)
            );
        }
        DataType::Int8 => {
            let _ = write!(
                out,
                "{}",
                a.as_primitive::<arrow::datatypes::Int8Type>().value(row)
            );
        }
        DataType::Boolean => out.extend_from_slice(if a.as_boolean().value(row) {
            b"true"
        } else {
            b"false"
        }),
        DataType::Utf8View => crate::json::text::write_string(out, a.as_string_view().value(row)),
        DataType::List(_) => {
            let items = a.as_list::<i32>().value(row);
            out.push(b'[');
            for j in 0..items.len() {
                if j > 0 {
                    out.push(b',');
                }
                write_schemaless(&items, j, out);
            }
            out.push(b']');
        }
        DataType::Struct(fields) => {
            let st = a.as_struct();
            out.push(b'{');
            for (k, f) in fields.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                crate::json::text::write_string(out, f.name());
                out.push(b':');
                write_schemaless(st.column(k), row, out);
            }
            out.push(b'}');
        }
        _ => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod schemaless_tests {
    use super::*;
    use crate::events::OrderEvents;
    use crate::json::encode::encode;

    #[test]
    fn explicit_nulls_and_zeros_stay_on_the_fast_path() {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let input = BinaryViewArray::from(vec![
            Some(&br#"{"a":1,"b":"x","c":0.5}"#[..]),
            Some(br#"{"a":null,"b":null,"c":-0.0}"#),
        ]);
        let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
        assert_eq!(out.fast_rows, 2);
        let (bytes, _) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
        let expected = connect::from_connect_data(
            &cfg,
            None,
            &connect::to_connect_data(&cfg, Some(input.value(1)))
                .unwrap()
                .1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(bytes.value(1), expected.as_slice());
    }

    #[test]
    fn keys_match_as_json_spells_them_compact_or_spaced() {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let rows: [&[u8]; 6] = [
            br#"{"a\"b":1,"c\\d":"x"}"#,
            // Same keys, spaced out: same values.
            br#" { "a\"b" : 2 , "c\\d" :"y" } "#,
            // A raw quote inside a key is not JSON; a raw backslash escapes something else.
            br#"{"a"b":3,"c\\d":"z"}"#,
            br#"{"a\"b":4,"c\d":"w"}"#,
            // Another spelling of the same key.
            br#"{"a\u0022b":5,"c\\d":"v"}"#,
            br#"{"a\"b":6,"c\\d":"u"}"#,
        ];
        let input = BinaryViewArray::from(rows.iter().map(|r| Some(*r)).collect::<Vec<_>>());
        let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
        let failed: Vec<usize> = out.failures.iter().map(|f| f.row).collect();
        assert_eq!(failed, vec![2, 3]);
        let (bytes, _) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
        for row in [0, 1, 4, 5] {
            let (s, v) = connect::to_connect_data(&cfg, Some(rows[row])).unwrap();
            let expected = connect::from_connect_data(&cfg, s.as_deref(), &v)
                .unwrap()
                .unwrap();
            assert_eq!(bytes.value(row), expected.as_slice(), "row {row}");
        }
    }

    /// Decodes `rows` as one batch, re-encodes it and checks every row against Kafka's
    /// round trip; returns how many rows took the fast path.
    fn round_trip_like_kafka(rows: &[Vec<u8>]) -> usize {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let input =
            BinaryViewArray::from(rows.iter().map(|r| Some(r.as_slice())).collect::<Vec<_>>());
        let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        let (bytes, failures) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
        assert!(failures.is_empty());
        for (i, r) in rows.iter().enumerate() {
            let (s, v) = connect::to_connect_data(&cfg, Some(r)).unwrap();
            let expected = connect::from_connect_data(&cfg, s.as_deref(), &v)
                .unwrap()
                .unwrap();
            assert_eq!(
                bytes.value(i),
                expected.as_slice(),
                "row {i}: {}",
                String::from_utf8_lossy(r)
            );
        }
        out.fast_rows
    }

    #[test]
    fn nested_objects_nulls_and_fallbacks_keep_every_row() {
        let shaped = |i: usize| -> Vec<u8> {
            match i % 7 {
                // A nested object that is null, then one whose inner object is null.
                3 => format!(r#"{{"n":{i},"o":null,"t":["a"],"e":{{}}}}"#),
                4 => format!(r#"{{"n":{i},"o":{{"p":null,"q":{{"r":"s{i}"}}}},"t":null,"e":{{}}}}"#),
                // Spaced out, and a member of another kind late in a nested object: this row
                // is taken back after part of it was written.
                5 => format!(r#" {{ "n" : {i} , "o" : {{ "p" : 1.5 , "q" : null }} , "t" : [ "b" , "c" ] , "e" : {{ }} }} "#),
                2 => format!(r#"{{"n":{i},"o":{{"p":2.5,"q":{{"r":7}}}},"t":[],"e":{{}}}}"#),
                // The same after both nested objects are complete.
                6 => format!(r#"{{"n":{i},"o":{{"p":2.5,"q":{{"r":"y"}}}},"t":[1],"e":{{}}}}"#),
                _ => format!(r#"{{"n":{i},"o":{{"p":0.25,"q":{{"r":"x"}}}},"t":["a","b"],"e":{{}}}}"#),
            }
            .into_bytes()
        };
        // More rows than the sample, so the columns are handed back and lent again midway.
        let rows: Vec<Vec<u8>> = (0..SAMPLE_ROWS * 2 + 5).map(shaped).collect();
        let fast = round_trip_like_kafka(&rows);
        // Only the rows with a number where the shape has a string leave it.
        assert_eq!(fast, (0..rows.len()).filter(|i| i % 7 % 4 != 2).count());
    }

    #[test]
    fn events_decode_on_the_fast_path_and_reencode_like_kafka() {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let mut g = OrderEvents::new();
        let mut rows: Vec<Vec<u8>> = Vec::new();
        for _ in 0..300 {
            let mut v = Vec::new();
            g.write_next(&mut v);
            rows.push(v);
        }
        rows.push(br#"{"id":1,"other":"shape"}"#.to_vec());
        rows.push(b"[1,2]".to_vec());
        rows.push(b"not json".to_vec());
        let input =
            BinaryViewArray::from(rows.iter().map(|r| Some(r.as_slice())).collect::<Vec<_>>());
        let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
        assert_eq!(
            out.failures.iter().map(|f| f.row).collect::<Vec<_>>(),
            vec![302]
        );
        assert!(
            out.fast_rows >= 250,
            "{} rows on the fast path",
            out.fast_rows
        );
        let (bytes, failures) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
        assert!(failures.is_empty());
        for (i, r) in rows.iter().enumerate().take(302) {
            let (s, v) = connect::to_connect_data(&cfg, Some(r)).unwrap();
            let expected = connect::from_connect_data(&cfg, s.as_deref(), &v)
                .unwrap()
                .unwrap();
            assert_eq!(bytes.value(i), expected.as_slice(), "row {i}");
        }
    }
}
