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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// How many leading bytes of `b` need no escaping, eight at a time (a whole word is plain
/// when it has no `"`, backslash, control character or 4-byte UTF-8 lead); the byte loop
/// finishes the word that has one.
#[inline]
fn plain_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = b.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        let c = crate::json::simd::classes16(chunk);
        if c.stops | c.four_byte_lead != 0 {
            break;
        }
        i += 16;
    }
    while i + 8 <= b.len() {
        if word_stops(word(b, i)) {
            break;
        }
        i += 8;
    }
    i
}

/// Eight bytes of `b` from `at` (which has them) as a little-endian word.
#[inline]
pub(crate) fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Does the word need escaping anywhere (see `plain_prefix`)?
#[inline]
fn word_stops(w: u64) -> bool {
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH_BITS;
    let quote = has_zero(w ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH_BITS;
    let four_byte_lead = has_zero((w & (ONES * 0xF0)) ^ (ONES * 0xF0));
    quote | backslash | control | four_byte_lead != 0
}

/// Is all of `b` plain? The last partial word is padded with a plain byte, so short strings
/// (most keys and codes) take one word test.
#[inline]
fn all_plain(b: &[u8]) -> bool {
    let whole = plain_prefix(b);
    if whole == b.len() {
        return true;
    }
    let tail = &b[whole..];
    if tail.len() >= 8 {
        return false;
    }
    let mut word = [b'a'; 8];
    word[..tail.len()].copy_from_slice(tail);
    !word_stops(u64::from_le_bytes(word))
}

/// Appends `s` as a JSON string literal, quotes included.
#[inline]
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    write_string_inline(out, s);
}

