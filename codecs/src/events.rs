//! The standard "order" benchmark event, byte-identical to the input Kafka Connect's figures
//! were measured on (splitmix64, seed 42, fixed draw order). Shared by the criterion
//! benches and `perf/`, so every figure is reproducible from an event count alone.

use std::io::Write;

const CURRENCIES: [&str; 6] = ["EUR", "USD", "GBP", "JPY", "CHF", "SEK"];
const COUNTRIES: [&str; 12] = [
    "DE", "FR", "US", "GB", "NL", "SE", "JP", "CH", "ES", "IT", "PL", "BR",
];
const TAGS: [&str; 8] = [
    "promo",
    "mobile",
    "returning",
    "newsletter",
    "first-order",
    "gift",
    "express",
    "loyalty-gold",
];
const OSES: [&str; 5] = ["android", "ios", "windows", "macos", "linux"];
const DOMAINS: [&str; 4] = [
    "example.com",
    "mail.example.org",
    "shop.example.net",
    "corp.example.de",
];
const NOTES: [&str; 8] = [
    "please leave the parcel with the neighbour at number 12 if nobody answers the door",
    r#"gift wrap requested; add a handwritten card saying \"happy birthday, see you soon\""#,
    "customer called support twice about the delivery window, escalate to the logistics team if late again",
    "deliver after 5pm on weekdays, ring the bell twice and wait, the intercom is broken",
    "fragile: glassware inside, handle with care and keep upright during transport at all times",
    "invoice to company address, VAT id on file, reference PO-2024-118733 for accounting",
    "no substitutions please; if an item is out of stock cancel that line and refund it",
    "repeat order of last month with one extra item added via the mobile app checkout flow",
];

