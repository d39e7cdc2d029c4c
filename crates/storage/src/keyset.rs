//! Keyset pagination in SQL: "rows after this key tuple in this order", for any sort.
//!
//! [`KeysetAfter`] is a Diesel expression built at run time from the sort keys of a list
//! (SQL expressions chosen by the domain crate, never by the client) and the values in a
//! cursor (always bound as parameters). For keys `k1..kn` (the id last) it renders
//!
//! ```text
//! k1 >= ? AND ((k1 > ?) OR (k1 = ? AND k2 > ?) OR ... )
//! ```
//!
//! with `<` for descending keys, `IS NULL` handling for nullable keys (NULL sorts first
//! ascending and last descending, as in SQLite), and the leading range condition that lets
//! SQLite seek straight into the index instead of walking it from the start.
//!
//! When every key runs the same way and none can be NULL (the usual case: one sort field
//! plus the id), it renders a row value instead, `(k1, k2, id) > (?, ?, ?)`, which SQLite
//! seeks exactly in an index on those columns, so a deep page costs what the first one
//! does. SQLite does this for plain columns only, not for expressions: give an expression
//! key a generated column and index that.

use core_models::sort::{Sort, SortField};
use core_models::CursorValue;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryId};
use diesel::sql_types::Bool;

use crate::conn::Dialect;
use diesel::QueryResult;

/// One sort key as SQL: an expression over the table's columns and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyColumn {
    /// SQL of the key, e.g. `created_at` or `coalesce(due_date, '9999-12-31')`.
    pub expr: &'static str,
    /// Descending order.
    pub descending: bool,
    /// Whether the expression can be NULL.
    pub nullable: bool,
}

