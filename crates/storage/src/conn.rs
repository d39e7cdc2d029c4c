//! The one connection type of every domain crate: [`DbConn`], a SQLite or a PostgreSQL
//! connection behind one Diesel `Connection` (Diesel's `#[derive(MultiConnection)]`).
//!
//! Domain code takes `&mut DbConn` and builds queries with Diesel's DSL; Diesel renders
//! them for the engine the connection talks to (`?` or `$1`, quoting, `RETURNING`). What
//! the two engines spell differently lives in this crate: fragments written here
//! ([`crate::sql::Sql`], [`crate::keyset::KeysetAfter`], [`crate::expr::Trusted`]) render
//! their own text per engine through [`Dialect`], and `crate::search` runs FTS5 on SQLite
//! and `tsvector` on PostgreSQL.
//!
//! Why this and not a generic `C: Connection` in every function (the other route Diesel
//! offers): one concrete type keeps signatures short, compiles each query once, and lets a
//! domain crate stay unaware of which engines exist. The price is the common subset of the
//! two SQL dialects in the DSL (no `ON CONFLICT`: upserts are written in [`crate::sql`]),
//! paid where it arises, inside this crate.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment};
use diesel::sqlite::Sqlite;

/// A connection to either engine. Match on it only inside `storage`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// An embedded SQLite file.
    Sqlite(SqliteConnection),
    /// A PostgreSQL server.
    Postgres(PgConnection),
}

/// The Diesel backend of [`DbConn`] (what `QueryFragment<Backend>` bounds name).
pub type Backend = MultiBackend;

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl DbConn {
    /// The engine this connection talks to.
    pub fn engine(&self) -> Engine {
        match self {
            DbConn::Sqlite(_) => Engine::Sqlite,
            DbConn::Postgres(_) => Engine::Postgres,
        }
    }

    /// The SQLite connection inside, if this is one (for SQLite-only upkeep and plans).
    pub fn as_sqlite(&mut self) -> Option<&mut SqliteConnection> {
        match self {
            DbConn::Sqlite(c) => Some(c),
            DbConn::Postgres(_) => None,
        }
    }
}

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbConn({:?})", self.engine())
    }
}

/// The engine a Diesel backend renders for: the fragments of this crate implement
/// `QueryFragment` for each engine's backend with the text that engine takes, and for
/// [`Backend`] by dispatching to the engine of the connection ([`walk_per_engine`]).
pub trait Dialect: diesel::backend::Backend + Sized {
    /// The engine.
    const ENGINE: Engine;
    /// Pushes a bound integer.
    fn bind_int<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b i64) -> QueryResult<()>;
    /// Pushes a bound text.
    fn bind_text<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b str) -> QueryResult<()>;
    /// Pushes a bound text or NULL.
    fn bind_opt_text<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b Option<String>) -> QueryResult<()>;
}

macro_rules! dialect {
    ($backend:ty, $engine:expr) => {
        impl Dialect for $backend {
            const ENGINE: Engine = $engine;
            fn bind_int<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b i64) -> QueryResult<()> {
                out.push_bind_param::<diesel::sql_types::BigInt, i64>(value)
            }
            fn bind_text<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b str) -> QueryResult<()> {
                out.push_bind_param::<diesel::sql_types::Text, str>(value)
            }
            fn bind_opt_text<'b>(out: &mut AstPass<'_, 'b, Self>, value: &'b Option<String>) -> QueryResult<()> {
                out.push_bind_param::<diesel::sql_types::Nullable<diesel::sql_types::Text>, Option<String>>(value)
            }
        }
    };
}

dialect!(Sqlite, Engine::Sqlite);
dialect!(Pg, Engine::Postgres);

/// Implements `QueryFragment` for both engines' backends and for [`Backend`] from a
/// function `fn walk<'b, DB: Dialect>(&'b self, out: AstPass<'_, 'b, DB>)` on the type;
/// generic parameters follow a `;` (`fragment_for_every_engine!(SqlQuery<ST>; ST)`).
#[macro_export]
macro_rules! fragment_for_every_engine {
    ($ty:ty $(; $($generic:ident),*)?) => {
        impl$(<$($generic),*>)? diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $ty {
            fn walk_ast<'b>(
                &'b self,
                out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> diesel::QueryResult<()> {
                self.walk(out)
            }
        }
        impl$(<$($generic),*>)? diesel::query_builder::QueryFragment<diesel::pg::Pg> for $ty {
            fn walk_ast<'b>(
                &'b self,
                out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                self.walk(out)
            }
        }
        $crate::per_engine_fragment!($ty $(; $($generic),*)?);
    };
}

/// Renders `node` for the engine of the connection the query runs on.
pub fn walk_per_engine<'b, T>(node: &'b T, pass: AstPass<'_, 'b, Backend>) -> QueryResult<()>
where
    T: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    MultiBackend::walk_variant_ast(node, pass)
}

/// Implements `QueryFragment<Backend>` for a type that implements it for both engines.
#[macro_export]
macro_rules! per_engine_fragment {
    ($ty:ty $(; $($generic:ident),*)?) => {
        impl$(<$($generic),*>)? diesel::query_builder::QueryFragment<$crate::Backend> for $ty {
            fn walk_ast<'b>(
                &'b self,
                pass: diesel::query_builder::AstPass<'_, 'b, $crate::Backend>,
            ) -> diesel::QueryResult<()> {
                $crate::conn::walk_per_engine(self, pass)
            }
        }
    };
}

/// An r2d2 connection manager that opens connections of one engine. (Diesel's own
/// `ConnectionManager<DbConn>` would try each engine on the URL in turn.)
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    engine: Engine,
}

impl Manager {
    /// A manager opening `engine` connections to `url`.
    pub fn new(url: impl Into<String>, engine: Engine) -> Self {
        Manager { url: url.into(), engine }
    }

    /// Opens one connection.
    pub fn establish(&self) -> ConnectionResult<DbConn> {
        Ok(match self.engine {
            Engine::Sqlite => DbConn::Sqlite(SqliteConnection::establish(&self.url)?),
            Engine::Postgres => DbConn::Postgres(PgConnection::establish(&self.url)?),
        })
    }
}

impl diesel::r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        self.establish().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        use diesel::r2d2::R2D2Connection as _;
        // Run on checkout where the pool tests connections. PostgreSQL's pool does not (a
        // round trip per request): see `has_broken`.
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        broken(conn)
    }
}

/// Whether `conn` must not be used again: also true for a PostgreSQL connection whose
/// server went away (a statement failed and libpq no longer knows the transaction
/// status), or that a panic left inside a transaction. The pool closes such a connection
/// instead of reusing it.
pub(crate) fn broken(conn: &mut DbConn) -> bool {
    use diesel::r2d2::R2D2Connection as _;
    conn.is_broken()
}

/// Runs `f` in one read transaction (one snapshot for all its statements) when it runs
/// `several`; a single statement is a snapshot of its own, which on PostgreSQL spares the
/// two round trips of `BEGIN` and `COMMIT` (a page without its total, for instance).
pub fn snapshot<T, E>(conn: &mut DbConn, several: bool, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if several {
        conn.transaction(f)
    } else {
        f(conn)
    }
}
