//! Both engines' migrations produce the same schema (issue 16, point 3).
//!
//! With `CORKBOARD_TEST_POSTGRES_URL` set to a PostgreSQL server (`make test-postgres`
//! starts a throwaway one), the test creates a database of its own, runs every migration
//! of `migrations/postgres`, runs every migration of `migrations/sqlite` on a temporary
//! file, and compares, table by table:
//!
//! - the tables (SQLite's FTS5 tables and their shadow tables aside: PostgreSQL's
//!   stand-in is the generated `search` tsvector column, which is left out in turn);
//! - the columns, in order, with their types in one vocabulary (text, bigint, integer,
//!   boolean, blob, double), nullability and whether they are generated. SQLite's
//!   `INTEGER` holds 64 bits whatever the declared width, so for a column that
//!   `schema.rs` declares, its Diesel type is what the SQLite column is (and PostgreSQL
//!   must declare exactly that); for a generated sort key `schema.rs` does not list,
//!   `INTEGER` matches INTEGER or BIGINT;
//! - the primary key and the unique constraints and indexes by column list, a NOCASE
//!   column on SQLite counting as `lower(column)` (PostgreSQL's spelling of the same
//!   uniqueness);
//! - the CHECK constraints SQLite names (`CONSTRAINT name CHECK`) by name, and the number
//!   of unnamed ones (SQLite's `INTEGER CHECK (x IN (0, 1))` on a column Diesel reads as
//!   `Bool` is PostgreSQL's BOOLEAN type, not a check);
//! - the foreign keys: column -> table.column and the ON DELETE action.
//!
//! Then it reverts every PostgreSQL migration (which must leave nothing behind), applies
//! them again and compares again.
//!
//! A second test runs one set of changes on both engines and compares what the triggers
//! keep (task counters, ratings, completion and tag counts, learners' progress, the sort
//! keys' order) and which rows a search for each of a list of words finds: FTS5's quoted
//! prefix term on SQLite, the folded `tsquery` prefix on PostgreSQL.
//!
//! Without the variable both say why they skipped and pass.

// A test harness: a failed expectation is a failed test.
#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::MigrationHarness;
use storage::{MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE};

const URL_VAR: &str = "CORKBOARD_TEST_POSTGRES_URL";

// ---- what a table is, engine-neutral ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    /// One of text, bigint, integer, boolean, blob, double; `int64` for a SQLite INTEGER
    /// that `schema.rs` does not type (matches integer or bigint).
    ty: String,
    not_null: bool,
    generated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ForeignKey {
    from: String,
    table: String,
    to: String,
    on_delete: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    primary_key: Vec<String>,
    /// Unique constraints and unique indexes other than the primary key, by key list.
    uniques: BTreeSet<Vec<String>>,
    named_checks: BTreeSet<String>,
    unnamed_checks: usize,
    foreign_keys: BTreeSet<ForeignKey>,
}

impl std::fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}.{} ON DELETE {}", self.from, self.table, self.to, self.on_delete)
    }
}

type Schema = BTreeMap<String, Table>;

fn types_match(sqlite: &str, postgres: &str) -> bool {
    sqlite == postgres || (sqlite == "int64" && (postgres == "integer" || postgres == "bigint"))
}

/// Every difference between the two engines' schemas, one line each.
fn compare(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for name in sqlite.keys().filter(|t| !postgres.contains_key(*t)) {
        out.push(format!("table {name}: on SQLite only"));
    }
    for name in postgres.keys().filter(|t| !sqlite.contains_key(*t)) {
        out.push(format!("table {name}: on PostgreSQL only"));
    }
    for (name, s) in sqlite {
        let Some(p) = postgres.get(name) else { continue };
        let s_names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        let p_names: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
        if s_names != p_names {
            out.push(format!("table {name}: columns differ: SQLite {s_names:?}, PostgreSQL {p_names:?}"));
        }
        for sc in &s.columns {
            let Some(pc) = p.columns.iter().find(|c| c.name == sc.name) else { continue };
            if !types_match(&sc.ty, &pc.ty) {
                out.push(format!("{name}.{}: type {} on SQLite, {} on PostgreSQL", sc.name, sc.ty, pc.ty));
            }
            if sc.not_null != pc.not_null {
                out.push(format!(
                    "{name}.{}: NOT NULL {} on SQLite, {} on PostgreSQL",
                    sc.name, sc.not_null, pc.not_null
                ));
            }
            if sc.generated != pc.generated {
                out.push(format!(
                    "{name}.{}: generated {} on SQLite, {} on PostgreSQL",
                    sc.name, sc.generated, pc.generated
                ));
            }
        }
        if s.primary_key != p.primary_key {
            out.push(format!(
                "table {name}: primary key {:?} on SQLite, {:?} on PostgreSQL",
                s.primary_key, p.primary_key
            ));
        }
        if s.uniques != p.uniques {
            out.push(format!("table {name}: unique keys {:?} on SQLite, {:?} on PostgreSQL", s.uniques, p.uniques));
        }
        for check in s.named_checks.difference(&p.named_checks) {
            out.push(format!("table {name}: CHECK constraint {check} missing on PostgreSQL"));
        }
        let p_unnamed = p.named_checks.len() + p.unnamed_checks - s.named_checks.intersection(&p.named_checks).count();
        if s.unnamed_checks != p_unnamed {
            out.push(format!(
                "table {name}: {} unnamed CHECK constraints on SQLite, {p_unnamed} on PostgreSQL",
                s.unnamed_checks
            ));
        }
        for fk in s.foreign_keys.difference(&p.foreign_keys) {
            out.push(format!("table {name}: foreign key {fk} on SQLite only"));
        }
        for fk in p.foreign_keys.difference(&s.foreign_keys) {
            out.push(format!("table {name}: foreign key {fk} on PostgreSQL only"));
        }
    }
    out
}

