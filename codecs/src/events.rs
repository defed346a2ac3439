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
}
