//! Paging of a list in id order, newest first (a webhook's deliveries): `limit`, `cursor`
//! and `count` as every list takes them, cursors bound to the list and its owner.

use core_models::pagination::{parse_paging, ById, CursorValue, PageRequest, Total};
use core_models::sort::Sort;
use core_models::{AppError, Page, Violations};

/// `limit`, `cursor` and `count` of a list in id order, newest first.
#[derive(Debug, Clone)]
pub struct NewestFirst {
    page: PageRequest,
    sort: Sort<ById>,
}

impl NewestFirst {
    /// Parses the raw parameters of the list `list` of `owner`; a bad one is a 422 naming
    /// it, and so is a cursor of another list or owner.
    pub fn parse(
        list: &str,
        owner: &impl std::fmt::Debug,
        limit: Option<&str>,
        cursor: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, AppError> {
        let mut v = Violations::new();
        let (mut page, sort) = parse_paging(limit, cursor, count, None, "-id", &mut v);
        v.finish()?;
        page.bind("list", &list).bind("owner", owner);
        let sort = sort.unwrap_or_else(|| unreachable!("checked by finish"));
        page.after(&sort)?;
        Ok(NewestFirst { page, sort })
    }

    /// The id the page continues before.
    pub fn before(&self) -> Option<String> {
        match self.page.after(&self.sort) {
            Ok(Some([CursorValue::Text(id), ..])) => Some(id.clone()),
            _ => None,
        }
    }

    /// Rows to fetch: one beyond the page, proving there is more.
    pub fn fetch(&self) -> i64 {
        i64::from(self.page.limit) + 1
    }

    /// The list's total when `count=true` asked for it.
    pub fn total<E>(&self, count: impl FnOnce(i64) -> Result<i64, E>) -> Result<Option<Total>, E> {
        self.page.total(count)
    }

    /// The page of `rows` (fetched with [`NewestFirst::fetch`]).
    pub fn page<T>(&self, rows: Vec<T>, id_of: impl Fn(&T) -> String) -> Page<T> {
        Page::from_overfetch(rows, &self.page, &self.sort, |row| {
            let id = id_of(row);
            vec![CursorValue::Text(id.clone()), CursorValue::Text(id)]
        })
    }
}
