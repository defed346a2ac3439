//! The Protobuf binary encoding read into dynamic messages, with the semantics of
//! protobuf-java's `DynamicMessage.parseFrom`: last value wins for singular fields, message
//! fields merge, packed and unpacked repeated scalars both accepted, a field seen with the
//! wrong wire type kept as unknown, proto3 implicit-presence defaults not "set".

use super::schema::{FieldType, MessageDesc, ProtoSchema, Syntax};

/// Why a body cannot be read (protobuf-java's `InvalidProtocolBufferException` texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WireError(pub &'static str);

const TRUNCATED: WireError = WireError(
    "While parsing a protocol message, the input ended unexpectedly in the middle of a field.  This could mean either that the input has been truncated or that an embedded message misreported its own length.",
);
const MALFORMED_VARINT: WireError = WireError("CodedInputStream encountered a malformed varint.");
const INVALID_WIRE_TYPE: WireError = WireError("Protocol message tag had invalid wire type.");
const ZERO_TAG: WireError = WireError("Protocol message contained an invalid tag (zero).");
const END_GROUP: WireError =
    WireError("Protocol message end-group tag did not match expected tag.");
const BAD_UTF8: WireError = WireError("Protocol message had invalid UTF-8.");
const NEGATIVE_SIZE: WireError = WireError(
    "CodedInputStream encountered an embedded string or message which claimed to have negative size.",
);
const TOO_DEEP: WireError = WireError(
    "Protocol message had too many levels of nesting.  May be malicious.  Use CodedInputStream.setRecursionLimit() to increase the depth limit.",
);

const MISSING_REQUIRED: WireError = WireError("Message missing required fields");

/// protobuf-java's default recursion limit.
const RECURSION_LIMIT: usize = 100;

/// One field value as protobuf-java's `getField` returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum PValue {
    /// int32, sint32, sfixed32 (and uint32/fixed32 as Java's signed `Integer`).
    I32(i32),
    /// int64, sint64, sfixed64, uint64, fixed64 (Java `Long`).
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    /// An enum value by number (its name is looked up against the enum type).
    Enum(i32),
    Msg(DynMsg),
}

/// A field's slot in a message.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Slot {
    #[default]
    Unset,
    One(PValue),
    Many(Vec<PValue>),
}

/// A message: one slot per descriptor field.
#[derive(Debug, Clone, PartialEq)]
pub struct DynMsg {
    pub message: usize,
    pub slots: Vec<Slot>,
}

impl DynMsg {
    fn empty(schema: &ProtoSchema, message: usize) -> Self {
        Self {
            message,
            slots: vec![Slot::Unset; schema.messages[message].fields.len()],
        }
    }

    /// `hasField`.
    pub fn has(&self, field: usize) -> bool {
        !matches!(self.slots[field], Slot::Unset)
    }
}

struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn byte(&mut self) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(TRUNCATED)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint64(&mut self) -> Result<u64, WireError> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(MALFORMED_VARINT)
    }

    /// `readRawVarint32`: up to 10 bytes, the low 32 bits kept.
    fn varint32(&mut self) -> Result<i32, WireError> {
        Ok(self.varint64()? as u32 as i32)
    }

    fn fixed32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn fixed64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(TRUNCATED)?;
        let s = self.buf.get(self.pos..end).ok_or(TRUNCATED)?;
        self.pos = end;
        Ok(s)
    }

    fn length_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.varint32()?;
        if n < 0 {
            return Err(NEGATIVE_SIZE);
        }
        self.take(n as usize)
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Skips one field of wire type `wt` (whose tag was just read).
    fn skip(&mut self, tag: u32, depth: usize) -> Result<(), WireError> {
        match tag & 7 {
            0 => {
                self.varint64()?;
            }
            1 => {
                self.take(8)?;
            }
            2 => {
                self.length_delimited()?;
            }
            3 => {
                if depth >= RECURSION_LIMIT {
                    return Err(TOO_DEEP);
                }
                loop {
                    if self.done() {
                        return Err(TRUNCATED);
                    }
                    let t = self.varint32()? as u32;
                    if t == 0 {
                        return Err(ZERO_TAG);
                    }
                    if t & 7 == 4 {
                        if t >> 3 != tag >> 3 {
                            return Err(END_GROUP);
                        }
                        return Ok(());
                    }
                    self.skip(t, depth + 1)?;
                }
            }
            5 => {
                self.take(4)?;
            }
            _ => return Err(INVALID_WIRE_TYPE),
        }
        Ok(())
    }
}

