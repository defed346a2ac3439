//! Time zones for `timezone` as Confluent's storage connectors take it (any Java zone id):
//! fixed offsets (`UTC`, `+05:30`, `UTC-3`) and IANA names (`America/New_York`) from the
//! system's tz database (TZif files, `$TZDIR` or `/usr/share/zoneinfo`), with the file's
//! POSIX rule for instants after its last listed transition.

use std::path::PathBuf;

use sluice_codecs::java::simple_date_format::days_from_civil_lenient as days_from_civil;
use sluice_codecs::reference::civil_from_days;

/// A zone: its UTC offset at any instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Transitions (seconds since the epoch) and the offset from each on, ascending.
    transitions: Vec<(i64, i64)>,
    /// The offset before the first transition (or always, for fixed zones), in seconds.
    initial: i64,
    /// The rule after the last transition.
    rule: Option<PosixRule>,
}

impl Zone {
    pub fn fixed(offset_ms: i64) -> Self {
        Zone {
            transitions: Vec::new(),
            initial: offset_ms / 1000,
            rule: None,
        }
    }

    /// `timezone` as Confluent accepts it; `None` when it names no zone known here.
    pub fn parse(tz: &str) -> Option<Self> {
        let tz = tz.trim();
        if let Some(ms) = fixed_offset(tz) {
            return Some(Self::fixed(ms));
        }
        // Zone ids are paths under the database: no absolute paths or `..` segments.
        let id_ok = !tz.is_empty()
            && !tz.starts_with('/')
            && tz
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..")
            && tz
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-+".contains(&b));
        if !id_ok {
            return None;
        }
        zone_dirs()
            .into_iter()
            .find_map(|dir| std::fs::read(dir.join(tz)).ok())
            .and_then(|bytes| Self::from_tzif(&bytes))
    }

    /// Offset from UTC at `utc_ms`, in ms.
    pub fn offset_ms(&self, utc_ms: i64) -> i64 {
        let t = utc_ms.div_euclid(1000);
        let seconds = match self.transitions.partition_point(|(at, _)| *at <= t) {
            0 => self.initial,
            n if n == self.transitions.len() && self.rule.is_some() => {
                self.rule.as_ref().map_or(self.initial, |r| r.offset(t))
            }
            n => self.transitions[n - 1].1,
        };
        seconds * 1000
    }

    /// A TZif file (RFC 8536), version 2 or later data block when present.
    fn from_tzif(b: &[u8]) -> Option<Self> {
        let header = |at: usize| -> Option<[usize; 6]> {
            (b.get(at..at + 4)? == b"TZif").then_some(())?;
            let mut counts = [0usize; 6];
            for (k, c) in counts.iter_mut().enumerate() {
                let p = at + 20 + 4 * k;
                *c = u32::from_be_bytes(b.get(p..p + 4)?.try_into().ok()?) as usize;
            }
            Some(counts)
        };
        let block_len = |c: [usize; 6], time: usize| {
            let [isut, isstd, leap, times, types, chars] = c;
            times * time + times + types * 6 + chars + leap * (time + 4) + isstd + isut
        };
        let v1 = header(0)?;
        let version = *b.get(4)?;
        let (at, counts, time) = if version >= b'2' {
            let second = 44 + block_len(v1, 4);
            (second + 44, header(second)?, 8)
        } else {
            (44, v1, 4)
        };
        let [_, _, _, times, types, _] = counts;
        let read_time = |p: usize| -> Option<i64> {
            Some(if time == 8 {
                i64::from_be_bytes(b.get(p..p + 8)?.try_into().ok()?)
            } else {
                i64::from(i32::from_be_bytes(b.get(p..p + 4)?.try_into().ok()?))
            })
        };
        let type_at = at + times * time + times;
        let offset_of = |t: usize| -> Option<i64> {
            let p = type_at + 6 * t;
            Some(i64::from(i32::from_be_bytes(
                b.get(p..p + 4)?.try_into().ok()?,
            )))
        };
        let mut transitions = Vec::with_capacity(times);
        for k in 0..times {
            let index = usize::from(*b.get(at + times * time + k)?);
            (index < types).then_some(())?;
            transitions.push((read_time(at + k * time)?, offset_of(index)?));
        }
        // Before the first transition: the first standard-time type (RFC 8536 3.2), else 0.
        let initial = (0..types)
            .find(|&t| b.get(type_at + 6 * t + 4) == Some(&0))
            .map_or(offset_of(0), offset_of)?;
        let rule = if version >= b'2' {
            let footer = b.get(at + block_len(counts, 8)..)?;
            let text = std::str::from_utf8(footer).ok()?;
            let tz = text
                .trim_start_matches('\n')
                .split('\n')
                .next()
                .unwrap_or("");
            PosixRule::parse(tz)
        } else {
            None
        };
        Some(Zone {
            transitions,
            initial,
            rule,
        })
    }
}

