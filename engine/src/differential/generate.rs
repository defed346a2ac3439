//! Random but valid-looking cases in the corpus line format: a connector config drawn from
//! the keys every converter, header converter, SMT and predicate accepts (valid values mostly,
//! invalid ones sometimes), and records of every Connect type, schema'd and schemaless, with
//! nulls, defaults, logical types, odd encodings, malformed bytes and headers. Cases come in
//! groups sharing one config, so sluice runs each group as one batch, as a task would.

use serde_json::{Map, Value as Json, json};

/// splitmix64: small, fast and the same on every machine for a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

/// Field names records use and SMT configs name, so configs hit real fields.
const FIELDS: &[&str] = &[
    "id", "name", "amount", "ts", "tags", "device", "flag", "note", "a", "b",
];
const NESTED: &[&str] = &["os", "version", "a", "id"];
const HEADER_KEYS: &[&str] = &["h", "trace", "origin", "id", "name"];
const TOPICS: &[&str] = &["orders", "orders-eu", "logs.app", "t", "Orders_2024"];
const STRINGS: &[&str] = &[
    "",
    "abc",
    "orders",
    "h\u{e9}llo",
    "\u{1F600}",
    "a\"b",
    "line\nbreak",
    "tab\there",
    "2024-01-05",
    "1234",
    "-7",
    "1.5",
    "true",
    "null",
    "customer-0275413@corp.example.de",
    "back\\slash",
    "\u{0}nul",
    "  spaced  ",
    "[1,2]",
    "{\"a\":1}",
    "\u{7f}\u{80}\u{ff}",
    "caf\u{e9}",
];

const JSON: &str = "org.apache.kafka.connect.json.JsonConverter";
const STRING: &str = "org.apache.kafka.connect.storage.StringConverter";
const BYTES: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
const SIMPLE: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";
/// The number converters and the width of what they read.
const NUMBERS: &[(&str, usize)] = &[
    ("org.apache.kafka.connect.converters.IntegerConverter", 4),
    ("org.apache.kafka.connect.converters.LongConverter", 8),
    ("org.apache.kafka.connect.converters.ShortConverter", 2),
    ("org.apache.kafka.connect.converters.FloatConverter", 4),
    ("org.apache.kafka.connect.converters.DoubleConverter", 8),
    ("org.apache.kafka.connect.converters.BooleanConverter", 1),
];
const ENCODINGS: &[&str] = &[
    "UTF-8",
    "utf8",
    "UTF-16",
    "UTF-16LE",
    "UTF-16BE",
    "ISO-8859-1",
    "US-ASCII",
    "windows-1252",
    "UTF-32",
    "no-such-charset",
];

/// A Connect schema, enough to write an envelope and a matching payload.
#[derive(Clone)]
enum Ty {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Decimal(i32),
    Date,
    Time,
    Timestamp,
    Struct(Vec<(String, Schema)>),
    Array(Box<Schema>),
    Map(Box<Schema>, Box<Schema>),
}

#[derive(Clone)]
struct Schema {
    ty: Ty,
    optional: bool,
    name: Option<String>,
    version: Option<i64>,
    doc: Option<String>,
    /// A default, as JSON text in payload form.
    default: Option<String>,
}

/// What a record's key or value is written as, chosen per group from its converter.
#[derive(Clone)]
enum Shape {
    Envelope(Schema),
    Schemaless,
    Text(&'static str),
    Raw,
    Number(usize),
}

/// One converter role in a group: its config entries and the shape of its bytes.
struct Role {
    props: Vec<(String, String)>,
    shape: Shape,
}

pub struct Generator {
    rng: Rng,
    seed: u64,
    next_id: u64,
}

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed ^ 0x005E_ED0F_D1FF),
            seed,
            next_id: 0,
        }
    }

    /// The next group: 1..=24 case lines sharing one connector config.
    pub fn next_group(&mut self) -> Vec<Json> {
        let r = &mut self.rng;
        let key = role(r, "key.converter", true);
        let value = role(r, "value.converter", false);
        let header = header_role(r);
        let mut config = Map::new();
        for (k, v) in key.props.iter().chain(&value.props).chain(&header.props) {
            config.insert(k.clone(), Json::from(v.as_str()));
        }
        let mut json_compare = [&key, &value, &header]
            .iter()
            .any(|role| matches!(role.shape, Shape::Schemaless));
        chain(r, &mut config, &value.shape);
        let out = if r.chance(20) {
            let mut out = Map::new();
            let which = r.pick(&["key.converter", "value.converter", "header.converter"]);
            let role = if which == "header.converter" {
                header_role(r)
            } else {
                role(r, which, which == "key.converter")
            };
            json_compare |= matches!(role.shape, Shape::Schemaless);
            for (k, v) in role.props {
                out.insert(k, Json::from(v));
            }
            (!out.is_empty()).then_some(out)
        } else {
            None
        };
        let most = if r.chance(30) { 24 } else { 4 };
        let count = 1 + r.below(most);
        let mut lines = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let id = format!("differential/{}/{}", self.seed, self.next_id);
            self.next_id += 1;
            let input = record(&mut self.rng, &key.shape, &value.shape, &header.shape);
            let mut line = Map::new();
            line.insert("id".into(), Json::from(id));
            line.insert("kafka_version".into(), Json::from("4.3.0"));
            line.insert("connector_config".into(), Json::Object(config.clone()));
            if let Some(out) = &out {
                line.insert("out_converters".into(), Json::Object(out.clone()));
            }
            line.insert("input".into(), input);
            line.insert(
                "compare".into(),
                Json::from(if json_compare { "json" } else { "bytes" }),
            );
            lines.push(Json::Object(line));
        }
        lines
    }
}

