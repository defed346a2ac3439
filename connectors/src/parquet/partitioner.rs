//! Confluent's storage partitioners: where a record's file goes (`encodedPartition`), and the
//! committed file names `<topic>+<partition>+<start>+<end>.parquet` with zero-padded offsets.

use sluice_codecs::java::simple_date_format::SimpleDateFormat;
use sluice_codecs::model::value::Value;

use super::timezone::Zone;
use crate::{ConnectorError, Result};

/// Why one record has no partition path: it becomes an errant record (Confluent's
/// `PartitionException`), the batch goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    #[error("field {field} is missing or null")]
    MissingField { field: String },
    #[error(
        "Error encoding partition: field {field} has type {schema_type}, not an integer, string or boolean"
    )]
    FieldType { field: String, schema_type: String },
    #[error("the record has no timestamp (timestamp.extractor=Record)")]
    NoRecordTimestamp,
    #[error("timestamp field {field} is {value}, not epoch milliseconds")]
    TimestampField { field: String, value: String },
}

/// Which timestamp a time-based partitioner uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampExtractor {
    Wallclock,
    Record,
    RecordField(String),
}

/// A configured partitioner.
#[derive(Debug, Clone)]
pub enum Partitioner {
    Default,
    Field(Vec<String>),
    TimeBased {
        format: SimpleDateFormat,
        duration_ms: i64,
        /// `timezone`.
        zone: Zone,
        extractor: TimestampExtractor,
    },
}

/// Joda's `YYYY` is the year of era (Java's `yyyy`); `SimpleDateFormat`'s `Y` is the week year.
fn joda_to_simple(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut quoted = false;
    for c in pattern.chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if !quoted && c == 'Y' { 'y' } else { c });
    }
    out
}

impl Partitioner {
    /// `partitioner.class` with its keys; Confluent class names and short names accepted.
    pub fn configure(
        class: &str,
        field_names: &[String],
        path_format: &str,
        duration_ms: i64,
        timezone: &str,
        extractor: TimestampExtractor,
    ) -> Result<Self> {
        let simple = class.trim().rsplit('.').next().unwrap_or(class);
        let invalid = |key: &str, value: &str, reason: &str| ConnectorError::InvalidConfig {
            key: key.into(),
            value: value.into(),
            reason: reason.into(),
        };
        let time = |format: &str, duration: i64| -> Result<Partitioner> {
            if format.trim().is_empty() {
                return Err(invalid(
                    "path.format",
                    format,
                    "Path format cannot be empty.",
                ));
            }
            if duration <= 0 {
                return Err(invalid(
                    "partition.duration.ms",
                    &duration.to_string(),
                    "Partition duration needs to be a positive.",
                ));
            }
            if timezone.trim().is_empty() {
                return Err(invalid(
                    "timezone",
                    timezone,
                    "Timezone cannot be empty when using scheduled file rotation or a time-based partitioner.",
                ));
            }
            let zone = Zone::parse(timezone).ok_or_else(|| {
                invalid(
                    "timezone",
                    timezone,
                    &format!("Unknown time zone {timezone}"),
                )
            })?;
            let format = SimpleDateFormat::new(&joda_to_simple(format))
                .map_err(|e| invalid("path.format", format, &e.0))?;
            Ok(Partitioner::TimeBased {
                format,
                duration_ms: duration,
                zone,
                extractor: extractor.clone(),
            })
        };
        match simple {
            "DefaultPartitioner" | "Default" => Ok(Partitioner::Default),
            "FieldPartitioner" | "Field" => {
                if field_names.is_empty() {
                    return Err(invalid(
                        "partition.field.name",
                        "",
                        "Partition field names cannot be empty for the FieldPartitioner",
                    ));
                }
                Ok(Partitioner::Field(field_names.to_vec()))
            }
            "TimeBasedPartitioner" | "TimeBased" => time(path_format, duration_ms),
            "DailyPartitioner" | "Daily" => time("'year'=YYYY/'month'=MM/'day'=dd", 86_400_000),
            "HourlyPartitioner" | "Hourly" => {
                time("'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", 3_600_000)
            }
            _ => Err(invalid(
                "partitioner.class",
                class,
                "unknown partitioner (Default, Field, TimeBased, Daily, Hourly)",
            )),
        }
    }

    pub fn is_default(&self) -> bool {
        matches!(self, Partitioner::Default)
    }

    /// The timestamp a time-based partitioner files a record under.
    pub fn extractor(&self) -> Option<&TimestampExtractor> {
        match self {
            Partitioner::TimeBased { extractor, .. } => Some(extractor),
            _ => None,
        }
    }

    /// The value fields the Field partitioner reads (none for the others).
    pub fn field_names(&self) -> &[String] {
        match self {
            Partitioner::Field(fields) => fields,
            _ => &[],
        }
    }

