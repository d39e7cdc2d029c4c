//! Notes as the API shows them, the inputs that create and change them, and list queries.

use chrono::{DateTime, Utc};
use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::version::{Versioned, FIRST_VERSION};
use core_models::{patch, text, time, AppResult, CursorValue, FieldError, Violations};
use serde::{Deserialize, Serialize};
use storage::keyset::SqlSortField;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A sticky note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Note {
    /// Time-ordered UUIDv7.
    pub id: Uuid,
    /// Optional title, at most 200 characters.
    pub title: Option<String>,
    /// The note's text, 1 to 20,000 characters.
    pub content: String,
    /// RFC 3339 UTC, millisecond precision.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub created_at: DateTime<Utc>,
    /// Moves on every change.
    #[serde(with = "time::rfc3339")]
    #[schema(value_type = String, format = DateTime, example = "2026-11-24T09:30:00.123Z")]
    pub updated_at: DateTime<Utc>,
    /// 1 at creation, one more on every change; the `ETag` is `"<version>"`, and
    /// `If-Match: "<version>"` makes a PATCH or DELETE fail with 412 once it is stale.
    #[schema(minimum = 1, example = 1)]
    pub version: i64,
}

impl core_models::id::Resource for Note {
    const NAME: &'static str = "note";
}

impl Versioned for Note {
    fn version(&self) -> i64 {
        self.version
    }
}

/// The body of `POST /notes`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// Optional; trimmed, blank means none, at most 200 characters.
    #[serde(default)]
    #[schema(example = "Groceries", max_length = 200, pattern = "^[^\\x00]*$")]
    pub title: Option<String>,
    /// Required; trimmed, 1 to 20,000 characters.
    #[schema(
        example = "milk, eggs, coffee",
        min_length = 1,
        max_length = 20000,
        pattern = "^\\s*[^\\s\\x00][^\\x00]*$"
    )]
    pub content: String,
}

/// The body of `PATCH /notes/{id}`: absent fields stay, `"title": null` clears the title.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteChanges {
    /// New title; `null` or blank clears it.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "^[^\\x00]*$")]
    pub title: Option<Option<String>>,
    /// New content; may not be null or blank.
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 20000, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub content: Option<Option<String>>,
}

/// A note's fields after the contract's rules were applied.
#[derive(Debug, Clone)]
pub(crate) struct ValidNote {
    pub title: Option<String>,
    pub content: String,
}

/// Changes after validation: `title: Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub(crate) struct ValidChanges {
    pub title: Option<Option<String>>,
    pub content: Option<String>,
}

impl ValidNote {
    /// The note these fields make, stamped now with a fresh id.
    pub fn into_note(self) -> Note {
        let now = time::now();
        Note {
            id: core_models::id::new_id(),
            title: self.title,
            content: self.content,
            created_at: now,
            updated_at: now,
            version: FIRST_VERSION,
        }
    }
}

impl ValidChanges {
    /// `note` with the changes applied, `updated_at` moved (strictly) forward and the
    /// version one up; `None` when they change nothing (so neither moves).
    pub fn apply_to(self, note: &Note) -> Option<Note> {
        let title = self.title.unwrap_or_else(|| note.title.clone());
        let content = self.content.unwrap_or_else(|| note.content.clone());
        if title == note.title && content == note.content {
            return None;
        }
        Some(Note {
            title,
            content,
            updated_at: time::now_after(note.updated_at),
            version: note.version + 1,
            ..note.clone()
        })
    }
}

impl NewNote {
    pub(crate) fn validate(self) -> AppResult<ValidNote> {
        let mut v = Violations::new();
        let title = v.check(text::optional("title", self.title, text::TITLE_MAX));
        let content = v.check(text::required("content", &self.content, text::BODY_MAX));
        v.finish()?;
        Ok(ValidNote { title: title.flatten(), content: content.unwrap_or_default() })
    }
}

impl NoteChanges {
    pub(crate) fn validate(self) -> AppResult<ValidChanges> {
        let mut v = Violations::new();
        let title = match self.title {
            None => None,
            Some(t) => v.check(text::optional("title", t, text::TITLE_MAX)),
        };
        let content = v
            .check(patch::not_null("content", self.content))
            .flatten()
            .and_then(|c| v.check(text::required("content", &c, text::BODY_MAX)));
        v.finish()?;
        Ok(ValidChanges { title, content })
    }
}

