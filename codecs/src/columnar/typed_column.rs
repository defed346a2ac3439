//! Typed views of Arrow scalar columns for the row writers (JSON encode, Java text): the data
//! type is matched once per batch, then each row is a plain slice read.

use arrow::array::{Array, ArrayRef, AsArray, BinaryViewArray, BooleanArray, StringViewArray};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, TimestampMillisecondType,
};

/// One scalar column.
pub(crate) enum Scalar<'a> {
    Bool(&'a BooleanArray),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
    Str(&'a StringViewArray),
    Bytes(&'a BinaryViewArray),
}

impl<'a> Scalar<'a> {
    /// The typed view of `array`, `None` for nested and other types. With `logical`, Date,
    /// Time and Timestamp columns read as their integer encoding (as Kafka writes them).
    pub(crate) fn of(array: &'a ArrayRef, logical: bool) -> Option<Self> {
        Some(match array.data_type() {
            DataType::Boolean => Scalar::Bool(array.as_boolean()),
            DataType::Int8 => Scalar::I8(array.as_primitive::<Int8Type>().values()),
            DataType::Int16 => Scalar::I16(array.as_primitive::<Int16Type>().values()),
            DataType::Int32 => Scalar::I32(array.as_primitive::<Int32Type>().values()),
            DataType::Int64 => Scalar::I64(array.as_primitive::<Int64Type>().values()),
            DataType::Float32 => Scalar::F32(array.as_primitive::<Float32Type>().values()),
            DataType::Float64 => Scalar::F64(array.as_primitive::<Float64Type>().values()),
            DataType::Utf8View => Scalar::Str(array.as_string_view()),
            DataType::BinaryView => Scalar::Bytes(array.as_binary_view()),
            DataType::Date32 if logical => Scalar::I32(array.as_primitive::<Date32Type>().values()),
            DataType::Time32(_) if logical => {
                Scalar::I32(array.as_primitive::<Time32MillisecondType>().values())
            }
            DataType::Timestamp(_, _) if logical => {
                Scalar::I64(array.as_primitive::<TimestampMillisecondType>().values())
            }
            _ => return None,
        })
    }

    /// Writes an integer, boolean or finite floating-point cell, whose text is the same in
    /// Jackson's JSON and in Java's `String.valueOf`; `false` for the other cells (strings,
    /// bytes, NaN and infinities), which each caller writes its own way.
    #[inline]
    pub(crate) fn write_plain(&self, row: usize, out: &mut Vec<u8>) -> bool {
        match self {
            Scalar::Bool(a) => {
                // Chosen without a branch (flags are as often true as false).
                let v = a.value(row);
                let word = if v {
                    u128::from(u32::from_le_bytes(*b"true"))
                } else {
                    u128::from(u64::from_le_bytes(*b"false\0\0\0"))
                };
                crate::json::text::put_word(out, word, 5 - usize::from(v));
            }
            Scalar::I8(v) => crate::java::write_long(out, i64::from(v[row])),
            Scalar::I16(v) => crate::java::write_long(out, i64::from(v[row])),
            Scalar::I32(v) => crate::java::write_long(out, i64::from(v[row])),
            Scalar::I64(v) => crate::java::write_long(out, v[row]),
            Scalar::F32(v) if v[row].is_finite() => crate::java::write_float(out, v[row]),
            Scalar::F64(v) if v[row].is_finite() => crate::java::write_double(out, v[row]),
            _ => return false,
        }
        true
    }
}
