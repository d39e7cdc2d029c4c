//! Listing learning paths: the sort fields, the query string and its checked form
//! ([`ListPaths`]), and one page of paths.

use core_models::pagination::{parse_paging, row_keys, PageRequest};
use core_models::sort::{KeyKind, Sort, SortField};
use core_models::{AppResult, CursorValue, Page, Violations};
use diesel::prelude::*;
use serde::Deserialize;
use storage::keyset::{order_clause, KeyColumn, KeysetAfter};
use storage::schema::{learning_paths, users};
use storage::DbConn;
use utoipa::IntoParams;

use super::{exec, search_filter, topic_filter, topic_is, Output, PageSql, Run};
use crate::model::LearningPath;
use crate::paths::PathRow;

/// What path lists sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSort {
    /// `created_at`.
    CreatedAt,
    /// `title`, ignoring ASCII case.
    Title,
}

impl SortField for PathSort {
    const ALL: &'static [Self] = &[PathSort::CreatedAt, PathSort::Title];
    fn name(self) -> &'static str {
        match self {
            PathSort::CreatedAt => "created_at",
            PathSort::Title => "title",
        }
    }
    fn key_kind(self) -> KeyKind {
        match self {
            PathSort::CreatedAt => KeyKind::Int,
            PathSort::Title => KeyKind::Text,
        }
    }
}

/// Newest first.
pub const DEFAULT_PATH_SORT: &str = "-created_at";

/// The query string of `GET /learning/paths`. Unknown parameters are refused (422).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPathsParams {
    /// The topic (case-insensitive, whole value), 1 to 100 characters.
    #[param(min_length = 1, max_length = 100, pattern = "^\\s*[^\\s\\x00][^\\x00]*$")]
    pub topic: Option<String>,
    /// Full-text search over title and description (every word, as a prefix).
    pub q: Option<String>,
    /// `created_at` or `title`; `-` for descending; comma-separated, each field at most
    /// once. Default `-created_at`.
    #[param(example = "title", pattern = "^(-?(created_at|title)(,-?(created_at|title))*)?$")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many paths match the filters over all pages (exact
    /// up to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

/// A checked path list request.
#[derive(Debug, Clone)]
pub struct ListPaths {
    /// Page size and position.
    pub page: PageRequest,
    /// Order.
    pub sort: Sort<PathSort>,
    /// This topic only.
    pub topic: Option<String>,
    /// Search words.
    pub search: Option<Vec<String>>,
}

impl ListPaths {
    /// Checks every parameter.
    pub fn parse(params: ListPathsParams) -> AppResult<Self> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(
            params.limit.as_deref(),
            params.cursor.as_deref(),
            params.count.as_deref(),
            params.sort.as_deref(),
            DEFAULT_PATH_SORT,
            &mut v,
        );
        let topic = params.topic.as_deref().and_then(|raw| v.check(topic_filter(raw)));
        let search = search_filter(params.q.as_deref(), &mut v);
        v.finish()?;
        let mut page = page;
        // Bound like challenges: the topic in the case it is compared in (NOCASE).
        page.bind("list", &"paths").bind("topic", &topic.as_ref().map(|t| t.to_ascii_lowercase())).bind("q", &search);
        Ok(ListPaths { page, sort: sort.unwrap_or_else(|| unreachable!("checked by finish")), topic, search })
    }
}

/// Runs (or explains, or counts) one page of paths.
pub(crate) fn run_paths(conn: &mut DbConn, query: &ListPaths, run: Run) -> AppResult<Output<PathRow>> {
    let mut conditions = Vec::new();
    if let Some(topic) = &query.topic {
        conditions.push(topic_is(true, "learning_paths.topic", topic));
    }
    if let Some(terms) = &query.search {
        // Alone, the matches lead (and are sorted); with a topic, its index walks.
        let lead = query.topic.is_none();
        let Some(matching) = storage::search::matching("learning_paths.seq", "learning_paths_fts", terms, lead) else {
            return Ok(if let Run::Count(_) = run { Output::Count(0) } else { Output::Rows(vec![]) });
        };
        conditions.push(matching);
    }
    let mut columns: Vec<KeyColumn> = query
        .sort
        .keys()
        .iter()
        .map(|k| KeyColumn {
            expr: match k.field {
                PathSort::CreatedAt => "learning_paths.created_at",
                PathSort::Title => "learning_paths.title_key",
            },
            descending: k.descending,
            nullable: false,
        })
        .collect();
    columns.push(KeyColumn { expr: "learning_paths.id", descending: query.sort.id_descending(), nullable: false });
    let after = query.page.after(&query.sort)?.map(|values| KeysetAfter::new(columns.clone(), values.to_vec()));
    let page = PageSql { conditions, after, order: order_clause(&columns), limit: i64::from(query.page.limit) + 1 };
    let base = learning_paths::table.inner_join(users::table.on(users::id.eq(learning_paths::author_id)));
    if let Run::Count(most) = run {
        return counted!(conn, base.into_boxed(), page, most);
    }
    exec(conn, shaped!(base.select(PathRow::as_select()).into_boxed(), page), run)
}

/// One page of paths, and their total when `count=true` asked for it.
pub fn paths(conn: &mut DbConn, query: &ListPaths) -> AppResult<Page<LearningPath>> {
    let rows = run_paths(conn, query, Run::Rows)?.rows()?;
    let total = query.page.total(|most| run_paths(conn, query, Run::Count(most))?.count())?;
    let page = Page::from_overfetch(rows, &query.page, &query.sort, |row: &PathRow| {
        row_keys(&query.sort, &row.id, |field| match field {
            PathSort::CreatedAt => CursorValue::Int(row.created_at),
            // The key as both engines compare it: SQLite's NOCASE column, PostgreSQL's
            // lower(title) (ASCII case folded on both).
            PathSort::Title => CursorValue::Text(row.title.to_ascii_lowercase()),
        })
    });
    page.with_total(total).try_map(PathRow::into_path)
}
