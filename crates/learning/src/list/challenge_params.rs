//! The query of a challenge browse: the sort fields, the query string and its checked
//! form ([`ListChallenges`]), and the cursor keys of a row.

use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::rank::RankEnum;
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::{params, AppError, AppResult, CursorValue, FieldError, Violations};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{search_filter, topic_filter};
use crate::challenges::{rating_key, ChallengeRow};
use crate::model::{normalize_tag, Difficulty};

/// What challenge lists sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeSort {
    /// `difficulty` by rank: beginner < intermediate < advanced < expert.
    Difficulty,
    /// `rating`: the average stars; unrated challenges below every rated one.
    Rating,
    /// `popularity`: the completion count.
    Popularity,
    /// `created_at`.
    CreatedAt,
    /// `title`, ignoring ASCII case.
    Title,
}

impl SortField for ChallengeSort {
    const ALL: &'static [Self] = &[
        ChallengeSort::Difficulty,
        ChallengeSort::Rating,
        ChallengeSort::Popularity,
        ChallengeSort::CreatedAt,
        ChallengeSort::Title,
    ];
    fn name(self) -> &'static str {
        match self {
            ChallengeSort::Difficulty => "difficulty",
            ChallengeSort::Rating => "rating",
            ChallengeSort::Popularity => "popularity",
            ChallengeSort::CreatedAt => "created_at",
            ChallengeSort::Title => "title",
        }
    }
    fn key_kind(self) -> KeyKind {
        match self {
            ChallengeSort::Title => KeyKind::Text,
            _ => KeyKind::Int,
        }
    }
}

/// Newest first.
pub const DEFAULT_CHALLENGE_SORT: &str = "-created_at";

/// The query string of `GET /learning/challenges`. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListChallengesParams {
    /// Comma list of tags, all of which must be on the challenge (case-insensitive); each
    /// 1 to 50 characters once the whitespace around it is trimmed, at most 20 different
    /// ones.
    #[param(
        example = "python,lists",
        pattern = "^\\s*[^\\s,\\x00]([^,\\x00]{0,48}[^\\s,\\x00])?\\s*(,\\s*[^\\s,\\x00]([^,\\x00]{0,48}[^\\s,\\x00])?\\s*)*$"
    )]
    pub tag: Option<String>,
    /// The topic (case-insensitive, whole value), 1 to 100 characters.
    #[param(example = "algorithms", min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<String>,
    /// Comma list of difficulties: `beginner`, `intermediate`, `advanced`, `expert`.
    #[param(value_type = Option<Vec<Difficulty>>, style = Form, explode = false, min_items = 1,
            example = json!(["intermediate", "advanced"]))]
    pub difficulty: Option<String>,
    /// Full-text search over title and description (every word, as a prefix).
    pub q: Option<String>,
    /// Needs a login (401 without): `true` only challenges the caller completed, `false`
    /// only the others.
    #[param(value_type = Option<bool>)]
    pub completed: Option<String>,
    /// `difficulty`, `rating`, `popularity`, `created_at`, `title`; `-` for descending;
    /// comma-separated, each field at most once. Default `-created_at`.
    #[param(
        example = "-rating,title",
        pattern = "^(-?(difficulty|rating|popularity|created_at|title)(,-?(difficulty|rating|popularity|created_at|title))*)?$"
    )]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many challenges match the filters over all pages
    /// (exact up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// Which challenges a browse keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChallengeFilter {
    /// All of these tags (lower-case, distinct).
    pub tags: Vec<String>,
    /// This topic.
    pub topic: Option<String>,
    /// Any of these difficulties.
    pub difficulties: Option<Vec<Difficulty>>,
    /// Search words.
    pub search: Option<Vec<String>>,
    /// Completed (`true`) or not (`false`) by this user.
    pub completed: Option<(Uuid, bool)>,
}

impl ChallengeFilter {
    /// The filter as cursors are bound to it: tags in sorted order (all must match, so
    /// their order is not part of the filter) and the topic in the case it is compared in
    /// (`COLLATE NOCASE`: ASCII letters fold).
    fn canonical(&self) -> ChallengeFilter {
        let mut tags = self.tags.clone();
        tags.sort();
        ChallengeFilter { tags, topic: self.topic.as_ref().map(|t| t.to_ascii_lowercase()), ..self.clone() }
    }
}

/// A checked challenge browse.
#[derive(Debug, Clone)]
pub struct ListChallenges {
    /// Page size and position.
    pub page: PageRequest,
    /// Order.
    pub sort: Sort<ChallengeSort>,
    /// Which challenges.
    pub filter: ChallengeFilter,
    /// Who browses: each challenge then carries their `me` (not part of the cursor: it
    /// changes no row of the list).
    pub viewer: Option<Uuid>,
}

