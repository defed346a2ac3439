//! Avro's binary encoding (zig-zag varints, length-prefixed bytes and strings, blocked arrays
//! and maps, union branch indexes) read into and written from generic Avro data, as Java's
//! `GenericDatumReader`/`GenericDatumWriter` do for a writer schema.

use super::schema::{AvroSchema, Kind, NodeId};

/// Generic Avro data (`GenericData`'s objects).
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Null,
    Boolean(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Bytes(Vec<u8>),
    String(String),
    /// Field values in schema order.
    Record(Vec<Datum>),
    /// Symbol index.
    Enum(usize),
    Array(Vec<Datum>),
    Map(Vec<(String, Datum)>),
    /// Branch index and value.
    Union(usize, Box<Datum>),
    Fixed(Vec<u8>),
}

/// Why bytes are not a datum of the schema (Avro throws `EOFException`,
/// `AvroRuntimeException` or an index error; the deserializer wraps them all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(pub String);

/// How deep data may nest before reading gives up (Java would overflow its stack).
const MAX_DEPTH: usize = 1000;

pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn eof() -> ReadError {
        ReadError("java.io.EOFException".into())
    }

    pub(crate) fn byte(&mut self) -> Result<u8, ReadError> {
        let b = *self.bytes.get(self.pos).ok_or_else(Self::eof)?;
        self.pos += 1;
        Ok(b)
    }

    pub fn int(&mut self) -> Result<i32, ReadError> {
        let mut n: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            n |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(((n >> 1) as i32) ^ -((n & 1) as i32));
            }
        }
        Err(ReadError("Invalid int encoding".into()))
    }

    pub fn long(&mut self) -> Result<i64, ReadError> {
        let mut n: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(((n >> 1) as i64) ^ -((n & 1) as i64));
            }
        }
        Err(ReadError("Invalid long encoding".into()))
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        let end = self.pos.checked_add(n).ok_or_else(Self::eof)?;
        let s = self.bytes.get(self.pos..end).ok_or_else(Self::eof)?;
        self.pos = end;
        Ok(s)
    }

    fn length(&mut self) -> Result<usize, ReadError> {
        let n = self.long()?;
        if n < 0 {
            return Err(ReadError(format!(
                "Malformed data. Length is negative: {n}"
            )));
        }
        // Java reads at most Integer.MAX_VALUE - 8 bytes at once.
        if n > i64::from(i32::MAX - 8) {
            return Err(ReadError(format!(
                "Cannot read strings longer than {} bytes",
                i32::MAX - 8
            )));
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], ReadError> {
        let n = self.length()?;
        self.take(n)
    }

    /// A string, decoded as Java's `Utf8.toString()` does (malformed input replaced).
    pub fn string(&mut self) -> Result<String, ReadError> {
        let b = self.bytes()?;
        Ok(match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => crate::reference::decode_utf8_like_java(b),
        })
    }

    /// A block count: negative counts are followed by the block's byte size.
    pub(crate) fn block(&mut self) -> Result<usize, ReadError> {
        let n = self.long()?;
        if n < 0 {
            self.long()?;
            return Ok(n.unsigned_abs() as usize);
        }
        Ok(n as usize)
    }

    /// Reads one datum of node `id`.
    pub fn read(&mut self, schema: &AvroSchema, id: NodeId) -> Result<Datum, ReadError> {
        self.read_at(schema, id, 0)
    }

    fn read_at(
        &mut self,
        schema: &AvroSchema,
        id: NodeId,
        depth: usize,
    ) -> Result<Datum, ReadError> {
        if depth > MAX_DEPTH {
            return Err(ReadError("java.lang.StackOverflowError".into()));
        }
        Ok(match &schema.node(id).kind {
            Kind::Null => Datum::Null,
            Kind::Boolean => Datum::Boolean(self.byte()? == 1),
            Kind::Int => Datum::Int(self.int()?),
            Kind::Long => Datum::Long(self.long()?),
            Kind::Float => {
                let b = self.take(4)?;
                Datum::Float(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Kind::Double => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Datum::Double(f64::from_le_bytes(a))
            }
            Kind::Bytes => Datum::Bytes(self.bytes()?.to_vec()),
            Kind::String => Datum::String(self.string()?),
            Kind::Record { fields, .. } => {
                let mut values = Vec::with_capacity(fields.len());
                for f in fields {
                    values.push(self.read_at(schema, f.schema, depth + 1)?);
                }
                Datum::Record(values)
            }
            Kind::Enum { symbols, .. } => {
                let i = self.int()?;
                if i < 0 || i as usize >= symbols.len() {
                    return Err(ReadError(format!(
                        "Index {i} out of bounds for length {}",
                        symbols.len()
                    )));
                }
                Datum::Enum(i as usize)
            }
            Kind::Array(items) => {
                let mut out = Vec::new();
                loop {
                    let n = self.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        out.push(self.read_at(schema, *items, depth + 1)?);
                    }
                }
                Datum::Array(out)
            }
            Kind::Map(values) => {
                let mut out: Vec<(String, Datum)> = Vec::new();
                loop {
                    let n = self.block()?;
                    if n == 0 {
                        break;
                    }
                    for _ in 0..n {
                        let k = self.string()?;
                        let v = self.read_at(schema, *values, depth + 1)?;
                        // A Java map keeps one entry per key: the last value at the first position.
                        match out.iter_mut().find(|(ok, _)| *ok == k) {
                            Some(slot) => slot.1 = v,
                            None => out.push((k, v)),
                        }
                    }
                }
                Datum::Map(out)
            }
            Kind::Union(types) => {
                let i = self.int()?;
                let Some(t) = usize::try_from(i).ok().and_then(|i| types.get(i)) else {
                    return Err(ReadError(format!(
                        "Index {i} out of bounds for length {}",
                        types.len()
                    )));
                };
                Datum::Union(i as usize, Box::new(self.read_at(schema, *t, depth + 1)?))
            }
            Kind::Fixed { size, .. } => Datum::Fixed(self.take(*size)?.to_vec()),
        })
    }
}

