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
    INVISIBLE.iter().any(|&(first, last)| (first..=last).contains(&c))
}

/// The ranges of [`is_invisible`].
const INVISIBLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Unicode's White_Space characters: what [`str::trim`] removes and [`char::is_whitespace`]
/// means.
const WHITE_SPACE: &[(char, char)] = &[
    ('\u{0009}', '\u{000D}'),
    ('\u{0020}', '\u{0020}'),
    ('\u{0085}', '\u{0085}'),
    ('\u{00A0}', '\u{00A0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200A}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202F}', '\u{202F}'),
    ('\u{205F}', '\u{205F}'),
    ('\u{3000}', '\u{3000}'),
];

/// A text pattern of the OpenAPI document written with `\s` (`^\s*[^\s\x00][^\x00]*$`:
/// "not blank, no NUL"), with every `\s` spelled out as the characters this module counts
/// as showing nothing: Unicode White_Space and the invisible characters of the Basic
/// Multilingual Plane.
///
/// `\s` means something else in every engine (JavaScript's leaves out U+0085 and has
/// U+FEFF, Python's has U+001C to U+001F), and none leaves out the invisible characters,
/// so a client's validator and a fuzzer would disagree with the server on text such as
/// U+0085 or U+200B alone. Spelled out with `\xHH` and `\uHHHH` escapes, which
/// JavaScript, Python, Java and Rust read alike, the pattern means the server's rule (the
/// invisible characters beyond the BMP are left out: no escape for them works in all
/// engines). `\s` inside a class (`[^\s\x00]`) becomes the class's members, `\s` outside
/// one a class of its own.
pub fn spelled_out(pattern: &str) -> String {
    let mut members = String::new();
    for &(first, last) in WHITE_SPACE.iter().chain(INVISIBLE).filter(|(first, _)| u32::from(*first) <= 0xFFFF) {
        let last = char::from_u32(u32::from(last).min(0xFFFF)).unwrap_or(last);
        members.push_str(&escape(first));
        if last != first {
            members.push('-');
            members.push_str(&escape(last));
        }
    }
    let mut out = String::with_capacity(pattern.len() + 8 * members.len());
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('s') if in_class => out.push_str(&members),
                Some('s') => {
                    out.push('[');
                    out.push_str(&members);
                    out.push(']');
                }
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn escape(c: char) -> String {
    match u32::from(c) {
        code @ 0..=0xFF => format!("\\x{code:02X}"),
        code => format!("\\u{code:04X}"),
    }
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
    fn the_spelled_out_pattern_is_the_servers_rule_for_every_character() {
        let pattern = regex::Regex::new(&spelled_out("^\\s*[^\\s\\x00][^\\x00]*$")).unwrap();
        for code in 0..=0xFFFF_u32 {
            let Some(c) = char::from_u32(code) else { continue };
            let alone = c.to_string();
            let padded = format!(" \u{200B}{c}\u{85} ");
            let taken = required("t", &alone, 50).is_ok();
            assert_eq!(pattern.is_match(&alone), taken, "U+{code:04X} alone");
            assert_eq!(pattern.is_match(&padded), required("t", &padded, 50).is_ok(), "U+{code:04X} padded");
        }
        assert!(!pattern.is_match("a\0"));
        // `\s` outside and inside classes; other escapes kept.
        assert_eq!(
            spelled_out("^\\s*[^\\s,]\\x00$"),
            format!("^[{m}]*[^{m},]\\x00$", m = spelled_out("\\s").trim_matches(['[', ']']))
        );
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
