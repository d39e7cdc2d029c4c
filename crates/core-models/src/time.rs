//! Timestamps: RFC 3339 in UTC with a `Z` and millisecond precision on the wire,
//! integer milliseconds since the Unix epoch in the database (compact, ordered, cheap to
//! compare in keyset predicates).

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};

/// The current time, truncated to milliseconds (what is stored is what is shown).
pub fn now() -> DateTime<Utc> {
    from_millis(Utc::now().timestamp_millis())
}

/// Milliseconds since the epoch to a UTC timestamp (clamped into chrono's range).
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A UTC timestamp to milliseconds since the epoch.
pub fn to_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A timestamp strictly after `previous`: `now()`, or `previous + 1 ms` when the clock has not
/// moved on (or moved back). Keeps "`updated_at` moves on every change" true for fast edits.
pub fn now_after(previous: DateTime<Utc>) -> DateTime<Utc> {
    let now = now();
    if now > previous {
        now
    } else {
        previous + chrono::Duration::milliseconds(1)
    }
}

/// Formats as `2026-11-24T09:30:00.123Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The years a date or timestamp may fall in: what `YYYY` can spell, without year 0
/// (which RFC 3339 allows but most clients, databases and calendars do not).
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Parses an RFC 3339 timestamp with any offset into UTC; the UTC time must fall in
/// [`YEARS`] (`9999-12-31T23:00:00-05:00` is in year 10000 and refused).
pub fn parse(value: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(value.trim()).ok()?.with_timezone(&Utc);
    YEARS.contains(&t.year()).then_some(t)
}

/// Formats a calendar date as `YYYY-MM-DD` (what the API shows and the database stores).
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Parses a `YYYY-MM-DD` calendar date (rejects impossible dates such as 2026-02-30, and
/// years outside [`YEARS`]).
pub fn parse_date(value: &str) -> Option<NaiveDate> {
    let value = value.trim();
    // chrono accepts some non-canonical forms (e.g. `+2026-1-5`); the contract says YYYY-MM-DD.
    if value.len() != 10 || !value.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    YEARS.contains(&date.year()).then_some(date)
}

/// Serde adapter for `DateTime<Utc>` fields: millisecond RFC 3339 with `Z`.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Serialises as `2026-11-24T09:30:00.123Z`.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    /// Accepts any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse(&raw).ok_or_else(|| D::Error::custom("expected an RFC 3339 timestamp"))
    }
}

/// Serde adapter for `Option<DateTime<Utc>>` fields.
pub mod rfc3339_option {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// `null` or `2026-11-24T09:30:00.123Z`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    /// `null` or any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(raw) => super::parse(&raw).map(Some).ok_or_else(|| D::Error::custom("expected an RFC 3339 timestamp")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        assert_eq!(format(&from_millis(1_795_512_600_123)), "2026-11-24T09:30:00.123Z");
    }

    #[test]
    fn parses_offsets_into_utc() {
        let t = parse("2026-11-24T10:30:00.5+01:00").unwrap();
        assert_eq!(format(&t), "2026-11-24T09:30:00.500Z");
        assert!(parse("2026-11-24").is_none());
    }

    #[test]
    fn dates_must_exist() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("2026-2-3").is_none());
        assert!(parse_date("tomorrow").is_none());
    }

    #[test]
    fn years_stay_within_one_to_9999() {
        assert!(parse_date("0001-01-01").is_some());
        assert!(parse_date("9999-12-31").is_some());
        for bad in ["0000-01-01", "-001-01-01", "+999-01-01", "10000-01-01"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert!(parse("0001-01-01T00:00:00Z").is_some());
        assert!(parse("9999-12-31T23:59:59.999Z").is_some());
        for bad in [
            "0000-06-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00", // year 0 in UTC
            "9999-12-31T23:00:00-05:00", // year 10000 in UTC
            "10000-01-01T00:00:00Z",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn now_after_is_strictly_later() {
        let future = now() + chrono::Duration::seconds(5);
        assert_eq!(now_after(future), future + chrono::Duration::milliseconds(1));
        let past = now() - chrono::Duration::seconds(5);
        assert!(now_after(past) > past);
    }
}