/// A valid value mostly; an invalid one 4% of the time.
fn one_of(r: &mut Rng, valid: &[&'static str], invalid: &[&'static str]) -> &'static str {
    if r.chance(4) {
        r.pick(invalid)
    } else {
        r.pick(valid)
    }
}

/// A key or value converter with its options.
fn role(r: &mut Rng, prefix: &str, is_key: bool) -> Role {
    let mut props = Vec::new();
    let mut put = |k: &str, v: &str| {
        props.push((
            if k.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}.{k}")
            },
            v.to_string(),
        ))
    };
    let which = r.below(100);
    let shape = if which < 60 {
        put("", JSON);
        let schemas = one_of(r, &["true", "false"], &["TRUE", "False", "yes", ""]);
        if !(schemas == "true" && r.chance(30)) {
            put("schemas.enable", schemas);
        }
        if r.chance(25) {
            put(
                "decimal.format",
                one_of(r, &["BASE64", "NUMERIC", "numeric", "base64"], &["HEX"]),
            );
        }
        if r.chance(15) {
            put(
                "replace.null.with.default",
                one_of(r, &["true", "false"], &["nope"]),
            );
        }
        if r.chance(5) {
            put(
                "schemas.cache.size",
                one_of(r, &["0", "1", "1000", "-1"], &["x"]),
            );
        }
        if schemas.eq_ignore_ascii_case("false") || schemas == "yes" || schemas.is_empty() {
            Shape::Schemaless
        } else {
            Shape::Envelope(schema(r, 0, is_key))
        }
    } else if which < 78 {
        put("", STRING);
        let encoding = if r.chance(40) {
            let e = r.pick(ENCODINGS);
            put("converter.encoding", e);
            e
        } else {
            "UTF-8"
        };
        Shape::Text(encoding)
    } else if which < 88 {
        put("", BYTES);
        Shape::Raw
    } else {
        let (class, width) = r.pick(NUMBERS);
        put("", class);
        Shape::Number(width)
    };
    Role { props, shape }
}

fn header_role(r: &mut Rng) -> Role {
    let mut props = Vec::new();
    let which = r.below(100);
    let shape = if which < 65 {
        if r.chance(50) {
            props.push(("header.converter".into(), SIMPLE.into()));
        }
        Shape::Text("simple")
    } else if which < 80 {
        props.push(("header.converter".into(), JSON.into()));
        let schemas = r.pick(&["true", "false"]);
        props.push(("header.converter.schemas.enable".into(), schemas.into()));
        if schemas == "true" {
            Shape::Envelope(schema(r, 1, false))
        } else {
            Shape::Schemaless
        }
    } else if which < 92 {
        props.push(("header.converter".into(), STRING.into()));
        Shape::Text("UTF-8")
    } else {
        props.push(("header.converter".into(), BYTES.into()));
        Shape::Raw
    };
    Role { props, shape }
}

fn primitive(r: &mut Rng) -> Ty {
    match r.below(13) {
        0 => Ty::Int8,
        1 => Ty::Int16,
        2 => Ty::Int32,
        3 => Ty::Int64,
        4 => Ty::Float32,
        5 => Ty::Float64,
        6 => Ty::Boolean,
        7 | 8 => Ty::String,
        9 => Ty::Bytes,
        10 => Ty::Decimal(r.range(0, 4) as i32),
        11 => match r.below(3) {
            0 => Ty::Date,
            1 => Ty::Time,
            _ => Ty::Timestamp,
        },
        _ => Ty::Int64,
    }
}

