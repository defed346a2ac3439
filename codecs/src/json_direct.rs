//! A shape-directed JSON reader for rows whose layout is known: schemaless rows shaped like
//! the batch's first, and envelope payloads against their cached schema. It walks the bytes
//! once against the expected keys and kinds, without building a tape, and declines (so the
//! row takes the general simd-json path) at anything it does not handle exactly as the
//! general path would: other key order, surrogate escapes, big or malformed numbers, a value
//! that does not fit its field, trailing bytes. Values are read into a flat token list first
//! and appended only when the whole row is accepted, so a declined row leaves the builders
//! untouched.

use crate::connect_json::JsonConfig;
use crate::json_columnar::{Col, Shape};
use crate::schema::{ConnectSchema, SchemaType, logical};

/// One read value, in the order a depth-first walk of the row meets them.
#[derive(Debug, Clone, Copy)]
enum Tok {
    Null,
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A string without escapes: start and length in the row's bytes.
    Str(u32, u32),
    /// A string with escapes, unescaped: start and length in the reader's text buffer.
    Unescaped(u32, u32),
    /// An array with this many items (its items follow).
    Items(u32),
    /// A present object (its members follow, in JSON order).
    Obj,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The position of the first `"`, backslash or control character in `rest`. Eight bytes
/// at a time: the "has a zero byte" test may flag bytes above a true hit, never below, so
/// its lowest flag is exact.
#[inline]
fn scan_string(rest: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 8 <= rest.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&rest[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let stop = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let stop = stop & HIGH_BITS;
        if stop != 0 {
            return Some(i + (stop.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    rest[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|k| i + k)
}

/// Exact powers of ten in f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Reads shaped rows; keeps its token buffer across rows.
#[derive(Debug, Default)]
pub(crate) struct DirectReader {
    toks: Vec<Tok>,
    /// Unescaped strings of the current row.
    text: String,
}

/// A position in a row that is valid UTF-8 (`b` is `s`'s bytes).
struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    #[inline]
    fn literal(&mut self, lit: &[u8]) -> bool {
        let end = self.i + lit.len();
        let Some(here) = self.b.get(self.i..end) else {
            return false;
        };
        // Keys and keywords are short: an inlined loop beats a call to memcmp.
        let same = if lit.len() <= 16 {
            here.iter().zip(lit).all(|(a, b)| a == b)
        } else {
            here == lit
        };
        if same {
            self.i = end;
        }
        same
    }

    /// A string: its content in place when it has no escapes, otherwise unescaped into
    /// `text`. Control characters and escapes of surrogates (whose lone halves follow Java's
    /// rules) are left to the general path.
    fn string(&mut self, text: &mut String) -> Option<Tok> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.i;
        let mut segment = start;
        let mut unescaped: Option<usize> = None;
        loop {
            let len = scan_string(&self.b[segment..])?;
            let end = segment + len;
            // Segments end at ASCII bytes, so they are whole characters of the valid row.
            let piece = self.s.get(segment..end)?;
            match self.b[end] {
                b'"' => {
                    self.i = end + 1;
                    return Some(match unescaped {
                        None => Tok::Str(start as u32, len as u32),
                        Some(at) => {
                            text.push_str(piece);
                            Tok::Unescaped(at as u32, (text.len() - at) as u32)
                        }
                    });
                }
                b'\\' => {
                    unescaped.get_or_insert(text.len());
                    text.push_str(piece);
                    let escape = end + 1;
                    let c = *self.b.get(escape)?;
                    let (ch, used) = match c {
                        b'"' => ('"', 1),
                        b'\\' => ('\\', 1),
                        b'/' => ('/', 1),
                        b'b' => ('\u{8}', 1),
                        b'f' => ('\u{c}', 1),
                        b'n' => ('\n', 1),
                        b'r' => ('\r', 1),
                        b't' => ('\t', 1),
                        b'u' => {
                            let hex = self.b.get(escape + 1..escape + 5)?;
                            let mut code = 0u32;
                            for &h in hex {
                                code = code * 16 + char::from(h).to_digit(16)?;
                            }
                            // Surrogates (lone or paired) take the general path.
                            (char::from_u32(code)?, 5)
                        }
                        _ => return None,
                    };
                    text.push(ch);
                    segment = escape + used;
                }
                // A raw control character: not JSON.
                _ => return None,
            }
        }
    }

    /// A JSON number by the grammar; `Ok(int)` for integers that fit i64 without doubt,
    /// `Err(float)` for numbers with a fraction or exponent.
    fn number(&mut self) -> Option<Result<i64, f64>> {
        let start = self.i;
        let negative = self.eat(b'-');
        let int_start = self.i;
        // Digits so far as an integer (exact while there are at most 18 of them).
        let mut mantissa: u64 = 0;
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = self.b.get(self.i) {
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    self.i += 1;
                }
            }
            _ => return None,
        }
        let int_digits = self.i - int_start;
        let mut float = false;
        let mut frac_digits = 0usize;
        if self.eat(b'.') {
            float = true;
            let frac = self.i;
            while let Some(&d @ b'0'..=b'9') = self.b.get(self.i) {
                mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                self.i += 1;
            }
            frac_digits = self.i - frac;
            if frac_digits == 0 {
                return None;
            }
        }
        let mut exponent = false;
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            float = true;
            exponent = true;
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let exp = self.i;
            while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == exp {
                return None;
            }
        }
        let digits = int_digits + frac_digits;
        if !float {
            // 18 digits always fit i64; longer integers take the general path.
            if int_digits > 18 {
                return None;
            }
            let v = mantissa as i64;
            return Some(Ok(if negative { -v } else { v }));
        }
        if !exponent && digits <= 15 && frac_digits < POW10.len() {
            // Both operands are exact in f64, so the quotient is the correctly rounded value
            // (Clinger's fast path), as a full decimal parse would give.
            let d = mantissa as f64 / POW10[frac_digits];
            return Some(Err(if negative { -d } else { d }));
        }
        let d: f64 = self.s.get(start..self.i)?.parse().ok()?;
        d.is_finite().then_some(Err(d))
    }
}