/// What notes can be sorted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteSort {
    /// `created_at`
    CreatedAt,
    /// `updated_at`
    UpdatedAt,
    /// `title` (notes without a title first when ascending)
    Title,
}

impl SortField for NoteSort {
    const ALL: &'static [Self] = &[NoteSort::CreatedAt, NoteSort::UpdatedAt, NoteSort::Title];

    fn name(self) -> &'static str {
        match self {
            NoteSort::CreatedAt => "created_at",
            NoteSort::UpdatedAt => "updated_at",
            NoteSort::Title => "title",
        }
    }

    fn key_kind(self) -> KeyKind {
        match self {
            NoteSort::CreatedAt | NoteSort::UpdatedAt => KeyKind::Int,
            NoteSort::Title => KeyKind::NullableText,
        }
    }
}

impl SqlSortField for NoteSort {
    fn sql(self) -> (&'static str, bool) {
        match self {
            NoteSort::CreatedAt => ("notes.created_at", false),
            NoteSort::UpdatedAt => ("notes.updated_at", false),
            NoteSort::Title => ("notes.title", true),
        }
    }
    fn sql_in(self, descending: bool) -> (&'static str, bool) {
        match (self, descending) {
            // Untitled notes last ascending too: `title_asc_key` stands in above every title.
            (NoteSort::Title, false) => ("notes.title_asc_key", false),
            _ => self.sql(),
        }
    }
}

/// What `notes.title_asc_key` holds for an untitled note: 201 U+10FFFF, above every title
/// of at most 200 characters (no UTF-8 character sorts above U+10FFFF).
pub(crate) fn untitled_asc_key() -> String {
    "\u{10FFFF}".repeat(core_models::text::TITLE_MAX + 1)
}

/// Newest first.
pub const DEFAULT_SORT: &str = "-created_at";
const SEARCH_MAX: usize = 500;

/// The raw query string of `GET /notes`; every value is checked by [`ListNotes::parse`].
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
// Unknown parameters are refused, so a misspelled filter is a 422, not an unfiltered list.
#[serde(deny_unknown_fields)]
pub struct ListNotesParams {
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `created_at`, `updated_at`, `title`; `-` for descending; comma-separated, each field
    /// at most once. Default `-created_at`.
    #[param(
        example = "title,-updated_at",
        pattern = "^(-?(created_at|updated_at|title)(,-?(created_at|updated_at|title))*)?$"
    )]
    pub sort: Option<String>,
    /// Full-text search over title and content: every word must match (as a word prefix).
    pub q: Option<String>,
    /// `true`: also answer `total`, how many notes match over all pages (exact up to
    /// 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// A checked list request.
#[derive(Debug, Clone)]
pub struct ListNotes {
    /// Page size and position.
    pub page: PageRequest,
    /// Order (the id breaks ties).
    pub sort: Sort<NoteSort>,
    /// Lower-cased search words; `Some(vec![])` matches nothing, `None` filters nothing.
    pub search: Option<Vec<String>>,
}

impl Default for ListNotes {
    fn default() -> Self {
        ListNotes {
            page: PageRequest::default(),
            sort: Sort::parse(None, DEFAULT_SORT).unwrap_or_else(|_| unreachable!("default sort parses")),
            search: None,
        }
    }
}

