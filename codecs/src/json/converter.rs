//! `JsonConverter` as a batch [`Converter`]: envelopes through the columnar decoder, schemaless
//! values through the shape-directed reader, encoding through the batch encoder.

use std::fmt;

use arrow::array::BinaryViewArray;

use crate::converter::contract::{Converter, ConverterRole, Decoded, Encoded};
use crate::error::Result;
use crate::json::columnar::{EnvelopeDecoder, SchemalessDecoder};
use crate::json::connect::JsonConfig;
use crate::model::column::ConnectColumn;

/// `org.apache.kafka.connect.json.JsonConverter`: envelopes decode through the columnar fast
/// path; schemaless values through the reference model.
pub struct JsonConverter {
    role: ConverterRole,
    cfg: JsonConfig,
    decoder: EnvelopeDecoder,
    schemaless: SchemalessDecoder,
}

impl JsonConverter {
    pub fn new(role: ConverterRole, cfg: JsonConfig) -> Self {
        Self {
            role,
            decoder: EnvelopeDecoder::new(cfg.clone()),
            schemaless: SchemalessDecoder::new(cfg.clone()),
            cfg,
        }
    }
}

impl fmt::Debug for JsonConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonConverter")
            .field("role", &self.role)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Converter for JsonConverter {
    fn decode(&mut self, input: &BinaryViewArray) -> Decoded {
        let stage = self.role.stage();
        if self.cfg.schemas_enable {
            let out = self.decoder.decode(input, stage);
            return Decoded {
                runs: out.runs,
                failures: out.failures,
            };
        }
        let out = self.schemaless.decode(input, stage);
        Decoded {
            runs: out.runs,
            failures: out.failures,
        }
    }

    fn encode(&self, column: &ConnectColumn) -> Result<Encoded> {
        let (bytes, failures) = crate::json::encode::encode(&self.cfg, column, self.role.stage());
        Ok(Encoded { bytes, failures })
    }
}