fn schema(r: &mut Rng, depth: u32, is_key: bool) -> Schema {
    let ty = if depth == 0 && r.chance(if is_key { 40 } else { 75 }) {
        struct_ty(r, depth)
    } else if depth < 2 && r.chance(20) {
        match r.below(3) {
            0 => struct_ty(r, depth),
            1 => Ty::Array(Box::new(schema(r, depth + 1, false))),
            _ => {
                let key = if r.chance(70) {
                    plain(Ty::String)
                } else {
                    plain(primitive(r))
                };
                Ty::Map(Box::new(key), Box::new(schema(r, depth + 1, false)))
            }
        }
    } else {
        primitive(r)
    };
    let mut s = plain(ty);
    s.optional = r.chance(45);
    if !matches!(s.ty, Ty::Decimal(_) | Ty::Date | Ty::Time | Ty::Timestamp) && r.chance(10) {
        s.name = Some(
            r.pick(&["orders.Order", "com.example.Thing", "x"])
                .to_string(),
        );
    }
    if r.chance(5) {
        s.version = Some(r.range(1, 3));
    }
    if r.chance(5) {
        s.doc = Some("a doc".into());
    }
    if !matches!(s.ty, Ty::Struct(_) | Ty::Array(_) | Ty::Map(..)) && r.chance(20) {
        let mut text = String::new();
        payload(r, &s, &mut text, false);
        if text != "null" {
            s.default = Some(text);
        }
    }
    s
}

fn struct_ty(r: &mut Rng, depth: u32) -> Ty {
    let n = 1 + r.below(if depth == 0 { 6 } else { 3 });
    let names = if depth == 0 { FIELDS } else { NESTED };
    let mut fields: Vec<(String, Schema)> = Vec::new();
    for _ in 0..n {
        let name = r.pick(names).to_string();
        if fields.iter().all(|(f, _)| *f != name) {
            let s = if name == "device" && depth == 0 && r.chance(70) {
                let mut s = plain(struct_ty(r, depth + 1));
                s.optional = r.chance(30);
                s
            } else {
                schema(r, depth + 1, false)
            };
            fields.push((name, s));
        }
    }
    Ty::Struct(fields)
}

fn plain(ty: Ty) -> Schema {
    Schema {
        ty,
        optional: false,
        name: None,
        version: None,
        doc: None,
        default: None,
    }
}

fn schema_json(s: &Schema) -> Json {
    let mut o = Map::new();
    let (ty, name, params): (&str, Option<&str>, Option<Json>) = match &s.ty {
        Ty::Int8 => ("int8", None, None),
        Ty::Int16 => ("int16", None, None),
        Ty::Int32 => ("int32", None, None),
        Ty::Int64 => ("int64", None, None),
        Ty::Float32 => ("float", None, None),
        Ty::Float64 => ("double", None, None),
        Ty::Boolean => ("boolean", None, None),
        Ty::String => ("string", None, None),
        Ty::Bytes => ("bytes", None, None),
        Ty::Decimal(scale) => (
            "bytes",
            Some("org.apache.kafka.connect.data.Decimal"),
            Some(json!({"scale": scale.to_string()})),
        ),
        Ty::Date => ("int32", Some("org.apache.kafka.connect.data.Date"), None),
        Ty::Time => ("int32", Some("org.apache.kafka.connect.data.Time"), None),
        Ty::Timestamp => (
            "int64",
            Some("org.apache.kafka.connect.data.Timestamp"),
            None,
        ),
        Ty::Struct(fields) => {
            o.insert(
                "fields".into(),
                Json::Array(
                    fields
                        .iter()
                        .map(|(f, fs)| {
                            let mut j = schema_json(fs);
                            j["field"] = Json::from(f.as_str());
                            j
                        })
                        .collect(),
                ),
            );
            ("struct", None, None)
        }
        Ty::Array(items) => {
            o.insert("items".into(), schema_json(items));
            ("array", None, None)
        }
        Ty::Map(k, v) => {
            o.insert("keys".into(), schema_json(k));
            o.insert("values".into(), schema_json(v));
            ("map", None, None)
        }
    };
    o.insert("type".into(), Json::from(ty));
    o.insert("optional".into(), Json::from(s.optional));
    if let Some(n) = name.or(s.name.as_deref()) {
        o.insert("name".into(), Json::from(n));
    }
    if let Some(v) = s.version {
        o.insert("version".into(), Json::from(v));
    }
    if let Some(d) = &s.doc {
        o.insert("doc".into(), Json::from(d.as_str()));
    }
    if let Some(p) = params {
        o.insert("parameters".into(), p);
    }
    if let Some(Ok(v)) = s.default.as_deref().map(serde_json::from_str::<Json>) {
        o.insert("default".into(), v);
    }
    Json::Object(o)
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn random_string(r: &mut Rng) -> String {
    if r.chance(70) {
        r.pick(STRINGS).to_string()
    } else {
        let n = r.below(12);
        (0..n)
            .map(|_| r.pick(&['a', 'Z', '0', '9', '-', '_', '.', ' ', '\u{e9}']))
            .collect()
    }
}

const INT_TEXTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "42",
    "127",
    "-128",
    "128",
    "300",
    "32767",
    "-32769",
    "2147483647",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "12345678901234567890123",
    "007",
    "-0",
];
const FLOAT_TEXTS: &[&str] = &[
    "1.5",
    "-0.0",
    "0.1",
    "1e10",
    "1E-4",
    "3",
    "2.50",
    "3.4028235E38",
    "1e39",
    "-1.0e-45",
    "1.7976931348623157E308",
    "4.9E-324",
    "123456789.123456789",
    "1e400",
];

