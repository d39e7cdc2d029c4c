//! The text rules of the API contract: trim, require non-empty, cap the length in characters.
//!
//! Two rules beyond trimming keep text that looks empty or breaks other systems out:
//! a NUL character anywhere is refused (C libraries, terminals and some databases cut the
//! text there), and a value made only of whitespace and invisible characters (zero-width
//! space, byte order mark, other format characters) counts as blank.

use crate::FieldError;

/// Maximum length of titles and names, in characters.
pub const TITLE_MAX: usize = 200;
/// Maximum length of bodies, descriptions and content, in characters.
pub const BODY_MAX: usize = 20_000;

/// A required text field: at most `max` characters as sent, without NUL, trimmed,
/// non-empty.
///
/// The limit counts the value as sent, surrounding whitespace included: it is the
/// document's `maxLength`, which clients check before sending, so a value the document
/// calls too long is never taken because trimming would have shortened it.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    no_nul(field, value)?;
    let trimmed = value.trim();
    if is_blank(trimmed) {
        return Err(FieldError::new(field, "must not be empty"));
    }
    within(field, value, max)?;
    Ok(trimmed.to_string())
}

/// An optional text field: at most `max` characters as sent (see [`required`]), without
/// NUL, trimmed; blank (including only invisible characters) becomes `None`.
pub fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    let Some(value) = value else { return Ok(None) };
    no_nul(field, &value)?;
    within(field, &value, max)?;
    let trimmed = value.trim();
    if is_blank(trimmed) {
        return Ok(None);
    }
    Ok(Some(trimmed.to_string()))
}

/// Whether `value` shows nothing: only whitespace and invisible characters (or nothing).
pub fn is_blank(value: &str) -> bool {
    value.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// Characters that render as nothing on their own: the Unicode format characters
/// (general category Cf, e.g. U+200B ZERO WIDTH SPACE, U+FEFF BYTE ORDER MARK, bidi
/// controls) plus the default-ignorable fillers and selectors outside Cf (U+034F, the
/// Hangul fillers, variation selectors). The table follows Unicode 15.1.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn no_nul(field: &str, value: &str) -> Result<(), FieldError> {
    if value.contains('\0') {
        return Err(FieldError::new(field, "must not contain NUL characters (U+0000)"));
    }
    Ok(())
}

/// 422 when `value` has more than `max` characters.
pub fn within(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    // Count characters only as far as needed: a 1 MiB body must not be walked twice.
    if value.chars().nth(max).is_some() {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_rejects_blank() {
        assert_eq!(required("t", "  a b ", 6).unwrap(), "a b");
        assert_eq!(required("t", " \n\t ", 5).unwrap_err().message, "must not be empty");
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        assert!(required("t", &"é".repeat(5), 5).is_ok());
        let err = required("t", &"é".repeat(6), 5).unwrap_err();
        assert_eq!(err.message, "must be at most 5 characters");
    }

    #[test]
    fn limits_count_the_value_as_sent() {
        // The document's maxLength is what the client sent: surrounding whitespace counts.
        assert_eq!(required("t", " abcd", 5).unwrap(), "abcd");
        assert_eq!(required("t", " abcde", 5).unwrap_err().message, "must be at most 5 characters");
        assert_eq!(required("t", "abcde\n", 5).unwrap_err().message, "must be at most 5 characters");
        assert_eq!(optional("t", Some("abcd ".into()), 5).unwrap(), Some("abcd".into()));
        assert!(optional("t", Some(" abcde".into()), 5).is_err());
        assert!(optional("t", Some(" ".repeat(6)), 5).is_err());
    }

    #[test]
    fn optional_blank_is_none() {
        assert_eq!(optional("t", Some("   ".into()), 5).unwrap(), None);
        assert_eq!(optional("t", None, 5).unwrap(), None);
        assert_eq!(optional("t", Some(" x ".into()), 5).unwrap(), Some("x".into()));
        assert!(optional("t", Some("xxxxxx".into()), 5).is_err());
    }

    #[test]
    fn nul_is_refused_anywhere() {
        for value in ["a\0b", "\0", " a\0", "\0 "] {
            let err = required("title", value, 50).unwrap_err();
            assert_eq!((err.field.as_str(), err.message.contains("NUL")), ("title", true), "{value:?}");
            let err = optional("content", Some(value.into()), 50).unwrap_err();
            assert_eq!(err.field, "content", "{value:?}");
        }
    }

    #[test]
    fn only_invisible_characters_count_as_empty() {
        for value in ["\u{200B}", " \u{200B}\u{FEFF} ", "\u{2060}\u{200D}", "\u{00AD}", "\u{202E}\u{3164}", "\u{E0020}"]
        {
            assert_eq!(required("title", value, 50).unwrap_err().message, "must not be empty", "{value:?}");
            assert_eq!(optional("title", Some(value.into()), 50).unwrap(), None, "{value:?}");
        }
        // Visible text with an invisible character in it stays as sent.
        assert_eq!(required("t", "a\u{200B}b", 50).unwrap(), "a\u{200B}b");
        // Emoji sequences joined by U+200D are visible.
        assert!(required("t", "\u{1F468}\u{200D}\u{1F469}", 50).is_ok());
    }
}