/// The wire type a field's values are written with (unpacked).
fn wire_type(ty: FieldType) -> u32 {
    match ty {
        FieldType::Double | FieldType::Fixed64 | FieldType::Sfixed64 => 1,
        FieldType::Float | FieldType::Fixed32 | FieldType::Sfixed32 => 5,
        FieldType::String | FieldType::Bytes | FieldType::Message(_) => 2,
        _ => 0,
    }
}

/// Parses a message body of type `message`.
pub fn parse(schema: &ProtoSchema, message: usize, body: &[u8]) -> Result<DynMsg, WireError> {
    let mut input = Input { buf: body, pos: 0 };
    let mut msg = DynMsg::empty(schema, message);
    merge(schema, &mut msg, &mut input, 0)?;
    if !initialized(schema, &msg) {
        return Err(MISSING_REQUIRED);
    }
    Ok(msg)
}

/// `isInitialized()`: every proto2 `required` field set, in nested messages too.
fn initialized(schema: &ProtoSchema, msg: &DynMsg) -> bool {
    let desc = &schema.messages[msg.message];
    desc.fields.iter().zip(&msg.slots).all(|(f, slot)| {
        if f.label == super::schema::Label::Required && matches!(slot, Slot::Unset) {
            return false;
        }
        match slot {
            Slot::One(PValue::Msg(m)) => initialized(schema, m),
            Slot::Many(vs) => vs.iter().all(|v| match v {
                PValue::Msg(m) => initialized(schema, m),
                _ => true,
            }),
            _ => true,
        }
    })
}

fn merge(
    schema: &ProtoSchema,
    msg: &mut DynMsg,
    input: &mut Input<'_>,
    depth: usize,
) -> Result<(), WireError> {
    let desc = &schema.messages[msg.message];
    while !input.done() {
        let tag = input.varint32()? as u32;
        if tag >> 3 == 0 {
            return Err(ZERO_TAG);
        }
        let wt = tag & 7;
        if wt == 4 {
            return Err(END_GROUP);
        }
        if wt > 5 {
            return Err(INVALID_WIRE_TYPE);
        }
        let number = (tag >> 3) as i32;
        let Some(fi) = desc.field_by_number(number) else {
            input.skip(tag, depth)?;
            continue;
        };
        let field = &desc.fields[fi];
        let expected = wire_type(field.ty);
        if field.is_repeated() && field.ty.packable() && wt == 2 {
            let chunk = input.length_delimited()?;
            let mut inner = Input { buf: chunk, pos: 0 };
            while !inner.done() {
                let v = read_scalar(&mut inner, field.ty)?;
                push_value(schema, desc, msg, fi, v);
            }
            continue;
        }
        if wt != expected {
            input.skip(tag, depth)?;
            continue;
        }
        let value = match field.ty {
            FieldType::Message(sub) => {
                if depth >= RECURSION_LIMIT {
                    return Err(TOO_DEEP);
                }
                let chunk = input.length_delimited()?;
                let mut inner = Input { buf: chunk, pos: 0 };
                // A singular message seen again merges into the one already read.
                let mut sub_msg = match (&mut msg.slots[fi], field.is_repeated()) {
                    (Slot::One(PValue::Msg(m)), false) => {
                        std::mem::replace(m, DynMsg::empty(schema, sub))
                    }
                    _ => DynMsg::empty(schema, sub),
                };
                merge(schema, &mut sub_msg, &mut inner, depth + 1)?;
                PValue::Msg(sub_msg)
            }
            FieldType::String => {
                let bytes = input.length_delimited()?;
                match std::str::from_utf8(bytes) {
                    Ok(s) => PValue::Str(s.to_string()),
                    // proto3 checks UTF-8; proto2 decodes as Java's `new String(bytes, UTF_8)`.
                    Err(_) if desc.syntax == Syntax::Proto3 || desc.map_entry => {
                        return Err(BAD_UTF8);
                    }
                    Err(_) => PValue::Str(String::from_utf8_lossy(bytes).into_owned()),
                }
            }
            FieldType::Bytes => PValue::Bytes(input.length_delimited()?.to_vec()),
            ty => read_scalar(input, ty)?,
        };
        push_value(schema, desc, msg, fi, value);
    }
    Ok(())
}

