//! Constraint violations are the client's fault, never a 500: one table from constraint
//! to error, which every crate extends with its own rules.
//!
//! SQLite names the failed constraint in its message: `UNIQUE constraint failed:
//! users.email_normalized`, `CHECK constraint failed: stars_range` (the name given with
//! `CONSTRAINT stars_range CHECK (...)`), `NOT NULL constraint failed: tasks.title`. A crate
//! declares what each of its constraints means to a client in a `&'static [Constraint]`
//! and calls [`register`] once (its store's constructor does); the `From<diesel::Error>`
//! conversion of [`AppError`] then resolves every violation through the table:
//!
//! - unique → 409 naming the conflict (default: "a resource with these values already
//!   exists");
//! - CHECK and NOT NULL → 422 naming the field (default: the constraint's column or name);
//! - foreign key → 422. SQLite does not say which foreign key failed, so the default names
//!   no field; a statement that knows which reference it checks says so with
//!   [`ForeignKeyField::fk_field`].
//!
//! ```
//! use core_models::constraint::{self, Constraint};
//!
//! static RULES: &[Constraint] = &[
//!     Constraint::unique("users.email_normalized", "an account with this email already exists"),
//!     Constraint::check("stars_range", "stars", "must be between 1 and 5"),
//! ];
//! constraint::register(RULES);
//! let err = constraint::resolve(constraint::Kind::Check, "CHECK constraint failed: stars_range");
//! assert_eq!((err.status_code(), err.field_errors()[0].field.as_str()), (422, "stars"));
//! ```

use std::sync::RwLock;

use crate::{AppError, FieldError};

/// The kinds of constraint a database enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A unique index or primary key.
    Unique,
    /// A `CHECK`.
    Check,
    /// A `NOT NULL` column.
    NotNull,
    /// A `REFERENCES` clause.
    ForeignKey,
}

/// What one constraint means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraint {
    kind: Kind,
    /// The constraint's name as the database reports it (`users.email_normalized`, a CHECK's name).
    key: &'static str,
    /// The field to name (422) or empty for a conflict (409).
    field: &'static str,
    message: &'static str,
}

impl Constraint {
    /// A unique constraint over `columns` (as SQLite lists them: `table.a, table.b`): 409.
    pub const fn unique(columns: &'static str, conflict: &'static str) -> Self {
        Constraint { kind: Kind::Unique, key: columns, field: "", message: conflict }
    }

    /// A named CHECK: 422 on `field`.
    pub const fn check(name: &'static str, field: &'static str, message: &'static str) -> Self {
        Constraint { kind: Kind::Check, key: name, field, message }
    }

    /// A NOT NULL `table.column`: 422 on `field`.
    pub const fn not_null(column: &'static str, field: &'static str, message: &'static str) -> Self {
        Constraint { kind: Kind::NotNull, key: column, field, message }
    }

    fn error(&self) -> AppError {
        match self.kind {
            Kind::Unique => AppError::Conflict(self.message.to_string()),
            _ => AppError::Validation(vec![FieldError::new(self.field, self.message)]),
        }
    }
}

static RULES: RwLock<Vec<&'static [Constraint]>> = RwLock::new(Vec::new());

/// Adds a crate's rules to the table. Registering the same slice again changes nothing,
/// so a constructor may call this every time.
pub fn register(rules: &'static [Constraint]) {
    let mut table = RULES.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !table.iter().any(|known| std::ptr::eq(*known, rules)) {
        table.push(rules);
    }
}

/// What the database names in a violation message: the part after `failed: `.
fn reported_key(message: &str) -> &str {
    message.split_once("failed: ").map_or("", |(_, key)| key.trim())
}

/// The key SQLite would report (`table.column, table.column` for unique and not-null, the
/// constraint's name for a check) built from what PostgreSQL reports in its error fields:
/// the table, the column (not null), the constraint's name (check) and, for a unique
/// violation, the detail `Key (a, b)=(x, y) already exists.`. `None` when the fields do
/// not say (the message is then SQLite's, see [`resolve`]).
pub fn postgres_key(
    kind: Kind,
    table: Option<&str>,
    column: Option<&str>,
    constraint: Option<&str>,
    details: Option<&str>,
) -> Option<String> {
    match kind {
        Kind::Unique => {
            let table = table?;
            let columns = details?.strip_prefix("Key (")?.split_once(")=")?.0;
            // An expression index (`lower(x)`) names no plain column: nothing to match.
            let columns: Vec<String> = columns.split(", ").map(|c| format!("{table}.{}", c.trim())).collect();
            Some(columns.join(", "))
        }
        Kind::NotNull => Some(format!("{}.{}", table?, column?)),
        Kind::Check => constraint.map(str::to_string),
        Kind::ForeignKey => None,
    }
}

