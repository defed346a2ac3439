//! A column of Connect data: an Arrow array plus the Connect schema its values share.
//! `schema == None` is schemaless data (Connect's `null` schema).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};

use crate::schema::ConnectSchema;

#[derive(Debug, Clone)]
pub struct ConnectColumn {
    pub schema: Option<Arc<ConnectSchema>>,
    pub array: ArrayRef,
}

impl ConnectColumn {
    pub fn new(schema: Option<Arc<ConnectSchema>>, array: ArrayRef) -> Self {
        Self { schema, array }
    }

    /// A column of `len` nulls with no schema (Connect's `SchemaAndValue.NULL`).
    pub fn nulls(len: usize) -> Self {
        Self {
            schema: None,
            array: arrow::array::new_null_array(&arrow::datatypes::DataType::Null, len),
        }
    }

    pub fn len(&self) -> usize {
        self.array.len()
    }

    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }
}
