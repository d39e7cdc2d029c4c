//! The text rules of the API contract: trim, require non-empty, cap the length in characters.

use crate::FieldError;

/// Maximum length of titles and names, in characters.
pub const TITLE_MAX: usize = 200;
/// Maximum length of bodies, descriptions and content, in characters.
pub const BODY_MAX: usize = 20_000;

/// A required text field: trimmed, non-empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    within(field, trimmed, max)
}

/// An optional text field: trimmed, at most `max` characters; blank becomes `None`.
pub fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(trimmed) => within(field, trimmed, max).map(Some),
    }
}

fn within(field: &str, trimmed: &str, max: usize) -> Result<String, FieldError> {
    // Count characters only as far as needed: a 1 MiB body must not be walked twice.
    if trimmed.chars().nth(max).is_some() {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_rejects_blank() {
        assert_eq!(required("t", "  a b ", 5).unwrap(), "a b");
        assert_eq!(required("t", " \n\t ", 5).unwrap_err().message, "must not be empty");
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(required("t", &"é".repeat(5), 5).is_ok());
        let err = required("t", &"é".repeat(6), 5).unwrap_err();
        assert_eq!(err.message, "must be at most 5 characters");
    }

    #[test]
    fn optional_blank_is_none() {
        assert_eq!(optional("t", Some("   ".into()), 5).unwrap(), None);
        assert_eq!(optional("t", None, 5).unwrap(), None);
        assert_eq!(optional("t", Some(" x ".into()), 5).unwrap(), Some("x".into()));
        assert!(optional("t", Some("xxxxxx".into()), 5).is_err());
    }
}
