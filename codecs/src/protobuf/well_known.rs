//! The files Confluent's Protobuf provider knows without a registry reference: Google's
//! well-known types and `google.type` dates and times, and Confluent's `meta` and
//! `Decimal`. Only the messages matter here (options and comments are left out).

/// The text of a bundled dependency, by import path.
pub fn file(path: &str) -> Option<&'static str> {
    Some(match path {
        "google/protobuf/timestamp.proto" => TIMESTAMP,
        "google/protobuf/duration.proto" => DURATION,
        "google/protobuf/wrappers.proto" => WRAPPERS,
        "google/protobuf/empty.proto" => EMPTY,
        "google/protobuf/any.proto" => ANY,
        "google/protobuf/field_mask.proto" => FIELD_MASK,
        "google/protobuf/struct.proto" => STRUCT,
        "google/type/date.proto" => DATE,
        "google/type/timeofday.proto" => TIME_OF_DAY,
        "google/type/money.proto" => MONEY,
        "google/type/latlng.proto" => LAT_LNG,
        "google/type/dayofweek.proto" => DAY_OF_WEEK,
        "google/type/month.proto" => MONTH,
        "google/type/color.proto" => COLOR,
        "google/type/expr.proto" => EXPR,
        "google/type/fraction.proto" => FRACTION,
        "google/type/postal_address.proto" => POSTAL_ADDRESS,
        "google/type/quaternion.proto" => QUATERNION,
        "google/type/calendar_period.proto" => CALENDAR_PERIOD,
        "google/type/datetime.proto" => DATETIME,
        "google/type/interval.proto" => INTERVAL,
        "google/type/localized_text.proto" => LOCALIZED_TEXT,
        "google/type/phone_number.proto" => PHONE_NUMBER,
        "google/type/decimal.proto" => GOOGLE_DECIMAL,
        "confluent/meta.proto" => META,
        "confluent/type/decimal.proto" => DECIMAL,
        _ => return None,
    })
}

const TIMESTAMP: &str = r#"syntax = "proto3"; package google.protobuf;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }"#;
const DURATION: &str = r#"syntax = "proto3"; package google.protobuf;
message Duration { int64 seconds = 1; int32 nanos = 2; }"#;
const WRAPPERS: &str = r#"syntax = "proto3"; package google.protobuf;
message DoubleValue { double value = 1; }
message FloatValue { float value = 1; }
message Int64Value { int64 value = 1; }
message UInt64Value { uint64 value = 1; }
message Int32Value { int32 value = 1; }
message UInt32Value { uint32 value = 1; }
message BoolValue { bool value = 1; }
message StringValue { string value = 1; }
message BytesValue { bytes value = 1; }"#;
const EMPTY: &str = r#"syntax = "proto3"; package google.protobuf; message Empty {}"#;
const ANY: &str = r#"syntax = "proto3"; package google.protobuf;
message Any { string type_url = 1; bytes value = 2; }"#;
const FIELD_MASK: &str = r#"syntax = "proto3"; package google.protobuf;
message FieldMask { repeated string paths = 1; }"#;
const STRUCT: &str = r#"syntax = "proto3"; package google.protobuf;
message Struct { map<string, Value> fields = 1; }
message Value {
  oneof kind {
    NullValue null_value = 1; double number_value = 2; string string_value = 3;
    bool bool_value = 4; Struct struct_value = 5; ListValue list_value = 6;
  }
}
enum NullValue { NULL_VALUE = 0; }
message ListValue { repeated Value values = 1; }"#;
const DATE: &str = r#"syntax = "proto3"; package google.type;
message Date { int32 year = 1; int32 month = 2; int32 day = 3; }"#;
const TIME_OF_DAY: &str = r#"syntax = "proto3"; package google.type;
message TimeOfDay { int32 hours = 1; int32 minutes = 2; int32 seconds = 3; int32 nanos = 4; }"#;
const MONEY: &str = r#"syntax = "proto3"; package google.type;
message Money { string currency_code = 1; int64 units = 2; int32 nanos = 3; }"#;
const LAT_LNG: &str = r#"syntax = "proto3"; package google.type;
message LatLng { double latitude = 1; double longitude = 2; }"#;
const DAY_OF_WEEK: &str = r#"syntax = "proto3"; package google.type;
enum DayOfWeek { DAY_OF_WEEK_UNSPECIFIED = 0; MONDAY = 1; TUESDAY = 2; WEDNESDAY = 3;
  THURSDAY = 4; FRIDAY = 5; SATURDAY = 6; SUNDAY = 7; }"#;
