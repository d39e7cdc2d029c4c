//! Keyset pagination: `limit`, an opaque `cursor`, and pages with a `next_cursor`.
//!
//! A cursor holds the sort key values of the last row of a page plus its id, and the
//! canonical sort it was made for. The next page is "rows strictly after that tuple in
//! the sort order", so page 500 costs what page 1 costs and rows inserted meanwhile are
//! neither repeated nor skipped. Cursors are base64url JSON: opaque to clients, cheap to
//! check, and rejected with 422 when tampered with or reused under another sort.
//!
//! A cursor is also bound to the list, board and filters it was made under: the list's
//! parser and handler [`bind`](PageRequest::bind) each of them (the list's name, the board
//! or parent ids, the normalised filters; never `limit`), and the cursor carries 64 bits
//! of SHA-256 of that canonical text. A cursor used anywhere else is a 422 on `cursor`,
//! never a silently shifted page. The hash is of public values, not a secret: it works on
//! every gateway and after a restart, and protects nothing but the client from itself.
//!
//! `count=true` asks a list for its [`Total`] too: how many rows match its filters over
//! all pages, exact up to [`COUNT_CAP`]. Like `limit`, `count` is never bound: it may change
//! from page to page. The list counts with its own filters, never its cursor, through
//! [`PageRequest::total`], which runs the count only when it was asked for and counts at
//! most one row past the cap (so a count costs at most [`COUNT_CAP`]` + 1` rows, whatever
//! the filters).

use std::cmp::Ordering;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::sort::{KeyKind, Sort, SortField};
use crate::{FieldError, Violations};

/// `limit` when the client gives none.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 200;
/// The largest exact `total` of a `count=true` list: past it, `total` is this and
/// `total_capped` is `true`.
pub const COUNT_CAP: u64 = 10_000;

/// One sort key value of a row. Orders like SQLite does: NULL < integers < text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorValue {
    /// SQL NULL (a missing optional value).
    Null,
    /// An integer (timestamps in milliseconds, enum ranks).
    Int(i64),
    /// Text (titles, dates, ids).
    Text(String),
}

impl From<Option<String>> for CursorValue {
    fn from(value: Option<String>) -> Self {
        value.map_or(CursorValue::Null, CursorValue::Text)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CursorPayload {
    /// Canonical sort the cursor belongs to.
    s: String,
    /// The binding: 16 hex digits of SHA-256 of the canonical list, board and filters.
    /// Required, so a cursor of the format before bindings is refused, not followed.
    b: String,
    /// Key values of the last row, id last.
    k: Vec<CursorValue>,
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    sort: String,
    binding: String,
    keys: Vec<CursorValue>,
}

/// The paging part of a list request, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page, 1..=200.
    pub limit: u32,
    /// Whether the list also answers its [`Total`] (`count=true`).
    pub count: bool,
    cursor: Option<Cursor>,
    /// The canonical text of what the list is bound to (see [`PageRequest::bind`]).
    scope: String,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, count: false, cursor: None, scope: String::new() }
    }
}

