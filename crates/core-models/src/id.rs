//! Resource ids: time-ordered UUIDv7, lower-case hyphenated on the wire and in the database.

use uuid::Uuid;

use crate::AppError;

/// A fresh time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Parses an id taken from a path. A malformed id cannot name anything, so it is a 404
/// for `what` (e.g. "note"), never a 500.
pub fn parse_path_id(raw: &str, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::not_found(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_not_found() {
        let err = parse_path_id("not-a-uuid", "note").unwrap_err();
        assert_eq!(err.status_code(), 404);
        assert_eq!(err.to_string(), "not found: note not found");
        assert!(parse_path_id(&new_id().to_string(), "note").is_ok());
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(new_id().to_string() > a.to_string());
    }
}