fn random_number(r: &mut Rng) -> String {
    if r.chance(40) {
        r.pick(INT_TEXTS).to_string()
    } else if r.chance(40) {
        r.pick(FLOAT_TEXTS).to_string()
    } else {
        r.range(-100_000, 100_000).to_string()
    }
}

/// A schemaless JSON document.
fn document(r: &mut Rng, depth: u32, out: &mut String) {
    let which = r.below(100);
    if depth == 0 && which < 55 || depth < 3 && which < 25 {
        out.push('{');
        let n = r.below(if depth == 0 { 7 } else { 4 });
        let names = if depth == 0 { FIELDS } else { NESTED };
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            write_string(r.pick(names), out);
            out.push(':');
            document(r, depth + 1, out);
        }
        out.push('}');
    } else if depth < 3 && which < 40 {
        out.push('[');
        let n = r.below(4);
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            document(r, depth + 1, out);
        }
        out.push(']');
    } else if which < 60 {
        write_string(&random_string(r), out);
    } else if which < 80 {
        out.push_str(&random_number(r));
    } else if which < 90 {
        out.push_str(r.pick(&["true", "false"]));
    } else {
        out.push_str("null");
    }
}

fn fits_int(r: &mut Rng, lo: i64, hi: i64) -> String {
    if r.chance(20) {
        r.pick(INT_TEXTS).to_string()
    } else {
        r.range(lo, hi).to_string()
    }
}

/// A payload for `s`; `odd` allows nulls and wrong types.
fn payload(r: &mut Rng, s: &Schema, out: &mut String, odd: bool) {
    if odd && (s.optional && r.chance(15) || r.chance(2)) {
        out.push_str("null");
        return;
    }
    if odd && r.chance(2) {
        document(r, 2, out);
        return;
    }
    match &s.ty {
        Ty::Int8 => out.push_str(&fits_int(r, -128, 127)),
        Ty::Int16 => out.push_str(&fits_int(r, -32768, 32767)),
        Ty::Int32 => out.push_str(&fits_int(r, -2_000_000_000, 2_000_000_000)),
        Ty::Int64 | Ty::Timestamp => {
            out.push_str(&fits_int(r, 1_600_000_000_000, 1_800_000_000_000))
        }
        Ty::Date => out.push_str(&fits_int(r, -1000, 30_000)),
        Ty::Time => out.push_str(&fits_int(r, 0, 86_399_999)),
        Ty::Float32 | Ty::Float64 => out.push_str(&random_number(r)),
        Ty::Boolean => out.push_str(r.pick(&["true", "false"])),
        Ty::String => write_string(&random_string(r), out),
        Ty::Bytes => {
            let bytes: Vec<u8> = (0..r.below(6)).map(|_| r.next_u64() as u8).collect();
            let mut b64 = Vec::new();
            sluice_codecs::json::connect::base64_encode(&bytes, &mut b64);
            write_string(&String::from_utf8_lossy(&b64), out);
        }
        Ty::Decimal(_) => {
            if r.chance(30) {
                out.push_str(r.pick(&["12.345", "-0.5", "100", "1e3", "0"]));
            } else {
                let unscaled = r.range(-1_000_000_000, 1_000_000_000) as i128;
                let be = unscaled.to_be_bytes();
                // Two's complement, minimal length, as BigInteger.toByteArray writes it.
                let mut start = 0;
                while start < 15
                    && ((be[start] == 0 && be[start + 1] & 0x80 == 0)
                        || (be[start] == 0xff && be[start + 1] & 0x80 != 0))
                {
                    start += 1;
                }
                let mut b64 = Vec::new();
                sluice_codecs::json::connect::base64_encode(&be[start..], &mut b64);
                write_string(&String::from_utf8_lossy(&b64), out);
            }
        }
        Ty::Struct(fields) => {
            out.push('{');
            let mut first = true;
            for (name, fs) in fields {
                if odd && fs.optional && r.chance(10) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(name, out);
                out.push(':');
                payload(r, fs, out, odd);
            }
            out.push('}');
        }
        Ty::Array(items) => {
            out.push('[');
            for i in 0..r.below(4) {
                if i > 0 {
                    out.push(',');
                }
                payload(r, items, out, odd);
            }
            out.push(']');
        }
        Ty::Map(k, v) => {
            let n = r.below(3);
            if matches!(k.ty, Ty::String) {
                out.push('{');
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(r.pick(NESTED), out);
                    out.push(':');
                    payload(r, v, out, odd);
                }
                out.push('}');
            } else {
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('[');
                    payload(r, k, out, false);
                    out.push(',');
                    payload(r, v, out, odd);
                    out.push(']');
                }
                out.push(']');
            }
        }
    }
}