/// The client error for a violation of `kind` whose database message is `message`.
pub fn resolve(kind: Kind, message: &str) -> AppError {
    resolve_key(kind, reported_key(message), message)
}

/// The client error for a violation of `kind` of the constraint the database reported as
/// `key` (see [`postgres_key`]); `message` is only logged.
pub fn resolve_key(kind: Kind, key: &str, message: &str) -> AppError {
    let table = RULES.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(rule) = table.iter().flat_map(|rules| rules.iter()).find(|r| r.kind == kind && r.key == key) {
        return rule.error();
    }
    drop(table);
    log::debug!("unmapped {kind:?} violation: {message}");
    // A column name is what a client calls the field; the table prefix is ours.
    let column = key.rsplit_once('.').map_or(key, |(_, column)| column);
    match kind {
        Kind::Unique => AppError::Conflict("a resource with these values already exists".into()),
        Kind::Check => AppError::Validation(vec![FieldError::new(column, "is not an allowed value")]),
        Kind::NotNull => AppError::Validation(vec![FieldError::new(column, "must not be null")]),
        Kind::ForeignKey => {
            AppError::Validation(vec![FieldError::new("body", "refers to something that does not exist")])
        }
    }
}

/// Names the field behind a foreign-key violation of one statement:
/// `insert_into(tasks).values(..).execute(c).fk_field("assignee_id")?`.
#[cfg(feature = "diesel")]
pub trait ForeignKeyField<T> {
    /// A foreign-key violation becomes a 422 on `field`; other results pass unchanged.
    fn fk_field(self, field: &str) -> Result<T, AppError>;
}

#[cfg(feature = "diesel")]
impl<T> ForeignKeyField<T> for diesel::QueryResult<T> {
    fn fk_field(self, field: &str) -> Result<T, AppError> {
        use diesel::result::{DatabaseErrorKind, Error};
        self.map_err(|e| match e {
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                AppError::Validation(vec![FieldError::new(field, "refers to something that does not exist")])
            }
            other => AppError::from(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RULES_A: &[Constraint] = &[
        Constraint::unique("things.a_name", "a thing with this name exists"),
        Constraint::check("things_size", "size", "must be small"),
        Constraint::not_null("things.owner", "owner_id", "is required"),
    ];

    #[test]
    fn registered_rules_name_the_field_or_conflict() {
        register(RULES_A);
        register(RULES_A);
        assert_eq!(RULES.read().unwrap().iter().filter(|r| std::ptr::eq(**r, RULES_A)).count(), 1);
        let unique = resolve(Kind::Unique, "UNIQUE constraint failed: things.a_name");
        assert_eq!((unique.status_code(), unique.to_string()), (409, "conflict: a thing with this name exists".into()));
        let check = resolve(Kind::Check, "CHECK constraint failed: things_size");
        assert_eq!((check.status_code(), check.field_errors()[0].field.as_str()), (422, "size"));
        let null = resolve(Kind::NotNull, "NOT NULL constraint failed: things.owner");
        assert_eq!(null.field_errors()[0].field, "owner_id");
    }

    #[test]
    fn unknown_constraints_still_are_client_errors() {
        assert_eq!(resolve(Kind::Unique, "UNIQUE constraint failed: x.y").status_code(), 409);
        let check = resolve(Kind::Check, "CHECK constraint failed: length(title) > 0");
        assert_eq!(check.status_code(), 422);
        let null = resolve(Kind::NotNull, "NOT NULL constraint failed: x.title");
        assert_eq!(null.field_errors()[0].field, "title");
        assert_eq!(resolve(Kind::ForeignKey, "FOREIGN KEY constraint failed").status_code(), 422);
    }
}
