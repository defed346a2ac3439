//! Byte classes of 16-byte chunks for the JSON scanners and writers, with SSE2 (part of every
//! x86_64 CPU, so no runtime detection); other targets use the word-at-a-time loops instead.

/// One bit per byte of a 16-byte chunk, lowest bit first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Classes16 {
    /// `"`, backslash or a control character (below 0x20).
    pub(crate) stops: u32,
    /// 0x80 and above (not ASCII).
    pub(crate) high: u32,
    /// 0xF0 and above (lead bytes of 4-byte UTF-8 sequences).
    pub(crate) four_byte_lead: u32,
}

/// The classes of the bytes of `chunk`.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn classes16(chunk: &[u8; 16]) -> Classes16 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };
    #[allow(unsafe_code)]
    // SAFETY: SSE2 is part of the x86_64 baseline, so every CPU this code runs on has these
    // instructions; the unaligned load reads exactly the 16 bytes of `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `c <= 0x1F`: the minimum with 0x1F is `c` itself.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
        // Unsigned `c >= 0xF0`: the maximum with 0xF0 is `c` itself.
        let four = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0xF0_u8 as i8)), v);
        Classes16 {
            stops: _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32,
            high: _mm_movemask_epi8(v) as u32,
            four_byte_lead: _mm_movemask_epi8(four) as u32,
        }
    }
}

/// The classes of the bytes of `chunk`, a byte at a time where SSE2 is not there.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn classes16(chunk: &[u8; 16]) -> Classes16 {
    let mut c = Classes16 {
        stops: 0,
        high: 0,
        four_byte_lead: 0,
    };
    for (i, &b) in chunk.iter().enumerate() {
        let bit = 1u32 << i;
        if b == b'"' || b == b'\\' || b < 0x20 {
            c.stops |= bit;
        }
        if b >= 0x80 {
            c.high |= bit;
        }
        if b >= 0xF0 {
            c.four_byte_lead |= bit;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_agree_with_byte_tests() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..5_000 {
            let mut chunk = [0u8; 16];
            for b in &mut chunk {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            let bits = |f: &dyn Fn(u8) -> bool| {
                chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |m, (i, &c)| if f(c) { m | 1 << i } else { m })
            };
            let c = classes16(&chunk);
            assert_eq!(c.stops, bits(&|c| c == b'"' || c == b'\\' || c < 0x20));
            assert_eq!(c.high, bits(&|c| c >= 0x80));
            assert_eq!(c.four_byte_lead, bits(&|c| c >= 0xF0));
        }
    }
}