/// Bytes that are not what a converter expects.
fn malformed(r: &mut Rng, text: &str) -> Vec<u8> {
    let utf16 = |s: &str, big: bool| -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| {
                if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    };
    match r.below(16) {
        0 => Vec::new(),
        1 => b"{".to_vec(),
        2 => b"{\"a\":}".to_vec(),
        3 => b"[1,2".to_vec(),
        4 => b"nul".to_vec(),
        5 => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        6 => [b"\xFF\xFE\x00".as_slice(), text.as_bytes()].concat(),
        7 => [vec![0xFF, 0xFE], utf16(text, false)].concat(),
        8 => utf16(text, true),
        9 => utf16(text, false),
        10 => b"\xC3\x28".to_vec(),
        11 => format!("{text} trailing").into_bytes(),
        12 => b"0x10".to_vec(),
        13 => b"NaN".to_vec(),
        14 => {
            let depth = 999 + r.below(4) as usize;
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }
        _ => format!("1{}", "0".repeat(995 + r.below(10) as usize)).into_bytes(),
    }
}

fn encode_text(r: &mut Rng, encoding: &str, s: &str) -> Vec<u8> {
    match encoding {
        "UTF-16" | "UTF-16BE" => s.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        "UTF-16LE" => s.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        "UTF-32" => s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect(),
        "ISO-8859-1" | "windows-1252" | "US-ASCII" if r.chance(50) => {
            s.chars().map(|c| c as u32 as u8).collect()
        }
        _ => s.as_bytes().to_vec(),
    }
}

fn data(r: &mut Rng, shape: &Shape, nullable: u64) -> Option<Vec<u8>> {
    if r.chance(nullable) {
        return None;
    }
    Some(match shape {
        Shape::Envelope(s) => {
            let mut text = String::new();
            payload(r, s, &mut text, true);
            if r.chance(5) {
                return Some(malformed(r, &text));
            }
            let envelope = match r.below(40) {
                0 => format!("{{\"payload\":{text}}}"),
                1 => format!("{{\"schema\":null,\"payload\":{text}}}"),
                2 => text.clone(),
                3 => format!(
                    "{{\"schema\":{},\"payload\":{text},\"extra\":1}}",
                    schema_json(s)
                ),
                _ => format!("{{\"schema\":{},\"payload\":{text}}}", schema_json(s)),
            };
            envelope.into_bytes()
        }
        Shape::Schemaless => {
            let mut text = String::new();
            document(r, 0, &mut text);
            if r.chance(6) {
                return Some(malformed(r, &text));
            }
            if r.chance(3) {
                text = format!(" \n{text}\t");
            }
            text.into_bytes()
        }
        Shape::Text("simple") => header_text(r),
        Shape::Text(encoding) => {
            if r.chance(8) {
                return Some(vec![0xC3, 0x28, b'a', 0xFF]);
            }
            let s = random_string(r);
            encode_text(r, encoding, &s)
        }
        Shape::Raw => (0..r.below(8)).map(|_| r.next_u64() as u8).collect(),
        Shape::Number(width) => {
            let width = if r.chance(8) {
                r.below(10) as usize
            } else {
                *width
            };
            (0..width)
                .map(|_| {
                    if r.chance(30) {
                        r.pick(&[0u8, 1, 0x7F, 0x80, 0xFF])
                    } else {
                        r.next_u64() as u8
                    }
                })
                .collect()
        }
    })
}

