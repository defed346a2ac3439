//! A shape-directed JSON reader for rows whose layout is known: schemaless rows shaped like
//! the batch's first (through the shape compiled to a flat list of steps, `ShapeProgram`),
//! and envelope payloads against their cached schema. It walks the bytes
//! once against the expected keys and kinds, without building a tape, writing values straight
//! into the column builders (long strings as views of the input's buffers), and declines (the
//! row is taken back out of the builders and takes the general simd-json path) at anything
//! it does not handle exactly as the general path would: other key order, surrogate escapes,
//! big or malformed numbers, a value that does not fit its field, trailing bytes.

use arrow::array::{BinaryViewArray, NullBufferBuilder};

use arrow::datatypes::{Float64Type, Int64Type};

use crate::columnar::builders::{PrimCol, Source, StrCol};
use crate::columnar::col::{Col, Shape};
use crate::json::connect::JsonConfig;
use crate::json::text::word;
use crate::model::schema::{ConnectSchema, SchemaType, logical};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The position of the first `"`, backslash or control character in `rest`, and whether a
/// byte before it is not ASCII. Eight bytes at a time: the "has a zero byte" test may flag
/// bytes above a true hit, never below, so its lowest flag is exact.
#[inline(always)]
fn scan_string(rest: &[u8]) -> Option<(usize, bool)> {
    let mut i = 0;
    let mut seen = 0u64;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = rest
        .get(i..i + 16)
        .and_then(|c| <&[u8; 16]>::try_from(c).ok())
    {
        let crate::json::simd::Classes16 { stops, high, .. } = crate::json::simd::classes16(chunk);
        if stops != 0 {
            let at = stops.trailing_zeros();
            let below = (1u32 << at) - 1;
            return Some((i + at as usize, seen != 0 || high & below != 0));
        }
        if high != 0 {
            seen |= HIGH_BITS;
        }
        i += 16;
    }
    // The rest of a long enough slice: its last 16 bytes, minus those scanned already (the
    // word and byte loops below cost more, e.g. for a row's last string).
    #[cfg(target_arch = "x86_64")]
    if let Some(start) = rest.len().checked_sub(16)
        && let Some(chunk) = rest
            .get(start..)
            .and_then(|c| <&[u8; 16]>::try_from(c).ok())
    {
        // The loop above stopped within the last 16 bytes: 1 to 16 of them are scanned.
        let fresh = !((1u32 << (i - start)) - 1);
        let crate::json::simd::Classes16 { stops, high, .. } = crate::json::simd::classes16(chunk);
        let stops = stops & fresh;
        if stops == 0 {
            return None;
        }
        let at = stops.trailing_zeros();
        let below = (1u32 << at) - 1;
        return Some((start + at as usize, seen != 0 || high & fresh & below != 0));
    }
    while i + 8 <= rest.len() {
        let w = word(rest, i);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let stop = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let stop = stop & HIGH_BITS;
        if stop != 0 {
            let at = stop.trailing_zeros() / 8;
            // Bytes below the stop byte only.
            let below = (1u64 << (at * 8)) - 1;
            seen |= w & below;
            return Some((i + at as usize, seen & HIGH_BITS != 0));
        }
        seen |= w;
        i += 8;
    }
    let at = rest[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
    let tail = rest[i..i + at].iter().any(|&c| c >= 0x80);
    Some((i + at, seen & HIGH_BITS != 0 || tail))
}

/// `a == b` for slices of one length, tuned for short keys and keywords: two overlapping
/// words cover 8 to 16 bytes, where a call to memcmp would cost more than the compare.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if (4..8).contains(&n) {
        return half_word(a, 0) == half_word(b, 0) && half_word(a, n - 4) == half_word(b, n - 4);
    }
    if n < 4 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    a == b
}