    /// The encoded partition of one record; `value(i)` is the record's value of the `i`th of
    /// [`Partitioner::field_names`], `timestamp` the extractor's value.
    pub fn encode(
        &self,
        kafka_partition: i32,
        value: &dyn Fn(usize) -> Option<Value>,
        timestamp: i64,
        delim: &str,
    ) -> std::result::Result<String, PartitionError> {
        match self {
            Partitioner::Default => Ok(format!("partition={kafka_partition}")),
            Partitioner::Field(fields) => {
                let mut parts = Vec::with_capacity(fields.len());
                for (i, f) in fields.iter().enumerate() {
                    let v = value(i)
                        .ok_or_else(|| PartitionError::MissingField { field: f.clone() })?;
                    let text = match v {
                        Value::I8(n) => n.to_string(),
                        Value::I16(n) => n.to_string(),
                        Value::I32(n) => n.to_string(),
                        Value::I64(n) => n.to_string(),
                        Value::String(s) => s,
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(PartitionError::FieldType {
                                field: f.clone(),
                                schema_type: format!("{:?}", other.schema_type()),
                            });
                        }
                    };
                    parts.push(format!("{f}={text}"));
                }
                Ok(parts.join(delim))
            }
            Partitioner::TimeBased {
                format,
                duration_ms,
                zone,
                ..
            } => {
                // Floor in the partitioner's zone, then print the local time.
                let local = timestamp + zone.offset_ms(timestamp);
                let floored = local - local.rem_euclid(*duration_ms);
                Ok(format.format(floored))
            }
        }
    }
}

/// `<topic>+<partition>+<start>+<end>.parquet` with offsets zero-padded to `width`.
pub fn file_name(
    topic: &str,
    partition: i32,
    start: i64,
    end: i64,
    width: usize,
    delim: &str,
) -> String {
    format!("{topic}{delim}{partition}{delim}{start:0width$}{delim}{end:0width$}.parquet")
}

/// Parses a committed file name of `topic` back into (partition, start, end).
pub fn parse_file_name(name: &str, topic: &str, delim: &str) -> Option<(i32, i64, i64)> {
    let rest = name
        .strip_suffix(".parquet")?
        .strip_prefix(topic)?
        .strip_prefix(delim)?;
    let mut it = rest.split(delim);
    let p = it.next()?.parse().ok()?;
    let s = it.next()?.parse().ok()?;
    let e = it.next()?.parse().ok()?;
    it.next().is_none().then_some((p, s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: usize) -> Option<Value> {
        None
    }

    #[test]
    fn paths_match_confluent() {
        let d = Partitioner::configure(
            "io.confluent.connect.storage.partitioner.DefaultPartitioner",
            &[],
            "",
            -1,
            "",
            TimestampExtractor::Wallclock,
        )
        .unwrap();
        assert_eq!(d.encode(3, &none, 0, "/").unwrap(), "partition=3");
        let f = Partitioner::configure(
            "io.confluent.connect.storage.partitioner.FieldPartitioner",
            &["country".into(), "flag".into()],
            "",
            -1,
            "",
            TimestampExtractor::Wallclock,
        )
        .unwrap();
        let get = |i: usize| match i {
            0 => Some(Value::String("DE".into())),
            1 => Some(Value::Bool(true)),
            _ => None,
        };
        assert_eq!(f.encode(0, &get, 0, "/").unwrap(), "country=DE/flag=true");
        // 2024-01-01T13:45:00Z
        let ts = 1_704_116_700_000;
        let daily = Partitioner::configure(
            "io.confluent.connect.storage.partitioner.DailyPartitioner",
            &[],
            "",
            -1,
            "UTC",
            TimestampExtractor::Record,
        )
        .unwrap();
        assert_eq!(
            daily.encode(0, &none, ts, "/").unwrap(),
            "year=2024/month=01/day=01"
        );
        // A named zone, with its daylight saving time: local hours in New York.
        let hourly_ny = Partitioner::configure(
            "io.confluent.connect.storage.partitioner.HourlyPartitioner",
            &[],
            "",
            -1,
            "America/New_York",
            TimestampExtractor::Record,
        )
        .unwrap();
        assert_eq!(
            hourly_ny.encode(0, &none, ts, "/").unwrap(),
            "year=2024/month=01/day=01/hour=08"
        );
        // 2024-07-01T13:45:00Z is 09:45 EDT.
        assert_eq!(
            hourly_ny
                .encode(0, &none, ts + 182 * 86_400_000, "/")
                .unwrap(),
            "year=2024/month=07/day=01/hour=09"
        );
        let hourly = Partitioner::configure(
            "HourlyPartitioner",
            &[],
            "",
            -1,
            "UTC",
            TimestampExtractor::Record,
        )
        .unwrap();
        assert_eq!(
            hourly.encode(0, &none, ts, "/").unwrap(),
            "year=2024/month=01/day=01/hour=13"
        );
        let custom = Partitioner::configure(
            "TimeBasedPartitioner",
            &[],
            "'dt'=YYYY-MM-dd/'min'=HHmm",
            900_000,
            "+02:00",
            TimestampExtractor::Record,
        )
        .unwrap();
        assert_eq!(
            custom.encode(0, &none, ts, "/").unwrap(),
            "dt=2024-01-01/min=1545"
        );
        assert!(
            Partitioner::configure(
                "TimeBasedPartitioner",
                &[],
                "",
                1000,
                "UTC",
                TimestampExtractor::Record
            )
            .is_err()
        );
        assert_eq!(
            file_name("orders", 2, 42, 1041, 10, "+"),
            "orders+2+0000000042+0000001041.parquet"
        );
        assert_eq!(
            parse_file_name("orders+2+0000000042+0000001041.parquet", "orders", "+"),
            Some((2, 42, 1041))
        );
        assert_eq!(
            parse_file_name("orders-x+2+1+2.parquet", "orders", "+"),
            None
        );
    }
}
