//! Parsing a JSON body: [`parse_json`] answers a body of the wrong shape with every bad
//! field at once (unknown, missing, wrong type) and every rule the rest of it breaks.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::rules::{top_field, BodyRules};
use crate::{AppError, AppResult, FieldError};

/// Parses a JSON body: syntax errors are 400, shape errors 422 naming every bad field
/// (see [`every_bad_field`]) and, beside them, every other field that breaks one of the
/// body's [`BodyRules`] (checked on the body with stand-ins for its bad fields), so one
/// answer names them all.
/// Every request body of the API is an object; serde would also read a struct from an
/// array of its fields in order, so anything but an object is refused up front.
pub fn parse_json<T: DeserializeOwned + BodyRules>(body: &[u8]) -> AppResult<T> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // Not an object: valid JSON of another kind is a 422, anything else a 400.
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => AppError::invalid("body", "must be a JSON object"),
            Err(e) => AppError::BadRequest(format!("the body is not valid JSON: {e}")),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            Ok(value)
        }
        Err(e) if e.inner().is_data() => {
            // serde stops at the first error; a second pass over the parsed body finds the
            // others. The body is read whole first, so broken JSON after the error is a 400.
            let first = field_error(e.path(), &e.inner().to_string());
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            let (mut errors, repaired) = shape_errors::<T>(value);
            if errors.is_empty() {
                // Only the raw text shows some errors (a duplicate key: the parsed map keeps one).
                errors.push(first);
            }
            if let Some(repaired) = repaired {
                add_broken_rules(&mut errors, &repaired);
            }
            Err(AppError::Validation(errors))
        }
        Err(e) => Err(AppError::BadRequest(format!("the body is not valid JSON: {}", e.into_inner()))),
    }
}

/// Most field errors one body is answered with; the search for more stops there.
pub const MAX_FIELD_ERRORS: usize = 20;

/// Every field of the JSON object `body` that keeps it from deserialising as `T`: unknown
/// fields, fields of the wrong type or value, missing required fields, each once (the
/// fields sent in the order of their names, then the missing ones in `T`'s order).
///
/// serde reports one error per attempt, so this deserialises repeatedly: an unknown field
/// is reported and removed; any other bad or missing field is reported and replaced by the
/// first stand-in value (`null`, `""`, `0`, `false`, `[]`, `{}`) the parser accepts there,
/// so the next attempt reaches the fields after it. When no stand-in fits (e.g. a required
/// timestamp), the search stops with what it found.
pub fn every_bad_field<T: DeserializeOwned>(body: serde_json::Value) -> Vec<FieldError> {
    shape_errors::<T>(body).0
}

/// The rule errors of `repaired` (the body with stand-ins for its bad fields) that are
/// about fields the shape errors did not name: the stand-ins' own rule errors are noise,
/// and so are whole-body rules (which the stand-ins may have broken).
fn add_broken_rules<T: BodyRules>(errors: &mut Vec<FieldError>, repaired: &T) {
    let named: Vec<String> = errors.iter().map(|e| top_field(&e.field).to_string()).collect();
    for error in repaired.broken_rules() {
        let field = top_field(&error.field);
        let known = field == "body" || named.iter().any(|n| n == field);
        if !known && errors.len() < MAX_FIELD_ERRORS && !errors.contains(&error) {
            errors.push(error);
        }
    }
}

/// [`every_bad_field`], and the body as `T` once its bad fields are removed or replaced by
/// stand-ins (`None` when the search stopped before the body parsed).
fn shape_errors<T: DeserializeOwned>(body: serde_json::Value) -> (Vec<FieldError>, Option<T>) {
    let mut body = body;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut settled: Vec<String> = Vec::new();
    let mut repaired = None;
    while errors.len() < MAX_FIELD_ERRORS {
        let err = match serde_path_to_error::deserialize::<_, T>(&body) {
            Ok(value) => {
                repaired = Some(value);
                break;
            }
            Err(err) => err,
        };
        let message = strip_position(&err.inner().to_string());
        let Some(object) = body.as_object_mut() else { break };
        // Depending on the deserialiser, the path of an unknown field is empty or the field.
        if let Some(unknown) = named_field(&message, "unknown field `") {
            if object.remove(&unknown).is_none() {
                break;
            }
            errors.push(FieldError::new(unknown, message));
            continue;
        }
        let key = match err.path().iter().next() {
            Some(Segment::Map { key }) => key.clone(),
            None => match named_field(&message, "missing field `") {
                Some(missing) => missing,
                None => {
                    errors.push(FieldError::new("body", message));
                    break;
                }
            },
            Some(_) => {
                errors.push(FieldError::new(err.path().to_string(), message));
                break;
            }
        };
        if settled.contains(&key) {
            break;
        }
        errors.push(field_error(err.path(), &message));
        settled.push(key.clone());
        let stand_ins = [
            serde_json::Value::Null,
            serde_json::Value::String(String::new()),
            serde_json::Value::from(0),
            serde_json::Value::Bool(false),
            serde_json::Value::Array(Vec::new()),
            serde_json::Value::Object(serde_json::Map::new()),
        ];
        let mut moved_on = false;
        for stand_in in stand_ins {
            if let Some(object) = body.as_object_mut() {
                object.insert(key.clone(), stand_in);
            }
            match serde_path_to_error::deserialize::<_, T>(&body) {
                Err(e) if is_about(&e, &key) => {}
                _ => {
                    moved_on = true;
                    break;
                }
            }
        }
        if !moved_on {
            break;
        }
    }
    (errors, repaired)
}

