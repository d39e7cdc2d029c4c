//! Comments in a challenge's discussion, and their body.

use chrono::{DateTime, Utc};
use core_models::{text, time, AppResult, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A comment in a challenge's discussion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Comment {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The challenge it discusses.
    pub challenge_id: Uuid,
    /// Who wrote it (the only one who may change or delete it).
    pub author: UserRef,
    /// 1 to 20,000 characters.
    pub body: String,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves when the author edits it.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// 1 at creation, +1 on every edit; the `ETag` and what `If-Match` names.
    pub version: i64,
}

impl core_models::version::Versioned for Comment {
    fn version(&self) -> i64 {
        self.version
    }
}

impl core_models::id::Resource for Comment {
    const NAME: &'static str = "comment";
}

/// The body of `POST /learning/challenges/{id}/comments` and `PATCH /learning/comments/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub body: String,
}

impl CommentBody {
    pub(crate) fn validate(self) -> AppResult<String> {
        Ok(text::required("body", &self.body, text::BODY_MAX)?)
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(CommentBody => CommentBody::validate);