/// The JsonConverter schema of the envelope variant (W2).
pub const ORDER_SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"id"},{"type":"string","optional":false,"field":"user"},{"type":"double","optional":false,"field":"amount"},{"type":"string","optional":false,"field":"currency"},{"type":"int64","optional":false,"field":"ts"},{"type":"string","optional":false,"field":"country"},{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"},{"type":"struct","fields":[{"type":"string","optional":false,"field":"os"},{"type":"string","optional":false,"field":"version"}],"optional":false,"name":"orders.Device","field":"device"},{"type":"boolean","optional":false,"field":"flag"},{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"orders.Order"}"#;

/// Generates events 0, 1, 2, ... in order.
#[derive(Debug, Clone)]
pub struct OrderEvents {
    state: u64,
    next_index: u64,
}

impl Default for OrderEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderEvents {
    pub fn new() -> Self {
        Self {
            state: 42,
            next_index: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Appends the next event's schemaless JSON to `out`; returns its timestamp (epoch ms),
    /// which is also the Kafka record's CreateTime.
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> i64 {
        let i = self.next_index;
        self.next_index += 1;
        let user_no = self.below(5_000_000);
        let domain = self.pick(&DOMAINS);
        let cents = self.below(1_000_000);
        let currency = self.pick(&CURRENCIES);
        let ts = 1_704_067_200_000 + i * 1000 + self.below(1000);
        let country = self.pick(&COUNTRIES);
        let ntags = 1 + self.below(4);
        let _ = write!(
            out,
            r#"{{"id":{},"user":"customer-{user_no:07}@{domain}","amount":{}.{:02},"currency":"{currency}","ts":{ts},"country":"{country}","tags":["#,
            1_000_000_000 + i,
            cents / 100,
            cents % 100
        );
        for t in 0..ntags {
            if t > 0 {
                out.push(b',');
            }
            let tag = self.pick(&TAGS);
            let _ = write!(out, "\"{tag}\"");
        }
        let os = self.pick(&OSES);
        let (v1, v2, v3) = (self.below(17), self.below(10), self.below(30));
        let flag = (self.next() & 1) == 1;
        let note_sel = self.below(40);
        let note = if note_sel < 8 {
            ""
        } else {
            NOTES[(note_sel % 8) as usize]
        };
        let _ = write!(
            out,
            r#"],"device":{{"os":"{os}","version":"{v1}.{v2}.{v3}"}},"flag":{flag},"note":"{note}"}}"#
        );
        ts as i64
    }

    /// Appends the next event wrapped in a JsonConverter envelope (W2).
    pub fn write_next_envelope(&mut self, out: &mut Vec<u8>) -> i64 {
        out.extend_from_slice(b"{\"schema\":");
        out.extend_from_slice(ORDER_SCHEMA.as_bytes());
        out.extend_from_slice(b",\"payload\":");
        let ts = self.write_next(out);
        out.push(b'}');
        ts
    }
}

/// The event variants of the benchmark harness: the standard order event, a wider one
/// (`total` fields: the standard ten plus `f000`, `f001`, ... cycling int64, double, string,
/// boolean) or a larger one (the standard event plus a `blob` string filling it to about
/// `bytes`). The standard fields are drawn exactly as in [`OrderEvents`]; the extra ones come
/// from a second seeded stream, so every variant is reproducible from an event count alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    Standard,
    Wide(usize),
    Large(usize),
}

impl EventShape {
    /// `standard`, `wide50`, `wide200` (any `wideN` with N > 10), `1k`, `10k` (any `Nk`).
    pub fn parse(name: &str) -> Option<Self> {
        let n = name.trim().to_ascii_lowercase();
        if n == "standard" {
            return Some(EventShape::Standard);
        }
        if let Some(fields) = n.strip_prefix("wide") {
            let total: usize = fields.parse().ok()?;
            return (total > 10 && total <= 10_000).then_some(EventShape::Wide(total));
        }
        let kib: usize = n.strip_suffix('k')?.parse().ok()?;
        (1..=1024)
            .contains(&kib)
            .then_some(EventShape::Large(kib * 1024))
    }

    pub fn name(self) -> String {
        match self {
            EventShape::Standard => "standard".into(),
            EventShape::Wide(n) => format!("wide{n}"),
            EventShape::Large(b) => format!("{}k", b / 1024),
        }
    }

    /// The JsonConverter schema of the variant's envelopes.
    pub fn schema(self) -> String {
        let extra = match self {
            EventShape::Standard => return ORDER_SCHEMA.to_string(),
            EventShape::Wide(total) => (0..total - 10)
                .map(|k| {
                    format!(
                        r#"{{"type":"{}","optional":false,"field":"f{k:03}"}}"#,
                        ["int64", "double", "string", "boolean"][k % 4]
                    )
                })
                .collect::<Vec<_>>()
                .join(","),
            EventShape::Large(_) => r#"{"type":"string","optional":false,"field":"blob"}"#.into(),
        };
        let tail = r#"],"optional":false,"name":"orders.Order"}"#;
        let head = ORDER_SCHEMA.strip_suffix(tail).unwrap_or(ORDER_SCHEMA);
        format!("{head},{extra}{tail}")
    }
}

/// Events of one [`EventShape`], in order.
#[derive(Debug, Clone)]
pub struct Events {
    orders: OrderEvents,
    shape: EventShape,
    extra: OrderEvents,
    schema: String,
}

impl Events {
    pub fn new(shape: EventShape) -> Self {
        let mut extra = OrderEvents::new();
        extra.state = 0x005E_ED0F_E7E7;
        Self {
            orders: OrderEvents::new(),
            shape,
            extra,
            schema: shape.schema(),
        }
    }

    /// Appends the next event's schemaless JSON; returns its timestamp (epoch ms).
    pub fn write_next(&mut self, out: &mut Vec<u8>) -> i64 {
        let start = out.len();
        let ts = self.orders.write_next(out);
        if self.shape == EventShape::Standard {
            return ts;
        }
        out.pop(); // the closing brace
        match self.shape {
            EventShape::Standard => {}
            EventShape::Wide(total) => {
                for k in 0..total - 10 {
                    let r = self.extra.next();
                    let _ = match k % 4 {
                        0 => write!(out, r#","f{k:03}":{}"#, r % 1_000_000_000),
                        1 => write!(out, r#","f{k:03}":{}.{:02}"#, r % 100_000, (r >> 20) % 100),
                        2 => write!(out, r#","f{k:03}":"v{:08x}""#, r as u32),
                        _ => write!(out, r#","f{k:03}":{}"#, r & 1 == 1),
                    };
                }
            }
            EventShape::Large(bytes) => {
                const WORDS: [&str; 8] = [
                    "lorem ", "ipsum ", "dolor ", "sit ", "amet ", "kafka ", "connect ", "arrow ",
                ];
                out.extend_from_slice(br#","blob":""#);
                let target = start + bytes.saturating_sub(2);
                while out.len() < target {
                    let w = WORDS[(self.extra.next() % 8) as usize];
                    out.extend_from_slice(&w.as_bytes()[..w.len().min(target - out.len())]);
                }
                out.push(b'"');
            }
        }
        out.push(b'}');
        ts
    }

    /// Appends the next event in a JsonConverter envelope with the variant's schema.
    pub fn write_next_envelope(&mut self, out: &mut Vec<u8>) -> i64 {
        out.extend_from_slice(b"{\"schema\":");
        out.extend_from_slice(self.schema.as_bytes());
        out.extend_from_slice(b",\"payload\":");
        let ts = self.write_next(out);
        out.push(b'}');
        ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_zero_is_byte_exact() {
        let mut g = OrderEvents::new();
        let mut out = Vec::new();
        assert_eq!(g.write_next(&mut out), 1_704_067_200_250);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id":1000000000,"user":"customer-0275413@corp.example.de","amount":7638.58,"currency":"EUR","ts":1704067200250,"country":"JP","tags":["first-order","gift"],"device":{"os":"linux","version":"0.6.8"},"flag":true,"note":"fragile: glassware inside, handle with care and keep upright during transport at all times"}"#
        );
    }

    #[test]
    fn sizes_match_the_published_distribution() {
        let mut g = OrderEvents::new();
        let (mut total, mut min, mut max) = (0usize, usize::MAX, 0usize);
        let mut out = Vec::new();
        for _ in 0..20_000 {
            out.clear();
            g.write_next(&mut out);
            total += out.len();
            min = min.min(out.len());
            max = max.max(out.len());
        }
        let avg = total as f64 / 20_000.0;
        assert!((296.0..300.0).contains(&avg), "average {avg}");
        assert!(min >= 199 && max <= 366, "{min}..{max}");
        let mut env = Vec::new();
        OrderEvents::new().write_next_envelope(&mut env);
        assert!(env.starts_with(b"{\"schema\":{\"type\":\"struct\"") && env.ends_with(b"}}"));
    }

    #[test]
    fn variants_keep_the_standard_fields_and_reach_their_size() {
        let mut standard = OrderEvents::new();
        for shape in ["wide50", "wide200", "1k", "10k"] {
            let shape = EventShape::parse(shape).unwrap();
            let mut g = Events::new(shape);
            for _ in 0..50 {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let ts_a = g.write_next(&mut a);
                let ts_b = standard.write_next(&mut b);
                assert_eq!(ts_a, ts_b);
                // The standard event is a prefix (without its closing brace).
                assert!(a.starts_with(&b[..b.len() - 1]), "{}", shape.name());
                let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
                let fields = v.as_object().unwrap().len();
                match shape {
                    EventShape::Wide(n) => assert_eq!(fields, n),
                    EventShape::Large(bytes) => {
                        assert_eq!(fields, 11);
                        assert_eq!(a.len(), bytes, "{}", shape.name());
                    }
                    EventShape::Standard => unreachable!(),
                }
            }
            standard = OrderEvents::new();
            // Envelopes carry a schema naming every field.
            let mut env = Vec::new();
            Events::new(shape).write_next_envelope(&mut env);
            let v: serde_json::Value = serde_json::from_slice(&env).unwrap();
            let names = v["schema"]["fields"].as_array().unwrap().len();
            assert_eq!(names, v["payload"].as_object().unwrap().len());
        }
        assert_eq!(EventShape::parse("wide5"), None);
        assert_eq!(EventShape::parse("standard"), Some(EventShape::Standard));
        assert_eq!(
            EventShape::parse("10K").map(EventShape::name).as_deref(),
            Some("10k")
        );
    }
}