/// Whether a deserialisation error is about the top-level field `key`.
fn is_about(err: &serde_path_to_error::Error<serde_json::Error>, key: &str) -> bool {
    match err.path().iter().next() {
        Some(Segment::Map { key: first }) => first == key,
        None => named_field(&strip_position(&err.inner().to_string()), "missing field `").as_deref() == Some(key),
        Some(_) => false,
    }
}

/// A field error at `path`; at the top level serde names the field only in its message
/// ("missing field `x`").
fn field_error(path: &serde_path_to_error::Path, message: &str) -> FieldError {
    let message = strip_position(message);
    let field = match path.iter().next() {
        None => field_of_serde_message(&message),
        Some(_) => path.to_string(),
    };
    FieldError::new(field, message)
}

/// serde_json ends its messages with "at line 1 column 5": noise for a client that sent
/// the body in one line, and the field is named anyway.
pub(super) fn strip_position(message: &str) -> String {
    if let Some(at) = message.rfind(" at line ") {
        let rest = &message[at + " at line ".len()..];
        let mut words = rest.split(' ');
        let is_position = matches!(
            (words.next(), words.next(), words.next(), words.next()),
            (Some(line), Some("column"), Some(column), None)
                if line.bytes().all(|b| b.is_ascii_digit()) && column.bytes().all(|b| b.is_ascii_digit())
        );
        if is_position {
            return message[..at].to_string();
        }
    }
    message.to_string()
}

fn named_field(message: &str, prefix: &str) -> Option<String> {
    message.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_string)
}