/// Appends Avro's zig-zag varint of `v`.
pub fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// Writes a datum (already matched to node `id` by the caller).
pub fn write(out: &mut Vec<u8>, schema: &AvroSchema, id: NodeId, datum: &Datum) {
    match (&schema.node(id).kind, datum) {
        (_, Datum::Null) => {}
        (_, Datum::Boolean(b)) => out.push(u8::from(*b)),
        (_, Datum::Int(v)) => write_long(out, i64::from(*v)),
        (_, Datum::Long(v)) => write_long(out, *v),
        (_, Datum::Float(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (_, Datum::Double(v)) => out.extend_from_slice(&v.to_le_bytes()),
        (_, Datum::Bytes(b)) => write_bytes(out, b),
        (_, Datum::String(s)) => write_bytes(out, s.as_bytes()),
        (Kind::Record { fields, .. }, Datum::Record(values)) => {
            for (f, v) in fields.iter().zip(values) {
                write(out, schema, f.schema, v);
            }
        }
        (_, Datum::Record(_)) => {}
        (_, Datum::Enum(i)) => write_long(out, *i as i64),
        (Kind::Array(items), Datum::Array(values)) => {
            if !values.is_empty() {
                write_long(out, values.len() as i64);
                for v in values {
                    write(out, schema, *items, v);
                }
            }
            out.push(0);
        }
        (_, Datum::Array(_)) => out.push(0),
        (Kind::Map(vs), Datum::Map(entries)) => {
            if !entries.is_empty() {
                write_long(out, entries.len() as i64);
                for (k, v) in entries {
                    write_bytes(out, k.as_bytes());
                    write(out, schema, *vs, v);
                }
            }
            out.push(0);
        }
        (_, Datum::Map(_)) => out.push(0),
        (Kind::Union(types), Datum::Union(i, v)) => {
            write_long(out, *i as i64);
            if let Some(t) = types.get(*i) {
                write(out, schema, *t, v);
            }
        }
        (_, Datum::Union(_, _)) => {}
        (_, Datum::Fixed(b)) => out.extend_from_slice(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        for v in [
            0i64,
            -1,
            1,
            63,
            -64,
            64,
            i64::MAX,
            i64::MIN,
            i64::from(i32::MIN),
        ] {
            let mut out = Vec::new();
            write_long(&mut out, v);
            assert_eq!(Reader::new(&out).long().expect("read"), v);
        }
    }

    #[test]
    fn records_read_and_write() {
        let s = AvroSchema::parse(
            r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":["null","string"]},{"name":"m","type":{"type":"map","values":"long"}}]}"#,
        )
        .expect("schema");
        let d = Datum::Record(vec![
            Datum::Int(-3),
            Datum::Union(1, Box::new(Datum::String("hé".into()))),
            Datum::Map(vec![("k".into(), Datum::Long(9))]),
        ]);
        let mut out = Vec::new();
        write(&mut out, &s, s.root, &d);
        assert_eq!(Reader::new(&out).read(&s, s.root).expect("read"), d);
        assert!(Reader::new(&out[..3]).read(&s, s.root).is_err());
    }
}