/// A header value as SimpleHeaderConverter sees them: every kind of text it parses.
fn header_text(r: &mut Rng) -> Vec<u8> {
    const TEXTS: &[&str] = &[
        "42",
        "-7",
        "true",
        "false",
        "1.5",
        "1e3",
        "9223372036854775808",
        "[1,2,3]",
        "[\"a\",\"b\"]",
        "{\"a\":1,\"b\":\"x\"}",
        "{\"a\":[1,2]}",
        "[1,\"a\"]",
        "2024-01-05",
        "10:15:30.123Z",
        "2024-01-05T10:15:30.123Z",
        "hello world",
        "",
        " ",
        "null",
        "[",
        "{a=1}",
        "\"quoted\"",
        "[]",
        "{}",
        "12:00",
        "web",
    ];
    if r.chance(8) {
        return vec![0xC3, 0x28];
    }
    if r.chance(20) {
        random_string(r).into_bytes()
    } else {
        r.pick(TEXTS).as_bytes().to_vec()
    }
}

fn record(r: &mut Rng, key: &Shape, value: &Shape, header: &Shape) -> Json {
    let key_bytes = data(r, key, 25);
    let value_bytes = data(r, value, 6);
    let headers: Vec<Json> = (0..if r.chance(50) { r.below(4) } else { 0 })
        .map(|_| json!({"key": r.pick(HEADER_KEYS), "value": crate::pipe::bytes_to_json(&data(r, header, 8))}))
        .collect();
    let timestamp = match r.below(20) {
        0 => -1,
        1 => 0,
        2 => 86_399_999,
        _ => r.range(1_600_000_000_000, 1_800_000_000_000),
    };
    json!({
        "topic": r.pick(TOPICS),
        "partition": r.below(4),
        "offset": r.range(0, 1_000_000),
        "timestamp": timestamp,
        "timestamp_type": if timestamp < 0 { "NoTimestampType" } else { r.pick(&["CreateTime", "CreateTime", "LogAppendTime"]) },
        "key": crate::pipe::bytes_to_json(&key_bytes),
        "value": crate::pipe::bytes_to_json(&value_bytes),
        "headers": headers,
    })
}

/// The SMTs (with `$Key`/`$Value` where Kafka has both) and what their configs look like.
const SMTS: &[(&str, bool)] = &[
    ("Cast", true),
    ("DropHeaders", false),
    ("ExtractField", true),
    ("Filter", false),
    ("Flatten", true),
    ("HeaderFrom", true),
    ("HoistField", true),
    ("InsertField", true),
    ("InsertHeader", false),
    ("MaskField", true),
    ("RegexRouter", false),
    ("ReplaceField", true),
    ("SetSchemaMetadata", true),
    ("TimestampConverter", true),
    ("TimestampRouter", false),
    ("ValueToKey", false),
];
const PREDICATES: &[&str] = &["HasHeaderKey", "RecordIsTombstone", "TopicNameMatches"];
const PKG: &str = "org.apache.kafka.connect.transforms";

fn field_list(r: &mut Rng) -> String {
    let n = 1 + r.below(3);
    let mut names: Vec<&str> = (0..n).map(|_| r.pick(FIELDS)).collect();
    if r.chance(5) {
        names.push("");
    }
    names.join(if r.chance(10) { ", " } else { "," })
}

fn field_name(r: &mut Rng) -> String {
    if r.chance(8) {
        r.pick(&["device.os", "missing", "", "a.b"]).to_string()
    } else {
        r.pick(FIELDS).to_string()
    }
}

