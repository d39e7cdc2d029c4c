//! Challenges, paths, completions, ratings, comments, feedback and progress as the API
//! shows them, and the inputs that create and change them (with their rules).

use chrono::{DateTime, Utc};
use core_models::{params, patch, text, time, AppResult, FieldError, UserRef, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

core_models::rank_enum! {
    /// How hard a challenge is; sorts `beginner < intermediate < advanced < expert`.
    pub enum Difficulty as "difficulty" {
        /// First steps.
        Beginner = 0 => "beginner",
        /// Needs some practice.
        Intermediate = 1 => "intermediate",
        /// Needs experience.
        Advanced = 2 => "advanced",
        /// For the few.
        Expert = 3 => "expert",
    }
}

/// Longest tag, in characters.
pub const TAG_MAX: usize = 50;
/// Most tags on one challenge.
pub const TAGS_MAX: usize = 20;
/// Longest topic, in characters.
pub const TOPIC_MAX: usize = 100;
/// Most challenges in one path.
pub const PATH_CHALLENGES_MAX: usize = 500;

/// The schema of one tag in a request: 1 to 50 characters, a visible one among them, no
/// comma (the filter's separator), no NUL.
#[derive(Debug)]
pub struct TagText;

impl utoipa::PartialSchema for TagText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(TAG_MAX))
            .pattern(Some("^[^,\\x00]*[^\\s,\\x00][^,\\x00]*$"))
            .into()
    }
}

impl utoipa::ToSchema for TagText {}

/// A challenge's rating: the average of its users' stars and how many rated it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatingSummary {
    /// Mean stars (1 to 5), `null` while nobody has rated it.
    #[schema(example = 4.25)]
    pub average: Option<f64>,
    /// How many users rated it.
    pub count: i64,
}

impl RatingSummary {
    /// The summary of `count` ratings adding up to `sum` stars.
    pub fn of(sum: i64, count: i64) -> Self {
        #[allow(clippy::cast_precision_loss)] // star sums stay far below 2^52
        let average = (count > 0).then(|| sum as f64 / count as f64);
        RatingSummary { average, count }
    }
}

/// A coding challenge.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Challenge {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "Reverse a linked list")]
    pub title: String,
    /// Optional, at most 20,000 characters.
    pub description: Option<String>,
    /// `beginner`, `intermediate`, `advanced` or `expert`.
    pub difficulty: Difficulty,
    /// 1 to 100 characters; compared without regard to ASCII case.
    #[schema(example = "algorithms")]
    pub topic: String,
    /// Lower-case, at most 20, each 1 to 50 characters.
    #[schema(example = json!(["python", "lists"]))]
    pub tags: Vec<String>,
    /// Who wrote it (the only one who may change or delete it).
    pub author: UserRef,
    /// The users' stars.
    pub rating: RatingSummary,
    /// How many users completed it.
    pub completion_count: i64,
    /// RFC 3339 UTC.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Moves when the author changes it.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// 1 at creation, +1 on every change by its author; what `If-Match` names.
    /// Ratings and completions move `rating` and `completion_count` (and so the `ETag`,
    /// `"<version>-<digest>"`), not this.
    pub version: i64,
    /// The caller's own completion and rating of it; `null` without a login (always
    /// present, so a typed client reads it without checking for a missing key).
    pub me: Option<ChallengeMe>,
}

/// The caller's own part in a challenge, so a page can show its "done" mark and star
/// widget without another request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChallengeMe {
    /// When the caller completed it; `null` while not completed.
    #[serde(with = "time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The caller's stars, 1 to 5; `null` while not rated.
    #[schema(minimum = 1, maximum = 5)]
    pub stars: Option<i64>,
}

impl core_models::version::Versioned for Challenge {
    fn version(&self) -> i64 {
        self.version
    }
}

impl core_models::id::Resource for Challenge {
    const NAME: &'static str = "challenge";
}

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

/// A `PUT` result: the resource and whether the call created it (201) or found it (200).
#[derive(Debug, Clone, PartialEq)]
pub struct Put<T> {
    /// The resource after the call.
    pub value: T,
    /// `true` when this call created it.
    pub created: bool,
}

