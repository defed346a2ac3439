//! SimpleHeaderConverter: `Values.parseString` on any text and rendering the result back
//! must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_codecs::reference::decode_utf8_like_java;
use sluice_codecs::reference::values;

fuzz_target!(|data: &[u8]| {
    let text = decode_utf8_like_java(data);
    if let Some((_, value)) = values::parse_string(&text) {
        let _ = values::convert_to_string(&value);
    }
});
