//! Java's `SimpleDateFormat` as Kafka's TimestampConverter and TimestampRouter use it: in UTC,
//! locale en-US, lenient parsing. Patterns are compiled once; formatting and parsing then work
//! on epoch milliseconds.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// The calendar fields of one UTC day (Julian before 1582-10-15, as `GregorianCalendar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFields {
    /// Days since 1970-01-01.
    pub days: i64,
    y: i64,
    m: u32,
    d: u32,
    dow: usize,
    day_of_year: i64,
}

impl DayFields {
    pub fn of(days: i64) -> Self {
        let (y, m, d) = hybrid_from_days(days);
        Self {
            days,
            y,
            m,
            d,
            // 1970-01-01 was a Thursday.
            dow: (days + 4).rem_euclid(7) as usize,
            day_of_year: days - hybrid_days_from_civil(y, 1, 1) + 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleDateFormat {
    pattern: String,
    parts: Vec<Part>,
}

/// Why a pattern is refused: Java's `IllegalArgumentException` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(pub String);

const FIELDS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

impl SimpleDateFormat {
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parts: Vec<Part> = Vec::new();
        let mut i = 0;
        let push_lit = |parts: &mut Vec<Part>, s: &str| match parts.last_mut() {
            Some(Part::Literal(l)) => l.push_str(s),
            _ => parts.push(Part::Literal(s.to_string())),
        };
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    push_lit(&mut parts, "'");
                    i += 2;
                    continue;
                }
                let mut lit = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(PatternError("Unterminated quote".into())),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            lit.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            lit.push(*ch);
                            i += 1;
                        }
                    }
                }
                push_lit(&mut parts, &lit);
                continue;
            }
            if c.is_ascii_alphabetic() {
                if !FIELDS.contains(c) {
                    return Err(PatternError(format!("Illegal pattern character '{c}'")));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                parts.push(Part::Field(c, n));
                i += n;
                continue;
            }
            push_lit(&mut parts, &c.to_string());
            i += 1;
        }
        Ok(Self {
            pattern: pattern.to_string(),
            parts,
        })
    }

    /// True when the pattern formats only the calendar date (y, M, d and literals), so one
    /// formatted string serves every timestamp of the same UTC day.
    pub fn date_only(&self) -> bool {
        self.parts.iter().all(|p| {
            matches!(
                p,
                Part::Literal(_) | Part::Field('y' | 'Y' | 'M' | 'L' | 'd' | 'G', _)
            )
        })
    }

    /// Whether the pattern writes words that depend on the locale: month names (`MMM`), day
    /// names (`E`), am/pm (`a`), eras (`G`) or zone names (`z`).
    pub fn has_locale_text(&self) -> bool {
        self.parts.iter().any(|p| match p {
            Part::Field('M' | 'L', n) => *n >= 3,
            Part::Field(c, _) => matches!(c, 'E' | 'a' | 'G' | 'z'),
            Part::Literal(_) => false,
        })
    }

    /// `toPattern()`.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats epoch milliseconds in UTC.
    pub fn format(&self, ms: i64) -> String {
        let mut out = String::new();
        self.format_into(ms, &mut out);
        out
    }

    /// [`SimpleDateFormat::format`] appended to `out` (a buffer reused across rows).
    pub fn format_into(&self, ms: i64, out: &mut String) {
        let days = ms.div_euclid(86_400_000);
        self.format_day_into(ms, &DayFields::of(days), out);
    }

    /// [`SimpleDateFormat::format_into`] with the calendar fields of `ms`'s day computed
    /// already (a column's rows mostly share few days: [`DayFields`] is kept across rows).
    pub fn format_day_into(&self, ms: i64, day: &DayFields, out: &mut String) {
        let tod = ms.rem_euclid(86_400_000);
        let DayFields {
            days,
            y,
            m,
            d,
            dow,
            day_of_year,
        } = *day;
        let (hour, minute, second, milli) = (
            tod / 3_600_000,
            (tod / 60_000) % 60,
            (tod / 1000) % 60,
            tod % 1000,
        );
        let pad = |out: &mut String, v: i64, n: usize| {
            // Two to four digits of a non-negative value (every time-of-day field, months,
            // days, four-digit years): written digit by digit, no loop over a scratch buffer.
            if (1..=4).contains(&n) && (0..10_000).contains(&v) {
                let v = v as u32;
                let width = if v >= 1000 {
                    4
                } else if v >= 100 {
                    3
                } else if v >= 10 {
                    2
                } else {
                    1
                };
                for _ in width..n {
                    out.push('0');
                }
                let digit = |p: u32| char::from(b'0' + (v / p % 10) as u8);
                for p in [1000, 100, 10, 1].into_iter().skip(4 - width.max(1)) {
                    out.push(digit(p));
                }
                return;
            }
            // `format!("{v:0n$}")` without the formatting machinery: the sign counts in `n`.
            let mut digits = [b'0'; 20];
            let mut at = digits.len();
            let mut rest = v.unsigned_abs();
            loop {
                at -= 1;
                digits[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            let len = digits.len() - at;
            if v < 0 {
                out.push('-');
            }
            for _ in (len + usize::from(v < 0))..n {
                out.push('0');
            }
            out.extend(digits[at..].iter().map(|&b| char::from(b)));
        };
        let out = &mut *out;
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Field(c, n) => {
                    let n = *n;
                    match c {
                        'G' => out.push_str(if y > 0 { "AD" } else { "BC" }),
                        'y' | 'Y' => {
                            let year = if y > 0 { y } else { 1 - y };
                            if n == 2 {
                                pad(out, year % 100, 2)
                            } else {
                                pad(out, year, n)
                            }
                        }
                        'M' | 'L' => match n {
                            1 | 2 => pad(out, i64::from(m), n),
                            3 => out.push_str(&MONTHS[(m - 1) as usize][..3]),
                            _ => out.push_str(MONTHS[(m - 1) as usize]),
                        },
                        'd' => pad(out, i64::from(d), n),
                        'D' => pad(out, day_of_year, n),
                        'E' => {
                            if n >= 4 {
                                out.push_str(DAYS[dow])
                            } else {
                                out.push_str(&DAYS[dow][..3])
                            }
                        }
                        'u' => pad(out, if dow == 0 { 7 } else { dow as i64 }, n),
                        'F' => pad(out, (i64::from(d) - 1) / 7 + 1, n),
                        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                        'H' => pad(out, hour, n),
                        'k' => pad(out, if hour == 0 { 24 } else { hour }, n),
                        'K' => pad(out, hour % 12, n),
                        'h' => pad(out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
                        'm' => pad(out, minute, n),
                        's' => pad(out, second, n),
                        'S' => pad(out, milli, n),
                        'z' => out.push_str(if n >= 4 {
                            "Coordinated Universal Time"
                        } else {
                            "UTC"
                        }),
                        'Z' => out.push_str("+0000"),
                        'X' => out.push('Z'),
                        'w' | 'W' => pad(out, week_of(days, *c == 'w'), n),
                        _ => {}
                    }
                }
            }
        }
    }

    /// Parses leniently from the start of `text` (trailing text is ignored, as
    /// `DateFormat.parse(String)` does); `None` when it does not match.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let t: Vec<char> = text.chars().collect();
        let mut pos = 0usize;
        let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
        let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut before_christ = false;
        let mut hour12: Option<i64> = None;
        let mut offset_ms = 0i64;
        for (idx, p) in self.parts.iter().enumerate() {
            match p {
                Part::Literal(l) => {
                    for lc in l.chars() {
                        if t.get(pos) != Some(&lc) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Part::Field(c, n) => {
                    // Like SimpleDateFormat.subParse, skip spaces and tabs before a field; the
                    // end of the text there fails it.
                    let start = pos;
                    while matches!(t.get(pos), Some(' ' | '\t')) {
                        pos += 1;
                    }
                    if pos >= t.len() {
                        return None;
                    }
                    // Abutting numeric fields: a numeric field followed directly by another
                    // numeric field reads at most its width, counted from before the spaces
                    // (`obeyCount`: `yyyyMMdd` reads "09 00" as 9, 0, 0).
                    let next_numeric = matches!(self.parts.get(idx + 1), Some(Part::Field(nc, nn)) if is_numeric(*nc, *nn));
                    let max = if next_numeric {
                        Some((start + *n).checked_sub(pos)?)
                    } else {
                        None
                    };
                    if next_numeric && start + *n > t.len() {
                        return None;
                    }
                    match c {
                        'M' | 'L' if *n >= 3 => {
                            let (v, len) = match_name(&t[pos..], &MONTHS)?;
                            month = v as i64 + 1;
                            pos += len;
                        }
                        'E' => {
                            let (_, len) = match_name(&t[pos..], &DAYS)?;
                            pos += len;
                        }
                        'a' => {
                            let (v, len) = match_name(&t[pos..], &["AM", "PM"])?;
                            pm = Some(v == 1);
                            pos += len;
                        }
                        'G' => {
                            let (v, len) = match_name(&t[pos..], &["AD", "BC"])?;
                            before_christ = v == 1;
                            pos += len;
                        }
                        'z' | 'Z' | 'X' => {
                            let (o, len) = parse_zone(&t[pos..])?;
                            offset_ms = o;
                            pos += len;
                        }
                        _ => {
                            let (v, len) = parse_number(&t[pos..], max)?;
                            pos += len;
                            match c {
                                'y' | 'Y' => {
                                    // Two-digit years map to within 80 years before / 20 after now.
                                    year = if *n <= 2 && len == 2 && v >= 0 {
                                        2000 + v - if 2000 + v > 2046 { 100 } else { 0 }
                                    } else {
                                        v
                                    };
                                }
                                'M' | 'L' => month = v,
                                'd' => day = v,
                                'D' => {
                                    month = 1;
                                    day = v;
                                }
                                'H' | 'k' => hour = if *c == 'k' && v == 24 { 0 } else { v },
                                'K' | 'h' => {
                                    hour12 = Some(if *c == 'h' && v == 12 { 0 } else { v })
                                }
                                'm' => minute = v,
                                's' => second = v,
                                'S' => milli = v,
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
        if let Some(h) = hour12 {
            hour = h + if pm == Some(true) { 12 } else { 0 };
        } else if pm == Some(true) && hour < 12 {
            hour += 12;
        }
        // Years of the BC era count back from 1 BC, the year before 1 AD.
        if before_christ {
            year = 1 - year;
        }
        let days = hybrid_days_from_civil(year, month, day);
        Some(
            days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli
                - offset_ms,
        )
    }
}

fn is_numeric(c: char, n: usize) -> bool {
    match c {
        'M' | 'L' => n <= 2,
        'E' | 'a' | 'G' | 'z' | 'Z' | 'X' => false,
        _ => true,
    }
}

fn match_name(t: &[char], names: &[&str]) -> Option<(usize, usize)> {
    // Longest case-insensitive match among full and 3-letter names.
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in names.iter().enumerate() {
        for cand in [*name, &name[..name.len().min(3)]] {
            let len = cand.chars().count();
            if t.len() >= len
                && t[..len]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case(cand)
                && best.is_none_or(|(_, l)| len > l)
            {
                best = Some((i, len));
            }
        }
    }
    best
}

/// A number from the start of `t`. An abutting field (`max`) reads only its width of
/// characters, a sign included, and fails when fewer are left (`SimpleDateFormat.subParse`
/// with `obeyCount`): `yyyyMMdd` reads "2024-01-05" as 2024, -0, 1.
fn parse_number(t: &[char], max: Option<usize>) -> Option<(i64, usize)> {
    let t = match max {
        Some(m) => t.get(..m)?,
        None => t,
    };
    let mut i = 0;
    let neg = t.first() == Some(&'-');
    if neg {
        i += 1;
    }
    let start = i;
    while i < t.len() && t[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return None;
    }
    let v: i64 = t[start..i].iter().collect::<String>().parse().ok()?;
    Some((if neg { -v } else { v }, i))
}

fn parse_zone(t: &[char]) -> Option<(i64, usize)> {
    let s: String = t.iter().collect();
    if s.starts_with('Z') {
        return Some((0, 1));
    }
    for name in ["UTC", "GMT"] {
        if s.starts_with(name) {
            return Some((0, 3));
        }
    }
    let sign = match t.first()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = t[1..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == ':')
        .collect();
    let clean: String = digits.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match clean.len() {
        2 => (clean.parse::<i64>().ok()?, 0),
        4 => (
            clean[..2].parse::<i64>().ok()?,
            clean[2..].parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    Some((sign * (h * 3_600_000 + m * 60_000), 1 + digits.len()))
}

fn week_of(days: i64, of_year: bool) -> i64 {
    let (y, _, d) = hybrid_from_days(days);
    if of_year {
        // en-US weeks: Sunday first, week 1 holds January 1st, so the days of late
        // December in the week of next January 1st are week 1 of the next year.
        let next_jan1 = hybrid_days_from_civil(y + 1, 1, 1);
        let week_start = days - (days + 4).rem_euclid(7);
        if next_jan1 - week_start < 7 {
            return 1;
        }
        let jan1 = hybrid_days_from_civil(y, 1, 1);
        let jan1_dow = (jan1 + 4).rem_euclid(7); // 0 = Sunday
        (days - jan1 + jan1_dow) / 7 + 1
    } else {
        let first = days - i64::from(d) + 1;
        let first_dow = (first + 4).rem_euclid(7);
        (i64::from(d) - 1 + first_dow) / 7 + 1
    }
}

/// The first day of the Gregorian calendar in Java's `GregorianCalendar` (1582-10-15), in
/// days since the epoch; days before it are dates of the Julian calendar.
const GREGORIAN_CUTOVER_DAY: i64 = -141_427;

/// The date of `days` since the epoch as Java's default calendar has it: Gregorian from
/// 1582-10-15, Julian before (so far-past instants format as Java formats them).
pub(crate) fn hybrid_from_days(days: i64) -> (i64, u32, u32) {
    if days >= GREGORIAN_CUTOVER_DAY {
        return civil_from_days(days);
    }
    // Julian calendar, years from March (leap day last), in four-year cycles.
    let z = days + 719_470;
    let cycle = z.div_euclid(1461);
    let doc = z - cycle * 1461;
    let yoc = (doc - doc / 1460) / 365;
    let doy = doc - 365 * yoc;
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoc + cycle * 4 + i64::from(m <= 2), m, d)
}

/// Days since the epoch of a date in Java's default calendar (see `hybrid_from_days`);
/// months and days out of range roll over.
pub(crate) fn hybrid_days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let months = y * 12 + (m - 1);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    if (y, m, d) >= (1582, 10, 15) {
        return days_from_civil_lenient(y, m, d);
    }
    let y_adj = if m <= 2 { y - 1 } else { y };
    let cycle = y_adj.div_euclid(4);
    let yoc = y_adj - cycle * 4;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    cycle * 1461 + yoc * 365 + doy - 719_470 + (d - 1)
}

/// Days since the epoch of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil_lenient(y, i64::from(m), i64::from(d))
}

/// Like `days_from_civil`, but months and days out of range roll over (lenient calendars).
pub fn days_from_civil_lenient(y: i64, m: i64, d: i64) -> i64 {
    let months = y * 12 + (m - 1);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    let y_adj = if m <= 2 { y - 1 } else { y };
    let era = y_adj.div_euclid(400);
    let yoe = y_adj - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (d - 1)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_text_is_names_not_numbers() {
        for (pattern, text) in [
            ("yyyy/MM/dd/HH", false),
            ("'year'=yyyy/'month'=MM", false),
            ("yyyy-MMM-dd", true),
            ("EEE", true),
            ("hh a", true),
            ("'MMM EEE'/yyyy", false),
        ] {
            let f = SimpleDateFormat::new(pattern).expect("valid pattern");
            assert_eq!(f.has_locale_text(), text, "{pattern}");
        }
    }

    #[test]
    fn dates_before_the_gregorian_cutover_are_julian_as_in_java() {
        let f = SimpleDateFormat::new("yyyy-MM-dd G").unwrap();
        // The cutover: Julian 1582-10-04 is followed by Gregorian 1582-10-15.
        assert_eq!(f.format(-12_219_292_800_000), "1582-10-15 AD");
        assert_eq!(f.format(-12_219_292_800_000 - 86_400_000), "1582-10-04 AD");
        // Java: new SimpleDateFormat(...).format(new Date(-62135596800000L)) in UTC.
        assert_eq!(f.format(-62_135_596_800_000), "0001-01-03 AD");
        // `Date.toString` of the same instant: `java::tests`.
        assert_eq!(
            SimpleDateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS")
                .unwrap()
                .format(-62_135_596_800_000_000),
            "1966990-09-20T00:00:00.000"
        );
        for ms in [
            -12_219_292_800_000,
            -12_219_292_800_000 - 86_400_000,
            -62_135_596_800_000,
            -100_000_000_000_000,
            0,
        ] {
            let g = SimpleDateFormat::new("G yyyy-MM-dd HH:mm:ss.SSS").unwrap();
            assert_eq!(g.parse(&g.format(ms)).map(|p| p == ms), Some(true), "{ms}");
        }
    }

    #[test]
    fn formats_and_parses() {
        let f = SimpleDateFormat::new("yyyyMMdd").unwrap();
        assert_eq!(f.format(1_700_000_000_000), "20231114");
        assert_eq!(f.parse("20231114"), Some(1_699_920_000_000));
        // Abutting fields read their width, a sign included: 2024, month -0, day 1 (Java's
        // lenient 2024-00-01 is 2023-12-01); too short a text fails.
        assert_eq!(
            f.parse("2024-01-05"),
            Some(days_from_civil(2023, 12, 1) * 86_400_000)
        );
        assert_eq!(f.parse("20231"), None);
        assert_eq!(f.parse("2023111"), Some(1_698_796_800_000));
        // Spaces before a field count in an abutting field's width (Java 17's answers).
        for (text, want) in [
            ("09 00 ", Some(-61_886_073_600_000)),
            ("09 00", Some(-61_886_073_600_000)),
            ("2024 0101", Some(1_710_028_800_000)),
            ("20 24", Some(-61_533_302_400_000)),
            ("1 2 3", Some(-62_132_918_400_000)),
            ("12 3456", Some(-61_744_204_800_000)),
            ("0900", None),
            ("09 0", None),
            (" 9", None),
        ] {
            assert_eq!(f.parse(text), want, "{text:?}");
        }
        let f = SimpleDateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").unwrap();
        assert_eq!(f.format(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(f.parse("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
        let f = SimpleDateFormat::new("EEE, d MMM yyyy hh:mm a").unwrap();
        assert_eq!(f.format(1_700_000_000_000), "Tue, 14 Nov 2023 10:13 PM");
        assert_eq!(
            SimpleDateFormat::new("yyyy-MM-dd")
                .unwrap()
                .parse("2023-02-30"),
            Some(days_from_civil(2023, 3, 2) * 86_400_000)
        );
        assert_eq!(
            SimpleDateFormat::new("'unterminated").unwrap_err().0,
            "Unterminated quote"
        );
        assert!(SimpleDateFormat::new("yyyy-bb").is_err());
    }

    #[test]
    fn padded_numbers_match_formats_zero_padding() {
        // Every width from 1 to 6 (the short fields' fast path and the general one) over
        // values of every digit count, against `format!`'s zero padding.
        let patterns = [
            "y-M-d H:m:s.S",
            "yy-MM-dd HH:mm:ss.SS",
            "yyyy-MM-dd'T'HH:mm:ss.SSS",
            "yyyyyy-MMMM ddd HHHH:mmmmm:ssssss.SSSSSS",
        ];
        let fs: Vec<_> = patterns
            .iter()
            .map(|p| SimpleDateFormat::new(p).unwrap())
            .collect();
        for ms in [
            0_i64,
            1,
            999,
            59_999,
            3_599_999,
            86_399_999,
            1_700_000_000_123,
            253_402_300_799_999, // 9999-12-31T23:59:59.999
            253_402_300_800_000, // 10000-01-01
            -62_135_596_800_000, // 0001-01-01
            -1_000,
        ] {
            let day = DayFields::of(ms.div_euclid(86_400_000));
            let tod = ms.rem_euclid(86_400_000);
            let (h, mi, sec, milli) = (
                tod / 3_600_000,
                tod / 60_000 % 60,
                tod / 1000 % 60,
                tod % 1000,
            );
            let year = if day.y > 0 { day.y } else { 1 - day.y };
            let (m, d) = (day.m, day.d);
            let expected = [
                format!("{year}-{m}-{d} {h}:{mi}:{sec}.{milli}"),
                format!(
                    "{:02}-{m:02}-{d:02} {h:02}:{mi:02}:{sec:02}.{milli:02}",
                    year % 100
                ),
                format!("{year:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{milli:03}"),
                format!(
                    "{year:06}-{} {d:03} {h:04}:{mi:05}:{sec:06}.{milli:06}",
                    MONTHS[(m - 1) as usize]
                ),
            ];
            for (f, e) in fs.iter().zip(&expected) {
                let mut out = String::new();
                f.format_day_into(ms, &day, &mut out);
                assert_eq!(&out, e, "{ms}");
            }
        }
    }
}
