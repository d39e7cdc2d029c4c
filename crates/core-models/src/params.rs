//! Parsers for query-string values, shared by every list: comma lists, booleans, search
//! text. Each returns a [`FieldError`] naming the parameter, so a handler can collect every
//! bad parameter into one 422 with [`Violations`](crate::Violations).

use crate::FieldError;

/// A comma list whose items are parsed by `item`. Blank items are refused: `x=` or `x=a,`
/// is a client bug, not "anything".
pub fn comma_list<T>(
    field: &str,
    raw: &str,
    mut item: impl FnMut(&str) -> Result<T, FieldError>,
) -> Result<Vec<T>, FieldError> {
    raw.split(',')
        .map(|part| {
            let part = part.trim();
            if part.is_empty() {
                Err(FieldError::new(field, "must be a comma list without blank items"))
            } else {
                item(part)
            }
        })
        .collect()
}

/// `true` or `false`, nothing else (no `1`, `yes`, or blank).
pub fn boolean(field: &str, raw: &str) -> Result<bool, FieldError> {
    match raw.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(FieldError::new(field, format!("`{other}` is not a boolean; use true or false"))),
    }
}

/// Search text: longer than `max` characters as sent is refused (the document's
/// `maxLength`, see [`crate::text::required`]); trimmed; blank means no search (`None`).
pub fn search_text(field: &str, raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    crate::text::within(field, raw, max)?;
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(text.to_string()))
}

/// A UUID given as a query value (`project_id=...`): 422 naming `field` when malformed.
pub fn uuid(field: &str, raw: &str) -> Result<uuid::Uuid, FieldError> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| FieldError::new(field, format!("`{}` is not an id", raw.trim())))
}

/// The ids of a body field `field` that holds a list of them (`label_ids`, `ids`): each
/// well formed and none twice, every bad element named (`field[i]`) in `v`. `None` when
/// one was bad. Whether the ids name anything is the write's business.
pub fn id_list(field: &str, raw: &[String], v: &mut crate::Violations) -> Option<Vec<uuid::Uuid>> {
    let mut ids: Vec<uuid::Uuid> = Vec::with_capacity(raw.len());
    let mut seen = std::collections::HashSet::new();
    let mut ok = true;
    for (i, item) in raw.iter().enumerate() {
        let at = format!("{field}[{i}]");
        match uuid(&at, item) {
            Ok(id) if !seen.insert(id) => {
                v.push(FieldError::new(at, format!("`{id}` appears twice")));
                ok = false;
            }
            Ok(id) => ids.push(id),
            Err(e) => {
                v.push(e);
                ok = false;
            }
        }
    }
    ok.then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_lists_refuse_blank_items() {
        let parse = |raw| comma_list("tag", raw, |s| Ok(s.to_string()));
        assert_eq!(parse(" a , b").unwrap(), ["a", "b"]);
        for bad in ["", "a,", ",a", "a,,b", " "] {
            assert_eq!(parse(bad).unwrap_err().field, "tag", "{bad:?}");
        }
    }

    #[test]
    fn booleans_are_true_or_false_only() {
        assert_eq!(boolean("b", " true"), Ok(true));
        assert_eq!(boolean("b", "false"), Ok(false));
        for bad in ["1", "yes", "", "TRUE"] {
            assert!(boolean("b", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(search_text("q", "  ", 5), Ok(None));
        assert_eq!(search_text("q", " ab ", 5), Ok(Some("ab".into())));
        assert!(search_text("q", "abcdef", 5).is_err());
    }

    #[test]
    fn query_ids_must_be_uuids() {
        assert!(uuid("project_id", "0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10").is_ok());
        assert_eq!(uuid("project_id", "nope").unwrap_err().field, "project_id");
    }
}
