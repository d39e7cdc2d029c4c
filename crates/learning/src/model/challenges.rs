//! Challenges: their difficulty, tags and rating as the API shows them, and the bodies
//! that create and change a challenge (with their rules).

use chrono::{DateTime, Utc};
use core_models::{patch, text, time, AppResult, FieldError, UserRef, Violations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::topic;

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
            .pattern(Some("^\\s*[^\\s,\\x00][^,\\x00]*$"))
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

/// The body of `POST /learning/challenges`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChallenge {
    /// Required; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub title: String,
    /// Optional; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = "^[^\\x00]*$")]
    pub description: Option<String>,
    /// `beginner`, `intermediate`, `advanced` or `expert`.
    #[schema(value_type = Difficulty)]
    pub difficulty: String,
    /// Required; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
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
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
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
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
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

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewChallenge => NewChallenge::validate);
core_models::body_rules!(ChallengeChanges => ChallengeChanges::validate);

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
}