// ---- what schema.rs declares ----

/// The columns of a `diesel::table!`, as (name, vocabulary type, nullable).
trait Declared {
    fn declared() -> Vec<(&'static str, String, bool)>;
}

fn describe_sql_type<T: 'static>() -> (String, bool) {
    let full = std::any::type_name::<T>();
    let nullable = full.contains("Nullable<");
    let inner = full.trim_end_matches('>').rsplit([':', '<']).next().unwrap_or(full);
    let ty = match inner {
        "Text" => "text",
        "BigInt" => "bigint",
        "Integer" => "integer",
        "Bool" => "boolean",
        "Binary" => "blob",
        "Double" => "double",
        other => other,
    };
    (ty.to_string(), nullable)
}

macro_rules! declared_tuple {
    ($($c:ident),+) => {
        impl<$($c),+> Declared for ($($c,)+)
        where
            $($c: diesel::Column + diesel::Expression, <$c as diesel::Expression>::SqlType: 'static),+
        {
            fn declared() -> Vec<(&'static str, String, bool)> {
                vec![$({
                    let (ty, nullable) = describe_sql_type::<<$c as diesel::Expression>::SqlType>();
                    (<$c as diesel::Column>::NAME, ty, nullable)
                }),+]
            }
        }
    };
}

declared_tuple!(A);
declared_tuple!(A, B);
declared_tuple!(A, B, C);
declared_tuple!(A, B, C, D);
declared_tuple!(A, B, C, D, E);
declared_tuple!(A, B, C, D, E, F);
declared_tuple!(A, B, C, D, E, F, G);
declared_tuple!(A, B, C, D, E, F, G, H);
declared_tuple!(A, B, C, D, E, F, G, H, I);
declared_tuple!(A, B, C, D, E, F, G, H, I, J);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K, L);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
declared_tuple!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

/// table -> column -> (vocabulary type, nullable), from `storage::schema`.
type DeclaredSchema = BTreeMap<String, BTreeMap<String, (String, bool)>>;

macro_rules! declared_schema {
    ($($t:ident),+ $(,)?) => {{
        let mut schema = DeclaredSchema::new();
        $(
            let columns = <<storage::schema::$t::table as diesel::Table>::AllColumns as Declared>::declared();
            schema.insert(
                stringify!($t).to_string(),
                columns.into_iter().map(|(n, ty, null)| (n.to_string(), (ty, null))).collect(),
            );
        )+
        schema
    }};
}

fn declared_schema() -> DeclaredSchema {
    declared_schema!(
        notes,
        tasks,
        task_counts,
        task_completions,
        users,
        tokens,
        activity,
        teams,
        team_members,
        team_invites,
        projects,
        project_tasks,
        task_comments,
        challenges,
        challenge_tags,
        tags,
        learning_paths,
        path_challenges,
        enrollments,
        completions,
        ratings,
        challenge_comments,
        completion_feedback,
        idempotency_keys,
        revocation_counter,
        session_revocations,
        stream_tickets,
        login_failures,
        webhooks,
        webhook_deliveries,
    )
}

// ---- SQLite ----

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
    #[diesel(sql_type = Integer)]
    hidden: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = Text)]
    coll: String,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Nullable<Text>)]
    to: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

