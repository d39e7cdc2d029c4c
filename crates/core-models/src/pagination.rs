//! Keyset pagination: `limit`, an opaque `cursor`, and pages with a `next_cursor`.
//!
//! A cursor holds the sort key values of the last row of a page plus its id, and the
//! canonical sort it was made for. The next page is "rows strictly after that tuple in
//! the sort order", so page 500 costs what page 1 costs and rows inserted meanwhile are
//! neither repeated nor skipped. Cursors are base64url JSON: opaque to clients, cheap to
//! check, and rejected with 422 when tampered with or reused under another sort.

use std::cmp::Ordering;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::sort::{KeyKind, Sort, SortField};
use crate::{FieldError, Violations};

/// `limit` when the client gives none.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 200;

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
    /// Key values of the last row, id last.
    k: Vec<CursorValue>,
}

/// The paging part of a list request, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page, 1..=200.
    pub limit: u32,
    cursor: Option<(String, Vec<CursorValue>)>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, cursor: None }
    }
}

impl PageRequest {
    /// A first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        PageRequest { limit: limit.clamp(1, MAX_LIMIT), cursor: None }
    }

    /// Parses the raw `limit` and `cursor` query values, recording errors in `v`.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>, v: &mut Violations) -> Self {
        let limit = v.check(parse_limit(limit)).unwrap_or(DEFAULT_LIMIT);
        let cursor = match cursor.map(str::trim) {
            None | Some("") => None,
            Some(raw) => v.check(decode(raw)),
        };
        PageRequest { limit, cursor }
    }

    /// The key tuple to continue after, checked against the sort in force: a cursor made
    /// for another sort, or with the wrong number of keys, is a 422 on `cursor`.
    pub fn after<F: SortField>(&self, sort: &Sort<F>) -> Result<Option<&[CursorValue]>, FieldError> {
        let Some((spec, keys)) = &self.cursor else {
            return Ok(None);
        };
        if *spec != sort.canonical() || keys.len() != sort.keys().len() + 1 {
            return Err(FieldError::new("cursor", "does not belong to this sort order; start again without a cursor"));
        }
        // Every key of the kind its field has, and an id last: anything else was not made here.
        let kinds = sort.keys().iter().map(|k| k.field.key_kind()).chain(std::iter::once(KeyKind::Text));
        let fits = keys.iter().zip(kinds).all(|(value, kind)| {
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

/// Parses the `limit`, `cursor` and `sort` of a list request (sort `default_sort` when
/// absent), recording every problem in `v`; a cursor made under another sort is refused on
/// `cursor`. The sort is `None` only when `v` holds its error.
pub fn parse_paging<F: SortField>(
    limit: Option<&str>,
    cursor: Option<&str>,
    sort: Option<&str>,
    default_sort: &str,
    v: &mut Violations,
) -> (PageRequest, Option<Sort<F>>) {
    let page = PageRequest::parse(limit, cursor, v);
    let sort = v.check(Sort::parse(sort, default_sort));
    if let Some(sort) = &sort {
        v.check(page.after(sort));
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

fn decode(raw: &str) -> Result<(String, Vec<CursorValue>), FieldError> {
    let invalid = || FieldError::new("cursor", "is not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let payload: CursorPayload = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    Ok((payload.s, payload.k))
}

/// Encodes the cursor that continues after a row with these keys (id last).
pub fn encode_cursor(sort_canonical: &str, keys: Vec<CursorValue>) -> String {
    let payload = CursorPayload { s: sort_canonical.to_string(), k: keys };
    // Serialising plain strings and integers cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
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
/// `Sort::<ById>::parse(None, "id")` (or `"-id"`) and [`Page::by_id`] page them.
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

/// `limit` and `cursor` of a list in id order (oldest first).
#[derive(Debug, Clone)]
pub struct IdPaging {
    page: PageRequest,
    sort: Sort<ById>,
}

impl IdPaging {
    /// Parses the raw `limit` and `cursor`; a bad one is a 422 naming it.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, crate::AppError> {
        let mut v = Violations::new();
        let (page, sort) = parse_paging(limit, cursor, None, "id", &mut v);
        v.finish()?;
        Ok(IdPaging { page, sort: sort.unwrap_or_else(|| unreachable!("checked by finish")) })
    }

    /// The first page of `limit` rows.
    pub fn first(limit: u32) -> Self {
        IdPaging {
            page: PageRequest::first(limit),
            sort: Sort::parse(None, "id").unwrap_or_else(|_| unreachable!("the id order parses")),
        }
    }

    /// The id the page continues after.
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

    /// The page of `rows` (fetched with [`IdPaging::fetch`]).
    pub fn page<T>(&self, rows: Vec<T>, id_of: impl Fn(&T) -> String) -> Page<T> {
        Page::from_overfetch(rows, self.page.limit, &self.sort, |row| {
            let id = id_of(row);
            vec![CursorValue::Text(id.clone()), CursorValue::Text(id)]
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// The rows of this page, in the requested order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only proves there is more.
    pub fn from_overfetch<F: SortField>(
        mut rows: Vec<T>,
        limit: u32,
        sort: &Sort<F>,
        keys_of: impl Fn(&T) -> Vec<CursorValue>,
    ) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&sort.canonical(), keys_of(last)))
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }

    /// Converts the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
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
        let page = PageRequest::parse(limit, cursor, &mut v);
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
        let (page, sort) = parse_paging::<Created>(Some("5"), None, Some("-created_at"), "created_at", &mut v);
        assert!(v.is_empty());
        let sort = sort.unwrap();
        assert_eq!((page.limit, sort.canonical().as_str()), (5, "-created_at"));
        assert_eq!(
            row_keys(&sort, "id-1", |_| CursorValue::Int(7)),
            [CursorValue::Int(7), CursorValue::Text("id-1".into())]
        );
        let cursor = encode_cursor("created_at", vec![CursorValue::Int(1), CursorValue::Text("a".into())]);
        let mut v = Violations::new();
        let (_, sort) = parse_paging::<Created>(None, Some(&cursor), Some("nope"), "created_at", &mut v);
        assert!(sort.is_none());
        let mut v = Violations::new();
        parse_paging::<Created>(None, Some(&cursor), Some("-created_at"), "created_at", &mut v);
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
        let page = Page::from_overfetch(vec![1, 2, 3], 2, &sort, keys);
        assert_eq!(page.items, [1, 2]);
        assert!(page.next_cursor.is_some());
        let last = Page::from_overfetch(vec![1, 2], 2, &sort, keys);
        assert!(last.next_cursor.is_none());
    }
}