impl ListNotes {
    /// Checks every parameter, naming each bad one in a single 422.
    pub fn parse(params: ListNotesParams) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_SORT,
            &mut v,
        );
        let search = match params.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(q) if q.chars().nth(SEARCH_MAX).is_some() => {
                v.push(FieldError::new("q", format!("must be at most {SEARCH_MAX} characters")));
                None
            }
            Some(q) => v.check(storage::search::parse_query("q", q)),
        };
        v.finish()?;
        let mut page = page;
        // Cursors are bound to this list and its search (the board: by the handler).
        page.bind("list", &"notes").bind("q", &search);
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        if sort.keys().iter().any(|k| k.field == NoteSort::Title && !k.descending) {
            // Untitled notes moved from first to last under `sort=title`: a cursor made
            // before would continue at the wrong place, so it is refused (422).
            page.bind("untitled", &"last");
        }
        Ok(ListNotes { page, sort, search })
    }

    /// The cursor to continue after, checked against the sort.
    pub(crate) fn after(&self) -> AppResult<Option<&[CursorValue]>> {
        Ok(self.page.after(&self.sort)?)
    }

    /// The sort key values of `note` (id last), as cursors carry them.
    pub(crate) fn keys_of(&self, note: &Note) -> Vec<CursorValue> {
        row_keys(&self.sort, note.id, |field| match field {
            NoteSort::CreatedAt => CursorValue::Int(time::to_millis(note.created_at)),
            NoteSort::UpdatedAt => CursorValue::Int(time::to_millis(note.updated_at)),
            NoteSort::Title => {
                let ascending = self.sort.keys().iter().any(|k| k.field == NoteSort::Title && !k.descending);
                match (&note.title, ascending) {
                    (None, true) => CursorValue::Text(untitled_asc_key()),
                    (title, _) => title.clone().into(),
                }
            }
        })
    }
}

// What the JSON extractor checks beside a body's shape, to name every bad field at once.
core_models::body_rules!(NewNote => NewNote::validate);
core_models::body_rules!(NoteChanges => NoteChanges::validate);

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListNotesParams {
        let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
        ListNotesParams {
            limit: get("limit"),
            cursor: get("cursor"),
            sort: get("sort"),
            q: get("q"),
            count: get("count"),
        }
    }

    /// A cursor made before untitled notes came last under `sort=title` (the same binding
    /// without the marker) is refused there, and still read descending.
    #[test]
    fn a_cursor_from_before_untitled_notes_came_last_is_refused_ascending_only() {
        for (sort, refused) in [("title", true), ("-created_at,title", true), ("-title", false)] {
            let query = ListNotes::parse(params(&[("sort", sort)])).unwrap();
            let mut old = PageRequest::default();
            old.bind("list", &"notes").bind("q", &query.search);
            let mut keys: Vec<CursorValue> = query
                .sort
                .keys()
                .iter()
                .map(|k| match k.field {
                    NoteSort::Title => CursorValue::Null,
                    _ => CursorValue::Int(1),
                })
                .collect();
            keys.push(CursorValue::Text(uuid::Uuid::now_v7().to_string()));
            let cursor = old.cursor_for(&query.sort.canonical(), keys);
            let query = ListNotes::parse(params(&[("sort", sort), ("cursor", &cursor)])).unwrap();
            assert_eq!(query.after().is_err(), refused, "{sort}");
        }
    }

    #[test]
    fn list_parsing_names_every_bad_parameter() {
        let err = ListNotes::parse(params(&[("limit", "0"), ("sort", "colour"), ("cursor", "zz")])).unwrap_err();
        let fields: Vec<_> = err.field_errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor", "sort"]);
    }

    #[test]
    fn unknown_parameters_do_not_deserialise() {
        use actix_web::web::Query;
        assert!(Query::<ListNotesParams>::from_query("q=milk&limit=2").is_ok());
        assert!(Query::<ListNotesParams>::from_query("qq=milk").is_err());
    }

    #[test]
    fn blank_search_filters_nothing_and_symbols_match_nothing() {
        assert_eq!(ListNotes::parse(params(&[("q", "  ")])).unwrap().search, None);
        assert_eq!(ListNotes::parse(params(&[("q", "?!")])).unwrap().search, Some(vec![]));
    }

    #[test]
    fn new_note_rules() {
        let ok = NewNote { title: Some("  ".into()), content: " hi ".into() }.validate().unwrap();
        assert_eq!((ok.title, ok.content.as_str()), (None, "hi"));
        let err = NewNote { title: Some("t".repeat(201)), content: "".into() }.validate().unwrap_err();
        assert_eq!(err.field_errors().len(), 2);
    }

    #[test]
    fn changes_reject_null_content_and_clear_title() {
        let changes: NoteChanges = serde_json::from_str(r#"{"title": null}"#).unwrap();
        assert_eq!(changes.validate().unwrap().title, Some(None));
        let changes: NoteChanges = serde_json::from_str(r#"{"content": null}"#).unwrap();
        assert_eq!(changes.validate().unwrap_err().field_errors()[0].message, "must not be null");
        assert!(serde_json::from_str::<NoteChanges>(r#"{"titel": "x"}"#).is_err());
    }
}