/// Four bytes of `b` from `at` (which has them) as a little-endian word.
#[inline]
fn half_word(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

/// A run of a row's string as text: checked when `scan_string` saw bytes beyond ASCII.
#[inline]
fn text_of(bytes: &[u8], non_ascii: bool) -> Option<&str> {
    if non_ascii {
        return std::str::from_utf8(bytes).ok();
    }
    debug_assert!(bytes.is_ascii());
    // Checking short ASCII strings one by one cost a sixth of schemaless decode time.
    #[allow(unsafe_code)]
    // SAFETY: ASCII is UTF-8, and `scan_string` reported no byte of 0x80 or above in
    // `bytes` (its word-at-a-time test is checked against a byte loop in the tests).
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

/// 10^n for a run of n digits.
const POW10_INT: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// How many of the eight bytes of `w` (little-endian, first byte lowest) are ASCII digits
/// before the first that is not, and their value. Per byte `t = c - '0'` is a digit when
/// `t < 10`; borrows and carries only run upward, so the lowest flagged byte is exact.
#[inline]
fn digit_run(w: u64) -> (usize, u64) {
    let t = w.wrapping_sub(ONES * u64::from(b'0'));
    let not_digit = (t | t.wrapping_add(ONES * 0x76)) & HIGH_BITS;
    let n = (not_digit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // The n digits to the top bytes; zero bytes below them are leading zeros.
    let v = t << (8 * (8 - n));
    // Pairs, then quads, then all eight (the usual multiply-and-shift reduction).
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let v = ((v & 0x0000_00FF_0000_00FF)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    (n, v)
}

/// Exact powers of ten in f64.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The bytes that open each member of a struct in compact JSON (`{` or `,`, the key as
/// Jackson writes it, `:`), and the same for struct fields (or struct items of array fields):
/// built once per schema, so a member's key is matched with one compare.
#[derive(Debug)]
pub(crate) struct Leads {
    leads: Vec<Box<[u8]>>,
    children: Vec<Option<Leads>>,
}

impl Leads {
    /// The leads of `s` when it is a struct, or an array (of arrays) of structs.
    pub(crate) fn of(s: &ConnectSchema) -> Option<Leads> {
        match s.schema_type {
            SchemaType::Struct => Some(Leads {
                leads: s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(k, f)| lead(k, &f.name))
                    .collect(),
                children: s.fields.iter().map(|f| Leads::of(&f.schema)).collect(),
            }),
            SchemaType::Array => s.value.as_deref().and_then(Leads::of),
            _ => None,
        }
    }
}

/// The k-th member's opener, key and colon.
pub(crate) fn lead(k: usize, name: &str) -> Box<[u8]> {
    let mut lead = vec![if k == 0 { b'{' } else { b',' }];
    crate::json::text::write_string(&mut lead, name);
    lead.push(b':');
    lead.into_boxed_slice()
}

/// Reads shaped rows into columns; keeps its scratch buffer across rows.
#[derive(Debug, Default)]
pub(crate) struct DirectReader {
    /// A string with escapes, unescaped.
    text: String,
}

/// A position in a row, and where the row lives in the input. The step loop keeps its cursor
/// in registers: calls that are not inlined get a copy (`detached`), since a cursor whose
/// address is taken lives in memory, and every read of the position then waits for the store
/// of the one before.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    src: Source<'a>,
}

impl<'a> Cursor<'a> {
    /// Runs `f` on a copy of the cursor and takes its position back.
    #[inline(always)]
    fn detached<R>(&mut self, f: impl FnOnce(&mut Cursor<'a>) -> R) -> R {
        let mut copy = *self;
        let r = f(&mut copy);
        self.i = copy.i;
        r
    }

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
        let same = same_bytes(here, lit);
        if same {
            self.i = end;
        }
        same
    }

    /// A string into `col`: a view of the row when it has no escapes, otherwise unescaped
    /// via `text`. Text that is not UTF-8, control characters and escapes of surrogates
    /// (whose lone halves follow Java's rules) are left to the general path.
    #[inline(always)]
    fn string(&mut self, col: &mut StrCol, text: &mut String) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        let start = self.i;
        // Most strings have no escape: one scan to the closing quote, inline here.
        if let Some((len, non_ascii)) = scan_string(&self.b[start..]) {
            let end = start + len;
            if self.b[end] == b'"' {
                let Some(piece) = text_of(&self.b[start..end], non_ascii) else {
                    return false;
                };
                self.i = end + 1;
                if piece.len() <= 12 {
                    col.append_short(piece, &self.b[start..]);
                } else {
                    col.append_shared(piece, self.src.advanced(start));
                }
                return true;
            }
        }
        self.detached(|c| c.string_from(start, col, text))
    }

    /// `string` from its first byte at `start` on, for strings with escapes (and errors):
    /// the unescaped text is copied into the column.
    #[inline(never)]
    fn string_from(&mut self, start: usize, col: &mut StrCol, text: &mut String) -> bool {
        let mut segment = start;
        let mut escaped = false;
        loop {
            let Some((len, non_ascii)) = scan_string(&self.b[segment..]) else {
                return false;
            };
            let end = segment + len;
            // Segments end at ASCII bytes, so checking each one checks the whole string.
            let Some(piece) = text_of(&self.b[segment..end], non_ascii) else {
                return false;
            };
            match self.b[end] {
                b'"' => {
                    self.i = end + 1;
                    if escaped {
                        text.push_str(piece);
                        col.append_value(text);
                    } else {
                        col.append_value(piece);
                    }
                    return true;
                }
                b'\\' => {
                    if !escaped {
                        escaped = true;
                        text.clear();
                    }
                    text.push_str(piece);
                    let escape = end + 1;
                    let Some(&c) = self.b.get(escape) else {
                        return false;
                    };
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
                            let Some(hex) = self.b.get(escape + 1..escape + 5) else {
                                return false;
                            };
                            let mut code = 0u32;
                            for &h in hex {
                                let Some(d) = char::from(h).to_digit(16) else {
                                    return false;
                                };
                                code = code * 16 + d;
                            }
                            // Surrogates (lone or paired) take the general path.
                            let Some(ch) = char::from_u32(code) else {
                                return false;
                            };
                            (ch, 5)
                        }
                        _ => return false,
                    };
                    text.push(ch);
                    segment = escape + used;
                }
                // A raw control character: not JSON.
                _ => return false,
            }
        }
    }

    /// Reads the run of digits at the cursor onto `mantissa` (wrapping: callers count the
    /// digits and only trust up to 18 of them), eight at a time where the row has them.
    #[inline(always)]
    fn digits(&mut self, mantissa: u64) -> u64 {
        let (i, mantissa) = digits_at(self.b, self.i, mantissa);
        self.i = i;
        mantissa
    }

    /// A schemaless integer (Kafka's Long) into `col`.
    #[inline(always)]
    fn long_into(&mut self, col: &mut PrimCol<Int64Type>) -> bool {
        match self.number() {
            Some(Ok(v)) => {
                col.append_value(v);
                true
            }
            _ => false,
        }
    }

    /// A schemaless number with a fraction or exponent (Kafka's Double) into `col`.
    #[inline(always)]
    fn double_into(&mut self, col: &mut PrimCol<Float64Type>) -> bool {
        match self.number() {
            // Jackson reads floats as BigDecimal, which has no negative zero.
            Some(Err(d)) => {
                col.append_value(if d == 0.0 { 0.0 } else { d });
                true
            }
            _ => false,
        }
    }

    /// A JSON number by the grammar; `Ok(int)` for integers that fit i64 without doubt,
    /// `Err(float)` for numbers with a fraction or exponent.
    #[inline(always)]
    fn number(&mut self) -> Option<Result<i64, f64>> {
        let start = self.i;
        let negative = self.eat(b'-');
        let int_start = self.i;
        // Digits so far as an integer (exact while there are at most 18 of them).
        let mut mantissa: u64 = 0;
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => mantissa = self.digits(mantissa),
            _ => return None,
        }
        let int_digits = self.i - int_start;
        let mut float = false;
        let mut frac_digits = 0usize;
        if self.eat(b'.') {
            float = true;
            let frac = self.i;
            mantissa = self.digits(mantissa);
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
        // The grammar above admits ASCII only.
        let d: f64 = std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()?;
        d.is_finite().then_some(Err(d))
    }
}

