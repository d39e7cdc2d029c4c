//! Challenges, paths, completions, ratings, comments, feedback and progress as the API
//! shows them, and the inputs that create and change them (with their rules).
//!
//! One module per resource (`challenges`, `paths`, `completions` with ratings and
//! feedback, `comments`, `progress`), all re-exported here; this one holds what they
//! share.

mod challenges;
mod comments;
mod completions;
mod paths;
mod progress;

use core_models::{text, FieldError};

pub(crate) use challenges::ValidChallengeChanges;
pub use challenges::{
    normalize_tag, Challenge, ChallengeChanges, ChallengeMe, Difficulty, NewChallenge, RatingSummary, TAGS_MAX, TAG_MAX,
};
pub use comments::{Comment, CommentBody};
pub use completions::{Completion, CompletionBody, Feedback, FeedbackBody, MyRating, OwnRating, RatingBody};
pub(crate) use paths::ValidPathChanges;
pub use paths::{Enrollment, LearningPath, NewPath, PathChallenges, PathChanges, PathDetail, PATH_CHALLENGES_MAX};
pub(crate) use progress::percent;
pub use progress::{ChallengeProgress, ChallengeRef, PathProgress, PathProgressSummary, PathRef};

/// Longest topic, in characters.
pub const TOPIC_MAX: usize = 100;

/// A topic (of a challenge or a path): trimmed, 1 to [`TOPIC_MAX`] characters.
fn topic(raw: &str) -> Result<String, FieldError> {
    text::required("topic", raw, TOPIC_MAX)
}

/// A `PUT` result: the resource and whether the call created it (201) or found it (200).
#[derive(Debug, Clone, PartialEq)]
pub struct Put<T> {
    /// The resource after the call.
    pub value: T,
    /// `true` when this call created it.
    pub created: bool,
}