/// Where zone files are looked up.
fn zone_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("TZDIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push("/usr/share/zoneinfo".into());
    dirs.push("/usr/lib/zoneinfo".into());
    dirs
}

/// `UTC`, `GMT`, `Z`, `+hh:mm`, `UTC+hh:mm`, `GMT-3`, as ms east of UTC.
fn fixed_offset(tz: &str) -> Option<i64> {
    if tz.is_empty() {
        return None;
    }
    let rest = tz
        .strip_prefix("UTC")
        .or_else(|| tz.strip_prefix("GMT"))
        .unwrap_or(tz);
    if rest.is_empty() || rest == "Z" || rest == "UT" {
        return Some(0);
    }
    let (sign, rest) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 18 && m < 60).then_some(sign * (h * 3_600_000 + m * 60_000))
}

/// A POSIX TZ rule (`EST5EDT,M3.2.0,M11.1.0`): standard and daylight offsets and when
/// daylight time starts and ends each year.
#[derive(Debug, Clone, PartialEq)]
struct PosixRule {
    /// Seconds east of UTC.
    std: i64,
    dst: Option<(i64, RuleDate, RuleDate)>,
}

/// `Mm.w.d/time`, `Jn/time` or `n/time`: a day of the year and a local time (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
enum RuleDate {
    Month {
        month: i64,
        week: i64,
        weekday: i64,
        time: i64,
    },
    /// Day 1..=365, February 29 never counted.
    Julian { day: i64, time: i64 },
    /// Day 0..=365, February 29 counted in leap years.
    Zero { day: i64, time: i64 },
}

impl PosixRule {
    fn parse(s: &str) -> Option<Self> {
        let mut p = Parser {
            s: s.as_bytes(),
            i: 0,
        };
        p.name()?;
        let std = -p.offset()?;
        if p.done() {
            return Some(PosixRule { std, dst: None });
        }
        p.name()?;
        let dst = if p.peek() == Some(b',') {
            std + 3600
        } else {
            -p.offset()?
        };
        p.eat(b',')?;
        let start = p.date()?;
        p.eat(b',')?;
        let end = p.date()?;
        p.done().then_some(PosixRule {
            std,
            dst: Some((dst, start, end)),
        })
    }

    fn offset(&self, t: i64) -> i64 {
        let Some((dst, start, end)) = self.dst else {
            return self.std;
        };
        let year = civil_from_days((t + self.std).div_euclid(86_400)).0;
        // Start is in standard local time, end in daylight local time.
        let begins = start.local_seconds(year) - self.std;
        let ends = end.local_seconds(year) - dst;
        let in_dst = if begins < ends {
            begins <= t && t < ends
        } else {
            !(ends <= t && t < begins)
        };
        if in_dst { dst } else { self.std }
    }
}

