//! Java's text renderings that Kafka Connect's output depends on: `Double.toString`,
//! `Float.toString`, `BigDecimal.toString`, `Date.toString` and `String.valueOf` of a
//! Connect value.

mod float_decimal;
pub mod simple_date_format;
pub mod text;

use crate::model::value::Value;

/// Appends `Double.toString(d)` without allocating in the common case: in Java's plain range
/// [1e-3, 1e7) its output is the shortest round-trip decimal, which `ryu` writes directly
/// (integral values there print the same digits on every JDK).
pub fn write_double(out: &mut Vec<u8>, d: f64) {
    if d == 0.0 {
        // A masked or defaulted zero is common: no allocation for it.
        out.extend_from_slice(if d.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let a = d.abs();
    if (1e-3..1e7).contains(&a) {
        // Correctly rounded (both operands exact), so equality means m/1000 reads back as a;
        // thousandths below 1e7 are far apart, so no other m can pass that test. m itself
        // may then be rounded cheaply (a truncating conversion, no call to libm's `round`):
        // a wrong m fails the test and takes the general path.
        let m = (a * 1000.0 + 0.5) as i64 as f64;
        if m / 1000.0 == a {
            write_thousandths(out, d < 0.0, m as u64);
            return;
        }
        let mut buf = ryu::Buffer::new();
        out.extend_from_slice(buf.format_finite(d).as_bytes());
    } else {
        out.extend_from_slice(double_to_string(d).as_bytes());
    }
}

/// Appends `Float.toString(f)`; in the plain range [1e-3, 1e7) `ryu` writes the same shortest
/// round-trip digits without allocating, except on an exact tie between two shortest
/// candidates, where ryu rounds half to even and Java 17 rounds half up.
pub fn write_float(out: &mut Vec<u8>, f: f32) {
    if f == 0.0 {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let a = f.abs();
    if (1e-3..16_384.0).contains(&a) {
        // m/1000 reads back as f when it is nearer to f than half of f's ulp (strictly: a
        // tie might read as the neighbour). All of this is exact in f64.
        let scaled = f64::from(a) * 1000.0;
        let m = scaled.round();
        let ulp = f64::from(f32::from_bits(a.to_bits() & 0x7F80_0000)) / f64::from(1u32 << 23);
        if (scaled - m).abs() < ulp * 500.0 {
            write_thousandths(out, f < 0.0, m as u64);
            return;
        }
    }
    if (1e-3..1e7).contains(&a) {
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(f);
        let frac = text.len() - text.find('.').map_or(text.len(), |p| p + 1);
        // A tie means f is exactly the shortest digits plus one more digit 5. f32 values
        // times 10^(frac+1) (at most 10^12 here) are exact in f64, so the test is exact.
        let scaled = f64::from(a) * 10f64.powi(frac as i32 + 1);
        let tie = scaled.fract() == 0.0 && (scaled as u64) % 10 == 5;
        if !tie {
            out.extend_from_slice(text.as_bytes());
            return;
        }
    }
    out.extend_from_slice(float_to_string(f).as_bytes());
}

/// Writes m/1000 as Java's shortest text for a value that `m/1000` reads back as: below
/// 1e7, and where the float's ulp is below 0.001, no other decimal with as few digits reads
/// back as the same value, so trailing zeros cut from the three decimals give the shortest
/// digits, with at least one decimal as Java writes them.
fn write_thousandths(out: &mut Vec<u8>, negative: bool, m: u64) {
    let (int, frac) = (m / 1000, (m % 1000) as u32);
    if int >= 100_000_000 {
        // Not reached from the plain range (|d| < 1e7); kept whole for any caller.
        if negative {
            out.push(b'-');
        }
        out.extend_from_slice(itoa::Buffer::new().format(int).as_bytes());
        out.push(b'.');
        let text = [
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
        ];
        let keep = frac_digits(frac);
        out.extend_from_slice(&text[..keep]);
        return;
    }
    // Sign, at most 8 integer digits, point and at most 3 decimals: one 16-byte store.
    let (text, mut len) = digits_text(int);
    let point = u128::from(b'.')
        | u128::from(b'0' + (frac / 100) as u8) << 8
        | u128::from(b'0' + (frac / 10 % 10) as u8) << 16
        | u128::from(b'0' + (frac % 10) as u8) << 24;
    let mut block = u128::from(text) | point << (8 * len);
    len += 1 + frac_digits(frac);
    if negative {
        block = block << 8 | u128::from(b'-');
        len += 1;
    }
    crate::json::text::put_word(out, block, len);
}

/// Decimals Java prints for thousandths `frac`: at least one, no trailing zeros.
fn frac_digits(frac: u32) -> usize {
    match frac {
        _ if frac.is_multiple_of(100) => 1,
        _ if frac.is_multiple_of(10) => 2,
        _ => 3,
    }
}

/// `Long.toString(v)`, built in registers and appended with one 16-byte store: for the 10
/// to 17 bytes of ids and epoch timestamps, `itoa` plus a call to `memcpy` cost more.
#[inline]
pub(crate) fn write_long(out: &mut Vec<u8>, v: i64) {
    let n = v.unsigned_abs();
    let (mut block, mut len) = if n < 100_000_000 {
        let (text, len) = digits_text(n);
        (u128::from(text), len)
    } else if n < 10_000_000_000_000_000 {
        // The length from `n` itself (see `decimal_digits`), not from the quotient.
        let high_len = digits_of_multiple(n, 100_000_000);
        let high = eight_digits((n / 100_000_000) as u32) >> (8 * (8 - high_len));
        let low = eight_digits((n % 100_000_000) as u32);
        (
            u128::from(high) | u128::from(low) << (8 * high_len),
            high_len + 8,
        )
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        return;
    };
    if v < 0 {
        if len == 16 {
            out.push(b'-');
        } else {
            block = block << 8 | u128::from(b'-');
            len += 1;
        }
    }
    crate::json::text::put_word(out, block, len);
}

/// The digits of `n` (below 10^8) as text in a word, first digit in the lowest byte, and
/// how many there are.
#[inline]
fn digits_text(n: u64) -> (u64, usize) {
    let len = decimal_digits(n);
    // Leading zeros are the low bytes of the eight-digit text.
    (eight_digits(n as u32) >> (8 * (8 - len)), len)
}

/// The eight decimal digits of `n` (below 10^8, leading zeros kept) as ASCII, first digit in
/// the lowest byte: split into 4-digit, 2-digit and 1-digit lanes with multiply-and-shift
/// division, all lanes at once (no byte stores that a wide load would have to wait for).
#[inline]
fn eight_digits(n: u32) -> u64 {
    let n = u64::from(n);
    // Lanes of 32 bits: the first four digits low, the last four high.
    let v = (n / 10_000) | (n % 10_000) << 32;
    // x / 100 for x < 10^4 is x * 10486 >> 20; lanes of 16 bits.
    let high = ((v * 10_486) >> 20) & 0x0000_007F_0000_007F;
    let v = high | (v - high * 100) << 16;
    // x / 10 for x < 100 is x * 103 >> 10; lanes of 8 bits.
    let high = ((v * 103) >> 10) & 0x000F_000F_000F_000F;
    let v = high | (v - high * 10) << 8;
    v + 0x3030_3030_3030_3030
}

/// How many decimal digits `n` (below 10^8) has, 1 for zero. By comparisons, not arithmetic:
/// numbers of a column mostly have one length (ids, epoch times, prices), so the branches are
/// predicted and the length, which the next write's position waits for, is known at once
/// instead of at the end of a chain of dependent instructions.
#[inline]
fn decimal_digits(n: u64) -> usize {
    digits_of_multiple(n, 1)
}

/// How many decimal digits `n / unit` has (1 for zero), for `n / unit` below 10^8, compared
/// against multiples of `unit` (constants once inlined), so the quotient is not waited for.
#[inline(always)]
fn digits_of_multiple(n: u64, unit: u64) -> usize {
    debug_assert!(n / unit < 100_000_000);
    if n < 10_000 * unit {
        if n < 100 * unit {
            1 + usize::from(n >= 10 * unit)
        } else {
            3 + usize::from(n >= 1_000 * unit)
        }
    } else if n < 1_000_000 * unit {
        5 + usize::from(n >= 100_000 * unit)
    } else {
        7 + usize::from(n >= 10_000_000 * unit)
    }
}

/// `Double.toString(d)`: shortest digits that round-trip; plain notation for
/// 1e-3 <= |d| < 1e7, otherwise `d.dddE±n`.
pub fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if let Some(s) = small_integer(d, 53) {
        return s;
    }
    let sci = format!("{d:e}");
    // Java (JDK 19+ spec) never uses a single digit: it takes the two-digit decimal closest
    // to the value instead (4.9E-324, not 5.0E-324).
    let sci = if single_digit(&sci) {
        format!("{d:.1e}")
    } else {
        sci
    };
    format_shortest(&sci, d == 0.0 || (1e-3..1e7).contains(&d.abs()))
}

/// JDK 17's `FloatingDecimal` prints integral values below 2^63 from their exact digits,
/// rounding away only the decimal digits below the type's precision (`insignificant`), so
/// `1.0E11f` prints as `9.9999998E10`. `significant_bits` is 24 for float, 53 for double.
fn small_integer(v: f64, significant_bits: i32) -> Option<String> {
    const INSIGNIFICANT: [u32; 64] = [
        0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8,
        9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15,
        16, 16, 16, 17, 17, 17, 18, 18, 18, 19,
    ];
    let a = v.abs();
    if a == 0.0 || !a.is_finite() || a.fract() != 0.0 || a >= 9.223_372_036_854_776e18 {
        return None;
    }
    let bin_exp = a.log2().floor() as i32;
    if !(0..=62).contains(&bin_exp) {
        return None;
    }
    let mut l = a as u64;
    let mut dec_exp: i32 = 0;
    let p2 = bin_exp - significant_bits - 1;
    let insignificant = if bin_exp > significant_bits && p2 > 1 {
        INSIGNIFICANT.get(p2 as usize).copied().unwrap_or(0)
    } else {
        0
    };
    if insignificant > 0 {
        let pow10 = 10u64.pow(insignificant);
        let residue = l % pow10;
        l /= pow10;
        dec_exp += insignificant as i32;
        if residue >= pow10 / 2 {
            l += 1;
        }
    }
    let mut digits = l.to_string();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        dec_exp += 1;
    }
    let exp10 = digits.len() as i32 - 1 + dec_exp;
    let sci = format!(
        "{}{}.{}e{exp10}",
        if v < 0.0 { "-" } else { "" },
        &digits[..1],
        if digits.len() > 1 { &digits[1..] } else { "0" }
    );
    Some(format_shortest(&sci, (1e-3..1e7).contains(&a)))
}

fn single_digit(sci: &str) -> bool {
    sci.split('e')
        .next()
        .is_some_and(|m| m.trim_start_matches('-').len() == 1)
}

/// `Float.toString(f)`.
pub fn float_to_string(f: f32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    float_decimal::java17_float_to_string(f)
}

/// Turns Rust's shortest `{:e}` output (`-1.2345e-7`) into Java's layout.
fn format_shortest(sci: &str, plain: bool) -> String {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = mantissa
        .strip_prefix('-')
        .map_or((false, mantissa), |m| (true, m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = match digits.trim_end_matches('0') {
        "" => "0".to_string(),
        t => t.to_string(),
    };
    let sign = if neg { "-" } else { "" };
    if plain {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{frac}E{exp}", &digits[..1])
    }
}

/// `BigDecimal.toString()` of `unscaled × 10^-scale`.
pub fn big_decimal_to_string(unscaled: &str, scale: i32) -> String {
    let (neg, digits) = unscaled
        .strip_prefix('-')
        .map_or((false, unscaled), |d| (true, d));
    let digits = {
        let t = digits.trim_start_matches('0');
        if t.is_empty() { "0" } else { t }
    };
    let sign = if neg && digits != "0" { "-" } else { "" };
    let adjusted = -(scale as i64) + (digits.len() as i64 - 1);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    if scale > 0 && adjusted >= -6 {
        let scale = scale as usize;
        let body = if digits.len() > scale {
            format!(
                "{}.{}",
                &digits[..digits.len() - scale],
                &digits[digits.len() - scale..]
            )
        } else {
            format!("0.{}{}", "0".repeat(scale - digits.len()), digits)
        };
        return format!("{sign}{body}");
    }
    let coeff = if digits.len() > 1 {
        format!("{}.{}", &digits[..1], &digits[1..])
    } else {
        digits.to_string()
    };
    let exp_sign = if adjusted >= 0 { "+" } else { "" };
    format!("{sign}{coeff}E{exp_sign}{adjusted}")
}

/// A stand-in for a Java identity hash code: FNV-1a of the bytes, 31 bits like HotSpot's.
fn identity_hash(b: &[u8]) -> u32 {
    let h = b.iter().fold(0x811c_9dc5u32, |h, &c| {
        (h ^ u32::from(c)).wrapping_mul(0x0100_0193)
    });
    (h & 0x7fff_ffff).max(1)
}

/// Java's `String.valueOf(value)` for Connect values.
pub fn java_to_string(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::I8(v) => v.to_string(),
        Value::I16(v) => v.to_string(),
        Value::I32(v) => v.to_string(),
        Value::I64(v) => v.to_string(),
        Value::F32(v) => float_to_string(*v),
        Value::F64(v) => double_to_string(*v),
        Value::String(s) => s.clone(),
        // Text outside Java is UTF-8, where Java's encoder writes `?` for an unpaired surrogate.
        Value::Utf16(units) => utf16_lossy(units, '?'),
        // Java's `byte[].toString()`: `[B@` and an identity hash, which is arbitrary; ours is
        // a hash of the contents, so equal bytes render alike.
        Value::Bytes(b) => format!("[B@{:x}", identity_hash(b)),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(java_to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Map(entries) => {
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}={}", java_to_string(k), java_to_string(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Value::Struct(s) => {
            let parts: Vec<String> = s
                .schema
                .fields
                .iter()
                .zip(&s.values)
                .filter(|(_, v)| !v.is_null())
                .map(|(f, v)| format!("{}={}", f.name, java_to_string(v)))
                .collect();
            format!("Struct{{{}}}", parts.join(","))
        }
        Value::Decimal { unscaled, scale } => big_decimal_to_string(&unscaled.to_string(), *scale),
        Value::Date(ms) => java_date_to_string(*ms),
    }
}

/// UTF-16 code units as text, each unpaired surrogate replaced by `replacement`.
pub fn utf16_lossy(units: &[u16], replacement: char) -> String {
    char::decode_utf16(units.iter().copied())
        .map(|c| c.unwrap_or(replacement))
        .collect()
}

/// `java.util.Date.toString()` in UTC: `Tue Nov 14 22:13:20 UTC 2023`.
pub fn java_date_to_string(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Java's calendar (Julian before 1582-10-15), years of the era.
    let (y, m, d) = crate::java::simple_date_format::hybrid_from_days(days);
    let y = if y > 0 { y } else { 1 - y };
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    /// `write_float`'s fast paths (thousandths, ryu's shortest in the plain range) write
    /// what Java 17's algorithm writes, over random floats of every magnitude and the cents
    /// and thousandths that records carry.
    #[test]
    fn write_float_fast_paths_agree_with_java_17() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let check = |f: f32| {
            if !f.is_finite() || f == 0.0 {
                return;
            }
            let mut out = Vec::new();
            super::write_float(&mut out, f);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                super::float_decimal::java17_float_to_string(f),
                "{:#x}",
                f.to_bits()
            );
        };
        for _ in 0..2_000_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            check(f32::from_bits(seed as u32));
            // Plain-range values, where the fast paths run.
            check(f32::from_bits(
                0x3A80_0000 + (seed >> 40) as u32 % 0x1080_0000,
            ));
        }
        for m in 0..2_000_000u32 {
            check(m as f32 / 100.0);
            check(m as f32 / 1000.0);
        }
    }

    #[test]
    fn dates_render_as_java_util_date_before_the_gregorian_cutover() {
        // Java: new Date(-62135596800000L).toString() in UTC (the Julian calendar).
        assert_eq!(
            java_date_to_string(-62_135_596_800_000),
            "Mon Jan 03 00:00:00 UTC 1"
        );
    }
    use super::*;

    #[test]
    fn eight_digit_text_matches_format() {
        // Every 4-digit lane value in both lanes, and a sweep of the whole range.
        let check = |n: u32| {
            assert_eq!(
                eight_digits(n).to_le_bytes(),
                *format!("{n:08}").as_bytes(),
                "{n}"
            );
        };
        (0..10_000).for_each(|k| {
            check(k);
            check(k * 10_000);
            check(k * 10_000 + 9_999 - k);
        });
        (0..100_000_000).step_by(997).for_each(check);
        check(99_999_999);
    }

    #[test]
    fn long_writer_matches_display_at_every_digit_count() {
        let mut values = vec![0, 1, -1, i64::MAX, i64::MIN, i64::MIN + 1];
        let mut p: i64 = 1;
        while let Some(next) = p.checked_mul(10) {
            values.extend([p - 1, p, p + 1, -p, -(p - 1), next / 3]);
            p = next;
        }
        // Something already in the vector stays in front.
        let mut out = b"x:".to_vec();
        for v in values {
            out.truncate(2);
            write_long(&mut out, v);
            assert_eq!(&out[2..], v.to_string().as_bytes(), "{v}");
        }
    }

    #[test]
    fn fast_float_writer_matches_float_to_string() {
        // A deterministic walk over bit patterns, dense around the plain range's edges.
        let mut bits: u32 = 0x3A83_126F; // ~1e-3
        let mut checked = 0;
        while checked < 200_000 {
            let f = f32::from_bits(bits);
            bits = bits.wrapping_add(0x0000_2F1B);
            if !f.is_finite() {
                continue;
            }
            for v in [f, -f] {
                let mut out = Vec::new();
                write_float(&mut out, v);
                assert_eq!(String::from_utf8(out).unwrap(), float_to_string(v), "{v:e}");
            }
            checked += 1;
        }
        // Halfway between two shortest decimals: Java keeps the even last digit.
        assert_eq!(float_to_string(f32::from_bits(0xC563_8080)), "-3640.0312");
        assert_eq!(float_to_string(f32::from_bits(0x4563_8080)), "3640.0312");
        for v in [
            0.001f32,
            9_999_999.0,
            1e7,
            100.0,
            0.1,
            1234.5,
            7638.58,
            f32::from_bits(0x4563_8080),
        ] {
            let mut out = Vec::new();
            write_float(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), float_to_string(v), "{v}");
        }
    }

    #[test]
    fn thousandths_write_like_the_general_path() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for k in 0..400_000u64 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // Dense near the edges of each path, then anywhere up to 1e7.
            let m = match k % 4 {
                0 => k,
                1 => 16_384_000 - k,
                2 => seed % 16_384_000,
                _ => seed % 10_000_000_000,
            };
            let d = m as f64 / 1000.0;
            for v in [d, -d] {
                let mut out = Vec::new();
                write_double(&mut out, v);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    double_to_string(v),
                    "{v:e}"
                );
                let f = v as f32;
                let mut out = Vec::new();
                write_float(&mut out, f);
                assert_eq!(String::from_utf8(out).unwrap(), float_to_string(f), "{f:e}");
            }
        }
    }

    #[test]
    fn doubles_like_java() {
        for (d, s) in [
            (1.0e7, "1.0E7"),
            (1.0e-4, "1.0E-4"),
            (100.0, "100.0"),
            (4.9e-324, "4.9E-324"),
            (0.001, "0.001"),
            (9999999.0, "9999999.0"),
            (-1.5, "-1.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (7638.58, "7638.58"),
            (1.2345678e-7, "1.2345678E-7"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(double_to_string(d), s);
        }
        assert_eq!(float_to_string(7638.58), "7638.58");
        assert_eq!(float_to_string(1.0e11), "9.9999998E10");
        assert_eq!(float_to_string(123_456_790.0), "1.23456792E8");
        assert_eq!(double_to_string(1.0e17), "1.0E17");
        for d in [
            7638.58,
            0.001,
            100.0,
            1234567.5,
            9999999.999,
            0.0012345,
            5.0e-3,
            42.0,
        ] {
            let mut out = Vec::new();
            write_double(&mut out, d);
            assert_eq!(String::from_utf8(out).unwrap(), double_to_string(d), "{d}");
        }
        assert_eq!(float_to_string(1.0e10), "1.0E10");
        assert_eq!(float_to_string(0.1), "0.1");
    }

    #[test]
    fn big_decimals_like_java() {
        assert_eq!(big_decimal_to_string("12345", 2), "123.45");
        assert_eq!(big_decimal_to_string("-5", 3), "-0.005");
        assert_eq!(big_decimal_to_string("1", -3), "1E+3");
        assert_eq!(big_decimal_to_string("123", -2), "1.23E+4");
        assert_eq!(big_decimal_to_string("1", 7), "1E-7");
        assert_eq!(big_decimal_to_string("1", 6), "0.000001");
        assert_eq!(big_decimal_to_string("0", 2), "0.00");
        assert_eq!(big_decimal_to_string("42", 0), "42");
    }
}