const MONTH: &str = r#"syntax = "proto3"; package google.type;
enum Month { MONTH_UNSPECIFIED = 0; JANUARY = 1; FEBRUARY = 2; MARCH = 3; APRIL = 4; MAY = 5;
  JUNE = 6; JULY = 7; AUGUST = 8; SEPTEMBER = 9; OCTOBER = 10; NOVEMBER = 11; DECEMBER = 12; }"#;
const COLOR: &str = r#"syntax = "proto3"; package google.type;
import "google/protobuf/wrappers.proto";
message Color { float red = 1; float green = 2; float blue = 3; google.protobuf.FloatValue alpha = 4; }"#;
const EXPR: &str = r#"syntax = "proto3"; package google.type;
message Expr { string expression = 1; string title = 2; string description = 3; string location = 4; }"#;
const FRACTION: &str = r#"syntax = "proto3"; package google.type;
message Fraction { int64 numerator = 1; int64 denominator = 2; }"#;
const POSTAL_ADDRESS: &str = r#"syntax = "proto3"; package google.type;
message PostalAddress { int32 revision = 1; string region_code = 2; string language_code = 3;
  string postal_code = 4; string sorting_code = 5; string administrative_area = 6;
  string locality = 7; string sublocality = 8; repeated string address_lines = 9;
  repeated string recipients = 10; string organization = 11; }"#;
const QUATERNION: &str = r#"syntax = "proto3"; package google.type;
message Quaternion { double x = 1; double y = 2; double z = 3; double w = 4; }"#;
const CALENDAR_PERIOD: &str = r#"syntax = "proto3"; package google.type;
enum CalendarPeriod { CALENDAR_PERIOD_UNSPECIFIED = 0; DAY = 1; WEEK = 2; FORTNIGHT = 3;
  MONTH = 4; QUARTER = 5; HALF = 6; YEAR = 7; }"#;
const DATETIME: &str = r#"syntax = "proto3"; package google.type;
import "google/protobuf/duration.proto";
message DateTime { int32 year = 1; int32 month = 2; int32 day = 3; int32 hours = 4;
  int32 minutes = 5; int32 seconds = 6; int32 nanos = 7;
  oneof time_offset { google.protobuf.Duration utc_offset = 8; TimeZone time_zone = 9; } }
message TimeZone { string id = 1; string version = 2; }"#;
const INTERVAL: &str = r#"syntax = "proto3"; package google.type;
import "google/protobuf/timestamp.proto";
message Interval { google.protobuf.Timestamp start_time = 1; google.protobuf.Timestamp end_time = 2; }"#;
const LOCALIZED_TEXT: &str = r#"syntax = "proto3"; package google.type;
message LocalizedText { string text = 1; string language_code = 2; }"#;
const PHONE_NUMBER: &str = r#"syntax = "proto3"; package google.type;
message PhoneNumber { oneof kind { string e164_number = 1; ShortCode short_code = 2; }
  string extension = 3;
  message ShortCode { string region_code = 1; string number = 2; } }"#;
const GOOGLE_DECIMAL: &str = r#"syntax = "proto3"; package google.type;
message Decimal { string value = 1; }"#;
const META: &str = r#"syntax = "proto3"; package confluent;
import "google/protobuf/descriptor.proto";
message Meta { string doc = 1; map<string, string> params = 2; }"#;
const DECIMAL: &str = r#"syntax = "proto3"; package confluent.type;
message Decimal { bytes value = 1; uint32 precision = 2; int32 scale = 3; }"#;