/// The chain and predicates, written into `config`. Each match arm draws its plugin's
/// optional keys in turn, so the arms keep their `if`s rather than guards.
#[allow(clippy::collapsible_match)]
fn chain(r: &mut Rng, config: &mut Map<String, Json>, value: &Shape) {
    let stages = match r.below(10) {
        0 | 1 => 0,
        2..=5 => 1,
        6..=8 => 2,
        _ => 3 + r.below(2),
    };
    let mut put = |k: String, v: &str| {
        config.insert(k, Json::from(v));
    };
    let predicates: Vec<String> = (0..r.below(3)).map(|i| format!("p{i}")).collect();
    if !predicates.is_empty() {
        put("predicates".into(), &predicates.join(","));
    }
    for p in &predicates {
        let kind = r.pick(PREDICATES);
        put(
            format!("predicates.{p}.type"),
            &format!("{PKG}.predicates.{kind}"),
        );
        let k = |s: &str| format!("predicates.{p}.{s}");
        match kind {
            "HasHeaderKey" => {
                if r.chance(95) {
                    put(
                        k("name"),
                        if r.chance(90) {
                            r.pick(HEADER_KEYS)
                        } else {
                            ""
                        },
                    );
                }
            }
            "TopicNameMatches" => {
                if r.chance(95) {
                    put(
                        k("pattern"),
                        r.pick(&[
                            "orders.*",
                            "t",
                            ".*-eu",
                            "logs\\..*",
                            "[",
                            "",
                            "(?i)orders.*",
                        ]),
                    );
                }
            }
            _ => {}
        }
    }
    let mut aliases: Vec<String> = (0..stages).map(|i| format!("t{i}")).collect();
    if r.chance(1) && !aliases.is_empty() {
        aliases.push(aliases[0].clone());
    }
    if stages > 0 || r.chance(5) {
        put(
            "transforms".into(),
            &if r.chance(5) {
                aliases.join(" , ")
            } else {
                aliases.join(",")
            },
        );
    }
    let schemaless = matches!(value, Shape::Schemaless);
    for a in aliases.iter().take(stages as usize) {
        let (smt, sided) = r.pick(SMTS);
        let class = if sided {
            let side = if r.chance(70) { "Value" } else { "Key" };
            format!("{PKG}.{smt}${side}")
        } else {
            format!("{PKG}.{smt}")
        };
        if r.chance(1) {
            put(
                format!("transforms.{a}.type"),
                &format!("{PKG}.NoSuchTransform"),
            );
        } else if !r.chance(1) {
            put(format!("transforms.{a}.type"), &class);
        }
        let k = |s: &str| format!("transforms.{a}.{s}");
        smt_config(r, smt, schemaless, &mut |key, v| put(k(key), v));
        if !predicates.is_empty() && r.chance(if smt == "Filter" { 85 } else { 40 }) {
            put(
                k("predicate"),
                &predicates[r.below(predicates.len() as u64) as usize],
            );
            if r.chance(40) {
                put(
                    k("negate"),
                    one_of(r, &["true", "false", "TRUE"], &["maybe"]),
                );
            }
        } else if r.chance(1) {
            put(k("negate"), "true");
        }
    }
}