// ---- inputs ----

/// The body of `POST /learning/challenges`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChallenge {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub title: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// `beginner`, `intermediate`, `advanced` or `expert`.
    #[schema(value_type = Difficulty)]
    pub difficulty: String,
    /// Required; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub topic: String,
    /// Trimmed, lower-cased and de-duplicated; at most 20, each 1 to 50 characters
    /// without commas.
    #[serde(default)]
    #[schema(value_type = Vec<TagText>, max_items = 20)]
    pub tags: Vec<String>,
}

/// The body of `PATCH /learning/challenges/{id}`: absent fields stay, `null` clears
/// `description`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeChanges {
    /// New title; not null, not blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// New difficulty; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Difficulty, required = false)]
    pub difficulty: Option<Option<String>>,
    /// New topic; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<Option<String>>,
    /// The new tag set (replaces the old one; `[]` removes every tag); not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Vec<TagText>, required = false, max_items = 20)]
    pub tags: Option<Option<Vec<String>>>,
}

/// The fields of a challenge, checked.
#[derive(Debug, Clone)]
pub(crate) struct ValidChallenge {
    pub title: String,
    pub description: Option<String>,
    pub difficulty: Difficulty,
    pub topic: String,
    pub tags: Vec<String>,
}

/// Checked [`ChallengeChanges`].
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidChallengeChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub difficulty: Option<Difficulty>,
    pub topic: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// One tag: trimmed, lower-case, 1 to 50 characters, no comma (the filter's separator).
pub fn normalize_tag(field: &str, raw: &str) -> Result<String, FieldError> {
    let tag = text::required(field, raw, TAG_MAX)?.to_lowercase();
    if tag.contains(',') {
        return Err(FieldError::new(field, "must not contain a comma"));
    }
    // Lower-casing can lengthen a few characters (`İ`): the limit holds for the stored tag.
    if tag.chars().nth(TAG_MAX).is_some() {
        return Err(FieldError::new(field, format!("must be at most {TAG_MAX} characters")));
    }
    Ok(tag)
}

/// A tag list of at most [`TAGS_MAX`] items: each tag normalised, repeats dropped (first
/// spelling's place kept); every bad tag is named (`tags[2]`).
fn normalize_tags(raw: &[String], v: &mut Violations) -> Option<Vec<String>> {
    let mut tags: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, item) in raw.iter().enumerate() {
        match normalize_tag(&format!("tags[{i}]"), item) {
            Ok(tag) if !tags.contains(&tag) => tags.push(tag),
            Ok(_) => {}
            Err(e) => {
                v.push(e);
                ok = false;
            }
        }
    }
    // Counted as sent, repeats included: the document says `maxItems: 20`, and a list the
    // document calls invalid is refused rather than quietly shortened.
    if raw.len() > TAGS_MAX {
        v.push(FieldError::new("tags", format!("must hold at most {TAGS_MAX} tags (has {})", raw.len())));
        ok = false;
    }
    ok.then_some(tags)
}

fn topic(raw: &str) -> Result<String, FieldError> {
    text::required("topic", raw, TOPIC_MAX)
}

impl NewChallenge {
    pub(crate) fn validate(self) -> AppResult<ValidChallenge> {
        use core_models::rank::RankEnum as _;
        let mut v = Violations::new();
        let title = v.check(text::required("title", &self.title, text::TITLE_MAX));
        let description = v.check(text::optional("description", self.description, text::BODY_MAX));
        let difficulty = v.check(Difficulty::parse("difficulty", &self.difficulty));
        let topic = v.check(topic(&self.topic));
        let tags = normalize_tags(&self.tags, &mut v);
        v.finish()?;
        Ok(ValidChallenge {
            title: title.unwrap_or_default(),
            description: description.flatten(),
            difficulty: difficulty.unwrap_or(Difficulty::Beginner),
            topic: topic.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
        })
    }
}

