//! JSON text output exactly as Kafka Connect's Jackson 2.16 writes it: which characters are
//! escaped and how (uppercase `\u00XX`, supplementary characters as escaped surrogate pairs).

/// Bytes that stop the copy loop: control characters, `"`, `\`, and lead bytes of 4-byte
/// UTF-8 sequences (supplementary characters, which Jackson writes as escaped surrogates).
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize || b >= 0xF0;
        b += 1;
    }
    t
};

/// Appends `s` as a JSON string literal, quotes included.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !STOP[b as usize] {
            i += 1;
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        let len = match b {
            b'"' => {
                out.extend_from_slice(b"\\\"");
                1
            }
            b'\\' => {
                out.extend_from_slice(b"\\\\");
                1
            }
            b'\n' => {
                out.extend_from_slice(b"\\n");
                1
            }
            b'\r' => {
                out.extend_from_slice(b"\\r");
                1
            }
            b'\t' => {
                out.extend_from_slice(b"\\t");
                1
            }
            0x08 => {
                out.extend_from_slice(b"\\b");
                1
            }
            0x0C => {
                out.extend_from_slice(b"\\f");
                1
            }
            0..0x20 => {
                write_unicode_escape(out, u16::from(b));
                1
            }
            _ => {
                // A 4-byte sequence: `s` is valid UTF-8, so the char is there whole.
                let ch = s[i..].chars().next().unwrap_or('\u{FFFD}');
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write_unicode_escape(out, *unit);
                }
                ch.len_utf8()
            }
        };
        i += len;
        start = i;
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
