//! Resource ids: time-ordered UUIDv7, lower-case hyphenated on the wire and in the database.
//!
//! [`Id<R>`] is an id of one kind of resource, so a project id cannot be passed where a
//! task id is expected, and nested paths parse without hand-written code:
//! `web::Path<(Id<Project>, Id<Task>)>` answers a malformed segment with a 404 that names
//! the resource ("task not found"), through `core_models::http::path_config`.
//!
//! ```
//! use core_models::id::{Id, Resource};
//!
//! struct Note;
//! impl Resource for Note {
//!     const NAME: &'static str = "note";
//! }
//!
//! let id: Id<Note> = serde_json::from_str("\"0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10\"").unwrap();
//! assert_eq!(id.to_string(), "0190f0e2-7f7e-7b3a-8a55-3d1c7c2a9b10");
//! let err = serde_json::from_str::<Id<Note>>("\"nope\"").unwrap_err();
//! assert!(err.to_string().starts_with("note not found"));
//! ```

use std::fmt;
use std::marker::PhantomData;

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

/// An id read back from the database. Stored ids were written by us, so one that does not
/// parse is corruption: a 500 naming the column, never the client's fault.
pub fn from_stored(column: &str, raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| corrupt(column, raw))
}

/// The error for a stored value that the schema's checks should have kept out.
pub fn corrupt(column: &str, raw: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("corrupt value {raw:?} in column {column}"))
}

/// A kind of resource that has ids; `NAME` is what a 404 calls it.
pub trait Resource {
    /// The resource's name in messages ("task", "comment").
    const NAME: &'static str;
}

/// The id of a resource of kind `R`.
pub struct Id<R> {
    uuid: Uuid,
    kind: PhantomData<fn() -> R>,
}

impl<R> Id<R> {
    /// Wraps a UUID.
    pub fn new(uuid: Uuid) -> Self {
        Id { uuid, kind: PhantomData }
    }

    /// The UUID.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

impl<R> From<Uuid> for Id<R> {
    fn from(uuid: Uuid) -> Self {
        Id::new(uuid)
    }
}

impl<R> From<Id<R>> for Uuid {
    fn from(id: Id<R>) -> Self {
        id.uuid
    }
}

// Manual impls: derives would demand the same traits of the marker `R`.
impl<R> Clone for Id<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Id<R> {}
impl<R> PartialEq for Id<R> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<R> Eq for Id<R> {}
impl<R> std::hash::Hash for Id<R> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state);
    }
}
impl<R: Resource> fmt::Debug for Id<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id<{}>({})", R::NAME, self.uuid)
    }
}
impl<R> fmt::Display for Id<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uuid.fmt(f)
    }
}

impl<R> serde::Serialize for Id<R> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.uuid.serialize(s)
    }
}

/// The message of a malformed id; `http::path_config` turns it into a 404 with this detail.
pub(crate) fn not_found_message(name: &str) -> String {
    format!("{name} not found")
}

impl<'de, R: Resource> serde::Deserialize<'de> for Id<R> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Uuid::parse_str(&raw).map(Id::new).map_err(|_| serde::de::Error::custom(not_found_message(R::NAME)))
    }
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

    #[test]
    fn corrupt_stored_ids_are_internal() {
        assert_eq!(from_stored("tasks.id", "x").unwrap_err().status_code(), 500);
        let id = new_id();
        assert_eq!(from_stored("tasks.id", &id.to_string()).unwrap(), id);
    }
}
