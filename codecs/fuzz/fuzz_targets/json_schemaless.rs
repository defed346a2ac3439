//! Schemaless JsonConverter, differentially: the shaped columnar decoder (simd-json fast
//! path plus reference fallback) and the encoder must agree with the reference model row by
//! row on any input, and nothing may panic. Rows are split at 0xFF.
#![no_main]

use arrow::array::{Array, BinaryViewArray};
use libfuzzer_sys::fuzz_target;
use sluice_codecs::error::Stage;
use sluice_codecs::json::columnar::SchemalessDecoder;
use sluice_codecs::json::encode::encode;
use sluice_codecs::json::connect::{self, JsonConfig};

fuzz_target!(|data: &[u8]| {
    let cfg = JsonConfig {
        schemas_enable: false,
        ..JsonConfig::default()
    };
    let rows: Vec<Option<&[u8]>> = data.split(|b| *b == 0xFF).map(Some).collect();
    let input = BinaryViewArray::from(rows.clone());
    let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
    let (bytes, failures) = encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
    for (i, row) in rows.iter().enumerate() {
        let reference = connect::to_connect_data(&cfg, *row);
        assert_eq!(
            reference.is_err(),
            out.failures.iter().any(|f| f.row == i),
            "row {i} failure differs"
        );
        if let Ok((schema, value)) = reference {
            match connect::from_connect_data(&cfg, schema.as_deref(), &value) {
                Ok(e) => {
                    assert!(
                        !failures.iter().any(|f| f.row == i),
                        "row {i}: columnar encode failed"
                    );
                    assert_eq!(
                        e.as_deref(),
                        bytes.is_valid(i).then(|| bytes.value(i)),
                        "row {i} bytes differ"
                    );
                }
                Err(_) => assert!(
                    failures.iter().any(|f| f.row == i),
                    "row {i}: reference encode failed, columnar did not"
                ),
            }
        }
    }
});