/// `Cursor::digits` on position `i` of `b`, by value: the position after the digits and the
/// mantissa.
#[inline]
fn digits_at(b: &[u8], mut i: usize, mut mantissa: u64) -> (usize, u64) {
    while let Some(chunk) = b.get(i..i + 8) {
        let (n, v) = digit_run(word(chunk, 0));
        mantissa = mantissa.wrapping_mul(POW10_INT[n]).wrapping_add(v);
        i += n;
        if n < 8 {
            return (i, mantissa);
        }
    }
    while let Some(&d @ b'0'..=b'9') = b.get(i) {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    (i, mantissa)
}

/// Row `row` of `input` and where it lives, for views of its long strings.
pub(crate) fn row_source(input: &BinaryViewArray, row: usize) -> Source<'_> {
    let view = input.views()[row];
    if (view as u32) <= 12 {
        // Inline in the view: nothing to point into.
        return Source::NONE;
    }
    Source {
        buffers: input.data_buffers(),
        buffer: (view >> 64) as u32,
        offset: (view >> 96) as u32,
    }
}

impl DirectReader {
    /// Appends an envelope payload (at `src`) read against its schema (fields in schema
    /// order, each present once); otherwise leaves `col` as it was and returns `false`.
    pub(crate) fn read_typed(
        &mut self,
        payload: &[u8],
        src: Source<'_>,
        cfg: &JsonConfig,
        schema: &ConnectSchema,
        leads: Option<&Leads>,
        col: &mut Col,
    ) -> bool {
        self.whole(payload, src, col, |me, cur, col| {
            me.typed(cur, cfg, schema, leads, col)
        })
    }

