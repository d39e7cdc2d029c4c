//! Completions and what hangs on them: a completion, the caller's rating and peer
//! feedback as the API shows them, and their bodies (with their rules).

use chrono::{DateTime, Utc};
use core_models::{patch, text, time, AppResult, FieldError, UserRef, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::challenges::RatingSummary;

/// A user's completion of a challenge, with their solution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Completion {
    /// Time-ordered UUIDv7; feedback is given on it.
    pub id: Uuid,
    /// The challenge.
    pub challenge_id: Uuid,
    /// Who completed it.
    pub user: UserRef,
    /// Optional, at most 20,000 characters.
    pub solution: Option<String>,
    /// When it was first marked completed.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub completed_at: DateTime<Utc>,
}

impl core_models::id::Resource for Completion {
    const NAME: &'static str = "completion";
}

/// The caller's rating of a challenge, and the challenge's rating after it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MyRating {
    /// The challenge.
    pub challenge_id: Uuid,
    /// The caller's stars, 1 to 5.
    pub stars: i64,
    /// When the caller last rated it.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub rated_at: DateTime<Utc>,
    /// The challenge's rating including this one.
    pub rating: RatingSummary,
}

/// The caller's own rating of a challenge, as `GET .../rating` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OwnRating {
    /// The caller's stars, 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i64,
    /// When the caller last rated it.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub rated_at: DateTime<Utc>,
}

/// Peer feedback on someone's completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Feedback {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// The completion it reviews.
    pub completion_id: Uuid,
    /// Who wrote it (never the completion's own user).
    pub author: UserRef,
    /// 1 to 20,000 characters.
    pub body: String,
    /// Optional 1 to 5 stars for the solution.
    pub stars: Option<i64>,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

/// The body of `PUT /learning/challenges/{id}/completion` (may be `{}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionBody {
    /// The caller's solution, at most 20,000 characters. Absent keeps the solution of an
    /// earlier completion; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub solution: Option<Option<String>>,
}

impl CompletionBody {
    /// `None`: keep; `Some(None)`: clear; `Some(Some(s))`: set.
    pub(crate) fn validate(self) -> AppResult<Option<Option<String>>> {
        match self.solution {
            None => Ok(None),
            Some(raw) => Ok(Some(text::optional("solution", raw, text::BODY_MAX)?)),
        }
    }
}

/// The body of `PUT /learning/challenges/{id}/rating`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 to 5.
    #[serde(deserialize_with = "core_models::whole::number")]
    #[schema(minimum = 1, maximum = 5)]
    pub stars: i64,
}

fn stars(field: &str, value: i64) -> Result<i64, FieldError> {
    if (1..=5).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, "must be a whole number from 1 to 5"))
    }
}

impl RatingBody {
    pub(crate) fn validate(self) -> AppResult<i64> {
        Ok(stars("stars", self.stars)?)
    }
}

/// The body of `POST /learning/completions/{id}/feedback`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub body: String,
    /// Optional 1 to 5 stars for the solution.
    #[serde(default, deserialize_with = "core_models::whole::optional")]
    #[schema(minimum = 1, maximum = 5)]
    pub stars: Option<i64>,
}

impl FeedbackBody {
    pub(crate) fn validate(self) -> AppResult<(String, Option<i64>)> {
        let mut v = Violations::new();
        let body = v.check(text::required("body", &self.body, text::BODY_MAX));
        let stars = self.stars.and_then(|s| v.check(stars("stars", s)));
        v.finish()?;
        Ok((body.unwrap_or_default(), stars))
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(CompletionBody => CompletionBody::validate);
core_models::body_rules!(RatingBody => RatingBody::validate);
core_models::body_rules!(FeedbackBody => FeedbackBody::validate);
