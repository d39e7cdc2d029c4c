//! PATCH semantics: an absent field is untouched, `null` clears it, a value sets it.
//!
//! Use on `Option<Option<T>>` fields together with `#[serde(default)]`:
//!
//! ```
//! #[derive(serde::Deserialize)]
//! struct Changes {
//!     #[serde(default, deserialize_with = "core_models::patch::field")]
//!     due_date: Option<Option<String>>,
//! }
//! let absent: Changes = serde_json::from_str("{}").unwrap();
//! let cleared: Changes = serde_json::from_str(r#"{"due_date": null}"#).unwrap();
//! let set: Changes = serde_json::from_str(r#"{"due_date": "2026-12-01"}"#).unwrap();
//! assert_eq!(absent.due_date, None);
//! assert_eq!(cleared.due_date, Some(None));
//! assert_eq!(set.due_date, Some(Some("2026-12-01".into())));
//! ```

use serde::{Deserialize, Deserializer};

/// Deserialises a present field (value or `null`) as `Some(..)`; serde's `default` gives
/// `None` for an absent one.
pub fn field<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// For a required field that PATCH may change but never clear: `Some(None)` (an explicit
/// `null`) becomes this 422 error.
pub fn not_null<T>(field: &str, value: Option<Option<T>>) -> Result<Option<T>, crate::FieldError> {
    match value {
        Some(None) => Err(crate::FieldError::new(field, "must not be null")),
        Some(Some(v)) => Ok(Some(v)),
        None => Ok(None),
    }
}
