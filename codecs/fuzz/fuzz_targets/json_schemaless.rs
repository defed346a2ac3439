//! Schemaless JsonConverter: any bytes decode to a value or a DataException, and whatever
//! decodes re-encodes, without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_codecs::connect_json::{self, JsonConfig};

fuzz_target!(|data: &[u8]| {
    let cfg = JsonConfig { schemas_enable: false, ..JsonConfig::default() };
    if let Ok((schema, value)) = connect_json::to_connect_data(&cfg, Some(data)) {
        let _ = connect_json::from_connect_data(&cfg, schema.as_deref(), &value);
    }
});