/// How a domain's sort field is spelled in SQL.
pub trait SqlSortField: SortField {
    /// The SQL expression the field sorts by, and whether it can be NULL.
    fn sql(self) -> (&'static str, bool);

    /// The SQL the field sorts by in one direction: a field whose rows without a value come
    /// last either way (API section 1) gives each direction its own key (e.g. a missing
    /// date as `'9999-99-99'` ascending and `''` descending), each with its own index.
    fn sql_in(self, descending: bool) -> (&'static str, bool) {
        let _ = descending;
        self.sql()
    }
}

/// The key columns of `sort`, with `id_expr` as the final tie-breaker.
pub fn key_columns<F: SqlSortField>(sort: &Sort<F>, id_expr: &'static str) -> Vec<KeyColumn> {
    let mut columns: Vec<KeyColumn> = sort
        .keys()
        .iter()
        .map(|k| {
            let (expr, nullable) = k.field.sql_in(k.descending);
            KeyColumn { expr, descending: k.descending, nullable }
        })
        .collect();
    columns.push(KeyColumn { expr: id_expr, descending: sort.id_descending(), nullable: false });
    columns
}

/// The `ORDER BY` clause (without the keywords) for `columns`. A nullable key sorts its
/// NULLs first ascending and last descending on both engines (SQLite's order, which
/// [`KeysetAfter`] follows; PostgreSQL's default is the other way round).
pub fn order_clause(columns: &[KeyColumn]) -> crate::sql::Sql {
    let mut clause = crate::sql::sql("");
    for (i, c) in columns.iter().enumerate() {
        let separator = if i == 0 { "" } else { ", " };
        clause = clause.sql(format!("{separator}{} {}", c.expr, if c.descending { "DESC" } else { "ASC" }));
        if c.nullable {
            clause = clause.sql_per_engine("", if c.descending { " NULLS LAST" } else { " NULLS FIRST" });
        }
    }
    clause
}

/// The predicate "row comes strictly after `values`" under `columns`.
#[derive(Debug, Clone)]
pub struct KeysetAfter {
    columns: Vec<KeyColumn>,
    values: Vec<CursorValue>,
}

impl KeysetAfter {
    /// `values` holds one value per column (the cursor's keys, id last).
    pub fn new(columns: Vec<KeyColumn>, values: Vec<CursorValue>) -> Self {
        KeysetAfter { columns, values }
    }
}

impl Expression for KeysetAfter {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for KeysetAfter {}
impl<QS> SelectableExpression<QS> for KeysetAfter {}

impl ValidGrouping<()> for KeysetAfter {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for KeysetAfter {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

fn push_value<'b, DB: Dialect>(out: &mut AstPass<'_, 'b, DB>, value: &'b CursorValue) -> QueryResult<()> {
    match value {
        CursorValue::Int(n) => DB::bind_int(out, n),
        CursorValue::Text(s) => DB::bind_text(out, s),
        CursorValue::Null => {
            out.push_sql("NULL");
            Ok(())
        }
    }
}

crate::fragment_for_every_engine!(KeysetAfter);

impl KeysetAfter {
    fn walk<'b, DB: Dialect>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let pairs: Vec<(&KeyColumn, &CursorValue)> = self.columns.iter().zip(&self.values).collect();
        // A malformed cursor cannot name a position: match nothing rather than everything.
        if pairs.is_empty() || self.columns.len() != self.values.len() {
            out.push_sql("(1 = 0)");
            return Ok(());
        }
        let uniform =
            pairs.iter().all(|(c, v)| c.descending == pairs[0].0.descending && !c.nullable && **v != CursorValue::Null);
        if uniform {
            out.push_sql("(");
            for (i, (column, _)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                out.push_sql(column.expr);
            }
            out.push_sql(if pairs[0].0.descending { ") < (" } else { ") > (" });
            for (i, (_, value)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_sql(", ");
                }
                push_value(&mut out, value)?;
            }
            out.push_sql(")");
            return Ok(());
        }
        out.push_sql("(");
        // The seek hint: a plain range on the leading key, which SQLite serves from the index.
        let (first, first_value) = pairs[0];
        if !first.nullable && *first_value != CursorValue::Null {
            out.push_sql(first.expr);
            out.push_sql(if first.descending { " <= " } else { " >= " });
            push_value(&mut out, first_value)?;
            out.push_sql(" AND ");
        }
        out.push_sql("(");
        let mut wrote_any = false;
        for (i, (column, value)) in pairs.iter().enumerate() {
            // "After a NULL, descending" is impossible: NULLs sort last there.
            if column.descending && **value == CursorValue::Null {
                continue;
            }
            if wrote_any {
                out.push_sql(" OR ");
            }
            wrote_any = true;
            out.push_sql("(");
            for (earlier, earlier_value) in &pairs[..i] {
                out.push_sql(earlier.expr);
                if **earlier_value == CursorValue::Null {
                    out.push_sql(" IS NULL AND ");
                } else {
                    out.push_sql(" = ");
                    push_value(&mut out, earlier_value)?;
                    out.push_sql(" AND ");
                }
            }
            out.push_sql(column.expr);
            match (column.descending, *value) {
                (false, CursorValue::Null) => out.push_sql(" IS NOT NULL"),
                (false, v) => {
                    out.push_sql(" > ");
                    push_value(&mut out, v)?;
                }
                (true, v) => {
                    out.push_sql(" < ");
                    push_value(&mut out, v)?;
                    if column.nullable {
                        out.push_sql(" OR ");
                        out.push_sql(column.expr);
                        out.push_sql(" IS NULL");
                    }
                }
            }
            out.push_sql(")");
        }
        if !wrote_any {
            out.push_sql("(1 = 0)");
        }
        out.push_sql("))");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::prelude::*;

    diesel::table! {
        items (id) {
            id -> Text,
            n -> BigInt,
            label -> Nullable<Text>,
        }
    }

    fn setup() -> SqliteConnection {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        // `asc_key` and `desc_key`: a nullable value's keys that put rows without it last in
        // each direction (the way `SqlSortField::sql_in` gives them).
        diesel::sql_query(
            "CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, label TEXT,
                 asc_key TEXT GENERATED ALWAYS AS (coalesce(label, '~')) VIRTUAL,
                 desc_key TEXT GENERATED ALWAYS AS (coalesce(label, '')) VIRTUAL)",
        )
        .execute(&mut c)
        .unwrap();
        let labels = [Some("b"), None, Some("a"), Some("b"), None, Some("c")];
        for (i, label) in labels.iter().enumerate() {
            diesel::insert_into(items::table)
                .values((
                    items::id.eq(format!("id{i}")),
                    items::n.eq((i % 3) as i64),
                    items::label.eq(label.map(str::to_string)),
                ))
                .execute(&mut c)
                .unwrap();
        }
        c
    }

    type Row = (String, i64, Option<String>);

