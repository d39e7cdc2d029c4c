//! `gateway copy --from SQLITE --to POSTGRES`: moves a SQLite deployment's data into an
//! empty PostgreSQL database, every table, keeping ids, versions, counters, sequence
//! numbers and activity order as they are.
//!
//! How: both databases are migrated to the binary's schema first (the source forward, as
//! a start would; the target from nothing). The tables and columns copied are the
//! target's (every table of the schema; generated columns are left to PostgreSQL to
//! compute, SQLite's FTS5 tables have their `tsvector` twin). Each table is read from one
//! SQLite read transaction (one snapshot of the whole source) in primary-key order, in
//! chunks, as JSON rows (`json_object`; bytes as `\x` hex), and written with
//! `json_populate_recordset`, which converts each value to its column's type. Everything
//! is written in one PostgreSQL transaction, with the tables' own triggers off (the
//! counters they keep are copied as they are rather than counted again; foreign keys stay
//! checked, so tables go parent first), identity columns written as they are and their
//! sequences moved past the largest. A target with any row is refused before anything
//! is written; a failure rolls everything back.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::config::DbConfig;
use crate::conn::{DbConn, Engine};
use crate::database::Database;
use crate::sql::sql;

/// Rows read and written per statement.
const CHUNK: i64 = 2_000;

/// What a copy moved: rows per table, in the order the tables were copied.
#[derive(Debug, Default)]
pub struct Copied {
    /// `(table, rows)`.
    pub tables: Vec<(String, i64)>,
}

impl Copied {
    /// Rows copied in all.
    pub fn rows(&self) -> i64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Debug, QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_generated: String,
    #[diesel(sql_type = Text)]
    is_identity: String,
}

#[derive(Debug, QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[derive(Debug, QueryableByName)]
struct Reference {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(Debug, QueryableByName)]
struct Chunk {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    rows: Option<String>,
}

/// A table of the target as the copy sees it.
#[derive(Debug, Default)]
struct Table {
    /// Columns written (not generated), with the target's type.
    columns: Vec<(String, String)>,
    /// Identity columns (their sequences move past the largest copied value).
    identity: Vec<String>,
    /// The primary key, in key order: the order rows are read in.
    key: Vec<String>,
}

/// Copies every row of the SQLite database `from` into the empty PostgreSQL database `to`
/// (see the module docs).
pub fn copy_sqlite_to_postgres(from: &str, to: &str) -> anyhow::Result<Copied> {
    let config = DbConfig { pool_connections: 2, read_connections: 1, ..DbConfig::default() };
    let source = Database::open_with(from, &config).with_context(|| format!("opening the source {from}"))?;
    anyhow::ensure!(source.engine() == Engine::Sqlite, "--from must name a SQLite database");
    let target = Database::open_with(to, &config).context("opening the target")?;
    anyhow::ensure!(target.engine() == Engine::Postgres, "--to must name a PostgreSQL database");

    let mut dst = target.read().map_err(|e| anyhow::anyhow!("{e}"))?;
    let tables = target_tables(&mut dst)?;
    let order = parent_first(&mut dst, &tables)?;
    for name in &order {
        let n: i64 = sql(format!("SELECT count(*) FROM {name}")).query::<BigInt>().get_result(&mut *dst)?;
        anyhow::ensure!(n == 0, "the target is not empty: table {name} has {n} row(s); copy into an empty database");
    }

    let mut src = source.read().map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::budget::clear();
    let mut copied = Copied::default();
    // One snapshot of the source, one transaction on the target.
    src.transaction::<_, anyhow::Error, _>(|src| {
        dst.transaction::<_, anyhow::Error, _>(|dst| {
            // A copy is an operator's one-off: its statements (a whole table's update
            // below) are not held to the API's statement budget.
            dst.batch_execute("SET LOCAL statement_timeout = 0")?;
            for name in &order {
                dst.batch_execute(&format!("ALTER TABLE {name} DISABLE TRIGGER USER"))?;
            }
            for name in &order {
                let n = copy_table(src, dst, name, &tables[name]).with_context(|| format!("copying table {name}"))?;
                copied.tables.push((name.clone(), n));
            }
            // The one stored value the engines keep differently: SQLite's tag rows copy the
            // title as typed under NOCASE, PostgreSQL's fold it (a trigger, off meanwhile).
            dst.batch_execute("UPDATE challenge_tags SET title_key = lower(title_key COLLATE \"C\")")?;
            for name in &order {
                dst.batch_execute(&format!("ALTER TABLE {name} ENABLE TRIGGER USER"))?;
                for column in &tables[name].identity {
                    dst.batch_execute(&format!(
                        "SELECT setval(pg_get_serial_sequence('{name}', '{column}'), \
                         coalesce((SELECT max({column}) FROM {name}), 0) + 1, false)"
                    ))?;
                }
            }
            Ok(())
        })
    })?;
    Ok(copied)
}