impl DirectReader {
    /// Reads `row` against `shape`: the row as text when accepted, `None` when it needs the
    /// general path.
    pub(crate) fn read<'a>(&mut self, row: &'a [u8], shape: &Shape) -> Option<&'a str> {
        self.whole(row, |me, cur| me.object(cur, shape))
    }

    /// Runs `value` over the whole of `bytes` (valid UTF-8, checked once; nothing but
    /// whitespace around the value).
    fn whole<'a>(
        &mut self,
        bytes: &'a [u8],
        value: impl FnOnce(&mut Self, &mut Cursor<'a>) -> bool,
    ) -> Option<&'a str> {
        self.toks.clear();
        self.text.clear();
        let text = std::str::from_utf8(bytes).ok()?;
        let mut cur = Cursor {
            s: text,
            b: bytes,
            i: 0,
        };
        cur.ws();
        if !value(self, &mut cur) {
            return None;
        }
        cur.ws();
        (cur.i == bytes.len()).then_some(text)
    }

    fn object(&mut self, cur: &mut Cursor<'_>, shape: &Shape) -> bool {
        let fields = &shape.schema.fields;
        self.members(
            cur,
            shape.json_order.len(),
            |k| &fields[shape.json_order[k]].name,
            |me, cur, k| {
                let child = shape.json_order[k];
                me.value(cur, &fields[child].schema, shape.nested[child].as_ref())
            },
        )
    }

    /// An object whose `n` keys must be `key(0)`, `key(1)`, ... in this order; `member`
    /// reads the value of the k-th.
    fn members<'k>(
        &mut self,
        cur: &mut Cursor<'_>,
        n: usize,
        key: impl Fn(usize) -> &'k str,
        mut member: impl FnMut(&mut Self, &mut Cursor<'_>, usize) -> bool,
    ) -> bool {
        if !cur.eat(b'{') {
            return false;
        }
        self.toks.push(Tok::Obj);
        cur.ws();
        if n == 0 {
            return cur.eat(b'}');
        }
        for k in 0..n {
            if !(cur.eat(b'"') && cur.literal(key(k).as_bytes()) && cur.eat(b'"')) {
                return false;
            }
            cur.ws();
            if !(cur.eat(b':') && {
                cur.ws();
                member(self, cur, k)
            }) {
                return false;
            }
            cur.ws();
            if !cur.eat(if k + 1 == n { b'}' } else { b',' }) {
                return false;
            }
            cur.ws();
        }
        true
    }

    /// An array; `item` reads each element.
    fn items(
        &mut self,
        cur: &mut Cursor<'_>,
        mut item: impl FnMut(&mut Self, &mut Cursor<'_>) -> bool,
    ) -> bool {
        if !cur.eat(b'[') {
            return false;
        }
        let at = self.toks.len();
        self.toks.push(Tok::Items(0));
        cur.ws();
        let mut count = 0u32;
        if !cur.eat(b']') {
            loop {
                if !item(self, cur) {
                    return false;
                }
                count += 1;
                cur.ws();
                if cur.eat(b']') {
                    break;
                }
                if !cur.eat(b',') {
                    return false;
                }
                cur.ws();
            }
        }
        self.toks[at] = Tok::Items(count);
        true
    }

    fn boolean(&mut self, cur: &mut Cursor<'_>) -> bool {
        let b = if cur.literal(b"true") {
            true
        } else if cur.literal(b"false") {
            false
        } else {
            return false;
        };
        self.toks.push(Tok::Bool(b));
        true
    }

    fn value(
        &mut self,
        cur: &mut Cursor<'_>,
        kind: &ConnectSchema,
        nested: Option<&Shape>,
    ) -> bool {
        let Some(&c) = cur.b.get(cur.i) else {
            return false;
        };
        if c == b'n' {
            self.toks.push(Tok::Null);
            return cur.literal(b"null");
        }
        match kind.schema_type {
            SchemaType::Int64 => match cur.number() {
                Some(Ok(v)) => self.toks.push(Tok::I64(v)),
                _ => return false,
            },
            // Jackson reads floats as BigDecimal, which has no negative zero.
            SchemaType::Float64 => match cur.number() {
                Some(Err(d)) => self.toks.push(Tok::F64(if d == 0.0 { 0.0 } else { d })),
                _ => return false,
            },
            SchemaType::Boolean => return self.boolean(cur),
            SchemaType::String => match cur.string(&mut self.text) {
                Some(tok) => self.toks.push(tok),
                None => return false,
            },
            SchemaType::Array => {
                let Some(item) = kind.value.as_deref() else {
                    return false;
                };
                return self.items(cur, |me, cur| me.value(cur, item, None));
            }
            SchemaType::Struct => {
                let Some(shape) = nested else {
                    return false;
                };
                return self.object(cur, shape);
            }
            _ => return false,
        }
        true
    }

    /// Reads an envelope payload against its schema (fields in schema order, each present
    /// once); `false` when the row needs the general path.
    pub(crate) fn read_typed<'a>(
        &mut self,
        payload: &'a [u8],
        cfg: &JsonConfig,
        schema: &ConnectSchema,
    ) -> Option<&'a str> {
        self.whole(payload, |me, cur| me.typed(cur, cfg, schema))
    }

    /// The value at the cursor against `s`, with the conditions of the tape path's `fits`.
    fn typed(&mut self, cur: &mut Cursor<'_>, cfg: &JsonConfig, s: &ConnectSchema) -> bool {
        let Some(&c) = cur.b.get(cur.i) else {
            return false;
        };
        if c == b'n' {
            // A null that a default would replace, or in a required field: general path.
            if !(s.optional && (s.default.is_none() || !cfg.replace_null_with_default)) {
                return false;
            }
            self.toks.push(Tok::Null);
            return cur.literal(b"null");
        }
        let logical = s.logical();
        match (logical, s.schema_type) {
            (Some(logical::DATE | logical::TIME | logical::TIMESTAMP), _)
            | (
                None,
                SchemaType::Int8
                | SchemaType::Int16
                | SchemaType::Int32
                | SchemaType::Int64
                | SchemaType::Float32
                | SchemaType::Float64,
            ) => {
                let v = match cur.number() {
                    Some(Ok(v)) => v,
                    // Doubles only where the field is a double (and not negative zero's sign).
                    Some(Err(d)) if logical.is_none() && s.schema_type == SchemaType::Float64 => {
                        self.toks.push(Tok::F64(if d == 0.0 { 0.0 } else { d }));
                        return true;
                    }
                    _ => return false,
                };
                let fits = match (logical, s.schema_type) {
                    (Some(logical::DATE), _) => i32::try_from(v).is_ok(),
                    (Some(logical::TIME), _) => (0..=86_400_000).contains(&v),
                    (Some(_), _) => true,
                    (None, SchemaType::Int8) => i8::try_from(v).is_ok(),
                    (None, SchemaType::Int16) => i16::try_from(v).is_ok(),
                    (None, SchemaType::Int32) => i32::try_from(v).is_ok(),
                    (None, SchemaType::Int64) => true,
                    // Exact in a double; larger integers take the exact slow path.
                    _ => v.unsigned_abs() <= 1 << 53,
                };
                if !fits {
                    return false;
                }
                self.toks.push(Tok::I64(v));
            }
            (Some(_), _) => return false,
            (None, SchemaType::Boolean) => return self.boolean(cur),
            (None, SchemaType::String) => match cur.string(&mut self.text) {
                Some(tok) => self.toks.push(tok),
                None => return false,
            },
            (None, SchemaType::Array) => {
                let Some(item) = s.value.as_deref() else {
                    return false;
                };
                return self.items(cur, |me, cur| me.typed(cur, cfg, item));
            }
            (None, SchemaType::Struct) => {
                return self.members(
                    cur,
                    s.fields.len(),
                    |k| &s.fields[k].name,
                    |me, cur, k| me.typed(cur, cfg, &s.fields[k].schema),
                );
            }
            _ => return false,
        }
        true
    }

    /// Appends the payload `read_typed` accepted (same bytes, same schema) to `col`.
    pub(crate) fn append_typed(&self, payload: &str, schema: &ConnectSchema, col: &mut Col) {
        let mut at = 0;
        let input = Input {
            row: payload,
            text: &self.text,
        };
        append(&self.toks, &mut at, &input, Layout::Typed(schema), col);
    }

    /// Appends the row `read` accepted (same bytes, same shape) to `col`.
    pub(crate) fn append(&self, row: &str, shape: &Shape, col: &mut Col) {
        let mut at = 0;
        let input = Input {
            row,
            text: &self.text,
        };
        append(
            &self.toks,
            &mut at,
            &input,
            Layout::Shaped(Some(shape)),
            col,
        );
    }
}