impl PageRequest {
    /// A first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        PageRequest { limit: limit.clamp(1, MAX_LIMIT), ..PageRequest::default() }
    }

    /// Parses the raw `limit`, `cursor` and `count` query values, recording errors in `v`.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>, count: Option<&str>, v: &mut Violations) -> Self {
        let limit = v.check(parse_limit(limit)).unwrap_or(DEFAULT_LIMIT);
        let cursor = match cursor.map(str::trim) {
            None | Some("") => None,
            Some(raw) => v.check(decode(raw)),
        };
        let count = count.and_then(|raw| v.check(crate::params::boolean("count", raw))).unwrap_or(false);
        PageRequest { limit, count, cursor, scope: String::new() }
    }

    /// The list's [`Total`] when it was asked for (`count=true`), else `None` without
    /// calling `count`. `count(most)` counts the rows matching the list's filters (never its
    /// cursor), stopping at `most` rows: it is given [`COUNT_CAP`]` + 1`, so that a count past
    /// the cap shows as one.
    pub fn total<E>(&self, count: impl FnOnce(i64) -> Result<i64, E>) -> Result<Option<Total>, E> {
        self.total_up_to(COUNT_CAP, count)
    }

    /// [`PageRequest::total`] with `cap` in place of [`COUNT_CAP`] (for tests of the cap).
    pub fn total_up_to<E>(&self, cap: u64, count: impl FnOnce(i64) -> Result<i64, E>) -> Result<Option<Total>, E> {
        if !self.count {
            return Ok(None);
        }
        let most = i64::try_from(cap).unwrap_or(i64::MAX).saturating_add(1);
        Ok(Some(Total::of(count(most)?, cap)))
    }

    /// Binds the list's cursors to `name` = `value`: the list's name, its board or parent
    /// ids, each filter. `value` is written with `Debug`, so it must be normalised first
    /// (sets sorted and deduplicated, dates parsed): equal filters must bind equal text.
    /// The order of calls is part of the binding, so each list binds in one fixed order.
    /// `limit` is never bound: it may change from page to page.
    pub fn bind(&mut self, name: &str, value: &impl std::fmt::Debug) -> &mut Self {
        let value = format!("{value:?}");
        // Lengths first, so no name or value can imitate a separator.
        self.scope.push_str(&format!("{}:{name}={}:{value};", name.len(), value.len()));
        self
    }

    /// The same request continued at `cursor` (a `next_cursor` of this list): the limit
    /// and binding stay.
    pub fn continued(&self, cursor: &str) -> Result<PageRequest, FieldError> {
        Ok(PageRequest { cursor: Some(decode(cursor)?), ..self.clone() })
    }

    /// The cursor this list hands out to continue after a row with `keys` (id last) under
    /// the sort `sort_canonical`.
    pub fn cursor_for(&self, sort_canonical: &str, keys: Vec<CursorValue>) -> String {
        let payload = CursorPayload { s: sort_canonical.to_string(), b: self.binding(), k: keys };
        // Serialising plain strings and integers cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// 16 hex digits (64 bits) of SHA-256 of the bound text.
    fn binding(&self) -> String {
        let digest = Sha256::digest(self.scope.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The key tuple to continue after, checked against the sort in force and the list,
    /// board and filters bound: a cursor made anywhere else, or with the wrong number of
    /// keys, is a 422 on `cursor`. Call it once the binding is complete.
    pub fn after<F: SortField>(&self, sort: &Sort<F>) -> Result<Option<&[CursorValue]>, FieldError> {
        let keys = self.after_in_sort(sort)?;
        if let Some(cursor) = &self.cursor {
            if cursor.binding != self.binding() {
                return Err(FieldError::new(
                    "cursor",
                    "belongs to another list, board or set of filters; start again without a cursor",
                ));
            }
        }
        Ok(keys)
    }

    /// [`PageRequest::after`] without the binding (checked while the binding is incomplete).
    fn after_in_sort<F: SortField>(&self, sort: &Sort<F>) -> Result<Option<&[CursorValue]>, FieldError> {
        let Some(Cursor { sort: spec, keys, .. }) = &self.cursor else {
            return Ok(None);
        };
        if *spec != sort.canonical() || keys.len() != sort.keys().len() + 1 {
            return Err(FieldError::new("cursor", "does not belong to this sort order; start again without a cursor"));
        }
        // Every key of the kind its field has, and an id last: anything else was not made here.
        // No text the server stores holds NUL (and PostgreSQL's text cannot), so a key with
        // one was not made here either.
        let kinds = sort.keys().iter().map(|k| k.field.key_kind()).chain(std::iter::once(KeyKind::Text));
        let has_nul = keys.iter().any(|value| matches!(value, CursorValue::Text(t) if t.contains('\0')));
        let fits = !has_nul
            && keys.iter().zip(kinds).all(|(value, kind)| {
                matches!(
                    (value, kind),
                    (CursorValue::Int(_), KeyKind::Int)
                        | (CursorValue::Text(_), KeyKind::Text | KeyKind::NullableText)
                        | (CursorValue::Null, KeyKind::NullableText)
                )
            });
        if !fits {
            return Err(FieldError::new("cursor", "is not a cursor returned by this list"));
        }
        Ok(Some(keys))
    }
}

/// Parses the `limit`, `cursor`, `count` and `sort` of a list request (sort `default_sort`
/// when absent), recording every problem in `v`; a cursor made under another sort is
/// refused on `cursor`. The sort is `None` only when `v` holds its error.
pub fn parse_paging<F: SortField>(
    limit: Option<&str>,
    cursor: Option<&str>,
    count: Option<&str>,
    sort: Option<&str>,
    default_sort: &str,
    v: &mut Violations,
) -> (PageRequest, Option<Sort<F>>) {
    let page = PageRequest::parse(limit, cursor, count, v);
    let sort = v.check(Sort::parse(sort, default_sort));
    if let Some(sort) = &sort {
        // The binding is checked when the list is read, once its parts are all bound.
        v.check(page.after_in_sort(sort));
    }
    (page, sort)
}

/// The cursor keys of a row: `key_of` each sort field in order, then the row's id.
pub fn row_keys<F: SortField>(
    sort: &Sort<F>,
    id: impl std::fmt::Display,
    mut key_of: impl FnMut(F) -> CursorValue,
) -> Vec<CursorValue> {
    sort.keys().iter().map(|k| key_of(k.field)).chain(std::iter::once(CursorValue::Text(id.to_string()))).collect()
}

/// `limit` is plain decimal: ASCII digits only, no sign, no spaces (`%205` or `+5`, which
/// decodes to " 5") and no leading zero, so each value has one spelling.
fn parse_limit(raw: Option<&str>) -> Result<u32, FieldError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let plain = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
    match raw.parse::<u32>() {
        Ok(n) if plain && (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(FieldError::new(
            "limit",
            format!("must be an integer from 1 to {MAX_LIMIT}, in plain digits (no sign, spaces or leading zeros)"),
        )),
    }
}

fn decode(raw: &str) -> Result<Cursor, FieldError> {
    let invalid = || FieldError::new("cursor", "is not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let payload: CursorPayload = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok(Cursor { sort: payload.s, binding: payload.b, keys: payload.k })
}

/// Encodes the cursor that continues after a row with these keys (id last), for a list
/// that binds nothing (tests, and lists built by hand); lists use [`PageRequest::cursor_for`].
pub fn encode_cursor(sort_canonical: &str, keys: Vec<CursorValue>) -> String {
    PageRequest::default().cursor_for(sort_canonical, keys)
}

/// Compares two key tuples under per-key directions (`true` = descending).
pub fn compare_keys(a: &[CursorValue], b: &[CursorValue], descending: &[bool]) -> Ordering {
    for ((x, y), desc) in a.iter().zip(b).zip(descending) {
        let ord = if *desc { y.cmp(x) } else { x.cmp(y) };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// The order of lists that have only one: by id, which for UUIDv7 ids is creation order.
/// `Sort::<ById>::parse(None, "id")` (or `"-id"`) and [`Page::from_overfetch`] page them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ById {
    /// The id.
    Id,
}

impl SortField for ById {
    const ALL: &'static [Self] = &[ById::Id];
    fn name(self) -> &'static str {
        "id"
    }
    fn key_kind(self) -> KeyKind {
        KeyKind::Text
    }
}

/// The order of lists kept newest first by an integer position (`seq`: activity feeds, a
/// user's notifications), ties impossible; [`NEWEST_FIRST`] is its only sort and
/// [`PageRequest::before_seq`] reads its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BySeq {
    /// The position.
    Seq,
}

impl SortField for BySeq {
    const ALL: &'static [Self] = &[BySeq::Seq];
    fn name(self) -> &'static str {
        "seq"
    }
    fn key_kind(self) -> KeyKind {
        KeyKind::Int
    }
}

/// The sort of a [`BySeq`] list.
pub const NEWEST_FIRST: &str = "-seq";

impl PageRequest {
    /// For a list newest first by [`BySeq`] under `sort`: the position the page continues
    /// below (from the cursor, once the binding is complete), or a 422 on `cursor`.
    pub fn before_seq(&self, sort: &Sort<BySeq>) -> Result<Option<i64>, FieldError> {
        Ok(match self.after(sort)? {
            Some([CursorValue::Int(seq), ..]) => Some(*seq),
            Some(_) => return Err(FieldError::new("cursor", "is not a cursor returned by this list")),
            None => None,
        })
    }
}

/// `limit` and `cursor` of a list in id order: oldest first ([`IdPaging::parse`]) or
/// newest first ([`IdPaging::parse_newest_first`]).
#[derive(Debug, Clone)]
pub struct IdPaging {
    page: PageRequest,
    sort: Sort<ById>,
}

impl IdPaging {
    /// Parses the raw `limit`, `cursor` and `count` of the list `list` of `owner` (the parent
    /// ids or user the list belongs to, which cursors are bound to); a bad one is a 422
    /// naming it, and so is a cursor of another list or owner.
    pub fn parse(
        list: &str,
        owner: &impl std::fmt::Debug,
        limit: Option<&str>,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, crate::AppError> {
        Self::parse_in("id", list, owner, limit, cursor, count)
    }

    /// [`IdPaging::parse`] for a list newest first (`-id`): a page continues before the id
    /// [`IdPaging::after`] gives.
    pub fn parse_newest_first(
        list: &str,
        owner: &impl std::fmt::Debug,
        limit: Option<&str>,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, crate::AppError> {
        Self::parse_in("-id", list, owner, limit, cursor, count)
    }

    fn parse_in(
        order: &str,
        list: &str,
        owner: &impl std::fmt::Debug,
        limit: Option<&str>,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, crate::AppError> {
        let mut v = Violations::new();
        let (mut page, sort) = parse_paging(limit, cursor, count, None, order, &mut v);
        v.finish()?;
        page.bind("list", &list).bind("owner", owner);
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        page.after(&sort)?;
        Ok(IdPaging { page, sort })
    }

    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        IdPaging {
            page: PageRequest::first(limit),
            sort: Sort::parse(None, "id").unwrap_or_else(|_| unreachable!("the id order parses")),
        }
    }

    /// The id the page continues after, in the list's order (before it, newest first).
    pub fn after(&self) -> Option<String> {
        match self.page.after(&self.sort) {
            Ok(Some([CursorValue::Text(id), ..])) => Some(id.clone()),
            _ => None,
        }
    }

    /// Rows to fetch: one beyond the page, proving there is more.
    pub fn fetch(&self) -> i64 {
        i64::from(self.page.limit) + 1
    }

    /// The list's total when `count=true` asked for it (see [`PageRequest::total`]).
    pub fn total<E>(&self, count: impl FnOnce(i64) -> Result<i64, E>) -> Result<Option<Total>, E> {
        self.page.total(count)
    }

    /// The page of `rows` (fetched with [`IdPaging::fetch`]).
    pub fn page<T>(&self, rows: Vec<T>, id_of: impl Fn(&T) -> String) -> Page<T> {
        Page::from_overfetch(rows, &self.page, &self.sort, |row| {
            let id = id_of(row);
            vec![CursorValue::Text(id.clone()), CursorValue::Text(id)]
        })
    }
}

/// The query of a list in id order: `limit` and `cursor`, as every such list's handler
/// takes them (`web::Query<IdPagingParams>`), documented once.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IdPagingParams {
    /// Page size, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true`: also answer `total`, how many items the list holds over all pages (exact up
    /// to 10,000; past that 10,000 and `total_capped: true`).
    #[param(value_type = Option<bool>)]
    pub count: Option<String>,
}

impl IdPagingParams {
    /// The paging of the list `list` of `owner` (cursors are bound to both; see
    /// [`IdPaging::parse`]).
    pub fn parse(&self, list: &str, owner: &impl std::fmt::Debug) -> Result<IdPaging, crate::AppError> {
        IdPaging::parse(list, owner, self.limit.as_deref(), self.cursor.as_deref(), self.count.as_deref())
    }
}

/// How many rows a list's filters match over all its pages, as far as it counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The matching rows, at most the cap.
    pub total: u64,
    /// Whether more rows than the cap match (`total` is then the cap).
    pub capped: bool,
}

impl Total {
    /// The total of `counted` rows (a count that stopped at `cap + 1`) under `cap`.
    pub fn of(counted: i64, cap: u64) -> Total {
        let counted = u64::try_from(counted).unwrap_or(0);
        Total { total: counted.min(cap), capped: counted > cap }
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows of this page, in the requested order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Only with `count=true`: how many items match the list's filters over all pages (not
    /// just this one, wherever the cursor is), exact up to 10,000; past that 10,000, with
    /// `total_capped`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0, maximum = 10000, example = 42)]
    pub total: Option<u64>,
    /// Only with `count=true`, and only when more than 10,000 items match: `true` (`total`
    /// is then 10,000). Absent otherwise, never `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub total_capped: Option<bool>,
}

impl<T> Page<T> {
    /// Builds a page of `request` from up to `limit + 1` rows: the extra row only proves
    /// there is more. The next cursor carries the request's binding.
    pub fn from_overfetch<F: SortField>(
        mut rows: Vec<T>,
        request: &PageRequest,
        sort: &Sort<F>,
        keys_of: impl Fn(&T) -> Vec<CursorValue>,
    ) -> Self {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| request.cursor_for(&sort.canonical(), keys_of(last)))
        } else {
            None
        };
        Page { items: rows, next_cursor, total: None, total_capped: None }
    }

    /// An empty last page (a list that knows nothing can match), with a total of 0 when
    /// `request` asked for one.
    pub fn empty(request: &PageRequest) -> Self {
        let total = request.count.then_some(Total { total: 0, capped: false });
        Page { items: Vec::new(), next_cursor: None, total: None, total_capped: None }.with_total(total)
    }

    /// The page with its list's `total` (`None`: not asked for, the page stays as it is).
    pub fn with_total(mut self, total: Option<Total>) -> Self {
        if let Some(Total { total, capped }) = total {
            self.total = Some(total);
            self.total_capped = capped.then_some(true);
        }
        self
    }

    /// Converts the items, keeping the cursor and the total.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
            total_capped: self.total_capped,
        }
    }

    /// Converts the items with a fallible `f`, keeping the cursor and the total.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_cursor: self.next_cursor,
            total: self.total,
            total_capped: self.total_capped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Created;
    impl SortField for Created {
        const ALL: &'static [Self] = &[Created];
        fn name(self) -> &'static str {
            "created_at"
        }
        fn key_kind(self) -> KeyKind {
            KeyKind::Int
        }
    }

    fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<PageRequest, crate::AppError> {
        let mut v = Violations::new();
        let page = PageRequest::parse(limit, cursor, None, &mut v);
        v.finish().map(|()| page)
    }

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(parse(None, None).unwrap().limit, 50);
        assert_eq!(parse(Some("200"), None).unwrap().limit, 200);
        for bad in ["0", "201", "-1", "ten", "", "1.5", " 5", "5 ", "+5", "05", "007", "\u{661}", "99999999999"] {
            let err = parse(Some(bad), None).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "limit", "{bad}");
        }
    }

    #[test]
    fn cursor_round_trips_and_is_bound_to_its_sort() {
        let desc = Sort::<Created>::parse(None, "-created_at").unwrap();
        let asc = Sort::<Created>::parse(None, "created_at").unwrap();
        let keys = vec![CursorValue::Int(5), CursorValue::Text("id".into())];
        let raw = encode_cursor(&desc.canonical(), keys.clone());
        let page = parse(Some("10"), Some(&raw)).unwrap();
        assert_eq!(page.after(&desc).unwrap(), Some(&keys[..]));
        assert_eq!(page.after(&asc).unwrap_err().field, "cursor");
    }

    #[test]
    fn paging_parses_together_and_keys_end_with_the_id() {
        let mut v = Violations::new();
        let (page, sort) = parse_paging::<Created>(Some("5"), None, None, Some("-created_at"), "created_at", &mut v);
        assert!(v.is_empty());
        let sort = sort.unwrap();
        assert_eq!((page.limit, sort.canonical().as_str()), (5, "-created_at"));
        assert_eq!(
            row_keys(&sort, "id-1", |_| CursorValue::Int(7)),
            [CursorValue::Int(7), CursorValue::Text("id-1".into())]
        );
        let cursor = encode_cursor("created_at", vec![CursorValue::Int(1), CursorValue::Text("a".into())]);
        let mut v = Violations::new();
        let (_, sort) = parse_paging::<Created>(None, Some(&cursor), None, Some("nope"), "created_at", &mut v);
        assert!(sort.is_none());
        let mut v = Violations::new();
        parse_paging::<Created>(None, Some(&cursor), None, Some("-created_at"), "created_at", &mut v);
        assert_eq!(v.finish().unwrap_err().field_errors()[0].field, "cursor");
    }

    #[test]
    fn cursors_with_keys_of_the_wrong_kind_are_rejected() {
        let sort = Sort::<Created>::parse(None, "created_at").unwrap();
        for keys in [
            vec![CursorValue::Text("x".into()), CursorValue::Int(5)],
            vec![CursorValue::Null, CursorValue::Text("id".into())],
            vec![CursorValue::Int(1), CursorValue::Null],
        ] {
            let raw = encode_cursor("created_at", keys.clone());
            let page = parse(None, Some(&raw)).unwrap();
            assert_eq!(page.after(&sort).unwrap_err().field, "cursor", "{keys:?}");
        }
    }

    #[test]
    fn garbage_cursors_are_rejected() {
        for bad in ["%%%", "bm90IGpzb24", "e30"] {
            let err = parse(None, Some(bad)).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "cursor", "{bad}");
        }
    }

    #[test]
    fn cursor_values_order_like_sqlite() {
        assert!(CursorValue::Null < CursorValue::Int(-5));
        assert!(CursorValue::Int(i64::MAX) < CursorValue::Text(String::new()));
        let a = [CursorValue::Int(1), CursorValue::Text("b".into())];
        let b = [CursorValue::Int(1), CursorValue::Text("a".into())];
        assert_eq!(compare_keys(&a, &b, &[false, false]), Ordering::Greater);
        assert_eq!(compare_keys(&a, &b, &[false, true]), Ordering::Less);
    }

    #[test]
    fn overfetch_sets_cursor_only_when_more_rows_exist() {
        let sort = Sort::<Created>::parse(None, "created_at").unwrap();
        let keys = |n: &i64| vec![CursorValue::Int(*n), CursorValue::Text(n.to_string())];
        let page = Page::from_overfetch(vec![1, 2, 3], &PageRequest::first(2), &sort, keys);
        assert_eq!(page.items, [1, 2]);
        assert!(page.next_cursor.is_some());
        let last = Page::from_overfetch(vec![1, 2], &PageRequest::first(2), &sort, keys);
        assert!(last.next_cursor.is_none());
    }

    /// A request of the list `list` with `filters`, bound as a list binds them.
    fn bound(list: &str, board: &str, filters: &[&str], cursor: Option<&str>) -> PageRequest {
        let mut page = parse(Some("2"), cursor).unwrap();
        page.bind("list", &list).bind("board", &board).bind("filters", &filters);
        page
    }

    #[test]
    fn cursors_are_bound_to_their_list_board_and_filters() {
        let sort = Sort::<Created>::parse(None, "created_at").unwrap();
        let keys = |n: &i64| vec![CursorValue::Int(*n), CursorValue::Text(n.to_string())];
        let first = bound("notes", "anon", &["q=milk"], None);
        let cursor = Page::from_overfetch(vec![1, 2, 3], &first, &sort, keys).next_cursor.unwrap();
        // The same list, board and filters continue, whatever the limit.
        let next = bound("notes", "anon", &["q=milk"], Some(&cursor));
        assert_eq!(next.after(&sort).unwrap(), Some(&keys(&2)[..]));
        let mut bigger = parse(Some("50"), Some(&cursor)).unwrap();
        bigger.bind("list", &"notes").bind("board", &"anon").bind("filters", &["q=milk"]);
        assert!(bigger.after(&sort).unwrap().is_some());
        assert_eq!(first.continued(&cursor).unwrap().after(&sort).unwrap(), Some(&keys(&2)[..]));
        // Anything else is refused.
        for (list, board, filters) in [
            ("tasks", "anon", &["q=milk"][..]),
            ("notes", "ada", &["q=milk"]),
            ("notes", "anon", &["q=oat"]),
            ("notes", "anon", &[]),
        ] {
            let err = bound(list, board, filters, Some(&cursor)).after(&sort).unwrap_err();
            assert_eq!(err.field, "cursor", "{list} {board} {filters:?}");
            assert!(err.message.contains("another list"), "{}", err.message);
        }
        // So is a list bound in another order or with values that imitate a separator.
        let mut shifted = parse(None, Some(&cursor)).unwrap();
        shifted.bind("list", &"notes").bind("filters", &["q=milk"]).bind("board", &"anon");
        assert!(shifted.after(&sort).is_err());
        let mut forged = parse(None, Some(&cursor)).unwrap();
        forged.bind("list", &"notes\";5:board=6:\"anon\";").bind("filters", &["q=milk"]);
        assert!(forged.after(&sort).is_err());
    }

    #[test]
    fn the_binding_is_64_bits_of_sha256_of_the_bound_text() {
        let mut page = PageRequest::default();
        assert_eq!(page.binding(), "e3b0c44298fc1c14", "SHA-256 of nothing");
        page.bind("list", &"notes");
        assert_eq!(page.scope, "4:list=7:\"notes\";");
        assert_eq!(page.binding().len(), 16);
        assert_ne!(page.binding(), PageRequest::default().binding());
    }

    #[test]
    fn cursors_without_a_binding_are_refused() {
        // The format before bindings: {"s": sort, "k": keys}.
        let old = URL_SAFE_NO_PAD.encode(br#"{"s":"created_at","k":[1,"a"]}"#);
        assert_eq!(parse(None, Some(&old)).unwrap_err().field_errors()[0].field, "cursor");
    }

    #[test]
    fn count_is_true_or_false_and_defaults_to_false() {
        let count = |raw: Option<&str>| {
            let mut v = Violations::new();
            let page = PageRequest::parse(None, None, raw, &mut v);
            v.finish().map(|()| page.count)
        };
        assert!(!count(None).unwrap());
        assert!(count(Some("true")).unwrap());
        assert!(!count(Some("false")).unwrap());
        for bad in ["yes", "1", "", "TRUE"] {
            let err = count(Some(bad)).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "count", "{bad:?}");
        }
    }

    #[test]
    fn a_total_is_counted_only_when_asked_for_and_capped_one_row_past_the_cap() {
        let mut v = Violations::new();
        let plain = PageRequest::parse(None, None, None, &mut v);
        let not_called = plain.total(|_| -> Result<i64, ()> { panic!("no count without count=true") });
        assert_eq!(not_called, Ok(None));
        let counting = PageRequest::parse(None, None, Some("true"), &mut v);
        let mut asked = None;
        let total = |matching: i64, asked: &mut Option<i64>| {
            counting
                .total_up_to(3, |most| -> Result<i64, ()> {
                    *asked = Some(most);
                    Ok(matching.min(most))
                })
                .unwrap()
                .unwrap()
        };
        assert_eq!(total(2, &mut asked), Total { total: 2, capped: false });
        assert_eq!(asked, Some(4), "one row past the cap");
        assert_eq!(total(3, &mut asked), Total { total: 3, capped: false }, "exactly the cap is exact");
        assert_eq!(total(4, &mut asked), Total { total: 3, capped: true });
        assert_eq!(total(50, &mut asked), Total { total: 3, capped: true });
        // The public cap.
        let mut most = 0;
        let public = counting.total(|m| -> Result<i64, ()> {
            most = m;
            Ok(m)
        });
        assert_eq!(public.unwrap(), Some(Total { total: COUNT_CAP, capped: true }));
        assert_eq!(most, 10_001);
    }

    #[test]
    fn totals_are_in_the_json_only_when_counted_and_capped_only_when_capped() {
        let json = |total: Option<Total>| {
            let page = Page { items: vec![1], next_cursor: None, total: None, total_capped: None }.with_total(total);
            serde_json::to_value(page).unwrap()
        };
        assert_eq!(json(None), serde_json::json!({"items": [1], "next_cursor": null}));
        assert_eq!(
            json(Some(Total { total: 7, capped: false })),
            serde_json::json!({"items": [1], "next_cursor": null, "total": 7})
        );
        assert_eq!(
            json(Some(Total { total: 10_000, capped: true })),
            serde_json::json!({"items": [1], "next_cursor": null, "total": 10_000, "total_capped": true})
        );
        let counting = PageRequest { count: true, ..PageRequest::default() };
        assert_eq!(serde_json::to_value(Page::<i32>::empty(&counting)).unwrap()["total"], 0);
        assert!(serde_json::to_value(Page::<i32>::empty(&PageRequest::default())).unwrap().get("total").is_none());
    }

    #[test]
    fn count_is_not_bound_so_it_may_change_between_pages() {
        let sort = Sort::<Created>::parse(None, "created_at").unwrap();
        let keys = |n: &i64| vec![CursorValue::Int(*n), CursorValue::Text(n.to_string())];
        let mut v = Violations::new();
        let mut first = PageRequest::parse(Some("2"), None, Some("true"), &mut v);
        first.bind("list", &"notes");
        let cursor = Page::from_overfetch(vec![1, 2, 3], &first, &sort, keys).next_cursor.unwrap();
        for count in [None, Some("false"), Some("true")] {
            let mut next = PageRequest::parse(Some("5"), Some(&cursor), count, &mut v);
            next.bind("list", &"notes");
            assert_eq!(next.after(&sort).unwrap(), Some(&keys(&2)[..]), "{count:?}");
        }
        assert!(v.is_empty());
    }

    #[test]
    fn id_paging_binds_the_list_and_its_owner() {
        let first = IdPaging::parse("members", &"team-1", Some("1"), None, None).unwrap();
        let cursor = first.page(vec!["a".to_string(), "b".to_string()], Clone::clone).next_cursor.unwrap();
        let next = IdPaging::parse("members", &"team-1", None, Some(&cursor), None).unwrap();
        assert_eq!(next.after().as_deref(), Some("a"));
        for (list, owner) in [("members", "team-2"), ("projects", "team-1")] {
            let err = IdPaging::parse(list, &owner, None, Some(&cursor), None).unwrap_err();
            assert_eq!(err.field_errors()[0].field, "cursor", "{list} {owner}");
        }
    }
}