/// The words of a SQL text, upper-cased, without comments, string literals or punctuation.
fn sql_words(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '-' && chars.peek() == Some(&'-') {
            for c in chars.by_ref() {
                if c == '\n' {
                    break;
                }
            }
        } else if c == '\'' {
            while let Some(c) = chars.next() {
                if c == '\'' && chars.peek() != Some(&'\'') {
                    break;
                }
                if c == '\'' {
                    chars.next();
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            word.push(c.to_ascii_uppercase());
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The named CHECK constraints of a CREATE TABLE and the number of unnamed ones, leaving
/// out `CHECK (col IN (0, 1))` on the given boolean columns.
fn sqlite_checks(create_table: &str, booleans: &BTreeSet<String>) -> (BTreeSet<String>, usize) {
    let words = sql_words(create_table);
    let mut named = BTreeSet::new();
    let mut unnamed = 0;
    for (i, word) in words.iter().enumerate() {
        if word != "CHECK" {
            continue;
        }
        if i >= 2 && words[i - 2] == "CONSTRAINT" {
            named.insert(words[i - 1].to_lowercase());
            continue;
        }
        let rest = &words[i + 1..];
        let boolean_range = rest.len() >= 4
            && booleans.contains(&rest[0].to_lowercase())
            && rest[1] == "IN"
            && rest[2] == "0"
            && rest[3] == "1";
        if !boolean_range {
            unnamed += 1;
        }
    }
    (named, unnamed)
}

/// The key list of `CREATE [UNIQUE] INDEX name ON table (key, ...)`, normalised.
fn index_keys(sql: &str) -> Vec<String> {
    let Some(open) = sql.find('(') else { return Vec::new() };
    let mut depth = 0;
    let mut keys = Vec::new();
    let mut key = String::new();
    for c in sql[open + 1..].chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                keys.push(normalise_key(&key));
                key.clear();
                continue;
            }
            _ => {}
        }
        key.push(c);
    }
    keys.push(normalise_key(&key));
    keys
}

/// One spelling for an index key on both engines: lower case, no casts, no collations, no
/// quotes, spaces or redundant parentheses (`lower((email)::text)` and `lower(email)`
/// agree, as do `"position"` and `position`).
fn normalise_key(key: &str) -> String {
    let mut k = key.to_lowercase().replace("::text", "").replace(" collate \"c\"", "").replace(['"', ' '], "");
    while let Some(start) = k.find("((") {
        // `((name))` -> `(name)`
        let Some(end) = k[start..].find("))") else { break };
        let inner = &k[start + 2..start + end];
        if inner.contains(['(', ')', ',']) {
            break;
        }
        k = format!("{}({}){}", &k[..start], inner, &k[start + end + 2..]);
    }
    k
}

fn sqlite_schema(conn: &mut SqliteConnection, declared: &DeclaredSchema) -> (Schema, Vec<String>) {
    let mut problems = Vec::new();
    let names: Vec<Name> = diesel::sql_query(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(conn)
    .expect("SQLite tables");
    let mut schema = Schema::new();
    for Name { name: table } in names {
        let mut t = Table::default();
        let columns: Vec<SqliteColumn> = diesel::sql_query(
            "SELECT name, type AS ty, \"notnull\" AS not_null, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("SQLite columns");
        let mut pk: Vec<(i32, String)> = Vec::new();
        let mut booleans = BTreeSet::new();
        for c in columns {
            let declared_type = c.ty.split_whitespace().next().unwrap_or("").to_uppercase();
            let in_schema_rs = declared.get(&table).and_then(|cols| cols.get(&c.name));
            let ty = match (declared_type.as_str(), in_schema_rs) {
                ("INTEGER", Some((ty, _))) if matches!(ty.as_str(), "integer" | "bigint" | "boolean") => ty.clone(),
                ("INTEGER", None) => "int64".to_string(),
                ("BIGINT", _) => "bigint".to_string(),
                ("TEXT", _) => "text".to_string(),
                ("BLOB", _) => "blob".to_string(),
                ("REAL" | "DOUBLE" | "FLOAT", _) => "double".to_string(),
                ("BOOLEAN", _) => "boolean".to_string(),
                (other, _) => format!("unknown SQLite type {other:?}"),
            };
            if let Some((declared_ty, nullable)) = in_schema_rs {
                if *declared_ty != ty {
                    problems.push(format!("{table}.{}: schema.rs says {declared_ty}, SQLite has {ty}", c.name));
                }
                let not_null = c.not_null != 0 || c.pk > 0;
                if *nullable == not_null {
                    problems.push(format!(
                        "{table}.{}: schema.rs says nullable {nullable}, SQLite NOT NULL {not_null}",
                        c.name
                    ));
                }
            }
            if ty == "boolean" {
                booleans.insert(c.name.clone());
            }
            if c.pk > 0 {
                pk.push((c.pk, c.name.clone()));
            }
            t.columns.push(Column {
                name: c.name,
                ty,
                // A primary key column is never NULL (SQLite reports `notnull` 0 for an
                // INTEGER PRIMARY KEY, the rowid, which cannot be NULL).
                not_null: c.not_null != 0 || c.pk > 0,
                generated: c.hidden == 2 || c.hidden == 3,
            });
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, n)| n).collect();

        let indexes: Vec<SqliteIndex> = diesel::sql_query(
            "SELECT l.name AS name, m.sql AS sql FROM pragma_index_list(?) AS l \
             LEFT JOIN sqlite_master AS m ON m.type = 'index' AND m.name = l.name \
             WHERE l.\"unique\" = 1 AND l.origin <> 'pk'",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("SQLite indexes");
        for index in indexes {
            let columns: Vec<SqliteIndexColumn> =
                diesel::sql_query("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno")
                    .bind::<Text, _>(&index.name)
                    .load(conn)
                    .expect("SQLite index columns");
            let from_sql = index.sql.as_deref().map(index_keys);
            let keys = columns
                .iter()
                .enumerate()
                .map(|(i, c)| match (&c.name, &from_sql) {
                    (Some(name), _) if c.coll.eq_ignore_ascii_case("NOCASE") => format!("lower({name})"),
                    (Some(name), _) => name.clone(),
                    (None, Some(keys)) => keys.get(i).cloned().unwrap_or_default(),
                    (None, None) => format!("{}: an expression", index.name),
                })
                .collect();
            t.uniques.insert(keys);
        }

        let create: Name = diesel::sql_query("SELECT sql AS name FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind::<Text, _>(&table)
            .get_result(conn)
            .expect("SQLite CREATE TABLE");
        (t.named_checks, t.unnamed_checks) = sqlite_checks(&create.name, &booleans);

        let fks: Vec<SqliteForeignKey> = diesel::sql_query(
            "SELECT \"table\" AS \"table\", \"from\" AS \"from\", \"to\" AS \"to\", on_delete FROM pragma_foreign_key_list(?)",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("SQLite foreign keys");
        t.foreign_keys = fks
            .into_iter()
            .map(|f| ForeignKey {
                from: f.from,
                table: f.table,
                to: f.to.unwrap_or_else(|| "(primary key)".to_string()),
                on_delete: f.on_delete.to_uppercase(),
            })
            .collect();
        schema.insert(table, t);
    }
    // FTS5 tables are `virtual` and their storage `shadow` in pragma_table_list, so
    // neither is here; nothing else SQLite-only should be.
    (schema, problems)
}

// ---- PostgreSQL ----

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Bool)]
    generated: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Bool)]
    primary: bool,
    #[diesel(sql_type = Text)]
    keys: String,
}

