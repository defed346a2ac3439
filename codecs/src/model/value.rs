//! Connect values (`Object`s in Kafka's API): the reference, row-at-a-time model used for
//! schema defaults, configuration literals, `sluice pipe` and as the oracle that the
//! columnar fast paths are checked against. Not used per record on hot paths.

use std::sync::Arc;

use crate::model::schema::ConnectSchema;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    String(String),
    /// A `java.lang.String` holding an unpaired surrogate (JSON can spell one, `"\ud800"`),
    /// which a Rust string cannot: its UTF-16 code units. Valid text is always `String`.
    Utf16(Vec<u16>),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    /// Entries in insertion order; keys are unique.
    Map(Vec<(Value, Value)>),
    Struct(Struct),
    /// `java.math.BigDecimal`: unscaled × 10^-scale.
    Decimal {
        unscaled: i128,
        scale: i32,
    },
    /// `java.util.Date` (Date, Time and Timestamp logical values): epoch milliseconds.
    Date(i64),
}

/// A struct value: its schema and one value per field (`Null` when unset).
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub schema: Arc<ConnectSchema>,
    pub values: Vec<Value>,
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The Java class Kafka would report for this value (`value.getClass()` rendering).
    pub fn java_class(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "class java.lang.Boolean",
            Value::I8(_) => "class java.lang.Byte",
            Value::I16(_) => "class java.lang.Short",
            Value::I32(_) => "class java.lang.Integer",
            Value::I64(_) => "class java.lang.Long",
            Value::F32(_) => "class java.lang.Float",
            Value::F64(_) => "class java.lang.Double",
            Value::String(_) | Value::Utf16(_) => "class java.lang.String",
            Value::Bytes(_) => "class [B",
            Value::Array(_) => "class java.util.ArrayList",
            Value::Map(_) => "class java.util.HashMap",
            Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
            Value::Decimal { .. } => "class java.math.BigDecimal",
            Value::Date(_) => "class java.util.Date",
        }
    }

    /// `ConnectSchema.schemaType(value.getClass())`: the Connect type of a schemaless value;
    /// `None` for null and for Java classes with no schema type (BigDecimal, Date).
    pub fn schema_type(&self) -> Option<crate::model::schema::SchemaType> {
        use crate::model::schema::SchemaType as T;
        Some(match self {
            Value::Bool(_) => T::Boolean,
            Value::I8(_) => T::Int8,
            Value::I16(_) => T::Int16,
            Value::I32(_) => T::Int32,
            Value::I64(_) => T::Int64,
            Value::F32(_) => T::Float32,
            Value::F64(_) => T::Float64,
            Value::String(_) | Value::Utf16(_) => T::String,
            Value::Bytes(_) => T::Bytes,
            Value::Array(_) => T::Array,
            Value::Map(_) => T::Map,
            Value::Struct(_) => T::Struct,
            Value::Null | Value::Decimal { .. } | Value::Date(_) => return None,
        })
    }

    /// Inserts or replaces a map entry (Java `Map.put`).
    pub fn map_put(entries: &mut Vec<(Value, Value)>, key: Value, value: Value) {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => entries.push((key, value)),
        }
    }
}

/// How a Java `HashMap` was created; decides its table size and so its iteration order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaMapInit {
    /// `new HashMap<>()`.
    Default,
    /// `new HashMap<>(initialCapacity)`.
    Capacity(usize),
    /// `new HashMap<>(otherMap)` copying a map of this many entries.
    CopyOf(usize),
}

/// `hashCode()` of a key as Java computes it; `None` for keys whose hash we do not model.
fn java_hash(key: &Value) -> Option<i32> {
    Some(match key {
        Value::String(s) => s
            .encode_utf16()
            .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u))),
        Value::I8(v) => i32::from(*v),
        Value::I16(v) => i32::from(*v),
        Value::I32(v) => *v,
        // Long.hashCode, and Date.hashCode (of its epoch milliseconds), which is the same.
        Value::I64(v) | Value::Date(v) => (*v ^ ((*v as u64) >> 32) as i64) as i32,
        // Float.hashCode: floatToIntBits, one bit pattern for every NaN.
        Value::F32(f) => {
            if f.is_nan() {
                0x7fc0_0000
            } else {
                f.to_bits() as i32
            }
        }
        // HashMap.hash(null) is 0.
        Value::Null => 0,
        Value::Bool(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        Value::F64(d) => {
            let bits = if d.is_nan() {
                0x7ff8_0000_0000_0000u64
            } else {
                d.to_bits()
            };
            (bits ^ (bits >> 32)) as i32
        }
        Value::Decimal { unscaled, scale } => big_decimal_hash(*unscaled, *scale),
        _ => return None,
    })
}

