//! `Float.toString` as Java 17 writes it: the digits of `FloatingDecimal`'s `dtoa` before
//! JDK 19, with its 32- and 64-bit arithmetic (where `b + m` overflows it stops one digit
//! early and does not round up: `-6.5249753E25`, not the shortest-nearest `-6.5249754E25`),
//! and its layout (`getChars`). Later JDKs print the shortest digits; Kafka Connect 4.3
//! runs on Java 17.

use num_bigint::BigUint;

const EXP_SHIFT: i32 = 52;
/// The decimal point's place (`decExponent`) and the digits.
struct Digits {
    digits: Vec<u8>,
    dec_exponent: i32,
}

/// Approximately `ceil(log2(5^i))`, as Java's `N_5_BITS`.
const N_5_BITS: [i32; 27] = [
    0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56,
    59, 61,
];

const INSIGNIFICANT_DIGITS_NUMBER: [i32; 64] = [
    0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9,
    9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16,
    16, 17, 17, 17, 18, 18, 18, 19,
];

fn n5_bits(i: i32) -> i32 {
    usize::try_from(i)
        .ok()
        .and_then(|i| N_5_BITS.get(i).copied())
        .unwrap_or(i * 3)
}

fn pow5(i: i32) -> u64 {
    5u64.pow(i.max(0) as u32)
}

/// `estimateDecExp`: floor(log10(d)) estimated from the mantissa and binary exponent.
// Java's constants as written (0.301029995663981 is not `LOG10_2`: the estimate must be
// Java's to the last bit).
#[allow(clippy::approx_constant)]
fn estimate_dec_exp(fract_bits: u64, bin_exp: i32) -> i32 {
    let d2 = f64::from_bits((0x3FFu64 << 52) | (fract_bits & ((1u64 << 52) - 1)));
    let d = (d2 - 1.5) * 0.289529654 + 0.176091259 + f64::from(bin_exp) * 0.301029995663981;
    d.floor() as i32
}

/// `developLongDigits`: the digits of an integer, `insignificant` low digits rounded off.
fn long_digits(mut value: u64, insignificant: i32) -> Digits {
    let mut dec_exponent = 0;
    if insignificant != 0 {
        let pow10 = pow5(insignificant) << insignificant;
        let residue = value % pow10;
        value /= pow10;
        dec_exponent += insignificant;
        if residue >= pow10 >> 1 {
            value += 1;
        }
    }
    let text = value.to_string();
    let trimmed = text.trim_end_matches('0');
    Digits {
        digits: trimmed.bytes().map(|c| c - b'0').collect(),
        dec_exponent: dec_exponent + text.len() as i32,
    }
}