    fn key_of(columns: &[KeyColumn], row: &Row) -> Vec<CursorValue> {
        columns
            .iter()
            .map(|c| match c.expr {
                "id" => CursorValue::Text(row.0.clone()),
                "n" => CursorValue::Int(row.1),
                "asc_key" => CursorValue::Text(row.2.clone().unwrap_or_else(|| "~".into())),
                "desc_key" => CursorValue::Text(row.2.clone().unwrap_or_default()),
                _ => row.2.clone().into(),
            })
            .collect()
    }

    /// Walking page by page (page size 1..=4) must give exactly the full ordered listing,
    /// which it returns.
    fn assert_pages_match_full_order(columns: Vec<KeyColumn>) -> Vec<Row> {
        let mut c = setup();
        let order = order_clause(&columns);
        let all: Vec<Row> =
            items::table.select((items::id, items::n, items::label)).order(order.clone()).load(&mut c).unwrap();
        for size in 1..=4 {
            let mut seen: Vec<Row> = Vec::new();
            let mut after: Option<Vec<CursorValue>> = None;
            loop {
                let mut q = items::table
                    .select((items::id, items::n, items::label))
                    .into_boxed()
                    .order(order.clone())
                    .limit(size);
                if let Some(values) = after.take() {
                    q = q.filter(KeysetAfter::new(columns.clone(), values));
                }
                let page: Vec<Row> = q.load(&mut c).unwrap();
                if page.is_empty() {
                    break;
                }
                after = page.last().map(|r| key_of(&columns, r));
                seen.extend(page);
            }
            assert_eq!(seen, all, "page size {size}, order {columns:?}");
        }
        all
    }

    fn col(expr: &'static str, descending: bool, nullable: bool) -> KeyColumn {
        KeyColumn { expr, descending, nullable }
    }

    #[test]
    fn pages_cover_every_order_exactly_once() {
        for n_desc in [false, true] {
            for label_desc in [false, true] {
                for id_desc in [false, true] {
                    assert_pages_match_full_order(vec![col("n", n_desc, false), col("id", id_desc, false)]);
                    assert_pages_match_full_order(vec![col("label", label_desc, true), col("id", id_desc, false)]);
                    assert_pages_match_full_order(vec![
                        col("label", label_desc, true),
                        col("n", n_desc, false),
                        col("id", id_desc, false),
                    ]);
                }
            }
        }
    }

    /// Rows without a value come last in both directions, across the boundary between the
    /// rows with and without one, alone and after another key.
    #[test]
    fn pages_cover_nulls_last_orders_exactly_once() {
        for descending in [false, true] {
            let key = if descending { "desc_key" } else { "asc_key" };
            for n_desc in [false, true] {
                let all =
                    assert_pages_match_full_order(vec![col(key, descending, false), col("id", descending, false)]);
                let labels: Vec<Option<&str>> = all.iter().map(|r| r.2.as_deref()).collect();
                let expected = if descending {
                    [Some("c"), Some("b"), Some("b"), Some("a"), None, None]
                } else {
                    [Some("a"), Some("b"), Some("b"), Some("c"), None, None]
                };
                assert_eq!(labels, expected);
                assert_pages_match_full_order(vec![
                    col("n", n_desc, false),
                    col(key, descending, false),
                    col("id", descending, false),
                ]);
            }
        }
    }

    #[test]
    fn uniform_keys_render_a_row_value() {
        let columns = vec![col("n", true, false), col("id", true, false)];
        let values = vec![CursorValue::Int(1), CursorValue::Text("id3".into())];
        let sqlite = items::table.into_boxed().filter(KeysetAfter::new(columns.clone(), values.clone()));
        let rendered = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&sqlite).to_string();
        assert!(rendered.contains("(n, id) < (?, ?)"), "{rendered}");
        let postgres = items::table.into_boxed().filter(KeysetAfter::new(columns, values));
        let rendered = diesel::debug_query::<diesel::pg::Pg, _>(&postgres).to_string();
        assert!(rendered.contains("(n, id) < ($1, $2)"), "{rendered}");
    }

    #[test]
    fn mismatched_cursor_matches_nothing() {
        let mut c = setup();
        let q = items::table.into_boxed().filter(KeysetAfter::new(vec![col("n", false, false)], vec![]));
        assert!(q.load::<Row>(&mut c).unwrap().is_empty());
    }
}