fn read_scalar(input: &mut Input<'_>, ty: FieldType) -> Result<PValue, WireError> {
    Ok(match ty {
        FieldType::Double => PValue::F64(f64::from_bits(input.fixed64()?)),
        FieldType::Float => PValue::F32(f32::from_bits(input.fixed32()?)),
        FieldType::Int64 | FieldType::Uint64 => PValue::I64(input.varint64()? as i64),
        FieldType::Int32 | FieldType::Uint32 => PValue::I32(input.varint32()?),
        FieldType::Fixed64 | FieldType::Sfixed64 => PValue::I64(input.fixed64()? as i64),
        FieldType::Fixed32 | FieldType::Sfixed32 => PValue::I32(input.fixed32()? as i32),
        FieldType::Bool => PValue::Bool(input.varint64()? != 0),
        FieldType::Sint32 => {
            let n = input.varint32()? as u32;
            PValue::I32(((n >> 1) as i32) ^ -((n & 1) as i32))
        }
        FieldType::Sint64 => {
            let n = input.varint64()?;
            PValue::I64(((n >> 1) as i64) ^ -((n & 1) as i64))
        }
        FieldType::Enum(_) => PValue::Enum(input.varint32()?),
        FieldType::String | FieldType::Bytes | FieldType::Message(_) => {
            return Err(INVALID_WIRE_TYPE);
        }
    })
}

/// Whether a singular field tracks presence (proto2, messages, oneof members, proto3
/// `optional`).
pub fn has_presence(desc: &MessageDesc, field: usize) -> bool {
    let f = &desc.fields[field];
    !f.is_repeated()
        && (desc.syntax == Syntax::Proto2
            || matches!(f.ty, FieldType::Message(_))
            || f.oneof.is_some())
}

fn is_default(v: &PValue) -> bool {
    match v {
        PValue::I32(n) | PValue::Enum(n) => *n == 0,
        PValue::I64(n) => *n == 0,
        // Bitwise: -0.0 is not the default.
        PValue::F32(f) => f.to_bits() == 0,
        PValue::F64(f) => f.to_bits() == 0,
        PValue::Bool(b) => !b,
        PValue::Str(s) => s.is_empty(),
        PValue::Bytes(b) => b.is_empty(),
        PValue::Msg(_) => false,
    }
}

fn push_value(schema: &ProtoSchema, desc: &MessageDesc, msg: &mut DynMsg, fi: usize, v: PValue) {
    let field = &desc.fields[fi];
    // A closed (proto2) enum keeps unknown numbers among the unknown fields.
    if let (FieldType::Enum(e), PValue::Enum(n)) = (field.ty, &v)
        && schema.enums[e].closed
        && schema.enums[e].name_of(*n).is_none()
    {
        return;
    }
    if field.is_repeated() {
        match &mut msg.slots[fi] {
            Slot::Many(vs) => vs.push(v),
            slot => *slot = Slot::Many(vec![v]),
        }
        return;
    }
    if let Some(o) = field.oneof {
        for &other in &desc.oneofs[o].fields {
            if other != fi {
                msg.slots[other] = Slot::Unset;
            }
        }
    } else if !has_presence(desc, fi) && is_default(&v) {
        // Setting an implicit-presence field to its default clears it.
        msg.slots[fi] = Slot::Unset;
        return;
    }
    msg.slots[fi] = Slot::One(v);
}