/// `BinaryToASCIIBuffer.dtoa` for a float's bits.
fn dtoa(bin_exp: i32, mut fract_bits: u64, n_significant_bits: i32) -> Digits {
    let tail_zeros = fract_bits.trailing_zeros() as i32;
    let n_fract_bits = EXP_SHIFT + 1 - tail_zeros;
    let n_tiny_bits = (n_fract_bits - bin_exp - 1).max(0);
    if (-21..=62).contains(&bin_exp)
        && n_tiny_bits < 27
        && n_fract_bits + n5_bits(n_tiny_bits) < 64
        && n_tiny_bits == 0
    {
        let insignificant = if bin_exp > n_significant_bits {
            let p2 = bin_exp - n_significant_bits - 1;
            if p2 > 1 && p2 < 64 {
                INSIGNIFICANT_DIGITS_NUMBER[p2 as usize]
            } else {
                0
            }
        } else {
            0
        };
        let value = if bin_exp >= EXP_SHIFT {
            fract_bits << (bin_exp - EXP_SHIFT)
        } else {
            fract_bits >> (EXP_SHIFT - bin_exp)
        };
        return long_digits(value, insignificant);
    }
    let mut dec_exp = estimate_dec_exp(fract_bits, bin_exp);
    let b5 = (-dec_exp).max(0);
    let mut b2 = b5 + n_tiny_bits + bin_exp;
    let s5 = dec_exp.max(0);
    let mut s2 = s5 + n_tiny_bits;
    let m5 = b5;
    let mut m2 = b2 - n_significant_bits;
    fract_bits >>= tail_zeros;
    b2 -= n_fract_bits - 1;
    let common = b2.min(s2);
    b2 -= common;
    s2 -= common;
    m2 -= common;
    if n_fract_bits == 1 {
        m2 -= 1;
    }
    if m2 < 0 {
        b2 -= m2;
        s2 -= m2;
        m2 = 0;
    }
    let b_bits = n_fract_bits + b2 + n5_bits(b5);
    let ten_s_bits = s2 + 1 + n5_bits(s5 + 1);
    // E-form always has a digit after the first: the first digit never stops.
    let e_form = |dec_exp: i32| !(-3..8).contains(&dec_exp);
    let mut digits: Vec<u8> = Vec::with_capacity(20);
    let (low, high, low_digit_difference);
    if b_bits < 64 && ten_s_bits < 64 {
        // Java's int or long arithmetic, overflow and all.
        macro_rules! fixed {
            ($t:ty) => {{
                let b0 = (fract_bits as $t)
                    .wrapping_mul(pow5(b5) as $t)
                    .wrapping_shl(b2 as u32);
                let s = (pow5(s5) as $t).wrapping_shl(s2 as u32);
                let mut m = (pow5(m5) as $t).wrapping_shl(m2 as u32);
                let tens = s.wrapping_mul(10);
                let mut q = b0 / s;
                let mut b = (b0 % s).wrapping_mul(10);
                m = m.wrapping_mul(10);
                let mut lo = b < m;
                let mut hi = b.wrapping_add(m) > tens;
                if q == 0 && !hi {
                    dec_exp -= 1;
                } else {
                    digits.push(q as u8);
                }
                if e_form(dec_exp) {
                    lo = false;
                    hi = false;
                }
                while !lo && !hi {
                    q = b / s;
                    b = (b % s).wrapping_mul(10);
                    m = m.wrapping_mul(10);
                    if m > 0 {
                        lo = b < m;
                        hi = b.wrapping_add(m) > tens;
                    } else {
                        lo = true;
                        hi = true;
                    }
                    digits.push(q as u8);
                }
                (
                    lo,
                    hi,
                    i64::from(b.wrapping_shl(1).wrapping_sub(tens).signum()),
                )
            }};
        }
        (low, high, low_digit_difference) = if b_bits < 32 && ten_s_bits < 32 {
            fixed!(i32)
        } else {
            fixed!(i64)
        };
    } else {
        let pow52 = |p5: i32, p2: i32| (BigUint::from(5u32).pow(p5 as u32)) << (p2 as usize);
        let s = pow52(s5, s2);
        let mut b =
            (BigUint::from(fract_bits) * BigUint::from(5u32).pow(b5 as u32)) << (b2 as usize);
        let mut m = pow52(m5 + 1, m2 + 1);
        let tens = pow52(s5 + 1, s2 + 1);
        let ten = BigUint::from(10u32);
        let step = |b: &mut BigUint| -> u8 {
            let q = &*b / &s;
            *b = (&*b % &s) * &ten;
            q.to_u32_digits().first().copied().unwrap_or(0) as u8
        };
        let q = step(&mut b);
        let mut lo = b < m;
        let mut hi = tens <= &b + &m;
        if q == 0 && !hi {
            dec_exp -= 1;
        } else {
            digits.push(q);
        }
        if e_form(dec_exp) {
            lo = false;
            hi = false;
        }
        while !lo && !hi {
            let q = step(&mut b);
            m *= &ten;
            lo = b < m;
            hi = tens <= &b + &m;
            digits.push(q);
        }
        let diff = if hi && lo {
            match (&b << 1usize).cmp(&tens) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }
        } else {
            0
        };
        (low, high, low_digit_difference) = (lo, hi, diff);
    }
    let mut out = Digits {
        digits,
        dec_exponent: dec_exp + 1,
    };
    if high {
        let up = if low {
            match low_digit_difference {
                0 => out.digits.last().is_some_and(|d| d & 1 != 0),
                d => d > 0,
            }
        } else {
            true
        };
        if up {
            round_up(&mut out);
        }
    }
    out
}