/// What `rating_asc_key` holds for a challenge nobody rated: above every rating.
pub(super) const UNRATED_ASC_KEY: i64 = i64::MAX;

impl ListChallenges {
    /// The field the browse sorts by first: what its walk is chosen by.
    pub(crate) fn lead(&self) -> ChallengeSort {
        self.sort.lead().map_or(ChallengeSort::CreatedAt, |k| k.field)
    }

    /// Checks every parameter of a browse by `caller` (`None`: anonymous, for whom
    /// `completed` is a 401).
    pub fn parse(params: ListChallengesParams, caller: Option<Uuid>) -> AppResult<Self> {
        let completed_by = match (&params.completed, caller) {
            (Some(_), None) => {
                return Err(AppError::Unauthorized(
                    "`completed` filters by the caller's completions: send `Authorization: Bearer <token>`".into(),
                ))
            }
            (_, caller) => caller,
        };
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_CHALLENGE_SORT,
            &mut v,
        );
        let tags = params
            .tag
            .as_deref()
            .and_then(|raw| v.check(params::comma_list("tag", raw, |t| normalize_tag("tag", t))))
            .map(|mut tags| {
                let mut seen = Vec::new();
                tags.retain(|t| {
                    let fresh = !seen.contains(t);
                    seen.push(t.clone());
                    fresh
                });
                tags
            })
            .unwrap_or_default();
        if tags.len() > crate::model::TAGS_MAX {
            v.push(FieldError::new("tag", format!("a challenge has at most {} tags", crate::model::TAGS_MAX)));
        }
        let topic = params.topic.as_deref().and_then(|raw| v.check(topic_filter(raw)));
        let difficulties =
            params.difficulty.as_deref().and_then(|raw| v.check(Difficulty::parse_list("difficulty", raw)));
        let search = search_filter(params.q.as_deref(), &mut v);
        let completed = params.completed.as_deref().and_then(|raw| v.check(params::boolean("completed", raw)));
        v.finish()?;
        let filter = ChallengeFilter {
            tags,
            topic,
            difficulties,
            search,
            completed: completed.and_then(|c| completed_by.map(|user| (user, c))),
        };
        let mut page = page;
        page.bind("list", &"challenges").bind("filter", &filter.canonical());
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        if sort.keys().iter().any(|k| k.field == ChallengeSort::Rating && !k.descending) {
            // Unrated challenges moved from first to last under `sort=rating`: a cursor
            // made before would continue at the wrong place, so it is refused (422).
            page.bind("unrated", &"last");
        }
        Ok(ListChallenges { page, sort, filter, viewer: caller })
    }

    pub(super) fn keys_of(&self, row: &ChallengeRow) -> Vec<CursorValue> {
        row_keys(&self.sort, &row.id, |field| match field {
            ChallengeSort::Difficulty => CursorValue::Int(i64::from(row.difficulty)),
            ChallengeSort::Rating => {
                let ascending = self.sort.keys().iter().any(|k| k.field == ChallengeSort::Rating && !k.descending);
                match (row.rating_count, ascending) {
                    // `rating_asc_key`: unrated challenges above every rating ascending.
                    (0, true) => CursorValue::Int(UNRATED_ASC_KEY),
                    _ => CursorValue::Int(rating_key(row.rating_sum, row.rating_count)),
                }
            }
            ChallengeSort::Popularity => CursorValue::Int(row.completion_count),
            ChallengeSort::CreatedAt => CursorValue::Int(row.created_at),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            ChallengeSort::Title => CursorValue::Text(row.title.to_ascii_lowercase()),
        })
    }
}

#[cfg(test)]
mod cursor_versions {
    use super::*;

    /// A cursor made before unrated challenges came last under `sort=rating` (the same
    /// binding without the marker) is refused there, and still read descending.
    #[test]
    fn a_cursor_from_before_unrated_challenges_came_last_is_refused_ascending_only() {
        for (sort, refused) in [("rating", true), ("difficulty,rating", true), ("-rating", false)] {
            let params = |cursor: Option<String>| ListChallengesParams {
                sort: Some(sort.to_string()),
                cursor,
                ..ListChallengesParams::default()
            };
            let query = ListChallenges::parse(params(None), None).unwrap();
            let mut old = PageRequest::default();
            old.bind("list", &"challenges").bind("filter", &query.filter.canonical());
            let keys = row_keys(&query.sort, Uuid::now_v7(), |_| CursorValue::Int(0));
            let cursor = old.cursor_for(&query.sort.canonical(), keys);
            let query = ListChallenges::parse(params(Some(cursor)), None).unwrap();
            assert_eq!(query.page.after(&query.sort).is_err(), refused, "{sort}");
        }
    }
}
