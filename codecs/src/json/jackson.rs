//! A JSON reader that behaves like Kafka Connect's Jackson 2.16 setup: leading zeros accepted,
//! content after the first value ignored, duplicate keys keep the last value (at the first
//! key's position), floating-point numbers kept as exact decimal text, integers classified as
//! Jackson's int/long/big-integer nodes, a UTF-8 BOM skipped and UTF-16/32 input detected.
//! Its tree answers the same accessor questions (`intValue()`, `isInt()`, ...) as a `JsonNode`,
//! which JsonConverter's conversions depend on.

/// A parsed JSON node, mirroring Jackson's node classes.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    /// No content at all (Jackson's `MissingNode`, e.g. empty input).
    Missing,
    Bool(bool),
    /// An integral number, as written (optional sign, digits, leading zeros kept).
    Int(String),
    /// A floating-point number, as written (fraction and/or exponent).
    Decimal(String),
    String(String),
    /// A string holding an unpaired surrogate (`"\ud800"`), which Jackson keeps in its Java
    /// string and a Rust string cannot: the UTF-16 code units.
    Utf16(Vec<u16>),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// Why input is not JSON; Kafka reports only that it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: &'static str,
}

impl Node {
    /// Jackson's `getNodeType()` name.
    pub fn node_type(&self) -> &'static str {
        match self {
            Node::Null => "NULL",
            Node::Missing => "MISSING",
            Node::Bool(_) => "BOOLEAN",
            Node::Int(_) | Node::Decimal(_) => "NUMBER",
            Node::String(_) | Node::Utf16(_) => "STRING",
            Node::Array(_) => "ARRAY",
            Node::Object(_) => "OBJECT",
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_null_or_missing(&self) -> bool {
        matches!(self, Node::Null | Node::Missing)
    }

    /// `isInt()`: an integral number that fits in an `int`.
    pub fn is_int(&self) -> bool {
        matches!(self, Node::Int(t) if t.parse::<i32>().is_ok() || strip_zeros(t).parse::<i32>().is_ok())
    }

    /// `isIntegralNumber()`.
    pub fn is_integral(&self) -> bool {
        matches!(self, Node::Int(_))
    }

    /// `longValue()`: numbers convert (truncating, keeping the low 64 bits as Java's
    /// narrowing does); other nodes give 0.
    pub fn long_value(&self) -> i64 {
        match self {
            Node::Int(t) => wrapping_parse(t),
            Node::Decimal(t) => decimal_to_long(t),
            _ => 0,
        }
    }

    /// `intValue()`: the low 32 bits of the truncated value, as Java's narrowing keeps them.
    pub fn int_value(&self) -> i32 {
        self.long_value() as i32
    }

    /// `doubleValue()`.
    pub fn double_value(&self) -> f64 {
        match self {
            // BigDecimal has no negative zero: "-0.0" reads as 0.0.
            Node::Int(t) | Node::Decimal(t) => t
                .parse::<f64>()
                .map_or(0.0, |d| if d == 0.0 { 0.0 } else { d }),
            _ => 0.0,
        }
    }

    /// `floatValue()`.
    pub fn float_value(&self) -> f32 {
        match self {
            Node::Int(t) | Node::Decimal(t) => t
                .parse::<f32>()
                .map_or(0.0, |d| if d == 0.0 { 0.0 } else { d }),
            _ => 0.0,
        }
    }

    /// `booleanValue()`: false for anything but `true`.
    pub fn boolean_value(&self) -> bool {
        matches!(self, Node::Bool(true))
    }

    /// `textValue()`: only for strings.
    pub fn text_value(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }
}

/// `text` as UTF-16 with each unpaired surrogate put back at its byte position.
pub(crate) fn utf16_with_surrogates(text: &str, lone: &[(usize, u16)]) -> Vec<u16> {
    let mut units = Vec::with_capacity(text.len() + lone.len());
    let mut from = 0;
    for &(at, unit) in lone {
        units.extend(text[from..at].encode_utf16());
        units.push(unit);
        from = at;
    }
    units.extend(text[from..].encode_utf16());
    units
}

fn strip_zeros(t: &str) -> String {
    let (sign, digits) = t.strip_prefix('-').map_or(("", t), |d| ("-", d));
    let d = digits.trim_start_matches('0');
    format!("{sign}{}", if d.is_empty() { "0" } else { d })
}

/// Decimal digits to i64 keeping the low 64 bits (`BigInteger.longValue()`).
fn wrapping_parse(t: &str) -> i64 {
    let (neg, digits) = t.strip_prefix('-').map_or((false, t), |d| (true, d));
    let mut v: u64 = 0;
    for b in digits.bytes() {
        v = v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    if neg {
        (v as i64).wrapping_neg()
    } else {
        v as i64
    }
}

/// `BigDecimal.longValue()`: drop the fraction, keep the low 64 bits of the integer part.
fn decimal_to_long(t: &str) -> i64 {
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (t, 0),
    };
    let (neg, m) = mantissa
        .strip_prefix('-')
        .map_or((false, mantissa), |d| (true, d));
    let (int_part, frac_part) = m.split_once('.').unwrap_or((m, ""));
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i64 + exp;
    let int_digits: String = if point <= 0 {
        "0".into()
    } else if point as usize >= digits.len() {
        // Huge exponents only add zeros; low 64 bits of x·10^k, computed by wrapping.
        let zeros = (point as usize - digits.len()).min(100);
        format!("{digits}{}", "0".repeat(zeros))
    } else {
        digits[..point as usize].to_string()
    };
    let v = wrapping_parse(&int_digits);
    if neg { v.wrapping_neg() } else { v }
}

/// Parses `bytes` as Jackson would read a tree from them.
pub fn parse(bytes: &[u8]) -> Result<Node, ParseError> {
    let text = decode_text(bytes)?;
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.skip_ws();
    if p.i >= p.s.len() {
        return Ok(Node::Missing);
    }
    let node = p.value(0)?;
    // Jackson stops after the first value and does not read what follows, except that a
    // root-level number must be followed by white space or the end (`0x10` is an error).
    if matches!(node, Node::Int(_) | Node::Decimal(_))
        && p.peek()
            .is_some_and(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return p.err("expected space separating root-level values");
    }
    Ok(node)
}

/// Detects the encoding like Jackson's `ByteSourceJsonBootstrapper` and returns UTF-8 text.
/// As there, a byte-order mark is looked for only when at least four bytes are present
/// (`FF FE 00` is three bytes of invalid UTF-8, not an empty UTF-16 document), and input
/// that ends inside a UTF-16 or UTF-32 character fails rather than losing its tail.
fn decode_text(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, ParseError> {
    let bad = |reason| ParseError { offset: 0, reason };
    let b = bytes;
    let utf16 = |be: bool, body: &[u8]| -> Result<std::borrow::Cow<'_, str>, ParseError> {
        if !body.len().is_multiple_of(2) {
            // Java's decoder turns the odd byte into U+FFFD, which no JSON document accepts.
            return Err(bad("input ends inside a UTF-16 character"));
        }
        let units = body.chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        String::from_utf16(&units.collect::<Vec<_>>())
            .map(Into::into)
            .map_err(|_| bad("invalid UTF-16"))
    };
    let utf32 = |be: bool, body: &[u8]| -> Result<std::borrow::Cow<'_, str>, ParseError> {
        if !body.len().is_multiple_of(4) {
            return Err(bad("Unexpected EOF in the middle of a 4-byte UTF-32 char"));
        }
        body.chunks_exact(4)
            .map(|c| {
                let v = if be {
                    u32::from_be_bytes([c[0], c[1], c[2], c[3]])
                } else {
                    u32::from_le_bytes([c[0], c[1], c[2], c[3]])
                };
                char::from_u32(v).ok_or(bad("invalid UTF-32"))
            })
            .collect::<Result<String, _>>()
            .map(Into::into)
    };
    if let [q0, q1, q2, q3, ..] = *b {
        let quad = u32::from_be_bytes([q0, q1, q2, q3]);
        // handleBOM
        match quad {
            0x0000_FEFF => return utf32(true, &b[4..]),
            0xFFFE_0000 => return utf32(false, &b[4..]),
            0x0000_FFFE | 0xFEFF_0000 => return Err(bad("Unsupported UCS-4 endianness")),
            _ => {}
        }
        match quad >> 16 {
            0xFEFF => return utf16(true, &b[2..]),
            0xFFFE => return utf16(false, &b[2..]),
            _ => {}
        }
        if quad >> 8 == 0x00EF_BBBF {
            return std::str::from_utf8(&b[3..])
                .map(Into::into)
                .map_err(|_| bad("invalid UTF-8"));
        }
        // checkUTF32
        if quad >> 8 == 0 {
            return utf32(true, b);
        }
        if quad & 0x00FF_FFFF == 0 {
            return utf32(false, b);
        }
        if quad & !0x00FF_0000 == 0 || quad & !0x0000_FF00 == 0 {
            return Err(bad("Unsupported UCS-4 endianness"));
        }
    }
    // checkUTF16 on the first two bytes (of four or more, or of two or three).
    if let [x, y, ..] = *b {
        if x == 0 {
            return utf16(true, b);
        }
        if y == 0 {
            return utf16(false, b);
        }
    }
    std::str::from_utf8(b)
        .map(Into::into)
        .map_err(|e| ParseError {
            offset: e.valid_up_to(),
            reason: "invalid UTF-8",
        })
}