/// `roundup`: adds one to the last digit, carrying.
fn round_up(d: &mut Digits) {
    let mut i = d.digits.len();
    while i > 0 {
        i -= 1;
        if d.digits[i] == 9 && i > 0 {
            d.digits[i] = 0;
            continue;
        }
        if d.digits[i] == 9 {
            // Carry out of the first digit: 1 and a larger exponent.
            d.digits[0] = 1;
            d.dec_exponent += 1;
            return;
        }
        d.digits[i] += 1;
        return;
    }
}

/// `Float.toString(f)` of a finite, non-zero `f` as Java 17 writes it.
pub fn java17_float_to_string(f: f32) -> String {
    let bits = f.to_bits();
    let negative = bits >> 31 != 0;
    let mut fract = bits & 0x7F_FFFF;
    let mut bin_exp = ((bits >> 23) & 0xFF) as i32;
    let n_significant_bits;
    if bin_exp == 0 {
        let leading = fract.leading_zeros() as i32;
        let shift = leading - (31 - 23);
        fract <<= shift;
        bin_exp = 1 - shift;
        n_significant_bits = 32 - leading;
    } else {
        fract |= 0x80_0000;
        n_significant_bits = 24;
    }
    bin_exp -= 127;
    let d = dtoa(
        bin_exp,
        u64::from(fract) << (EXP_SHIFT - 23),
        n_significant_bits,
    );
    layout(negative, &d)
}

/// `getChars`: plain for 10^-3 <= |f| < 10^7, else `d.dddE±n`.
fn layout(negative: bool, d: &Digits) -> String {
    let digit = |i: usize| char::from(b'0' + d.digits[i]);
    let n = d.digits.len();
    let e = d.dec_exponent;
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if e > 0 && e < 8 {
        let whole = n.min(e as usize);
        out.extend((0..whole).map(digit));
        if whole < e as usize {
            out.extend(std::iter::repeat_n('0', e as usize - whole));
            out.push_str(".0");
        } else {
            out.push('.');
            if whole < n {
                out.extend((whole..n).map(digit));
            } else {
                out.push('0');
            }
        }
    } else if e <= 0 && e > -3 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-e) as usize));
        out.extend((0..n).map(digit));
    } else {
        out.push(digit(0));
        out.push('.');
        if n > 1 {
            out.extend((1..n).map(digit));
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&(e - 1).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java 17's `Float.toString` of these bits (the first two are where it is not the
    /// shortest-nearest text).
    #[test]
    fn matches_java_17() {
        for (bits, java) in [
            (0xea57e4b1u32, "-6.5249753E25"),
            (0x6a08ac42, "4.1306843E25"),
            (0x3f800000, "1.0"),
            (0x3dcccccd, "0.1"),
            (0x4b189680, "1.0E7"),
            (0x4b18967f, "9999999.0"),
            (0x3a83126f, "0.001"),
            (0x3a83126e, "9.999999E-4"),
            (0x00000001, "1.4E-45"),
            (0x7f7fffff, "3.4028235E38"),
            (0x00800000, "1.17549435E-38"),
            (0x4e6e6b28, "1.0E9"),
            (0x3eaaaaab, "0.33333334"),
            (0xc2f6e979, "-123.456"),
        ] {
            assert_eq!(
                java17_float_to_string(f32::from_bits(bits)),
                java,
                "{bits:#x}"
            );
        }
    }
}
