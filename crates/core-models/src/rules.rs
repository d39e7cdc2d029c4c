//! The rules of a request body beyond its JSON shape, so that one answer names every bad
//! field: a body with a field of the wrong type (`{"title": 42}`, which serde refuses) and
//! a field that breaks a rule (`"priority": "x"`, checked after parsing) gets both named.
//!
//! Every body type the JSON extractor reads implements [`BodyRules`], usually with
//! [`body_rules!`](crate::body_rules) pointing at the type's own `validate`.

use crate::error::{AppError, AppResult, FieldError};

/// A request body's rules beyond its JSON shape.
pub trait BodyRules {
    /// Every rule the body breaks, as field errors (the same the service would answer);
    /// empty when it keeps them all, or has none beyond its shape.
    fn broken_rules(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// The field errors of a validation result: none when it passed (or failed otherwise).
pub fn errors_of<T>(result: AppResult<T>) -> Vec<FieldError> {
    match result {
        Err(AppError::Validation(errors)) => errors,
        _ => Vec::new(),
    }
}

/// Implements [`BodyRules`]: `body_rules!(Type)` for a body whose shape is all its rules,
/// `body_rules!(Type => Type::validate)` for one checked by a function taking the body by
/// value and returning an [`AppResult`](crate::AppResult).
#[macro_export]
macro_rules! body_rules {
    ($ty:ty) => {
        impl $crate::rules::BodyRules for $ty {}
    };
    ($ty:ty => $validate:expr) => {
        impl $crate::rules::BodyRules for $ty {
            fn broken_rules(&self) -> Vec<$crate::FieldError> {
                $crate::rules::errors_of(($validate)(self.clone()))
            }
        }
    };
}

/// The top-level field an error path names: `tags` for `tags[2]`, `a` for `a.b`.
pub fn top_field(path: &str) -> &str {
    let end = path.find(['[', '.']).unwrap_or(path.len());
    &path[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_fields_of_paths() {
        assert_eq!(top_field("tags[2]"), "tags");
        assert_eq!(top_field("changes.status"), "changes");
        assert_eq!(top_field("title"), "title");
    }

    #[derive(Clone)]
    struct Rated(i64);

    fn check(r: Rated) -> AppResult<i64> {
        if (1..=5).contains(&r.0) {
            Ok(r.0)
        } else {
            Err(AppError::invalid("stars", "must be from 1 to 5"))
        }
    }

    body_rules!(Rated => check);

    #[test]
    fn broken_rules_are_the_validation_errors() {
        assert!(Rated(3).broken_rules().is_empty());
        assert_eq!(Rated(9).broken_rules()[0].field, "stars");
        assert!(errors_of::<()>(Err(AppError::NotFound("x".into()))).is_empty());
    }
}