    /// Runs `value` over the whole of `bytes` (nothing but whitespace around the value),
    /// taking back what it appended when it fails.
    fn whole<'a>(
        &mut self,
        bytes: &'a [u8],
        src: Source<'a>,
        col: &mut Col,
        value: impl FnOnce(&mut Self, &mut Cursor<'a>, &mut Col) -> bool,
    ) -> bool {
        let rows = col.len();
        let mut cur = Cursor {
            b: bytes,
            i: 0,
            src,
        };
        cur.ws();
        let ok = value(self, &mut cur, col) && {
            cur.ws();
            cur.i == bytes.len()
        };
        if !ok {
            col.truncate(rows);
        }
        ok
    }

    /// An object whose `n` members must open with `lead(0)`, `lead(1)`, ... in this order
    /// (see `Leads`); `member` reads the value of the k-th. Whitespace anywhere is read step by
    /// step against the quoted key.
    fn members<'k>(
        &mut self,
        cur: &mut Cursor<'_>,
        n: usize,
        lead: impl Fn(usize) -> &'k [u8],
        mut member: impl FnMut(&mut Self, &mut Cursor<'_>, usize) -> bool,
    ) -> bool {
        if n == 0 {
            if !cur.eat(b'{') {
                return false;
            }
            cur.ws();
            return cur.eat(b'}');
        }
        for k in 0..n {
            let lead = lead(k);
            // Compact JSON: opener, key and colon in one compare.
            if !cur.literal(lead) {
                let (opener, quoted) = (lead[0], &lead[1..lead.len() - 1]);
                cur.ws();
                if !cur.eat(opener) {
                    return false;
                }
                cur.ws();
                if !cur.literal(quoted) {
                    return false;
                }
                cur.ws();
                if !cur.eat(b':') {
                    return false;
                }
            }
            cur.ws();
            if !member(self, cur, k) {
                return false;
            }
        }
        cur.ws();
        cur.eat(b'}')
    }

