//! Whole numbers in JSON bodies, written either way: `19` or `19.0`.
//!
//! JSON has one number type, and JSON Schema's `"type": "integer"` means "a number whose
//! fractional part is zero", so `19.0` is a valid integer to every client and validator
//! that reads the OpenAPI document (JavaScript cannot even tell `19` and `19.0` apart).
//! serde's integer types refuse `19.0`, so integer body fields deserialise through these
//! functions: a whole float becomes the integer, a fractional or out-of-range number is
//! refused like any other wrong type (422).
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Body {
//!     #[serde(deserialize_with = "core_models::whole::number")]
//!     stars: i64,
//!     #[serde(default, deserialize_with = "core_models::whole::optional")]
//!     days: Option<i64>,
//! }
//! let body: Body = serde_json::from_str(r#"{"stars": 4.0, "days": 19}"#).unwrap();
//! assert_eq!((body.stars, body.days), (4, Some(19)));
//! let absent: Body = serde_json::from_str(r#"{"stars": 4}"#).unwrap();
//! assert_eq!(absent.days, None);
//! assert!(serde_json::from_str::<Body>(r#"{"stars": 4.5}"#).is_err());
//! ```

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// An `i64` that also reads a float without a fractional part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole(pub i64);

/// The largest float below 2^63: every whole float in `-2^63..2^63` is an `i64`.
const LIMIT: f64 = 9_223_372_036_854_775_808.0;

struct WholeVisitor;

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Whole, E> {
        Ok(Whole(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Whole, E> {
        i64::try_from(value).map(Whole).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Whole, E> {
        if value.is_finite() && value.fract() == 0.0 && (-LIMIT..LIMIT).contains(&value) {
            // Whole and in range, so the conversion is exact.
            Ok(Whole(value as i64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(value), &self))
        }
    }
}

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WholeVisitor)
    }
}

/// `deserialize_with` for a required `i64` field.
pub fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    Whole::deserialize(deserializer).map(|w| w.0)
}

/// `deserialize_with` for an optional `i64` field (with `#[serde(default)]`).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<Whole>::deserialize(deserializer).map(|w| w.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<i64, serde_json::Error> {
        serde_json::from_str::<Whole>(json).map(|w| w.0)
    }

    #[test]
    fn integers_and_whole_floats_are_read_fractions_and_others_are_not() {
        assert_eq!(read("19").unwrap(), 19);
        assert_eq!(read("19.0").unwrap(), 19);
        assert_eq!(read("-3.0").unwrap(), -3);
        assert_eq!(read("1e1").unwrap(), 10);
        assert_eq!(read("-0.0").unwrap(), 0);
        assert!(read("19.5").is_err());
        assert!(read("1e300").is_err());
        assert!(read("9223372036854775808").is_err());
        assert!(read("9223372036854775808.0").is_err());
        assert!(read("\"19\"").is_err());
        assert!(read("true").is_err());
        assert_eq!(read("-9223372036854775808.0").unwrap(), i64::MIN);
    }
}