#[derive(QueryableByName)]
struct PgCheck {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    to: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn pg_schema(conn: &mut PgConnection) -> Schema {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
           AND c.relname <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load(conn)
    .expect("PostgreSQL tables");
    let mut schema = Schema::new();
    for Name { name: table } in names {
        let mut t = Table::default();
        let columns: Vec<PgColumn> = diesel::sql_query(
            "SELECT attname::text AS name, format_type(atttypid, atttypmod) AS ty, attnotnull AS not_null, \
                    attgenerated <> '' AS generated \
               FROM pg_attribute WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped \
              ORDER BY attnum",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("PostgreSQL columns");
        for c in columns {
            let ty = match c.ty.as_str() {
                "text" => "text",
                "bigint" => "bigint",
                "integer" => "integer",
                "boolean" => "boolean",
                "bytea" => "blob",
                "double precision" => "double",
                // The full-text column stands for SQLite's FTS5 table.
                "tsvector" if c.name == "search" && c.generated => continue,
                other => other,
            };
            t.columns.push(Column { name: c.name, ty: ty.to_string(), not_null: c.not_null, generated: c.generated });
        }
        let indexes: Vec<PgIndex> = diesel::sql_query(
            "SELECT i.indisprimary AS primary, \
                    (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, true), E'\\n' ORDER BY k) \
                       FROM generate_series(1, i.indnkeyatts) AS k) AS keys \
               FROM pg_index AS i WHERE i.indrelid = $1::text::regclass AND i.indisunique",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("PostgreSQL unique indexes");
        for index in indexes {
            let keys: Vec<String> = index.keys.split('\n').map(normalise_key).collect();
            if index.primary {
                t.primary_key = keys;
            } else {
                t.uniques.insert(keys);
            }
        }
        let checks: Vec<PgCheck> = diesel::sql_query(
            "SELECT conname::text AS name FROM pg_constraint WHERE conrelid = $1::text::regclass AND contype = 'c'",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("PostgreSQL checks");
        // Every check counts as named here; `compare` takes the ones SQLite names out.
        t.named_checks = checks.into_iter().map(|c| c.name).collect();
        let fks: Vec<PgForeignKey> = diesel::sql_query(
            "SELECT a.attname::text AS \"from\", cf.relname::text AS \"table\", af.attname::text AS \"to\", \
                    CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' \
                         WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS on_delete \
               FROM pg_constraint AS c \
               JOIN pg_class AS cf ON cf.oid = c.confrelid \
               CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, fcol) \
               JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.col \
               JOIN pg_attribute AS af ON af.attrelid = c.confrelid AND af.attnum = k.fcol \
              WHERE c.conrelid = $1::text::regclass AND c.contype = 'f'",
        )
        .bind::<Text, _>(&table)
        .load(conn)
        .expect("PostgreSQL foreign keys");
        t.foreign_keys = fks
            .into_iter()
            .map(|f| ForeignKey { from: f.from, table: f.table, to: f.to, on_delete: f.on_delete })
            .collect();
        schema.insert(table, t);
    }
    schema
}

/// Whatever the migrations left in the schema besides Diesel's own bookkeeping.
fn pg_leftovers(conn: &mut PgConnection) -> Vec<String> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT format('%s %s', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' \
                 WHEN 'v' THEN 'view' ELSE c.relkind::text END, c.relname) AS name \
           FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
          WHERE n.nspname = current_schema() \
            AND c.relname NOT IN ('__diesel_schema_migrations', '__diesel_schema_migrations_pkey') \
         UNION ALL \
         SELECT format('function %s', p.oid::regprocedure) FROM pg_proc AS p \
           JOIN pg_namespace AS n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() \
         ORDER BY 1",
    )
    .load(conn)
    .expect("PostgreSQL leftovers");
    names.into_iter().map(|n| n.name).collect()
}

/// A database of the test's own on the server, dropped when the test ends (pass or fail).
struct ScratchDatabase {
    admin: PgConnection,
    name: String,
    url: String,
}

impl ScratchDatabase {
    fn create(server_url: &str) -> Self {
        let mut admin = PgConnection::establish(server_url).expect("connecting to CORKBOARD_TEST_POSTGRES_URL");
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("corkboard_schema_{}_{}", std::process::id(), nanos % 1_000_000_000);
        admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("creating the test database");
        let url = with_database(server_url, &name);
        ScratchDatabase { admin, name, url }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = self.admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
    }
}

/// `url` with its database (the path) replaced by `database`; the query string is kept.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[authority_start..].find('/').map(|i| authority_start + i).unwrap_or(base.len());
    format!("{}/{database}{query}", &base[..path_start])
}

#[test]
fn both_engines_migrate_to_the_same_schema() {
    let Ok(server_url) = std::env::var(URL_VAR) else {
        eprintln!(
            "skipped: {URL_VAR} is not set, so there is no PostgreSQL server to compare against \
             (`make test-postgres` starts one and sets it)"
        );
        return;
    };
    let declared = declared_schema();

    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("schema.db");
    let mut sqlite = SqliteConnection::establish(&path.to_string_lossy()).expect("opening SQLite");
    sqlite.run_pending_migrations(MIGRATIONS_SQLITE).expect("SQLite migrations");
    let (sqlite_schema, mut problems) = sqlite_schema(&mut sqlite, &declared);
    for table in declared.keys().filter(|t| !sqlite_schema.contains_key(*t)) {
        problems.push(format!("table {table}: in schema.rs but not on SQLite"));
    }

    let db = ScratchDatabase::create(&server_url);
    let mut pg = PgConnection::establish(&db.url).expect("connecting to the test database");
    pg.run_pending_migrations(MIGRATIONS_POSTGRES).expect("PostgreSQL migrations");
    let first = pg_schema(&mut pg);
    problems.extend(compare(&sqlite_schema, &first));

    // Down and up again; a failure here is reported with whatever the comparison found.
    match pg.revert_all_migrations(MIGRATIONS_POSTGRES) {
        Err(e) => problems.push(format!("reverting every PostgreSQL migration failed: {e}")),
        Ok(_) => {
            for leftover in pg_leftovers(&mut pg) {
                problems.push(format!("after reverting every PostgreSQL migration, {leftover} is left"));
            }
            match pg.run_pending_migrations(MIGRATIONS_POSTGRES) {
                Err(e) => problems.push(format!("PostgreSQL migrations after reverting them failed: {e}")),
                Ok(_) => {
                    let again = pg_schema(&mut pg);
                    if again != first {
                        problems.push("PostgreSQL: down and up again gives another schema".to_string());
                        problems.extend(compare(&first, &again).into_iter().map(|p| format!("(first vs again) {p}")));
                    }
                }
            }
        }
    }

    assert!(problems.is_empty(), "the engines' schemas differ:\n{}", problems.join("\n"));
    assert!(first.len() >= declared.len(), "compared {} tables", first.len());
}

// ---- the triggers and the full-text search do the same on both engines ----

/// Changes that move every trigger-kept aggregate, in SQL both engines take as is.
const CHANGES: &str = "
INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at) VALUES
    ('u1', 'A@x.io', 'a@x.io', 'A', 'h', 1), ('u2', 'b@x.io', 'b@x.io', 'B', 'h', 1);

INSERT INTO tasks (id, owner_id, title, description, status, due_date, created_at, updated_at, completed_at) VALUES
    ('t1', NULL, 'Invoice March', 'send the invoices', 0, '2026-03-01', 1000, 1000, NULL),
    ('t2', 'u1', 'Café order', 'beans, filters', 2, NULL, 1000, 90000000, 90000000),
    ('t3', 'u1', 'report', NULL, 1, '2026-03-01', 1000, 1000, NULL),
    ('t4', 'u2', 'Zebra', 'gone soon', 2, '2026-04-30', 1000, 200000000, 200000000),
    ('t5', 'u2', '_under', 'ann@example.com v1.2-beta', 0, NULL, 1000, 1000, NULL);
UPDATE tasks SET status = 2, completed_at = 172800000, updated_at = 172800000 WHERE id = 't1';
UPDATE tasks SET owner_id = 'u2' WHERE id = 't3';
UPDATE tasks SET status = 0, completed_at = NULL WHERE id = 't2';
UPDATE tasks SET title = 'Report again', due_date = '2026-05-01' WHERE id = 't3';
DELETE FROM tasks WHERE id = 't4';

INSERT INTO notes (id, title, content, created_at, updated_at) VALUES
    ('n1', 'Über plan', 'Write to ann@example.com about v1.2-beta; café at 12:30', 1, 1),
    ('n2', NULL, 'grocery list: beans, naïve résumé', 1, 1);
UPDATE notes SET content = 'grocery list: beans, naïve résumé, invoices' WHERE id = 'n2';

INSERT INTO challenges (id, title, description, difficulty, topic, tags, author_id, created_at, updated_at, version) VALUES
    ('c1', 'Zeta', 'last', 0, 'Rust', '[]', 'u1', 1, 1, 1),
    ('c2', 'alpha', 'first', 1, 'rust', '[]', 'u1', 1, 1, 1),
    ('c3', 'Beta', NULL, 2, 'Go', '[]', 'u1', 1, 1, 1),
    ('c4', '_under', NULL, 3, 'Go', '[]', 'u2', 1, 1, 1);
INSERT INTO challenge_tags (challenge_id, tag, difficulty, rating_key, created_at, title_key) VALUES
    ('c1', 'x', 0, 0, 1, 'Zeta'), ('c2', 'x', 1, 0, 1, 'alpha'), ('c2', 'y', 1, 0, 1, 'alpha'),
    ('c3', 'y', 2, 0, 1, 'Beta'), ('c4', 'x', 3, 0, 1, '_under'), ('c4', 'z', 3, 0, 1, '_under');
INSERT INTO learning_paths (id, title, description, topic, author_id, created_at, updated_at, version) VALUES
    ('p1', 'One', NULL, 'rust', 'u1', 1, 1, 1), ('p2', 'Two', NULL, 'go', 'u1', 1, 1, 1),
    ('p3', 'Three', NULL, 'go', 'u2', 1, 1, 1);
INSERT INTO path_challenges (path_id, position, challenge_id) VALUES
    ('p1', 0, 'c1'), ('p1', 1, 'c2'), ('p2', 0, 'c2'), ('p2', 1, 'c3'), ('p3', 0, 'c4');
INSERT INTO completions (id, challenge_id, user_id, solution, completed_at) VALUES
    ('k1', 'c1', 'u1', NULL, 100), ('k2', 'c2', 'u1', NULL, 200), ('k3', 'c3', 'u2', NULL, 50),
    ('k4', 'c2', 'u2', NULL, 60);
INSERT INTO enrollments (user_id, path_id, enrolled_at) VALUES
    ('u1', 'p1', 5), ('u1', 'p2', 5), ('u2', 'p2', 5), ('u2', 'p1', 5), ('u2', 'p3', 5);
INSERT INTO completions (id, challenge_id, user_id, solution, completed_at) VALUES
    ('k5', 'c4', 'u2', NULL, 300), ('k6', 'c3', 'u1', NULL, 400);
INSERT INTO path_challenges (path_id, position, challenge_id) VALUES ('p3', 1, 'c3');
DELETE FROM completions WHERE id = 'k6';
INSERT INTO ratings (challenge_id, user_id, stars, rated_at) VALUES
    ('c1', 'u1', 4, 1), ('c1', 'u2', 3, 1), ('c2', 'u1', 5, 1), ('c3', 'u2', 1, 1);
UPDATE ratings SET stars = 2 WHERE challenge_id = 'c1' AND user_id = 'u2';
DELETE FROM ratings WHERE challenge_id = 'c3';
UPDATE challenges SET title = 'gamma', difficulty = 1 WHERE id = 'c3';
DELETE FROM challenge_tags WHERE challenge_id = 'c4' AND tag = 'z';
DELETE FROM path_challenges WHERE path_id = 'p3' AND challenge_id = 'c4';
DELETE FROM challenges WHERE id = 'c2';
DELETE FROM learning_paths WHERE id = 'p1';
";

/// What the triggers keep, one text row per row; `true` where the order is the point.
const AGGREGATES: &[(&str, bool)] = &[
    ("SELECT owner_key || '|' || CAST(status AS TEXT) || '|' || due_key || '|' || CAST(n AS TEXT) AS name FROM task_counts", false),
    ("SELECT owner_key || '|' || CAST(day AS TEXT) || '|' || CAST(n AS TEXT) AS name FROM task_completions", false),
    ("SELECT id || '|' || due_key AS name FROM tasks", false),
    ("SELECT id AS name FROM tasks ORDER BY title_key, id", true),
    ("SELECT tag || '|' || CAST(challenge_count AS TEXT) AS name FROM tags", false),
    ("SELECT id || '|' || CAST(difficulty AS TEXT) || '|' || CAST(rating_sum AS TEXT) || '|' || CAST(rating_count AS TEXT) \
      || '|' || CAST(completion_count AS TEXT) || '|' || CAST(rating_key AS TEXT) AS name FROM challenges", false),
    ("SELECT id AS name FROM challenges ORDER BY title_key, id", true),
    ("SELECT challenge_id || '|' || tag || '|' || CAST(difficulty AS TEXT) || '|' || CAST(rating_key AS TEXT) || '|' \
      || lower(title_key) AS name FROM challenge_tags", false),
    ("SELECT challenge_id || '|' || tag || '|' || CAST(completion_count AS TEXT) AS name FROM challenge_tag_popularity", false),
    ("SELECT challenge_id AS name FROM challenge_tag_popularity WHERE tag = 'x' ORDER BY completion_count, challenge_id", true),
    ("SELECT challenge_id AS name FROM challenge_tags WHERE tag = 'x' ORDER BY title_key, challenge_id", true),
    ("SELECT id || '|' || CAST(challenge_count AS TEXT) AS name FROM learning_paths", false),
    ("SELECT user_id || '|' || path_id || '|' || CAST(completed_count AS TEXT) || '|' \
      || coalesce(CAST(last_completed_at AS TEXT), '-') AS name FROM enrollments", false),
];

/// Words a user might search for: whole words, prefixes, accents either way, pieces of
/// addresses and versions, and words that are nowhere.
const SEARCH_WORDS: &[&str] = &[
    "invoice", "invoices", "inv", "cafe", "café", "CAFÉ", "uber", "über", "example", "ann", "beta", "v1", "2", "again",
    "beans", "naive", "resume", "report", "gone", "nothing", "com",
];

/// The `name` column of every row of `sql`, sorted unless the order is the point.
macro_rules! rows {
    ($conn:expr, $sql:expr, $ordered:expr) => {{
        let mut rows: Vec<String> =
            diesel::sql_query($sql).load::<Name>($conn).expect($sql).into_iter().map(|n| n.name).collect();
        if !$ordered {
            rows.sort();
        }
        rows
    }};
}

#[test]
fn both_engines_keep_the_same_aggregates_and_find_the_same_words() {
    let Ok(server_url) = std::env::var(URL_VAR) else {
        eprintln!("skipped: {URL_VAR} is not set, so there is no PostgreSQL server to compare against");
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("aggregates.db");
    let mut sqlite = SqliteConnection::establish(&path.to_string_lossy()).expect("opening SQLite");
    sqlite.batch_execute("PRAGMA foreign_keys = ON").expect("foreign keys on");
    sqlite.run_pending_migrations(MIGRATIONS_SQLITE).expect("SQLite migrations");
    sqlite.batch_execute(CHANGES).expect("the changes on SQLite");

    let db = ScratchDatabase::create(&server_url);
    let mut pg = PgConnection::establish(&db.url).expect("connecting to the test database");
    pg.run_pending_migrations(MIGRATIONS_POSTGRES).expect("PostgreSQL migrations");
    pg.batch_execute(CHANGES).expect("the changes on PostgreSQL");

    let mut problems = Vec::new();
    for (sql, ordered) in AGGREGATES {
        let (s, p) = (rows!(&mut sqlite, *sql, *ordered), rows!(&mut pg, *sql, *ordered));
        assert!(!s.is_empty(), "nothing to compare: {sql}");
        if s != p {
            problems.push(format!("{sql}\n  SQLite:     {s:?}\n  PostgreSQL: {p:?}"));
        }
    }

    // What the search code sends each engine for one word typed by a user: FTS5's quoted
    // prefix term, and the folded lexeme as a tsquery prefix (see the notes migration).
    let mut found_any = false;
    for (table, id) in [("notes", "n"), ("tasks", "t")] {
        for word in SEARCH_WORDS {
            let quoted = format!("\"{}\"*", word.replace('"', "\"\""));
            let s: Vec<String> = {
                let sql = format!(
                    "SELECT t.id AS name FROM {table} AS t JOIN {table}_fts AS f ON f.rowid = t.seq \
                     WHERE {table}_fts MATCH ? ORDER BY 1"
                );
                diesel::sql_query(sql)
                    .bind::<Text, _>(&quoted)
                    .load::<Name>(&mut sqlite)
                    .expect("SQLite search")
                    .into_iter()
                    .map(|n| n.name)
                    .collect()
            };
            let p: Vec<String> = {
                let sql = format!(
                    "SELECT id AS name FROM {table} \
                     WHERE search @@ to_tsquery('simple', quote_literal(search_fold($1)) || ':*') ORDER BY 1"
                );
                diesel::sql_query(sql)
                    .bind::<Text, _>(*word)
                    .load::<Name>(&mut pg)
                    .expect("PostgreSQL search")
                    .into_iter()
                    .map(|n| n.name)
                    .collect()
            };
            found_any |= s.iter().any(|r| r.starts_with(id));
            if s != p {
                problems.push(format!("{table}: {word:?} finds {s:?} on SQLite, {p:?} on PostgreSQL"));
            }
        }
    }
    assert!(found_any, "the searches found nothing on either engine");
    assert!(problems.is_empty(), "the engines differ:\n{}", problems.join("\n"));
}

// ---- the comparison itself, without a server ----

fn table(columns: &[(&str, &str, bool)]) -> Table {
    Table {
        columns: columns
            .iter()
            .map(|(name, ty, not_null)| Column {
                name: name.to_string(),
                ty: ty.to_string(),
                not_null: *not_null,
                generated: false,
            })
            .collect(),
        primary_key: vec!["id".to_string()],
        ..Table::default()
    }
}

fn one(name: &str, t: Table) -> Schema {
    Schema::from([(name.to_string(), t)])
}

#[test]
fn the_comparison_reports_every_kind_of_difference() {
    let base = table(&[("id", "text", true), ("n", "int64", true), ("at", "bigint", false)]);
    assert_eq!(compare(&one("t", base.clone()), &one("t", base.clone())), Vec::<String>::new());
    // SQLite's untyped INTEGER matches either width.
    let wide = table(&[("id", "text", true), ("n", "bigint", true), ("at", "bigint", false)]);
    assert_eq!(compare(&one("t", base.clone()), &one("t", wide)), Vec::<String>::new());

    let cases: Vec<(Table, &str)> = vec![
        (table(&[("id", "text", true), ("n", "int64", true), ("at", "integer", false)]), "t.at: type bigint"),
        (table(&[("id", "text", true), ("n", "int64", true), ("at", "bigint", true)]), "t.at: NOT NULL false"),
        (table(&[("id", "text", true), ("at", "bigint", false), ("n", "int64", true)]), "columns differ"),
        (table(&[("id", "text", true), ("n", "int64", true)]), "columns differ"),
        (Table { primary_key: vec!["n".into()], ..base.clone() }, "primary key"),
        (Table { uniques: BTreeSet::from([vec!["lower(id)".to_string()]]), ..base.clone() }, "unique keys"),
        (Table { unnamed_checks: 1, ..base.clone() }, "unnamed CHECK"),
        (
            Table {
                foreign_keys: BTreeSet::from([ForeignKey {
                    from: "id".into(),
                    table: "u".into(),
                    to: "id".into(),
                    on_delete: "CASCADE".into(),
                }]),
                ..base.clone()
            },
            "foreign key id -> u.id ON DELETE CASCADE on PostgreSQL only",
        ),
    ];
    for (postgres, expected) in cases {
        let problems = compare(&one("t", base.clone()), &one("t", postgres));
        assert!(problems.iter().any(|p| p.contains(expected)), "expected {expected:?} in {problems:?}");
    }
    let named = Table { named_checks: BTreeSet::from(["t_n".to_string()]), ..base.clone() };
    assert!(compare(&one("t", named.clone()), &one("t", base.clone()))[0].contains("CHECK constraint t_n missing"));
    assert_eq!(compare(&one("t", named.clone()), &one("t", named)), Vec::<String>::new());
    assert!(compare(&one("t", base.clone()), &one("u", base))[0].contains("table t: on SQLite only"));
}

#[test]
fn sqlite_checks_are_read_by_name_and_counted() {
    let sql = "CREATE TABLE t (\n  a INTEGER NOT NULL CONSTRAINT t_a CHECK (a > 0), -- a CHECK in a comment\n  \
               b TEXT CHECK (b <> 'CHECK (x)'),\n  flag INTEGER NOT NULL CHECK (flag IN (0, 1)),\n  \
               role INTEGER NOT NULL CHECK (role IN (0, 1)),\n  CHECK (a < 10))";
    let booleans = BTreeSet::from(["flag".to_string()]);
    let (named, unnamed) = sqlite_checks(sql, &booleans);
    assert_eq!(named, BTreeSet::from(["t_a".to_string()]));
    assert_eq!(unnamed, 3, "b, role and the table check; the boolean's range is its type on PostgreSQL");
}

#[test]
fn index_keys_have_one_spelling_on_both_engines() {
    assert_eq!(index_keys("CREATE UNIQUE INDEX u ON users (lower(email), id)"), vec!["lower(email)", "id"]);
    assert_eq!(normalise_key("lower((email)::text)"), "lower(email)");
    assert_eq!(normalise_key("lower(topic COLLATE \"C\")"), "lower(topic)");
    assert_eq!(normalise_key("id"), "id");
    assert_eq!(normalise_key("\"position\""), "position");
}

#[test]
fn the_database_url_is_rewritten_to_the_test_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5000/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5000/t1"
    );
    assert_eq!(with_database("postgresql://u@h:1/db?sslmode=disable", "t1"), "postgresql://u@h:1/t1?sslmode=disable");
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
}

#[test]
fn migrate_url_applies_the_postgresql_migrations_once() {
    let Ok(server_url) = std::env::var(URL_VAR) else {
        eprintln!("skipped: {URL_VAR} is not set (make test-postgres sets it)");
        return;
    };
    let scratch = ScratchDatabase::create(&server_url);
    // What `gateway migrate --database-url postgres://...` runs.
    let (named, applied) = storage::migrate_url(&scratch.url).expect("migrating a fresh database");
    let all = diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS_POSTGRES).unwrap();
    assert_eq!(applied.len(), all.len(), "every migration, once");
    assert!(named.starts_with("postgres"), "{named}");
    let (_, again) = storage::migrate_url(&scratch.url).expect("migrating again");
    assert!(again.is_empty(), "nothing is applied twice: {again:?}");
}