const MAX_DEPTH: usize = 1000;
/// Jackson's default `StreamReadConstraints.maxNumberLength`.
const MAX_NUMBER_DIGITS: usize = 1000;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err<T>(&self, reason: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.i,
            reason,
        })
    }

    fn skip_ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// `depth` counts the arrays and objects around this value.
    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        match self.peek() {
            None => self.err("unexpected end of input"),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let (text, lone) = self.string()?;
                Ok(if lone.is_empty() {
                    Node::String(text)
                } else {
                    Node::Utf16(utf16_with_surrogates(&text, &lone))
                })
            }
            Some(b't') => self.literal(b"true", Node::Bool(true)),
            Some(b'f') => self.literal(b"false", Node::Bool(false)),
            Some(b'n') => self.literal(b"null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => self.err("unexpected character"),
        }
    }

    fn literal(&mut self, word: &[u8], node: Node) -> Result<Node, ParseError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            // Jackson rejects a literal glued to identifier characters (`truex`).
            if self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                return self.err("unrecognized token");
            }
            Ok(node)
        } else {
            self.err("unrecognized token")
        }
    }

    fn number(&mut self) -> Result<Node, ParseError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == int_start {
            return self.err("no digits in number");
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.i += 1;
            let f = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if self.i == f {
                return self.err("no digits after decimal point");
            }
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let e = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if self.i == e {
                return self.err("no digits in exponent");
            }
            is_float = true;
        }
        // Jackson's StreamReadConstraints: at most 1000 digits in a number (integer part,
        // fraction and exponent together, an exponent counting one more), sign and point
        // not counted.
        let token = &self.s[start..self.i];
        let digits = token.iter().filter(|c| c.is_ascii_digit()).count()
            + usize::from(token.iter().any(|c| matches!(c, b'e' | b'E')));
        if digits > MAX_NUMBER_DIGITS {
            return self.err("number longer than 1000 digits");
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(if is_float {
            Node::Decimal(text)
        } else {
            Node::Int(text)
        })
    }

    /// A string's text, and the unpaired surrogates left out of it as (byte position in the
    /// text, code unit).
    fn string(&mut self) -> Result<(String, Vec<(usize, u16)>), ParseError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        let mut lone = Vec::new();
        let mut run = self.i;
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            match c {
                b'"' => {
                    out.push_str(std::str::from_utf8(&self.s[run..self.i]).map_err(|_| {
                        ParseError {
                            offset: run,
                            reason: "invalid UTF-8",
                        }
                    })?);
                    self.i += 1;
                    return Ok((out, lone));
                }
                b'\\' => {
                    out.push_str(std::str::from_utf8(&self.s[run..self.i]).map_err(|_| {
                        ParseError {
                            offset: run,
                            reason: "invalid UTF-8",
                        }
                    })?);
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(
                                        0x10000
                                            + ((u32::from(hi) - 0xD800) << 10)
                                            + (u32::from(lo) - 0xDC00),
                                    )
                                } else {
                                    self.i = save;
                                    None
                                }
                            } else {
                                char::from_u32(u32::from(hi))
                            };
                            match ch {
                                Some(ch) => out.push(ch),
                                None => lone.push((out.len(), hi)),
                            }
                        }
                        _ => return self.err("unrecognized escape"),
                    }
                    run = self.i;
                }
                0x00..=0x1F => return self.err("unescaped control character in string"),
                _ => self.i += 1,
            }
        }
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        match h {
            Some(v) => {
                self.i += 4;
                Ok(v)
            }
            None => self.err("bad unicode escape"),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, ParseError> {
        // StreamReadConstraints.maxNestingDepth: the 1001st open container fails.
        if depth >= MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Node::Array(items));
                }
                _ => return self.err("expected , or ] in array"),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth >= MAX_DEPTH {
            return self.err("nesting too deep");
        }
        self.i += 1;
        let mut members: Vec<(String, Node)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Node::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return self.err("expected a field name");
            }
            // Object keys are Rust strings: an unpaired surrogate in a key becomes U+FFFD.
            let (mut key, lone) = self.string()?;
            for &(at, _) in lone.iter().rev() {
                key.insert(at, '\u{FFFD}');
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.err("expected : after field name");
            }
            self.i += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => members.push((key, value)),
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Node::Object(members));
                }
                _ => return self.err("expected , or } in object"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Kafka 4.3's JsonConverter (Jackson 2.21) does with each input, asked of the real
    /// jars: `Some(text)` parses to the same node as `text`, `None` fails the record.
    #[test]
    fn byte_source_encoding_detection_matches_jackson() {
        let cases: &[(&str, Option<&str>)] = &[
            ("fffe00", None), // three bytes: no BOM check, invalid UTF-8
            ("fffe", None),
            ("efbbbf", None),
            ("fffe3100", Some("1")),
            ("feff0031", Some("1")),
            ("efbbbf31", Some("1")),
            ("0031", Some("1")),
            ("3100", Some("1")),
            ("00310041", None),
            ("310041", None),     // ends inside a UTF-16LE character
            ("fffe310041", None), // the same after a BOM
            ("31000000", Some("1")),
            ("00000031", Some("1")),
            ("0000feff00000031", Some("1")),
            ("fffe000031000000", Some("1")),
            ("fffe0000310000", None), // ends inside a UTF-32 character
            ("0000fffe", None),       // UCS-4 2143
            ("3412", None),
            ("d800", None),
            ("22003dd82200", None), // an unpaired surrogate inside a UTF-16 string
        ];
        for (hex, want) in cases {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let got = parse(&bytes).ok();
            let want = want.map(|t| parse(t.as_bytes()).unwrap());
            assert_eq!(got, want, "{hex}");
            // Through the converter: a record Kafka fails is never a value (FF FE 00 used to
            // become null).
            let cfg = crate::json::connect::JsonConfig {
                schemas_enable: false,
                ..Default::default()
            };
            let converted = crate::json::connect::to_connect_data(&cfg, Some(&bytes));
            assert_eq!(converted.is_ok(), want.is_some(), "{hex}: {converted:?}");
        }
    }

    #[test]
    fn jackson_leniencies() {
        assert_eq!(parse(b"007").unwrap(), Node::Int("007".into()));
        assert_eq!(parse(b"1 2 garbage").unwrap(), Node::Int("1".into()));
        assert_eq!(
            parse(br#"{"a":1,"b":2,"a":3}"#).unwrap(),
            Node::Object(vec![
                ("a".into(), Node::Int("3".into())),
                ("b".into(), Node::Int("2".into()))
            ])
        );
        assert_eq!(parse(b"").unwrap(), Node::Missing);
        assert_eq!(parse(b"  ").unwrap(), Node::Missing);
        assert_eq!(
            parse(b"\xEF\xBB\xBF\"x\"").unwrap(),
            Node::String("x".into())
        );
        assert_eq!(parse(&[0, b'1']).unwrap(), Node::Int("1".into()));
        assert_eq!(
            parse(br#""\uD83D\uDE00""#).unwrap(),
            Node::String("😀".into())
        );
        for bad in [
            &b"[1,2"[..],
            b"tru",
            b"NaN",
            b"[1,]",
            b"/* c */ 1",
            b".5",
            b"+1",
            b"{'a':1}",
            b"\"a\nb\"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse(b"0x10").is_err());
        assert_eq!(
            parse(br#"{"a":1}xyz"#).unwrap(),
            Node::Object(vec![("a".into(), Node::Int("1".into()))])
        );
    }

    #[test]
    fn numeric_accessors_narrow_like_java() {
        let n = |t: &str| parse(t.as_bytes()).unwrap();
        assert_eq!(n("300").int_value() as i8, 44);
        assert_eq!(n("4294967297").int_value(), 1);
        assert!(!n("4294967297").is_int());
        assert!(n("007").is_int());
        assert_eq!(n("1.9").long_value(), 1);
        assert_eq!(n("-1.9e1").long_value(), -19);
        assert_eq!(n("18446744073709551617").long_value(), 1);
        assert_eq!(n("1e-5").int_value(), 0);
        assert!((n("0.1").double_value() - 0.1).abs() < f64::EPSILON);
    }
}
