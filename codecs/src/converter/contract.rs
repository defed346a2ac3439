//! The batch converter contract every format implements: [`Converter`] decodes a column of
//! raw Kafka bytes into runs of Connect data and encodes a Connect column back, reporting
//! rows it cannot convert as [`RowFailure`]s instead of failing the batch.

use std::fmt;

use arrow::array::{BinaryViewArray, DictionaryArray};
use arrow::datatypes::Int32Type;

use crate::columnar::runs::Run;
use crate::error::{Result, RowFailure, Stage};
use crate::model::column::ConnectColumn;

/// Whether a converter handles record keys or values; decides the failure stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterRole {
    Key,
    Value,
}

impl ConverterRole {
    pub fn stage(self) -> Stage {
        match self {
            ConverterRole::Key => Stage::KeyConverter,
            ConverterRole::Value => Stage::ValueConverter,
        }
    }
}

/// Result of decoding a column: runs of Connect data (null where a row failed) and the
/// failures.
#[derive(Debug)]
pub struct Decoded {
    pub runs: Vec<Run>,
    pub failures: Vec<RowFailure>,
}

impl Decoded {
    pub(crate) fn single(column: ConnectColumn, failures: Vec<RowFailure>) -> Self {
        Self {
            runs: vec![Run { start: 0, column }],
            failures,
        }
    }
}

/// Result of encoding a column: bytes (null where a row failed) and the failures.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: BinaryViewArray,
    pub failures: Vec<RowFailure>,
}

/// A batch converter: `decode` is Kafka's `toConnectData`, `encode` is
/// `fromConnectData`, both over a whole column.
pub trait Converter: Send + fmt::Debug {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded;
    fn encode(&self, column: &ConnectColumn) -> Result<Encoded>;

    /// `decode` of rows from the given topics (a Schema Registry subject names the topic).
    fn decode_from(
        &mut self,
        input: &BinaryViewArray,
        topics: &DictionaryArray<Int32Type>,
    ) -> Decoded {
        let _ = topics;
        self.decode(input)
    }

    /// `encode` of rows bound for the given topics.
    fn encode_for(
        &self,
        column: &ConnectColumn,
        topics: &DictionaryArray<Int32Type>,
    ) -> Result<Encoded> {
        let _ = topics;
        self.encode(column)
    }
}
