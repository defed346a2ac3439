//! JSON text output exactly as Kafka Connect's Jackson 2.16 writes it: which characters are
//! escaped and how (uppercase `\u00XX`, supplementary characters as escaped surrogate pairs).

/// Appends `s` as a JSON string literal, quotes included.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        let c = ch as u32;
        let needs_escape = c < 0x20 || ch == '"' || ch == '\\' || c > 0xFFFF;
        if !needs_escape {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + ch.len_utf8();
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write_unicode_escape(out, *unit);
                }
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_unicode_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[((unit >> shift) & 0xF) as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut v = Vec::new();
        write_string(&mut v, s);
        String::from_utf8(v).expect("utf8")
    }

    #[test]
    fn escapes_like_jackson() {
        assert_eq!(esc("foo"), r#""foo""#);
        assert_eq!(esc("a\"b\\c/d"), r#""a\"b\\c/d""#);
        assert_eq!(
            esc("\n\r\t\u{8}\u{c}\u{1}\u{1f}"),
            r#""\n\r\t\b\f\u0001\u001F""#
        );
        assert_eq!(esc("é€\u{7f}"), "\"é€\u{7f}\"");
        assert_eq!(esc("x😀y"), r#""x\uD83D\uDE00y""#);
    }
}