/// `write_string` inlined into the batch encoder's cell writer, where a call per string
/// cost more than the copy.
#[inline(always)]
pub(crate) fn write_string_inline(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if bytes.len() >= 16 && copy_plain(out, bytes) {
        out.push(b'"');
        return;
    }
    if all_plain(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    write_escaped(out, s);
    out.push(b'"');
}

/// Appends a Java string holding unpaired surrogates as Jackson writes it: valid text as
/// `write_string` would, each unpaired surrogate as an uppercase `\uXXXX` escape.
pub fn write_utf16(out: &mut Vec<u8>, units: &[u16]) {
    out.push(b'"');
    let mut text = String::new();
    for unit in char::decode_utf16(units.iter().copied()) {
        match unit {
            Ok(ch) => text.push(ch),
            Err(lone) => {
                write_escaped(out, &text);
                text.clear();
                write_unicode_escape(out, lone.unpaired_surrogate());
            }
        }
    }
    write_escaped(out, &text);
    out.push(b'"');
}

/// Appends `b` (16 bytes or more) when none of it needs escaping, checking and copying 16
/// bytes at a time in one pass (the last chunk overlaps the one before); `false`, with `out`
/// as it was, otherwise.
#[inline]
fn copy_plain(out: &mut Vec<u8>, b: &[u8]) -> bool {
    let n = b.len();
    let chunk = |at: usize| {
        b.get(at..at + 16)
            .and_then(|c| <&[u8; 16]>::try_from(c).ok())
    };
    out.reserve(n);
    let len = out.len();
    let dst = out.spare_capacity_mut().as_mut_ptr().cast::<[u8; 16]>();
    let mut at = 0;
    loop {
        // The last chunk ends at `n`.
        let start = at.min(n - 16);
        let Some(c) = chunk(start) else {
            return false;
        };
        let classes = crate::json::simd::classes16(c);
        if classes.stops | classes.four_byte_lead != 0 {
            return false;
        }
        #[allow(unsafe_code)]
        // SAFETY: `reserve(n)` left `n` bytes of spare capacity and `start + 16 <= n`; spare
        // capacity may be written freely (it only becomes part of `out` through `set_len`).
        unsafe {
            dst.cast::<u8>()
                .add(start)
                .cast::<[u8; 16]>()
                .write_unaligned(*c);
        }
        at = start + 16;
        if at == n {
            break;
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: the chunks just written cover all `n` bytes from `len` on.
    unsafe {
        out.set_len(len + n);
    }
    true
}

/// The first 16 bytes of `bytes` (all of them when fewer, zeros after) as a word, first
/// byte lowest: text matched or stored with one 16-byte compare or store.
pub(crate) fn padded_word(bytes: &[u8]) -> u128 {
    let mut block = [0u8; 16];
    let n = bytes.len().min(16);
    block[..n].copy_from_slice(&bytes[..n]);
    u128::from_le_bytes(block)
}

/// Appends the first `n` (at most 16) bytes of `word` (first byte lowest) with one 16-byte
/// store into spare capacity: short keys, strings and text built in a register go out
/// without byte stores or a call to `memcpy`.
#[inline]
pub(crate) fn put_word(out: &mut Vec<u8>, word: u128, n: usize) {
    let n = n.min(16);
    out.reserve(16);
    let len = out.len();
    let spare = out.spare_capacity_mut();
    #[allow(unsafe_code)]
    // SAFETY: `reserve(16)` left at least 16 bytes of spare capacity, which the unaligned
    // store fills (initialising them); `n <= 16` of them become part of the vector.
    unsafe {
        spare
            .as_mut_ptr()
            .cast::<u128>()
            .write_unaligned(word.to_le());
        out.set_len(len + n);
    }
}

/// Appends the string of an inline Arrow view (12 bytes or fewer, stored in the view after
/// its length) quoted, in one `put_word`; `false`, writing nothing, if it is longer or needs
/// escaping.
#[inline]
pub(crate) fn write_inline_view(out: &mut Vec<u8>, view: u128) -> bool {
    let len = view as u32 as usize;
    if len > 12 {
        return false;
    }
    let bytes = view.to_le_bytes();
    // The string's bytes are bytes 4.. of the view.
    let classes = crate::json::simd::classes16(&bytes);
    if (classes.stops | classes.four_byte_lead) & (((1u32 << len) - 1) << 4) != 0 {
        return false;
    }
    // The opening quote and the bytes as one word (built in a register: byte stores into an
    // array read back whole would stall), then the closing quote.
    let opened = ((view >> 32) << 8) | u128::from(b'"');
    put_word(out, opened, len + 1);
    out.push(b'"');
    true
}

/// The rest of `write_string` for strings with something to escape, without the closing quote.
fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        i += plain_prefix(&bytes[i..]);
        let Some(&b) = bytes.get(i) else {
            break;
        };
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
        assert_eq!(
            esc("a long plain prefix, then \"quoted\" and 😀 and \u{1} at the end"),
            r#""a long plain prefix, then \"quoted\" and \uD83D\uDE00 and \u0001 at the end""#
        );
        assert_eq!(esc("exactly8"), r#""exactly8""#);
        let mut v = Vec::new();
        let units: Vec<u16> = [0xD800, u16::from(b'"')]
            .into_iter()
            .chain("é😀".encode_utf16())
            .chain([0xDC00])
            .collect();
        write_utf16(&mut v, &units);
        assert_eq!(v, "\"\\uD800\\\"é\\uD83D\\uDE00\\uDC00\"".as_bytes());
    }

    /// Jackson's rules char by char, the obvious way.
    fn reference(s: &str) -> String {
        let mut out = String::from("\"");
        for ch in s.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (c as u32) > 0xFFFF => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn inline_views_write_like_strings() {
        use arrow::array::builder::make_view;
        for s in [
            "",
            "a",
            "EUR",
            "0.6.8",
            "exactly12abc",
            "tab\there",
            "q\"",
            "é",
            "😀",
        ] {
            let mut fast = b"x".to_vec();
            let wrote = write_inline_view(&mut fast, make_view(s.as_bytes(), 0, 0));
            let plain = !s.contains(['\t', '"']) && s.chars().all(|c| u32::from(c) <= 0xFFFF);
            assert_eq!(wrote, plain, "{s:?}");
            if wrote {
                assert_eq!(fast, format!("x{}", esc(s)).as_bytes(), "{s:?}");
            } else {
                assert_eq!(fast, b"x");
            }
        }
        assert!(!write_inline_view(
            &mut Vec::new(),
            make_view(b"thirteen byte", 0, 0)
        ));
    }

    #[test]
    fn word_at_a_time_escaping_equals_char_by_char() {
        let alphabet = [
            'a', 'Z', ' ', '"', '\\', '\n', '\u{1}', '\u{7f}', 'é', '€', '😀', '\u{ffff}',
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..48 {
            for _ in 0..200 {
                let s: String = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if seed.is_multiple_of(4) {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            char::from(b'a' + (seed >> 16) as u8 % 26)
                        }
                    })
                    .collect();
                assert_eq!(esc(&s), reference(&s), "{s:?}");
            }
        }
    }
}