#[allow(clippy::collapsible_match)]
fn smt_config(r: &mut Rng, smt: &str, schemaless: bool, put: &mut dyn FnMut(&str, &str)) {
    let rnwd = |r: &mut Rng, put: &mut dyn FnMut(&str, &str)| {
        if r.chance(20) {
            put(
                "replace.null.with.default",
                one_of(r, &["true", "false"], &["x"]),
            );
        }
    };
    match smt {
        "Cast" => {
            const TYPES: &[&str] = &[
                "int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string",
            ];
            let spec = if r.chance(25) {
                r.pick(TYPES).to_string()
            } else {
                let n = 1 + r.below(3);
                (0..n)
                    .map(|_| {
                        let t = if r.chance(5) {
                            r.pick(&["bytes", "foo", "INT32", ""])
                        } else {
                            r.pick(TYPES)
                        };
                        format!("{}:{t}", r.pick(FIELDS))
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            if r.chance(97) {
                put("spec", if r.chance(2) { "amount" } else { &spec });
            }
            rnwd(r, put);
        }
        "DropHeaders" => {
            if r.chance(97) {
                let n = 1 + r.below(2);
                let hs: Vec<&str> = (0..n).map(|_| r.pick(HEADER_KEYS)).collect();
                put("headers", &hs.join(","));
            }
        }
        "ExtractField" => {
            if r.chance(97) {
                put("field", &field_name(r));
            }
            if r.chance(20) {
                put("field.syntax.version", r.pick(&["V1", "V2", "v2", "V3"]));
            }
            rnwd(r, put);
        }
        "Flatten" => {
            if r.chance(40) {
                put("delimiter", r.pick(&[".", "_", "", "::"]));
            }
        }
        "HeaderFrom" => {
            let n = 1 + r.below(2);
            let fields: Vec<&str> = (0..n).map(|_| r.pick(FIELDS)).collect();
            let m = if r.chance(90) { n } else { n + 1 };
            let headers: Vec<&str> = (0..m).map(|_| r.pick(HEADER_KEYS)).collect();
            put("fields", &fields.join(","));
            put("headers", &headers.join(","));
            if r.chance(97) {
                put(
                    "operation",
                    one_of(r, &["move", "copy"], &["MOVE", "steal"]),
                );
            }
            rnwd(r, put);
        }
        "HoistField" => {
            if r.chance(97) {
                put("field", r.pick(&["wrapped", "value", "id", ""]));
            }
        }
        "InsertField" => {
            let keys = [
                "topic.field",
                "partition.field",
                "offset.field",
                "timestamp.field",
                "static.field",
            ];
            for key in keys {
                if r.chance(30) {
                    let name = r.pick(&["t", "p", "o", "ts", "source", "id"]);
                    let suffix = r.pick(&["", "", "!", "?"]);
                    put(key, &format!("{name}{suffix}"));
                }
            }
            if r.chance(40) {
                put("static.value", r.pick(&["web", "", "42"]));
            }
            rnwd(r, put);
        }
        "InsertHeader" => {
            if r.chance(97) {
                put("header", r.pick(HEADER_KEYS));
            }
            if r.chance(97) {
                put(
                    "value.literal",
                    std::str::from_utf8(&header_text(r)).unwrap_or("x"),
                );
            }
        }
        "MaskField" => {
            put("fields", &field_list(r));
            if r.chance(40) {
                put(
                    "replacement",
                    r.pick(&["****", "0", "x", "", "1.5", "true", "-1"]),
                );
            }
            rnwd(r, put);
        }
        "RegexRouter" => {
            if r.chance(97) {
                put(
                    "regex",
                    r.pick(&[
                        "(.*)",
                        "orders(.*)",
                        "(.*)-(.*)",
                        "t",
                        "[",
                        "(?<name>.*)s",
                        ".*",
                    ]),
                );
            }
            if r.chance(97) {
                put(
                    "replacement",
                    r.pick(&[
                        "$1", "copy-$1", "$2", "${name}", "\\$1", "fixed", "$", "$1$1", "",
                    ]),
                );
            }
        }
        "ReplaceField" => {
            if r.chance(40) {
                put("exclude", &field_list(r));
            }
            if r.chance(30) {
                put("include", &field_list(r));
            }
            if r.chance(40) {
                let renames = if r.chance(90) {
                    format!("{}:{}", r.pick(FIELDS), r.pick(&["renamed", "id", "x"]))
                } else {
                    r.pick(&["a", "a:b:c", ":b"]).to_string()
                };
                put("renames", &renames);
            }
            if r.chance(3) {
                put("blacklist", "a");
            }
            rnwd(r, put);
        }
        "SetSchemaMetadata" => {
            if r.chance(70) {
                put("schema.name", r.pick(&["com.example.New", "", "x.Y"]));
            }
            if r.chance(50) {
                put("schema.version", one_of(r, &["1", "7", "-1"], &["abc"]));
            }
            rnwd(r, put);
        }
        "TimestampConverter" => {
            if r.chance(80) {
                put(
                    "field",
                    if schemaless || r.chance(50) {
                        r.pick(&["ts", "id", "amount", "name", ""])
                    } else {
                        r.pick(FIELDS)
                    },
                );
            }
            if r.chance(97) {
                put(
                    "target.type",
                    r.pick(&["string", "unix", "Date", "Time", "Timestamp", "timestamp"]),
                );
            }
            if r.chance(60) {
                put(
                    "format",
                    r.pick(&[
                        "yyyy-MM-dd",
                        "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                        "HH:mm:ss",
                        "yyyyMMdd",
                        "EEE, d MMM yyyy",
                        "qq",
                        "",
                        "'unclosed",
                    ]),
                );
            }
            if r.chance(30) {
                put(
                    "unix.precision",
                    r.pick(&[
                        "seconds",
                        "milliseconds",
                        "microseconds",
                        "nanoseconds",
                        "hours",
                    ]),
                );
            }
            rnwd(r, put);
        }
        "TimestampRouter" => {
            if r.chance(50) {
                put(
                    "topic.format",
                    r.pick(&["${topic}-${timestamp}", "x", "${timestamp}", "${topic}"]),
                );
            }
            if r.chance(50) {
                put(
                    "timestamp.format",
                    r.pick(&["yyyyMMdd", "yyyy-MM-dd HH", "qq", "'week' w", ""]),
                );
            }
        }
        "ValueToKey" => {
            if r.chance(97) {
                put("fields", &field_list(r));
            }
            rnwd(r, put);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_cases_and_each_line_is_a_corpus_case() {
        let mut a = Generator::new(7);
        let mut b = Generator::new(7);
        for _ in 0..200 {
            let (x, y) = (a.next_group(), b.next_group());
            assert_eq!(x, y);
            for line in &x {
                let text = line.to_string();
                assert!(crate::pipe::run_case_line(&text).is_ok(), "{text}");
            }
        }
        assert_ne!(
            Generator::new(8).next_group(),
            Generator::new(7).next_group()
        );
    }
}
