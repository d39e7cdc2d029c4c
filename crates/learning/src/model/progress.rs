//! Progress across paths as the API shows it: per path, per challenge, in percent.

use chrono::{DateTime, Utc};
use core_models::time;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::challenges::Difficulty;

/// A path as progress names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PathRef {
    /// The path's id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
}

/// The caller's progress along one enrolled path (`GET /learning/me/progress`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PathProgressSummary {
    /// The path.
    pub path: PathRef,
    /// When the caller enrolled.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub enrolled_at: DateTime<Utc>,
    /// Challenges in the path now.
    pub total_challenges: i64,
    /// Of those, how many the caller completed.
    pub completed_challenges: i64,
    /// `completed / total * 100`, one decimal; 0 for an empty path.
    #[schema(example = 42.5)]
    pub percent_complete: f64,
    /// The caller's latest completion among the path's challenges, if any.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_completed_at: Option<DateTime<Utc>>,
}

/// A challenge as path progress names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChallengeRef {
    /// The challenge's id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Its difficulty.
    pub difficulty: Difficulty,
}

/// One challenge of a path with the caller's completion of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChallengeProgress {
    /// The challenge.
    pub challenge: ChallengeRef,
    /// Whether the caller completed it.
    pub completed: bool,
    /// When, if so.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<Utc>>,
}

/// The caller's progress along one path (`GET /learning/paths/{id}/progress`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PathProgress {
    /// The path.
    pub path: PathRef,
    /// When the caller enrolled; `null` when not enrolled (progress still shows).
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Challenges in the path now.
    pub total_challenges: i64,
    /// Of those, how many the caller completed.
    pub completed_challenges: i64,
    /// `completed / total * 100`, one decimal; 0 for an empty path.
    pub percent_complete: f64,
    /// Every challenge of the path in order, with the caller's completion.
    pub challenges: Vec<ChallengeProgress>,
}

/// `completed` out of `total` in percent, one decimal.
pub(crate) fn percent(completed: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)] // counts of challenges
    let tenths = (completed as f64 * 1000.0 / total as f64).round();
    tenths / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(5, 5), 100.0);
    }
}
