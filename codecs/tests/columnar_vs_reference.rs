//! The columnar JsonConverter (envelope and schemaless decoders, encoder) must agree with the
//! Kafka-exact reference model on every JSON value of the conformance corpus: same failures,
//! same bytes after a round trip.

use std::collections::HashMap;
use std::path::Path;

use arrow::array::{Array, BinaryViewArray};
use serde_json::Value as Json;
use sluice_codecs::error::Stage;
use sluice_codecs::json::columnar::{EnvelopeDecoder, SchemalessDecoder};
use sluice_codecs::json::connect::{self, JsonConfig};
use sluice_codecs::json::encode::encode;

fn bytes(v: &Json) -> Option<Vec<u8>> {
    match v {
        Json::Object(m) => match (m.get("utf8"), m.get("base64")) {
            (Some(Json::String(s)), _) => Some(s.as_bytes().to_vec()),
            (_, Some(Json::String(s))) => connect::base64_decode(s),
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn columnar_matches_reference_on_every_corpus_json_value() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance corpus at {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let (mut checked, mut mismatches) = (0, Vec::new());
    for file in files {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let case: Json = serde_json::from_str(line).unwrap();
            let cfg_map = &case["connector_config"];
            if !cfg_map["value.converter"]
                .as_str()
                .is_some_and(|c| c.ends_with("JsonConverter"))
            {
                continue;
            }
            let props: HashMap<String, String> = cfg_map
                .as_object()
                .unwrap()
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix("value.converter.")
                        .map(|k| (k.to_string(), v.as_str().unwrap_or("").to_string()))
                })
                .collect();
            let Ok(cfg) = JsonConfig::parse(&props) else {
                continue;
            };
            let Some(value) = bytes(&case["input"]["value"]) else {
                continue;
            };
            checked += 1;
            let id = case["id"].as_str().unwrap_or("?").to_string();
            let reference = connect::to_connect_data(&cfg, Some(&value));
            let input = BinaryViewArray::from(vec![Some(value.as_slice())]);
            let out = if cfg.schemas_enable {
                EnvelopeDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter)
            } else {
                SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter)
            };
            match reference {
                Err(e) => {
                    if out
                        .failures
                        .first()
                        .map(|f| (f.exception, f.message.as_str()))
                        != Some((e.exception, e.message.as_deref().unwrap_or("")))
                    {
                        mismatches.push(format!(
                            "{id}: reference failed with {e}, columnar gave {:?}",
                            out.failures
                        ));
                    }
                }
                Ok((schema, v)) => {
                    let expected = connect::from_connect_data(&cfg, schema.as_deref(), &v);
                    let (encoded, failures) =
                        encode(&cfg, &out.runs[0].column, Stage::ValueConverter);
                    let got = match failures.first() {
                        Some(f) => Err(f.message.clone()),
                        None => Ok(encoded.is_valid(0).then(|| encoded.value(0).to_vec())),
                    };
                    let want = expected.map_err(|e| e.message.unwrap_or_default());
                    if got != want {
                        mismatches.push(format!("{id}: reference {want:?}, columnar {got:?}"));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} JSON envelope values found");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
