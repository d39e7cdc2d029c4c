//! SkillSync, the learning platform: users enrol in learning paths, solve coding
//! challenges, rate and discuss them, review each other's solutions and follow their
//! progress across paths.
//!
//! [`LearningService`] is the contract; [`DbLearning`] implements it over the shared
//! database. Browsing needs no login; every write takes the [`core_models::Caller`].
//! Aggregates (a challenge's rating and completion count, a path's challenge count, a
//! tag's challenge count) are maintained by triggers in the transaction of the change,
//! and every browse walks one index in the order asked for (see [`list`]).
//!
//! ```
//! use learning::{LearningService, NewChallenge, RatingBody, DbLearning};
//!
//! let db = storage::test_pool();
//! # let ada = storage::testing::users(&db, &["Ada".into()]).remove(0);
//! let service = DbLearning::new(db.database());
//! let new = NewChallenge {
//!     title: "Reverse a list".into(),
//!     difficulty: "beginner".into(),
//!     topic: "algorithms".into(),
//!     tags: vec![" Python".into(), "python".into(), "Lists".into()],
//!     ..NewChallenge::default()
//! };
//! let challenge = service.create_challenge(&ada, new)?;
//! assert_eq!(challenge.tags, ["python", "lists"]);
//! service.complete(&ada, challenge.id, Default::default())?;
//! let rated = service.rate(&ada, challenge.id, RatingBody { stars: 4 })?;
//! assert_eq!((rated.value.rating.average, rated.value.rating.count), (Some(4.0), 1));
//! let seen = service.challenge(challenge.id, Some(ada.id))?;
//! assert_eq!((seen.completion_count, seen.me.and_then(|me| me.stars)), (1, Some(4)));
//! assert!(service.challenge(challenge.id, None)?.me.is_none(), "`me` is null without a login");
//! # Ok::<(), core_models::AppError>(())
//! ```

pub mod challenges;
pub mod comments;
pub mod completions;
pub mod http;
pub mod list;
mod model;
pub mod paths;
#[cfg(test)]
mod plans;
pub mod progress;
mod service;

use core_models::constraint::Constraint;

pub use list::{
    ChallengeFilter, ChallengeSort, ListChallenges, ListChallengesParams, ListPaths, ListPathsParams, PathSort,
};
pub use model::{
    normalize_tag, Challenge, ChallengeChanges, ChallengeMe, ChallengeProgress, ChallengeRef, Comment, CommentBody,
    Completion, CompletionBody, Difficulty, Enrollment, Feedback, FeedbackBody, LearningPath, MyRating, NewChallenge,
    NewPath, OwnRating, PathChallenges, PathChanges, PathDetail, PathProgress, PathProgressSummary, PathRef, Put,
    RatingBody, RatingSummary, PATH_CHALLENGES_MAX, TAGS_MAX, TAG_MAX, TOPIC_MAX,
};
pub use service::{DbLearning, LearningService};

/// What the learning tables' constraints mean to a client.
pub static CONSTRAINTS: &[Constraint] = &[
    Constraint::check("challenges_difficulty", "difficulty", "must be beginner, intermediate, advanced or expert"),
    Constraint::check("ratings_stars", "stars", "must be from 1 to 5"),
    Constraint::check("completion_feedback_stars", "stars", "must be from 1 to 5"),
    Constraint::unique("path_challenges.path_id, path_challenges.challenge_id", "a path holds a challenge once"),
];
