//! What `--database-url` names (API.md section 8): a SQLite file (a path, or
//! `sqlite://PATH`) or a PostgreSQL server (`postgres://` or `postgresql://`, libpq's URL
//! form, several hosts and `target_session_attrs` included). Anything else is refused with
//! a message naming it, so a typo never becomes a folder named `postgres:` beside the
//! binary.

use std::path::PathBuf;

/// A parsed `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (created with its folder when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server, as libpq takes it.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `raw`; an error names the value (its password hidden) and says what is accepted.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = raw.trim();
        let refuse = |why: &str| {
            anyhow::anyhow!(
                "unusable --database-url {:?}: {why}; give a SQLite file path (or sqlite://PATH) \
                 or a postgres:// / postgresql:// URL",
                redacted(url)
            )
        };
        if url.is_empty() {
            return Err(refuse("it is empty"));
        }
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            if url.split_once("://").is_some_and(|(_, rest)| rest.is_empty()) {
                return Err(refuse("it names no server"));
            }
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = if lower.starts_with("sqlite://") { &url["sqlite://".len()..] } else { url };
        if path.is_empty() || path == ":memory:" || path.starts_with("file::memory:") {
            // Every pooled connection would see its own empty database.
            return Err(refuse("in-memory SQLite cannot be pooled; give a file path"));
        }
        if let Some(scheme) = url_scheme(path) {
            return Err(refuse(&format!("`{scheme}:` is no database this server can use")));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    /// The value as it may appear in logs and messages: a password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => path.display().to_string(),
            DatabaseUrl::Postgres(url) => redacted(url),
        }
    }
}

/// The scheme of `value` if it looks like a URL (`mysql://...`, `file:...`, `postgres:`),
/// not like a file path. A path with a colon further in (`data/a:b.db`) is a path.
fn url_scheme(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once(':')?;
    let is_scheme = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme.then_some(scheme)
}

/// `url` with the password of its user info replaced by `***`.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, hosts)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{hosts}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sqlite_urls_are_sqlite_files() {
        for (raw, path) in [
            ("data/corkboard.db", "data/corkboard.db"),
            ("  /var/lib/cb.db ", "/var/lib/cb.db"),
            ("sqlite://data/x.db", "data/x.db"),
            ("SQLITE:///abs/x.db", "/abs/x.db"),
            ("./a:b.db", "./a:b.db"),
        ] {
            assert_eq!(DatabaseUrl::parse(raw).unwrap(), DatabaseUrl::Sqlite(PathBuf::from(path)), "{raw}");
        }
    }

    #[test]
    fn postgres_urls_in_libpq_form_are_postgres() {
        for raw in [
            "postgres://postgres@127.0.0.1:5432/cb",
            "postgresql://u:secret@db1:5432,db2:5432/cb?target_session_attrs=read-write",
            "postgres:///cb?host=/run/postgresql",
        ] {
            assert_eq!(DatabaseUrl::parse(raw).unwrap(), DatabaseUrl::Postgres(raw.to_owned()), "{raw}");
        }
    }

    #[test]
    fn anything_else_is_refused_naming_it_without_its_password() {
        for raw in [
            "",
            "  ",
            ":memory:",
            "sqlite://",
            "sqlite://:memory:",
            "mysql://u@h/db",
            "file:x.db",
            "postgres:",
            "postgres://",
            "http://x",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(err.contains(&format!("{:?}", raw.trim())), "{raw:?}: {err}");
            assert!(err.contains("postgres://"), "says what is accepted: {err}");
        }
        let err = DatabaseUrl::parse("mysql://ada:hunter2@db/cb").unwrap_err().to_string();
        assert!(err.contains("mysql://ada:***@db/cb") && !err.contains("hunter2"), "{err}");
        let pg = DatabaseUrl::parse("postgres://ada:hunter2@db1,db2/cb").unwrap();
        assert_eq!(pg.display(), "postgres://ada:***@db1,db2/cb");
    }
}
