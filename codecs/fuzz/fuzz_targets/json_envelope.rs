//! Envelope JsonConverter, differentially: the columnar decoder (simd-json fast path plus
//! reference fallback) must agree with the reference model row by row on any input, and
//! neither may panic. Input bytes are split into rows at 0xFF (never valid in UTF-8 JSON).
#![no_main]

use arrow::array::{Array, BinaryViewArray};
use libfuzzer_sys::fuzz_target;
use sluice_codecs::error::Stage;
use sluice_codecs::json::columnar::EnvelopeDecoder;
use sluice_codecs::json::encode::encode;
use sluice_codecs::json::connect::{self, JsonConfig};

fuzz_target!(|data: &[u8]| {
    let cfg = JsonConfig::default();
    let rows: Vec<Option<&[u8]>> = data.split(|b| *b == 0xFF).map(Some).collect();
    let input = BinaryViewArray::from(rows.clone());
    let out = EnvelopeDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
    for (i, row) in rows.iter().enumerate() {
        let reference = connect::to_connect_data(&cfg, *row);
        let failed = out.failures.iter().any(|f| f.row == i);
        assert_eq!(reference.is_err(), failed, "row {i} failure differs");
        if let Ok((schema, value)) = reference {
            let run = out
                .runs
                .iter()
                .rev()
                .find(|r| r.start <= i)
                .expect("a run covers every row");
            let (bytes, failures) = encode(&cfg, &run.column, Stage::ValueConverter);
            let k = i - run.start;
            let expected = connect::from_connect_data(&cfg, schema.as_deref(), &value);
            match expected {
                Ok(e) => {
                    assert!(
                        !failures.iter().any(|f| f.row == k),
                        "row {i}: columnar encode failed"
                    );
                    assert_eq!(
                        e.as_deref(),
                        bytes.is_valid(k).then(|| bytes.value(k)),
                        "row {i} bytes differ"
                    );
                }
                Err(_) => assert!(
                    failures.iter().any(|f| f.row == k),
                    "row {i}: reference encode failed, columnar did not"
                ),
            }
        }
    }
});
