//! Java `toString()` rendering of Connect values, as Kafka's `FileStreamSinkTask`
//! (`println(record.value())`) and `StringConverter.fromConnectData` produce it.

use std::io::Write;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::error::{CodecError, Result};

/// Appends the Java rendering of row `i` of `array` (`null` for a null value).
pub fn write_java_display(out: &mut Vec<u8>, array: &ArrayRef, i: usize) -> Result<()> {
    if array.is_null(i) {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    match array.data_type() {
        DataType::Utf8View => out.extend_from_slice(array.as_string_view().value(i).as_bytes()),
        // Java would print `[B@<identity hash>`, which carries no information; the raw bytes do.
        DataType::BinaryView => out.extend_from_slice(array.as_binary_view().value(i)),
        DataType::Int64 => {
            let _ = write!(out, "{}", array.as_primitive::<Int64Type>().value(i));
        }
        DataType::Float64 => {
            let _ = write!(out, "{:?}", array.as_primitive::<Float64Type>().value(i));
        }
        DataType::Boolean => out.extend_from_slice(if array.as_boolean().value(i) {
            b"true"
        } else {
            b"false"
        }),
        other => {
            return Err(CodecError::UnsupportedColumn {
                converter: "toString",
                found: other.to_string(),
            });
        }
    }
    Ok(())
}