/// Where a row's strings are: in place, or unescaped in the text buffer.
struct Input<'a> {
    row: &'a str,
    text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Option<Result<i64, f64>> {
        Cursor {
            s: text,
            b: text.as_bytes(),
            i: 0,
        }
        .number()
    }

    #[test]
    fn string_scan_finds_the_first_stop_byte_like_a_byte_loop() {
        let reference = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let alphabet = [
            b'a', b'"', b'\\', 0x1F, 0x20, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, 0x00, 0x21,
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..40 {
            for _ in 0..300 {
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain letters, so stop bytes land anywhere in a word.
                        if seed.is_multiple_of(5) {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed >> 16) as u8 % 26
                        }
                    })
                    .collect();
                assert_eq!(scan_string(&b), reference(&b), "{b:?}");
            }
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar_and_round_correctly() {
        assert_eq!(number("0"), Some(Ok(0)));
        assert_eq!(number("-0"), Some(Ok(0)));
        assert_eq!(
            number("123456789012345678"),
            Some(Ok(123_456_789_012_345_678))
        );
        assert_eq!(number("-42"), Some(Ok(-42)));
        // 19 digits and more take the general path (BigInteger rules live there).
        assert_eq!(number("1234567890123456789"), None);
        for bad in ["01x", "-", "+1", ".5", "1.", "1e", "1e+", "-a"] {
            let n = number(bad);
            assert!(
                n.is_none() || bad == "01x",
                "{bad} must be refused, got {n:?}"
            );
        }
        // "01x": the cursor stops after "0"; the caller refuses what follows.
        let mut c = Cursor {
            s: "01",
            b: b"01",
            i: 0,
        };
        assert_eq!(c.number(), Some(Ok(0)));
        assert_eq!(c.i, 1);
        // Fast path and full parse agree with Rust's correctly rounded parser.
        for text in [
            "7638.58",
            "0.1",
            "-0.0",
            "123456.789012345",
            "0.000001234",
            "1.5e3",
            "1E-7",
            "9007199254740993.5",
            "2.2250738585072014e-308",
            "0.30000000000000004",
        ] {
            let expected: f64 = text.parse().unwrap();
            assert_eq!(number(text), Some(Err(expected)), "{text}");
        }
        assert_eq!(number("1e400"), None, "infinite: general path");
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    fn string(json: &str) -> Option<String> {
        let mut text = String::new();
        let mut c = Cursor {
            s: json,
            b: json.as_bytes(),
            i: 0,
        };
        let tok = c.string(&mut text)?;
        Some(match tok {
            Tok::Str(s, l) => json[s as usize..(s + l) as usize].to_string(),
            Tok::Unescaped(s, l) => text[s as usize..(s + l) as usize].to_string(),
            _ => return None,
        })
    }

    #[test]
    fn strings_are_unescaped_like_json_and_odd_ones_declined() {
        assert_eq!(string(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(
            string(r#""say \"hi\" \\ \/ \b\f\n\r\t \u00e9\u20AC end""#).as_deref(),
            Some("say \"hi\" \\ / \u{8}\u{c}\n\r\t é€ end")
        );
        assert_eq!(string("\"é ok\"").as_deref(), Some("é ok"));
        // Surrogate escapes, bad escapes, raw control characters, unterminated: declined.
        for bad in [
            r#""\uD83D\uDE00""#,
            r#""\uDE00""#,
            r#""\a""#,
            r#""\u12G4""#,
            "\"tab\there\"",
            r#""open"#,
            r#""\"#,
        ] {
            assert_eq!(string(bad), None, "{bad}");
        }
        assert_eq!(string("\"\u{1F600}\"").as_deref(), Some("\u{1F600}"));
    }
}

fn append_str(tok: Tok, input: &Input<'_>, b: &mut arrow::array::StringViewBuilder) {
    let (from, start, len) = match tok {
        Tok::Str(start, len) => (input.row, start, len),
        Tok::Unescaped(start, len) => (input.text, start, len),
        _ => ("", 0, 0),
    };
    // Both ends are at ASCII bytes (quotes), so the slice is whole characters.
    b.append_value(
        from.get(start as usize..(start + len) as usize)
            .unwrap_or_default(),
    );
}

/// Where a value's type comes from: a schemaless shape (`None` inside lists and for the
/// shape's scalar fields), or a Connect schema.
#[derive(Clone, Copy)]
enum Layout<'a> {
    Shaped(Option<&'a Shape>),
    Typed(&'a ConnectSchema),
}

/// Appends one value the reader accepted, as the tape path's `append` would.
fn append(toks: &[Tok], at: &mut usize, input: &Input<'_>, layout: Layout<'_>, col: &mut Col) {
    let tok = toks[*at];
    *at += 1;
    match (tok, col) {
        (Tok::I64(v), c) => c.append_int(v),
        (Tok::F64(d), Col::F64(b)) => b.append_value(d),
        (Tok::Bool(v), Col::Bool(b)) => b.append_value(v),
        (tok @ (Tok::Str(..) | Tok::Unescaped(..)), Col::Str(b)) => append_str(tok, input, b),
        (
            Tok::Items(n),
            Col::List {
                offsets,
                nulls,
                item,
                ..
            },
        ) => {
            let items = match layout {
                Layout::Shaped(_) => Layout::Shaped(None),
                Layout::Typed(s) => Layout::Typed(s.value.as_deref().unwrap_or(s)),
            };
            for _ in 0..n {
                append(toks, at, input, items, item);
            }
            offsets.push(offsets.last().copied().unwrap_or(0) + n as i32);
            nulls.append_non_null();
        }
        (
            Tok::Obj,
            Col::Struct {
                children, nulls, ..
            },
        ) => {
            match layout {
                // Members were read in JSON order; each goes to its child.
                Layout::Shaped(Some(shape)) => {
                    for &child in &shape.json_order {
                        let nested = Layout::Shaped(shape.nested[child].as_ref());
                        append(toks, at, input, nested, &mut children[child]);
                    }
                }
                Layout::Typed(s) => {
                    for (f, child) in s.fields.iter().zip(children.iter_mut()) {
                        append(toks, at, input, Layout::Typed(&f.schema), child);
                    }
                }
                // An object where the shape has none: the reader does not accept it.
                Layout::Shaped(None) => {}
            }
            nulls.append_non_null();
        }
        // Null, and (unreachable: the reader checked kinds) anything else.
        (_, c) => c.append_null(),
    }
}
