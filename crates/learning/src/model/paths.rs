//! Learning paths: a path, its challenge list and an enrolment as the API shows them, and
//! the bodies that create and change a path (with their rules).

use chrono::{DateTime, Utc};
use core_models::{params, patch, text, time, AppResult, FieldError, UserRef, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::challenges::Challenge;
use super::topic;

/// Most challenges in one path.
pub const PATH_CHALLENGES_MAX: usize = 500;

/// A learning path (without its challenge list: see [`PathDetail`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LearningPath {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Python from zero")]
    pub title: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// 1 to 100 characters; compared without regard to ASCII case.
    pub topic: String,
    /// Who made it (the only one who may change or delete it).
    pub author: UserRef,
    /// How many challenges it holds.
    pub challenge_count: i64,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves on every change, also when a challenge of it is deleted.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// 1 at creation, +1 on every change; the `ETag` and what `If-Match` names.
    pub version: i64,
}

impl core_models::id::Resource for LearningPath {
    const NAME: &'static str = "path";
}

/// A learning path with its challenges, in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PathDetail {
    /// The path.
    #[serde(flatten)]
    pub path: LearningPath,
    /// Its challenges, in the path's order.
    pub challenges: Vec<Challenge>,
}

impl core_models::version::Versioned for PathDetail {
    fn version(&self) -> i64 {
        self.path.version
    }
}

/// The caller's enrolment in a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Enrollment {
    /// The path.
    pub path_id: Uuid,
    /// When the caller enrolled (the first time: enrolling again changes nothing).
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: DateTime<Utc>,
}

/// The body of `POST /learning/paths`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPath {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// Required; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub topic: String,
    /// Optional initial challenge list, in order (as `PUT .../challenges`).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::BTreeSet<Uuid>>, max_items = 500)]
    pub challenge_ids: Option<Vec<String>>,
}

/// The body of `PATCH /learning/paths/{id}`: absent fields stay, `null` clears
/// `description`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathChanges {
    /// New title; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// New topic; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<Option<String>>,
}

/// The body of `PUT /learning/paths/{id}/challenges`: the whole ordered list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathChallenges {
    /// Challenge ids in the order the path takes them; each existing, none twice, at most
    /// 500.
    #[schema(value_type = std::collections::BTreeSet<Uuid>, max_items = 500)]
    pub challenge_ids: Vec<String>,
}

/// A path's fields, checked.
#[derive(Debug, Clone)]
pub(crate) struct ValidPath {
    pub title: String,
    pub description: Option<String>,
    pub topic: String,
    pub challenge_ids: Option<Vec<Uuid>>,
}

/// Checked [`PathChanges`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidPathChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub topic: Option<String>,
}

/// Parses a challenge id list: well-formed, none twice, at most [`PATH_CHALLENGES_MAX`]
/// (existence is checked against the database by the write).
fn challenge_id_list(raw: &[String], v: &mut Violations) -> Option<Vec<Uuid>> {
    if raw.len() > PATH_CHALLENGES_MAX {
        v.push(FieldError::new("challenge_ids", format!("must hold at most {PATH_CHALLENGES_MAX} challenges")));
        return None;
    }
    let mut ids: Vec<Uuid> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, item) in raw.iter().enumerate() {
        let field = format!("challenge_ids[{i}]");
        match params::uuid(&field, item) {
            Ok(id) if ids.contains(&id) => {
                v.push(FieldError::new(field, format!("`{id}` appears twice: a path holds a challenge once")));
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

impl NewPath {
    pub(crate) fn validate(self) -> AppResult<ValidPath> {
        let mut v = Violations::new();
        let title = v.check(text::required("title", &self.title, text::TITLE_MAX));
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        let topic = v.check(topic(&self.topic));
        let challenge_ids = self.challenge_ids.map(|ids| challenge_id_list(&ids, &mut v));
        v.finish()?;
        Ok(ValidPath {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            topic: topic.unwrap_or_default(),
            challenge_ids: challenge_ids.flatten(),
        })
    }
}

impl PathChanges {
    pub(crate) fn validate(self) -> AppResult<ValidPathChanges> {
        let mut v = Violations::new();
        let title = v
            .check(patch::not_null("title", self.title))
            .flatten()
            .and_then(|t| v.check(text::required("title", &t, text::TITLE_MAX)));
        let description = self.description.and_then(|d| v.check(text::optional("description", d, text::BODY_MAX)));
        let topic = v.check(patch::not_null("topic", self.topic)).flatten().and_then(|t| v.check(topic(&t)));
        v.finish()?;
        Ok(ValidPathChanges { title, description, topic })
    }
}

impl PathChallenges {
    pub(crate) fn validate(self) -> AppResult<Vec<Uuid>> {
        let mut v = Violations::new();
        let ids = challenge_id_list(&self.challenge_ids, &mut v);
        v.finish()?;
        Ok(ids.unwrap_or_default())
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewPath => NewPath::validate);
core_models::body_rules!(PathChanges => PathChanges::validate);
core_models::body_rules!(PathChallenges => PathChallenges::validate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_lists_refuse_repeats_and_garbage() {
        let id = Uuid::now_v7().to_string();
        let body = PathChallenges { challenge_ids: vec![id.clone(), "nope".into(), id] };
        let err = body.validate().unwrap_err();
        let fields: Vec<&str> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["challenge_ids[1]", "challenge_ids[2]"]);
    }
}