/// Serde names the field in "missing field `x`", "unknown field `x`" and "duplicate field
/// `x`"; other messages (wrong type) only name a position, so the whole body is blamed.
pub(super) fn field_of_serde_message(message: &str) -> String {
    let named = ["missing field `", "unknown field `", "duplicate field `"];
    named.iter().find_map(|prefix| named_field(message, prefix)).unwrap_or_else(|| "body".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[test]
    fn shape_errors_name_the_field_path() {
        let err = parse_json::<Body>(br#"{"title": 5}"#).unwrap_err();
        assert_eq!((err.status_code(), err.field_errors()[0].field.as_str()), (422, "title"));
        let err = parse_json::<Body>(br#"{"title": "a", "tags": ["x", 1]}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "tags[1]");
        let err = parse_json::<Body>(br#"{"tags": []}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "title");
        let err = parse_json::<Body>(br#"{"title": "a", "titel": "b"}"#).unwrap_err();
        assert_eq!(err.field_errors()[0].field, "titel");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Pair {
        name: String,
        count: u32,
        #[serde(default, with = "crate::time::rfc3339_option")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    }

    crate::body_rules!(Body);
    crate::body_rules!(Pair);

    /// A body with rules beyond its shape, like the API's: `priority` is a string checked
    /// after parsing, `title` must not be blank.
    #[derive(Debug, Clone, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Ruled {
        title: String,
        #[serde(default)]
        priority: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    }

    impl Ruled {
        fn validate(self) -> AppResult<()> {
            let mut v = crate::Violations::new();
            if self.title.trim().is_empty() {
                v.push(FieldError::new("title", "must not be empty"));
            }
            if self.priority.as_deref().is_some_and(|p| !["low", "high"].contains(&p)) {
                v.push(FieldError::new("priority", "must be one of `low`, `high`"));
            }
            if self.tags.iter().any(|t| t.is_empty()) {
                v.push(FieldError::new("tags", "must not hold empty tags"));
            }
            if self.tags.len() > 2 {
                v.push(FieldError::new("body", "too many tags"));
            }
            v.finish()
        }
    }

    crate::body_rules!(Ruled => Ruled::validate);

    #[test]
    fn type_errors_and_broken_rules_are_named_together() {
        // serde stops at `title`; the rule on `priority` is still checked.
        let err = parse_json::<Ruled>(br#"{"title": 42, "priority": "x"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title", "priority"]);
        assert_eq!(err.field_errors()[0].message, "invalid type: integer `42`, expected a string");
        assert_eq!(err.field_errors()[1].message, "must be one of `low`, `high`");
        // Order of the body does not matter; unknown and missing fields too.
        let err = parse_json::<Ruled>(br#"{"priority": "x", "colour": 1}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["colour", "title", "priority"]);
        // A field with a wrong type is named once, not again for its stand-in ("" is blank).
        let err = parse_json::<Ruled>(br#"{"title": [], "tags": [""]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title", "tags"]);
        let err = parse_json::<Ruled>(br#"{"title": "t", "tags": ["", 5]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["tags[1]"], "the stand-in's rule error on `tags` is not added");
        // Whole-body rules are left to the service (a stand-in may be what broke them).
        let err = parse_json::<Ruled>(br#"{"title": 1, "tags": ["a", "b", "c"]}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title"]);
        // A body of the right shape is left to the service's own validation.
        assert!(parse_json::<Ruled>(br#"{"title": " ", "priority": "x"}"#).is_ok());
    }

    #[test]
    fn broken_rules_stop_at_the_error_cap() {
        let body: String = (0..MAX_FIELD_ERRORS).map(|i| format!("\"f{i}\": 1,")).collect();
        let body = format!("{{{body} \"title\": 1, \"priority\": \"x\"}}");
        let err = parse_json::<Ruled>(body.as_bytes()).unwrap_err();
        assert_eq!(err.field_errors().len(), MAX_FIELD_ERRORS);
    }

    fn fields_of(err: &AppError) -> Vec<&str> {
        err.field_errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        // A wrong type and an unknown field.
        let err = parse_json::<Body>(br#"{"title": 5, "titel": "b"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["titel", "title"]);
        // An unknown field and a missing one.
        let err = parse_json::<Body>(br#"{"tagz": 1}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["tagz", "title"]);
        // Three kinds at once, nested paths kept.
        let err = parse_json::<Body>(br#"{"tags": ["a", 2], "extra": 1, "more": 2, "title": false}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["extra", "more", "tags[1]", "title"]);
        // Several missing fields, and a bad value behind a custom deserialiser.
        let err = parse_json::<Pair>(br#"{"at": "0000-01-01T00:00:00Z"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["at", "name", "count"]);
        let err = parse_json::<Pair>(br#"{"name": "x", "count": -1, "zzz": null}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["count", "zzz"]);
    }

    #[test]
    fn field_messages_carry_no_line_and_column() {
        let err = parse_json::<Body>(br#"{"title": 5, "tags": 7}"#).unwrap_err();
        for e in err.field_errors() {
            assert!(!e.message.contains("line"), "{e}");
        }
        assert_eq!(err.field_errors()[1].message, "invalid type: integer `5`, expected a string");
        assert_eq!(strip_position("missing field `x` at line 1 column 2"), "missing field `x`");
        assert_eq!(strip_position("at line 3 of the poem"), "at line 3 of the poem");
    }

    #[test]
    fn a_flood_of_unknown_fields_is_cut_short() {
        let body: String = (0..500).map(|i| format!("\"f{i}\": 1,")).collect();
        let body = format!("{{{body} \"title\": \"t\"}}");
        let err = parse_json::<Body>(body.as_bytes()).unwrap_err();
        assert_eq!(err.field_errors().len(), MAX_FIELD_ERRORS);
    }

    #[test]
    fn duplicate_fields_are_still_named() {
        let err = parse_json::<Body>(br#"{"title": "a", "title": "b"}"#).unwrap_err();
        assert_eq!(fields_of(&err), ["title"]);
        assert!(err.field_errors()[0].message.starts_with("duplicate field"));
    }

    #[test]
    fn only_objects_are_bodies() {
        for body in [&br#"["a", []]"#[..], b" 5", b"\"a\"", b"null", b"true"] {
            let err = parse_json::<Body>(body).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "body", "{body:?}");
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        for body in [&b"{"[..], b"", b"{\"title\": \"a\"} trailing", b"\xff", b"[", b"not json", b"nul"] {
            assert_eq!(parse_json::<Body>(body).unwrap_err().status_code(), 400, "{body:?}");
        }
    }

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(field_of_serde_message("missing field `content` at line 1 column 2"), "content");
        assert_eq!(field_of_serde_message("unknown field `titel`, expected one of"), "titel");
        assert_eq!(field_of_serde_message("invalid type: integer `5`, expected a string"), "body");
    }
}