    /// An array into a list column; `item` reads each element into the item column.
    #[inline(always)]
    fn items(
        &mut self,
        cur: &mut Cursor<'_>,
        col: &mut Col,
        mut item: impl FnMut(&mut Self, &mut Cursor<'_>, &mut Col) -> bool,
    ) -> bool {
        let Col::List {
            offsets,
            nulls,
            item: items,
            ..
        } = col
        else {
            return false;
        };
        if !cur.eat(b'[') {
            return false;
        }
        cur.ws();
        let mut count = 0i32;
        if !cur.eat(b']') {
            loop {
                if !item(self, cur, items) {
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
        offsets.push(offsets.last().copied().unwrap_or(0) + count);
        nulls.append_non_null();
        true
    }

    #[inline(always)]
    fn boolean(cur: &mut Cursor<'_>, col: &mut Col) -> bool {
        let Col::Bool(b) = col else {
            return false;
        };
        // Both literals tested at once from one word: which one it is decides no branch
        // (flags are as often true as false).
        let v = match cur.b.get(cur.i..cur.i + 8) {
            Some(w) => {
                let w = word(w, 0);
                let is_true = w & 0xFFFF_FFFF == u64::from(u32::from_le_bytes(*b"true"));
                let is_false = w & 0xFF_FFFF_FFFF == u64::from_le_bytes(*b"false\0\0\0");
                if !(is_true | is_false) {
                    return false;
                }
                cur.i += 4 + usize::from(is_false);
                is_true
            }
            None if cur.literal(b"true") => true,
            None if cur.literal(b"false") => false,
            None => return false,
        };
        b.append_value(v);
        true
    }

    fn string(&mut self, cur: &mut Cursor<'_>, col: &mut Col) -> bool {
        match col {
            Col::Str(b) => cur.string(b, &mut self.text),
            _ => false,
        }
    }

    /// A schemaless value of the shape's kind `kind` (not an object: those are steps of the
    /// shape's program).
    fn value(&mut self, cur: &mut Cursor<'_>, kind: &ConnectSchema, col: &mut Col) -> bool {
        let Some(&c) = cur.b.get(cur.i) else {
            return false;
        };
        if c == b'n' {
            if !cur.literal(b"null") {
                return false;
            }
            col.append_null();
            return true;
        }
        match (kind.schema_type, &mut *col) {
            (SchemaType::Int64, Col::I64(b)) => cur.long_into(b),
            (SchemaType::Float64, Col::F64(b)) => cur.double_into(b),
            (SchemaType::Boolean, _) => Self::boolean(cur, col),
            (SchemaType::String, _) => self.string(cur, col),
            (SchemaType::Array, _) => {
                let Some(item) = kind.value.as_deref() else {
                    return false;
                };
                // Lists of strings (tags, codes) read their strings without the dispatch.
                self.items(cur, col, |me, cur, c| match c {
                    Col::Str(b) if cur.b.get(cur.i) == Some(&b'"') => cur.string(b, &mut me.text),
                    _ => cur.detached(|cur| me.value(cur, item, c)),
                })
            }
            _ => false,
        }
    }

    /// The value at the cursor against `s`, with the conditions of the tape path's `fits`.
    fn typed(
        &mut self,
        cur: &mut Cursor<'_>,
        cfg: &JsonConfig,
        s: &ConnectSchema,
        leads: Option<&Leads>,
        col: &mut Col,
    ) -> bool {
        let Some(&c) = cur.b.get(cur.i) else {
            return false;
        };
        if c == b'n' {
            // A null that a default would replace, or in a required field: general path.
            if !(s.optional && (s.default.is_none() || !cfg.replace_null_with_default)) {
                return false;
            }
            if !cur.literal(b"null") {
                return false;
            }
            col.append_null();
            return true;
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
                        let Col::F64(b) = col else {
                            return false;
                        };
                        b.append_value(if d == 0.0 { 0.0 } else { d });
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
                col.append_int(v);
                true
            }
            (Some(_), _) => false,
            (None, SchemaType::Boolean) => Self::boolean(cur, col),
            (None, SchemaType::String) => self.string(cur, col),
            (None, SchemaType::Array) => {
                let Some(item) = s.value.as_deref() else {
                    return false;
                };
                self.items(cur, col, |me, cur, c| me.typed(cur, cfg, item, leads, c))
            }
            (None, SchemaType::Struct) => {
                let Col::Struct {
                    children, nulls, ..
                } = col
                else {
                    return false;
                };
                // Leads are built from this schema; a mismatch would be a caller's mistake,
                // which the general path absorbs instead of an index panic.
                let Some(leads) = leads.filter(|l| l.leads.len() == s.fields.len()) else {
                    return false;
                };
                let ok = self.members(
                    cur,
                    s.fields.len(),
                    |k| &leads.leads[k],
                    |me, cur, k| {
                        let child = leads.children[k].as_ref();
                        me.typed(cur, cfg, &s.fields[k].schema, child, &mut children[k])
                    },
                );
                if ok {
                    nulls.append_non_null();
                }
                ok
            }
            _ => false,
        }
    }
}

/// A schemaless shape compiled to one flat list of steps, so a conforming row is read in one
/// loop without recursion or per-member lookups: each step matches a member's opening bytes
/// with one masked compare and reads the value straight into its column. While rows are read
/// this way the columns are lent out of the shape's column tree (`lend`), and given back
/// (`restore`) before anything else touches the tree.
pub(crate) struct ShapeProgram {
    steps: Vec<Step>,
    /// Each column slot's place in the tree (child indices from the root).
    col_paths: Vec<Vec<usize>>,
    /// Each column slot's schema, for values the step does not read itself (nulls, lists).
    schemas: Vec<ConnectSchema>,
    /// Each struct's place in the tree (the root's is empty), for its validity.
    struct_paths: Vec<Vec<usize>>,
    /// The lent columns, and the lent validity of each struct.
    cols: Vec<Col>,
    structs: Vec<NullBufferBuilder>,
    lent: bool,
    reader: DirectReader,
}

impl std::fmt::Debug for ShapeProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShapeProgram")
            .field("steps", &self.steps)
            .field("lent", &self.lent)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Step {
    /// The bytes that open the step (up to 16 of them in `lead`, first byte lowest; `mask`
    /// keeps those), as compact JSON has them.
    lead: u128,
    mask: u128,
    text: Box<[u8]>,
    op: Op,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Str(usize),
    Long(usize),
    Double(usize),
    Bool(usize),
    StrList(usize),
    /// Any other value of the slot's kind.
    Value(usize),
    /// A nested object member: `null` (then every slot in `cols` and struct in `structs`, its
    /// own first, gets a null and the steps go on at `end`), or the members that follow.
    Open {
        structs: (usize, usize),
        cols: (usize, usize),
        end: usize,
    },
    /// The `{` of an object without members.
    Brace,
    /// The `}` of a struct, which then has a row.
    Close(usize),
}

impl Step {
    fn new(text: &[u8], op: Op) -> Self {
        let n = text.len().min(16);
        Step {
            lead: crate::json::text::padded_word(text),
            mask: if n == 16 {
                u128::MAX
            } else {
                (1u128 << (8 * n)) - 1
            },
            text: text.into(),
            op,
        }
    }
}

impl ShapeProgram {
    pub(crate) fn new(shape: &Shape) -> Self {
        let mut p = ShapeProgram {
            steps: Vec::new(),
            col_paths: Vec::new(),
            schemas: Vec::new(),
            struct_paths: Vec::new(),
            cols: Vec::new(),
            structs: Vec::new(),
            lent: false,
            reader: DirectReader::default(),
        };
        p.object(shape, &mut Vec::new());
        p.cols = (0..p.col_paths.len())
            .map(|_| Col::Bool(Default::default()))
            .collect();
        p.structs = (0..p.struct_paths.len())
            .map(|_| NullBufferBuilder::new(0))
            .collect();
        p
    }

    fn object(&mut self, shape: &Shape, path: &mut Vec<usize>) {
        let strukt = self.struct_paths.len();
        self.struct_paths.push(path.clone());
        if shape.json_order.is_empty() {
            self.steps.push(Step::new(b"{", Op::Brace));
        }
        for (k, &child) in shape.json_order.iter().enumerate() {
            let lead = &shape.leads[k];
            let schema = &shape.schema.fields[child].schema;
            path.push(child);
            match &shape.nested[child] {
                Some(inner) => {
                    let at = self.steps.len();
                    self.steps.push(Step::new(lead, Op::Brace));
                    let (structs, cols) = (self.struct_paths.len(), self.col_paths.len());
                    self.object(inner, path);
                    self.steps[at].op = Op::Open {
                        structs: (structs, self.struct_paths.len()),
                        cols: (cols, self.col_paths.len()),
                        end: self.steps.len(),
                    };
                }
                None => {
                    let slot = self.col_paths.len();
                    self.col_paths.push(path.clone());
                    self.schemas.push((**schema).clone());
                    let op = match schema.schema_type {
                        SchemaType::String => Op::Str(slot),
                        SchemaType::Int64 => Op::Long(slot),
                        SchemaType::Float64 => Op::Double(slot),
                        SchemaType::Boolean => Op::Bool(slot),
                        SchemaType::Array
                            if schema
                                .value
                                .as_deref()
                                .is_some_and(|i| i.schema_type == SchemaType::String) =>
                        {
                            Op::StrList(slot)
                        }
                        _ => Op::Value(slot),
                    };
                    self.steps.push(Step::new(lead, op));
                }
            }
            path.pop();
        }
        self.steps.push(Step::new(b"}", Op::Close(strukt)));
    }

    /// Takes the columns out of `root` (the tree built from this program's shape) for
    /// `read`; `false` if the tree does not have this shape.
    pub(crate) fn lend(&mut self, root: &mut Col) -> bool {
        if !self.lent {
            if !self.swap_all(root) {
                return false;
            }
            self.lent = true;
        }
        true
    }

    /// Puts the lent columns back into `root`.
    pub(crate) fn restore(&mut self, root: &mut Col) {
        if self.lent {
            self.swap_all(root);
            self.lent = false;
        }
    }

    fn swap_all(&mut self, root: &mut Col) -> bool {
        fn at<'c>(mut col: &'c mut Col, path: &[usize]) -> Option<&'c mut Col> {
            for &child in path {
                let Col::Struct { children, .. } = col else {
                    return None;
                };
                col = children.get_mut(child)?;
            }
            Some(col)
        }
        let fits = self.col_paths.iter().all(|p| at(root, p).is_some())
            && self
                .struct_paths
                .iter()
                .all(|p| matches!(at(root, p), Some(Col::Struct { .. })));
        if !fits {
            return false;
        }
        for (path, col) in self.col_paths.iter().zip(&mut self.cols) {
            if let Some(c) = at(root, path) {
                std::mem::swap(c, col);
            }
        }
        for (path, nulls) in self.struct_paths.iter().zip(&mut self.structs) {
            if let Some(Col::Struct { nulls: n, .. }) = at(root, path) {
                std::mem::swap(n, nulls);
            }
        }
        true
    }

    /// Appends `row` (at `src`) as row `rows` of the lent columns when it fits the shape;
    /// otherwise leaves them as they were and returns `false`, for the general path.
    pub(crate) fn read(&mut self, row: &[u8], src: Source<'_>, rows: usize) -> bool {
        if !self.lent {
            return false;
        }
        let mut cur = Cursor { b: row, i: 0, src };
        cur.ws();
        let ok = self.run(&mut cur) && {
            cur.ws();
            cur.i == row.len()
        };
        if !ok {
            self.cols.iter_mut().for_each(|c| c.truncate(rows));
            self.structs.iter_mut().for_each(|n| n.truncate(rows));
        }
        ok
    }

    fn run(&mut self, cur: &mut Cursor<'_>) -> bool {
        let Self {
            steps,
            schemas,
            cols,
            structs,
            reader,
            ..
        } = self;
        let mut pc = 0;
        while let Some(step) = steps.get(pc) {
            pc += 1;
            if !cur.lead(step) {
                return false;
            }
            let ok = match step.op {
                Op::Str(slot) => match (&mut cols[slot], cur.peek()) {
                    (Col::Str(b), Some(b'"')) => cur.string(b, &mut reader.text),
                    (col, _) => cur.detached(|cur| reader.slow_value(cur, &schemas[slot], col)),
                },
                Op::Long(slot) => match (&mut cols[slot], cur.peek()) {
                    (Col::I64(b), Some(b'-' | b'0'..=b'9')) => cur.long_into(b),
                    (col, _) => cur.detached(|cur| reader.slow_value(cur, &schemas[slot], col)),
                },
                Op::Double(slot) => match (&mut cols[slot], cur.peek()) {
                    (Col::F64(b), Some(b'-' | b'0'..=b'9')) => cur.double_into(b),
                    (col, _) => cur.detached(|cur| reader.slow_value(cur, &schemas[slot], col)),
                },
                Op::Bool(slot) => match (&mut cols[slot], cur.peek()) {
                    (col @ Col::Bool(_), Some(b't' | b'f')) => {
                        cur.detached(|cur| DirectReader::boolean(cur, col))
                    }
                    (col, _) => cur.detached(|cur| reader.slow_value(cur, &schemas[slot], col)),
                },
                Op::StrList(slot) => match (&mut cols[slot], cur.peek()) {
                    (col, Some(b'[')) => {
                        let item = &schemas[slot];
                        reader.items(cur, col, |me, cur, c| match c {
                            Col::Str(b) if cur.peek() == Some(b'"') => cur.string(b, &mut me.text),
                            _ => cur.detached(|cur| {
                                me.value(cur, item.value.as_deref().unwrap_or(item), c)
                            }),
                        })
                    }
                    (col, _) => cur.detached(|cur| reader.slow_value(cur, &schemas[slot], col)),
                },
                Op::Value(slot) => {
                    cur.detached(|cur| reader.slow_value(cur, &schemas[slot], &mut cols[slot]))
                }
                Op::Open {
                    structs: (s0, s1),
                    cols: (c0, c1),
                    end,
                } => {
                    cur.ws();
                    if cur.peek() == Some(b'n') {
                        if !cur.literal(b"null") {
                            return false;
                        }
                        structs[s0..s1].iter_mut().for_each(|n| n.append_null());
                        cols[c0..c1].iter_mut().for_each(Col::append_null);
                        pc = end;
                    }
                    true
                }
                Op::Brace => true,
                Op::Close(strukt) => {
                    structs[strukt].append_non_null();
                    true
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }
}

impl Cursor<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The step's opening bytes: compact JSON with one masked compare of 16 bytes, anything
    /// else step by step (whitespace around the opener, the quoted key and the colon).
    #[inline(always)]
    fn lead(&mut self, step: &Step) -> bool {
        let n = step.text.len();
        if n <= 16
            && let Some(chunk) = self
                .b
                .get(self.i..self.i + 16)
                .and_then(|c| <[u8; 16]>::try_from(c).ok())
            && (u128::from_le_bytes(chunk) ^ step.lead) & step.mask == 0
        {
            self.i += n;
            return true;
        }
        self.literal(&step.text) || self.detached(|c| c.lead_slow(&step.text))
    }

    #[inline(never)]
    fn lead_slow(&mut self, text: &[u8]) -> bool {
        let Some((&opener, rest)) = text.split_first() else {
            return true;
        };
        self.ws();
        if !self.eat(opener) {
            return false;
        }
        // `{` or `}` alone, or `{` / `,` then the quoted key and the colon.
        let Some(quoted) = rest.strip_suffix(b":") else {
            return rest.is_empty();
        };
        self.ws();
        if !self.literal(quoted) {
            return false;
        }
        self.ws();
        self.eat(b':')
    }
}

impl DirectReader {
    /// A member value the step's own reader does not take (after whitespace, a null, another
    /// kind): the general value reader, which declines what does not fit the slot.
    #[inline(never)]
    fn slow_value(&mut self, cur: &mut Cursor<'_>, kind: &ConnectSchema, col: &mut Col) -> bool {
        cur.ws();
        self.value(cur, kind, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Option<Result<i64, f64>> {
        Cursor {
            b: text.as_bytes(),
            i: 0,
            src: Source::NONE,
        }
        .number()
    }

    #[test]
    fn string_scan_finds_the_first_stop_byte_like_a_byte_loop() {
        let reference = |b: &[u8]| {
            let at = b
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            Some((at, b[..at].iter().any(|&c| c >= 0x80)))
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x1F, 0x20, 0x7F, 0x80, 0xC3, 0xA9, 0xFF, 0x00, 0x21,
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..80 {
            for n in 0..300u64 {
                // Mostly plain letters, so stop bytes land anywhere in a word or chunk.
                let rarity = 5 + n % 40;
                let b: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        if seed.is_multiple_of(rarity) {
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
    fn digit_runs_agree_with_a_byte_loop() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes: Vec<u8> = (0..8)
                .map(|k| {
                    let r = (seed >> (8 * k)) as u8;
                    match r % 8 {
                        0 => [b'/', b':', b'.', b'e', 0x00, 0xFF, b'-', 0x80][(r / 8 % 8) as usize],
                        _ => b'0' + r % 10,
                    }
                })
                .collect();
            let n = bytes.iter().take_while(|c| c.is_ascii_digit()).count();
            let v = bytes[..n]
                .iter()
                .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
            assert_eq!(digit_run(word(&bytes, 0)), (n, v), "{bytes:?}");
        }
    }

    #[test]
    fn short_compares_agree_with_slice_equality() {
        let text = b"abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..=24 {
            for a in 0..4 {
                for b in 0..4 {
                    let (x, y) = (&text[a..a + n], &text[b..b + n]);
                    assert_eq!(same_bytes(x, y), x == y, "{n} {a} {b}");
                }
            }
            let mut changed = text[..n].to_vec();
            for at in 0..n {
                changed[at] ^= 1;
                assert!(!same_bytes(&text[..n], &changed), "{n} {at}");
                changed[at] ^= 1;
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
            b: b"01",
            i: 0,
            src: Source::NONE,
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

    #[test]
    fn booleans_read_from_a_word_or_byte_by_byte_near_the_end() {
        let read = |json: &str| {
            let mut col = Col::Bool(Default::default());
            let mut c = Cursor {
                b: json.as_bytes(),
                i: 0,
                src: Source::NONE,
            };
            let ok = DirectReader::boolean(&mut c, &mut col);
            let Col::Bool(mut b) = col else {
                unreachable!()
            };
            let a = b.finish();
            ok.then(|| (a.value(0), c.i))
        };
        // Eight bytes ahead (one word) and fewer (the byte-wise literals).
        assert_eq!(read("true,\"more\""), Some((true, 4)));
        assert_eq!(read("false,\"more\""), Some((false, 5)));
        assert_eq!(read("true}"), Some((true, 4)));
        assert_eq!(read("false}"), Some((false, 5)));
        assert_eq!(read("true"), Some((true, 4)));
        for bad in [
            "tru",
            "fals",
            "trUe,\"more\"",
            "fAlse,\"more\"",
            "null,\"more\"",
            "t",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    fn string(json: &str) -> Option<String> {
        use arrow::array::Array;
        let mut text = String::new();
        let mut col = StrCol::new();
        let mut c = Cursor {
            b: json.as_bytes(),
            i: 0,
            src: Source::NONE,
        };
        if !c.string(&mut col, &mut text) {
            return None;
        }
        let a = col.finish();
        assert_eq!(a.len(), 1);
        Some(a.value(0).to_string())
    }

    #[test]
    fn strings_that_are_not_utf8_are_declined() {
        let read = |bytes: &[u8]| {
            let mut c = Cursor {
                b: bytes,
                i: 0,
                src: Source::NONE,
            };
            c.string(&mut StrCol::new(), &mut String::new())
        };
        assert!(read(b"\"caf\xc3\xa9 and a longer tail\""));
        for bad in [
            &b"\"ab\xff\""[..],
            b"\"a long plain start then \xc3\"",
            b"\"escaped \\n then \xe2\x82\"",
            b"\"\xed\xa0\x80 encoded surrogate\"",
        ] {
            assert!(!read(bad), "{bad:?}");
        }
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