/// `BigDecimal.hashCode()`: from the unscaled value when it fits a `long` (its `intCompact`),
/// else from `BigInteger.hashCode()` of it; then `31 * that + scale`.
fn big_decimal_hash(unscaled: i128, scale: i32) -> i32 {
    let unscaled_hash = match i64::try_from(unscaled) {
        Ok(compact) if compact != i64::MIN => {
            let magnitude = compact.unsigned_abs();
            let temp = (((magnitude >> 32) as i32).wrapping_mul(31) as i64)
                .wrapping_add((magnitude & 0xffff_ffff) as i64) as i32;
            if compact < 0 {
                temp.wrapping_neg()
            } else {
                temp
            }
        }
        _ => {
            // BigInteger.hashCode: the magnitude's 32-bit words, most significant first
            // (without leading zero words), then times the sign.
            let magnitude = unscaled.unsigned_abs();
            let words = [
                (magnitude >> 96) as u32,
                (magnitude >> 64) as u32,
                (magnitude >> 32) as u32,
                magnitude as u32,
            ];
            let h = words
                .iter()
                .skip_while(|w| **w == 0)
                .fold(0i32, |h, w| (31i64 * i64::from(h) + i64::from(*w)) as i32);
            if unscaled < 0 { h.wrapping_neg() } else { h }
        }
    };
    unscaled_hash.wrapping_mul(31).wrapping_add(scale)
}

fn table_size_for(c: usize) -> usize {
    c.max(1).next_power_of_two()
}

/// Reorders entries (given in insertion order) into the iteration order of a Java `HashMap`
/// built by `init` and these insertions: by bucket, then insertion order within a bucket.
/// Kafka's schemaless maps are HashMaps, so their serialized member order follows this.
pub fn java_hash_order(entries: Vec<(Value, Value)>, init: JavaMapInit) -> Vec<(Value, Value)> {
    let Some(hashes) = entries
        .iter()
        .map(|(k, _)| java_hash(k))
        .collect::<Option<Vec<i32>>>()
    else {
        return entries;
    };
    let mut cap = match init {
        JavaMapInit::Default => 16,
        JavaMapInit::Capacity(c) => table_size_for(c),
        // `putMapEntries` sizes the table only for a non-empty map: a copy of an empty one
        // starts at the default 16 on its first put.
        JavaMapInit::CopyOf(0) => 16,
        JavaMapInit::CopyOf(n) => table_size_for((n as f32 / 0.75 + 1.0) as usize).max(1),
    };
    for size in 1..=entries.len() {
        while size > (cap as f64 * 0.75) as usize {
            cap *= 2;
        }
    }
    let mut indexed: Vec<(usize, (Value, Value))> = hashes
        .iter()
        .zip(entries)
        .map(|(h, e)| {
            let spread = (*h as u32) ^ ((*h as u32) >> 16);
            ((spread as usize) & (cap - 1), e)
        })
        .collect();
    indexed.sort_by_key(|(bucket, _)| *bucket);
    indexed.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &[(Value, Value)]) -> Vec<String> {
        v.iter()
            .map(|(k, _)| {
                if let Value::String(s) = k {
                    s.clone()
                } else {
                    String::new()
                }
            })
            .collect()
    }

    #[test]
    fn iterates_like_java_hashmap() {
        let entries: Vec<(Value, Value)> = ["id", "name", "price", "qty", "ok"]
            .iter()
            .map(|k| (Value::String(k.to_string()), Value::Null))
            .collect();
        // What Java prints for a HashMap filled in this order (observed in Kafka's output).
        assert_eq!(
            keys(&java_hash_order(entries, JavaMapInit::Default)),
            ["price", "qty", "name", "id", "ok"]
        );
    }

    #[test]
    fn big_decimal_hash_codes_are_javas() {
        // `new BigDecimal("100").hashCode()` and the like: 31 * unscaled hash + scale.
        assert_eq!(big_decimal_hash(100, 0), 3100);
        assert_eq!(big_decimal_hash(-7, 0), -217);
        assert_eq!(big_decimal_hash(15, 1), 466);
        // Beyond a long: BigInteger's hash of the words [1, 0, 0] of 2^64 is 961.
        assert_eq!(big_decimal_hash(1i128 << 64, 0), 29_791);
        assert_eq!(big_decimal_hash(-(1i128 << 64), 2), -29_789);
    }
}