/// The target's tables (public schema, Diesel's own left out) with their columns.
fn target_tables(conn: &mut DbConn) -> anyhow::Result<BTreeMap<String, Table>> {
    let columns: Vec<ColumnInfo> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type, c.is_generated::text AS is_generated, \
                c.is_identity::text AS is_identity \
           FROM information_schema.columns c \
           JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
          WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
            AND c.table_name <> '__diesel_schema_migrations' \
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for c in columns {
        let table = tables.entry(c.table_name).or_default();
        if c.is_generated == "ALWAYS" {
            continue;
        }
        if c.is_identity == "YES" {
            table.identity.push(c.column_name.clone());
        }
        table.columns.push((c.column_name, c.data_type));
    }
    let keys: Vec<KeyColumn> = diesel::sql_query(
        "SELECT k.table_name::text AS table_name, k.column_name::text AS column_name \
           FROM information_schema.table_constraints t \
           JOIN information_schema.key_column_usage k \
             ON k.constraint_name = t.constraint_name AND k.table_schema = t.table_schema \
          WHERE t.table_schema = 'public' AND t.constraint_type = 'PRIMARY KEY' \
          ORDER BY k.table_name, k.ordinal_position",
    )
    .load(conn)?;
    for k in keys {
        if let Some(table) = tables.get_mut(&k.table_name) {
            table.key.push(k.column_name);
        }
    }
    Ok(tables)
}

/// The tables in an order where every table comes after the tables it references.
fn parent_first(conn: &mut DbConn, tables: &BTreeMap<String, Table>) -> anyhow::Result<Vec<String>> {
    let references: Vec<Reference> = diesel::sql_query(
        "SELECT DISTINCT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent \
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
          WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .load(conn)?;
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables.keys().map(|t| (t.as_str(), BTreeSet::new())).collect();
    for r in &references {
        if r.child != r.parent {
            parents.entry(r.child.as_str()).or_default().insert(r.parent.as_str());
        }
    }
    let mut order: Vec<String> = Vec::new();
    while order.len() < tables.len() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(t, ps)| !order.iter().any(|o| o == *t) && ps.iter().all(|p| order.iter().any(|o| o == p)))
            .map(|(t, _)| *t)
            .collect();
        anyhow::ensure!(!ready.is_empty(), "the target's foreign keys form a cycle; cannot order the copy");
        order.extend(ready.into_iter().map(str::to_string));
    }
    Ok(order)
}

/// Copies one table in chunks; returns the rows copied.
fn copy_table(src: &mut DbConn, dst: &mut DbConn, name: &str, table: &Table) -> anyhow::Result<i64> {
    // SQLite: each row as a JSON object of the target's columns; bytes as PostgreSQL's hex.
    let fields: Vec<String> = table
        .columns
        .iter()
        .map(|(column, ty)| match ty.as_str() {
            "bytea" => format!("'{column}', CASE WHEN {column} IS NULL THEN NULL ELSE '\\x' || hex({column}) END"),
            _ => format!("'{column}', {column}"),
        })
        .collect();
    let order = if table.key.is_empty() { "rowid".to_string() } else { table.key.join(", ") };
    let names: Vec<&str> = table.columns.iter().map(|(c, _)| c.as_str()).collect();
    let list = names.join(", ");
    let overriding = if table.identity.is_empty() { "" } else { " OVERRIDING SYSTEM VALUE" };
    let mut total = 0;
    let mut offset = 0;
    loop {
        let chunk: Chunk = sql(format!(
            "SELECT json_group_array(json(row)) AS rows, count(*) AS n FROM \
             (SELECT json_object({}) AS row FROM {name} ORDER BY {order} LIMIT {CHUNK} OFFSET ",
            fields.join(", ")
        ))
        .bind_int(offset)
        .sql(")")
        .untyped()
        .get_result(src)?;
        let Some(rows) = chunk.rows.filter(|r| r != "[]") else { break };
        let written = sql(format!(
            "INSERT INTO {name} ({list}){overriding} SELECT {list} FROM json_populate_recordset(NULL::{name}, "
        ))
        .bind_text(rows)
        .sql("::json)")
        .untyped()
        .execute(dst)?;
        let written = i64::try_from(written).unwrap_or(i64::MAX);
        total += written;
        offset += CHUNK;
        if written < CHUNK {
            break;
        }
    }
    Ok(total)
}
