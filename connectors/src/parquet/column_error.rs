//! Why a batch's value columns could not be laid out as a Parquet file's columns; the sink
//! reports it as an I/O failure of the file being written.

use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use super::types::DECIMAL_PRECISION_PARAM;

#[derive(Debug, thiserror::Error)]
pub enum ColumnError {
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// A column cannot take the type the other rows of its chunk need.
    #[error("cannot widen a {from} column to {to}")]
    Widen { from: DataType, to: DataType },
    /// Arrow refused the file type of one field.
    #[error("field {field}: {source}")]
    Field {
        field: String,
        #[source]
        source: ArrowError,
    },
    /// A field's Connect parameters (Arrow metadata) are not a JSON object.
    #[error("field {field}: {source}")]
    Parameters {
        field: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "field {field}: {DECIMAL_PRECISION_PARAM} {value:?} is not a precision from 1 to {max}"
    )]
    Precision {
        field: String,
        value: String,
        max: u8,
    },
    #[error("field {field}: {DECIMAL_PRECISION_PARAM} {value} is not a number")]
    PrecisionNotANumber { field: String, value: String },
}