impl RuleDate {
    /// Local seconds since the epoch at which this date and time falls in `year`.
    fn local_seconds(self, year: i64) -> i64 {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let jan1 = days_from_civil(year, 1, 1);
        let (day, time) = match self {
            RuleDate::Month {
                month,
                week,
                weekday,
                time,
            } => {
                let first = days_from_civil(year, month, 1);
                let first_weekday = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
                let mut day = first + (weekday - first_weekday).rem_euclid(7) + (week - 1) * 7;
                let next_month = days_from_civil(year + month / 12, month % 12 + 1, 1);
                while day >= next_month {
                    day -= 7;
                }
                (day, time)
            }
            RuleDate::Julian { day, time } => (jan1 + day - 1 + i64::from(leap && day >= 60), time),
            RuleDate::Zero { day, time } => (jan1 + day, time),
        };
        day * 86_400 + time
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn done(&self) -> bool {
        self.i == self.s.len()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// A zone abbreviation: letters, or anything in angle brackets.
    fn name(&mut self) -> Option<()> {
        let start = self.i;
        if self.eat(b'<').is_some() {
            while self.peek()? != b'>' {
                self.i += 1;
            }
            self.i += 1;
            return Some(());
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        (self.i - start >= 3).then_some(())
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, as written (west positive).
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.peek() {
            Some(b'-') => {
                self.i += 1;
                -1
            }
            Some(b'+') => {
                self.i += 1;
                1
            }
            _ => 1,
        };
        let mut seconds = self.number()? * 3600;
        if self.eat(b':').is_some() {
            seconds += self.number()? * 60;
            if self.eat(b':').is_some() {
                seconds += self.number()?;
            }
        }
        Some(sign * seconds)
    }

    fn date(&mut self) -> Option<RuleDate> {
        let time = |p: &mut Self| -> Option<i64> {
            if p.eat(b'/').is_some() {
                p.offset()
            } else {
                Some(7200)
            }
        };
        if self.eat(b'M').is_some() {
            let month = self.number()?;
            self.eat(b'.')?;
            let week = self.number()?;
            self.eat(b'.')?;
            let weekday = self.number()?;
            let ok = (1..=12).contains(&month) && (1..=5).contains(&week) && weekday <= 6;
            return ok.then_some(RuleDate::Month {
                month,
                week,
                weekday,
                time: time(self)?,
            });
        }
        if self.eat(b'J').is_some() {
            let day = self.number()?;
            return (1..=365).contains(&day).then_some(RuleDate::Julian {
                day,
                time: time(self)?,
            });
        }
        let day = self.number()?;
        (day <= 365).then_some(RuleDate::Zero {
            day,
            time: time(self)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ms of a UTC date-time.
    fn at(y: i64, m: i64, d: i64, h: i64) -> i64 {
        (days_from_civil(y, m, d) * 86_400 + h * 3600) * 1000
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn fixed_offsets() {
        for (tz, ms) in [
            ("UTC", 0),
            ("GMT", 0),
            ("Z", 0),
            ("+05:30", 5 * HOUR + 1_800_000),
            ("UTC-3", -3 * HOUR),
        ] {
            assert_eq!(Zone::parse(tz).map(|z| z.offset_ms(0)), Some(ms), "{tz}");
        }
        for bad in [
            "",
            "Nowhere/Atlantis",
            "../etc/passwd",
            "/etc/passwd",
            "+25:00",
        ] {
            assert_eq!(Zone::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn posix_rules_north_and_south() {
        let ny = PosixRule::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        let offset = |r: &PosixRule, ms: i64| r.offset(ms / 1000) / 3600;
        assert_eq!(offset(&ny, at(2040, 1, 15, 12)), -5);
        assert_eq!(offset(&ny, at(2040, 7, 1, 12)), -4);
        // 2040-03-11 is the second Sunday of March: 02:00 EST = 07:00 UTC.
        assert_eq!(offset(&ny, at(2040, 3, 11, 7) - 1000), -5);
        assert_eq!(offset(&ny, at(2040, 3, 11, 7)), -4);
        let sydney = PosixRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        assert_eq!(offset(&sydney, at(2040, 1, 15, 0)), 11);
        assert_eq!(offset(&sydney, at(2040, 7, 1, 0)), 10);
        let fixed = PosixRule::parse("<+0530>-5:30").unwrap();
        assert_eq!(fixed.offset(0), 5 * 3600 + 1800);
        assert_eq!(PosixRule::parse("EST5EDT,M13.1.0,M11.1.0"), None);
    }

    #[test]
    fn named_zones_from_the_tz_database() {
        // The database is installed by scripts/test.sh (tzdata, or pytz's copy via TZDIR).
        let ny = Zone::parse("America/New_York").expect("tz database with America/New_York");
        assert_eq!(ny.offset_ms(at(2024, 1, 15, 12)), -5 * HOUR);
        assert_eq!(ny.offset_ms(at(2024, 7, 1, 12)), -4 * HOUR);
        // Far past the listed transitions: the file's POSIX rule.
        assert_eq!(ny.offset_ms(at(2090, 7, 1, 12)), -4 * HOUR);
        assert_eq!(ny.offset_ms(at(2090, 12, 1, 12)), -5 * HOUR);
        let kolkata = Zone::parse("Asia/Kolkata").expect("Asia/Kolkata");
        assert_eq!(kolkata.offset_ms(at(2024, 1, 1, 0)), 5 * HOUR + 1_800_000);
        let sydney = Zone::parse("Australia/Sydney").expect("Australia/Sydney");
        assert_eq!(sydney.offset_ms(at(2024, 1, 15, 0)), 11 * HOUR);
        assert_eq!(sydney.offset_ms(at(2024, 7, 1, 0)), 10 * HOUR);
    }
}