/// Reads the message-index list after the schema id (Kafka's zig-zag varints, as
/// `MessageIndexes.readFrom` reads them): `[0]` for the single byte `0`.
pub fn message_indexes(body: &[u8]) -> Result<(Vec<i32>, usize), WireError> {
    let mut input = Input { buf: body, pos: 0 };
    let zigzag = |input: &mut Input<'_>| -> Result<i32, WireError> {
        // ByteUtils.readVarint: at most 5 bytes.
        let mut v = 0u32;
        for i in 0..5 {
            let b = input.byte()?;
            v |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(((v >> 1) as i32) ^ -((v & 1) as i32));
            }
        }
        Err(MALFORMED_VARINT)
    };
    let count = zigzag(&mut input)?;
    if count == 0 {
        return Ok((vec![0], input.pos));
    }
    if count < 0 {
        return Err(NEGATIVE_SIZE);
    }
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(zigzag(&mut input)?);
    }
    Ok((out, input.pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> ProtoSchema {
        ProtoSchema::parse(
            "syntax = \"proto3\";\nmessage M { int32 a = 1; repeated int32 xs = 2; Sub s = 3; oneof o { string t = 4; int32 n = 5; } }\nmessage Sub { int32 x = 1; int32 y = 2; }\n",
        )
        .unwrap()
    }

    #[test]
    fn reads_packed_and_unpacked_and_merges_messages() {
        let s = schema();
        // a=0 (default: unset), xs packed [1,2] then unpacked 3, s{x:1} then s{y:2}, t then n.
        let body = [
            0x08, 0x00, 0x12, 0x02, 0x01, 0x02, 0x10, 0x03, 0x1a, 0x02, 0x08, 0x01, 0x1a, 0x02,
            0x10, 0x02, 0x22, 0x01, b'z', 0x28, 0x07,
        ];
        let m = parse(&s, 0, &body).unwrap();
        assert_eq!(m.slots[2], Slot::Unset);
        assert_eq!(
            m.slots[3],
            Slot::Many(vec![PValue::I32(1), PValue::I32(2), PValue::I32(3)])
        );
        let Slot::One(PValue::Msg(sub)) = &m.slots[4] else {
            panic!("{:?}", m.slots[4])
        };
        assert_eq!(
            sub.slots,
            [Slot::One(PValue::I32(1)), Slot::One(PValue::I32(2))]
        );
        assert_eq!(
            m.slots[0],
            Slot::Unset,
            "the oneof's later member clears the first"
        );
        assert_eq!(m.slots[1], Slot::One(PValue::I32(7)));
    }

    #[test]
    fn rejects_what_protobuf_java_rejects() {
        let s = schema();
        assert_eq!(parse(&s, 0, &[0x08]), Err(TRUNCATED));
        assert_eq!(parse(&s, 0, &[0x0f]), Err(INVALID_WIRE_TYPE));
        assert_eq!(parse(&s, 0, &[0x00]), Err(ZERO_TAG));
        assert_eq!(
            parse(
                &s,
                0,
                &[
                    0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
                ]
            ),
            Err(MALFORMED_VARINT)
        );
        // Field 1 with the wrong wire type is an unknown field.
        assert_eq!(
            parse(&s, 0, &[0x0d, 1, 2, 3, 4]).unwrap().slots[2],
            Slot::Unset
        );
    }

    #[test]
    fn a_missing_required_field_fails_as_in_protobuf_java() {
        let s = ProtoSchema::parse(
            "syntax = \"proto2\";\nmessage R { required int32 id = 1; optional S s = 2; }\nmessage S { required string t = 1; }\n",
        )
        .unwrap();
        assert!(parse(&s, 0, &[0x08, 0x01]).is_ok());
        assert_eq!(parse(&s, 0, &[]), Err(MISSING_REQUIRED));
        // Nested: s is present but lacks its required t.
        assert_eq!(
            parse(&s, 0, &[0x08, 0x01, 0x12, 0x00]),
            Err(MISSING_REQUIRED)
        );
        // Field number 0 with any wire type is an invalid tag.
        assert_eq!(parse(&s, 0, &[0x02, 0x00]), Err(ZERO_TAG));
    }

    #[test]
    fn reads_message_indexes() {
        assert_eq!(message_indexes(&[0]).unwrap(), (vec![0], 1));
        assert_eq!(message_indexes(&[2, 2]).unwrap(), (vec![1], 2));
        assert_eq!(message_indexes(&[4, 2, 0]).unwrap(), (vec![1, 0], 3));
        assert!(message_indexes(&[4, 2]).is_err());
    }
}