impl ChallengeChanges {
    pub(crate) fn validate(self) -> AppResult<ValidChallengeChanges> {
        use core_models::rank::RankEnum as _;
        let mut v = Violations::new();
        let title = v
            .check(patch::not_null("title", self.title))
            .flatten()
            .and_then(|t| v.check(text::required("title", &t, text::TITLE_MAX)));
        let description = self.description.and_then(|d| v.check(text::optional("description", d, text::BODY_MAX)));
        let difficulty = v
            .check(patch::not_null("difficulty", self.difficulty))
            .flatten()
            .and_then(|d| v.check(Difficulty::parse("difficulty", &d)));
        let topic = v.check(patch::not_null("topic", self.topic)).flatten().and_then(|t| v.check(topic(&t)));
        let tags = v.check(patch::not_null("tags", self.tags)).flatten().and_then(|t| normalize_tags(&t, &mut v));
        v.finish()?;
        Ok(ValidChallengeChanges { title, description, difficulty, topic, tags })
    }
}

/// The body of `POST /learning/paths`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPath {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub title: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// Required; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
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
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<Option<String>>,
    /// New topic; not null.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
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

/// The body of `POST /learning/challenges/{id}/comments` and `PATCH /learning/comments/{id}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
    pub body: String,
}

impl CommentBody {
    pub(crate) fn validate(self) -> AppResult<String> {
        Ok(text::required("body", &self.body, text::BODY_MAX)?)
    }
}

/// The body of `POST /learning/completions/{id}/feedback`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// 1 to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000, pattern = "^[^\\x00]*[^\\s\\x00][^\\x00]*$")]
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
core_models::body_rules!(NewChallenge => NewChallenge::validate);
core_models::body_rules!(ChallengeChanges => ChallengeChanges::validate);
core_models::body_rules!(NewPath => NewPath::validate);
core_models::body_rules!(PathChanges => PathChanges::validate);
core_models::body_rules!(PathChallenges => PathChallenges::validate);
core_models::body_rules!(CompletionBody => CompletionBody::validate);
core_models::body_rules!(RatingBody => RatingBody::validate);
core_models::body_rules!(CommentBody => CommentBody::validate);
core_models::body_rules!(FeedbackBody => FeedbackBody::validate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_lowered_deduplicated_and_bounded() {
        let raw: Vec<String> = [" Python ", "python", "SQL", "sql "].iter().map(|s| s.to_string()).collect();
        let mut v = Violations::new();
        assert_eq!(normalize_tags(&raw, &mut v).unwrap(), ["python", "sql"]);
        assert!(v.is_empty());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        let mut v = Violations::new();
        assert!(normalize_tags(&many, &mut v).is_none());
        assert_eq!(v.finish().unwrap_err().field_errors()[0].field, "tags");
        // Counted as sent: 20 items fold to 10, 21 items are too many even with repeats.
        let repeated: Vec<String> = (0..20).map(|i| format!("T{}", i % 10)).collect();
        let mut v = Violations::new();
        assert_eq!(normalize_tags(&repeated, &mut v).unwrap().len(), 10, "10 different after folding");
        let repeated: Vec<String> = (0..21).map(|i| format!("T{}", i % 10)).collect();
        let mut v = Violations::new();
        assert!(normalize_tags(&repeated, &mut v).is_none());
        let bad: Vec<String> = ["ok", " ", &"x".repeat(51), "a,b"].iter().map(|s| s.to_string()).collect();
        let mut v = Violations::new();
        assert!(normalize_tags(&bad, &mut v).is_none());
        let fields: Vec<String> = v.finish().unwrap_err().field_errors().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["tags[1]", "tags[2]", "tags[3]"]);
        assert_eq!(normalize_tag("tag", &"x".repeat(50)).unwrap().len(), 50);
    }

    #[test]
    fn percentages_have_one_decimal() {
        assert_eq!(percent(1, 3), 33.3);
        assert_eq!(percent(2, 3), 66.7);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(5, 5), 100.0);
    }

    #[test]
    fn path_lists_refuse_repeats_and_garbage() {
        let id = Uuid::now_v7().to_string();
        let body = PathChallenges { challenge_ids: vec![id.clone(), "nope".into(), id] };
        let err = body.validate().unwrap_err();
        let fields: Vec<&str> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["challenge_ids[1]", "challenge_ids[2]"]);
    }
}
